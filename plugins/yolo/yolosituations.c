/* yolov4infer situations: see yolosituations.h. */
#include "yolosituations.h"

#include <string.h>

G_DEFINE_QUARK (yolo-situations-error-quark, yolo_situations_error);

typedef struct {
  gchar *a, *b;
} Pair;

typedef struct {
  gchar *name;
  gchar **any_labels;     /* labels= */
  gchar **all_labels;     /* all-labels= */
  Pair *pairs;            /* pairs= */
  guint n_pairs;
  gdouble min_confidence;
  gdouble min_iou;
  guint min_frames;
  /* run state */
  guint run;
  gboolean raised;
} Rule;

struct _YoloSituations {
  Rule *rules;
  guint n_rules;
};

#define DEFAULT_MIN_CONFIDENCE 0.5
#define DEFAULT_MIN_FRAMES 3
#define DEFAULT_MIN_IOU 0.3

static void
rule_clear (Rule * r)
{
  g_free (r->name);
  g_strfreev (r->any_labels);
  g_strfreev (r->all_labels);
  for (guint i = 0; i < r->n_pairs; i++) {
    g_free (r->pairs[i].a);
    g_free (r->pairs[i].b);
  }
  g_free (r->pairs);
}

void
yolo_situations_free (YoloSituations * s)
{
  if (!s)
    return;
  for (guint i = 0; i < s->n_rules; i++)
    rule_clear (&s->rules[i]);
  g_free (s->rules);
  g_free (s);
}

static gchar **
get_list (GKeyFile * kf, const gchar * group, const gchar * key)
{
  gsize n = 0;
  gchar **v = g_key_file_get_string_list (kf, group, key, &n, NULL);
  if (!v)
    return NULL;
  GPtrArray *out = g_ptr_array_new ();
  for (gsize i = 0; i < n; i++) {
    gchar *t = g_strstrip (g_strdup (v[i]));
    if (*t)
      g_ptr_array_add (out, t);
    else
      g_free (t);
  }
  g_strfreev (v);
  g_ptr_array_add (out, NULL);
  return (gchar **) g_ptr_array_free (out, FALSE);
}

static gboolean
get_double (GKeyFile * kf, const gchar * group, const gchar * key, gdouble def,
    gdouble lo, gdouble hi, gdouble * out, GError ** error)
{
  GError *e = NULL;
  if (!g_key_file_has_key (kf, group, key, NULL)) {
    *out = def;
    return TRUE;
  }
  gdouble v = g_key_file_get_double (kf, group, key, &e);
  if (e) {
    g_set_error (error, YOLO_SITUATIONS_ERROR, YOLO_SITUATIONS_ERROR_PARSE,
        "[%s] %s: %s", group, key, e->message);
    g_error_free (e);
    return FALSE;
  }
  if (v < lo || v > hi) {
    g_set_error (error, YOLO_SITUATIONS_ERROR, YOLO_SITUATIONS_ERROR_INVALID,
        "[%s] %s=%g is outside [%g, %g]", group, key, v, lo, hi);
    return FALSE;
  }
  *out = v;
  return TRUE;
}

static YoloSituations *
from_keyfile (GKeyFile * kf, const gchar * origin, GError ** error)
{
  gsize n_groups = 0;
  gchar **groups = g_key_file_get_groups (kf, &n_groups);
  YoloSituations *s = g_new0 (YoloSituations, 1);
  s->rules = g_new0 (Rule, MAX (n_groups, 1));

  for (gsize g = 0; g < n_groups; g++) {
    const gchar *grp = groups[g];
    Rule *r = &s->rules[s->n_rules++];
    gdouble frames;
    r->name = g_strdup (grp);
    r->any_labels = get_list (kf, grp, "labels");
    r->all_labels = get_list (kf, grp, "all-labels");
    gchar **pairs = get_list (kf, grp, "pairs");
    if (pairs) {
      r->pairs = g_new0 (Pair, g_strv_length (pairs) + 1);
      for (gchar ** p = pairs; *p; p++) {
        gchar **ab = g_strsplit (*p, "+", 0);
        if (g_strv_length (ab) != 2 || !*g_strstrip (ab[0]) || !*g_strstrip (ab[1])) {
          g_set_error (error, YOLO_SITUATIONS_ERROR, YOLO_SITUATIONS_ERROR_INVALID,
              "%s: [%s] pairs: \"%s\" is not LABEL+LABEL", origin, grp, *p);
          g_strfreev (ab);
          g_strfreev (pairs);
          goto fail;
        }
        r->pairs[r->n_pairs].a = g_strdup (ab[0]);
        r->pairs[r->n_pairs].b = g_strdup (ab[1]);
        r->n_pairs++;
        g_strfreev (ab);
      }
      g_strfreev (pairs);
    }
    if (!r->any_labels && !r->all_labels && r->n_pairs == 0) {
      g_set_error (error, YOLO_SITUATIONS_ERROR, YOLO_SITUATIONS_ERROR_INVALID,
          "%s: [%s] has no rule: set labels=, all-labels= or pairs=", origin, grp);
      goto fail;
    }
    {
      static const gchar *known[] = { "labels", "all-labels", "pairs",
        "min-confidence", "min-frames", "min-iou", NULL
      };
      gchar **keys = g_key_file_get_keys (kf, grp, NULL, NULL);
      for (gchar ** k = keys; k && *k; k++) {
        if (!g_strv_contains (known, *k)) {
          g_set_error (error, YOLO_SITUATIONS_ERROR, YOLO_SITUATIONS_ERROR_INVALID,
              "%s: [%s] unknown key \"%s\"", origin, grp, *k);
          g_strfreev (keys);
          goto fail;
        }
      }
      g_strfreev (keys);
    }
    if (!get_double (kf, grp, "min-confidence", DEFAULT_MIN_CONFIDENCE, 0.0, 1.0,
            &r->min_confidence, error)
        || !get_double (kf, grp, "min-iou", DEFAULT_MIN_IOU, 0.0, 1.0,
            &r->min_iou, error)
        || !get_double (kf, grp, "min-frames", DEFAULT_MIN_FRAMES, 1, 10000,
            &frames, error)) {
      g_prefix_error (error, "%s: ", origin);
      goto fail;
    }
    r->min_frames = (guint) frames;
  }
  g_strfreev (groups);
  return s;

fail:
  g_strfreev (groups);
  yolo_situations_free (s);
  return NULL;
}

YoloSituations *
yolo_situations_load_data (const gchar * data, gssize len, GError ** error)
{
  GKeyFile *kf = g_key_file_new ();
  YoloSituations *s = NULL;
  GError *e = NULL;
  if (len < 0)
    len = strlen (data);
  if (!g_key_file_load_from_data (kf, data, len, G_KEY_FILE_NONE, &e)) {
    g_set_error (error, YOLO_SITUATIONS_ERROR, YOLO_SITUATIONS_ERROR_PARSE,
        "situations: %s", e->message);
    g_error_free (e);
  } else {
    s = from_keyfile (kf, "situations", error);
  }
  g_key_file_unref (kf);
  return s;
}

YoloSituations *
yolo_situations_load (const gchar * path, GError ** error)
{
  GKeyFile *kf = g_key_file_new ();
  YoloSituations *s = NULL;
  GError *e = NULL;
  if (!g_key_file_load_from_file (kf, path, G_KEY_FILE_NONE, &e)) {
    g_set_error (error, YOLO_SITUATIONS_ERROR, YOLO_SITUATIONS_ERROR_PARSE,
        "situations file %s: %s", path, e->message);
    g_error_free (e);
  } else {
    s = from_keyfile (kf, path, error);
  }
  g_key_file_unref (kf);
  return s;
}

guint
yolo_situations_count (const YoloSituations * s)
{
  return s ? s->n_rules : 0;
}

void
yolo_situations_reset (YoloSituations * s)
{
  for (guint i = 0; s && i < s->n_rules; i++) {
    s->rules[i].run = 0;
    s->rules[i].raised = FALSE;
  }
}

static const gchar *
label_of (const gchar * const *labels, gint id)
{
  if (!labels || id < 0)
    return NULL;
  for (gint i = 0; labels[i]; i++)
    if (i == id)
      return labels[i];
  return NULL;
}

static void
add_label (GPtrArray * used, const gchar * l)
{
  for (guint i = 0; i < used->len; i++)
    if (!g_strcmp0 (g_ptr_array_index (used, i), l))
      return;
  g_ptr_array_add (used, (gpointer) l);
}

/* Does this frame support the rule? Fills confidence (best supporting
 * detection, or the weaker of the best pair / the weakest required label)
 * and the labels used. */
static gboolean
rule_supported (const Rule * r, const GArray * dets, const gchar * const *labels,
    gint fw, gint fh, gdouble * conf, GPtrArray * used)
{
  gboolean ok = FALSE;
  gdouble best = 0.0;

  if (r->any_labels) {
    for (guint i = 0; i < dets->len; i++) {
      const YoloDetection *d = &g_array_index (dets, YoloDetection, i);
      const gchar *l = label_of (labels, d->class_id);
      if (l && d->confidence >= r->min_confidence
          && g_strv_contains ((const gchar * const *) r->any_labels, l)) {
        ok = TRUE;
        best = MAX (best, d->confidence);
        add_label (used, l);
      }
    }
  }
  if (r->all_labels) {
    gdouble weakest = 1.0;
    gboolean all = TRUE;
    for (gchar ** want = r->all_labels; *want && all; want++) {
      gdouble top = -1.0;
      for (guint i = 0; i < dets->len; i++) {
        const YoloDetection *d = &g_array_index (dets, YoloDetection, i);
        const gchar *l = label_of (labels, d->class_id);
        if (l && !strcmp (l, *want) && d->confidence >= r->min_confidence)
          top = MAX (top, d->confidence);
      }
      if (top < 0)
        all = FALSE;
      else
        weakest = MIN (weakest, top);
    }
    if (all) {
      ok = TRUE;
      best = MAX (best, weakest);
      for (gchar ** want = r->all_labels; *want; want++)
        add_label (used, *want);
    }
  }
  for (guint p = 0; p < r->n_pairs; p++) {
    for (guint i = 0; i < dets->len; i++) {
      const YoloDetection *a = &g_array_index (dets, YoloDetection, i);
      const gchar *la = label_of (labels, a->class_id);
      if (!la || a->confidence < r->min_confidence)
        continue;
      for (guint j = 0; j < dets->len; j++) {
        if (j == i)
          continue;
        const YoloDetection *b = &g_array_index (dets, YoloDetection, j);
        const gchar *lb = label_of (labels, b->class_id);
        if (!lb || b->confidence < r->min_confidence)
          continue;
        if (strcmp (la, r->pairs[p].a) || strcmp (lb, r->pairs[p].b))
          continue;
        if (yolo_detection_iou (a, b, fw, fh) >= r->min_iou) {
          ok = TRUE;
          best = MAX (best, MIN (a->confidence, b->confidence));
          add_label (used, la);
          add_label (used, lb);
        }
      }
    }
  }
  *conf = best;
  return ok;
}

static void
raised_clear (gpointer p)
{
  YoloRaised *r = p;
  g_free (r->name);
  g_free (r->labels);
}

GArray *
yolo_situations_update (YoloSituations * s, const GArray * dets,
    const gchar * const *labels, gint frame_w, gint frame_h)
{
  GArray *out = g_array_new (FALSE, TRUE, sizeof (YoloRaised));
  g_array_set_clear_func (out, raised_clear);

  for (guint i = 0; s && i < s->n_rules; i++) {
    Rule *r = &s->rules[i];
    GPtrArray *used = g_ptr_array_new ();
    gdouble conf = 0.0;
    if (rule_supported (r, dets, labels, frame_w, frame_h, &conf, used)) {
      r->run++;
      if (r->run >= r->min_frames && !r->raised) {
        YoloRaised ev = { 0, };
        r->raised = TRUE;
        ev.name = g_strdup (r->name);
        ev.confidence = conf;
        ev.frames = r->run;
        g_ptr_array_add (used, NULL);
        ev.labels = g_strjoinv (",", (gchar **) used->pdata);
        g_array_append_val (out, ev);
      }
    } else {
      r->run = 0;
      r->raised = FALSE;
    }
    g_ptr_array_free (used, TRUE);
  }
  return out;
}
