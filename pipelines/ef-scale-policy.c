/* edgefaas-scale: KEDA ScaledObject semantics (see ef-scale-policy.h). */
#include "ef-scale-policy.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <yaml.h>

#define EF_SCALE_ERROR (g_quark_from_static_string ("ef-scale-error"))

typedef struct {
  gint64 t_us;
  guint desired;
} Recommendation;

void
ef_scale_config_init (EfScaleConfig * c)
{
  memset (c, 0, sizeof (*c));
  c->polling_interval_s = 30;
  c->cooldown_period_s = 300;
  c->min_replica_count = 0;
  c->max_replica_count = 100;
  c->scale_down_window_s = 300;
  c->vhost_name = g_strdup ("/");
  c->mode = g_strdup ("QueueLength");
  c->protocol = g_strdup ("http");
  c->value = 20;
  c->activation_value = 0;
  c->termination_grace_s = 30;
  c->tolerance = 0.1;
  /* Kubernetes' default HPA behavior */
  c->scale_up.window_s = 0;
  c->scale_up.select = EF_SCALE_SELECT_MAX;
  c->scale_up.policies[0] = (EfScalePolicy) { EF_SCALE_POLICY_PODS, 4, 15 };
  c->scale_up.policies[1] = (EfScalePolicy) { EF_SCALE_POLICY_PERCENT, 100, 15 };
  c->scale_up.n_policies = 2;
  c->scale_down.window_s = 300;
  c->scale_down.select = EF_SCALE_SELECT_MAX;
  c->scale_down.policies[0] = (EfScalePolicy) { EF_SCALE_POLICY_PERCENT, 100, 15 };
  c->scale_down.n_policies = 1;
  c->amqp_value = c->rate_value = 20;
}

void
ef_scale_config_clear (EfScaleConfig * c)
{
  g_clear_pointer (&c->queue_name, g_free);
  g_clear_pointer (&c->vhost_name, g_free);
  g_clear_pointer (&c->mode, g_free);
  g_clear_pointer (&c->protocol, g_free);
}

const gchar *
ef_scale_action_name (EfScaleAction a)
{
  switch (a) {
    case EF_SCALE_ACTION_NONE:
      return "none";
    case EF_SCALE_ACTION_ACTIVATE:
      return "activate";
    case EF_SCALE_ACTION_SCALE_UP:
      return "scale-up";
    case EF_SCALE_ACTION_SCALE_DOWN:
      return "scale-down";
    case EF_SCALE_ACTION_DEACTIVATE:
      return "deactivate";
  }
  return "?";
}

/* ---------- YAML ---------- */

typedef struct {
  yaml_document_t *doc;
  const gchar *path;
} Y;

static yaml_node_t *
map_get (Y * y, yaml_node_t * map, const gchar * key)
{
  if (!map || map->type != YAML_MAPPING_NODE)
    return NULL;
  for (yaml_node_pair_t * p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
      p++) {
    yaml_node_t *k = yaml_document_get_node (y->doc, p->key);
    if (k && k->type == YAML_SCALAR_NODE && g_str_equal ((gchar *) k->data.scalar.value, key))
      return yaml_document_get_node (y->doc, p->value);
  }
  return NULL;
}

static const gchar *
scalar (yaml_node_t * n)
{
  return n && n->type == YAML_SCALAR_NODE ? (const gchar *) n->data.scalar.value : NULL;
}

static gboolean
check_keys (Y * y, yaml_node_t * map, const gchar * where, const gchar * const *known,
    GError ** error)
{
  if (!map)
    return TRUE;
  if (map->type != YAML_MAPPING_NODE) {
    g_set_error (error, EF_SCALE_ERROR, 0, "%s: %s is not a mapping", y->path, where);
    return FALSE;
  }
  for (yaml_node_pair_t * p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
      p++) {
    const gchar *k = scalar (yaml_document_get_node (y->doc, p->key));
    if (!k || !g_strv_contains (known, k)) {
      g_set_error (error, EF_SCALE_ERROR, 0, "%s: unknown field %s.%s (a typo? KEDA would "
          "reject or ignore it)", y->path, where, k ? k : "?");
      return FALSE;
    }
  }
  return TRUE;
}

static gboolean
get_number (Y * y, yaml_node_t * map, const gchar * key, const gchar * where, gdouble * out,
    gboolean integer, GError ** error)
{
  yaml_node_t *n = map_get (y, map, key);
  if (!n)
    return TRUE;
  const gchar *s = scalar (n);
  gchar *end = NULL;
  gdouble v = s ? g_ascii_strtod (s, &end) : 0;
  if (!s || end == s || *end || v < 0 || (integer && v != floor (v))) {
    g_set_error (error, EF_SCALE_ERROR, 0, "%s: %s.%s must be a non-negative %s, got '%s'",
        y->path, where, key, integer ? "integer" : "number", s ? s : "(not a scalar)");
    return FALSE;
  }
  *out = v;
  return TRUE;
}

static gboolean
get_uint (Y * y, yaml_node_t * map, const gchar * key, const gchar * where, guint * out,
    GError ** error)
{
  gdouble d = *out;
  if (!get_number (y, map, key, where, &d, TRUE, error))
    return FALSE;
  *out = (guint) d;
  return TRUE;
}

static void
set_str (gchar ** field, const gchar * v)
{
  if (v) {
    g_free (*field);
    *field = g_strdup (v);
  }
}

/* advanced.horizontalPodAutoscalerConfig.behavior.scaleUp / scaleDown; absent fields
 * keep the defaults, a policies list replaces them. */
static gboolean
load_rules (Y * y, yaml_node_t * map, const gchar * name, EfScaleRules * r, GError ** error)
{
  static const gchar *const keys[] = { "stabilizationWindowSeconds", "selectPolicy",
    "policies", NULL
  };
  static const gchar *const policy_keys[] = { "type", "value", "periodSeconds", NULL };
  g_autofree gchar *where = g_strdup_printf ("spec.advanced.horizontalPodAutoscalerConfig."
      "behavior.%s", name);
  if (!map)
    return TRUE;
  if (!check_keys (y, map, where, keys, error)
      || !get_uint (y, map, "stabilizationWindowSeconds", where, &r->window_s, error))
    return FALSE;
  const gchar *sel = scalar (map_get (y, map, "selectPolicy"));
  if (sel) {
    if (g_str_equal (sel, "Max"))
      r->select = EF_SCALE_SELECT_MAX;
    else if (g_str_equal (sel, "Min"))
      r->select = EF_SCALE_SELECT_MIN;
    else if (g_str_equal (sel, "Disabled"))
      r->select = EF_SCALE_SELECT_DISABLED;
    else {
      g_set_error (error, EF_SCALE_ERROR, 0, "%s: %s.selectPolicy must be Max, Min or "
          "Disabled, got '%s'", y->path, where, sel);
      return FALSE;
    }
  }
  yaml_node_t *pol = map_get (y, map, "policies");
  if (!pol)
    return TRUE;
  if (pol->type != YAML_SEQUENCE_NODE) {
    g_set_error (error, EF_SCALE_ERROR, 0, "%s: %s.policies is not a list", y->path, where);
    return FALSE;
  }
  r->n_policies = 0;
  for (yaml_node_item_t * i = pol->data.sequence.items.start; i < pol->data.sequence.items.top;
      i++) {
    yaml_node_t *p = yaml_document_get_node (y->doc, *i);
    g_autofree gchar *pw = g_strdup_printf ("%s.policies[%u]", where, r->n_policies);
    if (r->n_policies == EF_SCALE_MAX_POLICIES) {
      g_set_error (error, EF_SCALE_ERROR, 0, "%s: %s: more than %d policies", y->path, pw,
          EF_SCALE_MAX_POLICIES);
      return FALSE;
    }
    EfScalePolicy *e = &r->policies[r->n_policies];
    const gchar *type = scalar (map_get (y, p, "type"));
    e->value = 0;
    e->period_s = 0;
    if (!check_keys (y, p, pw, policy_keys, error)
        || !get_uint (y, p, "value", pw, &e->value, error)
        || !get_uint (y, p, "periodSeconds", pw, &e->period_s, error))
      return FALSE;
    if (!type || (!g_str_equal (type, "Pods") && !g_str_equal (type, "Percent"))) {
      g_set_error (error, EF_SCALE_ERROR, 0, "%s: %s.type must be Pods or Percent, got '%s'",
          y->path, pw, type ? type : "(none)");
      return FALSE;
    }
    if (e->value == 0 || e->period_s == 0 || e->period_s > 1800) {
      g_set_error (error, EF_SCALE_ERROR, 0, "%s: %s: value must be > 0 and periodSeconds "
          "within 1..1800 (the HPA's limits)", y->path, pw);
      return FALSE;
    }
    e->type = g_str_equal (type, "Pods") ? EF_SCALE_POLICY_PODS : EF_SCALE_POLICY_PERCENT;
    r->n_policies++;
  }
  return TRUE;
}

/* One rabbitmq trigger: QueueLength over http (or the only QueueLength trigger) is the
 * main one; QueueLength over amqp next to it is the activation trigger; MessageRate is
 * the rate trigger. All must name the same queue. */
static gboolean
load_trigger (EfScaleConfig * c, Y * y, yaml_node_t * meta, gboolean * have_main,
    GError ** error)
{
  static const gchar *const meta_keys[] = { "host", "hostFromEnv", "protocol", "mode",
    "value", "activationValue", "queueName", "vhostName", "excludeUnacknowledged",
    "unsafeSsl", "timeout", "useRegex", "operation", NULL
  };
  const gchar *w = "triggers[rabbitmq].metadata";
  if (!check_keys (y, meta, w, meta_keys, error))
    return FALSE;
  const gchar *useregex = scalar (map_get (y, meta, "useRegex"));
  if (useregex && g_ascii_strcasecmp (useregex, "true") == 0) {
    g_set_error (error, EF_SCALE_ERROR, 0, "%s: %s.useRegex is not supported by the local "
        "scaler", y->path, w);
    return FALSE;
  }
  const gchar *queue = scalar (map_get (y, meta, "queueName"));
  const gchar *mode = scalar (map_get (y, meta, "mode"));
  const gchar *protocol = scalar (map_get (y, meta, "protocol"));
  const gchar *vhost = scalar (map_get (y, meta, "vhostName"));
  if (*have_main || c->has_amqp_trigger || c->has_rate_trigger) {
    if (g_strcmp0 (queue, c->queue_name) != 0 || (vhost && g_strcmp0 (vhost, c->vhost_name))) {
      g_set_error (error, EF_SCALE_ERROR, 0, "%s: %s.queueName/vhostName %s differs from the "
          "other rabbitmq trigger's %s: one ScaledObject scales on one queue", y->path, w,
          queue ? queue : "(none)", c->queue_name ? c->queue_name : "(none)");
      return FALSE;
    }
  }
  set_str (&c->queue_name, queue);
  set_str (&c->vhost_name, vhost);
  gdouble value = 20, activation = 0;
  if (!get_number (y, meta, "value", w, &value, FALSE, error)
      || !get_number (y, meta, "activationValue", w, &activation, FALSE, error))
    return FALSE;

  if (mode && g_str_equal (mode, "MessageRate")) {
    if (protocol && !g_str_equal (protocol, "http")) {
      g_set_error (error, EF_SCALE_ERROR, 0, "%s: %s: mode MessageRate needs protocol http "
          "(the publish rate comes from the management API)", y->path, w);
      return FALSE;
    }
    if (c->has_rate_trigger) {
      g_set_error (error, EF_SCALE_ERROR, 0, "%s: %s: a second MessageRate trigger", y->path, w);
      return FALSE;
    }
    c->has_rate_trigger = TRUE;
    c->rate_value = value;
    c->rate_activation_value = activation;
    return TRUE;
  }
  if (mode && !g_str_equal (mode, "QueueLength")) {
    g_set_error (error, EF_SCALE_ERROR, 0, "%s: %s.mode %s is not supported (QueueLength or "
        "MessageRate)", y->path, w, mode);
    return FALSE;
  }
  if (*have_main) {
    /* a second QueueLength trigger: the one over amqp is the activation trigger */
    gboolean this_amqp = protocol && g_str_equal (protocol, "amqp");
    gboolean main_amqp = g_str_equal (c->protocol, "amqp");
    if (this_amqp == main_amqp || c->has_amqp_trigger) {
      g_set_error (error, EF_SCALE_ERROR, 0, "%s: %s: two QueueLength triggers must be one "
          "over http (ready + unacked) and one over amqp (ready, read at once)", y->path, w);
      return FALSE;
    }
    c->has_amqp_trigger = TRUE;
    if (this_amqp) {
      c->amqp_value = value;
      c->amqp_activation_value = activation;
      return TRUE;
    }
    /* the http one came second: it becomes the main trigger */
    c->amqp_value = c->value;
    c->amqp_activation_value = c->activation_value;
  }
  *have_main = TRUE;
  set_str (&c->mode, "QueueLength");
  set_str (&c->protocol, protocol);
  c->value = value;
  c->activation_value = activation;
  const gchar *ex = scalar (map_get (y, meta, "excludeUnacknowledged"));
  if (ex)
    c->exclude_unacked = g_ascii_strcasecmp (ex, "true") == 0;
  return TRUE;
}

static gboolean
load_scaled_object (EfScaleConfig * c, Y * y, yaml_node_t * root, GError ** error)
{
  static const gchar *const spec_keys[] = { "scaleTargetRef", "pollingInterval",
    "cooldownPeriod", "initialCooldownPeriod", "idleReplicaCount", "minReplicaCount",
    "maxReplicaCount", "advanced", "fallback", "triggers", NULL
  };
  yaml_node_t *spec = map_get (y, root, "spec");
  if (!spec) {
    g_set_error (error, EF_SCALE_ERROR, 0, "%s: ScaledObject has no spec", y->path);
    return FALSE;
  }
  if (!check_keys (y, spec, "spec", spec_keys, error))
    return FALSE;
  if (!get_uint (y, spec, "pollingInterval", "spec", &c->polling_interval_s, error)
      || !get_uint (y, spec, "cooldownPeriod", "spec", &c->cooldown_period_s, error)
      || !get_uint (y, spec, "minReplicaCount", "spec", &c->min_replica_count, error)
      || !get_uint (y, spec, "maxReplicaCount", "spec", &c->max_replica_count, error))
    return FALSE;
  guint idle = 0;
  if (!get_uint (y, spec, "idleReplicaCount", "spec", &idle, error))
    return FALSE;
  if (idle != 0) {
    g_set_error (error, EF_SCALE_ERROR, 0, "%s: spec.idleReplicaCount only works as 0 "
        "(keda#2314)", y->path);
    return FALSE;
  }
  yaml_node_t *behavior = map_get (y, map_get (y, map_get (y, spec, "advanced"),
          "horizontalPodAutoscalerConfig"), "behavior");
  if (!load_rules (y, map_get (y, behavior, "scaleUp"), "scaleUp", &c->scale_up, error)
      || !load_rules (y, map_get (y, behavior, "scaleDown"), "scaleDown", &c->scale_down,
          error))
    return FALSE;
  c->scale_down_window_s = c->scale_down.window_s;

  yaml_node_t *triggers = map_get (y, spec, "triggers");
  if (!triggers || triggers->type != YAML_SEQUENCE_NODE) {
    g_set_error (error, EF_SCALE_ERROR, 0, "%s: spec.triggers is missing", y->path);
    return FALSE;
  }
  gboolean have_main = FALSE;
  for (yaml_node_item_t * i = triggers->data.sequence.items.start;
      i < triggers->data.sequence.items.top; i++) {
    yaml_node_t *t = yaml_document_get_node (y->doc, *i);
    const gchar *type = scalar (map_get (y, t, "type"));
    if (!type || !g_str_equal (type, "rabbitmq"))
      continue;
    yaml_node_t *meta = map_get (y, t, "metadata");
    if (!meta)
      continue;
    if (!load_trigger (c, y, meta, &have_main, error))
      return FALSE;
  }
  if (!have_main) {
    g_set_error (error, EF_SCALE_ERROR, 0, "%s: no trigger of type rabbitmq with metadata "
        "and mode QueueLength", y->path);
    return FALSE;
  }
  return TRUE;
}

/* Find terminationGracePeriodSeconds in a Deployment document, if the file has one. */
static void
load_deployment (EfScaleConfig * c, Y * y, yaml_node_t * root)
{
  yaml_node_t *pod = map_get (y, map_get (y, map_get (y, root, "spec"), "template"), "spec");
  const gchar *g = scalar (map_get (y, pod, "terminationGracePeriodSeconds"));
  if (g)
    c->termination_grace_s = (guint) g_ascii_strtoull (g, NULL, 10);
}

gboolean
ef_scale_config_load_yaml (EfScaleConfig * c, const gchar * path, GError ** error)
{
  FILE *f = fopen (path, "rb");
  if (!f) {
    g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (errno),
        "cannot open ScaledObject file %s: %s", path, g_strerror (errno));
    return FALSE;
  }
  yaml_parser_t parser;
  yaml_parser_initialize (&parser);
  yaml_parser_set_input_file (&parser, f);
  gboolean found = FALSE, ok = TRUE;
  while (ok) {
    yaml_document_t doc;
    if (!yaml_parser_load (&parser, &doc)) {
      g_set_error (error, EF_SCALE_ERROR, 0, "%s:%zu: YAML error: %s", path,
          parser.problem_mark.line + 1, parser.problem ? parser.problem : "?");
      ok = FALSE;
      break;
    }
    yaml_node_t *root = yaml_document_get_root_node (&doc);
    if (!root) {
      yaml_document_delete (&doc);
      break;
    }
    Y y = { &doc, path };
    const gchar *kind = scalar (map_get (&y, root, "kind"));
    if (kind && g_str_equal (kind, "ScaledObject") && !found) {
      found = TRUE;
      ok = load_scaled_object (c, &y, root, error);
    } else if (kind && g_str_equal (kind, "Deployment")) {
      load_deployment (c, &y, root);
    }
    yaml_document_delete (&doc);
  }
  yaml_parser_delete (&parser);
  fclose (f);
  if (ok && !found) {
    g_set_error (error, EF_SCALE_ERROR, 0, "%s: no document of kind ScaledObject", path);
    return FALSE;
  }
  return ok;
}

gboolean
ef_scale_config_validate (const EfScaleConfig * c, GError ** error)
{
  if (!c->queue_name || !*c->queue_name) {
    g_set_error (error, EF_SCALE_ERROR, 0, "queueName is not set");
    return FALSE;
  }
  if (!(c->value > 0)) {
    g_set_error (error, EF_SCALE_ERROR, 0, "value must be > 0 (KEDA refuses 0)");
    return FALSE;
  }
  if (c->polling_interval_s == 0) {
    g_set_error (error, EF_SCALE_ERROR, 0, "pollingInterval must be >= 1 s");
    return FALSE;
  }
  if (c->max_replica_count == 0 || c->min_replica_count > c->max_replica_count) {
    g_set_error (error, EF_SCALE_ERROR, 0, "need 0 <= minReplicaCount (%u) <= "
        "maxReplicaCount (%u) and maxReplicaCount >= 1", c->min_replica_count,
        c->max_replica_count);
    return FALSE;
  }
  if ((c->has_amqp_trigger && !(c->amqp_value > 0))
      || (c->has_rate_trigger && !(c->rate_value > 0))) {
    g_set_error (error, EF_SCALE_ERROR, 0, "every trigger's value must be > 0 (KEDA refuses 0)");
    return FALSE;
  }
  if (g_ascii_strcasecmp (c->mode, "QueueLength") != 0) {
    g_set_error (error, EF_SCALE_ERROR, 0, "mode %s is not supported (QueueLength only)",
        c->mode);
    return FALSE;
  }
  if (!g_str_equal (c->protocol, "http") && !g_str_equal (c->protocol, "amqp")
      && !g_str_equal (c->protocol, "auto")) {
    g_set_error (error, EF_SCALE_ERROR, 0, "protocol must be http, amqp or auto, got %s",
        c->protocol);
    return FALSE;
  }
  return TRUE;
}

/* ---------- decisions ---------- */

typedef struct {
  gint64 t_us;
  gint delta;
} Change;

void
ef_scale_state_init (EfScaleState * s, gint64 now_us)
{
  s->started_us = now_us;
  s->last_active_us = 0;
  s->recommendations = g_array_new (FALSE, FALSE, sizeof (Recommendation));
  s->changes = g_array_new (FALSE, FALSE, sizeof (Change));
}

void
ef_scale_state_clear (EfScaleState * s)
{
  g_clear_pointer (&s->recommendations, g_array_unref);
  g_clear_pointer (&s->changes, g_array_unref);
}

/* The HPA's proposal for one metric (AverageValue target): ceil(metric / target), or
 * the current count while the ratio is within the tolerance. */
static guint
proposal (const EfScaleConfig * c, gdouble metric, gdouble target, guint current)
{
  if (fabs (metric / (target * current) - 1.0) <= c->tolerance)
    return current;
  return (guint) ceil (metric / target);
}

/* Replicas added (sign > 0) or removed (sign < 0) by the HPA step within @period_s. */
static guint
changed_within (const EfScaleState * s, gint sign, guint period_s, gint64 now_us)
{
  gint64 from = now_us - (gint64) period_s * G_USEC_PER_SEC;
  guint n = 0;
  for (guint i = 0; i < s->changes->len; i++) {
    const Change *ch = &g_array_index (s->changes, Change, i);
    if (ch->t_us > from && ch->delta * sign > 0)
      n += ABS (ch->delta);
  }
  return n;
}

/* The HPA's scaleUp limit: for each policy the count reachable from the count at the
 * start of its period; Max takes the most permissive, Min the least. */
static guint
scale_up_limit (const EfScaleRules * r, const EfScaleState * s, guint current, gint64 now_us)
{
  if (r->select == EF_SCALE_SELECT_DISABLED)
    return current;
  guint best = r->select == EF_SCALE_SELECT_MAX ? 0 : G_MAXUINT;
  for (guint i = 0; i < r->n_policies; i++) {
    const EfScalePolicy *p = &r->policies[i];
    guint added = changed_within (s, +1, p->period_s, now_us);
    guint start = current > added ? current - added : 0;
    guint lim = p->type == EF_SCALE_POLICY_PODS ? start + p->value
        : (guint) ceil (start * (1.0 + p->value / 100.0));
    best = r->select == EF_SCALE_SELECT_MAX ? MAX (best, lim) : MIN (best, lim);
  }
  return r->n_policies ? best : G_MAXUINT;
}

/* The HPA's scaleDown limit (lowest count allowed). */
static guint
scale_down_limit (const EfScaleRules * r, const EfScaleState * s, guint current, gint64 now_us)
{
  if (r->select == EF_SCALE_SELECT_DISABLED)
    return current;
  guint best = r->select == EF_SCALE_SELECT_MAX ? G_MAXUINT : 0;
  for (guint i = 0; i < r->n_policies; i++) {
    const EfScalePolicy *p = &r->policies[i];
    guint start = current + changed_within (s, -1, p->period_s, now_us);
    gint lim = p->type == EF_SCALE_POLICY_PODS ? (gint) start - (gint) p->value
        : (gint) floor (start * (1.0 - p->value / 100.0));
    guint l = (guint) MAX (lim, 0);
    best = r->select == EF_SCALE_SELECT_MAX ? MIN (best, l) : MAX (best, l);
  }
  return r->n_policies ? best : 0;
}

static void
record_change (EfScaleState * s, gint delta, gint64 now_us)
{
  Change ch = { now_us, delta };
  g_array_append_val (s->changes, ch);
  /* keep 30 min: the longest periodSeconds the HPA allows */
  gint64 horizon = now_us - 1800 * G_USEC_PER_SEC;
  guint drop = 0;
  while (drop < s->changes->len && g_array_index (s->changes, Change, drop).t_us < horizon)
    drop++;
  if (drop)
    g_array_remove_range (s->changes, 0, drop);
}

EfScaleDecision
ef_scale_decide_inputs (const EfScaleConfig * c, EfScaleState * s, guint current,
    const EfScaleInputs * in, gint64 now_us)
{
  EfScaleDecision d = { EF_SCALE_ACTION_NONE, current, FALSE, "" };
  guint floor_active = MAX (c->min_replica_count, 1);
  gboolean use_ready = c->has_amqp_trigger && in->ready_ok;
  gboolean use_rate = c->has_rate_trigger && in->rate_ok;

  if (!in->messages_ok && !use_ready) {
    /* Nothing measured: never read that as zero (KEDA without fallback keeps the count). */
    g_snprintf (d.reason, sizeof d.reason, "metric unavailable: keep %u replica(s)", current);
    return d;
  }
  /* KEDA ORs the triggers' activity. Without the keep-alive metric (no management API)
   * or without the publish rate (a broker with management.rates_mode = none), the
   * replicas' own reports of work stand in for what those would show. */
  d.active = (in->messages_ok && in->messages > c->activation_value)
      || (use_ready && in->ready > c->amqp_activation_value)
      || (use_rate && in->rate > c->rate_activation_value)
      || ((!in->messages_ok || (c->has_rate_trigger && !in->rate_ok)) && in->replicas_busy);
  if (d.active)
    s->last_active_us = now_us;

  if (current == 0 || current < c->min_replica_count) {
    if (d.active) {
      d.desired = MAX (floor_active, current);
      d.action = EF_SCALE_ACTION_ACTIVATE;
      if (use_ready && in->ready > c->amqp_activation_value)
        g_snprintf (d.reason, sizeof d.reason, "ready %g > activationValue %g (amqp)",
            in->ready, c->amqp_activation_value);
      else
        g_snprintf (d.reason, sizeof d.reason, "messages %g > activationValue %g",
            in->messages, c->activation_value);
    } else if (current < c->min_replica_count) {
      d.desired = c->min_replica_count;
      d.action = EF_SCALE_ACTION_SCALE_UP;
      g_snprintf (d.reason, sizeof d.reason, "below minReplicaCount %u",
          c->min_replica_count);
    } else {
      g_snprintf (d.reason, sizeof d.reason, "messages %g <= activationValue %g",
          in->messages_ok ? in->messages : in->ready, c->activation_value);
    }
    return d;
  }

  if (!d.active) {
    gint64 ref = s->last_active_us ? s->last_active_us : s->started_us;
    gdouble idle_s = (now_us - ref) / 1e6;
    if (idle_s >= c->cooldown_period_s && current > c->min_replica_count) {
      d.desired = c->min_replica_count;
      d.action = EF_SCALE_ACTION_DEACTIVATE;
      g_array_set_size (s->recommendations, 0);
      g_array_set_size (s->changes, 0);
      g_snprintf (d.reason, sizeof d.reason, "inactive for %.0f s >= cooldownPeriod %u s",
          idle_s, c->cooldown_period_s);
      return d;
    }
  }

  /* HPA: the highest proposal of the metrics it has. */
  guint raw = 0;
  const gchar *by = "queue length";
  if (in->messages_ok)
    raw = proposal (c, in->messages, c->value, current);
  else if (use_ready)
    raw = proposal (c, in->ready, c->amqp_value, current);
  if (in->messages_ok && use_ready)
    raw = MAX (raw, proposal (c, in->ready, c->amqp_value, current));
  if (use_rate) {
    guint r = proposal (c, in->rate, c->rate_value, current);
    if (r > raw) {
      raw = r;
      by = "publish rate";
    }
  }
  raw = CLAMP (raw, floor_active, c->max_replica_count);

  /* Stabilization: the lowest recommendation of the scale-up window, the highest of the
   * scale-down window (the HPA's stabilizeRecommendationWithBehaviors). */
  Recommendation r = { now_us, raw };
  g_array_append_val (s->recommendations, r);
  guint keep_s = MAX (c->scale_up.window_s, c->scale_down_window_s);
  gint64 horizon = now_us - (gint64) keep_s * G_USEC_PER_SEC;
  guint keep_from = 0;
  while (keep_from < s->recommendations->len
      && g_array_index (s->recommendations, Recommendation, keep_from).t_us < horizon)
    keep_from++;
  if (keep_from)
    g_array_remove_range (s->recommendations, 0, keep_from);
  guint up = raw, down = raw;
  gint64 up_from = now_us - (gint64) c->scale_up.window_s * G_USEC_PER_SEC;
  gint64 down_from = now_us - (gint64) c->scale_down_window_s * G_USEC_PER_SEC;
  for (guint i = 0; i < s->recommendations->len; i++) {
    const Recommendation *e = &g_array_index (s->recommendations, Recommendation, i);
    if (e->t_us >= up_from)
      up = MIN (up, e->desired);
    if (e->t_us >= down_from)
      down = MAX (down, e->desired);
  }
  guint stabilized = current;
  if (stabilized < up)
    stabilized = up;
  if (stabilized > down)
    stabilized = down;

  if (stabilized > current) {
    guint limit = scale_up_limit (&c->scale_up, s, current, now_us);
    guint target = MIN (stabilized, limit);
    if (in->loading > 0) {
      g_snprintf (d.reason, sizeof d.reason, "HPA wants %u (by %s), but %u replica(s) "
          "loading count as capacity coming: keep %u", stabilized, by, in->loading, current);
    } else if (target <= current) {
      g_snprintf (d.reason, sizeof d.reason, "HPA wants %u (by %s), scaleUp policies allow "
          "no more now: keep %u", stabilized, by, current);
    } else {
      d.desired = target;
      d.action = EF_SCALE_ACTION_SCALE_UP;
      g_snprintf (d.reason, sizeof d.reason, "HPA: %u by %s (messages %g, ready %g, rate "
          "%g/s), policies allow %u", stabilized, by, in->messages, in->ready, in->rate, target);
      record_change (s, (gint) target - (gint) current, now_us);
    }
  } else if (stabilized < current) {
    guint limit = scale_down_limit (&c->scale_down, s, current, now_us);
    guint target = MAX (stabilized, MIN (limit, current));
    if (target >= current) {
      g_snprintf (d.reason, sizeof d.reason, "HPA wants %u, scaleDown policies allow no "
          "fewer now: keep %u", stabilized, current);
    } else {
      d.desired = target;
      d.action = EF_SCALE_ACTION_SCALE_DOWN;
      g_snprintf (d.reason, sizeof d.reason, "HPA: highest recommendation in the last %u s "
          "is %u < %u", c->scale_down_window_s, stabilized, current);
      record_change (s, (gint) target - (gint) current, now_us);
    }
  } else if (raw > current) {
    g_snprintf (d.reason, sizeof d.reason, "HPA wants %u (by %s) but the lowest "
        "recommendation in the scaleUp window (%u s) is %u: keep %u", raw, by,
        c->scale_up.window_s, up, current);
  } else if (!d.active) {
    gint64 ref = s->last_active_us ? s->last_active_us : s->started_us;
    g_snprintf (d.reason, sizeof d.reason, "inactive, cooldown %.0f/%u s", (now_us - ref) / 1e6,
        c->cooldown_period_s);
  } else {
    g_snprintf (d.reason, sizeof d.reason, "HPA: %u replica(s) fit %g messages, %g/s",
        current, in->messages_ok ? in->messages : in->ready, in->rate);
  }
  return d;
}

EfScaleDecision
ef_scale_decide (const EfScaleConfig * c, EfScaleState * s, guint current,
    gboolean metric_ok, gdouble metric, gint64 now_us)
{
  EfScaleInputs in = { 0 };
  in.messages_ok = metric_ok;
  in.messages = metric;
  return ef_scale_decide_inputs (c, s, current, &in, now_us);
}
