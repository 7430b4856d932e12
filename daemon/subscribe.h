/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef XPP_SUBSCRIBE_H
#define XPP_SUBSCRIBE_H

#include <stdbool.h>
#include <sys/types.h>

struct client;
struct daemon;

/* control.c accessors for the subscription module. */
bool client_is_admin(const struct client *c);
uid_t client_uid(const struct client *c);
struct client_sub **client_sub_slot(struct client *c);
/* Starts the write watcher of a client that has output waiting. */
void client_want_write(struct client *c);

void subscribe_end(struct daemon *d, struct client *c);
/* The subscriber's socket can take more output. */
void subscriber_writable(struct daemon *d, struct client *c);
/* Subscribers as JSON for stats: an array. */
struct json_object *subscribers_json(struct daemon *d);

#endif
