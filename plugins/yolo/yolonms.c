/* yolov4infer: NMS over class groups (see yolonms.h). */
#include <stdlib.h>
#include <string.h>
#include "yolonms.h"

static gint
label_index (const gchar * const *labels, guint n, const gchar * name)
{
  for (guint i = 0; i < n; i++)
    if (labels[i] && g_str_equal (labels[i], name))
      return (gint) i;
  return -1;
}

void
yolo_nms_groups_free (YoloNmsGroups * g)
{
  if (!g)
    return;
  g_free (g->key);
  g_free (g);
}

YoloNmsGroups *
yolo_nms_groups_parse (const gchar * spec, const gchar * const *labels, guint n_labels,
    gboolean skip_unknown, GError ** error)
{
  YoloNmsGroups *g = g_new0 (YoloNmsGroups, 1);
  g->n_classes = n_labels;
  g->key = g_new (gint, MAX (n_labels, 1));
  for (guint i = 0; i < n_labels; i++)
    g->key[i] = (gint) i;
  if (!spec || !*spec)
    return g;
  gchar *trimmed = g_strstrip (g_strdup (spec));
  if (g_str_equal (trimmed, "*")) {
    for (guint i = 0; i < n_labels; i++)
      g->key[i] = 0;
    g_free (trimmed);
    return g;
  }
  g_free (trimmed);

  /* Group g gets key n_labels + g, never equal to an ungrouped class id. */
  gboolean *grouped = g_new0 (gboolean, MAX (n_labels, 1));
  gchar **groups = g_strsplit (spec, ";", -1);
  gboolean ok = TRUE;
  for (guint gi = 0; ok && groups[gi]; gi++) {
    gchar **names = g_strsplit (groups[gi], ",", -1);
    for (guint k = 0; ok && names[k]; k++) {
      gchar *name = g_strstrip (names[k]);
      if (!*name) {
        g_set_error (error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE,
            "nms-groups: group %u (\"%s\") has an empty label", gi + 1, groups[gi]);
        ok = FALSE;
        break;
      }
      gint idx = label_index (labels, n_labels, name);
      if (idx < 0) {
        if (skip_unknown)
          continue;
        g_set_error (error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE,
            "nms-groups: \"%s\" is not a label of the names file", name);
        ok = FALSE;
        break;
      }
      if (grouped[idx]) {
        g_set_error (error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE,
            "nms-groups: \"%s\" is in more than one group", name);
        ok = FALSE;
        break;
      }
      grouped[idx] = TRUE;
      g->key[idx] = (gint) (n_labels + gi);
    }
    g_strfreev (names);
  }
  g_strfreev (groups);
  g_free (grouped);
  if (!ok) {
    yolo_nms_groups_free (g);
    return NULL;
  }
  return g;
}

typedef struct {
  YoloDetection det;
  gint key;
} Keyed;

static gint
by_key_then_confidence (gconstpointer pa, gconstpointer pb)
{
  const Keyed *a = pa, *b = pb;
  if (a->key != b->key)
    return a->key - b->key;
  if (a->det.confidence != b->det.confidence)
    return a->det.confidence > b->det.confidence ? -1 : 1;
  return a->det.class_id - b->det.class_id;
}

static gint
by_confidence_desc (gconstpointer pa, gconstpointer pb)
{
  const YoloDetection *a = pa, *b = pb;
  if (a->confidence != b->confidence)
    return a->confidence > b->confidence ? -1 : 1;
  return a->class_id - b->class_id;
}

void
yolo_nms_grouped (GArray * dets, const YoloNmsGroups * groups, gint frame_w, gint frame_h,
    gdouble iou_threshold)
{
  /* Sorted by key then confidence, greedy NMS inside each key's run only, as
   * yolo_nms_per_class does per class (sum of n_key^2, not n^2). */
  guint n = dets->len;
  Keyed *k = g_new (Keyed, MAX (n, 1));
  gboolean *gone = g_new0 (gboolean, MAX (n, 1));
  for (guint i = 0; i < n; i++) {
    k[i].det = g_array_index (dets, YoloDetection, i);
    gint c = k[i].det.class_id;
    k[i].key = groups && c >= 0 && (guint) c < groups->n_classes ? groups->key[c] : c;
  }
  qsort (k, n, sizeof (Keyed), (GCompareFunc) by_key_then_confidence);
  for (guint start = 0; start < n;) {
    guint end = start;
    while (end < n && k[end].key == k[start].key)
      end++;
    for (guint i = start; i < end; i++) {
      if (gone[i])
        continue;
      for (guint j = i + 1; j < end; j++)
        if (!gone[j] && yolo_detection_iou (&k[i].det, &k[j].det, frame_w, frame_h)
            > iou_threshold)
          gone[j] = TRUE;
    }
    start = end;
  }
  g_array_set_size (dets, 0);
  for (guint i = 0; i < n; i++)
    if (!gone[i])
      g_array_append_val (dets, k[i].det);
  g_array_sort (dets, by_confidence_desc);
  g_free (gone);
  g_free (k);
}
