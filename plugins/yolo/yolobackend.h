/* The small C interface behind which yolov4infer's inference engines live.
 *
 * The element prepares the network input itself (one pass: colour conversion +
 * resize/letterbox from the video frame), so a backend receives planar float
 * RGB, CHW, values in [0,1], at exactly the network size -- the layout both
 * darknet (network_predict) and OpenCV DNN (NCHW blob) consume without a copy.
 * A backend returns raw candidates; thresholding by class confidence happens in
 * the backend, per-class NMS happens in the element (common to all backends so
 * they agree).
 */
#pragma once

#include <glib.h>
#include "yolocfg.h"

G_BEGIN_DECLS

typedef struct {
  gint class_id;
  gfloat confidence;                 /* objectness * class probability */
  gfloat x_min, y_min, x_max, y_max; /* normalised to the network input [0,1] */
} YoloCandidate;

typedef struct {
  const gchar *cfg_path;
  const gchar *weights_path;
  const YoloCfg *cfg;     /* already validated for this backend */
  gint width, height;     /* network input size (cfg's or input-size override) */
  const gchar *device;    /* "cpu" or "cuda" */
  gint max_batch;         /* largest batch infer() will be given */
  gint threads;           /* CPU threads for inference, 0 = the backend's default */
} YoloBackendOptions;

typedef struct _YoloBackend YoloBackend;

/* Shape of one raw detection output of a backend, per image: one row per
 * (grid cell, anchor), columns = 4 box values + objectness + classes. */
typedef struct {
  gint rows;
  gint cols;
} YoloOutputShape;

typedef struct {
  const gchar *name;      /* "opencv", "darknet" */
  YoloBackendKind kind;
  YoloBackend *(*open) (const YoloBackendOptions * options, GError ** error);
  /* @input: n_images planar CHW float RGB images back to back.
   * @out: array of n_images GArray* (of YoloCandidate), created by the backend. */
  gboolean (*infer) (YoloBackend * backend, const gfloat * input, guint n_images,
      gfloat threshold, GArray ** out, GError ** error);
  void (*close) (YoloBackend * backend);
  /* Optional (may be NULL; added after the first API): the raw detection
   * outputs of the last infer(), per image, in the network's output order.
   * Returns how many there are (fills at most @max). */
  guint (*output_shapes) (YoloBackend * backend, YoloOutputShape * shapes, guint max);
  /* Optional (may be NULL): the CPU threads inference uses now, as the engine
   * reports it (OpenCV: cv::getNumThreads(); darknet: OpenMP's max threads). */
  gint (*num_threads) (YoloBackend * backend);
} YoloBackendVTable;

/* NULL when the backend was not compiled in. */
const YoloBackendVTable *yolo_backend_opencv (void);
const YoloBackendVTable *yolo_backend_darknet (void);

/* backend=auto (addition): the fastest compiled-in backend that can run @cfg on
 * @device. Order by measured speed (docs/benchmarks.md, "yolov4infer
 * backends": OpenCV DNN ran Yolo-Fastest 7-18x faster than libdarknet 2018 on
 * the CPU in our runs): opencv, then darknet. NULL with the reason of each refusal otherwise. */
const YoloBackendVTable *yolo_backend_pick_auto (const YoloCfg * cfg,
    const gchar * device, GError ** error);

G_END_DECLS
