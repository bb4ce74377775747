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

static gboolean
load_scaled_object (EfScaleConfig * c, Y * y, yaml_node_t * root, GError ** error)
{
  static const gchar *const spec_keys[] = { "scaleTargetRef", "pollingInterval",
    "cooldownPeriod", "initialCooldownPeriod", "idleReplicaCount", "minReplicaCount",
    "maxReplicaCount", "advanced", "fallback", "triggers", NULL
  };
  static const gchar *const meta_keys[] = { "host", "hostFromEnv", "protocol", "mode",
    "value", "activationValue", "queueName", "vhostName", "excludeUnacknowledged",
    "unsafeSsl", "timeout", "useRegex", "operation", NULL
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
  yaml_node_t *sd = map_get (y, map_get (y, map_get (y, map_get (y, spec, "advanced"),
              "horizontalPodAutoscalerConfig"), "behavior"), "scaleDown");
  if (!get_uint (y, sd, "stabilizationWindowSeconds",
          "spec.advanced.horizontalPodAutoscalerConfig.behavior.scaleDown",
          &c->scale_down_window_s, error))
    return FALSE;

  yaml_node_t *triggers = map_get (y, spec, "triggers");
  if (!triggers || triggers->type != YAML_SEQUENCE_NODE) {
    g_set_error (error, EF_SCALE_ERROR, 0, "%s: spec.triggers is missing", y->path);
    return FALSE;
  }
  yaml_node_t *meta = NULL;
  for (yaml_node_item_t * i = triggers->data.sequence.items.start;
      i < triggers->data.sequence.items.top; i++) {
    yaml_node_t *t = yaml_document_get_node (y->doc, *i);
    const gchar *type = scalar (map_get (y, t, "type"));
    if (type && g_str_equal (type, "rabbitmq")) {
      meta = map_get (y, t, "metadata");
      break;
    }
  }
  if (!meta) {
    g_set_error (error, EF_SCALE_ERROR, 0, "%s: no trigger of type rabbitmq with metadata",
        y->path);
    return FALSE;
  }
  if (!check_keys (y, meta, "triggers[rabbitmq].metadata", meta_keys, error))
    return FALSE;
  const gchar *w = "triggers[rabbitmq].metadata";
  set_str (&c->queue_name, scalar (map_get (y, meta, "queueName")));
  set_str (&c->vhost_name, scalar (map_get (y, meta, "vhostName")));
  set_str (&c->mode, scalar (map_get (y, meta, "mode")));
  set_str (&c->protocol, scalar (map_get (y, meta, "protocol")));
  if (!get_number (y, meta, "value", w, &c->value, FALSE, error)
      || !get_number (y, meta, "activationValue", w, &c->activation_value, FALSE, error))
    return FALSE;
  const gchar *ex = scalar (map_get (y, meta, "excludeUnacknowledged"));
  if (ex)
    c->exclude_unacked = g_ascii_strcasecmp (ex, "true") == 0;
  if (scalar (map_get (y, meta, "useRegex"))
      && g_ascii_strcasecmp (scalar (map_get (y, meta, "useRegex")), "true") == 0) {
    g_set_error (error, EF_SCALE_ERROR, 0, "%s: %s.useRegex is not supported by the local "
        "scaler", y->path, w);
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

void
ef_scale_state_init (EfScaleState * s, gint64 now_us)
{
  s->started_us = now_us;
  s->last_active_us = 0;
  s->recommendations = g_array_new (FALSE, FALSE, sizeof (Recommendation));
}

void
ef_scale_state_clear (EfScaleState * s)
{
  g_clear_pointer (&s->recommendations, g_array_unref);
}

EfScaleDecision
ef_scale_decide (const EfScaleConfig * c, EfScaleState * s, guint current,
    gboolean metric_ok, gdouble metric, gint64 now_us)
{
  EfScaleDecision d = { EF_SCALE_ACTION_NONE, current, FALSE, "" };
  guint floor_active = MAX (c->min_replica_count, 1);

  if (!metric_ok) {
    g_snprintf (d.reason, sizeof d.reason, "metric unavailable: keep %u replica(s)", current);
    return d;
  }
  d.active = metric > c->activation_value;
  if (d.active)
    s->last_active_us = now_us;

  if (current == 0 || current < c->min_replica_count) {
    if (d.active) {
      d.desired = MAX (floor_active, current);
      d.action = EF_SCALE_ACTION_ACTIVATE;
      g_snprintf (d.reason, sizeof d.reason, "messages %g > activationValue %g",
          metric, c->activation_value);
    } else if (current < c->min_replica_count) {
      d.desired = c->min_replica_count;
      d.action = EF_SCALE_ACTION_SCALE_UP;
      g_snprintf (d.reason, sizeof d.reason, "below minReplicaCount %u",
          c->min_replica_count);
    } else {
      g_snprintf (d.reason, sizeof d.reason, "messages %g <= activationValue %g", metric,
          c->activation_value);
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
      g_snprintf (d.reason, sizeof d.reason, "inactive for %.0f s >= cooldownPeriod %u s",
          idle_s, c->cooldown_period_s);
      return d;
    }
  }

  /* HPA, AverageValue target: desired = ceil(metric / value) with tolerance. */
  guint raw;
  gdouble ratio = metric / (c->value * current);
  if (fabs (ratio - 1.0) <= c->tolerance)
    raw = current;
  else
    raw = (guint) ceil (metric / c->value);
  raw = CLAMP (raw, floor_active, c->max_replica_count);

  /* scale-down stabilization: highest recommendation within the window */
  Recommendation r = { now_us, raw };
  g_array_append_val (s->recommendations, r);
  gint64 horizon = now_us - (gint64) c->scale_down_window_s * G_USEC_PER_SEC;
  guint keep_from = 0;
  while (keep_from < s->recommendations->len
      && g_array_index (s->recommendations, Recommendation, keep_from).t_us < horizon)
    keep_from++;
  if (keep_from)
    g_array_remove_range (s->recommendations, 0, keep_from);
  guint stabilized = raw;
  for (guint i = 0; i < s->recommendations->len; i++)
    stabilized = MAX (stabilized, g_array_index (s->recommendations, Recommendation, i).desired);

  if (raw > current) {
    d.desired = raw;
    d.action = EF_SCALE_ACTION_SCALE_UP;
    g_snprintf (d.reason, sizeof d.reason, "HPA: ceil(%g / value %g) = %u > %u", metric,
        c->value, raw, current);
  } else if (stabilized < current) {
    d.desired = stabilized;
    d.action = EF_SCALE_ACTION_SCALE_DOWN;
    g_snprintf (d.reason, sizeof d.reason, "HPA: highest recommendation in the last %u s "
        "is %u < %u", c->scale_down_window_s, stabilized, current);
  } else if (!d.active) {
    gint64 ref = s->last_active_us ? s->last_active_us : s->started_us;
    g_snprintf (d.reason, sizeof d.reason, "inactive, cooldown %.0f/%u s", (now_us - ref) / 1e6,
        c->cooldown_period_s);
  } else {
    g_snprintf (d.reason, sizeof d.reason, "HPA: %u replica(s) fit %g messages", current,
        metric);
  }
  return d;
}
