// SPDX-License-Identifier: GPL-2.0-only
/* The commands of the control protocol (docs/protocol.md). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "commands.h"
#include "conn.h"
#include "control.h"
#include "daemon.h"
#include "dp-owner.h"
#include "flows.h"
#include "format.h"
#include "ipfix.h"
#include "log.h"
#include "names.h"
#include "proto.h"
#include "request.h"
#include "stats.h"
#include "subscribe.h"
#include "util.h"

/*
 * The protocol's error code for a negative errno from the datapath owner
 * or a subscription: the one place they are mapped (docs/protocol.md,
 * "Error codes").
 */
static const char *error_code(int err)
{
	switch (-err) {
	case ENODEV:
		return XPP_E_NO_INTERFACE;
	case EEXIST:
		return XPP_E_ALREADY;
	case ENOENT:
		return XPP_E_NOT_ATTACHED;
	case EBUSY:
		return XPP_E_FOREIGN;
	case EUSERS:
		return XPP_E_TOO_MANY_SUBSCRIBERS;
	case EINVAL:
		return XPP_E_BAD_REQUEST;
	case ENOMEM:
		return XPP_E_INTERNAL;
	default:
		return XPP_E_ATTACH;
	}
}

static json_object *reply_errno(int err, const char *msg)
{
	return reply_error(error_code(err), "%s", msg);
}

/* A string field of the request, or NULL (with *ret_err) when bad. */
static const char *req_string(json_object *req, const char *key,
			      bool required, json_object **ret_err)
{
	json_object *v;

	if (!json_object_object_get_ex(req, key, &v)) {
		if (required)
			*ret_err = reply_error(XPP_E_BAD_REQUEST,
					       "missing field '%s'", key);
		return NULL;
	}
	if (!json_object_is_type(v, json_type_string)) {
		*ret_err = reply_error(XPP_E_BAD_REQUEST,
				       "field '%s' must be a string", key);
		return NULL;
	}
	return json_object_get_string(v);
}

static void add_u64(json_object *o, const char *k, uint64_t v)
{
	json_object_object_add(o, k, json_object_new_uint64(v));
}

/* Adds the counters to o (a new object when o is NULL). */
static json_object *counters_json(json_object *o, const struct xpp_counters *c)
{
	json_object *m = json_object_new_object();
	size_t i;

	if (!o)
		o = json_object_new_object();
	for (i = 0; i < xpp_counter_fields_n; i++)
		add_u64(o, xpp_counter_fields[i].name,
			xpp_counter_get(c, &xpp_counter_fields[i]));
	/* The program counts the other sources only (xpp/maps.h). */
	add_u64(o, "ts_kernel", c->packets - c->ts_nic - c->ts_capture);
	for (i = 0; i < XPP_M_MAX; i++)
		add_u64(m, xpp_malformed_names[i], c->malformed[i]);
	json_object_object_add(o, "malformed", m);
	return o;
}

/* Where live frames' timestamps come from: one source for every
 * interface, as the program is shared (docs/datapath.md, "Timestamps"). */
static json_object *timestamps_json(void)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "source", json_object_new_string("kernel"));
	json_object_object_add(o, "clock",
			       json_object_new_string("CLOCK_MONOTONIC"));
	json_object_object_add(o, "nic", json_object_new_boolean(false));
	return o;
}

static unsigned int prog_id(struct manager *m)
{
	struct dp_status st;

	dp_owner_status(m->dp, &st);
	return st.prog_id;
}

/* What identifies an attachment, as list, stats and attach report it. */
static json_object *iface_ident(struct manager *m, const struct iface *i)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "name", json_object_new_string(i->name));
	json_object_object_add(o, "ifindex", json_object_new_int(i->ifindex));
	json_object_object_add(o, "mode",
			       json_object_new_string(xpp_mode_name(i->mode)));
	json_object_object_add(o, "prog_id", json_object_new_int(prog_id(m)));
	json_object_object_add(o, "link_id", json_object_new_int(i->link_id));
	return o;
}

/* The daemon's flows: the table as of the last scan, what was exported
 * by end reason, what flow subscribers lost. */
static json_object *flows_json(const struct stats *s)
{
	json_object *o = json_object_new_object(),
		    *ex = json_object_new_object();
	unsigned int why;

	json_object_object_add(o, "enabled",
			       json_object_new_boolean(s->dp.flows_on));
	add_u64(o, "active", s->dp.flows.active);
	add_u64(o, "table_size", s->dp.flows.table_size);
	for (why = XPP_END_IDLE; why <= XPP_END_RESOURCES; why++)
		add_u64(ex, xpp_flow_end_name(why), s->dp.flows.exported[why]);
	json_object_object_add(o, "exported", ex);
	add_u64(o, "lost_to_subscribers", s->flows_lost_to_subscribers);
	return o;
}

/* The IPFIX exporter (daemon/ipfix.h): {"enabled": false} when off. */
static json_object *ipfix_json(struct manager *m, const struct ipfix_status *st)
{
	json_object *o = json_object_new_object();
	char coll[300];

	json_object_object_add(o, "enabled",
			       json_object_new_boolean(st->enabled));
	if (!st->enabled)
		return o;
	xpp_conf_get(&m->conf, "ipfix_collector", coll, sizeof(coll));
	json_object_object_add(o, "collector", json_object_new_string(coll));
	add_u64(o, "observation_domain", m->conf.ipfix_domain);
	json_object_object_add(o, "state", json_object_new_string(st->state));
	add_u64(o, "exported", st->exported);
	add_u64(o, "dropped", st->dropped);
	add_u64(o, "queued", st->queued);
	add_u64(o, "queue_size", st->queue_size);
	add_u64(o, "reconnects", st->reconnects);
	add_u64(o, "send_errors", st->send_errors);
	json_object_object_add(o, "last_error",
			       json_object_new_string(st->last_error));
	return o;
}

static json_object *daemon_json(struct manager *m, const struct stats *s)
{
	json_object *o = json_object_new_object(), *lat = json_object_new_object();
	const struct dp_status *st = &s->dp;

	json_object_object_add(o, "version", json_object_new_string(XPP_VERSION));
	json_object_object_add(o, "pid", json_object_new_int(getpid()));
	json_object_object_add(o, "uptime_s",
			       json_object_new_double(s->uptime_ns / 1e9));
	json_object_object_add(o, "prog_id", json_object_new_int(st->prog_id));
	json_object_object_add(o, "pin_root",
			       json_object_new_string(m->conf.pin_root));
	add_u64(o, "records_delivered", st->records_delivered);
	add_u64(o, "records_delivered_total", st->records_consumed);
	add_u64(o, "records_pending", st->records_written - st->records_consumed);
	add_u64(o, "rings", st->rings);
	add_u64(o, "ring_bytes", st->ring_bytes);
	add_u64(o, "ring_records", st->ring_slots);
	add_u64(o, "ring_wakeups", st->ring_wakeups);
	add_u64(o, "ring_polls", st->ring_polls);
	add_u64(o, "ring_poll_interval_ns", st->poll_interval_ns);
	add_u64(lat, "count", st->latency->count);
	add_u64(lat, "p50", latency_quantile(st->latency, 0.5));
	add_u64(lat, "p99", latency_quantile(st->latency, 0.99));
	add_u64(lat, "p999", latency_quantile(st->latency, 0.999));
	add_u64(lat, "max", st->latency->max_ns);
	json_object_object_add(o, "delivery_latency_ns", lat);
	add_u64(o, "clients", s->clients);
	add_u64(o, "subscribers", s->subscribers);
	json_object_object_add(o, "flows", flows_json(s));
	json_object_object_add(o, "ipfix", ipfix_json(m, &s->ipfix));
	json_object_object_add(o, "timestamps", timestamps_json());
	return o;
}

/* NULL when out of memory. */
static json_object *stats_build(struct manager *m, const char *only)
{
	json_object *res, *arr;
	struct stats s;
	unsigned int i;

	if (stats_collect(m, only, &s))
		return NULL;
	res = json_object_new_object();
	arr = json_object_new_array();
	for (i = 0; i < s.n_ifaces; i++)
		json_object_array_add(arr,
				      counters_json(iface_ident(m, s.ifaces[i].iface),
						    &s.ifaces[i].c));
	json_object_object_add(res, "interfaces", arr);
	json_object_object_add(res, "totals", counters_json(NULL, &s.totals));
	json_object_object_add(res, "daemon", daemon_json(m, &s));
	json_object_object_add(res, "subscribers", subscriptions_json(m->subs));
	stats_release(&s);
	return res;
}

static json_object *cmd_version(struct manager *m, struct conn *c,
				json_object *req)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "version", json_object_new_string(XPP_VERSION));
	json_object_object_add(o, "protocol",
			       json_object_new_int(XPP_PROTOCOL_VERSION));
	json_object_object_add(o, "record_version",
			       json_object_new_int(XPP_RECORD_VERSION));
	json_object_object_add(o, "record_size",
			       json_object_new_int(sizeof(struct xpp_record)));
	json_object_object_add(o, "schema",
			       json_object_new_int(XPP_SCHEMA_VERSION));
	return reply_ok(o);
}

static json_object *cmd_list(struct manager *m, struct conn *c,
			     json_object *req)
{
	json_object *arr = json_object_new_array(), *res;
	const struct iface *i;
	uint64_t now = xpp_mono_ns();

	for (i = dp_owner_ifaces(m->dp); i; i = i->next) {
		json_object *o = iface_ident(m, i);

		json_object_object_add(
			o, "attached_s",
			json_object_new_double((now - i->attached_mono_ns) / 1e9));
		json_object_array_add(arr, o);
	}
	res = json_object_new_object();
	json_object_object_add(res, "interfaces", arr);
	return reply_ok(res);
}

static json_object *cmd_stats(struct manager *m, struct conn *c,
			      json_object *req)
{
	json_object *err = NULL, *res;
	const char *only = req_string(req, "iface", false, &err);

	if (err)
		return err;
	if (only && !dp_owner_iface(m->dp, only))
		return reply_error(XPP_E_NOT_ATTACHED,
				   "interface %s is not attached (see 'xdpctl "
				   "list')",
				   only);
	res = stats_build(m, only);
	if (!res)
		return reply_error(XPP_E_INTERNAL, "stats: out of memory");
	return reply_ok(res);
}

static json_object *cmd_attach(struct manager *m, struct conn *c,
			       json_object *req)
{
	json_object *err = NULL;
	const char *name = req_string(req, "iface", true, &err);
	const char *mode_s;
	enum xpp_mode mode = XPP_MODE_AUTO;
	char msg[512];
	int r;

	if (err)
		return err;
	mode_s = req_string(req, "mode", false, &err);
	if (err)
		return err;
	if (mode_s && xpp_mode_parse(mode_s, &mode))
		return reply_error(XPP_E_BAD_REQUEST,
				   "mode '%s': want native, generic or auto",
				   mode_s);
	r = dp_owner_attach(m->dp, name, mode, msg, sizeof(msg));
	if (r)
		return reply_errno(r, msg);
	return reply_ok(iface_ident(m, dp_owner_iface(m->dp, name)));
}

static json_object *cmd_detach(struct manager *m, struct conn *c,
			       json_object *req)
{
	json_object *err = NULL, *arr, *res, *v;
	const char *name = req_string(req, "iface", false, &err);
	bool all = false;
	char msg[512];
	int r;

	if (err)
		return err;
	if (json_object_object_get_ex(req, "all", &v)) {
		/* Only a JSON boolean: json-c would read "false" as true. */
		if (!json_object_is_type(v, json_type_boolean))
			return reply_error(XPP_E_BAD_REQUEST,
					   "field 'all' must be true or false");
		all = json_object_get_boolean(v);
	}
	if (!name == !all)
		return reply_error(XPP_E_BAD_REQUEST,
				   "detach needs either 'iface' or \"all\": "
				   "true");
	arr = json_object_new_array();
	while (all && dp_owner_ifaces(m->dp)) {
		name = dp_owner_ifaces(m->dp)->name;
		json_object_array_add(arr, json_object_new_string(name));
		dp_owner_detach(m->dp, name, msg, sizeof(msg));
	}
	if (!all) {
		r = dp_owner_detach(m->dp, name, msg, sizeof(msg));
		if (r == -ENOENT) {
			json_object_put(arr);
			return reply_errno(r, msg);
		}
		json_object_array_add(arr, json_object_new_string(name));
	}
	res = json_object_new_object();
	json_object_object_add(res, "detached", arr);
	return reply_ok(res);
}

static json_object *conf_json(const struct xpp_conf *conf)
{
	json_object *o = json_object_new_object();
	const char *const *k;
	char buf[4096];

	for (k = xpp_conf_keys; *k; k++) {
		xpp_conf_get(conf, *k, buf, sizeof(buf));
		json_object_object_add(o, *k, json_object_new_string(buf));
	}
	return o;
}

static json_object *cmd_config_get(struct manager *m, struct conn *c,
				   json_object *req)
{
	return reply_ok(conf_json(&m->conf));
}

static json_object *cmd_config_set(struct manager *m, struct conn *c,
				   json_object *req)
{
	struct xpp_conf next = m->conf;
	json_object *set;
	char msg[512];

	if (!json_object_object_get_ex(req, "set", &set) ||
	    !json_object_is_type(set, json_type_object) ||
	    !json_object_object_length(set))
		return reply_error(XPP_E_BAD_REQUEST,
				   "config_set needs \"set\": {\"key\": \"value\", "
				   "...}");
	/* All or nothing: a bad key leaves the running config as it was. */
	json_object_object_foreach(set, key, val)
	{
		if (!json_object_is_type(val, json_type_string) &&
		    !json_object_is_type(val, json_type_int))
			return reply_error(XPP_E_BAD_CONFIG,
					   "%s: value must be a string or an "
					   "integer",
					   key);
		if (xpp_conf_set(&next, key, json_object_get_string(val), true,
				 msg, sizeof(msg)))
			return reply_error(XPP_E_BAD_CONFIG, "%s", msg);
	}
	m->conf = next;
	manager_apply_conf(m);
	/* One line per request, however many keys it sets. */
	pr_notice("config set over the control socket by uid %u: %s",
		  conn_peer(c)->uid,
		  json_object_to_json_string_ext(set, JSON_C_TO_STRING_PLAIN));
	return reply_ok(conf_json(&m->conf));
}

static json_object *cmd_subscribe(struct manager *m, struct conn *c,
				  json_object *req)
{
	char msg[512];
	int r;

	r = subscription_start(m->subs, c, req, m->conf.max_subscribers,
			       m->conf.subscriber_queue, msg, sizeof(msg));
	if (r)
		return reply_errno(r, msg);
	return NULL; /* the connection is a stream now */
}

/* The name of an attached interface, for people; NULL when none. */
static const char *iface_name(struct manager *m, unsigned int ifindex)
{
	const struct iface *i;

	for (i = dp_owner_ifaces(m->dp); i; i = i->next)
		if (i->ifindex == ifindex)
			return i->name;
	return NULL;
}

static void add_dir(json_object *o, const char *prefix,
		    const struct xpp_flow_dir *d)
{
	char key[64];

	snprintf(key, sizeof(key), "%spackets", prefix);
	add_u64(o, key, d->packets);
	snprintf(key, sizeof(key), "%sbytes", prefix);
	add_u64(o, key, d->bytes);
}

/* One flow of the table as flows_top shows it; now_ns: wall clock. */
static json_object *flow_top_json(struct manager *m,
				  const struct xpp_flow_record *f,
				  uint64_t now_ns)
{
	const struct xpp_flow_dir *b = &f->flow.bidir;
	json_object *o = json_object_new_object();
	const char *name = iface_name(m, f->ifindex);
	char addr[64];

	add_u64(o, "ifindex", f->ifindex);
	json_object_object_add(o, "iface",
			       name ? json_object_new_string(name) : NULL);
	add_u64(o, "vlan_id", f->vlan_id);
	add_u64(o, "ip_version", f->ip_version);
	add_u64(o, "protocol", f->proto);
	xpp_addr_str(f->src_ip, addr, sizeof(addr));
	json_object_object_add(o, "src_ip", json_object_new_string(addr));
	add_u64(o, "src_port", f->src_port);
	xpp_addr_str(f->dst_ip, addr, sizeof(addr));
	json_object_object_add(o, "dst_ip", json_object_new_string(addr));
	add_u64(o, "dst_port", f->dst_port);
	add_dir(o, "bidirectional_", b);
	add_dir(o, "src2dst_", &f->flow.src2dst);
	add_dir(o, "dst2src_", &f->flow.dst2src);
	add_u64(o, "bidirectional_first_seen_ns", b->first_seen_ns);
	add_u64(o, "bidirectional_last_seen_ns", b->last_seen_ns);
	add_u64(o, "bidirectional_duration_ns",
		b->last_seen_ns - b->first_seen_ns);
	add_u64(o, "age_ns",
		now_ns > b->last_seen_ns ? now_ns - b->last_seen_ns : 0);
	return o;
}

static json_object *cmd_flows_top(struct manager *m, struct conn *c,
				  json_object *req)
{
	const struct xpp_flow_record *top;
	json_object *res, *arr, *v;
	uint64_t now = xpp_mono_ns() + xpp_wall_offset_ns();
	unsigned int n = 10, got, total, i;
	struct dp_status st;
	int r;

	if (json_object_object_get_ex(req, "count", &v)) {
		if (!json_object_is_type(v, json_type_int) ||
		    json_object_get_int64(v) < 1 ||
		    json_object_get_int64(v) > FLOW_TOP_MAX)
			return reply_error(XPP_E_BAD_REQUEST,
					   "flows_top: 'count' must be an "
					   "integer from 1 to %d",
					   FLOW_TOP_MAX);
		n = json_object_get_int64(v);
	}
	r = dp_owner_flows_top(m->dp, n, &top, &got, &total);
	if (r)
		return reply_error(XPP_E_INTERNAL,
				   "reading the flow table: %s", strerror(-r));
	dp_owner_status(m->dp, &st);
	arr = json_object_new_array();
	for (i = 0; i < got; i++)
		json_object_array_add(arr, flow_top_json(m, &top[i], now));
	res = json_object_new_object();
	json_object_object_add(res, "enabled",
			       json_object_new_boolean(st.flows_on));
	add_u64(res, "in_table", total);
	add_u64(res, "table_size", st.flows.table_size);
	json_object_object_add(res, "flows", arr);
	return reply_ok(res);
}

static const struct command {
	const char *name;
	bool admin;
	json_object *(*run)(struct manager *m, struct conn *c,
			    json_object *req);
} commands[] = {
	{ "version", false, cmd_version },
	{ "list", false, cmd_list },
	{ "stats", false, cmd_stats },
	{ "attach", true, cmd_attach },
	{ "detach", true, cmd_detach },
	{ "config_get", false, cmd_config_get },
	{ "config_set", true, cmd_config_set },
	{ "subscribe", false, cmd_subscribe },
	{ "flows_top", false, cmd_flows_top },
};

json_object *command_run(struct manager *m, struct conn *c, json_object *req)
{
	json_object *err = NULL, *reply, *id;
	const struct command *cmd = NULL;
	const char *name;
	size_t i;

	/* request_parse made sure of an object with a string "cmd". */
	name = req_string(req, "cmd", true, &err);
	if (err)
		return err;
	for (i = 0; i < ARRAY_SIZE(commands); i++)
		if (!strcmp(commands[i].name, name))
			cmd = &commands[i];
	if (!cmd)
		return reply_error(XPP_E_UNKNOWN_COMMAND,
				   "unknown command '%.64s' (known: version, list, "
				   "stats, attach, detach, config_get, config_set, "
				   "subscribe, flows_top)",
				   name);
	if (cmd->admin && !conn_peer(c)->admin)
		return reply_error(XPP_E_PERMISSION,
				   "%s changes state: only root or members of "
				   "group '%s' may do it",
				   name, m->conf.admin_group);
	reply = cmd->run(m, c, req);
	if (reply && json_object_object_get_ex(req, "id", &id))
		json_object_object_add(reply, "id", json_object_get(id));
	return reply;
}
