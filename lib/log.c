// SPDX-License-Identifier: GPL-2.0-only
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bpf/libbpf.h>
#include <systemd/sd-journal.h>

#include "log.h"

static const char *log_prog = "xpp";
/* Read by the IPFIX exporter's thread too (daemon/ipfix.c): accessed
 * atomically (relaxed: a level change may take a message to be seen). */
static int log_max = LOG_INFO;
#define LOG_MAX() __atomic_load_n(&log_max, __ATOMIC_RELAXED)
static int log_journal; /* stderr is connected to journald */

static const char *const level_names[] = {
	[LOG_EMERG] = "emerg",	 [LOG_ALERT] = "alert", [LOG_CRIT] = "crit",
	[LOG_ERR] = "error",	 [LOG_WARNING] = "warning",
	[LOG_NOTICE] = "notice", [LOG_INFO] = "info",	[LOG_DEBUG] = "debug",
};

/* JOURNAL_STREAM is "DEV:INODE" of the stream systemd connected to our
 * stderr; it is only ours while stderr still is that stream. */
static int stderr_is_journal(void)
{
	const char *e = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;

	if (!e || sscanf(e, "%llu:%llu", &dev, &ino) != 2)
		return 0;
	if (fstat(STDERR_FILENO, &st) < 0)
		return 0;
	return st.st_dev == dev && st.st_ino == ino;
}

/* libbpf's format strings come from libbpf: not literals here. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
static int libbpf_print(enum libbpf_print_level level, const char *fmt,
			va_list ap)
{
	/* One level quieter than ours: libbpf warnings are our info. */
	int lvl = level == LIBBPF_WARN ? LOG_INFO : LOG_DEBUG;
	char *buf, *line, *save = NULL;

	if (lvl > LOG_MAX())
		return 0;
	/* Verifier logs come as one message of many lines: log each line
	 * on its own so none is cut and every one has its prefix. */
	if (vasprintf(&buf, fmt, ap) < 0)
		return 0;
	for (line = strtok_r(buf, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save))
		xpp_log(lvl, "%s", line);
	free(buf);
	return 0;
}
#pragma GCC diagnostic pop

void xpp_log_init(const char *progname, int max_level)
{
	log_prog = progname;
	__atomic_store_n(&log_max, max_level, __ATOMIC_RELAXED);
	log_journal = stderr_is_journal();
	libbpf_set_print(libbpf_print);
}

void xpp_log_set_level(int max_level)
{
	__atomic_store_n(&log_max, max_level, __ATOMIC_RELAXED);
}

static void vlog_iface(int level, const char *iface, const char *fmt,
		       va_list ap) __attribute__((format(printf, 3, 0)));
static void vlog_iface(int level, const char *iface, const char *fmt,
		       va_list ap)
{
	char buf[2048];
	int r;

	vsnprintf(buf, sizeof(buf), fmt, ap);
	if (log_journal) {
		if (iface)
			r = sd_journal_send("MESSAGE=%s", buf, "PRIORITY=%d", level,
					    "SYSLOG_IDENTIFIER=%s", log_prog,
					    "INTERFACE=%s", iface, NULL);
		else
			r = sd_journal_send("MESSAGE=%s", buf, "PRIORITY=%d", level,
					    "SYSLOG_IDENTIFIER=%s", log_prog,
					    NULL);
		if (r >= 0)
			return;
		/* No journal socket after all: the stream still works. */
		fprintf(stderr, "<%d>%s\n", level, buf);
		return;
	}
	fprintf(stderr, "%s: %s: %s\n", log_prog, level_names[level & 7], buf);
}

static void vlog(int level, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));
static void vlog(int level, const char *fmt, va_list ap)
{
	vlog_iface(level, NULL, fmt, ap);
}

void xpp_log_iface(int level, const char *iface, const char *fmt, ...)
{
	int saved = errno;
	va_list ap;

	if (level > LOG_MAX())
		return;
	va_start(ap, fmt);
	vlog_iface(level, iface, fmt, ap);
	va_end(ap);
	errno = saved;
}

void xpp_log(int level, const char *fmt, ...)
{
	int saved = errno;
	va_list ap;

	if (level > LOG_MAX())
		return;
	va_start(ap, fmt);
	vlog(level, fmt, ap);
	va_end(ap);
	errno = saved;
}

int xpp_log_errno(int level, int err, const char *fmt, ...)
{
	va_list ap;

	err = err < 0 ? -err : err;
	if (level <= LOG_MAX()) {
		errno = err;
		va_start(ap, fmt);
		vlog(level, fmt, ap);
		va_end(ap);
	}
	errno = err;
	return -err;
}

int xpp_errmsg(char *buf, size_t sz, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sz, fmt, ap);
	va_end(ap);
	return err;
}
