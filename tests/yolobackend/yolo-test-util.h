/* Helpers shared by the yolo engine tests, the weights generator and the
 * backend benchmark. */
#pragma once

#include <glib.h>
#include "yolocfg.h"
#include "yolobackend.h"

G_BEGIN_DECLS

/* Write darknet weights for @cfg: header 0.2.0, seen=0 (64-bit), then exactly
 * yolo_cfg_param_count() floats from a GRand seeded with @seed: kernel weights
 * uniform in +-sqrt(3/fan_in) (unit variance through the layer), biases and
 * batch-norm means small, scales near 1, variances near 1 (always > 0). The
 * same seed gives the same bytes. */
gboolean yolo_test_write_weights (const YoloCfg * cfg, const gchar * path,
    guint32 seed, GError ** error);

/* Decode an image file with GStreamer (decodebin, videoconvert, bilinear
 * videoscale: a plain resize to @width x @height, no letterbox) and return it
 * as planar float RGB, CHW, in [0,1]. */
gfloat *yolo_test_load_image (const gchar * path, gint width, gint height,
    GError ** error);

gfloat yolo_test_iou (const YoloCandidate * a, const YoloCandidate * b);
/* Greedy per-class NMS, highest confidence first. New array. */
GArray *yolo_test_nms (GArray * cands, gfloat iou_threshold);

G_END_DECLS
