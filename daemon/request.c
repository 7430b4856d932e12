// SPDX-License-Identifier: GPL-2.0-only
#include <stdarg.h>
#include <stdio.h>

#include "proto.h"
#include "request.h"

json_object *reply_ok(json_object *result)
{
	json_object *r = json_object_new_object();

	json_object_object_add(r, "ok", json_object_new_boolean(1));
	json_object_object_add(r, "result",
			       result ? result : json_object_new_object());
	return r;
}

json_object *reply_error(const char *code, const char *fmt, ...)
{
	json_object *r = json_object_new_object(), *e = json_object_new_object();
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	json_object_object_add(e, "code", json_object_new_string(code));
	json_object_object_add(e, "message", json_object_new_string(msg));
	json_object_object_add(r, "ok", json_object_new_boolean(0));
	json_object_object_add(r, "error", e);
	return r;
}

json_object *request_parse(const char *line, size_t len, json_object **ret_err)
{
	enum json_tokener_error jerr;
	struct json_tokener *tok;
	json_object *req, *cmd;

	*ret_err = NULL;
	while (len && (line[len - 1] == '\r' || line[len - 1] == ' '))
		len--;
	if (!len)
		return NULL;
	tok = json_tokener_new_ex(XPP_REQUEST_MAX_DEPTH);
	if (!tok) {
		*ret_err = reply_error(XPP_E_INTERNAL, "out of memory");
		return NULL;
	}
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT |
					    JSON_TOKENER_VALIDATE_UTF8);
	req = json_tokener_parse_ex(tok, line, len);
	jerr = json_tokener_get_error(tok);
	if (req && jerr == json_tokener_success &&
	    json_tokener_get_parse_end(tok) != len) {
		json_object_put(req);
		req = NULL;
		jerr = json_tokener_error_parse_unexpected;
	}
	json_tokener_free(tok);
	if (!req || jerr != json_tokener_success) {
		json_object_put(req);
		*ret_err = reply_error(XPP_E_BAD_REQUEST,
				       "request is not valid JSON (%s): send one "
				       "JSON object per line, such as "
				       "{\"cmd\":\"stats\"}",
				       jerr == json_tokener_continue ?
					       "incomplete" :
					       json_tokener_error_desc(jerr));
		return NULL;
	}
	if (!json_object_is_type(req, json_type_object)) {
		json_object_put(req);
		*ret_err = reply_error(XPP_E_BAD_REQUEST,
				       "a request is a JSON object such as "
				       "{\"cmd\":\"stats\"}");
		return NULL;
	}
	if (!json_object_object_get_ex(req, "cmd", &cmd) ||
	    !json_object_is_type(cmd, json_type_string)) {
		json_object_put(req);
		*ret_err = reply_error(XPP_E_BAD_REQUEST,
				       "missing field 'cmd' (a string)");
		return NULL;
	}
	return req;
}
