/* Unit tests: KEDA/HPA semantics of edgefaas-scale (ef-scale-policy.c) and reading
 * ScaledObject files, including the production k8s/base/inference/scaledobject.yaml. */
#include <string.h>

#include "ef-test.h"
#include "ef-scale-policy.h"

#define S(x) ((gint64) ((x) * G_USEC_PER_SEC))

static void
cfg (EfScaleConfig * c)
{
  ef_scale_config_init (c);
  c->queue_name = g_strdup ("frames");
  c->polling_interval_s = 1;
  c->cooldown_period_s = 10;
  c->max_replica_count = 4;
  c->value = 4;
  c->activation_value = 0;
  c->scale_down_window_s = 5;
}

static void
test_activation_from_zero (void)
{
  EfScaleConfig c;
  EfScaleState s;
  cfg (&c);
  ef_scale_state_init (&s, 0);
  EfScaleDecision d = ef_scale_decide (&c, &s, 0, TRUE, 0, S (1));
  g_assert_cmpint (d.action, ==, EF_SCALE_ACTION_NONE);
  g_assert_cmpuint (d.desired, ==, 0);
  g_assert_false (d.active);
  /* one message > activationValue 0: KEDA activates to max(min,1) = 1, even if the
   * HPA would want more; the HPA takes over at the next poll */
  d = ef_scale_decide (&c, &s, 0, TRUE, 13, S (2));
  g_assert_cmpint (d.action, ==, EF_SCALE_ACTION_ACTIVATE);
  g_assert_cmpuint (d.desired, ==, 1);
  d = ef_scale_decide (&c, &s, 1, TRUE, 13, S (3));
  g_assert_cmpint (d.action, ==, EF_SCALE_ACTION_SCALE_UP);
  g_assert_cmpuint (d.desired, ==, 4);     /* ceil(13/4) = 4 = maxReplicaCount */
  d = ef_scale_decide (&c, &s, 4, TRUE, 100, S (4));
  g_assert_cmpuint (d.desired, ==, 4);     /* clamped */
  ef_scale_state_clear (&s);
  ef_scale_config_clear (&c);
}

static void
test_activation_value_threshold (void)
{
  EfScaleConfig c;
  EfScaleState s;
  cfg (&c);
  c.activation_value = 5;
  ef_scale_state_init (&s, 0);
  EfScaleDecision d = ef_scale_decide (&c, &s, 0, TRUE, 5, S (1));
  g_assert_false (d.active);               /* not strictly greater */
  g_assert_cmpuint (d.desired, ==, 0);
  d = ef_scale_decide (&c, &s, 0, TRUE, 6, S (2));
  g_assert_true (d.active);
  g_assert_cmpuint (d.desired, ==, 1);
  ef_scale_state_clear (&s);
  ef_scale_config_clear (&c);
}

static void
test_tolerance_and_scale_down_window (void)
{
  EfScaleConfig c;
  EfScaleState s;
  cfg (&c);
  ef_scale_state_init (&s, 0);
  /* 3 replicas, 12.5 messages: ratio 12.5/12 within 10 % -> keep 3 */
  EfScaleDecision d = ef_scale_decide (&c, &s, 3, TRUE, 12.5, S (1));
  g_assert_cmpuint (d.desired, ==, 3);
  g_assert_cmpint (d.action, ==, EF_SCALE_ACTION_NONE);
  /* demand falls to 4 (1 replica): stabilization keeps 3 for the 5 s window */
  d = ef_scale_decide (&c, &s, 3, TRUE, 4, S (2));
  g_assert_cmpuint (d.desired, ==, 3);
  d = ef_scale_decide (&c, &s, 3, TRUE, 4, S (5.9));
  g_assert_cmpuint (d.desired, ==, 3);
  d = ef_scale_decide (&c, &s, 3, TRUE, 4, S (6.5));
  g_assert_cmpint (d.action, ==, EF_SCALE_ACTION_SCALE_DOWN);
  g_assert_cmpuint (d.desired, ==, 1);
  ef_scale_state_clear (&s);
  ef_scale_config_clear (&c);
}

static void
test_cooldown_to_zero (void)
{
  EfScaleConfig c;
  EfScaleState s;
  cfg (&c);
  ef_scale_state_init (&s, 0);
  EfScaleDecision d = ef_scale_decide (&c, &s, 0, TRUE, 3, S (1));
  g_assert_cmpuint (d.desired, ==, 1);
  /* queue empty from t=2: stays at 1 (the HPA minimum) until cooldown from the last
   * active poll (t=1) has passed */
  for (gdouble t = 2; t < 11; t += 1) {
    d = ef_scale_decide (&c, &s, 1, TRUE, 0, S (t));
    g_assert_false (d.active);
    g_assert_cmpuint (d.desired, ==, 1);
  }
  d = ef_scale_decide (&c, &s, 1, TRUE, 0, S (11));
  g_assert_cmpint (d.action, ==, EF_SCALE_ACTION_DEACTIVATE);
  g_assert_cmpuint (d.desired, ==, 0);
  g_assert_nonnull (strstr (d.reason, "cooldownPeriod"));
  /* activity in the middle restarts the cooldown */
  d = ef_scale_decide (&c, &s, 0, TRUE, 1, S (20));
  g_assert_cmpuint (d.desired, ==, 1);
  d = ef_scale_decide (&c, &s, 1, TRUE, 0, S (25));
  g_assert_cmpuint (d.desired, ==, 1);
  d = ef_scale_decide (&c, &s, 1, TRUE, 2, S (29));
  d = ef_scale_decide (&c, &s, 1, TRUE, 0, S (35));
  g_assert_cmpuint (d.desired, ==, 1);     /* 6 s after the last activity */
  d = ef_scale_decide (&c, &s, 1, TRUE, 0, S (39));
  g_assert_cmpuint (d.desired, ==, 0);
  ef_scale_state_clear (&s);
  ef_scale_config_clear (&c);
}

static void
test_min_replicas_and_metric_failure (void)
{
  EfScaleConfig c;
  EfScaleState s;
  cfg (&c);
  c.min_replica_count = 2;
  ef_scale_state_init (&s, 0);
  EfScaleDecision d = ef_scale_decide (&c, &s, 0, TRUE, 0, S (1));
  g_assert_cmpuint (d.desired, ==, 2);
  d = ef_scale_decide (&c, &s, 2, TRUE, 0, S (100));
  g_assert_cmpuint (d.desired, ==, 2);     /* never below minReplicaCount */
  d = ef_scale_decide (&c, &s, 2, FALSE, 0, S (101));
  g_assert_cmpint (d.action, ==, EF_SCALE_ACTION_NONE);
  g_assert_cmpuint (d.desired, ==, 2);
  ef_scale_state_clear (&s);
  ef_scale_config_clear (&c);
}

static void
test_yaml_test_copy (void)
{
  g_autofree gchar *path = g_build_filename (ef_test_source_root (), "tests", "launcher",
      "scaledobject-test.yaml", NULL);
  EfScaleConfig c;
  ef_scale_config_init (&c);
  g_autoptr (GError) err = NULL;
  g_assert_true (ef_scale_config_load_yaml (&c, path, &err));
  g_assert_no_error (err);
  g_assert_cmpuint (c.polling_interval_s, ==, 1);
  g_assert_cmpuint (c.cooldown_period_s, ==, 4);
  g_assert_cmpuint (c.max_replica_count, ==, 3);
  g_assert_cmpuint (c.scale_down_window_s, ==, 2);
  g_assert_cmpuint (c.termination_grace_s, ==, 7);   /* from the Deployment document */
  g_assert_cmpfloat (c.value, ==, 4);
  g_assert_cmpstr (c.queue_name, ==, "frames");
  g_assert_cmpstr (c.protocol, ==, "http");
  g_assert_true (ef_scale_config_validate (&c, &err));
  ef_scale_config_clear (&c);
}

static void
test_yaml_errors_name_the_field (void)
{
  g_autofree gchar *dir = ef_test_mkdtemp ("ef-scale-yaml");
  struct { const gchar *yaml, *expect; } cases[] = {
    {"kind: ScaledObject\nspec:\n  pollingIntervall: 5\n  triggers: []\n", "pollingIntervall"},
    {"kind: ScaledObject\nspec:\n  pollingInterval: five\n  triggers: []\n", "pollingInterval"},
    {"kind: ScaledObject\nspec:\n  triggers:\n  - type: rabbitmq\n    metadata:\n"
          "      queueName: q\n      valeu: \"3\"\n", "valeu"},
    {"kind: Deployment\nspec: {}\n", "no document of kind ScaledObject"},
    {"kind: ScaledObject\nspec:\n  idleReplicaCount: 1\n  triggers: []\n", "idleReplicaCount"},
  };
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
    g_autofree gchar *p = g_build_filename (dir, "so.yaml", NULL);
    g_assert_true (g_file_set_contents (p, cases[i].yaml, -1, NULL));
    EfScaleConfig c;
    ef_scale_config_init (&c);
    GError *err = NULL;
    g_assert_false (ef_scale_config_load_yaml (&c, p, &err));
    g_assert_nonnull (err);
    g_test_message ("%s", err->message);
    g_assert_nonnull (strstr (err->message, cases[i].expect));
    g_error_free (err);
    ef_scale_config_clear (&c);
  }
  /* value 0 is refused like KEDA does */
  EfScaleConfig c;
  cfg (&c);
  c.value = 0;
  GError *err = NULL;
  g_assert_false (ef_scale_config_validate (&c, &err));
  g_assert_nonnull (strstr (err->message, "value"));
  g_error_free (err);
  ef_scale_config_clear (&c);
  ef_test_rm_rf (dir);
}

/* The production ScaledObject must load, and respect the rules in keda-rabbitmq.md. */
static void
test_production_scaledobject (void)
{
  g_autofree gchar *path = g_build_filename (ef_test_source_root (), "k8s", "base",
      "inference", "scaledobject.yaml", NULL);
  if (!g_file_test (path, G_FILE_TEST_EXISTS)) {
    g_test_message ("%s does not exist", path);
    g_test_fail ();
    return;
  }
  EfScaleConfig c;
  ef_scale_config_init (&c);
  g_autoptr (GError) err = NULL;
  g_assert_true (ef_scale_config_load_yaml (&c, path, &err));
  g_assert_true (ef_scale_config_validate (&c, &err));
  g_assert_cmpstr (c.protocol, ==, "http");   /* ready + unacked */
  g_assert_cmpstr (c.queue_name, ==, "frames");
  g_assert_cmpuint (c.min_replica_count, ==, 0);   /* scale to zero */
  /* prefetch (EDGEFAAS_PREFETCH default 2) <= value, else unacked messages alone
   * push to maxReplicaCount */
  g_assert_cmpfloat (c.value, >=, 2);
  /* cooldown longer than the launcher's default drain timeout (30 s) */
  g_assert_cmpuint (c.cooldown_period_s, >, 30);
  ef_scale_config_clear (&c);
}

/* The activation trigger (amqp ready count, read at once) activates while the
 * management API still shows nothing (5 s statistics). */
static void
test_amqp_activation_before_statistics (void)
{
  EfScaleConfig c;
  EfScaleState s;
  cfg (&c);
  c.has_amqp_trigger = TRUE;
  c.amqp_value = 4;
  ef_scale_state_init (&s, 0);
  EfScaleInputs in = { .messages_ok = TRUE, .messages = 0, .ready_ok = TRUE, .ready = 1 };
  EfScaleDecision d = ef_scale_decide_inputs (&c, &s, 0, &in, S (1));
  g_assert_cmpint (d.action, ==, EF_SCALE_ACTION_ACTIVATE);
  g_assert_cmpuint (d.desired, ==, 1);
  g_assert_nonnull (strstr (d.reason, "amqp"));
  /* without the activation trigger the same reading does not activate */
  c.has_amqp_trigger = FALSE;
  d = ef_scale_decide_inputs (&c, &s, 0, &in, S (2));
  g_assert_cmpint (d.action, ==, EF_SCALE_ACTION_NONE);
  /* no management API: the amqp trigger alone still activates */
  c.has_amqp_trigger = TRUE;
  EfScaleInputs no_mgmt = { .messages_ok = FALSE, .ready_ok = TRUE, .ready = 3 };
  d = ef_scale_decide_inputs (&c, &s, 0, &no_mgmt, S (3));
  g_assert_cmpint (d.action, ==, EF_SCALE_ACTION_ACTIVATE);
  ef_scale_state_clear (&s);
  ef_scale_config_clear (&c);
}

/* Without the management API the keep-alive falls back to the replicas' own reports
 * of work: a busy replica whose queue reads ready=0 is not scaled away. */
static void
test_keep_alive_fallback (void)
{
  EfScaleConfig c;
  EfScaleState s;
  cfg (&c);
  c.has_amqp_trigger = TRUE;
  c.cooldown_period_s = 5;
  ef_scale_state_init (&s, 0);
  EfScaleInputs busy = { .messages_ok = FALSE, .ready_ok = TRUE, .ready = 0,
    .replicas_busy = TRUE };
  for (gint t = 1; t <= 20; t++) {
    EfScaleDecision d = ef_scale_decide_inputs (&c, &s, 1, &busy, S (t));
    g_assert_true (d.active);
    g_assert_cmpint (d.action, !=, EF_SCALE_ACTION_DEACTIVATE);
  }
  EfScaleInputs idle = busy;
  idle.replicas_busy = FALSE;
  EfScaleDecision d = ef_scale_decide_inputs (&c, &s, 1, &idle, S (24));
  g_assert_cmpint (d.action, ==, EF_SCALE_ACTION_NONE);
  d = ef_scale_decide_inputs (&c, &s, 1, &idle, S (25.5));
  g_assert_cmpint (d.action, ==, EF_SCALE_ACTION_DEACTIVATE);
  /* the management API answers but without a publish rate (rates_mode = none): with a
   * MessageRate trigger the replicas' reports keep it alive too; without one they don't */
  c.has_rate_trigger = TRUE;
  EfScaleInputs no_rate = { .messages_ok = TRUE, .messages = 0, .rate_ok = FALSE,
    .replicas_busy = TRUE };
  d = ef_scale_decide_inputs (&c, &s, 1, &no_rate, S (40));
  g_assert_true (d.active);
  c.has_rate_trigger = FALSE;
  d = ef_scale_decide_inputs (&c, &s, 1, &no_rate, S (41));
  g_assert_false (d.active);
  /* nothing readable at all: no change, whatever the replicas say */
  EfScaleInputs none = { 0 };
  d = ef_scale_decide_inputs (&c, &s, 2, &none, S (100));
  g_assert_cmpint (d.action, ==, EF_SCALE_ACTION_NONE);
  g_assert_cmpuint (d.desired, ==, 2);
  ef_scale_state_clear (&s);
  ef_scale_config_clear (&c);
}

/* The case: 23 queued frames made the HPA go 1 -> 4 (value 4). With value =
 * what one replica clears before another is ready (50), the backlog starts nothing;
 * the publish rate / service rate decides instead. */
static void
test_backlog_cleared_by_one_replica_starts_none (void)
{
  EfScaleConfig c;
  EfScaleState s;
  cfg (&c);
  c.value = 50;
  c.has_rate_trigger = TRUE;
  c.rate_value = 10;
  c.scale_up.window_s = 0;
  ef_scale_state_init (&s, 0);
  EfScaleInputs in = { .messages_ok = TRUE, .messages = 23, .rate_ok = TRUE, .rate = 5 };
  EfScaleDecision d = ef_scale_decide_inputs (&c, &s, 1, &in, S (1));
  g_assert_cmpuint (d.desired, ==, 1);
  g_assert_cmpint (d.action, ==, EF_SCALE_ACTION_NONE);
  /* the old value 4 overshoots to maxReplicaCount on the same reading */
  EfScaleConfig old;
  EfScaleState os;
  cfg (&old);
  ef_scale_state_init (&os, 0);
  d = ef_scale_decide_inputs (&old, &os, 1, &in, S (1));
  g_assert_cmpuint (d.desired, ==, 4);
  /* arrival 25/s over a service rate of 10/s: ceil(2.5) = 3 replicas */
  in.rate = 25;
  d = ef_scale_decide_inputs (&c, &s, 1, &in, S (2));
  g_assert_cmpint (d.action, ==, EF_SCALE_ACTION_SCALE_UP);
  g_assert_cmpuint (d.desired, ==, 3);
  g_assert_nonnull (strstr (d.reason, "publish rate"));
  ef_scale_state_clear (&os);
  ef_scale_config_clear (&old);
  ef_scale_state_clear (&s);
  ef_scale_config_clear (&c);
}

/* A loading replica is capacity coming: no scale-up while one loads. */
static void
test_loading_replica_is_capacity_coming (void)
{
  EfScaleConfig c;
  EfScaleState s;
  cfg (&c);
  c.scale_up.window_s = 0;
  ef_scale_state_init (&s, 0);
  EfScaleInputs in = { .messages_ok = TRUE, .messages = 40, .loading = 1 };
  EfScaleDecision d = ef_scale_decide_inputs (&c, &s, 1, &in, S (1));
  g_assert_cmpint (d.action, ==, EF_SCALE_ACTION_NONE);
  g_assert_cmpuint (d.desired, ==, 1);
  g_assert_nonnull (strstr (d.reason, "capacity coming"));
  in.loading = 0;
  d = ef_scale_decide_inputs (&c, &s, 1, &in, S (2));
  g_assert_cmpint (d.action, ==, EF_SCALE_ACTION_SCALE_UP);
  ef_scale_state_clear (&s);
  ef_scale_config_clear (&c);
}

/* HPA scaleUp behavior: the window takes the lowest recommendation (a short burst of
 * demand starts nothing), the Pods policy limits additions per period. */
static void
test_scale_up_window_and_policies (void)
{
  EfScaleConfig c;
  EfScaleState s;
  cfg (&c);
  c.max_replica_count = 8;
  c.scale_up.window_s = 10;
  c.scale_up.n_policies = 1;
  c.scale_up.policies[0] = (EfScalePolicy) { EF_SCALE_POLICY_PODS, 1, 10 };
  ef_scale_state_init (&s, 0);
  EfScaleInputs low = { .messages_ok = TRUE, .messages = 4 };
  EfScaleInputs high = { .messages_ok = TRUE, .messages = 32 };
  ef_scale_decide_inputs (&c, &s, 1, &low, S (1));
  /* demand high for 5 s only: the window still holds the 1 of t=1 */
  for (gint t = 2; t <= 6; t++) {
    EfScaleDecision d = ef_scale_decide_inputs (&c, &s, 1, &high, S (t));
    g_assert_cmpuint (d.desired, ==, 1);
  }
  /* once the low reading left the window (t > 11): +1 pod, not +7 */
  EfScaleDecision d = ef_scale_decide_inputs (&c, &s, 1, &high, S (11.5));
  g_assert_cmpint (d.action, ==, EF_SCALE_ACTION_SCALE_UP);
  g_assert_cmpuint (d.desired, ==, 2);
  /* within the same 10 s period nothing more */
  d = ef_scale_decide_inputs (&c, &s, 2, &high, S (15));
  g_assert_cmpuint (d.desired, ==, 2);
  g_assert_nonnull (strstr (d.reason, "policies"));
  d = ef_scale_decide_inputs (&c, &s, 2, &high, S (22));
  g_assert_cmpuint (d.desired, ==, 3);
  /* selectPolicy Disabled: never up */
  c.scale_up.select = EF_SCALE_SELECT_DISABLED;
  d = ef_scale_decide_inputs (&c, &s, 3, &high, S (40));
  g_assert_cmpuint (d.desired, ==, 3);
  ef_scale_state_clear (&s);
  ef_scale_config_clear (&c);
}

/* scaleDown policies: one pod per minute. */
static void
test_scale_down_policy (void)
{
  EfScaleConfig c;
  EfScaleState s;
  cfg (&c);
  c.scale_down_window_s = 0;
  c.scale_down.n_policies = 1;
  c.scale_down.policies[0] = (EfScalePolicy) { EF_SCALE_POLICY_PODS, 1, 60 };
  ef_scale_state_init (&s, 0);
  EfScaleInputs in = { .messages_ok = TRUE, .messages = 1 };
  EfScaleDecision d = ef_scale_decide_inputs (&c, &s, 4, &in, S (1));
  g_assert_cmpuint (d.desired, ==, 3);
  d = ef_scale_decide_inputs (&c, &s, 3, &in, S (30));
  g_assert_cmpuint (d.desired, ==, 3);
  d = ef_scale_decide_inputs (&c, &s, 3, &in, S (62));
  g_assert_cmpuint (d.desired, ==, 2);
  ef_scale_state_clear (&s);
  ef_scale_config_clear (&c);
}

/* The production file: the three triggers and the behavior are read. */
static void
test_production_triggers_and_behavior (void)
{
  g_autofree gchar *path = g_build_filename (ef_test_source_root (), "k8s", "base",
      "inference", "scaledobject.yaml", NULL);
  EfScaleConfig c;
  ef_scale_config_init (&c);
  g_autoptr (GError) err = NULL;
  g_assert_true (ef_scale_config_load_yaml (&c, path, &err));
  g_assert_no_error (err);
  g_assert_cmpstr (c.protocol, ==, "http");
  g_assert_true (c.has_amqp_trigger);
  g_assert_true (c.has_rate_trigger);
  g_assert_cmpfloat (c.rate_value, >, 0);
  g_assert_cmpuint (c.polling_interval_s, <=, 1);
  g_assert_cmpuint (c.scale_up.window_s, >, 0);
  g_assert_cmpuint (c.scale_up.n_policies, ==, 1);
  g_assert_cmpint (c.scale_up.policies[0].type, ==, EF_SCALE_POLICY_PODS);
  g_assert_cmpuint (c.scale_up.policies[0].value, ==, 1);
  g_assert_cmpuint (c.scale_down.policies[0].period_s, ==, 60);
  ef_scale_config_clear (&c);
}

static void
test_trigger_errors (void)
{
  g_autofree gchar *dir = ef_test_mkdtemp ("ef-scale-trig");
  const gchar *head = "kind: ScaledObject\nspec:\n  triggers:\n";
  struct { const gchar *triggers, *expect; } cases[] = {
    {"  - type: rabbitmq\n    metadata: {queueName: a, protocol: http, mode: QueueLength}\n"
          "  - type: rabbitmq\n    metadata: {queueName: b, protocol: amqp, mode: QueueLength}\n",
        "one ScaledObject scales on one queue"},
    {"  - type: rabbitmq\n    metadata: {queueName: a, protocol: http, mode: QueueLength}\n"
          "  - type: rabbitmq\n    metadata: {queueName: a, protocol: http, mode: QueueLength}\n",
        "one over http"},
    {"  - type: rabbitmq\n    metadata: {queueName: a, protocol: amqp, mode: MessageRate}\n",
        "MessageRate needs protocol http"},
    {"  - type: rabbitmq\n    metadata: {queueName: a, protocol: http, mode: MessageRate}\n",
        "mode QueueLength"},
  };
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
    g_autofree gchar *p = g_build_filename (dir, "so.yaml", NULL);
    g_autofree gchar *y = g_strconcat (head, cases[i].triggers, NULL);
    g_assert_true (g_file_set_contents (p, y, -1, NULL));
    EfScaleConfig c;
    ef_scale_config_init (&c);
    GError *err = NULL;
    gboolean ok = ef_scale_config_load_yaml (&c, p, &err);
    if (ok) {
      g_test_message ("case %u loaded", i);
      g_assert_not_reached ();
    }
    g_test_message ("%s", err->message);
    g_assert_nonnull (strstr (err->message, cases[i].expect));
    g_error_free (err);
    ef_scale_config_clear (&c);
  }
  /* a bad behavior policy names its place */
  g_autofree gchar *p = g_build_filename (dir, "so.yaml", NULL);
  g_assert_true (g_file_set_contents (p, "kind: ScaledObject\nspec:\n  advanced:\n"
          "    horizontalPodAutoscalerConfig:\n      behavior:\n        scaleUp:\n"
          "          policies:\n          - {type: Pod, value: 1, periodSeconds: 10}\n"
          "  triggers:\n  - type: rabbitmq\n    metadata: {queueName: a}\n", -1, NULL));
  EfScaleConfig c;
  ef_scale_config_init (&c);
  GError *err = NULL;
  g_assert_false (ef_scale_config_load_yaml (&c, p, &err));
  g_test_message ("%s", err->message);
  g_assert_nonnull (strstr (err->message, "behavior.scaleUp.policies[0].type"));
  g_error_free (err);
  ef_scale_config_clear (&c);
  ef_test_rm_rf (dir);
}

int
main (int argc, char **argv)
{
  ef_test_init (&argc, &argv);
  g_test_add_func ("/scale-policy/activation-from-zero", test_activation_from_zero);
  g_test_add_func ("/scale-policy/activation-value-threshold", test_activation_value_threshold);
  g_test_add_func ("/scale-policy/tolerance-and-scale-down-window",
      test_tolerance_and_scale_down_window);
  g_test_add_func ("/scale-policy/cooldown-to-zero", test_cooldown_to_zero);
  g_test_add_func ("/scale-policy/min-replicas-and-metric-failure",
      test_min_replicas_and_metric_failure);
  g_test_add_func ("/scale-policy/yaml-test-copy", test_yaml_test_copy);
  g_test_add_func ("/scale-policy/yaml-errors-name-the-field", test_yaml_errors_name_the_field);
  g_test_add_func ("/scale-policy/production-scaledobject", test_production_scaledobject);
  g_test_add_func ("/scale-policy/amqp-activation-before-statistics",
      test_amqp_activation_before_statistics);
  g_test_add_func ("/scale-policy/keep-alive-fallback", test_keep_alive_fallback);
  g_test_add_func ("/scale-policy/backlog-cleared-by-one-replica-starts-none",
      test_backlog_cleared_by_one_replica_starts_none);
  g_test_add_func ("/scale-policy/loading-replica-is-capacity-coming",
      test_loading_replica_is_capacity_coming);
  g_test_add_func ("/scale-policy/scale-up-window-and-policies",
      test_scale_up_window_and_policies);
  g_test_add_func ("/scale-policy/scale-down-policy", test_scale_down_policy);
  g_test_add_func ("/scale-policy/production-triggers-and-behavior",
      test_production_triggers_and_behavior);
  g_test_add_func ("/scale-policy/trigger-errors", test_trigger_errors);
  return g_test_run ();
}
