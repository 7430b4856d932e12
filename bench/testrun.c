// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "testrun.h"

double bench_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int bench_cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

double bench_run_batch(int fd, const struct pkt *p, unsigned int repeat)
{
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = p->b,
		    .data_size_in = p->len, .repeat = repeat);
	double t0, t1;

	t0 = bench_now();
	if (bpf_prog_test_run_opts(fd, &o) < 0) {
		fprintf(stderr, "%s: test run failed: %s\n",
			program_invocation_short_name, strerror(errno));
		exit(1);
	}
	t1 = bench_now();
	return (t1 - t0) * 1e9 / repeat;
}

/* The namespace to remove: a signal handler reads it. */
static char netns[64];

static void netns_cleanup(void)
{
	char cmd[128];

	if (!netns[0])
		return;
	snprintf(cmd, sizeof(cmd), "ip netns del %s", netns);
	if (system(cmd))
		fprintf(stderr, "could not remove netns %s\n", netns);
	netns[0] = '\0';
}

static void on_signal(int sig)
{
	netns_cleanup();
	_exit(128 + sig);
}

int bench_netns_enter(const char *prefix, const char *dev, int n)
{
	char cmd[256], path[128];
	int fd, i;

	snprintf(netns, sizeof(netns), "%s-%d", prefix, getpid());
	atexit(netns_cleanup);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	snprintf(cmd, sizeof(cmd), "ip netns add %s", netns);
	if (system(cmd)) {
		netns[0] = '\0';
		return -1;
	}
	snprintf(path, sizeof(path), "/run/netns/%s", netns);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || setns(fd, CLONE_NEWNET) < 0)
		return -1;
	close(fd);
	for (i = 0; i < n; i++) {
		snprintf(cmd, sizeof(cmd), "ip link add %s%d type veth peer %s%dp",
			 dev, i, dev, i);
		if (system(cmd))
			return -1;
	}
	return 0;
}
