// SPDX-License-Identifier: GPL-2.0-only
/*
 * The control socket: a Unix stream socket speaking newline-delimited JSON
 * (docs/protocol.md). Every resource a peer can make the daemon hold is
 * bounded: clients, request size, unsent output. A bad request gets an
 * error reply and the connection carries on.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <systemd/sd-daemon.h>

#include "daemon.h"
#include "log.h"
#include "proto.h"
#include "request.h"
#include "subscribe.h"
#include "util.h"

/* Unsent replies beyond this mean the peer does not read: drop it. */
#define CLIENT_OUT_MAX (8u << 20)
#define MAX_PEER_GROUPS 256

struct client {
	struct client *next;
	struct daemon *d;
	int fd;
	ev_io rw, ww;
	uid_t uid;
	pid_t pid;
	bool admin;
	char *in;
	size_t in_len, in_cap;
	bool discarding; /* skipping the rest of an oversized line */
	char *out;
	size_t out_len, out_off, out_cap;
	bool closing; /* close once the output is sent */
	struct client_sub *sub;
};

bool client_is_admin(const struct client *c)
{
	return c->admin;
}

uid_t client_uid(const struct client *c)
{
	return c->uid;
}

struct client_sub **client_sub_slot(struct client *c)
{
	return &c->sub;
}

void client_want_write(struct client *c)
{
	ev_io_start(c->d->loop, &c->ww);
}

size_t client_out_pending(const struct client *c)
{
	return c->out_len - c->out_off;
}

void client_close(struct daemon *d, struct client *c)
{
	struct client **pp;

	for (pp = &d->clients; *pp; pp = &(*pp)->next) {
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	}
	ev_io_stop(d->loop, &c->rw);
	ev_io_stop(d->loop, &c->ww);
	if (c->sub)
		subscribe_end(d, c);
	close(c->fd);
	free(c->in);
	free(c->out);
	free(c);
	d->n_clients--;
}

/* Sends what it can now; returns -1 when the client was closed. */
static int client_flush(struct client *c)
{
	struct daemon *d = c->d;
	ssize_t n;

	while (c->out_off < c->out_len) {
		n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off,
			 MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (n <= 0) {
			pr_debug("client pid %d: send: %m; closing", c->pid);
			client_close(d, c);
			return -1;
		}
		c->out_off += n;
	}
	if (c->out_off == c->out_len) {
		c->out_off = c->out_len = 0;
		ev_io_stop(d->loop, &c->ww);
		if (c->closing) {
			client_close(d, c);
			return -1;
		}
	} else {
		ev_io_start(d->loop, &c->ww);
	}
	return 0;
}

int client_write(struct client *c, const char *buf, size_t len)
{
	size_t need;

	if (c->out_off && c->out_off == c->out_len)
		c->out_off = c->out_len = 0;
	need = c->out_len + len;
	if (need - c->out_off > CLIENT_OUT_MAX)
		return -ENOBUFS;
	if (need > c->out_cap) {
		size_t cap = c->out_cap ? c->out_cap : 4096;
		char *p;

		if (c->out_off) { /* compact before growing */
			memmove(c->out, c->out + c->out_off,
				c->out_len - c->out_off);
			c->out_len -= c->out_off;
			c->out_off = 0;
			need = c->out_len + len;
		}
		while (cap < need)
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
	return 0;
}

/* Queues a reply line and frees it. Returns -1 if the client is gone. */
static int client_reply(struct client *c, json_object *reply)
{
	const char *s = json_object_to_json_string_ext(reply,
						       JSON_C_TO_STRING_PLAIN);
	int err;

	err = client_write(c, s, strlen(s));
	if (!err)
		err = client_write(c, "\n", 1);
	json_object_put(reply);
	if (err) {
		pr_warn("client pid %d does not read its replies; closing it",
			c->pid);
		client_close(c->d, c);
		return -1;
	}
	return client_flush(c);
}

static int handle_line(struct client *c, const char *line, size_t len)
{
	json_object *req, *reply, *err;

	if (c->sub) /* a subscription's input is not read as requests */
		return 0;
	req = request_parse(line, len, &err);
	if (!req)
		return err ? client_reply(c, err) : 0;
	reply = command_run(c->d, c, req);
	json_object_put(req);
	if (!reply) /* the request turned the connection into a stream */
		return client_flush(c);
	return client_reply(c, reply);
}

static void read_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct client *c = w->data;
	char buf[16384];
	ssize_t n;
	size_t i, max;

	n = recv(c->fd, buf, sizeof(buf), MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		client_close(c->d, c);
		return;
	}
	for (i = 0; i < (size_t)n; i++) {
		if (buf[i] == '\n') {
			if (c->discarding) {
				c->discarding = false;
			} else if (handle_line(c, c->in, c->in_len) < 0) {
				return; /* closed */
			}
			c->in_len = 0;
			continue;
		}
		if (c->discarding)
			continue;
		/* The limit in force now: a request may change it. */
		max = c->d->conf.max_request;
		if (c->in_len >= max) {
			c->in_len = 0;
			c->discarding = true;
			if (client_reply(c, reply_error(
						    XPP_E_TOO_LARGE,
						    "request longer than %zu "
						    "bytes: ignored up to the "
						    "next newline",
						    max)) < 0)
				return;
			continue;
		}
		if (c->in_len == c->in_cap) {
			/* Grown as the line grows, checked against the limit
			 * in force now: max_request_bytes may change while a
			 * line is half read. */
			size_t cap = c->in_cap ? c->in_cap * 2 : 1024;
			char *p;

			if (cap > max)
				cap = max;
			p = realloc(c->in, cap);
			if (!p) {
				client_close(c->d, c);
				return;
			}
			c->in = p;
			c->in_cap = cap;
		}
		c->in[c->in_len++] = buf[i];
	}
}

static void write_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct client *c = w->data;

	if (client_flush(c) < 0)
		return;
	if (c->sub)
		subscriber_writable(c->d, c);
}

static bool peer_in_group(int fd, gid_t gid, gid_t primary)
{
	gid_t groups[MAX_PEER_GROUPS];
	socklen_t len = sizeof(groups);
	unsigned int i;

	if (gid == (gid_t)-1)
		return false;
	if (primary == gid)
		return true;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &len) < 0)
		return false;
	for (i = 0; i < len / sizeof(gid_t); i++)
		if (groups[i] == gid)
			return true;
	return false;
}

static void accept_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct daemon *d = w->data;
	struct ucred cred = {};
	socklen_t len = sizeof(cred);
	struct client *c;
	int fd;

	fd = accept4(d->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd < 0) {
		if (errno != EAGAIN && errno != EINTR)
			pr_warn("accepting a control connection: %m");
		return;
	}
	if (d->n_clients >= d->conf.max_clients) {
		static const char msg[] =
			"{\"ok\":false,\"error\":{\"code\":\"" XPP_E_TOO_MANY_CLIENTS
			"\",\"message\":\"the daemon already serves max_clients "
			"connections; try again later\"}}\n";

		/* Best effort: the peer learns why before the close. */
		(void)!send(fd, msg, sizeof(msg) - 1,
			    MSG_NOSIGNAL | MSG_DONTWAIT);
		close(fd);
		pr_debug("refused a control connection: max_clients (%u) reached",
			 d->conf.max_clients);
		return;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0) {
		pr_warn("control connection without peer credentials: %m");
		close(fd);
		return;
	}
	c = calloc(1, sizeof(*c));
	if (!c) {
		close(fd);
		return;
	}
	c->d = d;
	c->fd = fd;
	c->uid = cred.uid;
	c->pid = cred.pid;
	c->admin = cred.uid == 0 || peer_in_group(fd, d->admin_gid, cred.gid);
	ev_io_init(&c->rw, read_cb, fd, EV_READ);
	ev_io_init(&c->ww, write_cb, fd, EV_WRITE);
	c->rw.data = c->ww.data = c;
	ev_io_start(loop, &c->rw);
	c->next = d->clients;
	d->clients = c;
	d->n_clients++;
}

/* Refuses to start over a live daemon; removes a stale socket. */
static int socket_claim(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct stat st;
	int fd, r;

	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISSOCK(st.st_mode)) {
		pr_err("%s exists and is not a socket: remove it or choose "
		       "another path with --socket",
		       path);
		return -EEXIST;
	}
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	r = connect(fd, (struct sockaddr *)&sa, sizeof(sa));
	close(fd);
	if (r == 0) {
		pr_err("another xdp-preprocd already listens on %s: stop it "
		       "first, or give this one its own --socket and "
		       "--pin-root",
		       path);
		return -EADDRINUSE;
	}
	if (unlink(path) < 0)
		return -errno;
	return 0;
}

static int mkdir_parents(const char *path, mode_t mode)
{
	char buf[PATH_MAX], *p;

	if (strlen(path) >= sizeof(buf))
		return -ENAMETOOLONG;
	strcpy(buf, path);
	for (p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, mode) < 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	return 0;
}

static int socket_create(struct daemon *d)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	const char *path = d->conf.socket_path;
	int fd, err;

	err = mkdir_parents(path, 0755);
	if (err)
		return log_error_errno(err,
				       "cannot create the directory of %s: %m",
				       path);
	err = socket_claim(path);
	if (err)
		return err == -EADDRINUSE || err == -EEXIST ?
			       err :
			       log_error_errno(err, "cannot replace %s: %m",
					       path);
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return log_error_errno(errno, "socket: %m");
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		err = log_error_errno(errno, "cannot bind %s: %m", path);
		close(fd);
		return err;
	}
	if (chmod(path, 0660) < 0)
		pr_warn("chmod 0660 %s: %m", path);
	if (d->admin_gid != (gid_t)-1 && chown(path, 0, d->admin_gid) < 0)
		pr_warn("chown %s to group %s: %m", path, d->conf.admin_group);
	if (listen(fd, 128) < 0) {
		err = log_error_errno(errno, "listen on %s: %m", path);
		close(fd);
		unlink(path);
		return err;
	}
	d->listen_fd = fd;
	return 0;
}

int control_start(struct daemon *d)
{
	struct group *gr;
	int n, err;

	d->admin_gid = (gid_t)-1;
	if (d->conf.admin_group[0]) {
		gr = getgrnam(d->conf.admin_group);
		if (gr)
			d->admin_gid = gr->gr_gid;
		else
			pr_info("admin group '%s' does not exist: only root may "
				"change state over the socket",
				d->conf.admin_group);
	}
	n = sd_listen_fds(1);
	if (n > 0 && sd_is_socket_unix(SD_LISTEN_FDS_START, SOCK_STREAM, 1,
				       NULL, 0) > 0) {
		d->listen_fd = SD_LISTEN_FDS_START;
		d->socket_activated = true;
		fcntl(d->listen_fd, F_SETFL,
		      fcntl(d->listen_fd, F_GETFL) | O_NONBLOCK);
		pr_info("using the control socket passed by systemd");
	} else {
		if (n > 0)
			pr_warn("ignoring %d passed file descriptors: not a "
				"listening Unix stream socket",
				n);
		err = socket_create(d);
		if (err)
			return err;
	}
	ev_io_init(&d->listen_w, accept_cb, d->listen_fd, EV_READ);
	d->listen_w.data = d;
	ev_io_start(d->loop, &d->listen_w);
	return 0;
}

void control_stop(struct daemon *d)
{
	while (d->clients)
		client_close(d, d->clients);
	if (d->listen_fd < 0)
		return;
	ev_io_stop(d->loop, &d->listen_w);
	close(d->listen_fd);
	if (!d->socket_activated)
		unlink(d->conf.socket_path);
	d->listen_fd = -1;
}
