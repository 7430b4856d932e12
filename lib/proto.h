/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The control protocol shared by the daemon and xdpctl: defaults and the
 * stable error codes. docs/protocol.md describes every command.
 */
#ifndef XPP_PROTO_H
#define XPP_PROTO_H

#define XPP_PROTOCOL_VERSION 1

#define XPP_DEFAULT_CONFIG "/etc/xdp-preprocd/xdp-preprocd.conf"
#define XPP_DEFAULT_SOCKET "/run/xdp-preprocd/control.sock"
#define XPP_DEFAULT_PIN_ROOT "/sys/fs/bpf/xdp-preprocd"
#define XPP_DEFAULT_ADMIN_GROUP "xdp-preprocd"

/* Error codes of replies ({"ok":false,"error":{"code":...}}). */
#define XPP_E_BAD_REQUEST "bad_request"		/* not a JSON object, bad field */
#define XPP_E_TOO_LARGE "request_too_large"	/* line over max_request_bytes */
#define XPP_E_UNKNOWN_COMMAND "unknown_command"
#define XPP_E_PERMISSION "permission_denied"	/* needs root or admin group */
#define XPP_E_NO_INTERFACE "no_such_interface"
#define XPP_E_ALREADY "already_attached"
#define XPP_E_NOT_ATTACHED "not_attached"
#define XPP_E_FOREIGN "foreign_program"		/* another XDP program is there */
#define XPP_E_ATTACH "attach_failed"		/* the kernel refused */
#define XPP_E_BAD_CONFIG "bad_config"		/* config set: bad key or value */
#define XPP_E_TOO_MANY_CLIENTS "too_many_clients"
#define XPP_E_TOO_MANY_SUBSCRIBERS "too_many_subscribers"
#define XPP_E_INTERNAL "internal_error"

#endif
