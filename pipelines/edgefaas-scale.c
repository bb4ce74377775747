/* edgefaas-scale: KEDA's ScaledObject on one host.
 *
 *   edgefaas-scale [--scaledobject k8s/base/inference/scaledobject.yaml] [overrides]
 *                  [--management-url http://127.0.0.1:15672] -- COMMAND ARGS...
 *
 * Every pollingInterval it reads what the ScaledObject's rabbitmq triggers measure: the
 * queue's ready + unacknowledged count and publish rate from the RabbitMQ management
 * HTTP API (KEDA's protocol http; about 5 s old) and, if the file has an amqp trigger,
 * the ready count at once by a passive queue.declare over AMQP (librabbitmq; KEDA's
 * protocol amqp). It decides with the KEDA/HPA rules in ef-scale-policy.h (activation
 * from either trigger, HPA behavior, loading replicas as capacity coming), and starts
 * or stops replicas of COMMAND (normally
 * `edgefaas-launch pipelines/inference.pipeline`) as child processes: a replica is
 * stopped with SIGTERM (it drains), and SIGKILLed only after terminationGracePeriodSeconds.
 * A replica that exits on its own is replaced at the next poll, like a Deployment's pod.
 * A replica is loading from its start until its pipeline reports PLAYING (its "state"
 * JSON line, the same moment its /readyz turns 200), then ready ("replica-ready").
 *
 * Bad input: without the management API (plugin off, HTTP error) activation still
 * works through AMQP and the keep-alive falls back to the replicas' own reports of
 * work; a queue that existed and is then deleted is an error at every poll (replicas
 * kept), never read as an empty queue. A queue never seen yet reads as 0 (the edge
 * pipelines declare it).
 *
 * Every decision is one JSON line on stdout ("poll", "scale", "replica-start",
 * "replica-stop", "replica-exit"); the replicas' own JSON lines are passed through with
 * a "replica" member added. Credentials: user from --user or EDGEFAAS_AMQP_URL,
 * password from EDGEFAAS_AMQP_PASSWORD; never printed.
 * SIGTERM/SIGINT: stop all replicas (SIGTERM, wait for them), exit 0.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib-unix.h>
#include <libsoup/soup.h>

#include "ef-json-log.h"
#include "ef-scale-policy.h"

#ifdef EF_SCALE_HAVE_AMQP
#include "edgefaas-amqp.h"
#endif

typedef struct {
  guint id;
  GPid pid;
  gint64 started_us;
  gint64 stop_sent_us;     /* 0 = running */
  guint kill_source;
  gboolean ready;          /* pipeline PLAYING (model loaded) */
  GIOChannel *out;
  GString *partial;
} Replica;

static struct {
  EfScaleConfig config;
  EfScaleState state;
  GMainLoop *loop;
  SoupSession *session;
  gchar *mgmt_url;
  gchar *auth_header;
  gchar **command;
  GList *replicas;          /* Replica*, oldest first */
  guint next_id;
  gboolean shutting_down;
  guint last_logged_messages;
  gboolean quiet_polls;
  gboolean queue_seen;      /* the queue existed once: a 404 now means it was deleted */
  gboolean replicas_busy;   /* a replica reported work since the last poll */
#ifdef EF_SCALE_HAVE_AMQP
  EdgefaasAmqpParams amqp;
  EdgefaasAmqpConn *conn;
#endif
} S;

/* ---------- replicas ---------- */

static guint
loading_count (void)
{
  guint n = 0;
  for (GList * l = S.replicas; l; l = l->next) {
    Replica *r = l->data;
    if (r->stop_sent_us == 0 && !r->ready)
      n++;
  }
  return n;
}

static guint
running_count (void)
{
  guint n = 0;
  for (GList * l = S.replicas; l; l = l->next)
    if (((Replica *) l->data)->stop_sent_us == 0)
      n++;
  return n;
}

static void
emit_replica (const gchar * type, Replica * r, const gchar * extra_key, gint64 extra_val)
{
  JsonBuilder *b = ef_json_log_begin (type);
  json_builder_set_member_name (b, "replica");
  json_builder_add_int_value (b, r->id);
  json_builder_set_member_name (b, "pid");
  json_builder_add_int_value (b, r->pid);
  if (extra_key) {
    json_builder_set_member_name (b, extra_key);
    json_builder_add_int_value (b, extra_val);
  }
  ef_json_log_emit (b);
}

static void emit_replica (const gchar * type, Replica * r, const gchar * extra_key,
    gint64 extra_val);

/* What a replica's JSON line tells the scaler: PLAYING = ready (the model is loaded),
 * a detections line = it is working (the keep-alive without the management API). */
static void
note_replica_line (Replica * r, const gchar * text, gsize len)
{
  JsonParser *p = json_parser_new ();
  if (json_parser_load_from_data (p, text, len, NULL)
      && JSON_NODE_HOLDS_OBJECT (json_parser_get_root (p))) {
    JsonObject *o = json_node_get_object (json_parser_get_root (p));
    const gchar *type = json_object_get_string_member_with_default (o, "type", "");
    if (g_str_equal (type, "state") && !r->ready
        && g_str_equal (json_object_get_string_member_with_default (o, "to", ""), "PLAYING")) {
      r->ready = TRUE;
      emit_replica ("replica-ready", r, "load_ms",
          (g_get_monotonic_time () - r->started_us) / 1000);
    } else if (g_str_equal (type, "detections")) {
      S.replicas_busy = TRUE;
    }
  }
  g_object_unref (p);
}

/* Pass the replica's stdout through, adding "replica":N to its JSON lines. */
static gboolean
replica_out_cb (GIOChannel * ch, GIOCondition cond, gpointer data)
{
  Replica *r = data;
  gchar buf[4096];
  gsize n = 0;
  GIOStatus st = g_io_channel_read_chars (ch, buf, sizeof buf, &n, NULL);
  if (n)
    g_string_append_len (r->partial, buf, n);
  gchar *nl;
  while ((nl = memchr (r->partial->str, '\n', r->partial->len))) {
    gsize len = nl - r->partial->str;
    GString *line = g_string_new (NULL);
    if (len > 1 && r->partial->str[0] == '{')
      note_replica_line (r, r->partial->str, len);
    if (len > 1 && r->partial->str[0] == '{')
      g_string_append_printf (line, "{\"replica\":%u,%.*s\n", r->id, (int) len - 1,
          r->partial->str + 1);
    else
      g_string_append_printf (line, "%.*s\n", (int) len, r->partial->str);
    fputs (line->str, stdout);
    fflush (stdout);
    g_string_free (line, TRUE);
    g_string_erase (r->partial, 0, len + 1);
  }
  if (st == G_IO_STATUS_EOF || st == G_IO_STATUS_ERROR || (cond & (G_IO_HUP | G_IO_ERR))) {
    if (st != G_IO_STATUS_NORMAL || n == 0)
      return G_SOURCE_REMOVE;
  }
  return G_SOURCE_CONTINUE;
}

static void check_quit (void);

static void
replica_exit_cb (GPid pid, gint status, gpointer data)
{
  Replica *r = data;
  if (r->kill_source)
    g_source_remove (r->kill_source);
  /* drain remaining output */
  while (replica_out_cb (r->out, G_IO_IN, r) == G_SOURCE_CONTINUE) {
    GIOCondition c = g_io_channel_get_buffer_condition (r->out);
    if (!(c & G_IO_IN))
      break;
  }
  JsonBuilder *b = ef_json_log_begin ("replica-exit");
  json_builder_set_member_name (b, "replica");
  json_builder_add_int_value (b, r->id);
  json_builder_set_member_name (b, "pid");
  json_builder_add_int_value (b, pid);
  if (WIFEXITED (status)) {
    json_builder_set_member_name (b, "code");
    json_builder_add_int_value (b, WEXITSTATUS (status));
  } else if (WIFSIGNALED (status)) {
    json_builder_set_member_name (b, "signal");
    json_builder_add_int_value (b, WTERMSIG (status));
  }
  json_builder_set_member_name (b, "expected");
  json_builder_add_boolean_value (b, r->stop_sent_us != 0);
  json_builder_set_member_name (b, "lifetime_s");
  json_builder_add_double_value (b, (g_get_monotonic_time () - r->started_us) / 1e6);
  if (r->stop_sent_us) {
    json_builder_set_member_name (b, "stop_s");
    json_builder_add_double_value (b, (g_get_monotonic_time () - r->stop_sent_us) / 1e6);
  }
  ef_json_log_emit (b);
  g_spawn_close_pid (pid);
  g_io_channel_unref (r->out);
  g_string_free (r->partial, TRUE);
  S.replicas = g_list_remove (S.replicas, r);
  g_free (r);
  check_quit ();
}

static gboolean
start_replica (GError ** error)
{
  Replica *r = g_new0 (Replica, 1);
  r->id = ++S.next_id;
  gchar *idstr = g_strdup_printf ("%u", r->id);
  gchar **env = g_get_environ ();
  env = g_environ_setenv (env, "EDGEFAAS_REPLICA", idstr, TRUE);
  /* Replicas on one host share its cores: each gets cores / maxReplicaCount inference
   * threads (yolov4infer threads=${YOLO_THREADS}) unless YOLO_THREADS is set. */
  if (!g_environ_getenv (env, "YOLO_THREADS")) {
    gchar *n = g_strdup_printf ("%u", MAX (1, g_get_num_processors ()
            / MAX (1, S.config.max_replica_count)));
    env = g_environ_setenv (env, "YOLO_THREADS", n, TRUE);
    g_free (n);
  }
  gint out_fd = -1;
  gboolean ok = g_spawn_async_with_pipes (NULL, S.command, env,
      G_SPAWN_SEARCH_PATH | G_SPAWN_DO_NOT_REAP_CHILD, NULL, NULL, &r->pid, NULL, &out_fd,
      NULL, error);
  g_strfreev (env);
  g_free (idstr);
  if (!ok) {
    g_free (r);
    S.next_id--;
    return FALSE;
  }
  r->started_us = g_get_monotonic_time ();
  r->partial = g_string_new (NULL);
  r->out = g_io_channel_unix_new (out_fd);
  g_io_channel_set_close_on_unref (r->out, TRUE);
  g_io_channel_set_encoding (r->out, NULL, NULL);
  g_io_channel_set_flags (r->out, G_IO_FLAG_NONBLOCK, NULL);
  g_io_add_watch (r->out, G_IO_IN | G_IO_HUP | G_IO_ERR, replica_out_cb, r);
  g_child_watch_add (r->pid, replica_exit_cb, r);
  S.replicas = g_list_append (S.replicas, r);
  emit_replica ("replica-start", r, NULL, 0);
  return TRUE;
}

static gboolean
kill_cb (gpointer data)
{
  Replica *r = data;
  r->kill_source = 0;
  emit_replica ("replica-kill", r, "grace_s", S.config.termination_grace_s);
  kill (r->pid, SIGKILL);
  return G_SOURCE_REMOVE;
}

static void
stop_replica (Replica * r)
{
  if (r->stop_sent_us)
    return;
  r->stop_sent_us = g_get_monotonic_time ();
  emit_replica ("replica-stop", r, "signal", SIGTERM);
  kill (r->pid, SIGTERM);
  r->kill_source = g_timeout_add_seconds (S.config.termination_grace_s, kill_cb, r);
}

static void
reconcile (guint desired)
{
  guint running = running_count ();
  while (running < desired) {
    GError *err = NULL;
    if (!start_replica (&err)) {
      JsonBuilder *b = ef_json_log_begin ("error");
      json_builder_set_member_name (b, "message");
      json_builder_add_string_value (b, err->message);
      ef_json_log_emit (b);
      g_clear_error (&err);
      break;
    }
    running++;
  }
  /* scale in: the newest running replicas go first */
  for (GList * l = g_list_last (S.replicas); l && running > desired; l = l->prev) {
    Replica *r = l->data;
    if (!r->stop_sent_us) {
      stop_replica (r);
      running--;
    }
  }
}

/* ---------- metric ---------- */

static gboolean
read_queue (guint * ready, guint * unacked, gdouble * rate, gboolean * rate_ok,
    GError ** error)
{
  gchar *vhost = g_uri_escape_string (S.config.vhost_name, NULL, FALSE);
  gchar *queue = g_uri_escape_string (S.config.queue_name, NULL, FALSE);
  gchar *url = g_strdup_printf ("%s/api/queues/%s/%s", S.mgmt_url, vhost, queue);
  g_free (vhost);
  g_free (queue);
  SoupMessage *msg = soup_message_new ("GET", url);
  gboolean ok = FALSE;
  if (!msg) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, "bad management URL %s",
        S.mgmt_url);
    g_free (url);
    return FALSE;
  }
  soup_message_headers_replace (soup_message_get_request_headers (msg), "Authorization",
      S.auth_header);
  GBytes *body = soup_session_send_and_read (S.session, msg, NULL, error);
  if (body) {
    guint status = soup_message_get_status (msg);
    if (status == 404 && !S.queue_seen) {
      /* The queue does not exist yet: nothing to do (edge pipelines declare it). */
      *ready = *unacked = 0;
      *rate = 0;
      *rate_ok = TRUE;
      ok = TRUE;
    } else if (status == 404) {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "queue %s (vhost %s) no longer "
          "exists (deleted?): replicas kept, not read as an empty queue", S.config.queue_name,
          S.config.vhost_name);
    } else if (status != 200) {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "management API %s: HTTP %u",
          S.mgmt_url, status);
    } else {
      JsonParser *p = json_parser_new ();
      gsize len;
      const gchar *data = g_bytes_get_data (body, &len);
      if (json_parser_load_from_data (p, data, len, error)) {
        JsonObject *o = json_node_get_object (json_parser_get_root (p));
        /* Right after a queue is declared the counters are absent: they are 0. */
        *ready = o ? json_object_get_int_member_with_default (o, "messages_ready", 0) : 0;
        *unacked = o ? json_object_get_int_member_with_default (o,
            "messages_unacknowledged", 0) : 0;
        /* KEDA's MessageRate: message_stats.publish_details.rate (absent = 0) */
        JsonObject *ms = o && json_object_has_member (o, "message_stats")
            ? json_object_get_object_member (o, "message_stats") : NULL;
        JsonObject *pd = ms && json_object_has_member (ms, "publish_details")
            ? json_object_get_object_member (ms, "publish_details") : NULL;
        /* absent with management.rates_mode = none, or before the first publish: not 0 */
        *rate_ok = pd && json_object_has_member (pd, "rate");
        *rate = *rate_ok ? json_object_get_double_member (pd, "rate") : 0;
        S.queue_seen = TRUE;
        ok = TRUE;
      }
      g_object_unref (p);
    }
    g_bytes_unref (body);
  }
  g_object_unref (msg);
  g_free (url);
  return ok;
}

#ifdef EF_SCALE_HAVE_AMQP
/* The ready count by a passive queue.declare (KEDA's protocol amqp): current, unlike
 * the management API's statistics. The connection stays open between polls. */
static gboolean
read_ready_amqp (guint * ready, GError ** error)
{
  if (!S.conn && !(S.conn = edgefaas_amqp_conn_open (&S.amqp, error)))
    return FALSE;
  amqp_connection_state_t st = edgefaas_amqp_conn_get_state (S.conn);
  amqp_channel_t ch = edgefaas_amqp_conn_get_channel (S.conn);
  amqp_queue_declare_ok_t *ok = amqp_queue_declare (st, ch,
      amqp_cstring_bytes (S.config.queue_name), 1, 0, 0, 0, amqp_empty_table);
  if (ok) {
    *ready = ok->message_count;
    S.queue_seen = TRUE;
    return TRUE;
  }
  amqp_rpc_reply_t r = amqp_get_rpc_reply (st);
  gboolean not_found = r.reply_type == AMQP_RESPONSE_SERVER_EXCEPTION
      && r.reply.id == AMQP_CHANNEL_CLOSE_METHOD
      && ((amqp_channel_close_t *) r.reply.decoded)->reply_code == AMQP_NOT_FOUND;
  if (not_found) {
    /* Answer the broker's channel.close and reopen the same channel number. */
    amqp_channel_close_ok_t close_ok = { 0 };
    amqp_send_method (st, ch, AMQP_CHANNEL_CLOSE_OK_METHOD, &close_ok);
    amqp_channel_open (st, ch);
    if (amqp_get_rpc_reply (st).reply_type != AMQP_RESPONSE_NORMAL)
      g_clear_pointer (&S.conn, edgefaas_amqp_conn_close);
    if (!S.queue_seen) {
      *ready = 0;
      return TRUE;
    }
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "queue %s no longer exists "
        "(passive queue.declare: 404 NOT_FOUND, deleted?): replicas kept, not read as an "
        "empty queue", S.config.queue_name);
    return FALSE;
  }
  edgefaas_amqp_check_reply (r, "passive queue.declare", error);
  /* anything else: drop the connection, reconnect at the next poll */
  g_clear_pointer (&S.conn, edgefaas_amqp_conn_close);
  return FALSE;
}
#endif

static void
add_error (JsonBuilder * b, const gchar * key, const GError * err)
{
  if (err) {
    json_builder_set_member_name (b, key);
    json_builder_add_string_value (b, err->message);
  }
}

static gboolean
poll_cb (gpointer data)
{
  if (S.shutting_down)
    return G_SOURCE_REMOVE;
  guint ready = 0, unacked = 0, amqp_ready = 0;
  gdouble rate = 0;
  gboolean rate_ok = FALSE;
  GError *err = NULL, *amqp_err = NULL;
  gboolean amqp_ok = FALSE;
  /* the activation trigger first: its answer is current, the HTTP one may take longer */
#ifdef EF_SCALE_HAVE_AMQP
  if (S.config.has_amqp_trigger)
    amqp_ok = read_ready_amqp (&amqp_ready, &amqp_err);
#endif
  /* From zero, a ready count above activationValue decides alone: do not wait for the
   * management API's (older) numbers before starting the replica. */
  gboolean activate_now = amqp_ok && running_count () == 0
      && amqp_ready > S.config.amqp_activation_value;
  gboolean ok = activate_now ? FALSE : read_queue (&ready, &unacked, &rate, &rate_ok, &err);
  /* protocol http: ready + unacked, like KEDA reading the management API;
   * amqp/auto (passive declare) or excludeUnacknowledged: ready only. */
  gboolean count_unacked = g_str_equal (S.config.protocol, "http") && !S.config.exclude_unacked;
  gdouble metric = ready + (count_unacked ? unacked : 0);
  guint current = running_count ();
  EfScaleInputs in = {
    .messages_ok = ok, .messages = metric,
    .ready_ok = amqp_ok, .ready = amqp_ready,
    .rate_ok = ok && rate_ok, .rate = rate,
    .replicas_busy = S.replicas_busy,
    .loading = loading_count (),
  };
  S.replicas_busy = FALSE;
  EfScaleDecision d = ef_scale_decide_inputs (&S.config, &S.state, current, &in,
      g_get_monotonic_time ());

  gboolean errors = (!ok && !activate_now) || (S.config.has_amqp_trigger && !amqp_ok);
  if (!S.quiet_polls || d.action != EF_SCALE_ACTION_NONE || errors
      || metric != S.last_logged_messages) {
    JsonBuilder *b = ef_json_log_begin ("poll");
    json_builder_set_member_name (b, "queue");
    json_builder_add_string_value (b, S.config.queue_name);
    if (ok) {
      json_builder_set_member_name (b, "messages");
      json_builder_add_int_value (b, (gint64) metric);
      json_builder_set_member_name (b, "ready");
      json_builder_add_int_value (b, ready);
      json_builder_set_member_name (b, "unacked");
      json_builder_add_int_value (b, unacked);
      if (rate_ok) {
        json_builder_set_member_name (b, "publish_rate");
        json_builder_add_double_value (b, rate);
      }
    }
    add_error (b, "error", err);
    if (amqp_ok) {
      json_builder_set_member_name (b, "amqp_ready");
      json_builder_add_int_value (b, amqp_ready);
    }
    add_error (b, "amqp_error", amqp_err);
    if (!ok && amqp_ok && !activate_now) {
      json_builder_set_member_name (b, "fallback");
      json_builder_add_string_value (b, "management API unavailable: activation by the "
          "amqp ready count, keep-alive by the replicas' reports of work");
    }
    json_builder_set_member_name (b, "active");
    json_builder_add_boolean_value (b, d.active);
    json_builder_set_member_name (b, "replicas");
    json_builder_add_int_value (b, current);
    json_builder_set_member_name (b, "loading");
    json_builder_add_int_value (b, in.loading);
    json_builder_set_member_name (b, "desired");
    json_builder_add_int_value (b, d.desired);
    json_builder_set_member_name (b, "action");
    json_builder_add_string_value (b, ef_scale_action_name (d.action));
    json_builder_set_member_name (b, "reason");
    json_builder_add_string_value (b, d.reason);
    ef_json_log_emit (b);
    S.last_logged_messages = (guint) metric;
  }
  g_clear_error (&amqp_err);
  g_clear_error (&err);
  if (d.action != EF_SCALE_ACTION_NONE) {
    JsonBuilder *b = ef_json_log_begin ("scale");
    json_builder_set_member_name (b, "action");
    json_builder_add_string_value (b, ef_scale_action_name (d.action));
    json_builder_set_member_name (b, "from");
    json_builder_add_int_value (b, current);
    json_builder_set_member_name (b, "to");
    json_builder_add_int_value (b, d.desired);
    json_builder_set_member_name (b, "reason");
    json_builder_add_string_value (b, d.reason);
    ef_json_log_emit (b);
  }
  reconcile (d.desired);
  return G_SOURCE_CONTINUE;
}

/* ---------- shutdown ---------- */

static void
check_quit (void)
{
  if (S.shutting_down && S.replicas == NULL)
    g_main_loop_quit (S.loop);
}

static gboolean
on_signal (gpointer data)
{
  if (S.shutting_down) {
    /* second signal: kill everything now */
    for (GList * l = S.replicas; l; l = l->next)
      kill (((Replica *) l->data)->pid, SIGKILL);
    exit (128 + GPOINTER_TO_INT (data));
  }
  S.shutting_down = TRUE;
  JsonBuilder *b = ef_json_log_begin ("shutdown");
  json_builder_set_member_name (b, "replicas");
  json_builder_add_int_value (b, g_list_length (S.replicas));
  ef_json_log_emit (b);
  for (GList * l = S.replicas; l; l = l->next)
    stop_replica (l->data);
  check_quit ();
  return G_SOURCE_CONTINUE;
}

/* ---------- main ---------- */

static gchar *opt_file, *opt_mgmt, *opt_user, *opt_queue, *opt_amqp_url;
static gint opt_polling = -1, opt_cooldown = -1, opt_min = -1, opt_max = -1,
    opt_window = -1, opt_grace = -1;
static gdouble opt_value = -1, opt_activation = -1;
static gboolean opt_quiet;

static GOptionEntry entries[] = {
  {"scaledobject", 'f', 0, G_OPTION_ARG_FILENAME, &opt_file,
      "ScaledObject YAML (default: k8s/base/inference/scaledobject.yaml if present)", "FILE"},
  {"management-url", 0, 0, G_OPTION_ARG_STRING, &opt_mgmt,
      "RabbitMQ management API (default $EDGEFAAS_MANAGEMENT_URL, else "
        "http://127.0.0.1:$EF_BROKER_MGMT_PORT, else http://127.0.0.1:15672)", "URL"},
  {"amqp-url", 0, 0, G_OPTION_ARG_STRING, &opt_amqp_url,
      "Broker for the amqp trigger's passive queue.declare (default $EDGEFAAS_AMQP_URL, "
        "else amqp://guest@127.0.0.1:$EF_BROKER_PORT/ or :5672/; no password in it: "
        "EDGEFAAS_AMQP_PASSWORD)", "URL"},
  {"user", 0, 0, G_OPTION_ARG_STRING, &opt_user,
      "Management user (default: the user of $EDGEFAAS_AMQP_URL, else guest)", "NAME"},
  {"queue", 0, 0, G_OPTION_ARG_STRING, &opt_queue, "Override queueName", "NAME"},
  {"polling-interval", 0, 0, G_OPTION_ARG_INT, &opt_polling, "Override pollingInterval", "S"},
  {"cooldown-period", 0, 0, G_OPTION_ARG_INT, &opt_cooldown, "Override cooldownPeriod", "S"},
  {"min-replica-count", 0, 0, G_OPTION_ARG_INT, &opt_min, "Override minReplicaCount", "N"},
  {"max-replica-count", 0, 0, G_OPTION_ARG_INT, &opt_max, "Override maxReplicaCount", "N"},
  {"value", 0, 0, G_OPTION_ARG_DOUBLE, &opt_value, "Override the trigger's value", "N"},
  {"activation-value", 0, 0, G_OPTION_ARG_DOUBLE, &opt_activation,
      "Override the trigger's activationValue", "N"},
  {"scale-down-window", 0, 0, G_OPTION_ARG_INT, &opt_window,
      "Override the HPA scaleDown stabilizationWindowSeconds", "S"},
  {"termination-grace", 0, 0, G_OPTION_ARG_INT, &opt_grace,
      "Override terminationGracePeriodSeconds (SIGKILL after SIGTERM)", "S"},
  {"quiet-polls", 'q', 0, G_OPTION_ARG_NONE, &opt_quiet,
      "Log a poll only when the count changes or something happens", NULL},
  {NULL}
};

static gchar *
user_from_amqp_url (void)
{
  const gchar *url = g_getenv ("EDGEFAAS_AMQP_URL");
  if (!url)
    return NULL;
  GUri *u = g_uri_parse (url, G_URI_FLAGS_NONE, NULL);
  if (!u)
    return NULL;
  gchar *user = g_strdup (g_uri_get_user (u));
  g_uri_unref (u);
  return user;
}

int
main (int argc, char **argv)
{
  GError *error = NULL;
  GOptionContext *ctx = g_option_context_new ("-- COMMAND [ARGS...] - local KEDA-like scaler");
  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!g_option_context_parse (ctx, &argc, &argv, &error)) {
    g_printerr ("edgefaas-scale: %s\n", error->message);
    return 2;
  }
  g_option_context_free (ctx);
  gint first = 1;
  if (first < argc && g_str_equal (argv[first], "--"))
    first++;
  if (first >= argc) {
    g_printerr ("edgefaas-scale: no COMMAND to scale (… -- edgefaas-launch "
        "pipelines/inference.pipeline)\n");
    return 2;
  }
  S.command = g_strdupv (argv + first);

  ef_scale_config_init (&S.config);
  if (!opt_file && g_file_test ("k8s/base/inference/scaledobject.yaml", G_FILE_TEST_EXISTS))
    opt_file = g_strdup ("k8s/base/inference/scaledobject.yaml");
  if (opt_file && !ef_scale_config_load_yaml (&S.config, opt_file, &error)) {
    g_printerr ("edgefaas-scale: %s\n", error->message);
    return 2;
  }
  if (opt_queue) {
    g_free (S.config.queue_name);
    S.config.queue_name = g_strdup (opt_queue);
  }
  if (opt_polling >= 0)
    S.config.polling_interval_s = opt_polling;
  if (opt_cooldown >= 0)
    S.config.cooldown_period_s = opt_cooldown;
  if (opt_min >= 0)
    S.config.min_replica_count = opt_min;
  if (opt_max >= 0)
    S.config.max_replica_count = opt_max;
  if (opt_value >= 0)
    S.config.value = opt_value;
  if (opt_activation >= 0)
    S.config.activation_value = opt_activation;
  if (opt_window >= 0)
    S.config.scale_down_window_s = opt_window;
  if (opt_grace >= 0)
    S.config.termination_grace_s = opt_grace;
  if (!ef_scale_config_validate (&S.config, &error)) {
    g_printerr ("edgefaas-scale: %s%s%s\n", opt_file ? opt_file : "", opt_file ? ": " : "",
        error->message);
    return 2;
  }
  S.quiet_polls = opt_quiet;

  if (opt_mgmt)
    S.mgmt_url = g_strdup (opt_mgmt);
  else if (g_getenv ("EDGEFAAS_MANAGEMENT_URL"))
    S.mgmt_url = g_strdup (g_getenv ("EDGEFAAS_MANAGEMENT_URL"));
  else if (g_getenv ("EF_BROKER_MGMT_PORT"))
    S.mgmt_url = g_strdup_printf ("http://127.0.0.1:%s", g_getenv ("EF_BROKER_MGMT_PORT"));
  else
    S.mgmt_url = g_strdup ("http://127.0.0.1:15672");
  while (g_str_has_suffix (S.mgmt_url, "/"))
    S.mgmt_url[strlen (S.mgmt_url) - 1] = '\0';
  if (strchr (S.mgmt_url, '@')) {
    g_printerr ("edgefaas-scale: --management-url must not carry credentials "
        "(user: --user, password: EDGEFAAS_AMQP_PASSWORD)\n");
    return 2;
  }
  gchar *user = opt_user ? g_strdup (opt_user) : user_from_amqp_url ();
  const gchar *password = g_getenv ("EDGEFAAS_AMQP_PASSWORD");
  if (!user)
    user = g_strdup ("guest");
  if (!password) {
    if (!g_str_equal (user, "guest")) {
      g_printerr ("edgefaas-scale: EDGEFAAS_AMQP_PASSWORD is not set (password of user %s "
          "for the management API)\n", user);
      return 2;
    }
    password = "guest";
  }
  gchar *cred = g_strdup_printf ("%s:%s", user, password);
  gchar *b64 = g_base64_encode ((guchar *) cred, strlen (cred));
  S.auth_header = g_strdup_printf ("Basic %s", b64);
  memset (cred, 0, strlen (cred));
  g_free (cred);
  g_free (b64);

#ifdef EF_SCALE_HAVE_AMQP
  if (S.config.has_amqp_trigger) {
    g_autofree gchar *amqp_url = opt_amqp_url ? g_strdup (opt_amqp_url)
        : g_getenv ("EDGEFAAS_AMQP_URL") ? g_strdup (g_getenv ("EDGEFAAS_AMQP_URL"))
        : g_strdup_printf ("amqp://guest@127.0.0.1:%s/", g_getenv ("EF_BROKER_PORT")
        ? g_getenv ("EF_BROKER_PORT") : "5672");
    if (!edgefaas_amqp_params_parse_url (&S.amqp, amqp_url, &error)
        || !edgefaas_amqp_params_load_password (&S.amqp, NULL, NULL, &error)) {
      g_printerr ("edgefaas-scale: amqp trigger: %s\n", error->message);
      return 2;
    }
    g_free (S.amqp.vhost);
    S.amqp.vhost = g_strdup (S.config.vhost_name);
  }
#else
  if (S.config.has_amqp_trigger)
    g_printerr ("edgefaas-scale: built without librabbitmq: the amqp trigger is not read "
        "(activation waits for the management API's statistics)\n");
#endif

  S.session = soup_session_new_with_options ("timeout", 5, "user-agent", "edgefaas-scale",
      NULL);
  S.loop = g_main_loop_new (NULL, FALSE);
  ef_scale_state_init (&S.state, g_get_monotonic_time ());

  JsonBuilder *b = ef_json_log_begin ("scaler-start");
  const struct { const gchar *k; gint64 v; } ints[] = {
    {"pollingInterval", S.config.polling_interval_s},
    {"cooldownPeriod", S.config.cooldown_period_s},
    {"minReplicaCount", S.config.min_replica_count},
    {"maxReplicaCount", S.config.max_replica_count},
    {"scaleDownStabilizationWindowSeconds", S.config.scale_down_window_s},
    {"terminationGracePeriodSeconds", S.config.termination_grace_s},
  };
  for (guint i = 0; i < G_N_ELEMENTS (ints); i++) {
    json_builder_set_member_name (b, ints[i].k);
    json_builder_add_int_value (b, ints[i].v);
  }
  json_builder_set_member_name (b, "value");
  json_builder_add_double_value (b, S.config.value);
  json_builder_set_member_name (b, "activationValue");
  json_builder_add_double_value (b, S.config.activation_value);
  json_builder_set_member_name (b, "queueName");
  json_builder_add_string_value (b, S.config.queue_name);
  json_builder_set_member_name (b, "protocol");
  json_builder_add_string_value (b, S.config.protocol);
  const struct { const gchar *k; gboolean on; gdouble v; } trig[] = {
    {"amqpTriggerValue", S.config.has_amqp_trigger, S.config.amqp_value},
    {"messageRateValue", S.config.has_rate_trigger, S.config.rate_value},
  };
  for (guint i = 0; i < G_N_ELEMENTS (trig); i++) {
    if (!trig[i].on)
      continue;
    json_builder_set_member_name (b, trig[i].k);
    json_builder_add_double_value (b, trig[i].v);
  }
  json_builder_set_member_name (b, "scaleUpStabilizationWindowSeconds");
  json_builder_add_int_value (b, S.config.scale_up.window_s);
  json_builder_set_member_name (b, "scaledobject");
  json_builder_add_string_value (b, opt_file ? opt_file : "(defaults and flags)");
  json_builder_set_member_name (b, "management");
  json_builder_add_string_value (b, S.mgmt_url);
  json_builder_set_member_name (b, "user");
  json_builder_add_string_value (b, user);
  json_builder_set_member_name (b, "command");
  json_builder_begin_array (b);
  for (guint i = 0; S.command[i]; i++)
    json_builder_add_string_value (b, S.command[i]);
  json_builder_end_array (b);
  ef_json_log_emit (b);
  g_free (user);

  g_unix_signal_add (SIGTERM, on_signal, GINT_TO_POINTER (SIGTERM));
  g_unix_signal_add (SIGINT, on_signal, GINT_TO_POINTER (SIGINT));
  poll_cb (NULL);
  /* milliseconds, not g_timeout_add_seconds: that one may fire up to a second late */
  g_timeout_add (S.config.polling_interval_s * 1000, poll_cb, NULL);
  g_main_loop_run (S.loop);

  b = ef_json_log_begin ("scaler-exit");
  ef_json_log_emit (b);
  ef_scale_state_clear (&S.state);
  ef_scale_config_clear (&S.config);
  g_object_unref (S.session);
#ifdef EF_SCALE_HAVE_AMQP
  g_clear_pointer (&S.conn, edgefaas_amqp_conn_close);
  edgefaas_amqp_params_clear (&S.amqp);
#endif
  return 0;
}
