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
 *
 * Several rabbitmq triggers on one ScaledObject (KEDA ORs their activity and the HPA
 * takes the highest of their proposals), the combination the shipped manifest uses:
 *   - QueueLength, protocol http: ready + unacked from the management API (5 s stale),
 *     keeps replicas alive while frames are in flight;
 *   - QueueLength, protocol amqp: the ready count by passive queue.declare, read at once,
 *     so the first frame activates within one pollingInterval;
 *   - MessageRate (http): the publish rate; value = what one replica serves per second,
 *     so the HPA asks for arrival rate / service rate replicas, which does not grow
 *     while a backlog builds up behind a replica that is still loading.
 * HPA behavior (scaleUp and scaleDown: stabilizationWindowSeconds, policies,
 * selectPolicy) is applied as the HPA does (upRecommendation = lowest of the scale-up
 * window, downRecommendation = highest of the scale-down window, then the policies'
 * limit from the changes made within each policy's periodSeconds).
 * One addition of the local scaler: while a replica is loading (started, not ready), it
 * counts as capacity coming and no further scale-up happens (on Kubernetes the scale-up
 * window and a Pods policy whose period is about the time a pod needs to be ready do
 * the same).
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum {
  EF_SCALE_POLICY_PODS,
  EF_SCALE_POLICY_PERCENT,
} EfScalePolicyType;

typedef struct {
  EfScalePolicyType type;
  guint value;
  guint period_s;
} EfScalePolicy;

typedef enum {
  EF_SCALE_SELECT_MAX,
  EF_SCALE_SELECT_MIN,
  EF_SCALE_SELECT_DISABLED,
} EfScaleSelect;

#define EF_SCALE_MAX_POLICIES 4

typedef struct {
  guint window_s;             /* stabilizationWindowSeconds */
  EfScaleSelect select;       /* selectPolicy, default Max */
  EfScalePolicy policies[EF_SCALE_MAX_POLICIES];
  guint n_policies;
} EfScaleRules;

typedef struct {
  /* ScaledObject spec */
  guint polling_interval_s;   /* pollingInterval, default 30 */
  guint cooldown_period_s;    /* cooldownPeriod, default 300 */
  guint min_replica_count;    /* minReplicaCount, default 0 */
  guint max_replica_count;    /* maxReplicaCount, default 100 */
  guint scale_down_window_s;  /* advanced...behavior.scaleDown.stabilizationWindowSeconds, 300 */
  EfScaleRules scale_up;      /* ...behavior.scaleUp: window 0, Pods 4/15 s, Percent 100/15 s */
  EfScaleRules scale_down;    /* ...behavior.scaleDown policies: Percent 100/15 s (window above) */
  /* rabbitmq trigger metadata */
  gchar *queue_name;          /* queueName (required) */
  gchar *vhost_name;          /* vhostName, default "/" */
  gchar *mode;                /* mode: only QueueLength is supported */
  gchar *protocol;            /* protocol: http (ready+unacked) is what we measure */
  gdouble value;              /* value, default 20 */
  gdouble activation_value;   /* activationValue, default 0 */
  gboolean exclude_unacked;   /* excludeUnacknowledged, default false */
  /* an extra QueueLength trigger with protocol amqp (ready count, read at once) */
  gboolean has_amqp_trigger;
  gdouble amqp_value, amqp_activation_value;
  /* an extra MessageRate trigger (publish rate in messages/s; value = per-replica rate) */
  gboolean has_rate_trigger;
  gdouble rate_value, rate_activation_value;
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
  gint64 started_us;
  GArray *changes;            /* of {gint64 t_us; gint delta} made by the HPA step */          /* scaler start: cooldown reference before any activity */
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

/* What one poll read. A member whose _ok is FALSE could not be read. */
typedef struct {
  gboolean messages_ok;       /* the main QueueLength trigger (http: ready + unacked) */
  gdouble messages;
  gboolean ready_ok;          /* the amqp trigger: ready count by passive declare */
  gdouble ready;
  gboolean rate_ok;           /* the MessageRate trigger: publish rate, messages/s */
  gdouble rate;
  gboolean replicas_busy;     /* a replica reported work since the last poll: counts as
                               * activity when messages or (with a MessageRate trigger)
                               * the rate could not be read */
  guint loading;              /* replicas started but not ready yet */
} EfScaleInputs;

EfScaleDecision ef_scale_decide_inputs (const EfScaleConfig * config, EfScaleState * state,
    guint current, const EfScaleInputs * in, gint64 now_us);

/* One poll with only the main trigger. @current = replicas running now; @metric_ok = FALSE when the metric could
 * not be read (then nothing changes). */
EfScaleDecision ef_scale_decide (const EfScaleConfig * config, EfScaleState * state,
    guint current, gboolean metric_ok, gdouble metric, gint64 now_us);

G_END_DECLS
