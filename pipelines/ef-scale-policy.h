/* edgefaas-scale: KEDA ScaledObject semantics for one host (pure logic, no I/O
 * except reading the ScaledObject YAML), so that it can be unit-tested.
 *
 * What KEDA + the HPA do, and what ef_scale_decide() reproduces (keda-rabbitmq.md):
 *   - the metric is the queue's message count; with protocol http it is ready + unacked
 *     (excludeUnacknowledged=true: ready only);
 *   - active  <=>  metric > activationValue;
 *   - 0 -> 1 is KEDA's activation: when active at a poll, replicas = max(minReplicaCount, 1);
 *   - 1 <-> N is the HPA (AverageValue target = value):
 *       desired = ceil(metric / value), kept at the current count while
 *       |metric / (value * current) - 1| <= tolerance (0.1), clamped to
 *       [max(minReplicaCount, 1), maxReplicaCount]; scale-up is immediate; scale-down uses the
 *       highest recommendation of the last stabilizationWindowSeconds (default 300 s);
 *   - N -> 0 (or minReplicaCount) only when not active and cooldownPeriod seconds passed since
 *     the last active poll (or since the start of the scaler if never active);
 *   - when the metric cannot be read, nothing changes (KEDA without fallback).
 * One difference: the HPA runs on its own 15 s sync period; here it runs at every poll.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct {
  /* ScaledObject spec */
  guint polling_interval_s;   /* pollingInterval, default 30 */
  guint cooldown_period_s;    /* cooldownPeriod, default 300 */
  guint min_replica_count;    /* minReplicaCount, default 0 */
  guint max_replica_count;    /* maxReplicaCount, default 100 */
  guint scale_down_window_s;  /* advanced...behavior.scaleDown.stabilizationWindowSeconds, 300 */
  /* rabbitmq trigger metadata */
  gchar *queue_name;          /* queueName (required) */
  gchar *vhost_name;          /* vhostName, default "/" */
  gchar *mode;                /* mode: only QueueLength is supported */
  gchar *protocol;            /* protocol: http (ready+unacked) is what we measure */
  gdouble value;              /* value, default 20 */
  gdouble activation_value;   /* activationValue, default 0 */
  gboolean exclude_unacked;   /* excludeUnacknowledged, default false */
  /* Deployment */
  guint termination_grace_s;  /* terminationGracePeriodSeconds, default 30 */
  gdouble tolerance;          /* HPA tolerance, 0.1 */
} EfScaleConfig;

void ef_scale_config_init (EfScaleConfig * config);
void ef_scale_config_clear (EfScaleConfig * config);
/* Read the first ScaledObject document of @path (multi-document YAML allowed) and
 * the first rabbitmq trigger in it; fields absent keep their current values.
 * Unknown spec fields and unsupported settings (mode other than QueueLength,
 * protocol amqp) are errors that name the field. */
gboolean ef_scale_config_load_yaml (EfScaleConfig * config, const gchar * path,
    GError ** error);
/* Check values (value > 0, min <= max, ...); the message names the field. */
gboolean ef_scale_config_validate (const EfScaleConfig * config, GError ** error);

typedef enum {
  EF_SCALE_ACTION_NONE,
  EF_SCALE_ACTION_ACTIVATE,     /* 0 -> max(min,1) */
  EF_SCALE_ACTION_SCALE_UP,     /* HPA */
  EF_SCALE_ACTION_SCALE_DOWN,   /* HPA */
  EF_SCALE_ACTION_DEACTIVATE,   /* -> minReplicaCount after cooldown */
} EfScaleAction;

const gchar *ef_scale_action_name (EfScaleAction action);

typedef struct {
  gint64 started_us;          /* scaler start: cooldown reference before any activity */
  gint64 last_active_us;      /* last poll with metric > activationValue, 0 = never */
  GArray *recommendations;    /* of {gint64 t_us; guint desired} within the window */
} EfScaleState;

void ef_scale_state_init (EfScaleState * state, gint64 now_us);
void ef_scale_state_clear (EfScaleState * state);

typedef struct {
  EfScaleAction action;
  guint desired;
  gboolean active;
  gchar reason[200];
} EfScaleDecision;

/* One poll. @current = replicas running now; @metric_ok = FALSE when the metric could
 * not be read (then nothing changes). */
EfScaleDecision ef_scale_decide (const EfScaleConfig * config, EfScaleState * state,
    guint current, gboolean metric_ok, gdouble metric, gint64 now_us);

G_END_DECLS
