/* yolov4infer situations: detections over consecutive inferred frames ->
 * situations worth an alert (fire, traffic accident, person in danger).
 *
 * Key-file, one group per situation (see situations.conf for the default and
 * docs/yolov4infer.md for the format):
 *
 *   [fire]
 *   labels=fire;smoke          # any of these labels supports the situation
 *   min-confidence=0.5
 *   min-frames=3               # consecutive inferred frames before raising
 *
 *   [traffic_accident]
 *   pairs=car+car;car+person   # two detections overlapping with IoU >= min-iou
 *   min-iou=0.3
 *
 *   [person_in_danger]
 *   all-labels=person;fallen   # every label present in the same frame
 *
 * A situation is raised once, on the frame where its run of consecutive
 * supporting frames reaches min-frames; an unsupported inferred frame ends the
 * run, and a later run raises it again.
 */
#pragma once

#include <glib.h>
#include "yolopreproc.h"

G_BEGIN_DECLS

#define YOLO_SITUATIONS_ERROR (yolo_situations_error_quark ())
typedef enum {
  YOLO_SITUATIONS_ERROR_PARSE,     /* not a key-file / bad value */
  YOLO_SITUATIONS_ERROR_INVALID,   /* a situation without a rule, bad pair, ... */
} YoloSituationsError;
GQuark yolo_situations_error_quark (void);

typedef struct _YoloSituations YoloSituations;

/* A raised situation (strings owned by the caller after _update). */
typedef struct {
  gchar *name;
  gdouble confidence;
  guint frames;
  gchar *labels;     /* comma-separated labels that supported it */
} YoloRaised;

YoloSituations *yolo_situations_load (const gchar * path, GError ** error);
YoloSituations *yolo_situations_load_data (const gchar * data, gssize len,
    GError ** error);
void yolo_situations_free (YoloSituations * s);
guint yolo_situations_count (const YoloSituations * s);
/* Forget every run (flush, restart). */
void yolo_situations_reset (YoloSituations * s);

/* Feed the detections of one inferred frame (GArray of YoloDetection, labels
 * resolved through @labels indexed by class_id). Returns the situations raised
 * on this frame as a GArray of YoloRaised (clear func set; never NULL). */
GArray *yolo_situations_update (YoloSituations * s, const GArray * detections,
    const gchar * const *labels, gint frame_w, gint frame_h);

G_END_DECLS
