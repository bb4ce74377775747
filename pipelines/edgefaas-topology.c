/* edgefaas-topology: declare the broker topology the pipelines rely on, for single hosts
 * (the demo, benchmarks, tests). In Kubernetes the same topology comes from
 * k8s/overlays/<env>/rabbitmq (definitions / Topology Operator).
 *
 *   edgefaas-topology [--url URL] [--exchange edgefaas] [QUEUE=BINDING_KEY ...]
 *   edgefaas-topology [--url URL] --regions a,b --central central [--spill-after MS]
 *
 * Default bindings: frames=frames.#, detections=detections.#, alerts=alerts.# (queue
 * names from EDGEFAAS_FRAME_QUEUE, EDGEFAAS_DETECTION_QUEUE, EDGEFAAS_ALERT_QUEUE), on a
 * durable topic exchange; every queue gets its dead-letter exchange <queue>.dlx and
 * queue <queue>.dead (edgefaas_amqp_declare_topology, the same call the elements use
 * with declare=true, so the arguments always match).
 *
 * Regions (--regions / EDGEFAAS_REGIONS, --central / EDGEFAAS_CENTRAL_REGION,
 * --spill-after / EDGEFAAS_SPILL_AFTER_MS, default 10000): one frame queue per region,
 * frames-<region>, bound with frames.<region>.# (the edge publishes frames.<region>.<camera>),
 * each with <queue>.dlx / <queue>.dead for poison messages, which amqpsrc dead-letters
 * explicitly (a copy with x-edgefaas-reason headers published to <queue>.dlx). A region
 * queue's own dead-lettering is the spill instead: x-message-ttl = the bound and
 * x-dead-letter-exchange = "edgefaas.spill", a fanout exchange bound to the central
 * region's queue: a frame that waited longer than the bound (the region had no capacity)
 * is dead-lettered there by the broker (x-first-death-reason "expired") and inferred as a
 * normal frame. The broker cannot route dead letters by reason (a headers exchange ignores
 * x- headers), so the rare others also arrive there: a message rejected without headers
 * (amqpsrc's fallback when <queue>.dlx is missing) or over a quorum queue's delivery limit
 * ("rejected", "delivery_limit"); the central consumer tries them once more and, if they
 * are poison there too, dead-letters them with reasons to <central>.dead, where x-death
 * still names the region's queue and the first reason.
 * The central queue is declared exactly as the elements declare a queue, so its consumer
 * may use declare=true; region queues carry extra arguments, so their elements must run
 * with declare=false (EDGEFAAS_DECLARE=false): this program (and the Kubernetes
 * definitions) are the one place their arguments are written.
 * Quorum queues (queue_type=quorum in the URL) also get x-dead-letter-strategy
 * at-least-once and x-overflow reject-publish, so a spill is at-least-once even in a
 * cluster; classic queues dead-letter without internal confirms (safe on one node).
 * URL from --url or EDGEFAAS_AMQP_URL; password from EDGEFAAS_AMQP_PASSWORD.
 */
#include <stdlib.h>
#include <string.h>

#include "edgefaas-amqp.h"

#define SPILL_EXCHANGE "edgefaas.spill"

static gchar *opt_url, *opt_exchange, *opt_regions, *opt_central;
static gint opt_spill_after = -1;
static GOptionEntry entries[] = {
  {"regions", 0, 0, G_OPTION_ARG_STRING, &opt_regions,
      "Comma-separated regions, one frame queue frames-<region> each (default $EDGEFAAS_REGIONS)",
      "A,B"},
  {"central", 0, 0, G_OPTION_ARG_STRING, &opt_central,
      "Region whose queue takes the spill (default $EDGEFAAS_CENTRAL_REGION)", "NAME"},
  {"spill-after", 0, 0, G_OPTION_ARG_INT, &opt_spill_after,
      "Milliseconds a frame may wait in its region's queue before it spills to the central "
      "region (default $EDGEFAAS_SPILL_AFTER_MS, else 10000)", "MS"},
  {"url", 0, 0, G_OPTION_ARG_STRING, &opt_url, "Broker URL (default $EDGEFAAS_AMQP_URL)",
      "URL"},
  {"exchange", 0, 0, G_OPTION_ARG_STRING, &opt_exchange,
      "Topic exchange (default $EDGEFAAS_EXCHANGE, else edgefaas)", "NAME"},
  {NULL}
};

static const gchar *
env_or (const gchar * name, const gchar * dflt)
{
  const gchar *v = g_getenv (name);
  return v && *v ? v : dflt;
}

/* A region name is one routing-key word and part of Kubernetes names: a DNS label. */
static gboolean
region_name_valid (const gchar * r)
{
  gsize n = strlen (r);
  if (n == 0 || n > 40 || r[0] == '-' || r[n - 1] == '-')
    return FALSE;
  for (const gchar * c = r; *c; c++)
    if (!g_ascii_islower (*c) && !g_ascii_isdigit (*c) && *c != '-')
      return FALSE;
  return TRUE;
}

static gboolean
rpc_ok (EdgefaasAmqpConn * conn, const gchar * what, GError ** error)
{
  return edgefaas_amqp_check_reply (amqp_get_rpc_reply (edgefaas_amqp_conn_get_state (conn)),
      what, error);
}

static amqp_table_entry_t
entry_str (const gchar * key, const gchar * value)
{
  amqp_table_entry_t e;
  e.key = amqp_cstring_bytes (key);
  e.value.kind = AMQP_FIELD_KIND_UTF8;
  e.value.value.bytes = amqp_cstring_bytes (value);
  return e;
}

static amqp_table_entry_t
entry_int (const gchar * key, gint64 value)
{
  amqp_table_entry_t e;
  e.key = amqp_cstring_bytes (key);
  e.value.kind = AMQP_FIELD_KIND_I64;
  e.value.value.i64 = value;
  return e;
}

/* The spill path: fanout exchange SPILL_EXCHANGE -> the central queue. */
static gboolean
declare_spill (EdgefaasAmqpConn * conn, const gchar * central_queue, GError ** error)
{
  amqp_connection_state_t st = edgefaas_amqp_conn_get_state (conn);
  amqp_channel_t ch = edgefaas_amqp_conn_get_channel (conn);

  amqp_exchange_declare (st, ch, amqp_cstring_bytes (SPILL_EXCHANGE),
      amqp_cstring_bytes ("fanout"), 0, 1, 0, 0, amqp_empty_table);
  if (!rpc_ok (conn, "exchange.declare '" SPILL_EXCHANGE "' (fanout)", error))
    return FALSE;
  amqp_queue_bind (st, ch, amqp_cstring_bytes (central_queue),
      amqp_cstring_bytes (SPILL_EXCHANGE), amqp_cstring_bytes (""), amqp_empty_table);
  g_autofree gchar *what = g_strdup_printf ("queue.bind '%s' to '" SPILL_EXCHANGE "'",
      central_queue);
  return rpc_ok (conn, what, error);
}

/* A non-central region's frame queue: poison topology (<queue>.dlx, <queue>.dead) as
 * the elements declare it, the queue itself with the spill arguments. */
static gboolean
declare_region_queue (EdgefaasAmqpConn * conn, const gchar * exchange, const gchar * queue,
    const gchar * key, gint spill_after_ms, const gchar * queue_type, GError ** error)
{
  amqp_connection_state_t st = edgefaas_amqp_conn_get_state (conn);
  amqp_channel_t ch = edgefaas_amqp_conn_get_channel (conn);
  amqp_table_entry_t e[5];
  amqp_table_t t = { 0, e };
  g_autofree gchar *dlx = g_strdup_printf ("%s.dlx", queue);
  g_autofree gchar *dead = g_strdup_printf ("%s.dead", queue);
  g_autofree gchar *what = NULL;
  gboolean quorum = g_strcmp0 (queue_type, "quorum") == 0;

  /* The exchange, <queue>.dlx and <queue>.dead exactly as declare=true makes them. */
  amqp_exchange_declare (st, ch, amqp_cstring_bytes (exchange), amqp_cstring_bytes ("topic"),
      0, 1, 0, 0, amqp_empty_table);
  if (!rpc_ok (conn, "exchange.declare", error))
    return FALSE;
  amqp_exchange_declare (st, ch, amqp_cstring_bytes (dlx), amqp_cstring_bytes ("fanout"),
      0, 1, 0, 0, amqp_empty_table);
  what = g_strdup_printf ("exchange.declare '%s'", dlx);
  if (!rpc_ok (conn, what, error))
    return FALSE;
  t.num_entries = 0;
  if (quorum)
    e[t.num_entries++] = entry_str ("x-queue-type", "quorum");
  amqp_queue_declare (st, ch, amqp_cstring_bytes (dead), 0, 1, 0, 0, t);
  g_free (what);
  what = g_strdup_printf ("queue.declare '%s'", dead);
  if (!rpc_ok (conn, what, error))
    return FALSE;
  amqp_queue_bind (st, ch, amqp_cstring_bytes (dead), amqp_cstring_bytes (dlx),
      amqp_cstring_bytes (""), amqp_empty_table);
  g_free (what);
  what = g_strdup_printf ("queue.bind '%s'", dead);
  if (!rpc_ok (conn, what, error))
    return FALSE;

  t.num_entries = 0;
  e[t.num_entries++] = entry_str ("x-dead-letter-exchange", SPILL_EXCHANGE);
  e[t.num_entries++] = entry_int ("x-message-ttl", spill_after_ms);
  if (quorum) {
    e[t.num_entries++] = entry_str ("x-queue-type", "quorum");
    e[t.num_entries++] = entry_str ("x-dead-letter-strategy", "at-least-once");
    e[t.num_entries++] = entry_str ("x-overflow", "reject-publish");
  }
  amqp_queue_declare (st, ch, amqp_cstring_bytes (queue), 0, 1, 0, 0, t);
  g_free (what);
  what = g_strdup_printf ("queue.declare '%s' (spill after %d ms; if it exists with other "
      "arguments, delete it or declare it the same way)", queue, spill_after_ms);
  if (!rpc_ok (conn, what, error))
    return FALSE;
  amqp_queue_bind (st, ch, amqp_cstring_bytes (queue), amqp_cstring_bytes (exchange),
      amqp_cstring_bytes (key), amqp_empty_table);
  g_free (what);
  what = g_strdup_printf ("queue.bind '%s' with key '%s'", queue, key);
  return rpc_ok (conn, what, error);
}

/* Region mode: frames-<central> as the elements declare it, every other region's queue
 * with the spill, then the spill exchange; detections and alerts as usual. */
static int
declare_regions (EdgefaasAmqpConn * conn, const gchar * exchange, gchar ** regions,
    const gchar * central, gint spill_after_ms, const gchar * queue_type)
{
  GError *error = NULL;
  g_autofree gchar *central_queue = g_strdup_printf ("frames-%s", central);
  g_autofree gchar *central_key = g_strdup_printf ("frames.%s.#", central);

  if (!edgefaas_amqp_declare_topology (conn, exchange, "topic", central_queue, central_key,
          queue_type, &error))
    goto fail;
  g_print ("declared region %s (central): queue %s, binding key %s\n", central, central_queue,
      central_key);
  if (!declare_spill (conn, central_queue, &error))
    goto fail;
  for (gchar ** r = regions; *r; r++) {
    if (g_str_equal (*r, central))
      continue;
    g_autofree gchar *q = g_strdup_printf ("frames-%s", *r);
    g_autofree gchar *k = g_strdup_printf ("frames.%s.#", *r);
    if (!declare_region_queue (conn, exchange, q, k, spill_after_ms, queue_type, &error))
      goto fail;
    g_print ("declared region %s: queue %s, binding key %s, spills to %s after %d ms\n", *r,
        q, k, central_queue, spill_after_ms);
  }
  const gchar *rest[][2] = {
    {env_or ("EDGEFAAS_DETECTION_QUEUE", "detections"), "detections.#"},
    {env_or ("EDGEFAAS_ALERT_QUEUE", "alerts"), "alerts.#"},
  };
  for (guint i = 0; i < G_N_ELEMENTS (rest); i++) {
    if (!edgefaas_amqp_declare_topology (conn, exchange, "topic", rest[i][0], rest[i][1],
            queue_type, &error))
      goto fail;
    g_print ("declared exchange %s (topic) -> queue %s, binding key %s\n", exchange,
        rest[i][0], rest[i][1]);
  }
  return 0;
fail:
  g_printerr ("edgefaas-topology: %s\n", error->message);
  g_clear_error (&error);
  return 1;
}

int
main (int argc, char **argv)
{
  GError *error = NULL;
  GOptionContext *ctx = g_option_context_new ("[QUEUE=BINDING_KEY ...] - declare queues");
  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!g_option_context_parse (ctx, &argc, &argv, &error)) {
    g_printerr ("edgefaas-topology: %s\n", error->message);
    return 2;
  }
  const gchar *url = opt_url ? opt_url : g_getenv ("EDGEFAAS_AMQP_URL");
  const gchar *exchange = opt_exchange ? opt_exchange : env_or ("EDGEFAAS_EXCHANGE", "edgefaas");
  if (!url) {
    g_printerr ("edgefaas-topology: no broker URL (--url or EDGEFAAS_AMQP_URL)\n");
    return 2;
  }
  const gchar *regions_s = opt_regions ? opt_regions : g_getenv ("EDGEFAAS_REGIONS");
  const gchar *central = opt_central ? opt_central : g_getenv ("EDGEFAAS_CENTRAL_REGION");
  gint spill_after = opt_spill_after >= 0 ? opt_spill_after
      : atoi (env_or ("EDGEFAAS_SPILL_AFTER_MS", "10000"));
  g_auto (GStrv) regions = NULL;
  if (regions_s && *regions_s) {
    regions = g_strsplit (regions_s, ",", -1);
    gboolean central_listed = FALSE;
    for (gchar ** r = regions; *r; r++) {
      g_strstrip (*r);
      if (!region_name_valid (*r)) {
        g_printerr ("edgefaas-topology: region '%s' is not a DNS label (a-z, 0-9, '-')\n", *r);
        return 2;
      }
      central_listed |= g_strcmp0 (*r, central) == 0;
    }
    if (!central || !central_listed) {
      g_printerr ("edgefaas-topology: --central (EDGEFAAS_CENTRAL_REGION) must name one of "
          "the regions '%s'\n", regions_s);
      return 2;
    }
    if (spill_after <= 0) {
      g_printerr ("edgefaas-topology: --spill-after must be > 0 ms\n");
      return 2;
    }
    if (argc > 1) {
      g_printerr ("edgefaas-topology: QUEUE=BINDING_KEY arguments and --regions exclude each "
          "other\n");
      return 2;
    }
  }
  if (!regions && opt_central) {
    g_printerr ("edgefaas-topology: --central without --regions (EDGEFAAS_REGIONS)\n");
    return 2;
  }
  GPtrArray *bindings = g_ptr_array_new_with_free_func (g_free);
  if (argc > 1) {
    for (int i = 1; i < argc; i++) {
      if (!strchr (argv[i], '=') || argv[i][0] == '=') {
        g_printerr ("edgefaas-topology: expected QUEUE=BINDING_KEY, got '%s'\n", argv[i]);
        return 2;
      }
      g_ptr_array_add (bindings, g_strdup (argv[i]));
    }
  } else {
    g_ptr_array_add (bindings, g_strdup_printf ("%s=frames.#",
            env_or ("EDGEFAAS_FRAME_QUEUE", "frames")));
    g_ptr_array_add (bindings, g_strdup_printf ("%s=detections.#",
            env_or ("EDGEFAAS_DETECTION_QUEUE", "detections")));
    g_ptr_array_add (bindings, g_strdup_printf ("%s=alerts.#",
            env_or ("EDGEFAAS_ALERT_QUEUE", "alerts")));
  }

  EdgefaasAmqpParams params = { 0 };
  if (!edgefaas_amqp_params_parse_url (&params, url, &error)
      || !edgefaas_amqp_params_load_password (&params, NULL, NULL, &error)) {
    g_printerr ("edgefaas-topology: %s\n", error->message);
    return 2;
  }
  gchar *redacted = edgefaas_amqp_params_redacted_url (&params);
  EdgefaasAmqpConn *conn = edgefaas_amqp_conn_open (&params, &error);
  if (!conn) {
    g_printerr ("edgefaas-topology: %s: %s\n", redacted, error->message);
    return 1;
  }
  int rc = 0;
  if (regions) {
    g_ptr_array_set_size (bindings, 0);
    rc = declare_regions (conn, exchange, regions, central, spill_after, params.queue_type);
  }
  for (guint i = 0; i < bindings->len; i++) {
    gchar **kv = g_strsplit (g_ptr_array_index (bindings, i), "=", 2);
    if (!edgefaas_amqp_declare_topology (conn, exchange, "topic", kv[0], kv[1], params.queue_type, &error)) {
      g_printerr ("edgefaas-topology: queue %s (key %s): %s\n", kv[0], kv[1], error->message);
      g_clear_error (&error);
      rc = 1;
    } else {
      g_print ("declared exchange %s (topic) -> queue %s, binding key %s\n", exchange, kv[0],
          kv[1]);
    }
    g_strfreev (kv);
  }
  edgefaas_amqp_conn_close (conn);
  edgefaas_amqp_params_clear (&params);
  g_free (redacted);
  g_ptr_array_unref (bindings);
  return rc;
}
