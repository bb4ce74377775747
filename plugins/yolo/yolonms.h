/* yolov4infer detection hygiene: NMS across the classes of a group, so that
 * one object is one box when the model scores it as two related classes
 * (Yolo-Fastest-XL says car 0.78 and truck 0.59 for one vehicle, IoU 0.72). */
#pragma once

#include <glib.h>
#include "yolopreproc.h"

G_BEGIN_DECLS

/* The default of the nms-groups property: COCO's vehicle classes suppress each
 * other, and so do its two-wheelers. Labels the model does not have are
 * skipped for the default only. */
#define YOLO_NMS_GROUPS_DEFAULT "car,truck,bus,train;bicycle,motorbike"

/* Per class id, the key NMS compares: classes with the same key suppress each
 * other. Without groups, key = class id (per-class NMS). */
typedef struct {
  guint n_classes;
  gint *key;
} YoloNmsGroups;

/* Parse @spec: groups separated by ';', labels of a group by ','; "*" = one
 * group of all classes (class-agnostic NMS); NULL or "" = per-class NMS.
 * Every label must be one of @labels (n_labels entries) unless @skip_unknown;
 * a label in two groups and an empty label are errors. The GError
 * (G_KEY_FILE_ERROR_INVALID_VALUE) names the label. */
YoloNmsGroups *yolo_nms_groups_parse (const gchar * spec, const gchar * const *labels,
    guint n_labels, gboolean skip_unknown, GError ** error);
void yolo_nms_groups_free (YoloNmsGroups * g);

/* Greedy NMS in place: sorts by confidence (descending) and removes any box
 * whose IoU with a kept box of the same group key is above @iou_threshold.
 * The survivor keeps its own label (the most confident class of the group).
 * @groups NULL = per class. */
void yolo_nms_grouped (GArray * detections, const YoloNmsGroups * groups,
    gint frame_w, gint frame_h, gdouble iou_threshold);

G_END_DECLS
