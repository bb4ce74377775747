/* Integration: edgefaas-scale against a real private broker (tests/fixture).
 *   - without the management plugin, the amqp trigger (passive queue.declare) still
 *     activates within about a second of the first message, and the poll says which
 *     fallback the keep-alive uses;
 *   - a queue deleted under the scaler is an error at every poll and the replica is
 *     kept past cooldownPeriod (the old scaler read the 404 as an empty queue and
 *     scaled the replica away), with and without the management API.
 * The replica is a stand-in process that prints the launcher's PLAYING line, so the
 * test measures the scaler, not model loading. */
#include <signal.h>
#include <string.h>

#include "ef-test.h"
#include "ef-broker.h"
#include "ef-launcher-test.h"

#define QUEUE "frames-scale-test"

static const gchar *scaledobject =
    "apiVersion: keda.sh/v1alpha1\n"
    "kind: ScaledObject\n"
    "spec:\n"
    "  scaleTargetRef: {name: edgefaas-inference}\n"
    "  pollingInterval: 1\n"
    "  cooldownPeriod: 2\n"
    "  minReplicaCount: 0\n"
    "  maxReplicaCount: 2\n"
    "  triggers:\n"
    "    - type: rabbitmq\n"
    "      metadata: {protocol: http, vhostName: /, queueName: " QUEUE ", mode: QueueLength,"
    " value: \"50\", activationValue: \"0\"}\n"
    "    - type: rabbitmq\n"
    "      metadata: {protocol: amqp, vhostName: /, queueName: " QUEUE ", mode: QueueLength,"
    " value: \"50\", activationValue: \"0\"}\n";

typedef struct {
  EfBroker *broker;
  gchar *dir;
  EfProc *scaler;
} Fix;

static gboolean
setup (Fix * f, gboolean management)
{
  GError *err = NULL;
  EfBrokerOptions o = { .management = management };
  f->broker = ef_broker_start (&o, &err);
  if (!f->broker) {
    g_test_message ("broker: %s", err->message);
    g_test_fail ();
    g_error_free (err);
    return FALSE;
  }
  ef_broker_export_env (f->broker);
  g_setenv ("EDGEFAAS_AMQP_URL", ef_broker_url (f->broker), TRUE);
  if (!management)
    g_setenv ("EF_BROKER_MGMT_PORT", "1", TRUE);    /* nothing listens there */
  g_assert_true (ef_broker_declare_queue (f->broker, QUEUE, &err));
  g_assert_no_error (err);
  f->dir = ef_test_mkdtemp ("ef-scale-broker");
  g_autofree gchar *so = g_build_filename (f->dir, "so.yaml", NULL);
  g_assert_true (g_file_set_contents (so, scaledobject, -1, NULL));
  g_autofree gchar *exe = ef_built_program ("pipelines/edgefaas-scale");
  const gchar *argv[] = { exe, "--scaledobject", so, "--", "sh", "-c",
    "echo '{\"type\":\"state\",\"from\":\"PAUSED\",\"to\":\"PLAYING\"}'; exec sleep 300",
    NULL
  };
  f->scaler = ef_proc_start (argv, NULL);
  g_assert_nonnull (ef_proc_wait_line (f->scaler, "poll", NULL, NULL, 0, 20, NULL));
  return TRUE;
}

static void
teardown (Fix * f)
{
  if (f->scaler) {
    ef_proc_signal (f->scaler, SIGTERM);
    ef_proc_wait_exit (f->scaler, 10);
    ef_proc_free (f->scaler);
  }
  if (f->broker) {
    ef_broker_stop (f->broker, NULL);
    ef_broker_free (f->broker);
  }
  if (f->dir) {
    ef_test_rm_rf (f->dir);
    g_free (f->dir);
  }
}

static void
publish_one (Fix * f)
{
  GError *err = NULL;
  g_assert_true (ef_broker_publish (f->broker, QUEUE, "x", 1, FALSE, &err));
  g_assert_no_error (err);
}

/* Delete the queue and check the scaler keeps its replica past cooldownPeriod. */
static void
check_deleted_queue_keeps_replica (Fix * f, gboolean management)
{
  GError *err = NULL;
  g_autofree gchar *out = ef_broker_ctl (f->broker, &err, "delete_queue", QUEUE, NULL);
  g_assert_no_error (err);
  guint from = f->scaler->lines->len;
  JsonObject *p = ef_proc_wait_line (f->scaler, "poll", "action", "none", from, 10, NULL);
  g_assert_nonnull (p);
  /* wait for a poll that saw the deletion */
  gboolean saw = FALSE;
  gint64 until = g_get_monotonic_time () + 10 * G_USEC_PER_SEC;
  guint idx = from;
  while (!saw && g_get_monotonic_time () < until) {
    JsonObject *l = ef_proc_wait_line (f->scaler, "poll", NULL, NULL, idx, 2, &idx);
    if (!l)
      continue;
    idx++;
    const gchar *ae = json_object_get_string_member_with_default (l, "amqp_error", "");
    const gchar *he = json_object_get_string_member_with_default (l, "error", "");
    if (strstr (ae, "no longer exists") && (!management || strstr (he, "no longer exists"))) {
      saw = TRUE;
      g_test_message ("after delete: amqp_error=%s error=%s replicas=%" G_GINT64_FORMAT, ae,
          he, json_object_get_int_member (l, "replicas"));
      g_assert_cmpint (json_object_get_int_member (l, "replicas"), ==, 1);
    }
  }
  g_assert_true (saw);
  /* cooldownPeriod is 2 s: 5 s later the replica must still be there */
  g_usleep (5 * G_USEC_PER_SEC);
  ef_proc_update (f->scaler);
  for (guint i = from; i < f->scaler->lines->len; i++) {
    JsonObject *l = g_ptr_array_index (f->scaler->lines, i);
    const gchar *type = json_object_get_string_member_with_default (l, "type", "");
    if (g_str_equal (type, "replica-stop") || g_str_equal (type, "replica-exit")) {
      g_test_message ("replica stopped after the queue was deleted");
      g_test_fail ();
    }
  }
}

static void
test_no_management (void)
{
  Fix f = { 0 };
  if (!setup (&f, FALSE)) {
    teardown (&f);
    return;
  }
  /* idle polls: management unreachable, amqp ready 0, nothing started */
  JsonObject *l = ef_proc_wait_line (f.scaler, "poll", NULL, NULL, 0, 5, NULL);
  g_assert_nonnull (l);
  g_assert_true (json_object_has_member (l, "error"));
  if (!json_object_has_member (l, "amqp_ready")) {
    g_autofree gchar *o = ef_proc_stdout (f.scaler);
    g_test_message ("no amqp_ready in the first poll; scaler output:\n%s", o);
    g_test_fail ();
    teardown (&f);
    return;
  }
  g_assert_cmpint (json_object_get_int_member (l, "amqp_ready"), ==, 0);
  g_assert_cmpstr (json_object_get_string_member (l, "action"), ==, "none");
  g_usleep (1500 * 1000);
  guint from = (ef_proc_update (f.scaler), f.scaler->lines->len);
  gint64 t0 = g_get_monotonic_time ();
  publish_one (&f);
  JsonObject *start = ef_proc_wait_line (f.scaler, "replica-start", NULL, NULL, from, 10,
      NULL);
  gdouble activation_s = (g_get_monotonic_time () - t0) / 1e6;
  g_assert_nonnull (start);
  g_test_message ("publish -> replica-start without the management API: %.2f s",
      activation_s);
  /* pollingInterval 1 s: within about a second (2.5 s allows a loaded machine) */
  g_assert_cmpfloat (activation_s, <, 2.5);
  JsonObject *scale = ef_proc_wait_line (f.scaler, "scale", NULL, NULL, from, 1, NULL);
  g_assert_nonnull (scale);
  g_assert_nonnull (strstr (json_object_get_string_member (scale, "reason"), "amqp"));
  g_assert_nonnull (ef_proc_wait_line (f.scaler, "replica-ready", NULL, NULL, from, 5, NULL));
  JsonObject *fb = NULL;
  guint i = from;
  while (!fb && (l = ef_proc_wait_line (f.scaler, "poll", NULL, NULL, i, 3, &i))) {
    if (json_object_has_member (l, "fallback"))
      fb = l;
    i++;
  }
  g_assert_nonnull (fb);
  g_test_message ("fallback: %s", json_object_get_string_member (fb, "fallback"));
  /* the message is still ready (the stand-in does not consume): stays active */
  check_deleted_queue_keeps_replica (&f, FALSE);
  teardown (&f);
}

static void
test_deleted_queue_with_management (void)
{
  Fix f = { 0 };
  if (!setup (&f, TRUE)) {
    teardown (&f);
    return;
  }
  publish_one (&f);
  g_assert_nonnull (ef_proc_wait_line (f.scaler, "replica-ready", NULL, NULL, 0, 10, NULL));
  check_deleted_queue_keeps_replica (&f, TRUE);
  teardown (&f);
}

int
main (int argc, char **argv)
{
  ef_test_init (&argc, &argv);
  g_test_add_func ("/scale-broker/no-management-activates-by-amqp", test_no_management);
  g_test_add_func ("/scale-broker/deleted-queue-keeps-replicas", test_deleted_queue_with_management);
  return g_test_run ();
}
