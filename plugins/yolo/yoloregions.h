/* yolov4infer roi-mode=motion: which parts of a frame the network looks at.
 *
 * Planning: each motion box grows into a detection region (Frigate-like: a
 * square of max(w,h) x grow, at least the network input, centred, kept
 * inside the frame); regions that overlap or nearly touch are merged into
 * the region of their union until none do, so an object that moves across
 * two motion boxes is not cut; while there are more regions than allowed the
 * pair whose merged region is smallest is merged. A plan whose regions cover
 * about as much as the whole frame (or more than the per-frame cap) is
 * replaced by the whole frame.
 *
 * Cost: every network input costs one input-size forward sample whatever it
 * was cut from, so a frame's cost is the number of inputs it needs plus
 * their preprocessing. YoloRegionCost keeps running (exponential) averages
 * of measured times: forward passes by the number of images in them, and
 * preprocessing per image for regions and for whole frames, and says whether
 * N regions cost less than one whole frame. Batched passes only count as
 * cheaper once such a pass has been measured.
 *
 * Deduplication: detections of the same class from different regions where
 * one lies mostly inside the other (intersection over the smaller box), or
 * that meet at a region boundary, are one object: the more confident one is
 * kept, with the union of both boxes.
 */
#pragma once

#include "yolopreproc.h"

G_BEGIN_DECLS

#define YOLO_REGIONS_MAX 16
#define YOLO_REGIONS_MAX_BATCH 64

typedef struct {
  gint frame_w, frame_h;
  gint net_w, net_h;
  gdouble grow;                 /* region side = max (w, h) x grow (1.35) */
  guint max_regions;            /* cap per frame, 1..YOLO_REGIONS_MAX */
  gdouble whole_coverage;       /* union area / frame area at which the whole
                                 * frame is used instead (0.6) */
} YoloRegionParams;

/* Plan the regions for @n_boxes motion boxes (clipped to the frame here).
 * Returns the number of regions written to @out (at most max_regions), or 0
 * when there is nothing to infer; *@whole is set when the whole frame should
 * be inferred instead (then the return value is 1 and out[0] is the frame). */
guint yolo_regions_plan (const YoloRegionParams * p, const YoloRect * boxes,
    guint n_boxes, YoloRect * out, gboolean * whole);

/* TRUE when @a and @b overlap or are closer than @gap pixels on both axes. */
gboolean yolo_rects_near (const YoloRect * a, const YoloRect * b, gint gap);

typedef struct {
  gdouble pass_us[YOLO_REGIONS_MAX_BATCH + 1];  /* by images per pass; 0 = not measured */
  gdouble pre_region_us, pre_whole_us;           /* per image; 0 = not measured */
} YoloRegionCost;

void yolo_region_cost_init (YoloRegionCost * c);
void yolo_region_cost_add_pass (YoloRegionCost * c, guint n_images, gdouble us);
void yolo_region_cost_add_preproc (YoloRegionCost * c, gboolean whole, gdouble us);
/* Estimated time of a frame inferred as @n regions in passes of at most
 * @max_batch images, and as the whole frame. */
gdouble yolo_region_cost_regions (const YoloRegionCost * c, guint n, guint max_batch);
gdouble yolo_region_cost_whole (const YoloRegionCost * c);
/* n regions cost no more than the whole frame. Before anything is measured,
 * one input costs one input: TRUE for n <= 1 only. */
gboolean yolo_region_cost_prefer_regions (const YoloRegionCost * c, guint n,
    guint max_batch);

/* Deduplicate detections across regions, in place: @dets (YoloDetection) and
 * @region (guint, the region each came from) are parallel arrays; @regions
 * are the n_regions rectangles (frame pixels). */
void yolo_regions_dedupe (GArray * dets, GArray * region, const YoloRect * regions,
    guint n_regions, gint frame_w, gint frame_h);

G_END_DECLS
