/* situationdetect rules: key-file parsing/validation and the engine
 * (see situationrules.h and docs/situationdetect.md). */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "situationrules.h"

G_DEFINE_QUARK (sr-rules-error-quark, sr_rules_error)

#define SAFE_NAME_MAX 64
/* Defaults of the optional keys. */
#define DEFAULT_MIN_SCORE 0.5
#define DEFAULT_INERTIA 1.0
#define DEFAULT_CLEAR 3.0
#define DEFAULT_MIN_IOU 0.05
/* A track is stationary while its bottom-centre stays within this fraction of
 * its box size (sqrt of the pixel area) of where it stopped. */
#define STATIONARY_RADIUS 0.15
#define STATIONARY_MIN_PX 2.0
/* Upright: height/width >= 1.3; lying: width/height >= 1.2 (pixels). */
#define UPRIGHT_RATIO 1.3
#define LYING_RATIO 1.2
/* Collision: the overlap counts only if one of the two was moving then
 * (stationary for less than this). */
#define COLLISION_MOVING_S 1.0
#define SCORE_HISTORY 31

static const gchar *condition_names[] = {
  "in-zone", "line-crossed", "stationary", "crowd", "collision", "person-down", "label",
};

const gchar *
sr_condition_name (SrCondition c)
{
  return c < G_N_ELEMENTS (condition_names) ? condition_names[c] : "?";
}

/* ------------------------------------------------------------------ */
/* loading */

static void
zone_free (SrZone * z)
{
  g_free (z->name);
  g_free (z->camera);
  g_free (z->points);
  g_free (z);
}

static void
line_free (SrLine * l)
{
  g_free (l->name);
  g_free (l->camera);
  g_free (l);
}

static void
rule_free (SrRule * r)
{
  g_free (r->name);
  g_strfreev (r->cameras);
  if (r->labels)
    g_hash_table_unref (r->labels);
  g_free (r);
}

void
sr_rules_free (SrRules * rules)
{
  if (!rules)
    return;
  g_free (rules->path);
  g_ptr_array_unref (rules->cameras);
  g_ptr_array_unref (rules->zones);
  g_ptr_array_unref (rules->lines);
  g_ptr_array_unref (rules->rules);
  g_free (rules);
}

typedef struct {
  SrRules *rules;
  GKeyFile *kf;
  const gchar *const *model_labels;
  GHashTable *groups;           /* [labels] name -> gchar** members */
} Loader;

#define FAIL(ld, group, ...) \
  G_STMT_START { \
    gchar *_m = g_strdup_printf (__VA_ARGS__); \
    g_set_error (error, SR_RULES_ERROR, SR_RULES_ERROR_INVALID, "%s: [%s] %s", \
        (ld)->rules->path, (group), _m); \
    g_free (_m); \
  } G_STMT_END

static gboolean
safe_name (const gchar * s)
{
  gsize n = strlen (s);
  if (n == 0 || n > SAFE_NAME_MAX)
    return FALSE;
  for (const gchar * p = s; *p; p++)
    if (!g_ascii_isalnum (*p) && *p != '_' && *p != '-')
      return FALSE;
  return TRUE;
}

static gboolean
model_has_label (const Loader * ld, const gchar * label)
{
  return ld->model_labels && g_strv_contains (ld->model_labels, label);
}

/* GKeyFile merges repeated groups silently; a repeated group is almost
 * always a copy-paste mistake, so refuse it. */
static gboolean
check_duplicate_groups (Loader * ld, const gchar * data, gsize len, GError ** error)
{
  g_autoptr (GHashTable) seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  gchar *text = g_strndup (data, len);
  gchar **lines = g_strsplit (text, "\n", -1);
  gboolean ok = TRUE;
  for (guint i = 0; ok && lines[i]; i++) {
    gchar *l = g_strstrip (lines[i]);
    gsize n = strlen (l);
    if (n < 2 || l[0] != '[' || l[n - 1] != ']')
      continue;
    gchar *name = g_strndup (l + 1, n - 2);
    if (g_hash_table_contains (seen, name)) {
      g_set_error (error, SR_RULES_ERROR, SR_RULES_ERROR_INVALID,
          "%s:%u: [%s] appears twice (groups must be unique)", ld->rules->path, i + 1, name);
      ok = FALSE;
      g_free (name);
    } else {
      g_hash_table_add (seen, name);
    }
  }
  g_strfreev (lines);
  g_free (text);
  return ok;
}

static gboolean
get_double (Loader * ld, const gchar * group, const gchar * key, gdouble def, gdouble lo,
    gdouble hi, gdouble * out, GError ** error)
{
  GError *e = NULL;
  *out = def;
  if (!g_key_file_has_key (ld->kf, group, key, NULL))
    return TRUE;
  gdouble v = g_key_file_get_double (ld->kf, group, key, &e);
  if (e) {
    FAIL (ld, group, "%s: not a number", key);
    g_error_free (e);
    return FALSE;
  }
  if (!(v >= lo && v <= hi)) {
    FAIL (ld, group, "%s=%g is out of range [%g, %g]", key, v, lo, hi);
    return FALSE;
  }
  *out = v;
  return TRUE;
}

static gboolean
parse_points (Loader * ld, const gchar * group, const gchar * key, AnPoint ** pts, guint * n,
    GError ** error)
{
  g_autofree gchar *v = g_key_file_get_string (ld->kf, group, key, NULL);
  if (!v) {
    FAIL (ld, group, "%s: missing (x,y;x,y;... normalised to the frame)", key);
    return FALSE;
  }
  gchar **items = g_strsplit (v, ";", -1);
  GArray *a = g_array_new (FALSE, FALSE, sizeof (AnPoint));
  gboolean ok = TRUE;
  for (guint i = 0; ok && items[i]; i++) {
    gchar *it = g_strstrip (items[i]);
    if (!*it)
      continue;
    gchar **xy = g_strsplit (it, ",", -1);
    gchar *end1 = NULL, *end2 = NULL;
    AnPoint p = { 0, 0 };
    if (g_strv_length (xy) != 2) {
      ok = FALSE;
    } else {
      p.x = g_ascii_strtod (g_strstrip (xy[0]), &end1);
      p.y = g_ascii_strtod (g_strstrip (xy[1]), &end2);
      ok = end1 && !*end1 && end2 && !*end2 && end1 != xy[0] && end2 != xy[1];
    }
    g_strfreev (xy);
    if (!ok) {
      FAIL (ld, group, "%s: point %u (\"%s\") is not x,y", key, i + 1, it);
      break;
    }
    if (!(p.x >= 0 && p.x <= 1 && p.y >= 0 && p.y <= 1)) {
      FAIL (ld, group, "%s: point %u (%g,%g) is outside the frame (coordinates are "
          "normalised to [0,1])", key, i + 1, p.x, p.y);
      ok = FALSE;
      break;
    }
    g_array_append_val (a, p);
  }
  g_strfreev (items);
  *n = a->len;
  *pts = (AnPoint *) g_array_free (a, !ok);
  return ok;
}

static gboolean
check_camera (Loader * ld, const gchar * group, const gchar * camera, GError ** error)
{
  for (guint i = 0; i < ld->rules->cameras->len; i++)
    if (g_str_equal (g_ptr_array_index (ld->rules->cameras, i), camera))
      return TRUE;
  FAIL (ld, group, "camera: \"%s\" is not a declared camera (add a [camera:%s] group)",
      camera, camera);
  return FALSE;
}

static gboolean
check_keys (Loader * ld, const gchar * group, const gchar * const *allowed, GError ** error)
{
  gchar **keys = g_key_file_get_keys (ld->kf, group, NULL, NULL);
  gboolean ok = TRUE;
  for (guint i = 0; ok && keys && keys[i]; i++) {
    if (!g_strv_contains (allowed, keys[i])) {
      FAIL (ld, group, "%s: unknown key", keys[i]);
      ok = FALSE;
    }
  }
  g_strfreev (keys);
  return ok;
}

static gboolean
load_zone (Loader * ld, const gchar * group, const gchar * name, GError ** error)
{
  static const gchar *keys[] = { "camera", "polygon", NULL };
  SrZone *z = g_new0 (SrZone, 1);
  guint ea = 0, eb = 0;
  z->name = g_strdup (name);
  g_ptr_array_add (ld->rules->zones, z);
  if (!check_keys (ld, group, keys, error))
    return FALSE;
  z->camera = g_key_file_get_string (ld->kf, group, "camera", NULL);
  if (!z->camera) {
    FAIL (ld, group, "camera: missing (the camera this zone is drawn on)");
    return FALSE;
  }
  if (!check_camera (ld, group, z->camera, error))
    return FALSE;
  if (!parse_points (ld, group, "polygon", &z->points, &z->n_points, error))
    return FALSE;
  if (z->n_points < 3) {
    FAIL (ld, group, "polygon: %u points, a zone needs at least 3", z->n_points);
    return FALSE;
  }
  if (an_polygon_self_intersects (z->points, z->n_points, &ea, &eb)) {
    FAIL (ld, group, "polygon: self-intersecting (edge %u crosses edge %u)", ea + 1, eb + 1);
    return FALSE;
  }
  if (fabs (an_polygon_signed_area2 (z->points, z->n_points)) < 1e-9) {
    FAIL (ld, group, "polygon: has no area");
    return FALSE;
  }
  return TRUE;
}

static gboolean
load_line (Loader * ld, const gchar * group, const gchar * name, GError ** error)
{
  static const gchar *keys[] = { "camera", "points", NULL };
  SrLine *l = g_new0 (SrLine, 1);
  AnPoint *pts = NULL;
  guint n = 0;
  l->name = g_strdup (name);
  g_ptr_array_add (ld->rules->lines, l);
  if (!check_keys (ld, group, keys, error))
    return FALSE;
  l->camera = g_key_file_get_string (ld->kf, group, "camera", NULL);
  if (!l->camera) {
    FAIL (ld, group, "camera: missing (the camera this line is drawn on)");
    return FALSE;
  }
  if (!check_camera (ld, group, l->camera, error))
    return FALSE;
  if (!parse_points (ld, group, "points", &pts, &n, error))
    return FALSE;
  if (n != 2 || (pts[0].x == pts[1].x && pts[0].y == pts[1].y)) {
    FAIL (ld, group, "points: a line needs exactly two distinct points (got %u)", n);
    g_free (pts);
    return FALSE;
  }
  l->a = pts[0];
  l->b = pts[1];
  g_free (pts);
  return TRUE;
}

static gboolean
load_label_groups (Loader * ld, GError ** error)
{
  if (!g_key_file_has_group (ld->kf, "labels"))
    return TRUE;
  gchar **keys = g_key_file_get_keys (ld->kf, "labels", NULL, NULL);
  gboolean ok = TRUE;
  for (guint i = 0; ok && keys[i]; i++) {
    gchar **members = g_key_file_get_string_list (ld->kf, "labels", keys[i], NULL, NULL);
    if (!safe_name (keys[i])) {
      FAIL (ld, "labels", "%s: group names use A-Z a-z 0-9 _ -", keys[i]);
      ok = FALSE;
    }
    for (guint k = 0; ok && members && members[k]; k++) {
      g_strstrip (members[k]);
      if (!model_has_label (ld, members[k])) {
        FAIL (ld, "labels", "%s: \"%s\" is not a label of the model's names file",
            keys[i], members[k]);
        ok = FALSE;
      }
    }
    if (ok && (!members || !members[0])) {
      FAIL (ld, "labels", "%s: empty group", keys[i]);
      ok = FALSE;
    }
    if (ok)
      g_hash_table_insert (ld->groups, g_strdup (keys[i]), members);
    else
      g_strfreev (members);
  }
  g_strfreev (keys);
  return ok;
}

static gboolean
load_rule_labels (Loader * ld, const gchar * group, SrRule * r, GError ** error)
{
  gchar **names = g_key_file_get_string_list (ld->kf, group, "labels", NULL, NULL);
  gboolean ok = TRUE;
  if (!names) {
    if (r->condition == SR_COND_PERSON_DOWN) {
      if (!model_has_label (ld, "person")) {
        FAIL (ld, group, "labels: person-down needs a person label and the model has none");
        return FALSE;
      }
      r->labels = g_hash_table_new (g_str_hash, g_str_equal);
      g_hash_table_add (r->labels, (gpointer) g_intern_string ("person"));
    } else if (r->condition == SR_COND_LABEL) {
      FAIL (ld, group, "labels: the label condition needs labels=");
      return FALSE;
    }
    return TRUE;
  }
  r->labels = g_hash_table_new (g_str_hash, g_str_equal);
  for (guint i = 0; ok && names[i]; i++) {
    gchar *n = g_strstrip (names[i]);
    gchar **members = g_hash_table_lookup (ld->groups, n);
    if (members) {
      for (guint k = 0; members[k]; k++)
        g_hash_table_add (r->labels, (gpointer) g_intern_string (members[k]));
    } else if (model_has_label (ld, n)) {
      g_hash_table_add (r->labels, (gpointer) g_intern_string (n));
    } else {
      FAIL (ld, group, "labels: \"%s\" is neither a label of the model's names file nor a "
          "[labels] group", n);
      ok = FALSE;
    }
  }
  g_strfreev (names);
  if (ok && g_hash_table_size (r->labels) == 0) {
    FAIL (ld, group, "labels: empty");
    ok = FALSE;
  }
  return ok;
}

static gboolean
load_rule (Loader * ld, const gchar * group, const gchar * name, GError ** error)
{
  static const gchar *keys[] = { "condition", "cameras", "labels", "zone", "line",
    "direction", "seconds", "count", "min-area", "max-area", "min-aspect", "max-aspect",
    "min-score", "inertia", "clear-seconds", "min-iou", NULL
  };
  SrRule *r = g_new0 (SrRule, 1);
  r->name = g_strdup (name);
  g_ptr_array_add (ld->rules->rules, r);

  if (!safe_name (name)) {
    FAIL (ld, group, "the situation name \"%s\" becomes a routing key: use 1..%d of "
        "A-Z a-z 0-9 _ - (no '.', '#', '*')", name, SAFE_NAME_MAX);
    return FALSE;
  }
  if (!check_keys (ld, group, keys, error))
    return FALSE;
  g_autofree gchar *cond = g_key_file_get_string (ld->kf, group, "condition", NULL);
  if (!cond) {
    FAIL (ld, group, "condition: missing (one of in-zone, line-crossed, stationary, crowd, "
        "collision, person-down, label)");
    return FALSE;
  }
  g_strstrip (cond);
  guint c;
  for (c = 0; c < G_N_ELEMENTS (condition_names); c++)
    if (g_str_equal (cond, condition_names[c]))
      break;
  if (c == G_N_ELEMENTS (condition_names)) {
    FAIL (ld, group, "condition: \"%s\" is not one of in-zone, line-crossed, stationary, "
        "crowd, collision, person-down, label", cond);
    return FALSE;
  }
  r->condition = c;

  if (!load_rule_labels (ld, group, r, error))
    return FALSE;

  g_autofree gchar *zone = g_key_file_get_string (ld->kf, group, "zone", NULL);
  g_autofree gchar *line = g_key_file_get_string (ld->kf, group, "line", NULL);
  if (zone) {
    g_strstrip (zone);
    for (guint i = 0; i < ld->rules->zones->len; i++) {
      SrZone *z = g_ptr_array_index (ld->rules->zones, i);
      if (g_str_equal (z->name, zone))
        r->zone = z;
    }
    if (!r->zone) {
      FAIL (ld, group, "zone: \"%s\" is not a [zone:%s] of this file", zone, zone);
      return FALSE;
    }
  }
  if (line) {
    g_strstrip (line);
    for (guint i = 0; i < ld->rules->lines->len; i++) {
      SrLine *l = g_ptr_array_index (ld->rules->lines, i);
      if (g_str_equal (l->name, line))
        r->line = l;
    }
    if (!r->line) {
      FAIL (ld, group, "line: \"%s\" is not a [line:%s] of this file", line, line);
      return FALSE;
    }
  }
  if (r->condition == SR_COND_IN_ZONE && !r->zone) {
    FAIL (ld, group, "zone: in-zone needs zone=");
    return FALSE;
  }
  if (r->condition == SR_COND_LINE_CROSSED && !r->line) {
    FAIL (ld, group, "line: line-crossed needs line=");
    return FALSE;
  }
  if (r->condition != SR_COND_LINE_CROSSED && r->line) {
    FAIL (ld, group, "line: only line-crossed uses a line");
    return FALSE;
  }
  if (r->condition == SR_COND_LINE_CROSSED && r->zone) {
    FAIL (ld, group, "zone: line-crossed uses line=, not zone=");
    return FALSE;
  }

  g_autofree gchar *dir = g_key_file_get_string (ld->kf, group, "direction", NULL);
  r->direction = SR_DIR_BOTH;
  if (dir) {
    g_strstrip (dir);
    if (r->condition != SR_COND_LINE_CROSSED) {
      FAIL (ld, group, "direction: only line-crossed has a direction");
      return FALSE;
    }
    if (g_str_equal (dir, "left-to-right"))
      r->direction = SR_DIR_LEFT_TO_RIGHT;
    else if (g_str_equal (dir, "right-to-left"))
      r->direction = SR_DIR_RIGHT_TO_LEFT;
    else if (!g_str_equal (dir, "both")) {
      FAIL (ld, group, "direction: \"%s\" is not left-to-right, right-to-left or both", dir);
      return FALSE;
    }
  }

  /* cameras: a zone or line fixes the camera; otherwise cameras= or all */
  gchar **cams = g_key_file_get_string_list (ld->kf, group, "cameras", NULL, NULL);
  const gchar *fixed = r->zone ? r->zone->camera : r->line ? r->line->camera : NULL;
  for (guint i = 0; cams && cams[i]; i++) {
    g_strstrip (cams[i]);
    if (!check_camera (ld, group, cams[i], error)
        || (fixed && !g_str_equal (fixed, cams[i]))) {
      if (fixed && !g_str_equal (fixed, cams[i]))
        FAIL (ld, group, "cameras: \"%s\" is not the camera of %s \"%s\" (%s)", cams[i],
            r->zone ? "zone" : "line", r->zone ? r->zone->name : r->line->name, fixed);
      g_strfreev (cams);
      return FALSE;
    }
  }
  if (fixed) {
    g_strfreev (cams);
    cams = g_new0 (gchar *, 2);
    cams[0] = g_strdup (fixed);
  }
  r->cameras = cams;

  gdouble count = 0;
  gboolean needs_seconds = r->condition != SR_COND_LINE_CROSSED;
  if (needs_seconds && !g_key_file_has_key (ld->kf, group, "seconds", NULL)) {
    FAIL (ld, group, "seconds: missing (how long the %s condition must hold)",
        condition_names[r->condition]);
    return FALSE;
  }
  if (!needs_seconds && g_key_file_has_key (ld->kf, group, "seconds", NULL)) {
    FAIL (ld, group, "seconds: line-crossed is instantaneous");
    return FALSE;
  }
  if (r->condition == SR_COND_CROWD && !g_key_file_has_key (ld->kf, group, "count", NULL)) {
    FAIL (ld, group, "count: crowd needs count= (objects at once)");
    return FALSE;
  }
  if (r->condition != SR_COND_CROWD && g_key_file_has_key (ld->kf, group, "count", NULL)) {
    FAIL (ld, group, "count: only crowd has a count");
    return FALSE;
  }
  if (!get_double (ld, group, "seconds", 0, 0, 86400, &r->seconds, error)
      || !get_double (ld, group, "count", 0, 1, 10000, &count, error)
      || !get_double (ld, group, "min-area", 0, 0, 1, &r->min_area, error)
      || !get_double (ld, group, "max-area", 1, 0, 1, &r->max_area, error)
      || !get_double (ld, group, "min-aspect", 0, 0, 1000, &r->min_aspect, error)
      || !get_double (ld, group, "max-aspect", 1000, 0, 1000, &r->max_aspect, error)
      || !get_double (ld, group, "min-score", DEFAULT_MIN_SCORE, 0, 1, &r->min_score, error)
      || !get_double (ld, group, "inertia", DEFAULT_INERTIA, 0, 3600, &r->inertia, error)
      || !get_double (ld, group, "clear-seconds", DEFAULT_CLEAR, 0, 86400, &r->clear_seconds,
          error)
      || !get_double (ld, group, "min-iou", DEFAULT_MIN_IOU, 0, 1, &r->min_iou, error))
    return FALSE;
  if (count != floor (count)) {
    FAIL (ld, group, "count=%g: must be a whole number", count);
    return FALSE;
  }
  r->count = (guint) count;
  if (r->min_area > r->max_area || r->min_aspect > r->max_aspect) {
    FAIL (ld, group, "min-area/max-area or min-aspect/max-aspect: minimum above maximum");
    return FALSE;
  }
  return TRUE;
}

static gboolean
load (Loader * ld, const gchar * data, gsize len, GError ** error)
{
  GError *e = NULL;
  if (!check_duplicate_groups (ld, data, len, error))
    return FALSE;
  if (!g_key_file_load_from_data (ld->kf, data, len, G_KEY_FILE_NONE, &e)) {
    g_set_error (error, SR_RULES_ERROR, SR_RULES_ERROR_READ, "%s: %s", ld->rules->path,
        e->message);
    g_error_free (e);
    return FALSE;
  }
  gchar **groups = g_key_file_get_groups (ld->kf, NULL);
  gboolean ok = TRUE;
  /* cameras and label groups first: zones and rules refer to them */
  for (guint i = 0; ok && groups[i]; i++) {
    if (g_str_has_prefix (groups[i], "camera:")) {
      const gchar *id = groups[i] + strlen ("camera:");
      if (!*id || strlen (id) > 128) {
        FAIL (ld, groups[i], "camera id must be 1..128 bytes");
        ok = FALSE;
      } else if (!check_keys (ld, groups[i], (const gchar *[]) { NULL }, error)) {
        ok = FALSE;
      } else {
        g_ptr_array_add (ld->rules->cameras, g_strdup (id));
      }
    } else if (!g_str_equal (groups[i], "labels") && !g_str_has_prefix (groups[i], "zone:")
        && !g_str_has_prefix (groups[i], "line:")
        && !g_str_has_prefix (groups[i], "situation:")) {
      FAIL (ld, groups[i], "unknown group (use [camera:ID], [labels], [zone:NAME], "
          "[line:NAME], [situation:NAME])");
      ok = FALSE;
    }
  }
  ok = ok && load_label_groups (ld, error);
  for (guint i = 0; ok && groups[i]; i++) {
    const gchar *g = groups[i];
    if (g_str_has_prefix (g, "zone:") || g_str_has_prefix (g, "line:")) {
      const gchar *name = strchr (g, ':') + 1;
      if (!safe_name (name)) {
        FAIL (ld, g, "names use 1..%d of A-Z a-z 0-9 _ -", SAFE_NAME_MAX);
        ok = FALSE;
      } else {
        ok = g[0] == 'z' ? load_zone (ld, g, name, error) : load_line (ld, g, name, error);
      }
    }
  }
  for (guint i = 0; ok && groups[i]; i++)
    if (g_str_has_prefix (groups[i], "situation:"))
      ok = load_rule (ld, groups[i], groups[i] + strlen ("situation:"), error);
  if (ok && ld->rules->rules->len == 0) {
    g_set_error (error, SR_RULES_ERROR, SR_RULES_ERROR_INVALID,
        "%s: no [situation:NAME] group: nothing would ever be raised", ld->rules->path);
    ok = FALSE;
  }
  g_strfreev (groups);
  return ok;
}

SrRules *
sr_rules_load_data (const gchar * data, gsize length, const gchar * origin,
    const gchar * const *model_labels, GError ** error)
{
  SrRules *rules = g_new0 (SrRules, 1);
  Loader ld = { rules, g_key_file_new (), model_labels,
    g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify) g_strfreev)
  };
  rules->path = g_strdup (origin ? origin : "(rules)");
  rules->cameras = g_ptr_array_new_with_free_func (g_free);
  rules->zones = g_ptr_array_new_with_free_func ((GDestroyNotify) zone_free);
  rules->lines = g_ptr_array_new_with_free_func ((GDestroyNotify) line_free);
  rules->rules = g_ptr_array_new_with_free_func ((GDestroyNotify) rule_free);
  gboolean ok = load (&ld, data, length, error);
  g_key_file_unref (ld.kf);
  g_hash_table_unref (ld.groups);
  if (!ok) {
    sr_rules_free (rules);
    return NULL;
  }
  return rules;
}

SrRules *
sr_rules_load (const gchar * path, const gchar * const *model_labels, GError ** error)
{
  gchar *data = NULL;
  gsize len = 0;
  GError *e = NULL;
  if (!g_file_get_contents (path, &data, &len, &e)) {
    g_set_error (error, SR_RULES_ERROR, SR_RULES_ERROR_READ, "cannot read rules file: %s",
        e->message);
    g_error_free (e);
    return NULL;
  }
  SrRules *r = sr_rules_load_data (data, len, path, model_labels, error);
  g_free (data);
  return r;
}

/* ------------------------------------------------------------------ */
/* engine */

/* Hysteresis of one condition: holding since @since (0 = not holding),
 * last seen true at @last_true; gaps shorter than the rule's inertia do not
 * break the run. */
typedef struct {
  gint64 since, last_true;
  gboolean alerted;
} Hyst;

typedef struct {
  guint64 id;
  const gchar *label;
  AnBox box;
  gint64 first_us, last_us;
  gfloat scores[SCORE_HISTORY];
  guint n_scores, score_pos;
  gdouble median;               /* of scores[], updated with each box */
  gdouble anchor_x, anchor_y;   /* px: where it stopped */
  gint64 stationary_since;
  gboolean was_upright;
  AnPoint last_pos;             /* last anchor with a non-zero side per line rule below */
  Hyst *hyst;                   /* per rule */
  gint8 *side;                  /* per rule: last non-zero side of the rule's line */
  AnPoint *side_pos;
} Track;

typedef struct {
  guint64 a, b;
  guint rule;
  gint64 overlap_us;
  Hyst h;
} Pair;

typedef struct {
  gchar *id;
  gint64 last_us;
  GHashTable *tracks;           /* guint64* -> Track */
  Hyst *episode;                /* per rule: crowd, label */
  GArray *episode_objs;         /* scratch */
  GHashTable *pairs;            /* Pair* (key = itself: a, b, rule) */
} Camera;

/* At most this many candidate pairs per camera (a flood of overlapping boxes
 * must not grow memory without bound). */
#define MAX_PAIRS 4096

static guint
pair_hash (gconstpointer p)
{
  const Pair *x = p;
  return (guint) (x->a * 2654435761u) ^ (guint) (x->b * 40503u) ^ x->rule;
}

static gboolean
pair_equal (gconstpointer p, gconstpointer q)
{
  const Pair *x = p, *y = q;
  return x->a == y->a && x->b == y->b && x->rule == y->rule;
}

struct _SrEngine {
  const SrRules *rules;
  guint max_objects;
  gint64 track_timeout_us;
  GHashTable *cameras;          /* id -> Camera */
  SrEngineStats stats;
};

static void
track_free (Track * t)
{
  g_free (t->hyst);
  g_free (t->side);
  g_free (t->side_pos);
  g_free (t);
}

static void
camera_free (Camera * c)
{
  g_free (c->id);
  g_hash_table_unref (c->tracks);
  g_free (c->episode);
  g_hash_table_unref (c->pairs);
  g_free (c);
}

SrEngine *
sr_engine_new (const SrRules * rules, guint max_objects, gdouble track_timeout_s)
{
  SrEngine *e = g_new0 (SrEngine, 1);
  e->rules = rules;
  e->max_objects = max_objects ? max_objects : 1024;
  e->track_timeout_us = (gint64) (track_timeout_s * G_USEC_PER_SEC);
  e->cameras = g_hash_table_new_full (g_str_hash, g_str_equal, NULL,
      (GDestroyNotify) camera_free);
  return e;
}

void
sr_engine_free (SrEngine * e)
{
  if (!e)
    return;
  g_hash_table_unref (e->cameras);
  g_free (e);
}

void
sr_engine_get_stats (const SrEngine * e, SrEngineStats * stats)
{
  *stats = e->stats;
}

void
sr_alert_free (SrAlert * a)
{
  if (!a)
    return;
  g_free (a->situation);
  g_free (a->camera);
  g_free (a->zone);
  g_free (a->labels);
  if (a->objects)
    g_array_unref (a->objects);
  g_free (a);
}

static gint
cmp_float (gconstpointer a, gconstpointer b)
{
  gfloat x = *(const gfloat *) a, y = *(const gfloat *) b;
  return x < y ? -1 : x > y;
}

static gdouble
track_median (const Track * t)
{
  return t->median;
}

static gdouble
compute_median (const Track * t)
{
  gfloat tmp[SCORE_HISTORY];
  if (t->n_scores == 0)
    return 0;
  memcpy (tmp, t->scores, t->n_scores * sizeof (gfloat));
  qsort (tmp, t->n_scores, sizeof (gfloat), cmp_float);
  return t->n_scores % 2 ? tmp[t->n_scores / 2]
      : (tmp[t->n_scores / 2 - 1] + tmp[t->n_scores / 2]) / 2.0;
}

static Camera *
get_camera (SrEngine * e, const gchar * id)
{
  Camera *c = g_hash_table_lookup (e->cameras, id);
  if (c)
    return c;
  c = g_new0 (Camera, 1);
  c->id = g_strdup (id);
  c->last_us = G_MININT64;
  c->tracks = g_hash_table_new_full (g_int64_hash, g_int64_equal, NULL,
      (GDestroyNotify) track_free);
  c->episode = g_new0 (Hyst, e->rules->rules->len);
  c->pairs = g_hash_table_new_full (pair_hash, pair_equal, g_free, NULL);
  g_hash_table_insert (e->cameras, c->id, c);
  return c;
}

static gboolean
rule_applies (const SrRule * r, const gchar * camera)
{
  return r->cameras == NULL || g_strv_contains ((const gchar * const *) r->cameras, camera);
}

static gboolean
passes_filter (const SrRule * r, const gchar * label, gdouble median, const AnBox * b,
    guint fw, guint fh)
{
  if (r->labels && !g_hash_table_contains (r->labels, label))
    return FALSE;
  gdouble area = an_box_area (b);
  if (area < r->min_area || area > r->max_area)
    return FALSE;
  gdouble h = (b->y1 - b->y0) * fh, w = (b->x1 - b->x0) * fw;
  gdouble aspect = h > 0 ? w / h : 1000;
  if (aspect < r->min_aspect || aspect > r->max_aspect)
    return FALSE;
  return median >= r->min_score;
}

static gboolean
in_zone (const SrRule * r, const AnBox * b)
{
  return r->zone == NULL || an_polygon_contains (r->zone->points, r->zone->n_points,
      an_box_anchor (b));
}

/* Update a hysteresis with the condition's value at @t. Returns +1 when it
 * should be raised now, -1 when an alerted run has ended (cleared), else 0. */
static gint
hyst_update (Hyst * h, const SrRule * r, gboolean cond, gint64 t)
{
  gint64 inertia = (gint64) (r->inertia * G_USEC_PER_SEC);
  gint64 clear = (gint64) (r->clear_seconds * G_USEC_PER_SEC);
  gint64 need = (gint64) (r->seconds * G_USEC_PER_SEC);
  if (cond) {
    if (h->since == 0 || t - h->last_true > inertia)
      h->since = t;
    h->last_true = t;
    if (!h->alerted && t - h->since >= need) {
      h->alerted = TRUE;
      return 1;
    }
    return 0;
  }
  if (h->since && t - h->last_true > inertia && !h->alerted)
    h->since = 0;
  if (h->alerted && t - h->last_true >= MAX (clear, inertia)) {
    h->alerted = FALSE;
    h->since = 0;
    return -1;
  }
  return 0;
}

static SrAlert *
alert_new (const SrRule * r, const Camera * c, gboolean cleared, gint64 start, gint64 t)
{
  SrAlert *a = g_new0 (SrAlert, 1);
  a->cleared = cleared;
  a->situation = g_strdup (r->name);
  a->camera = g_strdup (c->id);
  a->zone = g_strdup (r->zone ? r->zone->name : r->line ? r->line->name : NULL);
  a->condition = r->condition;
  a->start_us = start;
  a->time_us = t;
  a->objects = g_array_new (FALSE, FALSE, sizeof (SrAlertObject));
  a->confidence = 1.0;
  return a;
}

static void
alert_add (SrAlert * a, guint64 id, const gchar * label, gdouble score, const AnBox * b)
{
  SrAlertObject o = { id, label, score, *b };
  g_array_append_val (a->objects, o);
  a->confidence = MIN (a->confidence, score);
}

static void
alert_finish (SrAlert * a)
{
  GString *s = g_string_new ("");
  for (guint i = 0; i < a->objects->len; i++) {
    const gchar *l = g_array_index (a->objects, SrAlertObject, i).label;
    gboolean dup = FALSE;
    for (guint k = 0; k < i && !dup; k++)
      dup = g_array_index (a->objects, SrAlertObject, k).label == l;
    if (!dup && l)
      g_string_append_printf (s, "%s%s", s->len ? "," : "", l);
  }
  if (a->objects->len == 0)
    a->confidence = 0;
  a->labels = g_string_free (s, FALSE);
}

static Track *
update_track (SrEngine * e, Camera * c, const SrObject * o, gint64 t, guint fw, guint fh)
{
  Track *tr = g_hash_table_lookup (c->tracks, &o->track_id);
  guint nr = e->rules->rules->len;
  AnPoint p = an_box_anchor (&o->box);
  gdouble px = p.x * fw, py = p.y * fh;
  gdouble w = (o->box.x1 - o->box.x0) * fw, h = (o->box.y1 - o->box.y0) * fh;
  if (!tr) {
    tr = g_new0 (Track, 1);
    tr->id = o->track_id;
    tr->first_us = t;
    tr->hyst = g_new0 (Hyst, nr);
    tr->side = g_new0 (gint8, nr);
    tr->side_pos = g_new0 (AnPoint, nr);
    tr->anchor_x = px;
    tr->anchor_y = py;
    tr->stationary_since = t;
    g_hash_table_insert (c->tracks, &tr->id, tr);
  }
  tr->label = g_intern_string (o->label ? o->label : "");
  tr->box = o->box;
  tr->last_us = t;
  tr->scores[tr->score_pos] = (gfloat) o->score;
  tr->score_pos = (tr->score_pos + 1) % SCORE_HISTORY;
  tr->n_scores = MIN (tr->n_scores + 1, SCORE_HISTORY);
  /* once per box, not per rule and pair: collision rules look at n^2 pairs */
  tr->median = compute_median (tr);
  gdouble radius = MAX (STATIONARY_MIN_PX, STATIONARY_RADIUS * sqrt (MAX (w * h, 0)));
  if (hypot (px - tr->anchor_x, py - tr->anchor_y) > radius) {
    tr->anchor_x = px;
    tr->anchor_y = py;
    tr->stationary_since = t;
  }
  if (w > 0 && h / w >= UPRIGHT_RATIO)
    tr->was_upright = TRUE;
  return tr;
}

static gboolean
track_condition (const SrRule * r, Track * tr, guint ri, gint64 t, guint fw, guint fh)
{
  gdouble w = (tr->box.x1 - tr->box.x0) * fw, h = (tr->box.y1 - tr->box.y0) * fh;
  switch (r->condition) {
    case SR_COND_IN_ZONE:
      return in_zone (r, &tr->box);
    case SR_COND_STATIONARY:
      return in_zone (r, &tr->box)
          && t - tr->stationary_since >= (gint64) (r->seconds * G_USEC_PER_SEC);
    case SR_COND_PERSON_DOWN:
      return in_zone (r, &tr->box) && tr->was_upright && h > 0 && w / h >= LYING_RATIO;
    default:
      return FALSE;
  }
}

static void
eval_line (const SrRule * r, Camera * c, Track * tr, guint ri, gint64 t, GPtrArray * out,
    gdouble median)
{
  AnPoint p = an_box_anchor (&tr->box);
  gdouble s = an_side (r->line->a, r->line->b, p);
  gint8 side = s > 1e-12 ? 1 : (s < -1e-12 ? -1 : 0);
  if (side == 0)
    return;
  if (tr->side[ri] != 0 && tr->side[ri] != side && !tr->hyst[ri].alerted) {
    AnCrossing x = an_line_crossing (r->line->a, r->line->b, tr->side_pos[ri], p);
    if (x != AN_CROSS_NONE && (r->direction == SR_DIR_BOTH
            || (r->direction == SR_DIR_LEFT_TO_RIGHT && x == AN_CROSS_LEFT_TO_RIGHT)
            || (r->direction == SR_DIR_RIGHT_TO_LEFT && x == AN_CROSS_RIGHT_TO_LEFT))) {
      SrAlert *a = alert_new (r, c, FALSE, t, t);
      tr->hyst[ri].alerted = TRUE;
      alert_add (a, tr->id, tr->label, median, &tr->box);
      alert_finish (a);
      g_ptr_array_add (out, a);
    }
  }
  tr->side[ri] = side;
  tr->side_pos[ri] = p;
}

static void
eval_track_rules (SrEngine * e, Camera * c, gint64 t, guint fw, guint fh, GPtrArray * out)
{
  GHashTableIter it;
  Track *tr;
  g_hash_table_iter_init (&it, c->tracks);
  while (g_hash_table_iter_next (&it, NULL, (gpointer *) & tr)) {
    gboolean seen = tr->last_us == t;
    gdouble median = track_median (tr);
    for (guint ri = 0; ri < e->rules->rules->len; ri++) {
      const SrRule *r = g_ptr_array_index (e->rules->rules, ri);
      if (!rule_applies (r, c->id))
        continue;
      gboolean ok = seen && passes_filter (r, tr->label, median, &tr->box, fw, fh);
      if (r->condition == SR_COND_LINE_CROSSED) {
        if (ok)
          eval_line (r, c, tr, ri, t, out, median);
        continue;
      }
      if (r->condition != SR_COND_IN_ZONE && r->condition != SR_COND_STATIONARY
          && r->condition != SR_COND_PERSON_DOWN)
        continue;
      gboolean cond = ok && track_condition (r, tr, ri, t, fw, fh);
      gint64 since = tr->hyst[ri].since;
      gint what;
      if (r->condition == SR_COND_STATIONARY) {
        /* the track's own stationary clock already measured the time */
        SrRule r0 = *r;
        r0.seconds = 0;
        what = hyst_update (&tr->hyst[ri], &r0, cond, t);
        if (what > 0)
          tr->hyst[ri].since = since = tr->stationary_since;
      } else {
        what = hyst_update (&tr->hyst[ri], r, cond, t);
        since = tr->hyst[ri].since ? tr->hyst[ri].since : since;
      }
      if (what != 0) {
        SrAlert *a = alert_new (r, c, what < 0, since, t);
        alert_add (a, tr->id, tr->label, median, &tr->box);
        alert_finish (a);
        g_ptr_array_add (out, a);
      }
    }
  }
}

static void
eval_episode_rules (SrEngine * e, Camera * c, gint64 t, guint fw, guint fh,
    const SrObject * objs, guint n, GPtrArray * out)
{
  for (guint ri = 0; ri < e->rules->rules->len; ri++) {
    const SrRule *r = g_ptr_array_index (e->rules->rules, ri);
    if (!rule_applies (r, c->id) || (r->condition != SR_COND_CROWD
            && r->condition != SR_COND_LABEL))
      continue;
    SrAlert *a = alert_new (r, c, FALSE, 0, t);
    for (guint i = 0; i < n; i++) {
      const SrObject *o = &objs[i];
      Track *tr = o->track_id ? g_hash_table_lookup (c->tracks, &o->track_id) : NULL;
      gdouble median = tr ? track_median (tr) : o->score;
      if (passes_filter (r, o->label, median, &o->box, fw, fh) && in_zone (r, &o->box))
        alert_add (a, o->track_id, g_intern_string (o->label), median, &o->box);
    }
    gboolean cond = r->condition == SR_COND_CROWD ? a->objects->len >= r->count
        : a->objects->len > 0;
    gint64 since = c->episode[ri].since;
    gint what = hyst_update (&c->episode[ri], r, cond, t);
    if (what == 0) {
      sr_alert_free (a);
      continue;
    }
    a->cleared = what < 0;
    a->start_us = c->episode[ri].since ? c->episode[ri].since : since;
    alert_finish (a);
    g_ptr_array_add (out, a);
  }
}

static Pair *
find_pair (Camera * c, guint ri, guint64 a, guint64 b)
{
  Pair key = { a, b, ri, 0, {0, 0, FALSE} };
  return g_hash_table_lookup (c->pairs, &key);
}

/* Seen to move recently: its stationary anchor moved (a track's first frame
 * says nothing about motion) less than COLLISION_MOVING_S ago. */
static gboolean
track_moving (const Track * tr, gint64 t)
{
  return tr->stationary_since > tr->first_us
      && t - tr->stationary_since < COLLISION_MOVING_S * G_USEC_PER_SEC;
}

static void
eval_collisions (SrEngine * e, Camera * c, gint64 t, guint fw, guint fh, GPtrArray * out)
{
  GPtrArray *now = g_ptr_array_new ();
  GHashTableIter it;
  Track *tr;
  g_hash_table_iter_init (&it, c->tracks);
  while (g_hash_table_iter_next (&it, NULL, (gpointer *) & tr))
    if (tr->last_us == t)
      g_ptr_array_add (now, tr);

  for (guint ri = 0; ri < e->rules->rules->len; ri++) {
    const SrRule *r = g_ptr_array_index (e->rules->rules, ri);
    if (!rule_applies (r, c->id) || r->condition != SR_COND_COLLISION)
      continue;
    gint64 need = (gint64) (r->seconds * G_USEC_PER_SEC);
    /* new overlaps between moving tracks (filtered once, then the pairs) */
    GPtrArray *ok = g_ptr_array_new ();
    for (guint i = 0; i < now->len; i++) {
      Track *x = g_ptr_array_index (now, i);
      if (passes_filter (r, x->label, track_median (x), &x->box, fw, fh))
        g_ptr_array_add (ok, x);
    }
    for (guint i = 0; i < ok->len; i++) {
      Track *x = g_ptr_array_index (ok, i);
      if (!in_zone (r, &x->box))
        continue;
      for (guint j = 0; j < ok->len; j++) {
        Track *y = g_ptr_array_index (ok, j);
        if (y->id <= x->id)
          continue;
        if (an_box_iou (&x->box, &y->box) < MAX (r->min_iou, 1e-9))
          continue;
        gboolean moving = track_moving (x, t) || track_moving (y, t);
        if (moving && g_hash_table_size (c->pairs) < MAX_PAIRS
            && !find_pair (c, ri, x->id, y->id)) {
          Pair *p = g_new0 (Pair, 1);
          p->a = x->id;
          p->b = y->id;
          p->rule = ri;
          p->overlap_us = t;
          g_hash_table_add (c->pairs, p);
        }
      }
    }
    g_ptr_array_unref (ok);
    /* pairs that overlapped: both stationary (and still touching) for >= T */
    GHashTableIter pit;
    Pair *p;
    g_hash_table_iter_init (&pit, c->pairs);
    while (g_hash_table_iter_next (&pit, (gpointer *) & p, NULL)) {
      if (p->rule != ri)
        continue;
      Track *x = g_hash_table_lookup (c->tracks, &p->a);
      Track *y = g_hash_table_lookup (c->tracks, &p->b);
      gboolean cond = x && y && x->last_us == t && y->last_us == t
          && an_box_iou (&x->box, &y->box) > 0
          && t - MAX (x->stationary_since, y->stationary_since) >= need;
      SrRule r0 = *r;
      r0.seconds = 0;
      gint what = hyst_update (&p->h, &r0, cond, t);
      if (what == 0)
        continue;
      SrAlert *a = alert_new (r, c, what < 0, p->overlap_us, t);
      if (x)
        alert_add (a, x->id, x->label, track_median (x), &x->box);
      if (y)
        alert_add (a, y->id, y->label, track_median (y), &y->box);
      alert_finish (a);
      g_ptr_array_add (out, a);
    }
  }
  g_ptr_array_unref (now);
}

/* Forget tracks not seen for the timeout (clearing their alerts) and the
 * pairs that name them. */
static void
purge (SrEngine * e, Camera * c, gint64 t, GPtrArray * out)
{
  GHashTableIter it;
  Track *tr;
  g_hash_table_iter_init (&it, c->tracks);
  while (g_hash_table_iter_next (&it, NULL, (gpointer *) & tr)) {
    if (t - tr->last_us <= e->track_timeout_us)
      continue;
    for (guint ri = 0; ri < e->rules->rules->len; ri++) {
      const SrRule *r = g_ptr_array_index (e->rules->rules, ri);
      if (tr->hyst[ri].alerted && r->condition != SR_COND_LINE_CROSSED) {
        SrAlert *a = alert_new (r, c, TRUE, tr->hyst[ri].since, t);
        alert_add (a, tr->id, tr->label, track_median (tr), &tr->box);
        alert_finish (a);
        g_ptr_array_add (out, a);
      }
    }
    GHashTableIter pit;
    Pair *p;
    g_hash_table_iter_init (&pit, c->pairs);
    while (g_hash_table_iter_next (&pit, (gpointer *) & p, NULL)) {
      if (p->a != tr->id && p->b != tr->id)
        continue;
      if (p->h.alerted) {
        const SrRule *r = g_ptr_array_index (e->rules->rules, p->rule);
        SrAlert *a = alert_new (r, c, TRUE, p->overlap_us, t);
        alert_finish (a);
        g_ptr_array_add (out, a);
      }
      g_hash_table_iter_remove (&pit);
    }
    g_hash_table_iter_remove (&it);
  }
}

GPtrArray *
sr_engine_update (SrEngine * e, const gchar * camera, gint64 time_us, guint fw, guint fh,
    const SrObject * objects, guint n_objects)
{
  GPtrArray *out = g_ptr_array_new_with_free_func ((GDestroyNotify) sr_alert_free);
  Camera *c = get_camera (e, camera ? camera : "");
  if (time_us < c->last_us) {
    e->stats.out_of_order++;
    return out;
  }
  /* time 0 means "unset" in the hysteresis: keep real times above it */
  time_us = MAX (time_us, 1);
  c->last_us = time_us;
  e->stats.frames++;
  fw = MAX (fw, 1);
  fh = MAX (fh, 1);
  if (n_objects > e->max_objects) {
    e->stats.objects_dropped += n_objects - e->max_objects;
    n_objects = e->max_objects;
  }
  for (guint i = 0; i < n_objects; i++)
    if (objects[i].track_id != 0)
      update_track (e, c, &objects[i], time_us, fw, fh);
  eval_track_rules (e, c, time_us, fw, fh, out);
  eval_episode_rules (e, c, time_us, fw, fh, objects, n_objects, out);
  eval_collisions (e, c, time_us, fw, fh, out);
  purge (e, c, time_us, out);
  return out;
}
