/* SPDX-License-Identifier: GPL-2.0-only */
/* The commands of the control protocol (docs/protocol.md). */
#ifndef XPP_COMMANDS_H
#define XPP_COMMANDS_H

#include <json-c/json.h>

struct conn;
struct manager;

/*
 * Runs one parsed request from c. Returns the reply to send (the caller
 * puts it), or NULL when the request turned c into a stream that has
 * queued its own reply.
 */
json_object *command_run(struct manager *m, struct conn *c, json_object *req);

#endif
