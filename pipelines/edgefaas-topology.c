/* edgefaas-topology: declare the broker topology the pipelines rely on, for single hosts
 * (the demo, benchmarks, tests). In Kubernetes the same topology comes from
 * k8s/overlays/<env>/rabbitmq (definitions / Topology Operator).
 *
 *   edgefaas-topology [--url URL] [--exchange edgefaas] [QUEUE=BINDING_KEY ...]
 *
 * Default bindings: frames=frames.#, detections=detections.#, alerts=alerts.# (queue
 * names from EDGEFAAS_FRAME_QUEUE, EDGEFAAS_DETECTION_QUEUE, EDGEFAAS_ALERT_QUEUE), on a
 * durable topic exchange; every queue gets its dead-letter exchange <queue>.dlx and
 * queue <queue>.dead (edgefaas_amqp_declare_topology, the same call the elements use
 * with declare=true, so the arguments always match).
 * URL from --url or EDGEFAAS_AMQP_URL; password from EDGEFAAS_AMQP_PASSWORD.
 */
#include <string.h>

#include "edgefaas-amqp.h"

static gchar *opt_url, *opt_exchange;
static GOptionEntry entries[] = {
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
