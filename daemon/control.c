// SPDX-License-Identifier: GPL-2.0-only
/*
 * The control socket (control.h). Every resource a peer can make the
 * daemon hold is bounded: clients, request size (conn.c), unsent output.
 * A bad request gets an error reply and the connection carries on.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <systemd/sd-daemon.h>

#include "commands.h"
#include "conn.h"
#include "control.h"
#include "daemon.h"
#include "log.h"
#include "proto.h"
#include "request.h"
#include "util.h"

#define MAX_PEER_GROUPS 256
/* How long to stop accepting when out of file descriptors. */
#define ACCEPT_PAUSE_MS 200

struct client {
	struct client *next, **pprev;
	struct control *ctl;
	struct conn *c;
};

struct control {
	struct manager *m;
	int listen_fd;
	bool socket_activated;
	bool socket_created; /* ours to remove */
	gid_t admin_gid;     /* (gid_t)-1: no such group, root only */
	ev_io listen_w;
	ev_timer resume_w; /* accepting again after running out of fds */
	struct client *clients;
	unsigned int n_clients;
};

/* Queues a reply; a peer that does not read its replies is closed. */
static void client_reply(struct client *cl, json_object *reply)
{
	struct conn *c = cl->c;
	int err;

	if (!conn_out_pending(c)) {
		/* Nothing waits: only the reply itself can be too large (a
		 * request of up to max_request_bytes echoes its "id"). */
		err = conn_write_json(c, reply);
		if (err == -ENOBUFS)
			err = conn_write_json(
				c, reply_error(XPP_E_BAD_REQUEST,
					       "the reply would be longer than "
					       "%u bytes: send a shorter \"id\"",
					       CONN_OUT_MAX));
	} else {
		err = conn_write_json(c, reply);
	}
	if (err == -ENOBUFS || err == -ENOMEM) {
		pr_warn("client pid %d does not read its replies; closing it",
			conn_peer(c)->pid);
		conn_close(c);
	}
}

static void client_on_line(struct conn *c, const char *line, size_t len,
			   void *userdata)
{
	struct client *cl = userdata;
	json_object *req, *reply, *err;

	req = request_parse(line, len, &err);
	if (!req) {
		if (err)
			client_reply(cl, err);
		return;
	}
	reply = command_run(cl->ctl->m, c, req);
	json_object_put(req);
	if (reply) /* NULL: the connection is a stream now */
		client_reply(cl, reply);
}

static void client_on_line_too_long(struct conn *c, size_t limit,
				    void *userdata)
{
	client_reply(userdata,
		     reply_error(XPP_E_TOO_LARGE,
				 "request longer than %zu bytes: ignored up to "
				 "the next newline",
				 limit));
}

/* A request connection whose peer is done sending: its replies go out,
 * then it closes. */
static void client_on_input_end(struct conn *c, void *userdata)
{
	conn_close_when_sent(c);
}

static void client_on_close(struct conn *c, void *userdata)
{
	struct client *cl = userdata;

	*cl->pprev = cl->next;
	if (cl->next)
		cl->next->pprev = cl->pprev;
	cl->ctl->n_clients--;
	free(cl);
}

static const struct conn_ops client_ops = {
	.on_line = client_on_line,
	.on_line_too_long = client_on_line_too_long,
	.on_input_end = client_on_input_end,
	.on_close = client_on_close,
};

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

int control_add_client(struct control *ctl, int fd)
{
	_cleanup_close_ int cfd = fd;
	struct ucred cred = {};
	socklen_t len = sizeof(cred);
	struct conn_peer peer;
	struct client *cl;

	if (getsockopt(cfd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0)
		return log_warn_errno(errno,
				      "control connection without peer "
				      "credentials: %m");
	peer = (struct conn_peer){
		.uid = cred.uid,
		.pid = cred.pid,
		.admin = cred.uid == 0 ||
			 peer_in_group(cfd, ctl->admin_gid, cred.gid),
	};
	cl = calloc(1, sizeof(*cl));
	if (!cl)
		return -ENOMEM;
	cl->ctl = ctl;
	cl->c = conn_new(ctl->m->loop, TAKE_FD(cfd), &peer,
			 &ctl->m->conf.max_request, &client_ops, cl);
	if (!cl->c) {
		free(cl);
		return -ENOMEM;
	}
	cl->next = ctl->clients;
	if (cl->next)
		cl->next->pprev = &cl->next;
	cl->pprev = &ctl->clients;
	ctl->clients = cl;
	ctl->n_clients++;
	return 0;
}

static void accept_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct control *ctl = w->data;
	int fd;

	fd = accept4(ctl->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd < 0) {
		if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
		    errno == ENOMEM) {
			/* The connection stays queued and the socket readable:
			 * pause instead of spinning on it. */
			pr_warn("accepting a control connection: %m; pausing "
				"accepts for %d ms (raise LimitNOFILE= or lower "
				"max_clients)",
				ACCEPT_PAUSE_MS);
			ev_io_stop(loop, &ctl->listen_w);
			/* Set each time: libev keeps what is left of a
			 * one-shot timer that fired, which is nothing. */
			ev_timer_set(&ctl->resume_w, ACCEPT_PAUSE_MS / 1000.0, 0);
			ev_timer_start(loop, &ctl->resume_w);
		} else if (errno != EAGAIN && errno != EINTR) {
			pr_warn("accepting a control connection: %m");
		}
		return;
	}
	/* The limit in force now; connections made under a higher one
	 * stay (docs/protocol.md). */
	if (ctl->n_clients >= ctl->m->conf.max_clients) {
		static const char msg[] =
			"{\"ok\":false,\"error\":{\"code\":\"" XPP_E_TOO_MANY_CLIENTS
			"\",\"message\":\"the daemon already serves max_clients "
			"connections; try again later\"}}\n";

		/* Best effort: the peer learns why before the close. */
		(void)!send(fd, msg, sizeof(msg) - 1,
			    MSG_NOSIGNAL | MSG_DONTWAIT);
		close(fd);
		pr_debug("refused a control connection: max_clients (%u) reached",
			 ctl->m->conf.max_clients);
		return;
	}
	control_add_client(ctl, fd);
}

static void resume_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct control *ctl = w->data;

	ev_io_start(loop, &ctl->listen_w);
}

/* Refuses to start over a live daemon; removes a stale socket. */
static int socket_claim(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	_cleanup_close_ int fd = -1;
	struct stat st;

	if (lstat(path, &st) < 0) {
		if (errno == ENOENT)
			return 0;
		return log_error_errno(errno, "cannot look at %s: %m", path);
	}
	if (!S_ISSOCK(st.st_mode))
		return log_error_errno(EEXIST,
				       "%s exists and is not a socket: remove "
				       "it or choose another path with --socket",
				       path);
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return log_error_errno(errno, "socket: %m");
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
		return log_error_errno(EADDRINUSE,
				       "another xdp-preprocd already listens on "
				       "%s: stop it first, or give this one its "
				       "own --socket and --pin-root",
				       path);
	if (unlink(path) < 0)
		return log_error_errno(errno, "cannot replace %s: %m", path);
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

static int socket_create(struct control *ctl)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	const char *path = ctl->m->conf.socket_path;
	_cleanup_close_ int fd = -1;
	int err;

	err = mkdir_parents(path, 0755);
	if (err)
		return log_error_errno(err,
				       "cannot create the directory of %s: %m",
				       path);
	err = socket_claim(path);
	if (err)
		return err;
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return log_error_errno(errno, "socket: %m");
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return log_error_errno(errno, "cannot bind %s: %m", path);
	ctl->socket_created = true;
	if (chmod(path, 0660) < 0)
		pr_warn("chmod 0660 %s: %m", path);
	if (ctl->admin_gid != (gid_t)-1 && chown(path, 0, ctl->admin_gid) < 0)
		pr_warn("chown %s to group %s: %m", path,
			ctl->m->conf.admin_group);
	if (listen(fd, 128) < 0)
		return log_error_errno(errno, "listen on %s: %m", path);
	ctl->listen_fd = TAKE_FD(fd);
	return 0;
}

static gid_t admin_gid(const char *group)
{
	struct group *gr;

	if (!group[0])
		return (gid_t)-1;
	gr = getgrnam(group);
	if (gr)
		return gr->gr_gid;
	pr_info("admin group '%s' does not exist: only root may change state "
		"over the socket",
		group);
	return (gid_t)-1;
}

struct control *control_new(struct manager *m)
{
	struct control *ctl = calloc(1, sizeof(*ctl));
	int n, err;

	if (!ctl)
		return NULL;
	ctl->m = m;
	ctl->listen_fd = -1;
	ctl->admin_gid = admin_gid(m->conf.admin_group);
	n = sd_listen_fds(1);
	if (n > 0 && sd_is_socket_unix(SD_LISTEN_FDS_START, SOCK_STREAM, 1,
				       NULL, 0) > 0) {
		ctl->listen_fd = SD_LISTEN_FDS_START;
		ctl->socket_activated = true;
		fcntl(ctl->listen_fd, F_SETFL,
		      fcntl(ctl->listen_fd, F_GETFL) | O_NONBLOCK);
		pr_info("using the control socket passed by systemd");
	} else {
		if (n > 0)
			pr_warn("ignoring %d passed file descriptors: not a "
				"listening Unix stream socket",
				n);
		err = socket_create(ctl);
		if (err) {
			control_free(ctl);
			errno = -err;
			return NULL;
		}
	}
	ev_io_init(&ctl->listen_w, accept_cb, ctl->listen_fd, EV_READ);
	ctl->listen_w.data = ctl;
	ev_timer_init(&ctl->resume_w, resume_cb, ACCEPT_PAUSE_MS / 1000.0, 0);
	ctl->resume_w.data = ctl;
	ev_io_start(m->loop, &ctl->listen_w);
	return ctl;
}

void control_free(struct control *ctl)
{
	if (!ctl)
		return;
	/* Each close takes its client off the list. */
	while (ctl->clients)
		conn_close(ctl->clients->c);
	if (ctl->listen_fd >= 0) {
		ev_io_stop(ctl->m->loop, &ctl->listen_w);
		ev_timer_stop(ctl->m->loop, &ctl->resume_w);
		if (!ctl->socket_activated)
			close(ctl->listen_fd);
	}
	if (ctl->socket_created)
		unlink(ctl->m->conf.socket_path);
	free(ctl);
}

unsigned int control_client_count(const struct control *ctl)
{
	return ctl->n_clients;
}
