// SPDX-License-Identifier: GPL-2.0-only
/*
 * Line connections (conn.h). Input is split into lines as it arrives;
 * output is queued and sent when the socket takes it. Every resource a
 * peer can make us hold is bounded: the input line by a limit that may
 * change at any time, the output by CONN_OUT_MAX.
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "conn.h"
#include "log.h"

/* First size of the input buffer; it doubles up to the line limit. */
#define CONN_IN_MIN 1024
/* Bytes read per wakeup: beyond it the loop serves others first. */
#define CONN_READ_CHUNK 16384

struct conn {
	unsigned int refs;
	struct ev_loop *loop;
	int fd;
	ev_io rw, ww;
	struct conn_peer peer;
	const unsigned int *max_line;
	const struct conn_ops *ops;
	void *userdata;

	char *in;
	size_t in_len, in_cap;
	bool discarding; /* skipping the rest of an oversized line */
	bool ignore_input; /* read only to see the peer go */
	bool input_ended;  /* the peer shut down its sending side */

	char *out;
	size_t out_len, out_off, out_cap;

	bool closed;
	bool close_when_sent;
};

static void conn_free(struct conn *c)
{
	free(c->in);
	free(c->out);
	free(c);
}

struct conn *conn_ref(struct conn *c)
{
	c->refs++;
	return c;
}

void conn_unref(struct conn *c)
{
	if (c && !--c->refs)
		conn_free(c);
}

void conn_set_ops(struct conn *c, const struct conn_ops *ops, void *userdata)
{
	c->ops = ops;
	c->userdata = userdata;
}

void conn_get_ops(const struct conn *c, const struct conn_ops **ret_ops,
		  void **ret_userdata)
{
	*ret_ops = c->ops;
	*ret_userdata = c->userdata;
}

void conn_ignore_input(struct conn *c)
{
	c->ignore_input = true;
	c->in_len = 0;
	c->discarding = false;
	free(c->in);
	c->in = NULL;
	c->in_cap = 0;
}

const struct conn_peer *conn_peer(const struct conn *c)
{
	return &c->peer;
}

bool conn_is_closed(const struct conn *c)
{
	return c->closed;
}

size_t conn_out_pending(const struct conn *c)
{
	return c->out_len - c->out_off;
}

void conn_close(struct conn *c)
{
	if (c->closed)
		return;
	c->closed = true;
	ev_io_stop(c->loop, &c->rw);
	ev_io_stop(c->loop, &c->ww);
	close(c->fd);
	c->fd = -1;
	if (c->ops && c->ops->on_close)
		c->ops->on_close(c, c->userdata);
	conn_unref(c);
}

void conn_close_when_sent(struct conn *c)
{
	if (c->closed)
		return;
	c->close_when_sent = true;
	ev_io_stop(c->loop, &c->rw);
	if (!conn_out_pending(c))
		conn_close(c);
}

/* Sends what the socket takes now. */
static void conn_send(struct conn *c)
{
	ssize_t n;

	while (c->out_off < c->out_len) {
		n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off,
			 MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n <= 0) {
			pr_debug("control peer pid %d: send: %m; closing",
				 c->peer.pid);
			conn_close(c);
			return;
		}
		c->out_off += n;
	}
	c->out_off = c->out_len = 0;
	ev_io_stop(c->loop, &c->ww);
	if (c->close_when_sent) {
		conn_close(c);
		return;
	}
	if (c->ops->on_drained)
		c->ops->on_drained(c, c->userdata);
}

int conn_write(struct conn *c, const void *buf, size_t len)
{
	size_t pending = conn_out_pending(c), cap;
	char *p;

	if (c->closed)
		return -EPIPE;
	if (len > CONN_OUT_MAX - pending)
		return -ENOBUFS;
	if (c->out_len + len > c->out_cap) {
		/* Compact first: what was sent is not kept. */
		if (c->out_off)
			memmove(c->out, c->out + c->out_off, pending);
		c->out_off = 0;
		c->out_len = pending;
		for (cap = c->out_cap ? c->out_cap : 4096; cap < pending + len;)
			cap *= 2;
		if (cap > c->out_cap) {
			p = realloc(c->out, cap);
			if (!p)
				return -ENOMEM;
			c->out = p;
			c->out_cap = cap;
		}
	}
	memcpy(c->out + c->out_len, buf, len);
	c->out_len += len;
	ev_io_start(c->loop, &c->ww);
	return 0;
}

int conn_write_json(struct conn *c, json_object *o)
{
	const char *s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
	size_t n = strlen(s);
	int err = -ENOBUFS;

	/* One line or nothing: the length check covers both parts. */
	if (n + 1 <= CONN_OUT_MAX - conn_out_pending(c)) {
		err = conn_write(c, s, n);
		if (!err)
			err = conn_write(c, "\n", 1);
	}
	json_object_put(o);
	return err;
}

/* Appends one byte of a line; false when the line is over the limit now
 * (it is then skipped) or memory ran out (the connection is closed). */
static bool line_append(struct conn *c, char ch)
{
	size_t max = *c->max_line, cap;
	char *p;

	if (c->in_len >= max) {
		c->in_len = 0;
		c->discarding = true;
		if (c->ops->on_line_too_long)
			c->ops->on_line_too_long(c, max, c->userdata);
		return false;
	}
	if (c->in_len == c->in_cap) {
		/* in_len < max here, so the buffer always grows. */
		cap = c->in_cap ? c->in_cap * 2 : CONN_IN_MIN;
		if (cap > max)
			cap = max;
		p = realloc(c->in, cap);
		if (!p) {
			pr_warn("control peer pid %d: out of memory for its "
				"request; closing it",
				c->peer.pid);
			conn_close(c);
			return false;
		}
		c->in = p;
		c->in_cap = cap;
	}
	c->in[c->in_len++] = ch;
	return true;
}

/* A line ended: hand it over, then give back a buffer grown past the
 * limit in force (it was lowered meanwhile). */
static void line_end(struct conn *c)
{
	if (c->discarding)
		c->discarding = false;
	else
		c->ops->on_line(c, c->in ? c->in : "", c->in_len, c->userdata);
	c->in_len = 0;
	if (!c->closed && c->in_cap > *c->max_line) {
		free(c->in);
		c->in = NULL;
		c->in_cap = 0;
	}
}

/* A Unix stream socket sets POLLHUP only when both directions are shut:
 * the peer closed, rather than only shut down its sending side. */
static bool peer_gone(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	return poll(&p, 1, 0) == 1 && (p.revents & (POLLHUP | POLLERR));
}

bool conn_hung_up(struct conn *c)
{
	return !c->closed && c->input_ended && peer_gone(c->fd);
}

bool conn_input_ended(const struct conn *c)
{
	return !c->closed && c->input_ended;
}

/* End of input: the peer closed, or only shut down its sending side and
 * still reads. */
static void input_end(struct conn *c)
{
	if (peer_gone(c->fd)) {
		conn_close(c);
		return;
	}
	ev_io_stop(c->loop, &c->rw); /* EOF stays readable: stop asking */
	c->input_ended = true;
	if (c->ops->on_input_end)
		c->ops->on_input_end(c, c->userdata);
}

static void read_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct conn *c = w->data;
	char buf[CONN_READ_CHUNK];
	ssize_t n, i;

	n = recv(c->fd, buf, sizeof(buf), MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n < 0) {
		conn_close(c);
		return;
	}
	if (n == 0) {
		input_end(c);
		return;
	}
	/* Callbacks may close the connection or turn it into a stream. */
	conn_ref(c);
	for (i = 0; i < n && !c->closed && !c->ignore_input; i++) {
		if (buf[i] == '\n')
			line_end(c);
		else if (!c->discarding)
			line_append(c, buf[i]);
	}
	conn_unref(c);
}

static void write_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct conn *c = w->data;

	conn_ref(c);
	conn_send(c);
	conn_unref(c);
}

struct conn *conn_new(struct ev_loop *loop, int fd, const struct conn_peer *peer,
		      const unsigned int *max_line, const struct conn_ops *ops,
		      void *userdata)
{
	struct conn *c = calloc(1, sizeof(*c));

	if (!c) {
		close(fd);
		errno = ENOMEM;
		return NULL;
	}
	c->refs = 1;
	c->loop = loop;
	c->fd = fd;
	c->peer = *peer;
	c->max_line = max_line;
	c->ops = ops;
	c->userdata = userdata;
	ev_io_init(&c->rw, read_cb, fd, EV_READ);
	ev_io_init(&c->ww, write_cb, fd, EV_WRITE);
	c->rw.data = c->ww.data = c;
	ev_io_start(loop, &c->rw);
	return c;
}
