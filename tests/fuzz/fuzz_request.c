// SPDX-License-Identifier: GPL-2.0-only
/* libFuzzer target: the control protocol's request parser, and the
 * validation config_set applies to what it carries. */
#include <stdint.h>
#include <string.h>

#include "conf.h"
#include "request.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_object *err = NULL, *req, *set;
	struct xpp_conf c;
	char msg[512];

	req = request_parse((const char *)data, size, &err);
	json_object_put(err);
	if (!req)
		return 0;
	if (json_object_object_get_ex(req, "set", &set) &&
	    json_object_is_type(set, json_type_object)) {
		xpp_conf_defaults(&c);
		json_object_object_foreach(set, key, val)
		{
			if (json_object_is_type(val, json_type_string))
				xpp_conf_set(&c, key, json_object_get_string(val),
					     true, msg, sizeof(msg));
		}
	}
	json_object_put(req);
	return 0;
}
