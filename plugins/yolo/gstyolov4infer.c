/* yolov4infer: darknet-format YOLO object detection as an in-place analyser.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
/**
 * SECTION:element-yolov4infer
 * @title: yolov4infer
 *
 * Runs a darknet-format YOLO network (YOLOv4, YOLOv4-tiny, YOLOv3-tiny,
 * Yolo-Fastest, ...) on video frames and attaches the detections to the
 * buffers; the pixels pass through unchanged.
 *
 * The model (#GstYolov4Infer:config, #GstYolov4Infer:weights,
 * #GstYolov4Infer:labels) is validated and loaded in the READY→PAUSED
 * transition: the cfg is parsed by our own parser (syntax errors with line
 * numbers, options and activations the chosen backend cannot run), the weights
 * file size is checked against the parameter count of the cfg and the names
 * file against its class count before any backend sees them. Every problem is
 * a #GST_RESOURCE_ERROR or #GST_LIBRARY_ERROR naming the file and the problem
 * (see docs/yolov4infer.md for the table). The load time is logged.
 *
 * Input: RGB, BGR, RGBx, BGRx, xRGB, xBGR, RGBA, BGRA, I420 and NV12, converted
 * and resized into the network input in one pass (plain bilinear resize like
 * darknet's training, or a letterbox with #GstYolov4Infer:letterbox).
 *
 * Output, per detection: one #GstVideoRegionOfInterestMeta with roi type = the
 * label and a param structure named `detection` (the Intel DL Streamer
 * convention):
 *
 * * `label` (string), `label_id` (int), `confidence` (double)
 * * `x_min`, `y_min`, `x_max`, `y_max` (double, normalised to [0,1] of the frame)
 *
 * With #GstYolov4Infer:post-messages, each inferred buffer also posts an
 * element message named `detections`:
 *
 * * `timestamp`, `stream-time`, `running-time` (guint64, GST_CLOCK_TIME_NONE if unknown)
 * * `width`, `height` (int): the frame size
 * * `count` (uint): number of detections
 * * `detections` (GstValueList of `detection` structures as above)
 *
 * Duplicates: NMS (#GstYolov4Infer:nms-threshold) compares boxes of the same
 * class and, with #GstYolov4Infer:nms-groups, of related classes: by default
 * COCO's car, truck, bus and train suppress each other (and bicycle and
 * motorbike), so one vehicle is one box with its most confident label.
 * Situations (zones, time, tracks) are the `situationdetect` element's job,
 * after `objecttrack`.
 *
 * With #GstYolov4Infer:roi-mode=motion the network only looks at regions
 * around the motion boxes of the buffer (#GstVideoRegionOfInterestMeta with
 * roi type `motion`, as motiondetect adds them; else the motion boxes of an
 * edgefaas event meta): each box becomes a square of side max(w,h)×1.35, at
 * least the network input size, moved to stay inside the frame; regions that
 * overlap or nearly touch are merged, at most #GstYolov4Infer:max-regions are
 * kept, and the whole frame is inferred instead when the regions would cost
 * more than it (running measurements of pass and preprocessing times) or
 * cover most of it. Detections are mapped back to full-frame coordinates;
 * the same object seen from two regions is kept once; then per-class NMS.
 * Buffers without motion boxes pass through uninferred.
 *
 * ## Example launch line
 * |[
 * gst-launch-1.0 filesrc location=dog.jpg ! jpegdec ! imagefreeze num-buffers=1 ! \
 *   yolov4infer config=yolo-fastest-1.1.cfg weights=yolo-fastest-1.1.weights \
 *   labels=coco.names ! fakesink -m
 * ]|
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstyolov4infer.h"

#include <string.h>
#include <gst/video/video.h>

#include "edgefaas-meta.h"
#include "yolobackend.h"
#include "yolocfg.h"
#include "yolopreproc.h"
#include "yoloregions.h"
#include "yolonms.h"

GST_DEBUG_CATEGORY_STATIC (gst_yolov4_infer_debug);
#define GST_CAT_DEFAULT gst_yolov4_infer_debug

typedef enum {
  GST_YOLOV4_INFER_BACKEND_AUTO,
  GST_YOLOV4_INFER_BACKEND_OPENCV,
  GST_YOLOV4_INFER_BACKEND_DARKNET,
} GstYolov4InferBackend;

typedef enum {
  GST_YOLOV4_INFER_DEVICE_CPU,
  GST_YOLOV4_INFER_DEVICE_CUDA,
} GstYolov4InferDevice;

typedef enum {
  GST_YOLOV4_INFER_ROI_MODE_FRAME,
  GST_YOLOV4_INFER_ROI_MODE_MOTION,
} GstYolov4InferRoiMode;

#define DEFAULT_PROP_CONFIG NULL
#define DEFAULT_PROP_WEIGHTS NULL
#define DEFAULT_PROP_LABELS NULL
#define DEFAULT_PROP_BACKEND GST_YOLOV4_INFER_BACKEND_AUTO
#define DEFAULT_PROP_DEVICE GST_YOLOV4_INFER_DEVICE_CPU
#define DEFAULT_PROP_THRESHOLD 0.25
#define DEFAULT_PROP_NMS_THRESHOLD 0.45
#define DEFAULT_PROP_INPUT_SIZE 0
#define DEFAULT_PROP_LETTERBOX FALSE
#define DEFAULT_PROP_CLASSES NULL
#define DEFAULT_PROP_INTERVAL 1
#define DEFAULT_PROP_BATCH_SIZE 1
#define DEFAULT_PROP_ROI_MODE GST_YOLOV4_INFER_ROI_MODE_FRAME
#define DEFAULT_PROP_MAX_REGIONS 4
#define DEFAULT_PROP_POST_MESSAGES TRUE
#define DEFAULT_PROP_NMS_GROUPS YOLO_NMS_GROUPS_DEFAULT
#define DEFAULT_PROP_THREADS 0

#define MAX_BATCH_SIZE 64
#define MAX_REGIONS YOLO_REGIONS_MAX
/* Candidates kept per frame before NMS (real weights give tens; random or
 * untrained weights can give 10^5, and NMS is quadratic per class). */
#define MAX_CANDIDATES 1000
#define REGION_FACTOR 1.35
/* union of the regions / frame area from which the whole frame is inferred */
#define REGION_WHOLE_COVERAGE 0.6

enum
{
  PROP_0,
  PROP_CONFIG,
  PROP_WEIGHTS,
  PROP_LABELS,
  PROP_BACKEND,
  PROP_DEVICE,
  PROP_THRESHOLD,
  PROP_NMS_THRESHOLD,
  PROP_INPUT_SIZE,
  PROP_LETTERBOX,
  PROP_CLASSES,
  PROP_INTERVAL,
  PROP_BATCH_SIZE,
  PROP_ROI_MODE,
  PROP_MAX_REGIONS,
  PROP_POST_MESSAGES,
  PROP_NMS_GROUPS,
  PROP_STATS,
  PROP_THREADS,
};

#define YOLO_CAPS GST_VIDEO_CAPS_MAKE ("{ RGB, BGR, RGBx, BGRx, xRGB, xBGR, RGBA, BGRA, I420, NV12 }")

static GstStaticPadTemplate sink_template = GST_STATIC_PAD_TEMPLATE ("sink",
    GST_PAD_SINK, GST_PAD_ALWAYS, GST_STATIC_CAPS (YOLO_CAPS));
static GstStaticPadTemplate src_template = GST_STATIC_PAD_TEMPLATE ("src",
    GST_PAD_SRC, GST_PAD_ALWAYS, GST_STATIC_CAPS (YOLO_CAPS));

/* Property values; written in set_property under the object lock, copied
 * under the lock by start() (model) and per batch (the rest). */
typedef struct {
  gchar *config, *weights, *labels, *classes, *nms_groups;
  GstYolov4InferBackend backend;
  GstYolov4InferDevice device;
  gdouble threshold, nms_threshold;
  gint input_size;
  gboolean letterbox;
  guint interval, batch_size;
  guint threads;
  GstYolov4InferRoiMode roi_mode;
  guint max_regions;
  gboolean post_messages;
} Settings;

/* A buffer waiting for its batch. */
typedef struct {
  GstBuffer *buf;
  gboolean infer;
} Held;

/* Exists between start() and stop(); touched by the streaming thread only,
 * except the stats fields which are read under the object lock. */
typedef struct {
  YoloCfg *cfg;
  const YoloBackendVTable *vt;
  YoloBackend *be;
  gchar **labels;
  guint n_labels;
  gboolean *keep;               /* per class id: passes the classes filter */
  YoloNmsGroups *nms_groups;
  gint net_w, net_h;
  guint max_batch;
  gfloat *input;                /* max_batch network inputs */
  GstVideoInfo vinfo;
  gboolean have_info;
  GQueue held;                  /* of Held* */
  guint n_held_infer;
  GQueue ready;                 /* of GstBuffer*, released in order */
  guint64 n_seen;               /* buffers since start / flush, for interval */
  /* stats (object lock) */
  gint64 load_us, first_infer_us;
  guint64 n_inferred, n_forward, infer_us, preproc_us;
  guint64 n_inputs, n_region_frames, n_whole_fallbacks;
  /* roi-mode=motion: measured cost of passes and preprocessing */
  YoloRegionCost region_cost;
} State;

struct _GstYolov4Infer
{
  GstBaseTransform parent;
  Settings settings;            /* object lock */
  State *state;                 /* created in start(), freed in stop() */
};

#define gst_yolov4_infer_parent_class parent_class
G_DEFINE_TYPE (GstYolov4Infer, gst_yolov4_infer, GST_TYPE_BASE_TRANSFORM);

static void yolov4infer_element_init (GstPlugin * plugin);
GST_ELEMENT_REGISTER_DEFINE_WITH_CODE (yolov4infer, "yolov4infer", GST_RANK_NONE,
    GST_TYPE_YOLOV4_INFER, yolov4infer_element_init (plugin));

GType
gst_yolov4_infer_backend_get_type (void)
{
  static GType type = 0;
  static const GEnumValue values[] = {
    {GST_YOLOV4_INFER_BACKEND_AUTO, "The fastest available (opencv, else darknet)", "auto"},
    {GST_YOLOV4_INFER_BACKEND_OPENCV, "OpenCV DNN (readNetFromDarknet)", "opencv"},
    {GST_YOLOV4_INFER_BACKEND_DARKNET, "libdarknet C API", "darknet"},
    {0, NULL, NULL},
  };
  if (g_once_init_enter (&type)) {
    GType t = g_enum_register_static ("GstYolov4InferBackend", values);
    g_once_init_leave (&type, t);
  }
  return type;
}

GType
gst_yolov4_infer_device_get_type (void)
{
  static GType type = 0;
  static const GEnumValue values[] = {
    {GST_YOLOV4_INFER_DEVICE_CPU, "CPU", "cpu"},
    {GST_YOLOV4_INFER_DEVICE_CUDA, "CUDA GPU (fails in start() if the backend has no CUDA)", "cuda"},
    {0, NULL, NULL},
  };
  if (g_once_init_enter (&type)) {
    GType t = g_enum_register_static ("GstYolov4InferDevice", values);
    g_once_init_leave (&type, t);
  }
  return type;
}

GType
gst_yolov4_infer_roi_mode_get_type (void)
{
  static GType type = 0;
  static const GEnumValue values[] = {
    {GST_YOLOV4_INFER_ROI_MODE_FRAME, "Infer on the whole frame", "frame"},
    {GST_YOLOV4_INFER_ROI_MODE_MOTION,
        "Infer on padded square regions around the buffer's motion boxes", "motion"},
    {0, NULL, NULL},
  };
  if (g_once_init_enter (&type)) {
    GType t = g_enum_register_static ("GstYolov4InferRoiMode", values);
    g_once_init_leave (&type, t);
  }
  return type;
}

static void
yolov4infer_element_init (GstPlugin * plugin)
{
  static gsize done = 0;
  if (g_once_init_enter (&done)) {
    GST_DEBUG_CATEGORY_INIT (gst_yolov4_infer_debug, "yolov4infer", 0,
        "darknet-format YOLO detection");
    gst_type_mark_as_plugin_api (GST_TYPE_YOLOV4_INFER_BACKEND, 0);
    gst_type_mark_as_plugin_api (GST_TYPE_YOLOV4_INFER_DEVICE, 0);
    gst_type_mark_as_plugin_api (GST_TYPE_YOLOV4_INFER_ROI_MODE, 0);
    g_once_init_leave (&done, 1);
  }
}

/* ------------------------------------------------------------------ */
/* settings */

static void
settings_copy (const Settings * src, Settings * dst)
{
  *dst = *src;
  dst->config = g_strdup (src->config);
  dst->weights = g_strdup (src->weights);
  dst->labels = g_strdup (src->labels);
  dst->classes = g_strdup (src->classes);
  dst->nms_groups = g_strdup (src->nms_groups);
}

static void
settings_clear (Settings * s)
{
  g_clear_pointer (&s->config, g_free);
  g_clear_pointer (&s->weights, g_free);
  g_clear_pointer (&s->labels, g_free);
  g_clear_pointer (&s->classes, g_free);
  g_clear_pointer (&s->nms_groups, g_free);
}

static gboolean
is_model_prop (guint prop_id)
{
  switch (prop_id) {
    case PROP_CONFIG:
    case PROP_WEIGHTS:
    case PROP_LABELS:
    case PROP_BACKEND:
    case PROP_DEVICE:
    case PROP_INPUT_SIZE:
    case PROP_CLASSES:
    case PROP_BATCH_SIZE:
    case PROP_NMS_GROUPS:
    case PROP_THREADS:
      return TRUE;
    default:
      return FALSE;
  }
}

static void
gst_yolov4_infer_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec)
{
  GstYolov4Infer *self = GST_YOLOV4_INFER (object);
  Settings *s = &self->settings;

  GST_OBJECT_LOCK (self);
  if (is_model_prop (prop_id) && self->state) {
    GST_OBJECT_UNLOCK (self);
    g_warning ("yolov4infer: property '%s' cannot be changed while the model "
        "is loaded (set it in the NULL or READY state)", pspec->name);
    return;
  }
  switch (prop_id) {
    case PROP_CONFIG:
      g_free (s->config);
      s->config = g_value_dup_string (value);
      break;
    case PROP_WEIGHTS:
      g_free (s->weights);
      s->weights = g_value_dup_string (value);
      break;
    case PROP_LABELS:
      g_free (s->labels);
      s->labels = g_value_dup_string (value);
      break;
    case PROP_CLASSES:
      g_free (s->classes);
      s->classes = g_value_dup_string (value);
      break;
    case PROP_NMS_GROUPS:
      g_free (s->nms_groups);
      s->nms_groups = g_value_dup_string (value);
      break;
    case PROP_BACKEND:
      s->backend = g_value_get_enum (value);
      break;
    case PROP_DEVICE:
      s->device = g_value_get_enum (value);
      break;
    case PROP_THRESHOLD:
      s->threshold = g_value_get_double (value);
      break;
    case PROP_NMS_THRESHOLD:
      s->nms_threshold = g_value_get_double (value);
      break;
    case PROP_INPUT_SIZE:
      s->input_size = g_value_get_int (value);
      break;
    case PROP_LETTERBOX:
      s->letterbox = g_value_get_boolean (value);
      break;
    case PROP_INTERVAL:
      s->interval = g_value_get_uint (value);
      break;
    case PROP_BATCH_SIZE:
      s->batch_size = g_value_get_uint (value);
      break;
    case PROP_THREADS:
      s->threads = g_value_get_uint (value);
      break;
    case PROP_ROI_MODE:
      s->roi_mode = g_value_get_enum (value);
      break;
    case PROP_MAX_REGIONS:
      s->max_regions = g_value_get_uint (value);
      break;
    case PROP_POST_MESSAGES:
      s->post_messages = g_value_get_boolean (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

static GstStructure *
stats_structure (GstYolov4Infer * self)
{
  /* object lock held */
  State *st = self->state;
  return gst_structure_new ("yolov4infer-stats",
      "model-load-ms", G_TYPE_DOUBLE, st ? st->load_us / 1000.0 : 0.0,
      "first-inference-ms", G_TYPE_DOUBLE, st ? st->first_infer_us / 1000.0 : 0.0,
      "frames-inferred", G_TYPE_UINT64, st ? st->n_inferred : (guint64) 0,
      "forward-passes", G_TYPE_UINT64, st ? st->n_forward : (guint64) 0,
      "network-inputs", G_TYPE_UINT64, st ? st->n_inputs : (guint64) 0,
      "region-frames", G_TYPE_UINT64, st ? st->n_region_frames : (guint64) 0,
      "whole-frame-fallbacks", G_TYPE_UINT64, st ? st->n_whole_fallbacks : (guint64) 0,
      "inference-ms", G_TYPE_DOUBLE, st ? st->infer_us / 1000.0 : 0.0,
      "preprocess-ms", G_TYPE_DOUBLE, st ? st->preproc_us / 1000.0 : 0.0,
      "input-width", G_TYPE_INT, st ? st->net_w : 0,
      "input-height", G_TYPE_INT, st ? st->net_h : 0,
      "backend", G_TYPE_STRING, st && st->vt ? st->vt->name : "",
      "threads", G_TYPE_INT, st && st->be && st->vt->num_threads
      ? st->vt->num_threads (st->be) : 0, NULL);
}

static void
gst_yolov4_infer_get_property (GObject * object, guint prop_id,
    GValue * value, GParamSpec * pspec)
{
  GstYolov4Infer *self = GST_YOLOV4_INFER (object);
  Settings *s = &self->settings;

  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_CONFIG:
      g_value_set_string (value, s->config);
      break;
    case PROP_WEIGHTS:
      g_value_set_string (value, s->weights);
      break;
    case PROP_LABELS:
      g_value_set_string (value, s->labels);
      break;
    case PROP_CLASSES:
      g_value_set_string (value, s->classes);
      break;
    case PROP_NMS_GROUPS:
      g_value_set_string (value, s->nms_groups);
      break;
    case PROP_BACKEND:
      g_value_set_enum (value, s->backend);
      break;
    case PROP_DEVICE:
      g_value_set_enum (value, s->device);
      break;
    case PROP_THRESHOLD:
      g_value_set_double (value, s->threshold);
      break;
    case PROP_NMS_THRESHOLD:
      g_value_set_double (value, s->nms_threshold);
      break;
    case PROP_INPUT_SIZE:
      g_value_set_int (value, s->input_size);
      break;
    case PROP_LETTERBOX:
      g_value_set_boolean (value, s->letterbox);
      break;
    case PROP_INTERVAL:
      g_value_set_uint (value, s->interval);
      break;
    case PROP_BATCH_SIZE:
      g_value_set_uint (value, s->batch_size);
      break;
    case PROP_THREADS:
      g_value_set_uint (value, s->threads);
      break;
    case PROP_ROI_MODE:
      g_value_set_enum (value, s->roi_mode);
      break;
    case PROP_MAX_REGIONS:
      g_value_set_uint (value, s->max_regions);
      break;
    case PROP_POST_MESSAGES:
      g_value_set_boolean (value, s->post_messages);
      break;
    case PROP_STATS:
      g_value_take_boxed (value, stats_structure (self));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

/* ------------------------------------------------------------------ */
/* start / stop */

static void
held_free (gpointer p)
{
  Held *h = p;
  gst_buffer_unref (h->buf);
  g_free (h);
}

static void
state_free (State * st)
{
  if (!st)
    return;
  g_queue_clear_full (&st->held, held_free);
  g_queue_clear_full (&st->ready, (GDestroyNotify) gst_buffer_unref);
  if (st->be)
    st->vt->close (st->be);
  yolo_cfg_free (st->cfg);
  g_strfreev (st->labels);
  g_free (st->keep);
  yolo_nms_groups_free (st->nms_groups);
  g_free (st->input);
  g_free (st);
}

/* Posts the one element error for a failed model load. */
static void
post_model_error (GstYolov4Infer * self, const Settings * s, GError * err)
{
  gchar *dbg = g_strdup_printf ("config=%s weights=%s labels=%s",
      GST_STR_NULL (s->config), GST_STR_NULL (s->weights), GST_STR_NULL (s->labels));

  if (err->domain == YOLO_CFG_ERROR) {
    switch (err->code) {
      case YOLO_CFG_ERROR_NOT_FOUND:
        GST_ELEMENT_ERROR (self, RESOURCE, NOT_FOUND, ("%s", err->message), ("%s", dbg));
        break;
      case YOLO_CFG_ERROR_UNSUPPORTED:
        GST_ELEMENT_ERROR (self, LIBRARY, SETTINGS, ("%s", err->message), ("%s", dbg));
        break;
      case YOLO_CFG_ERROR_SYNTAX:
      case YOLO_CFG_ERROR_WEIGHTS:
      case YOLO_CFG_ERROR_LABELS:
      default:
        GST_ELEMENT_ERROR (self, RESOURCE, READ, ("%s", err->message), ("%s", dbg));
        break;
    }
  } else if (err->domain == GST_RESOURCE_ERROR) {
    GST_ELEMENT_ERROR (self, RESOURCE, SETTINGS, ("%s", err->message), ("%s", dbg));
  } else if (err->domain == G_KEY_FILE_ERROR) {
    GST_ELEMENT_ERROR (self, RESOURCE, SETTINGS, ("%s", err->message),
        ("nms-groups=%s labels=%s", GST_STR_NULL (s->nms_groups), GST_STR_NULL (s->labels)));
  } else {
    /* backend open failure (library domain or backend's own) */
    GST_ELEMENT_ERROR (self, LIBRARY, INIT, ("%s", err->message), ("%s", dbg));
  }
  g_free (dbg);
}

static const YoloBackendVTable *
pick_backend (GstYolov4InferBackend which, GError ** error)
{
  const YoloBackendVTable *vt = NULL;
  switch (which) {
    case GST_YOLOV4_INFER_BACKEND_OPENCV:
      vt = yolo_backend_opencv ();
      if (!vt)
        g_set_error (error, YOLO_CFG_ERROR, YOLO_CFG_ERROR_UNSUPPORTED,
            "backend=opencv requested but this build has no OpenCV DNN backend");
      break;
    case GST_YOLOV4_INFER_BACKEND_DARKNET:
      vt = yolo_backend_darknet ();
      if (!vt)
        g_set_error (error, YOLO_CFG_ERROR, YOLO_CFG_ERROR_UNSUPPORTED,
            "backend=darknet requested but this build has no libdarknet backend");
      break;
    case GST_YOLOV4_INFER_BACKEND_AUTO:
    default:
      /* OpenCV DNN is 8-12x faster than darknet's CPU code */
      vt = yolo_backend_opencv ();
      if (!vt)
        vt = yolo_backend_darknet ();
      if (!vt)
        g_set_error (error, YOLO_CFG_ERROR, YOLO_CFG_ERROR_UNSUPPORTED,
            "no inference backend compiled in");
      break;
  }
  return vt;
}

static gboolean
parse_classes (State * st, const gchar * classes, GError ** error)
{
  st->keep = g_new (gboolean, MAX (st->n_labels, 1));
  for (guint i = 0; i < st->n_labels; i++)
    st->keep[i] = classes == NULL || *classes == '\0';
  if (!classes || !*classes)
    return TRUE;

  gchar **names = g_strsplit (classes, ",", -1);
  gboolean ok = TRUE;
  guint n = 0;
  for (gchar ** n_ = names; *n_ && ok; n_++) {
    gchar *name = g_strstrip (*n_);
    if (!*name)
      continue;
    gboolean found = FALSE;
    for (guint i = 0; i < st->n_labels; i++) {
      if (!strcmp (st->labels[i], name)) {
        st->keep[i] = TRUE;
        found = TRUE;
      }
    }
    if (!found) {
      g_set_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS,
          "classes: \"%s\" is not a label of the names file", name);
      ok = FALSE;
    }
    n++;
  }
  if (ok && n == 0) {
    g_set_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS,
        "classes: \"%s\" names no label", classes);
    ok = FALSE;
  }
  g_strfreev (names);
  return ok;
}

static gboolean
load_model (State * st, const Settings * s, GError ** error)
{
  YoloBackendKind kind;

  if (!s->config || !*s->config || !s->weights || !*s->weights || !s->labels
      || !*s->labels) {
    g_set_error (error, YOLO_CFG_ERROR, YOLO_CFG_ERROR_NOT_FOUND,
        "yolov4infer needs the config, weights and labels properties "
        "(missing:%s%s%s)", (!s->config || !*s->config) ? " config" : "",
        (!s->weights || !*s->weights) ? " weights" : "",
        (!s->labels || !*s->labels) ? " labels" : "");
    return FALSE;
  }
  if (s->input_size != 0 && (s->input_size < 32 || s->input_size % 32 != 0)) {
    g_set_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS,
        "input-size=%d: must be 0 (the cfg's) or a positive multiple of 32",
        s->input_size);
    return FALSE;
  }
  st->vt = pick_backend (s->backend, error);
  if (!st->vt)
    return FALSE;
  kind = st->vt->kind;

  st->cfg = yolo_cfg_load (s->config, error);
  if (!st->cfg)
    return FALSE;
  if (!yolo_cfg_check_backend (st->cfg, kind, error))
    return FALSE;
  if (!yolo_cfg_check_weights (st->cfg, s->weights, error))
    return FALSE;
  st->labels = yolo_cfg_load_labels (st->cfg, s->labels, error);
  if (!st->labels)
    return FALSE;
  st->n_labels = g_strv_length (st->labels);
  if (!parse_classes (st, s->classes, error))
    return FALSE;
  /* The default groups name COCO labels: a model without them (fire/smoke)
   * just has no groups; labels the user names must exist. */
  st->nms_groups = yolo_nms_groups_parse (s->nms_groups, (const gchar * const *) st->labels,
      st->n_labels, !g_strcmp0 (s->nms_groups, YOLO_NMS_GROUPS_DEFAULT), error);
  if (!st->nms_groups)
    return FALSE;

  st->net_w = s->input_size ? s->input_size : yolo_cfg_width (st->cfg);
  st->net_h = s->input_size ? s->input_size : yolo_cfg_height (st->cfg);
  st->max_batch = CLAMP (s->batch_size, 1, MAX_BATCH_SIZE);

  YoloBackendOptions opts = {
    .cfg_path = s->config,
    .weights_path = s->weights,
    .cfg = st->cfg,
    .width = st->net_w,
    .height = st->net_h,
    .device = s->device == GST_YOLOV4_INFER_DEVICE_CUDA ? "cuda" : "cpu",
    .max_batch = (gint) st->max_batch,
    .threads = (gint) s->threads,
  };
  st->be = st->vt->open (&opts, error);
  if (!st->be)
    return FALSE;
  st->input = g_new (gfloat, (gsize) st->max_batch * 3 * st->net_w * st->net_h);
  return TRUE;
}

static gboolean
gst_yolov4_infer_start (GstBaseTransform * trans)
{
  GstYolov4Infer *self = GST_YOLOV4_INFER (trans);
  Settings s;
  GError *err = NULL;
  State *st = g_new0 (State, 1);
  gint64 t0 = g_get_monotonic_time ();

  GST_OBJECT_LOCK (self);
  settings_copy (&self->settings, &s);
  GST_OBJECT_UNLOCK (self);

  g_queue_init (&st->held);
  g_queue_init (&st->ready);
  if (!load_model (st, &s, &err)) {
    GST_WARNING_OBJECT (self, "model load failed: %s", err->message);
    post_model_error (self, &s, err);
    g_error_free (err);
    state_free (st);
    settings_clear (&s);
    return FALSE;
  }
  st->load_us = g_get_monotonic_time () - t0;
  GST_INFO_OBJECT (self, "loaded %s (%ux%u classes=%u) on %s/%s in %.1f ms",
      s.config, st->net_w, st->net_h, st->n_labels, st->vt->name,
      s.device == GST_YOLOV4_INFER_DEVICE_CUDA ? "cuda" : "cpu", st->load_us / 1000.0);

  GST_OBJECT_LOCK (self);
  self->state = st;
  GST_OBJECT_UNLOCK (self);
  settings_clear (&s);
  return TRUE;
}

static gboolean
gst_yolov4_infer_stop (GstBaseTransform * trans)
{
  GstYolov4Infer *self = GST_YOLOV4_INFER (trans);
  State *st;

  GST_OBJECT_LOCK (self);
  st = self->state;
  self->state = NULL;
  GST_OBJECT_UNLOCK (self);
  if (st)
    GST_DEBUG_OBJECT (self, "stopping after %" G_GUINT64_FORMAT " inferred frames",
        st->n_inferred);
  state_free (st);
  return TRUE;
}

static gboolean
gst_yolov4_infer_set_caps (GstBaseTransform * trans, GstCaps * incaps,
    GstCaps * outcaps)
{
  GstYolov4Infer *self = GST_YOLOV4_INFER (trans);
  GstVideoInfo info;

  if (!gst_video_info_from_caps (&info, incaps)
      || !yolo_preproc_format_supported (GST_VIDEO_INFO_FORMAT (&info))) {
    GST_ELEMENT_ERROR (self, CORE, NEGOTIATION, (NULL),
        ("unsupported caps %" GST_PTR_FORMAT, incaps));
    return FALSE;
  }
  if (self->state) {
    self->state->vinfo = info;
    self->state->have_info = TRUE;
  }
  return TRUE;
}

/* ------------------------------------------------------------------ */
/* inference */

/* One network input: which held buffer and how it maps back. */
typedef struct {
  guint frame;      /* index into the batch's frame list */
  guint region;     /* index into that frame's regions (0 for the whole frame) */
  YoloTransform xf;
} Job;

static GQuark motion_quark;

/* The regions to infer for @buf in roi-mode=motion (yoloregions.c): 0 =
 * nothing moving; *@whole = infer the whole frame (then 1). */
static guint
motion_regions (const State * st, const Settings * s, GstBuffer * buf, gint fw,
    gint fh, YoloRect * regions, gboolean * whole)
{
  YoloRect boxes[64];
  guint n_boxes = 0;
  gpointer iter = NULL;
  GstMeta *m;

  *whole = FALSE;
  while ((m = gst_buffer_iterate_meta_filtered (buf, &iter,
              GST_VIDEO_REGION_OF_INTEREST_META_API_TYPE)) && n_boxes < G_N_ELEMENTS (boxes)) {
    GstVideoRegionOfInterestMeta *r = (GstVideoRegionOfInterestMeta *) m;
    if (r->roi_type != motion_quark || r->w == 0 || r->h == 0)
      continue;
    boxes[n_boxes++] = (YoloRect) { r->x, r->y, r->w, r->h };
  }
  if (n_boxes == 0) {
    GstEdgefaasEventMeta *em = gst_buffer_get_edgefaas_event_meta (buf);
    if (em && em->event && em->event->motion_boxes) {
      for (guint i = 0; i < em->event->motion_boxes->len && n_boxes < G_N_ELEMENTS (boxes); i++) {
        EdgefaasBox *b = &g_array_index (em->event->motion_boxes, EdgefaasBox, i);
        if (b->w > 0 && b->h > 0)
          boxes[n_boxes++] = (YoloRect) { b->x, b->y, b->w, b->h };
      }
    }
  }
  YoloRegionParams p = { fw, fh, st->net_w, st->net_h, REGION_FACTOR,
    MAX (s->max_regions, 1), REGION_WHOLE_COVERAGE };
  guint n = yolo_regions_plan (&p, boxes, n_boxes, regions, whole);
  /* fewer, larger regions while that many inputs cost more than the frame */
  while (n > 1 && !*whole
      && !yolo_region_cost_prefer_regions (&st->region_cost, n, st->max_batch)) {
    p.max_regions = n - 1;
    n = yolo_regions_plan (&p, boxes, n_boxes, regions, whole);
  }
  if (n == 1 && !*whole
      && !yolo_region_cost_prefer_regions (&st->region_cost, 1, st->max_batch)) {
    *whole = TRUE;
    regions[0] = (YoloRect) { 0, 0, fw, fh };
  }
  return n;
}

static GstStructure *
detection_structure (const YoloDetection * d, const gchar * label)
{
  return gst_structure_new ("detection",
      "label", G_TYPE_STRING, label,
      "label_id", G_TYPE_INT, d->class_id,
      "confidence", G_TYPE_DOUBLE, (gdouble) d->confidence,
      "x_min", G_TYPE_DOUBLE, d->x_min,
      "y_min", G_TYPE_DOUBLE, d->y_min,
      "x_max", G_TYPE_DOUBLE, d->x_max,
      "y_max", G_TYPE_DOUBLE, d->y_max, NULL);
}

/* Attach metas, post messages for one inferred buffer.
 * Takes and returns the (writable) buffer. */
static GstBuffer *
finish_frame (GstYolov4Infer * self, State * st, const Settings * s,
    GstBuffer * buf, GArray * dets)
{
  gint fw = GST_VIDEO_INFO_WIDTH (&st->vinfo), fh = GST_VIDEO_INFO_HEIGHT (&st->vinfo);
  GValue list = G_VALUE_INIT;
  GstSegment *seg = &GST_BASE_TRANSFORM (self)->segment;
  GstClockTime ts = GST_BUFFER_PTS (buf);

  if (dets->len > MAX_CANDIDATES) {
    GST_DEBUG_OBJECT (self, "%u candidates, keeping the %u most confident",
        dets->len, MAX_CANDIDATES);
    yolo_keep_top (dets, MAX_CANDIDATES);
  }
  yolo_nms_grouped (dets, st->nms_groups, fw, fh, s->nms_threshold);
  buf = gst_buffer_make_writable (buf);
  if (s->post_messages)
    g_value_init (&list, GST_TYPE_LIST);

  for (guint i = 0; i < dets->len; i++) {
    const YoloDetection *d = &g_array_index (dets, YoloDetection, i);
    const gchar *label = st->labels[d->class_id];
    guint x = (guint) (d->x_min * fw + 0.5), y = (guint) (d->y_min * fh + 0.5);
    guint x1 = (guint) (d->x_max * fw + 0.5), y1 = (guint) (d->y_max * fh + 0.5);
    GstVideoRegionOfInterestMeta *roi = gst_buffer_add_video_region_of_interest_meta (buf,
        label, x, y, x1 > x ? x1 - x : 0, y1 > y ? y1 - y : 0);
    gst_video_region_of_interest_meta_add_param (roi, detection_structure (d, label));
    if (s->post_messages) {
      GValue v = G_VALUE_INIT;
      g_value_init (&v, GST_TYPE_STRUCTURE);
      g_value_take_boxed (&v, detection_structure (d, label));
      gst_value_list_append_and_take_value (&list, &v);
    }
  }
  GST_LOG_OBJECT (self, "%u detections on %" GST_TIME_FORMAT, dets->len, GST_TIME_ARGS (ts));

  if (s->post_messages) {
    GstStructure *st_msg = gst_structure_new ("detections",
        "timestamp", G_TYPE_UINT64, ts,
        "stream-time", G_TYPE_UINT64,
        gst_segment_to_stream_time (seg, GST_FORMAT_TIME, ts),
        "running-time", G_TYPE_UINT64,
        gst_segment_to_running_time (seg, GST_FORMAT_TIME, ts),
        "width", G_TYPE_INT, fw, "height", G_TYPE_INT, fh,
        "count", G_TYPE_UINT, dets->len, NULL);
    gst_structure_take_value (st_msg, "detections", &list);
    gst_element_post_message (GST_ELEMENT (self),
        gst_message_new_element (GST_OBJECT (self), st_msg));
  }
  return buf;
}

static gboolean
run_forward (GstYolov4Infer * self, State * st, const Settings * s, Job * jobs,
    guint n_jobs, GArray ** frame_dets, GArray ** frame_regions, GError ** error)
{
  GArray **out = g_new0 (GArray *, n_jobs);
  gint64 t0 = g_get_monotonic_time ();
  gboolean ok = st->vt->infer (st->be, st->input, n_jobs, (gfloat) s->threshold,
      out, error);
  gint64 dt = g_get_monotonic_time () - t0;

  /* the first pass includes the backend's lazy set-up: not a cost sample */
  if (ok && st->n_forward > 0)
    yolo_region_cost_add_pass (&st->region_cost, n_jobs, dt);
  GST_OBJECT_LOCK (self);
  if (st->n_forward == 0)
    st->first_infer_us = dt;
  st->n_forward++;
  st->n_inputs += n_jobs;
  st->infer_us += dt;
  GST_OBJECT_UNLOCK (self);

  for (guint j = 0; ok && j < n_jobs; j++) {
    GArray *c = out[j];
    for (guint k = 0; c && k < c->len; k++) {
      const YoloCandidate *cand = &g_array_index (c, YoloCandidate, k);
      YoloDetection d;
      if (cand->class_id < 0 || (guint) cand->class_id >= st->n_labels
          || !st->keep[cand->class_id] || cand->confidence < s->threshold)
        continue;
      yolo_transform_candidate (&jobs[j].xf, cand, &d);
      if (d.x_max <= d.x_min || d.y_max <= d.y_min)
        continue;
      g_array_append_val (frame_dets[jobs[j].frame], d);
      g_array_append_val (frame_regions[jobs[j].frame], jobs[j].region);
    }
  }
  for (guint j = 0; j < n_jobs; j++)
    if (out[j])
      g_array_unref (out[j]);
  g_free (out);
  if (ok)
    GST_LOG_OBJECT (self, "forward pass of %u images: %.2f ms", n_jobs, dt / 1000.0);
  return ok;
}

/* Infer every held buffer marked for inference, then move all held buffers
 * (in arrival order) to the ready queue. */
static GstFlowReturn
run_batch (GstYolov4Infer * self, State * st)
{
  Settings s;
  guint n_frames = 0;
  GArray **dets, **dets_region;
  Job *jobs;
  guint n_jobs = 0;
  GError *err = NULL;
  GstFlowReturn ret = GST_FLOW_OK;
  gsize img = (gsize) 3 * st->net_w * st->net_h;

  if (st->n_held_infer == 0)
    goto release;
  if (!st->have_info) {
    GST_ELEMENT_ERROR (self, CORE, NEGOTIATION, (NULL), ("no caps before buffers"));
    ret = GST_FLOW_NOT_NEGOTIATED;
    goto release;
  }

  GST_OBJECT_LOCK (self);
  settings_copy (&self->settings, &s);
  GST_OBJECT_UNLOCK (self);

  dets = g_new0 (GArray *, st->n_held_infer);
  dets_region = g_new0 (GArray *, st->n_held_infer);
  jobs = g_new0 (Job, st->max_batch);
  YoloRect (*regions)[MAX_REGIONS] = g_malloc0_n (st->n_held_infer, sizeof *regions);
  guint *n_regions = g_new0 (guint, st->n_held_infer);

  gint fw = GST_VIDEO_INFO_WIDTH (&st->vinfo), fh = GST_VIDEO_INFO_HEIGHT (&st->vinfo);
  gboolean *inferred = g_new0 (gboolean, st->n_held_infer);
  for (GList * l = st->held.head; l && ret == GST_FLOW_OK; l = l->next) {
    Held *h = l->data;
    if (!h->infer)
      continue;
    guint f = n_frames++;
    dets[f] = g_array_new (FALSE, FALSE, sizeof (YoloDetection));
    dets_region[f] = g_array_new (FALSE, FALSE, sizeof (guint));

    gboolean whole = s.roi_mode == GST_YOLOV4_INFER_ROI_MODE_FRAME;
    n_regions[f] = 1;
    if (!whole) {
      n_regions[f] = motion_regions (st, &s, h->buf, fw, fh, regions[f], &whole);
      if (n_regions[f] == 0)
        continue;               /* nothing moving: not inferred */
      GST_OBJECT_LOCK (self);
      if (whole)
        st->n_whole_fallbacks++;
      else
        st->n_region_frames++;
      GST_OBJECT_UNLOCK (self);
    }
    inferred[f] = TRUE;

    GstVideoFrame vf;
    if (!gst_video_frame_map (&vf, &st->vinfo, h->buf, GST_MAP_READ)) {
      GST_ELEMENT_ERROR (self, STREAM, FAILED, (NULL), ("could not map buffer"));
      ret = GST_FLOW_ERROR;
      break;
    }
    for (guint r = 0; r < n_regions[f] && ret == GST_FLOW_OK; r++) {
      gint64 t0 = g_get_monotonic_time ();
      jobs[n_jobs].frame = f;
      jobs[n_jobs].region = r;
      yolo_preproc_frame (&vf, whole ? NULL : &regions[f][r], st->net_w, st->net_h,
          s.letterbox, st->input + n_jobs * img, &jobs[n_jobs].xf);
      gint64 dt = g_get_monotonic_time () - t0;
      yolo_region_cost_add_preproc (&st->region_cost, whole, dt);
      GST_OBJECT_LOCK (self);
      st->preproc_us += dt;
      GST_OBJECT_UNLOCK (self);
      if (!whole)
        GST_LOG_OBJECT (self, "region %u: %d,%d %dx%d", r, regions[f][r].x,
            regions[f][r].y, regions[f][r].w, regions[f][r].h);
      if (++n_jobs == st->max_batch) {
        if (!run_forward (self, st, &s, jobs, n_jobs, dets, dets_region, &err))
          ret = GST_FLOW_ERROR;
        n_jobs = 0;
      }
    }
    gst_video_frame_unmap (&vf);
  }
  if (ret == GST_FLOW_OK && n_jobs > 0 && !run_forward (self, st, &s, jobs, n_jobs,
          dets, dets_region, &err))
    ret = GST_FLOW_ERROR;

  if (err) {
    GST_ELEMENT_ERROR (self, STREAM, FAILED, ("Inference failed: %s", err->message),
        (NULL));
    g_clear_error (&err);
  }

  if (ret == GST_FLOW_OK) {
    guint f = 0;
    guint n_inf = 0;
    for (GList * l = st->held.head; l; l = l->next) {
      Held *h = l->data;
      if (!h->infer)
        continue;
      if (inferred[f]) {
        /* one object seen from two regions is one detection */
        yolo_regions_dedupe (dets[f], dets_region[f], regions[f], n_regions[f], fw, fh);
        h->buf = finish_frame (self, st, &s, h->buf, dets[f]);
        n_inf++;
      }
      f++;
    }
    GST_OBJECT_LOCK (self);
    st->n_inferred += n_inf;
    GST_OBJECT_UNLOCK (self);
  }

  for (guint f = 0; f < n_frames; f++) {
    g_array_unref (dets[f]);
    g_array_unref (dets_region[f]);
  }
  g_free (dets);
  g_free (dets_region);
  g_free (regions);
  g_free (n_regions);
  g_free (jobs);
  g_free (inferred);
  settings_clear (&s);

release:
  {
    Held *h;
    while ((h = g_queue_pop_head (&st->held))) {
      if (ret == GST_FLOW_OK)
        g_queue_push_tail (&st->ready, h->buf);
      else
        gst_buffer_unref (h->buf);
      g_free (h);
    }
    st->n_held_infer = 0;
  }
  return ret;
}

static GstFlowReturn
gst_yolov4_infer_submit_input_buffer (GstBaseTransform * trans,
    gboolean is_discont, GstBuffer * buf)
{
  GstYolov4Infer *self = GST_YOLOV4_INFER (trans);
  State *st = self->state;
  guint interval, batch;

  if (!st) {
    gst_buffer_unref (buf);
    return GST_FLOW_FLUSHING;
  }
  GST_OBJECT_LOCK (self);
  interval = MAX (self->settings.interval, 1);
  GST_OBJECT_UNLOCK (self);
  batch = st->max_batch;

  gboolean infer = (st->n_seen % interval) == 0;
  st->n_seen++;

  if (!infer && g_queue_is_empty (&st->held)) {
    g_queue_push_tail (&st->ready, buf);
    return GST_FLOW_OK;
  }
  Held *h = g_new0 (Held, 1);
  h->buf = buf;
  h->infer = infer;
  g_queue_push_tail (&st->held, h);
  if (infer)
    st->n_held_infer++;
  if (st->n_held_infer >= batch)
    return run_batch (self, st);
  return GST_FLOW_OK;
}

static GstFlowReturn
gst_yolov4_infer_generate_output (GstBaseTransform * trans, GstBuffer ** outbuf)
{
  GstYolov4Infer *self = GST_YOLOV4_INFER (trans);
  *outbuf = self->state ? g_queue_pop_head (&self->state->ready) : NULL;
  return GST_FLOW_OK;
}

/* Infer a partial batch and push everything held, in order. */
static GstFlowReturn
drain (GstYolov4Infer * self)
{
  State *st = self->state;
  GstFlowReturn ret = GST_FLOW_OK;
  GstBuffer *b;

  if (!st || (g_queue_is_empty (&st->held) && g_queue_is_empty (&st->ready)))
    return GST_FLOW_OK;
  GST_DEBUG_OBJECT (self, "draining %u held buffers", g_queue_get_length (&st->held));
  ret = run_batch (self, st);
  while ((b = g_queue_pop_head (&st->ready))) {
    if (ret == GST_FLOW_OK)
      ret = gst_pad_push (GST_BASE_TRANSFORM_SRC_PAD (self), b);
    else
      gst_buffer_unref (b);
  }
  return ret;
}

static void
drop_held (GstYolov4Infer * self)
{
  State *st = self->state;
  if (!st)
    return;
  g_queue_clear_full (&st->held, held_free);
  g_queue_init (&st->held);
  g_queue_clear_full (&st->ready, (GDestroyNotify) gst_buffer_unref);
  g_queue_init (&st->ready);
  st->n_held_infer = 0;
  st->n_seen = 0;
}

static gboolean
gst_yolov4_infer_sink_event (GstBaseTransform * trans, GstEvent * event)
{
  GstYolov4Infer *self = GST_YOLOV4_INFER (trans);

  switch (GST_EVENT_TYPE (event)) {
    case GST_EVENT_FLUSH_STOP:
      drop_held (self);
      break;
    case GST_EVENT_FLUSH_START:
      break;
    default:
      /* keep serialized events in order with the held buffers */
      if (GST_EVENT_IS_SERIALIZED (event)) {
        GstFlowReturn ret = drain (self);
        if (ret != GST_FLOW_OK && ret != GST_FLOW_FLUSHING)
          GST_DEBUG_OBJECT (self, "drain before %s: %s", GST_EVENT_TYPE_NAME (event),
              gst_flow_get_name (ret));
      }
      break;
  }
  return GST_BASE_TRANSFORM_CLASS (parent_class)->sink_event (trans, event);
}

/* ------------------------------------------------------------------ */

static void
gst_yolov4_infer_finalize (GObject * object)
{
  GstYolov4Infer *self = GST_YOLOV4_INFER (object);
  state_free (self->state);
  settings_clear (&self->settings);
  G_OBJECT_CLASS (parent_class)->finalize (object);
}

static void
gst_yolov4_infer_class_init (GstYolov4InferClass * klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);
  GstBaseTransformClass *trans_class = GST_BASE_TRANSFORM_CLASS (klass);
  const GParamFlags rw = G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS;

  motion_quark = g_quark_from_static_string ("motion");

  gobject_class->set_property = gst_yolov4_infer_set_property;
  gobject_class->get_property = gst_yolov4_infer_get_property;
  gobject_class->finalize = gst_yolov4_infer_finalize;

  /**
   * GstYolov4Infer:config:
   *
   * Darknet network description (.cfg). Parsed and validated by yolov4infer
   * itself before the backend loads it.
   */
  g_object_class_install_property (gobject_class, PROP_CONFIG,
      g_param_spec_string ("config", "Config", "Darknet network .cfg file",
          DEFAULT_PROP_CONFIG, rw | GST_PARAM_MUTABLE_READY));
  /**
   * GstYolov4Infer:weights:
   *
   * Darknet .weights file; its size must match the parameter count of the cfg.
   */
  g_object_class_install_property (gobject_class, PROP_WEIGHTS,
      g_param_spec_string ("weights", "Weights",
          "Darknet .weights file (size checked against the cfg)",
          DEFAULT_PROP_WEIGHTS, rw | GST_PARAM_MUTABLE_READY));
  /**
   * GstYolov4Infer:labels:
   *
   * Names file: one label per line, as many lines as the cfg has classes.
   */
  g_object_class_install_property (gobject_class, PROP_LABELS,
      g_param_spec_string ("labels", "Labels",
          "Names file, one label per line (count must equal the cfg's classes)",
          DEFAULT_PROP_LABELS, rw | GST_PARAM_MUTABLE_READY));
  /**
   * GstYolov4Infer:backend:
   *
   * Inference engine. `auto` picks OpenCV DNN when compiled in (much faster
   * than darknet's CPU code), else libdarknet.
   */
  g_object_class_install_property (gobject_class, PROP_BACKEND,
      g_param_spec_enum ("backend", "Backend", "Inference engine",
          GST_TYPE_YOLOV4_INFER_BACKEND, DEFAULT_PROP_BACKEND,
          rw | GST_PARAM_MUTABLE_READY));
  /**
   * GstYolov4Infer:device:
   *
   * Where to run. `cuda` makes start() fail with a LIBRARY error when the
   * backend was built without CUDA.
   */
  g_object_class_install_property (gobject_class, PROP_DEVICE,
      g_param_spec_enum ("device", "Device", "Compute device",
          GST_TYPE_YOLOV4_INFER_DEVICE, DEFAULT_PROP_DEVICE,
          rw | GST_PARAM_MUTABLE_READY));
  /**
   * GstYolov4Infer:threshold:
   *
   * Minimum confidence (objectness × class probability) of a detection.
   */
  g_object_class_install_property (gobject_class, PROP_THRESHOLD,
      g_param_spec_double ("threshold", "Threshold",
          "Minimum detection confidence (objectness x class probability)",
          0.0, 1.0, DEFAULT_PROP_THRESHOLD, rw | GST_PARAM_MUTABLE_PLAYING));
  /**
   * GstYolov4Infer:nms-threshold:
   *
   * Per-class non-maximum suppression: a box overlapping a stronger box of the
   * same class with IoU above this is dropped (also across motion regions).
   */
  g_object_class_install_property (gobject_class, PROP_NMS_THRESHOLD,
      g_param_spec_double ("nms-threshold", "NMS threshold",
          "IoU above which a weaker box of the same class is suppressed",
          0.0, 1.0, DEFAULT_PROP_NMS_THRESHOLD, rw | GST_PARAM_MUTABLE_PLAYING));
  /**
   * GstYolov4Infer:input-size:
   *
   * Network input width and height in pixels, overriding the cfg's [net]
   * width/height; 0 keeps the cfg's. A multiple of 32.
   */
  g_object_class_install_property (gobject_class, PROP_INPUT_SIZE,
      g_param_spec_int ("input-size", "Input size",
          "Network input width=height (multiple of 32), 0 = the cfg's",
          0, 4096, DEFAULT_PROP_INPUT_SIZE, rw | GST_PARAM_MUTABLE_READY));
  /**
   * GstYolov4Infer:letterbox:
   *
   * Keep the aspect ratio (pad with grey) instead of a plain resize. Off by
   * default: darknet trains with a plain resize.
   */
  g_object_class_install_property (gobject_class, PROP_LETTERBOX,
      g_param_spec_boolean ("letterbox", "Letterbox",
          "Keep the aspect ratio, padding with grey (default: plain resize like darknet training)",
          DEFAULT_PROP_LETTERBOX, rw | GST_PARAM_MUTABLE_PLAYING));
  /**
   * GstYolov4Infer:classes:
   *
   * Comma-separated labels to keep (e.g. "person,car"); empty keeps all. An
   * unknown label fails start() with a RESOURCE/SETTINGS error.
   */
  g_object_class_install_property (gobject_class, PROP_CLASSES,
      g_param_spec_string ("classes", "Classes",
          "Comma-separated labels to keep, empty = all",
          DEFAULT_PROP_CLASSES, rw | GST_PARAM_MUTABLE_READY));
  /**
   * GstYolov4Infer:interval:
   *
   * Infer every Nth buffer: buffers 0, N, 2N, ... counted from start() and
   * from every flush are inferred, the others pass through without metas.
   */
  g_object_class_install_property (gobject_class, PROP_INTERVAL,
      g_param_spec_uint ("interval", "Interval",
          "Infer every Nth buffer (0 and 1 = every buffer)",
          0, G_MAXUINT, DEFAULT_PROP_INTERVAL, rw | GST_PARAM_MUTABLE_PLAYING));
  /**
   * GstYolov4Infer:batch-size:
   *
   * Frames per forward pass. Buffers are held until the batch is full, then
   * released in arrival order; EOS and any other serialized event release a
   * partial batch, a flush drops it.
   */
  g_object_class_install_property (gobject_class, PROP_BATCH_SIZE,
      g_param_spec_uint ("batch-size", "Batch size",
          "Frames per forward pass (buffers held and released in order)",
          1, MAX_BATCH_SIZE, DEFAULT_PROP_BATCH_SIZE, rw | GST_PARAM_MUTABLE_READY));
  /**
   * GstYolov4Infer:roi-mode:
   *
   * `frame`: infer on the whole frame. `motion`: infer only on padded square
   * regions (side max(w,h)×1.35, at least the network input) around the
   * buffer's motion boxes, merged so that none overlap or nearly touch, or on
   * the whole frame when the regions would cost more (measured) or cover most
   * of it; buffers without motion boxes are not inferred.
   */
  g_object_class_install_property (gobject_class, PROP_ROI_MODE,
      g_param_spec_enum ("roi-mode", "ROI mode", "Which part of the frame to infer on",
          GST_TYPE_YOLOV4_INFER_ROI_MODE, DEFAULT_PROP_ROI_MODE,
          rw | GST_PARAM_MUTABLE_PLAYING));
  /**
   * GstYolov4Infer:max-regions:
   *
   * roi-mode=motion: at most this many regions (network inputs) per frame;
   * more are merged. Fewer are used when the measured cost of that many
   * inputs exceeds one whole-frame input: with batch-size 1, or on a backend
   * where a batched pass costs as much per image as a single one (CPU), that
   * means one region or the whole frame.
   */
  g_object_class_install_property (gobject_class, PROP_MAX_REGIONS,
      g_param_spec_uint ("max-regions", "Max regions",
          "roi-mode=motion: most network inputs per frame (more regions are merged)",
          1, MAX_REGIONS, DEFAULT_PROP_MAX_REGIONS, rw | GST_PARAM_MUTABLE_PLAYING));
  /**
   * GstYolov4Infer:post-messages:
   *
   * Post a `detections` element message per inferred buffer.
   */
  g_object_class_install_property (gobject_class, PROP_POST_MESSAGES,
      g_param_spec_boolean ("post-messages", "Post messages",
          "Post a 'detections' element message per inferred buffer",
          DEFAULT_PROP_POST_MESSAGES, rw | GST_PARAM_MUTABLE_PLAYING));
  /**
   * GstYolov4Infer:nms-groups:
   *
   * Classes whose boxes suppress each other in NMS, so that one object is one
   * box: groups separated by `;`, the labels of a group by `,`. `*` = one
   * group of all classes (class-agnostic NMS); empty = per-class NMS only. The
   * default groups COCO's vehicles and two-wheelers; labels of the default
   * that the names file lacks are skipped, labels you set must exist
   * (RESOURCE/SETTINGS error naming the label otherwise).
   */
  g_object_class_install_property (gobject_class, PROP_NMS_GROUPS,
      g_param_spec_string ("nms-groups", "NMS class groups",
          "Classes suppressing each other in NMS: 'a,b;c,d' ('*' = all, '' = per class)",
          DEFAULT_PROP_NMS_GROUPS, rw | GST_PARAM_MUTABLE_READY));
  /**
   * GstYolov4Infer:stats:
   *
   * Read-only: model-load-ms, first-inference-ms, frames-inferred,
   * forward-passes, network-inputs (images over all passes), region-frames
   * and whole-frame-fallbacks (roi-mode=motion: frames inferred on regions /
   * on the whole frame), inference-ms, preprocess-ms, input-width,
   * input-height, backend, threads (CPU threads the engine uses now, as it
   * reports them; 0 = not known).
   */
  g_object_class_install_property (gobject_class, PROP_STATS,
      g_param_spec_boxed ("stats", "Statistics", "Load and inference timings",
          GST_TYPE_STRUCTURE, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));

  /**
   * GstYolov4Infer:threads:
   *
   * CPU threads for inference; 0 = the backend's default (OpenCV: every core,
   * whatever OMP_NUM_THREADS says). Several replicas on one host should each get
   * their share, or they fight for the cores. OpenCV's thread pool is
   * process-wide: the value set by the last yolov4infer that opened its model
   * applies to every OpenCV user in the process. darknet: OpenMP threads of the
   * streaming thread.
   */
  g_object_class_install_property (gobject_class, PROP_THREADS,
      g_param_spec_uint ("threads", "Threads",
          "CPU threads for inference, 0 = backend default (all cores). OpenCV: "
          "process-wide (one thread pool per process)",
          0, 1024, DEFAULT_PROP_THREADS, rw | GST_PARAM_MUTABLE_READY));

  gst_element_class_set_static_metadata (element_class,
      "YOLOv4 darknet-format detector", "Filter/Analyzer/Video",
      "Detects objects with a darknet YOLO network (OpenCV DNN or libdarknet) "
      "and attaches them as region-of-interest metas",
      "edgefaas <edgefaas@users.noreply.github.com>");
  gst_element_class_add_static_pad_template (element_class, &sink_template);
  gst_element_class_add_static_pad_template (element_class, &src_template);

  trans_class->start = GST_DEBUG_FUNCPTR (gst_yolov4_infer_start);
  trans_class->stop = GST_DEBUG_FUNCPTR (gst_yolov4_infer_stop);
  trans_class->set_caps = GST_DEBUG_FUNCPTR (gst_yolov4_infer_set_caps);
  trans_class->sink_event = GST_DEBUG_FUNCPTR (gst_yolov4_infer_sink_event);
  trans_class->submit_input_buffer =
      GST_DEBUG_FUNCPTR (gst_yolov4_infer_submit_input_buffer);
  trans_class->generate_output = GST_DEBUG_FUNCPTR (gst_yolov4_infer_generate_output);
  trans_class->passthrough_on_same_caps = FALSE;
}

static void
gst_yolov4_infer_init (GstYolov4Infer * self)
{
  Settings *s = &self->settings;
  s->backend = DEFAULT_PROP_BACKEND;
  s->device = DEFAULT_PROP_DEVICE;
  s->threshold = DEFAULT_PROP_THRESHOLD;
  s->nms_threshold = DEFAULT_PROP_NMS_THRESHOLD;
  s->input_size = DEFAULT_PROP_INPUT_SIZE;
  s->letterbox = DEFAULT_PROP_LETTERBOX;
  s->interval = DEFAULT_PROP_INTERVAL;
  s->batch_size = DEFAULT_PROP_BATCH_SIZE;
  s->threads = DEFAULT_PROP_THREADS;
  s->roi_mode = DEFAULT_PROP_ROI_MODE;
  s->max_regions = DEFAULT_PROP_MAX_REGIONS;
  s->post_messages = DEFAULT_PROP_POST_MESSAGES;
  s->nms_groups = g_strdup (DEFAULT_PROP_NMS_GROUPS);
  gst_base_transform_set_in_place (GST_BASE_TRANSFORM (self), TRUE);
  gst_base_transform_set_passthrough (GST_BASE_TRANSFORM (self), TRUE);
}
