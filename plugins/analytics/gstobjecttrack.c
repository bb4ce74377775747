/* objecttrack: multi-object tracking over GstVideoRegionOfInterestMeta detections.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
/**
 * SECTION:element-objecttrack
 * @title: objecttrack
 *
 * Gives detections stable identities over time. Reads every
 * #GstVideoRegionOfInterestMeta of the buffer that carries a `detection` param
 * structure (as yolov4infer attaches them, and as the Intel DL Streamer convention
 * has it: `label` string, `confidence` double; the label falls back to the meta's
 * roi type), runs one tracker per camera, writes the track id into the meta's `id`
 * and adds a `tracking` param structure:
 *
 * * `id` (int): the track id, ≥ 1, never given twice for a camera between start()
 *   and stop() (tracks forgotten on a flush do not give their ids back)
 * * `state` (string): `tentative` or `confirmed`
 * * `label` (string): the track's label (highest summed confidence over its boxes)
 * * `age` (double): seconds since the track's first box
 * * `hits` (uint): boxes associated with the track
 * * `velocity-x`, `velocity-y` (double): box-centre velocity in pixels per second
 * * `stationary` (double): seconds the track's speed has stayed below
 *   #GstObjectTrack:stationary-speed
 * * `median-score` (double): median confidence of the track's last 16 boxes
 * * `camera-id` (string)
 *
 * A detection meta without `tracking` (its `id` left as it was) was not tracked: a
 * low-confidence box that matched no track, a duplicate of a box already matched (#GstObjectTrack:duplicate-overlap), or
 * a new box while #GstObjectTrack:max-tracks tracks exist. Other metas (motion boxes)
 * are left alone.
 *
 * The camera is the edgefaas event meta's camera id when the buffer has one, else
 * #GstObjectTrack:camera-id. Time is, with #GstObjectTrack:time-source=auto, the event
 * meta's capture time (the real time between two frames of the camera, whatever
 * happened to the buffers on the way), else the buffer PTS. The tracker works in
 * seconds, so frames skipped upstream (motion gate, analyse interval) only make one
 * prediction longer. A buffer whose time is earlier than the camera's previous one
 * (a late or repeated frame) passes untracked; a flush, a change of the frame size
 * and stop() forget all tracks. The algorithm is in tracker.c (see tracker.h).
 *
 * ## Example launch line
 * |[
 * gst-launch-1.0 filesrc location=clip.mkv ! matroskademux ! jpegdec ! videoconvert ! \
 *   yolov4infer config=yolo-fastest-1.1-xl.cfg weights=yolo-fastest-1.1-xl.weights \
 *   labels=coco.names ! objecttrack max-age=2 min-hits=3 ! fakesink
 * ]|
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstobjecttrack.h"

#include <string.h>
#include <gst/video/video.h>

#include "edgefaas-meta.h"
#include "tracker.h"

GST_DEBUG_CATEGORY_STATIC (gst_object_track_debug);
#define GST_CAT_DEFAULT gst_object_track_debug

#define DEFAULT_CAMERA_ID "default"
#define DEFAULT_TIME_SOURCE GST_OBJECT_TRACK_TIME_SOURCE_AUTO
#define DEFAULT_HIGH_THRESHOLD 0.5
#define DEFAULT_LOW_THRESHOLD 0.1
#define DEFAULT_MATCH_IOU 0.2
#define DEFAULT_LOW_MATCH_IOU 0.5
#define DEFAULT_DUPLICATE_OVERLAP 0.8
#define DEFAULT_MIN_HITS 3
#define DEFAULT_MAX_AGE 2.0
#define DEFAULT_STATIONARY_SPEED 10.0
#define DEFAULT_MAX_TRACKS 1024
#define DEFAULT_MAX_CAMERAS 64

enum {
  PROP_0,
  PROP_CAMERA_ID,
  PROP_TIME_SOURCE,
  PROP_HIGH_THRESHOLD,
  PROP_LOW_THRESHOLD,
  PROP_MATCH_IOU,
  PROP_LOW_MATCH_IOU,
  PROP_DUPLICATE_OVERLAP,
  PROP_MIN_HITS,
  PROP_MAX_AGE,
  PROP_STATIONARY_SPEED,
  PROP_MAX_TRACKS,
  PROP_MAX_CAMERAS,
};

/* No pixel is read: any video, in any memory. */
static GstStaticPadTemplate sink_template = GST_STATIC_PAD_TEMPLATE ("sink",
    GST_PAD_SINK, GST_PAD_ALWAYS, GST_STATIC_CAPS ("video/x-raw(ANY)"));
static GstStaticPadTemplate src_template = GST_STATIC_PAD_TEMPLATE ("src",
    GST_PAD_SRC, GST_PAD_ALWAYS, GST_STATIC_CAPS ("video/x-raw(ANY)"));

typedef struct {
  gchar *camera_id;
  GstObjectTrackTimeSource time_source;
  EfTrackerParams params;
  guint max_cameras;
} Settings;

typedef struct {
  EfTracker *tracker;
  guint64 last_used;            /* buffer counter, for evicting the least recent */
} CameraTracker;

typedef struct {
  GHashTable *cameras;          /* camera id → CameraTracker */
  guint64 buffers;
  gint width, height;           /* frame size the tracks are in, 0 = unknown */
  GArray *boxes;                /* EfTrackerBox scratch */
  GPtrArray *rois;              /* GstVideoRegionOfInterestMeta *, parallel to boxes */
  gboolean warned_no_time;
} State;

struct _GstObjectTrack {
  GstBaseTransform parent;

  Settings settings;            /* under GST_OBJECT_LOCK */
  State *state;                 /* streaming thread, between start() and stop() */
};

#define gst_object_track_parent_class parent_class
G_DEFINE_TYPE (GstObjectTrack, gst_object_track, GST_TYPE_BASE_TRANSFORM);
GST_ELEMENT_REGISTER_DEFINE_WITH_CODE (objecttrack, "objecttrack", GST_RANK_NONE,
    GST_TYPE_OBJECT_TRACK,
    GST_DEBUG_CATEGORY_INIT (gst_object_track_debug, "objecttrack", 0,
        "multi-object tracking"));

GType
gst_object_track_time_source_get_type (void)
{
  static GType type = 0;
  static const GEnumValue values[] = {
    {GST_OBJECT_TRACK_TIME_SOURCE_AUTO,
        "Event meta capture time when present, else the buffer PTS", "auto"},
    {GST_OBJECT_TRACK_TIME_SOURCE_PTS, "Buffer PTS", "pts"},
    {0, NULL, NULL}
  };
  if (g_once_init_enter (&type)) {
    GType t = g_enum_register_static ("GstObjectTrackTimeSource", values);
    g_once_init_leave (&type, t);
  }
  return type;
}

static void
camera_tracker_free (gpointer p)
{
  CameraTracker *c = p;
  ef_tracker_free (c->tracker);
  g_free (c);
}

static State *
state_new (void)
{
  State *st = g_new0 (State, 1);
  st->cameras = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, camera_tracker_free);
  st->boxes = g_array_new (FALSE, TRUE, sizeof (EfTrackerBox));
  st->rois = g_ptr_array_new ();
  return st;
}

static void
state_free (State * st)
{
  g_hash_table_unref (st->cameras);
  g_array_unref (st->boxes);
  g_ptr_array_unref (st->rois);
  g_free (st);
}

static gboolean
gst_object_track_start (GstBaseTransform * trans)
{
  GstObjectTrack *self = GST_OBJECT_TRACK (trans);
  self->state = state_new ();
  return TRUE;
}

static gboolean
gst_object_track_stop (GstBaseTransform * trans)
{
  GstObjectTrack *self = GST_OBJECT_TRACK (trans);
  g_clear_pointer (&self->state, state_free);
  return TRUE;
}

static void
forget_tracks (GstObjectTrack * self, const gchar * why)
{
  if (!self->state)
    return;
  GHashTableIter it;
  gpointer value;
  if (g_hash_table_size (self->state->cameras))
    GST_INFO_OBJECT (self, "%s: forgetting the tracks of %u camera(s)", why,
        g_hash_table_size (self->state->cameras));
  /* reset, not free: the id counters go on, so an id is never given twice */
  g_hash_table_iter_init (&it, self->state->cameras);
  while (g_hash_table_iter_next (&it, NULL, &value))
    ef_tracker_reset (((CameraTracker *) value)->tracker);
}

static gboolean
gst_object_track_set_caps (GstBaseTransform * trans, GstCaps * incaps, GstCaps * outcaps)
{
  GstObjectTrack *self = GST_OBJECT_TRACK (trans);
  GstStructure *s = gst_caps_get_structure (incaps, 0);
  gint w = 0, h = 0;

  gst_structure_get_int (s, "width", &w);
  gst_structure_get_int (s, "height", &h);
  if (self->state && (self->state->width || self->state->height)
      && (w != self->state->width || h != self->state->height))
    forget_tracks (self, "frame size changed");   /* boxes of two sizes do not compare */
  if (self->state) {
    self->state->width = w;
    self->state->height = h;
  }
  return TRUE;
}

static gboolean
gst_object_track_sink_event (GstBaseTransform * trans, GstEvent * event)
{
  GstObjectTrack *self = GST_OBJECT_TRACK (trans);
  if (GST_EVENT_TYPE (event) == GST_EVENT_FLUSH_STOP)
    forget_tracks (self, "flush");
  return GST_BASE_TRANSFORM_CLASS (parent_class)->sink_event (trans, event);
}

/* The least recently used camera goes when a new one would exceed max-cameras. */
static void
evict_oldest_camera (GstObjectTrack * self, State * st)
{
  GHashTableIter it;
  gpointer key, value;
  const gchar *oldest = NULL;
  guint64 oldest_use = G_MAXUINT64;
  g_hash_table_iter_init (&it, st->cameras);
  while (g_hash_table_iter_next (&it, &key, &value)) {
    CameraTracker *c = value;
    if (c->last_used < oldest_use) {
      oldest_use = c->last_used;
      oldest = key;
    }
  }
  if (oldest) {
    GST_ELEMENT_WARNING (self, STREAM, FAILED, ("More cameras than max-cameras"),
        ("dropping the tracks of camera '%s' (least recently seen)", oldest));
    g_hash_table_remove (st->cameras, oldest);
  }
}

static EfTracker *
tracker_for_camera (GstObjectTrack * self, State * st, const Settings * s,
    const gchar * camera)
{
  CameraTracker *c = g_hash_table_lookup (st->cameras, camera);
  if (!c) {
    if (g_hash_table_size (st->cameras) >= s->max_cameras)
      evict_oldest_camera (self, st);
    c = g_new0 (CameraTracker, 1);
    c->tracker = ef_tracker_new (&s->params);
    g_hash_table_insert (st->cameras, g_strdup (camera), c);
    GST_DEBUG_OBJECT (self, "new tracker for camera '%s'", camera);
  } else {
    ef_tracker_set_params (c->tracker, &s->params);
  }
  c->last_used = st->buffers;
  return c->tracker;
}

/* Seconds for the tracker, or FALSE if the buffer has no usable time. */
static gboolean
buffer_time (GstBuffer * buf, const GstEdgefaasEventMeta * em, const Settings * s,
    gdouble * time)
{
  if (s->time_source == GST_OBJECT_TRACK_TIME_SOURCE_AUTO && em && em->event
      && em->event->capture_time_us > 0) {
    *time = em->event->capture_time_us / 1e6;
    return TRUE;
  }
  if (!GST_BUFFER_PTS_IS_VALID (buf))
    return FALSE;
  *time = GST_BUFFER_PTS (buf) / (gdouble) GST_SECOND;
  return TRUE;
}

/* The detection metas of the buffer as tracker boxes. */
static void
collect_boxes (GstBuffer * buf, State * st)
{
  gpointer iter = NULL;
  GstMeta *m;
  g_array_set_size (st->boxes, 0);
  g_ptr_array_set_size (st->rois, 0);
  while ((m = gst_buffer_iterate_meta_filtered (buf, &iter,
              GST_VIDEO_REGION_OF_INTEREST_META_API_TYPE))) {
    GstVideoRegionOfInterestMeta *roi = (GstVideoRegionOfInterestMeta *) m;
    GstStructure *det = gst_video_region_of_interest_meta_get_param (roi, "detection");
    gdouble score = 0;
    if (!det || !gst_structure_get_double (det, "confidence", &score))
      continue;
    const gchar *label = gst_structure_get_string (det, "label");
    EfTrackerBox b = { 0 };
    b.x = roi->x;
    b.y = roi->y;
    b.w = roi->w;
    b.h = roi->h;
    b.score = score;
    b.label = label ? g_quark_from_string (label) : roi->roi_type;
    g_array_append_val (st->boxes, b);
    g_ptr_array_add (st->rois, roi);
  }
}

static GstStructure *
tracking_structure (const EfTrackInfo * t, const gchar * camera)
{
  return gst_structure_new ("tracking",
      "id", G_TYPE_INT, (gint) t->id,
      "state", G_TYPE_STRING, t->state == EF_TRACK_TENTATIVE ? "tentative" : "confirmed",
      "label", G_TYPE_STRING, t->label ? g_quark_to_string (t->label) : "",
      "age", G_TYPE_DOUBLE, t->age,
      "hits", G_TYPE_UINT, t->hits,
      "velocity-x", G_TYPE_DOUBLE, t->vx,
      "velocity-y", G_TYPE_DOUBLE, t->vy,
      "stationary", G_TYPE_DOUBLE, t->stationary,
      "median-score", G_TYPE_DOUBLE, t->median_score,
      "camera-id", G_TYPE_STRING, camera, NULL);
}

/* A buffer tracked twice (two objecttracks, or a replay) keeps one `tracking`. */
static void
remove_tracking_params (GstVideoRegionOfInterestMeta * roi)
{
  GList *l = roi->params;
  while (l) {
    GList *next = l->next;
    if (gst_structure_has_name (l->data, "tracking")) {
      gst_structure_free (l->data);
      roi->params = g_list_delete_link (roi->params, l);
    }
    l = next;
  }
}

static GstFlowReturn
gst_object_track_transform_ip (GstBaseTransform * trans, GstBuffer * buf)
{
  GstObjectTrack *self = GST_OBJECT_TRACK (trans);
  State *st = self->state;
  Settings s;
  gdouble time;

  GST_OBJECT_LOCK (self);
  s = self->settings;
  s.camera_id = g_strdup (self->settings.camera_id);
  GST_OBJECT_UNLOCK (self);

  const GstEdgefaasEventMeta *em = gst_buffer_get_edgefaas_event_meta (buf);
  const gchar *camera = em && em->event && em->event->camera_id && *em->event->camera_id
      ? em->event->camera_id : s.camera_id;
  st->buffers++;

  if (!buffer_time (buf, em, &s, &time)) {
    if (!st->warned_no_time)
      GST_ELEMENT_WARNING (self, STREAM, FORMAT, ("Buffer without a timestamp"),
          ("no PTS and no event meta capture time: buffers pass untracked"));
    st->warned_no_time = TRUE;
    goto done;
  }

  collect_boxes (buf, st);
  EfTracker *tracker = tracker_for_camera (self, st, &s, camera);
  EfTrackerBox *boxes = (EfTrackerBox *) st->boxes->data;
  if (!ef_tracker_update (tracker, time, boxes, st->boxes->len)) {
    GST_DEBUG_OBJECT (self, "camera '%s': time %.3f s before the last (%.3f s): untracked",
        camera, time, ef_tracker_last_time (tracker));
    goto done;
  }
  for (guint i = 0; i < st->boxes->len; i++) {
    GstVideoRegionOfInterestMeta *roi = g_ptr_array_index (st->rois, i);
    remove_tracking_params (roi);
    if (!boxes[i].track_id)
      continue;
    roi->id = (gint) boxes[i].track_id;
    gst_video_region_of_interest_meta_add_param (roi,
        tracking_structure (&boxes[i].track, camera));
  }
  GST_LOG_OBJECT (self, "camera '%s' at %.3f s: %u boxes", camera, time, st->boxes->len);

done:
  g_free (s.camera_id);
  return GST_FLOW_OK;
}

static void
gst_object_track_set_property (GObject * object, guint prop_id, const GValue * value,
    GParamSpec * pspec)
{
  GstObjectTrack *self = GST_OBJECT_TRACK (object);
  Settings *s = &self->settings;

  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_CAMERA_ID:
      g_free (s->camera_id);
      s->camera_id = g_value_dup_string (value);
      if (!s->camera_id || !*s->camera_id) {
        g_free (s->camera_id);
        s->camera_id = g_strdup (DEFAULT_CAMERA_ID);
      }
      break;
    case PROP_TIME_SOURCE:
      s->time_source = g_value_get_enum (value);
      break;
    case PROP_HIGH_THRESHOLD:
      s->params.high_threshold = g_value_get_double (value);
      break;
    case PROP_LOW_THRESHOLD:
      s->params.low_threshold = g_value_get_double (value);
      break;
    case PROP_MATCH_IOU:
      s->params.match_iou = g_value_get_double (value);
      break;
    case PROP_LOW_MATCH_IOU:
      s->params.low_match_iou = g_value_get_double (value);
      break;
    case PROP_DUPLICATE_OVERLAP:
      s->params.duplicate_overlap = g_value_get_double (value);
      break;
    case PROP_MIN_HITS:
      s->params.min_hits = g_value_get_uint (value);
      break;
    case PROP_MAX_AGE:
      s->params.max_age = g_value_get_double (value);
      break;
    case PROP_STATIONARY_SPEED:
      s->params.stationary_speed = g_value_get_double (value);
      break;
    case PROP_MAX_TRACKS:
      s->params.max_tracks = g_value_get_uint (value);
      break;
    case PROP_MAX_CAMERAS:
      s->max_cameras = g_value_get_uint (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

static void
gst_object_track_get_property (GObject * object, guint prop_id, GValue * value,
    GParamSpec * pspec)
{
  GstObjectTrack *self = GST_OBJECT_TRACK (object);
  Settings *s = &self->settings;

  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_CAMERA_ID:
      g_value_set_string (value, s->camera_id);
      break;
    case PROP_TIME_SOURCE:
      g_value_set_enum (value, s->time_source);
      break;
    case PROP_HIGH_THRESHOLD:
      g_value_set_double (value, s->params.high_threshold);
      break;
    case PROP_LOW_THRESHOLD:
      g_value_set_double (value, s->params.low_threshold);
      break;
    case PROP_MATCH_IOU:
      g_value_set_double (value, s->params.match_iou);
      break;
    case PROP_LOW_MATCH_IOU:
      g_value_set_double (value, s->params.low_match_iou);
      break;
    case PROP_DUPLICATE_OVERLAP:
      g_value_set_double (value, s->params.duplicate_overlap);
      break;
    case PROP_MIN_HITS:
      g_value_set_uint (value, s->params.min_hits);
      break;
    case PROP_MAX_AGE:
      g_value_set_double (value, s->params.max_age);
      break;
    case PROP_STATIONARY_SPEED:
      g_value_set_double (value, s->params.stationary_speed);
      break;
    case PROP_MAX_TRACKS:
      g_value_set_uint (value, s->params.max_tracks);
      break;
    case PROP_MAX_CAMERAS:
      g_value_set_uint (value, s->max_cameras);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

static void
gst_object_track_finalize (GObject * object)
{
  GstObjectTrack *self = GST_OBJECT_TRACK (object);
  g_free (self->settings.camera_id);
  G_OBJECT_CLASS (parent_class)->finalize (object);
}

#define RW_PLAYING (G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_PLAYING)

static void
gst_object_track_class_init (GstObjectTrackClass * klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);
  GstBaseTransformClass *trans_class = GST_BASE_TRANSFORM_CLASS (klass);

  gobject_class->set_property = gst_object_track_set_property;
  gobject_class->get_property = gst_object_track_get_property;
  gobject_class->finalize = gst_object_track_finalize;

  /**
   * GstObjectTrack:camera-id:
   *
   * Camera of buffers without an edgefaas event meta (with one, its camera id wins).
   */
  g_object_class_install_property (gobject_class, PROP_CAMERA_ID,
      g_param_spec_string ("camera-id", "Camera id",
          "Camera of buffers without an edgefaas event meta (the meta's camera id wins)",
          DEFAULT_CAMERA_ID, RW_PLAYING));
  /**
   * GstObjectTrack:time-source:
   *
   * Where the time of a buffer comes from.
   */
  g_object_class_install_property (gobject_class, PROP_TIME_SOURCE,
      g_param_spec_enum ("time-source", "Time source",
          "Where a buffer's time comes from: the event meta's capture time (auto) or the PTS",
          GST_TYPE_OBJECT_TRACK_TIME_SOURCE, DEFAULT_TIME_SOURCE, RW_PLAYING));
  /**
   * GstObjectTrack:high-threshold:
   *
   * Boxes with at least this confidence are matched first and may start tracks.
   */
  g_object_class_install_property (gobject_class, PROP_HIGH_THRESHOLD,
      g_param_spec_double ("high-threshold", "High threshold",
          "Confidence from which a box is matched in the first pass and may start a track",
          0.0, 1.0, DEFAULT_HIGH_THRESHOLD, RW_PLAYING));
  /**
   * GstObjectTrack:low-threshold:
   *
   * Boxes between this and #GstObjectTrack:high-threshold only continue confirmed
   * tracks (the ByteTrack second pass); boxes below it are ignored.
   */
  g_object_class_install_property (gobject_class, PROP_LOW_THRESHOLD,
      g_param_spec_double ("low-threshold", "Low threshold",
          "Confidence from which a box may continue a confirmed track (second pass); "
          "below it boxes are ignored", 0.0, 1.0, DEFAULT_LOW_THRESHOLD, RW_PLAYING));
  /**
   * GstObjectTrack:match-iou:
   *
   * Minimum IoU between a track's predicted box and a high-confidence box.
   */
  g_object_class_install_property (gobject_class, PROP_MATCH_IOU,
      g_param_spec_double ("match-iou", "Match IoU",
          "Minimum IoU between a track's predicted box and a high-confidence box",
          0.0, 1.0, DEFAULT_MATCH_IOU, RW_PLAYING));
  /**
   * GstObjectTrack:low-match-iou:
   *
   * Minimum IoU for the second pass (low-confidence boxes).
   */
  g_object_class_install_property (gobject_class, PROP_LOW_MATCH_IOU,
      g_param_spec_double ("low-match-iou", "Low match IoU",
          "Minimum IoU between a confirmed track's predicted box and a low-confidence box",
          0.0, 1.0, DEFAULT_LOW_MATCH_IOU, RW_PLAYING));
  /**
   * GstObjectTrack:duplicate-overlap:
   *
   * An unmatched box lying this much inside a box matched in the same buffer
   * (intersection over the smaller box) is the same object reported twice (car and
   * truck): it starts and feeds no track. A new object hidden that much behind a
   * tracked one gets its track when it comes out.
   */
  g_object_class_install_property (gobject_class, PROP_DUPLICATE_OVERLAP,
      g_param_spec_double ("duplicate-overlap", "Duplicate overlap",
          "Intersection over the smaller box with a box matched in the same buffer from "
          "which an unmatched box is a duplicate and starts no track (> 1 = never)",
          0.0, 2.0, DEFAULT_DUPLICATE_OVERLAP, RW_PLAYING));
  /**
   * GstObjectTrack:min-hits:
   *
   * Boxes before a track is confirmed; tentative tracks that miss a buffer are dropped.
   */
  g_object_class_install_property (gobject_class, PROP_MIN_HITS,
      g_param_spec_uint ("min-hits", "Minimum hits",
          "Boxes before a track is confirmed (a tentative track missing one buffer is "
          "dropped)", 1, 1000, DEFAULT_MIN_HITS, RW_PLAYING));
  /**
   * GstObjectTrack:max-age:
   *
   * Seconds a confirmed track is kept (predicted forward) without a box.
   */
  g_object_class_install_property (gobject_class, PROP_MAX_AGE,
      g_param_spec_double ("max-age", "Maximum age",
          "Seconds a confirmed track without boxes is kept before it is removed",
          0.0, 3600.0, DEFAULT_MAX_AGE, RW_PLAYING));
  /**
   * GstObjectTrack:stationary-speed:
   *
   * Speed (pixels per second of the box centre) below which a track counts as
   * stationary.
   */
  g_object_class_install_property (gobject_class, PROP_STATIONARY_SPEED,
      g_param_spec_double ("stationary-speed", "Stationary speed",
          "Box-centre speed in pixels per second below which a track counts as stationary",
          0.0, 100000.0, DEFAULT_STATIONARY_SPEED, RW_PLAYING));
  /**
   * GstObjectTrack:max-tracks:
   *
   * Live tracks per camera; boxes that would start more are left untracked.
   */
  g_object_class_install_property (gobject_class, PROP_MAX_TRACKS,
      g_param_spec_uint ("max-tracks", "Maximum tracks",
          "Live tracks per camera (boxes that would start more stay untracked)",
          1, 100000, DEFAULT_MAX_TRACKS, RW_PLAYING));
  /**
   * GstObjectTrack:max-cameras:
   *
   * Cameras tracked at once; a new camera beyond it replaces the least recently seen
   * one (with a warning).
   */
  g_object_class_install_property (gobject_class, PROP_MAX_CAMERAS,
      g_param_spec_uint ("max-cameras", "Maximum cameras",
          "Cameras tracked at once (a new one beyond replaces the least recently seen)",
          1, 100000, DEFAULT_MAX_CAMERAS, RW_PLAYING));

  gst_element_class_add_static_pad_template (element_class, &sink_template);
  gst_element_class_add_static_pad_template (element_class, &src_template);
  gst_element_class_set_static_metadata (element_class, "Object tracking",
      "Filter/Analyzer/Video",
      "Tracks detections (GstVideoRegionOfInterestMeta) per camera over time: track id "
      "in the meta, a 'tracking' param with age, velocity, stationary time, state",
      "edgefaas");

  trans_class->start = GST_DEBUG_FUNCPTR (gst_object_track_start);
  trans_class->stop = GST_DEBUG_FUNCPTR (gst_object_track_stop);
  trans_class->set_caps = GST_DEBUG_FUNCPTR (gst_object_track_set_caps);
  trans_class->sink_event = GST_DEBUG_FUNCPTR (gst_object_track_sink_event);
  trans_class->transform_ip = GST_DEBUG_FUNCPTR (gst_object_track_transform_ip);
  trans_class->transform_ip_on_passthrough = FALSE;

  gst_type_mark_as_plugin_api (GST_TYPE_OBJECT_TRACK_TIME_SOURCE, 0);
}

static void
gst_object_track_init (GstObjectTrack * self)
{
  Settings *s = &self->settings;

  s->camera_id = g_strdup (DEFAULT_CAMERA_ID);
  s->time_source = DEFAULT_TIME_SOURCE;
  ef_tracker_params_init (&s->params);
  s->params.high_threshold = DEFAULT_HIGH_THRESHOLD;
  s->params.low_threshold = DEFAULT_LOW_THRESHOLD;
  s->params.match_iou = DEFAULT_MATCH_IOU;
  s->params.low_match_iou = DEFAULT_LOW_MATCH_IOU;
  s->params.duplicate_overlap = DEFAULT_DUPLICATE_OVERLAP;
  s->params.min_hits = DEFAULT_MIN_HITS;
  s->params.max_age = DEFAULT_MAX_AGE;
  s->params.stationary_speed = DEFAULT_STATIONARY_SPEED;
  s->params.max_tracks = DEFAULT_MAX_TRACKS;
  s->max_cameras = DEFAULT_MAX_CAMERAS;
  gst_base_transform_set_in_place (GST_BASE_TRANSFORM (self), TRUE);
  gst_base_transform_set_passthrough (GST_BASE_TRANSFORM (self), FALSE);
}
