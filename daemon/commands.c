// SPDX-License-Identifier: GPL-2.0-only
/* The commands of the control protocol (docs/protocol.md). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "daemon.h"
#include "log.h"
#include "names.h"
#include "proto.h"
#include "request.h"
#include "subscribe.h"
#include "util.h"

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
	for (i = 0; i < XPP_M_MAX; i++)
		add_u64(m, xpp_malformed_names[i], c->malformed[i]);
	json_object_object_add(o, "malformed", m);
	return o;
}

/* What identifies an attachment, as list, stats and attach report it. */
static json_object *iface_ident(struct daemon *d, const struct iface *i)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "name", json_object_new_string(i->name));
	json_object_object_add(o, "ifindex", json_object_new_int(i->ifindex));
	json_object_object_add(o, "mode",
			       json_object_new_string(xpp_mode_name(i->mode)));
	json_object_object_add(o, "prog_id", json_object_new_int(d->prog_id));
	json_object_object_add(o, "link_id", json_object_new_int(i->link_id));
	return o;
}

static json_object *iface_json(struct daemon *d, const struct iface *i,
			       struct xpp_counters *totals)
{
	struct xpp_counters c = {};

	xpp_datapath__counters(d->dp, i->ifindex, &c);
	xpp_counters_add(totals, &c);
	return counters_json(iface_ident(d, i), &c);
}

static json_object *daemon_json(struct daemon *d)
{
	json_object *o = json_object_new_object(), *lat = json_object_new_object();
	uint64_t written, consumed;

	ring_totals(d, &written, &consumed);
	json_object_object_add(o, "version", json_object_new_string(XPP_VERSION));
	json_object_object_add(o, "pid", json_object_new_int(getpid()));
	json_object_object_add(o, "uptime_s",
			       json_object_new_double(
				       (mono_ns() - d->start_mono_ns) / 1e9));
	json_object_object_add(o, "prog_id", json_object_new_int(d->prog_id));
	json_object_object_add(o, "pin_root",
			       json_object_new_string(d->conf.pin_root));
	add_u64(o, "records_delivered", d->delivered);
	add_u64(o, "records_delivered_total", consumed);
	add_u64(o, "records_pending", written - consumed);
	/* Ring entries of another size than a record: none, unless
	 * something other than our program writes to the rings. */
	add_u64(o, "rings", xpp_datapath__ring_count(d->dp));
	add_u64(o, "ring_bytes", xpp_datapath__ring_bytes(d->dp));
	add_u64(o, "ring_records", xpp_datapath__ring_slots(d->dp));
	add_u64(o, "ring_wakeups", xpp_reader__wakeups(d->rd));
	add_u64(lat, "count", d->lat.count);
	add_u64(lat, "p50", latency_quantile(&d->lat, 0.5));
	add_u64(lat, "p99", latency_quantile(&d->lat, 0.99));
	add_u64(lat, "p999", latency_quantile(&d->lat, 0.999));
	add_u64(lat, "max", d->lat.max_ns);
	json_object_object_add(o, "delivery_latency_ns", lat);
	add_u64(o, "clients", d->n_clients);
	add_u64(o, "subscribers", d->n_subscribers);
	return o;
}

json_object *stats_build(struct daemon *d, const char *only)
{
	json_object *res = json_object_new_object(), *arr = json_object_new_array();
	struct xpp_counters totals = {}, over = {};
	const struct iface *i;

	for (i = d->ifaces; i; i = i->next)
		if (!only || !strcmp(only, i->name))
			json_object_array_add(arr, iface_json(d, i, &totals));
	if (!only && !xpp_datapath__counters_overflow(d->dp, &over))
		xpp_counters_add(&totals, &over);
	json_object_object_add(res, "interfaces", arr);
	json_object_object_add(res, "totals", counters_json(NULL, &totals));
	json_object_object_add(res, "daemon", daemon_json(d));
	json_object_object_add(res, "subscribers", subscribers_json(d));
	return res;
}

static json_object *cmd_version(struct daemon *d, struct client *c,
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

static json_object *cmd_list(struct daemon *d, struct client *c,
			     json_object *req)
{
	json_object *arr = json_object_new_array(), *res;
	const struct iface *i;
	uint64_t now = mono_ns();

	for (i = d->ifaces; i; i = i->next) {
		json_object *o = iface_ident(d, i);

		json_object_object_add(
			o, "attached_s",
			json_object_new_double((now - i->attached_mono_ns) / 1e9));
		json_object_array_add(arr, o);
	}
	res = json_object_new_object();
	json_object_object_add(res, "interfaces", arr);
	return reply_ok(res);
}

static json_object *cmd_stats(struct daemon *d, struct client *c,
			      json_object *req)
{
	json_object *err = NULL;
	const char *only = req_string(req, "iface", false, &err);

	if (err)
		return err;
	if (only && !iface_find(d, only))
		return reply_error(XPP_E_NOT_ATTACHED,
				   "interface %s is not attached (see 'xdpctl "
				   "list')",
				   only);
	return reply_ok(stats_build(d, only));
}

static json_object *cmd_attach(struct daemon *d, struct client *c,
			       json_object *req)
{
	json_object *err = NULL;
	const char *name = req_string(req, "iface", true, &err);
	const char *mode_s;
	enum xpp_mode mode = XPP_MODE_AUTO;

	if (err)
		return err;
	mode_s = req_string(req, "mode", false, &err);
	if (err)
		return err;
	if (mode_s && xpp_mode_parse(mode_s, &mode))
		return reply_error(XPP_E_BAD_REQUEST,
				   "mode '%s': want native, generic or auto",
				   mode_s);
	if (iface_attach(d, name, mode, &err)) {
		ifc_warn(name, "attach %s refused: %s", name,
			json_object_get_string(json_object_object_get(
				json_object_object_get(err, "error"),
				"message")));
		return err;
	}
	return reply_ok(iface_ident(d, iface_find(d, name)));
}

static json_object *cmd_detach(struct daemon *d, struct client *c,
			       json_object *req)
{
	json_object *err = NULL, *arr, *res, *v;
	const char *name = req_string(req, "iface", false, &err);
	bool all = json_object_object_get_ex(req, "all", &v) &&
		   json_object_get_boolean(v);
	struct iface *ifc;

	if (err)
		return err;
	if (!name && !all)
		return reply_error(XPP_E_BAD_REQUEST,
				   "detach needs 'iface' or \"all\": true");
	arr = json_object_new_array();
	if (all) {
		while (d->ifaces) {
			json_object_array_add(
				arr, json_object_new_string(d->ifaces->name));
			iface_detach(d, d->ifaces);
		}
	} else {
		ifc = iface_find(d, name);
		if (!ifc) {
			json_object_put(arr);
			return reply_error(XPP_E_NOT_ATTACHED,
					   "interface %s is not attached (see "
					   "'xdpctl list')",
					   name);
		}
		json_object_array_add(arr, json_object_new_string(ifc->name));
		iface_detach(d, ifc);
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

static json_object *cmd_config_get(struct daemon *d, struct client *c,
				   json_object *req)
{
	return reply_ok(conf_json(&d->conf));
}

static json_object *cmd_config_set(struct daemon *d, struct client *c,
				   json_object *req)
{
	struct xpp_conf next = d->conf;
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
	d->conf = next;
	daemon_apply_conf(d);
	json_object_object_foreach(set, k2, v2)
	{
		pr_notice("config: %s set to '%s' over the control socket", k2,
			  json_object_get_string(v2));
	}
	return reply_ok(conf_json(&d->conf));
}

static json_object *cmd_subscribe(struct daemon *d, struct client *c,
				  json_object *req)
{
	json_object *err = NULL;

	if (subscribe_start(d, c, req, &err))
		return err;
	return NULL; /* the connection is a stream now */
}

static const struct command {
	const char *name;
	bool admin;
	json_object *(*run)(struct daemon *d, struct client *c,
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
};

json_object *command_run(struct daemon *d, struct client *c, json_object *req)
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
				   "subscribe)",
				   name);
	if (cmd->admin && !client_is_admin(c))
		return reply_error(XPP_E_PERMISSION,
				   "%s changes state: only root or members of "
				   "group '%s' may do it",
				   name, d->conf.admin_group);
	reply = cmd->run(d, c, req);
	if (reply && json_object_object_get_ex(req, "id", &id))
		json_object_object_add(reply, "id", json_object_get(id));
	return reply;
}
