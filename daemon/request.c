// SPDX-License-Identifier: GPL-2.0-only
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

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

/* Length of the valid UTF-8 sequence at s (1-4), or 0. */
static size_t utf8_seq(const unsigned char *s)
{
	size_t n, i;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4;
	else
		return 0;
	for (i = 1; i < n; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	/* Overlong forms, surrogates and code points past U+10FFFF. */
	if ((s[0] == 0xe0 && s[1] < 0xa0) || (s[0] == 0xed && s[1] > 0x9f) ||
	    (s[0] == 0xf0 && s[1] < 0x90) || (s[0] == 0xf4 && s[1] > 0x8f))
		return 0;
	return n;
}

/*
 * Replies are valid UTF-8 as requests must be: a message that quotes the
 * peer's text may cut a character (a field's %.64s, the buffer's end).
 * Such bytes become '?'.
 */
static void utf8_scrub(char *s)
{
	unsigned char *p = (unsigned char *)s;
	size_t n;

	while (*p) {
		n = utf8_seq(p);
		if (!n)
			*p++ = '?';
		else
			p += n;
	}
}

json_object *reply_error(const char *code, const char *fmt, ...)
{
	json_object *r = json_object_new_object(), *e = json_object_new_object();
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	utf8_scrub(msg);
	json_object_object_add(e, "code", json_object_new_string(code));
	json_object_object_add(e, "message", json_object_new_string(msg));
	json_object_object_add(r, "ok", json_object_new_boolean(0));
	json_object_object_add(r, "error", e);
	return r;
}

/* A \u0000 escape in a JSON text: json-c keeps the string, but every C
 * string it hands out stops there, so "7\u0000junk" would read as "7". */
static bool has_nul_escape(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i + 1 < len; i++) {
		if (s[i] != '\\')
			continue;
		if (s[i + 1] == 'u' && i + 6 <= len && !memcmp(s + i + 2, "0000", 4))
			return true;
		i++; /* the escaped character, a backslash included */
	}
	return false;
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
	if (has_nul_escape(line, len)) {
		json_object_put(req);
		*ret_err = reply_error(XPP_E_BAD_REQUEST,
				       "a string in the request holds \\u0000: "
				       "keys and values may not contain NUL");
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
