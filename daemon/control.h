/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The control socket: a Unix stream socket speaking newline-delimited
 * JSON (docs/protocol.md). Accepts connections up to max_clients, tells
 * who may change state, and hands each request line to the commands.
 */
#ifndef XPP_CONTROL_H
#define XPP_CONTROL_H

struct manager;
struct control;

/*
 * Listens on the socket systemd passed, or creates conf.socket (refusing
 * to start over a live daemon, replacing a stale socket). Returns NULL
 * with errno set, after logging why.
 */
struct control *control_new(struct manager *m);
/* Closes every connection and the socket (removed unless systemd owns
 * it). */
void control_free(struct control *ctl);

/* A connection from a peer already accepted (fd), as if it came through
 * the socket: the fuzz target's way in. Takes fd. */
int control_add_client(struct control *ctl, int fd);

unsigned int control_client_count(const struct control *ctl);

#endif
