/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Levelled logging. Under systemd (JOURNAL_STREAM names our stderr)
 * messages go to the journal with their priority and structured fields
 * (INTERFACE= for messages about an interface), falling back to stderr lines
 * with a <N> priority prefix; elsewhere stderr lines carry the program
 * name and the level. libbpf's own messages are routed here, one
 * level quieter.
 */
#ifndef XPP_LOG_H
#define XPP_LOG_H

#include <errno.h>
#include <stddef.h>
#include <syslog.h>

void xpp_log_init(const char *progname, int max_level);
void xpp_log_set_level(int max_level);
void xpp_log(int level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* A message about one interface: under journald it carries the field
 * INTERFACE=name (systemd-networkd's field), so
 * `journalctl -u xdp-preprocd INTERFACE=eth0` finds it. */
void xpp_log_iface(int level, const char *iface, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Logs and returns -abs(err), with errno set for %m. */
int xpp_log_errno(int level, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Writes a message for the user into buf (for callers that decide what
 * to say) and returns err: return xpp_errmsg(msg, sz, -ENODEV, "..."). */
int xpp_errmsg(char *buf, size_t sz, int err, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

#define pr_err(...) xpp_log(LOG_ERR, __VA_ARGS__)
#define pr_warn(...) xpp_log(LOG_WARNING, __VA_ARGS__)
#define pr_notice(...) xpp_log(LOG_NOTICE, __VA_ARGS__)
#define pr_info(...) xpp_log(LOG_INFO, __VA_ARGS__)
#define pr_debug(...) xpp_log(LOG_DEBUG, __VA_ARGS__)

#define ifc_err(i, ...) xpp_log_iface(LOG_ERR, i, __VA_ARGS__)
#define ifc_warn(i, ...) xpp_log_iface(LOG_WARNING, i, __VA_ARGS__)
#define ifc_notice(i, ...) xpp_log_iface(LOG_NOTICE, i, __VA_ARGS__)
#define ifc_info(i, ...) xpp_log_iface(LOG_INFO, i, __VA_ARGS__)

#define log_error_errno(err, ...) xpp_log_errno(LOG_ERR, err, __VA_ARGS__)
#define log_warn_errno(err, ...) xpp_log_errno(LOG_WARNING, err, __VA_ARGS__)
#define log_debug_errno(err, ...) xpp_log_errno(LOG_DEBUG, err, __VA_ARGS__)

#endif /* XPP_LOG_H */
