/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What the test-run benchmarks (prog_cost, flow_map_cost) share: timing a
 * batch of BPF_PROG_TEST_RUN calls, and the private network namespace of
 * veths their programs stay attached to while they run.
 */
#ifndef XPP_BENCH_TESTRUN_H
#define XPP_BENCH_TESTRUN_H

#include "pkt.h"

/* CLOCK_MONOTONIC in seconds. */
double bench_now(void);
/* For qsort over doubles. */
int bench_cmp_double(const void *a, const void *b);

/* Wall-clock ns per packet of one test run of `repeat` packets; exits
 * with a message when the kernel refuses. */
double bench_run_batch(int fd, const struct pkt *p, unsigned int repeat);

/*
 * A test run with repeat > 1 puts the program into the kernel's XDP
 * dispatcher and takes it out again; rebuilding the dispatcher costs tens
 * of milliseconds per call here, which would swamp the figures. A program
 * that is attached natively somewhere stays in the dispatcher. This makes
 * a namespace "PREFIX-PID", enters it, and adds n veth pairs DEVn/DEVnp;
 * the namespace is removed at exit and on SIGINT/SIGTERM. -1 on failure.
 */
int bench_netns_enter(const char *prefix, const char *dev, int n);

#endif
