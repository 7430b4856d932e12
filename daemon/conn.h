/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A connection speaking newline-delimited text (JSON requests and replies,
 * or a stream of records) over a stream socket, in the event loop. It
 * knows nothing of requests or subscriptions: whoever owns it says what
 * to do with a line, with room to write, and with its end, through
 * callbacks that may be replaced (a subscription takes over a connection
 * that asked for one).
 *
 * Lifetime: a connection is reference counted. conn_new returns it with
 * one reference, held by the connection being open; conn_close (or the
 * peer going away, or an error) drops that one after calling on_close.
 * Anyone who keeps the pointer past a callback takes its own reference
 * with conn_ref and gives it back with conn_unref; after the close such a
 * holder sees conn_is_closed() and every write fails with -EPIPE.
 */
#ifndef XPP_CONN_H
#define XPP_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include <ev.h>
#include <json-c/json.h>

/* Unsent output beyond this means the peer does not read: it is closed. */
#define CONN_OUT_MAX (8u << 20)

struct conn;

struct conn_ops {
	/* One complete line, without its newline (not NUL-terminated). */
	void (*on_line)(struct conn *c, const char *line, size_t len,
			void *userdata);
	/* A line grew past the request limit: it is skipped up to the next
	 * newline. limit is the limit in force. */
	void (*on_line_too_long)(struct conn *c, size_t limit, void *userdata);
	/* The peer shut down its sending side and still reads (a
	 * half-close): no more lines will come. NULL: keep the connection
	 * open for its output; with nothing left to read, its full close
	 * shows only through conn_hung_up() or a failed write. */
	void (*on_input_end)(struct conn *c, void *userdata);
	/* All queued output has been sent (the peer is reading). */
	void (*on_drained)(struct conn *c, void *userdata);
	/* The connection is closing: the last callback. */
	void (*on_close)(struct conn *c, void *userdata);
};

struct conn_peer {
	uid_t uid;
	pid_t pid;
	bool admin; /* may change state (root or the admin group) */
};

/*
 * Takes fd (a connected, non-blocking stream socket) and starts reading.
 * *max_line is read at every byte, so a limit changed at run time applies
 * to lines already half read; the input buffer grows with the line up to
 * it. Returns NULL with errno set; fd is closed then too.
 */
struct conn *conn_new(struct ev_loop *loop, int fd, const struct conn_peer *peer,
		      const unsigned int *max_line, const struct conn_ops *ops,
		      void *userdata);
struct conn *conn_ref(struct conn *c);
void conn_unref(struct conn *c);

/* Replaces the callbacks, for instance when the connection turns into a
 * stream. */
void conn_set_ops(struct conn *c, const struct conn_ops *ops, void *userdata);
void conn_get_ops(const struct conn *c, const struct conn_ops **ret_ops,
		  void **ret_userdata);
/* From now on input is read only to notice the peer's end, and dropped:
 * a stream takes no requests. */
void conn_ignore_input(struct conn *c);

const struct conn_peer *conn_peer(const struct conn *c);
/* After a half-close: the peer has closed its side too (one poll(2)
 * when input has ended, nothing otherwise). The owner then closes. */
bool conn_hung_up(struct conn *c);
/* The peer shut down its sending side (it may still read). */
bool conn_input_ended(const struct conn *c);
bool conn_is_closed(const struct conn *c);

/*
 * Queues bytes and starts sending. -ENOBUFS when more than CONN_OUT_MAX
 * would wait (nothing is queued then), -ENOMEM, -EPIPE once closed.
 */
int conn_write(struct conn *c, const void *buf, size_t len);
/* Queues o as one line (compact JSON and a newline) and puts o. */
int conn_write_json(struct conn *c, json_object *o);
/* Bytes queued and not yet taken by the peer. */
size_t conn_out_pending(const struct conn *c);

/* Closes once the queued output is sent. */
void conn_close_when_sent(struct conn *c);
/* Closes now: stops reading and writing, calls on_close, drops the
 * connection's own reference. Does nothing the second time. */
void conn_close(struct conn *c);

#endif
