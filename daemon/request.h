/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Requests and replies of the control protocol, apart from the daemon's
 * state so that they can be fuzzed on their own (tests/fuzz).
 */
#ifndef XPP_REQUEST_H
#define XPP_REQUEST_H

#include <stddef.h>

#include <json-c/json.h>

/* JSON nesting a request may have. */
#define XPP_REQUEST_MAX_DEPTH 16

/*
 * One request line (without its newline): a JSON object with a string
 * "cmd", strict JSON, valid UTF-8. Returns the object (the caller puts
 * it), or NULL with *ret_err set to the error reply to send; NULL with
 * *ret_err NULL for a blank line.
 */
json_object *request_parse(const char *line, size_t len, json_object **ret_err);

json_object *reply_ok(json_object *result);
json_object *reply_error(const char *code, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#endif
