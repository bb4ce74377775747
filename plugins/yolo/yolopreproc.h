/* yolov4infer pre- and post-processing, independent of any backend.
 *
 * Pre-processing: one pass from a mapped video frame (RGB, BGR, RGBx, BGRx,
 * xRGB, xBGR, RGBA, BGRA, I420, NV12) or a rectangle of it into the network
 * input: planar CHW float RGB in [0,1] at the network size, either a plain
 * bilinear resize (darknet's resize_image: corners aligned) or a letterbox
 * (aspect kept, centred, padded with 0.5 like darknet's letterbox_image).
 * YUV is interpolated first and converted once per output pixel with the
 * matrix and range of the frame's colorimetry.
 *
 * Post-processing: mapping network-normalised boxes back into normalised
 * full-frame coordinates, Frigate-style detection regions around motion
 * boxes, and per-class NMS.
 */
#pragma once

#include <gst/video/video.h>
#include "yolobackend.h"

G_BEGIN_DECLS

typedef struct {
  gint x, y, w, h;
} YoloRect;

/* How one network input was made from the frame; maps boxes back. */
typedef struct {
  gint frame_w, frame_h;     /* full frame */
  YoloRect src;              /* rectangle of the frame that was sampled */
  gint net_w, net_h;
  gdouble off_x, off_y;      /* top-left of the image inside the input (letterbox), net px */
  gdouble img_w, img_h;      /* size of the image inside the input, net px */
} YoloTransform;

/* A detection in normalised [0,1] full-frame coordinates. */
typedef struct {
  gint class_id;
  gfloat confidence;
  gdouble x_min, y_min, x_max, y_max;
} YoloDetection;

gboolean yolo_preproc_format_supported (GstVideoFormat format);

/* Fill @out (3 * net_w * net_h floats, CHW, R plane first) from @roi of
 * @frame (NULL = whole frame). @xf (may be NULL) receives the mapping. */
void yolo_preproc_frame (const GstVideoFrame * frame, const YoloRect * roi,
    gint net_w, gint net_h, gboolean letterbox, gfloat * out, YoloTransform * xf);

/* Candidate in network-normalised coordinates -> detection in normalised
 * full-frame coordinates, clipped to [0,1]. */
void yolo_transform_candidate (const YoloTransform * xf, const YoloCandidate * c,
    YoloDetection * out);

/* Frigate-like detection region around @box: a square of side
 * max(w,h) * @factor, at least @min_side, centred on the box, moved to stay
 * inside the frame (and cut to the frame where the frame is smaller). */
void yolo_region_for_box (gint frame_w, gint frame_h, const YoloRect * box,
    gint min_side, gdouble factor, YoloRect * out);

/* Intersection over union of two detections, computed in pixels of a
 * @frame_w x @frame_h frame (normalised coordinates are not isotropic). */
gdouble yolo_detection_iou (const YoloDetection * a, const YoloDetection * b,
    gint frame_w, gint frame_h);

/* Per-class greedy NMS in place on a GArray of YoloDetection: sorts by
 * confidence (descending) and removes any box whose IoU with a kept box of
 * the same class is above @iou_threshold. */
void yolo_nms_per_class (GArray * detections, gint frame_w, gint frame_h,
    gdouble iou_threshold);

/* Keep the @max most confident detections (no-op when there are fewer). */
void yolo_keep_top (GArray * detections, guint max);

G_END_DECLS
