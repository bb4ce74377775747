/* situationdetect: situations over tracked objects, per camera, in time.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
/**
 * SECTION:element-situationdetect
 * @title: situationdetect
 *
 * Evaluates per-camera situation rules (#GstSituationDetect:rules, a key-file
 * with zones, tripwires, object filters and conditions over time; see
 * docs/situationdetect.md) on the tracked objects of each frame and raises an
 * alert once per situation and track (or track pair, or episode for crowd and
 * label rules), with hysteresis. The pixels pass through unchanged.
 *
 * Input objects: #GstVideoRegionOfInterestMeta other than roi type `motion`;
 * the track id is the meta's `id` (as `objecttrack` writes it; 0 = untracked),
 * label and score come from the `detection` param (DL Streamer convention) or
 * the roi type. The camera is the edgefaas event meta's camera id (else
 * #GstSituationDetect:camera-id); the time is the event's capture time (else
 * the buffer's running time). Frames must arrive in capture order per camera
 * (an older frame is counted in `stats` and not evaluated). Zones and lines
 * are evaluated at each box's bottom-centre.
 *
 * When a situation is raised the element attaches a GstEdgefaasSituationMeta
 * (name, confidence, labels, zone, start time, track ids with boxes,
 * snapshot URI; `amqpsink` publishes it as an alert on
 * `alerts.<situation>.<camera>`) and, with #GstSituationDetect:post-messages,
 * posts an element message `situation`:
 *
 * * `name`, `situation` (string): the situation
 * * `camera`, `condition`, `zone` (string, zone may be NULL), `labels` (string)
 * * `track-ids` (string, comma-separated), `confidence` (double)
 * * `start-time-us`, `time-us` (gint64): UTC µs the condition began / was met
 * * `snapshot` (string or NULL): file:// URI of the annotated JPEG
 * * `timestamp` (guint64): buffer PTS
 *
 * and `situation-cleared` (same fields, no snapshot) when it ends.
 *
 * With #GstSituationDetect:snapshot-dir each alert stores a JPEG of the frame
 * with the zone or line (yellow), the alert's boxes (red) with their track
 * ids and the other objects (green) under
 * `DIR/<camera>/<YYYY-MM-DD>/alert-<situation>-<ids>-<time>.jpg` (the frame
 * store layout, atomically written).
 *
 * Every problem with the rules (a self-intersecting or out-of-frame zone, an
 * unknown label, a rule without condition, a zone on an undeclared camera, a
 * situation name that would break the routing key, a repeated group) stops
 * the element in start() with one GST_RESOURCE_ERROR_SETTINGS naming file,
 * group and key.
 *
 * ## Example launch line
 * |[
 * gst-launch-1.0 filesrc location=clip.mkv ! decodebin ! videoconvert ! \
 *   yolov4infer config=yolo.cfg weights=yolo.weights labels=coco.names ! \
 *   objecttrack ! situationdetect rules=pipelines/situations/coco.conf \
 *   labels=coco.names camera-id=demo snapshot-dir=/tmp/alerts ! fakesink
 * ]|
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstsituationdetect.h"

#include <math.h>
#include <string.h>
#include <gst/video/video.h>

#include "edgefaas-event.h"
#include "edgefaas-frameref.h"
#include "edgefaas-meta.h"
#include "situationrules.h"

GST_DEBUG_CATEGORY_STATIC (gst_situation_detect_debug);
#define GST_CAT_DEFAULT gst_situation_detect_debug

#define DEFAULT_PROP_RULES NULL
#define DEFAULT_PROP_LABELS NULL
#define DEFAULT_PROP_CAMERA_ID "camera"
#define DEFAULT_PROP_SNAPSHOT_DIR NULL
#define DEFAULT_PROP_MAX_OBJECTS 1024
#define DEFAULT_PROP_TRACK_TIMEOUT 5.0
#define DEFAULT_PROP_POST_MESSAGES TRUE

enum
{
  PROP_0,
  PROP_RULES,
  PROP_LABELS,
  PROP_CAMERA_ID,
  PROP_SNAPSHOT_DIR,
  PROP_MAX_OBJECTS,
  PROP_TRACK_TIMEOUT,
  PROP_POST_MESSAGES,
  PROP_STATS,
};

/* The formats yolov4infer reads (the snapshot converts any of them). */
#define SITUATION_CAPS \
  GST_VIDEO_CAPS_MAKE ("{ RGB, BGR, RGBx, BGRx, xRGB, xBGR, RGBA, BGRA, I420, NV12 }")

static GstStaticPadTemplate sink_template = GST_STATIC_PAD_TEMPLATE ("sink",
    GST_PAD_SINK, GST_PAD_ALWAYS, GST_STATIC_CAPS (SITUATION_CAPS));
static GstStaticPadTemplate src_template = GST_STATIC_PAD_TEMPLATE ("src",
    GST_PAD_SRC, GST_PAD_ALWAYS, GST_STATIC_CAPS (SITUATION_CAPS));

/* Property values; written under the object lock, copied under it by start(). */
typedef struct {
  gchar *rules, *labels, *camera_id, *snapshot_dir;
  guint max_objects;
  gdouble track_timeout;
  gboolean post_messages;
} Settings;

/* Exists between start() and stop(); streaming thread only, except the
 * counters, read under the object lock. */
typedef struct {
  Settings s;
  gchar **labels;
  SrRules *rules;
  SrEngine *engine;
  GstVideoInfo vinfo;
  gboolean have_info;
  guint64 alerts, cleared, snapshots, snapshot_errors;
} State;

struct _GstSituationDetect
{
  GstBaseTransform parent;
  Settings settings;            /* under the object lock */
  State *state;
};

#define gst_situation_detect_parent_class parent_class
G_DEFINE_TYPE (GstSituationDetect, gst_situation_detect, GST_TYPE_BASE_TRANSFORM);
GST_ELEMENT_REGISTER_DEFINE (situationdetect, "situationdetect", GST_RANK_NONE,
    GST_TYPE_SITUATION_DETECT);

static void
settings_copy (const Settings * src, Settings * dst)
{
  *dst = *src;
  dst->rules = g_strdup (src->rules);
  dst->labels = g_strdup (src->labels);
  dst->camera_id = g_strdup (src->camera_id);
  dst->snapshot_dir = g_strdup (src->snapshot_dir);
}

static void
settings_clear (Settings * s)
{
  g_clear_pointer (&s->rules, g_free);
  g_clear_pointer (&s->labels, g_free);
  g_clear_pointer (&s->camera_id, g_free);
  g_clear_pointer (&s->snapshot_dir, g_free);
}

static void
state_free (State * st)
{
  if (!st)
    return;
  sr_engine_free (st->engine);
  sr_rules_free (st->rules);
  g_strfreev (st->labels);
  settings_clear (&st->s);
  g_free (st);
}

/* ------------------------------------------------------------------ */
/* start / stop */

static gchar **
load_names (const gchar * path, GError ** error)
{
  gchar *text = NULL;
  if (!g_file_get_contents (path, &text, NULL, error))
    return NULL;
  gchar **lines = g_strsplit (text, "\n", -1);
  g_free (text);
  GPtrArray *out = g_ptr_array_new ();
  for (guint i = 0; lines[i]; i++) {
    gchar *l = g_strstrip (lines[i]);
    if (*l)
      g_ptr_array_add (out, g_strdup (l));
  }
  g_strfreev (lines);
  g_ptr_array_add (out, NULL);
  return (gchar **) g_ptr_array_free (out, FALSE);
}

static gboolean
gst_situation_detect_start (GstBaseTransform * trans)
{
  GstSituationDetect *self = GST_SITUATION_DETECT (trans);
  State *st = g_new0 (State, 1);
  GError *err = NULL;

  GST_OBJECT_LOCK (self);
  settings_copy (&self->settings, &st->s);
  GST_OBJECT_UNLOCK (self);

  if (!st->s.rules || !*st->s.rules || !st->s.labels || !*st->s.labels) {
    GST_ELEMENT_ERROR (self, RESOURCE, NOT_FOUND,
        ("situationdetect needs the rules and labels properties (missing:%s%s)",
            (!st->s.rules || !*st->s.rules) ? " rules" : "",
            (!st->s.labels || !*st->s.labels) ? " labels" : ""), (NULL));
    state_free (st);
    return FALSE;
  }
  st->labels = load_names (st->s.labels, &err);
  if (!st->labels) {
    GST_ELEMENT_ERROR (self, RESOURCE, NOT_FOUND,
        ("cannot read names file '%s': %s", st->s.labels, err->message), (NULL));
    g_error_free (err);
    state_free (st);
    return FALSE;
  }
  st->rules = sr_rules_load (st->s.rules, (const gchar * const *) st->labels, &err);
  if (!st->rules) {
    if (err->code == SR_RULES_ERROR_READ && !g_file_test (st->s.rules, G_FILE_TEST_EXISTS))
      GST_ELEMENT_ERROR (self, RESOURCE, NOT_FOUND, ("%s", err->message),
          ("rules=%s labels=%s", st->s.rules, st->s.labels));
    else
      GST_ELEMENT_ERROR (self, RESOURCE, SETTINGS, ("%s", err->message),
          ("rules=%s labels=%s", st->s.rules, st->s.labels));
    g_error_free (err);
    state_free (st);
    return FALSE;
  }
  st->engine = sr_engine_new (st->rules, st->s.max_objects, st->s.track_timeout);
  GST_INFO_OBJECT (self, "%u situation rules, %u zones, %u lines from %s",
      st->rules->rules->len, st->rules->zones->len, st->rules->lines->len, st->s.rules);

  GST_OBJECT_LOCK (self);
  self->state = st;
  GST_OBJECT_UNLOCK (self);
  return TRUE;
}

static gboolean
gst_situation_detect_stop (GstBaseTransform * trans)
{
  GstSituationDetect *self = GST_SITUATION_DETECT (trans);
  State *st;

  GST_OBJECT_LOCK (self);
  st = self->state;
  self->state = NULL;
  GST_OBJECT_UNLOCK (self);
  state_free (st);
  return TRUE;
}

static gboolean
gst_situation_detect_set_caps (GstBaseTransform * trans, GstCaps * incaps, GstCaps * outcaps)
{
  GstSituationDetect *self = GST_SITUATION_DETECT (trans);
  if (!self->state || !gst_video_info_from_caps (&self->state->vinfo, incaps))
    return FALSE;
  self->state->have_info = TRUE;
  return TRUE;
}

/* ------------------------------------------------------------------ */
/* snapshot: draw into an RGB copy of the frame, encode as JPEG */

typedef struct {
  guint8 *data;
  gint w, h, stride;
} Canvas;

static void
put (Canvas * c, gint x, gint y, const guint8 rgb[3])
{
  if (x < 0 || y < 0 || x >= c->w || y >= c->h)
    return;
  guint8 *p = c->data + (gsize) y * c->stride + (gsize) x * 3;
  p[0] = rgb[0];
  p[1] = rgb[1];
  p[2] = rgb[2];
}

static void
draw_line (Canvas * c, gint x0, gint y0, gint x1, gint y1, gint thick, const guint8 rgb[3])
{
  gint dx = ABS (x1 - x0), dy = -ABS (y1 - y0), sx = x0 < x1 ? 1 : -1, sy = y0 < y1 ? 1 : -1;
  gint err = dx + dy;
  for (;;) {
    for (gint i = -thick / 2; i <= thick / 2; i++)
      for (gint j = -thick / 2; j <= thick / 2; j++)
        put (c, x0 + i, y0 + j, rgb);
    if (x0 == x1 && y0 == y1)
      break;
    gint e2 = 2 * err;
    if (e2 >= dy) {
      err += dy;
      x0 += sx;
    }
    if (e2 <= dx) {
      err += dx;
      y0 += sy;
    }
  }
}

static void
draw_box (Canvas * c, const AnBox * b, gint thick, const guint8 rgb[3])
{
  gint x0 = b->x0 * c->w, y0 = b->y0 * c->h, x1 = b->x1 * c->w, y1 = b->y1 * c->h;
  draw_line (c, x0, y0, x1, y0, thick, rgb);
  draw_line (c, x1, y0, x1, y1, thick, rgb);
  draw_line (c, x1, y1, x0, y1, thick, rgb);
  draw_line (c, x0, y1, x0, y0, thick, rgb);
}

/* 3x5 digits, one row per 3 bits. */
static const guint8 digits[10][5] = {
  {7, 5, 5, 5, 7}, {2, 6, 2, 2, 7}, {7, 1, 7, 4, 7}, {7, 1, 7, 1, 7}, {5, 5, 7, 1, 1},
  {7, 4, 7, 1, 7}, {7, 4, 7, 5, 7}, {7, 1, 1, 1, 1}, {7, 5, 7, 5, 7}, {7, 5, 7, 1, 7},
};

static void
fill_rect (Canvas * c, gint x0, gint y0, gint x1, gint y1, const guint8 rgb[3])
{
  for (gint y = y0; y < y1; y++)
    for (gint x = x0; x < x1; x++)
      put (c, x, y, rgb);
}

/* The number on a dark label, its bottom-left corner at (x, y). */
static void
draw_number (Canvas * c, gint x, gint y, guint64 n, gint scale, const guint8 rgb[3])
{
  static const guint8 dark[3] = { 0, 0, 0 };
  gchar buf[24];
  g_snprintf (buf, sizeof buf, "%" G_GUINT64_FORMAT, n);
  gint len = strlen (buf);
  y = MAX (y - 7 * scale, 0);
  fill_rect (c, x, y, x + (len * 4 + 1) * scale, y + 7 * scale, dark);
  x += scale;
  y += scale;
  for (guint k = 0; buf[k]; k++) {
    const guint8 *g = digits[buf[k] - '0'];
    for (gint row = 0; row < 5; row++)
      for (gint col = 0; col < 3; col++)
        if (g[row] & (4 >> col))
          for (gint i = 0; i < scale; i++)
            for (gint j = 0; j < scale; j++)
              put (c, x + (k * 4 + col) * scale + i, y + row * scale + j, rgb);
  }
}

static void
annotate (Canvas * c, const SrRules * rules, const SrAlert * a, const SrObject * objs,
    guint n)
{
  static const guint8 yellow[3] = { 255, 220, 0 }, red[3] = { 255, 0, 0 }, green[3] = {
    0, 200, 0
  };
  gint thick = MAX (2, c->h / 240), scale = MAX (3, c->h / 90);
  for (guint i = 0; a->zone && i < rules->zones->len; i++) {
    const SrZone *z = g_ptr_array_index (rules->zones, i);
    if (!g_str_equal (z->name, a->zone) || !g_str_equal (z->camera, a->camera))
      continue;
    for (guint k = 0; k < z->n_points; k++) {
      const AnPoint *p = &z->points[k], *q = &z->points[(k + 1) % z->n_points];
      draw_line (c, p->x * c->w, p->y * c->h, q->x * c->w, q->y * c->h, thick, yellow);
    }
  }
  for (guint i = 0; a->zone && i < rules->lines->len; i++) {
    const SrLine *l = g_ptr_array_index (rules->lines, i);
    if (g_str_equal (l->name, a->zone) && g_str_equal (l->camera, a->camera))
      draw_line (c, l->a.x * c->w, l->a.y * c->h, l->b.x * c->w, l->b.y * c->h, thick,
          yellow);
  }
  for (guint i = 0; i < n; i++)
    draw_box (c, &objs[i].box, 1, green);
  for (guint i = 0; i < a->objects->len; i++) {
    const SrAlertObject *o = &g_array_index (a->objects, SrAlertObject, i);
    draw_box (c, &o->box, thick, red);
    if (o->track_id)
      draw_number (c, o->box.x0 * c->w, o->box.y0 * c->h, o->track_id, scale, yellow);
  }
}

/* Returns the file:// URI of the stored snapshot, or NULL with @error set. */
static gchar *
write_snapshot (GstSituationDetect * self, State * st, GstBuffer * buf, const SrAlert * a,
    const SrObject * objs, guint n, GError ** error)
{
  GstCaps *caps = gst_video_info_to_caps (&st->vinfo);
  GstSample *in = gst_sample_new (buf, caps, NULL, NULL);
  GstCaps *rgb_caps = gst_caps_new_simple ("video/x-raw", "format", G_TYPE_STRING, "RGB",
      "width", G_TYPE_INT, GST_VIDEO_INFO_WIDTH (&st->vinfo),
      "height", G_TYPE_INT, GST_VIDEO_INFO_HEIGHT (&st->vinfo), NULL);
  GstSample *rgb = gst_video_convert_sample (in, rgb_caps, 10 * GST_SECOND, error);
  gchar *uri = NULL;
  gst_caps_unref (caps);
  gst_caps_unref (rgb_caps);
  gst_sample_unref (in);
  if (!rgb)
    return NULL;

  GstVideoInfo rinfo;
  GstVideoFrame frame;
  GstBuffer *rbuf = gst_buffer_copy_deep (gst_sample_get_buffer (rgb));
  gst_video_info_from_caps (&rinfo, gst_sample_get_caps (rgb));
  if (gst_video_frame_map (&frame, &rinfo, rbuf, GST_MAP_READWRITE)) {
    Canvas c = { GST_VIDEO_FRAME_PLANE_DATA (&frame, 0), rinfo.width, rinfo.height,
      GST_VIDEO_FRAME_PLANE_STRIDE (&frame, 0)
    };
    annotate (&c, st->rules, a, objs, n);
    gst_video_frame_unmap (&frame);
  }
  GstSample *drawn = gst_sample_new (rbuf, gst_sample_get_caps (rgb), NULL, NULL);
  gst_buffer_unref (rbuf);
  gst_sample_unref (rgb);
  GstCaps *jpeg_caps = gst_caps_new_empty_simple ("image/jpeg");
  GstSample *jpeg = gst_video_convert_sample (drawn, jpeg_caps, 10 * GST_SECOND, error);
  gst_caps_unref (jpeg_caps);
  gst_sample_unref (drawn);
  if (!jpeg)
    return NULL;

  GString *name = g_string_new ("alert-");
  g_string_append (name, a->situation);
  for (guint i = 0; i < a->objects->len && i < 8; i++)
    g_string_append_printf (name, "-%" G_GUINT64_FORMAT,
        g_array_index (a->objects, SrAlertObject, i).track_id);
  g_string_append_printf (name, "-%" G_GINT64_FORMAT, a->time_us / 1000);
  GstMapInfo map;
  GstBuffer *jb = gst_sample_get_buffer (jpeg);
  if (gst_buffer_map (jb, &map, GST_MAP_READ)) {
    GBytes *bytes = g_bytes_new (map.data, map.size);
    uri = edgefaas_frameref_store (st->s.snapshot_dir, a->camera, a->time_us, name->str, "jpg",
        bytes, NULL, error);
    g_bytes_unref (bytes);
    gst_buffer_unmap (jb, &map);
  } else {
    g_set_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_READ, "cannot map the JPEG");
  }
  g_string_free (name, TRUE);
  gst_sample_unref (jpeg);
  return uri;
}

/* ------------------------------------------------------------------ */
/* per buffer */

static void
collect_objects (State * st, GstBuffer * buf, GArray * objs)
{
  gpointer it = NULL;
  GstMeta *m;
  gint fw = MAX (GST_VIDEO_INFO_WIDTH (&st->vinfo), 1);
  gint fh = MAX (GST_VIDEO_INFO_HEIGHT (&st->vinfo), 1);
  GQuark motion = g_quark_from_static_string ("motion");
  while ((m = gst_buffer_iterate_meta_filtered (buf, &it,
              GST_VIDEO_REGION_OF_INTEREST_META_API_TYPE))) {
    GstVideoRegionOfInterestMeta *roi = (GstVideoRegionOfInterestMeta *) m;
    if (roi->roi_type == motion)
      continue;
    GstStructure *det = gst_video_region_of_interest_meta_get_param (roi, "detection");
    GstStructure *trk = gst_video_region_of_interest_meta_get_param (roi, "tracking");
    const gchar *label = det ? gst_structure_get_string (det, "label") : NULL;
    SrObject o = { 0 };
    gint id = roi->id;
    guint uid = 0;
    guint64 id64 = 0;
    if (trk && gst_structure_get_uint64 (trk, "id", &id64))
      o.track_id = id64;
    else if (trk && gst_structure_get_uint (trk, "id", &uid))
      o.track_id = uid;
    else if (trk && gst_structure_get_int (trk, "id", &id) && id > 0)
      o.track_id = (guint64) id;
    else
      o.track_id = roi->id > 0 ? (guint64) roi->id : 0;
    /* objecttrack's track label is stable where the per-box label flickers
     * (car/truck); a tentative track is not trusted with an identity yet */
    const gchar *tlabel = trk ? gst_structure_get_string (trk, "label") : NULL;
    const gchar *tstate = trk ? gst_structure_get_string (trk, "state") : NULL;
    if (tstate && g_str_equal (tstate, "tentative"))
      o.track_id = 0;
    o.label = tlabel ? tlabel : label ? label : g_quark_to_string (roi->roi_type);
    o.score = 1.0;
    if (det)
      gst_structure_get_double (det, "confidence", &o.score);
    o.box.x0 = CLAMP ((gdouble) roi->x / fw, 0, 1);
    o.box.y0 = CLAMP ((gdouble) roi->y / fh, 0, 1);
    o.box.x1 = CLAMP ((gdouble) (roi->x + roi->w) / fw, o.box.x0, 1);
    o.box.y1 = CLAMP ((gdouble) (roi->y + roi->h) / fh, o.box.y0, 1);
    g_array_append_val (objs, o);
  }
}

static gchar *
track_ids (const SrAlert * a)
{
  GString *s = g_string_new ("");
  for (guint i = 0; i < a->objects->len; i++)
    g_string_append_printf (s, "%s%" G_GUINT64_FORMAT, i ? "," : "",
        g_array_index (a->objects, SrAlertObject, i).track_id);
  return g_string_free (s, FALSE);
}

static void
attach_meta (GstBuffer * buf, const SrAlert * a, const gchar * snapshot)
{
  EdgefaasSituation s = { 0 };
  s.name = a->situation;
  s.confidence = CLAMP (a->confidence, 0, 1);
  s.labels = a->labels;
  s.zone = a->zone;
  s.start_time_us = a->start_us;
  s.snapshot_uri = (gchar *) snapshot;
  s.tracks = g_array_new (FALSE, FALSE, sizeof (EdgefaasSituationTrack));
  for (guint i = 0; i < a->objects->len; i++) {
    const SrAlertObject *o = &g_array_index (a->objects, SrAlertObject, i);
    EdgefaasSituationTrack t = { o->track_id, o->box.x0, o->box.y0, o->box.x1, o->box.y1 };
    g_array_append_val (s.tracks, t);
  }
  gst_buffer_add_edgefaas_situation_meta (buf, &s);
  g_array_unref (s.tracks);
}

static void
post_alert (GstSituationDetect * self, const SrAlert * a, const gchar * snapshot,
    GstClockTime ts)
{
  gchar *ids = track_ids (a);
  GstStructure *s = gst_structure_new (a->cleared ? "situation-cleared" : "situation",
      "name", G_TYPE_STRING, a->situation,
      "situation", G_TYPE_STRING, a->situation,
      "camera", G_TYPE_STRING, a->camera,
      "condition", G_TYPE_STRING, sr_condition_name (a->condition),
      "zone", G_TYPE_STRING, a->zone,
      "labels", G_TYPE_STRING, a->labels,
      "track-ids", G_TYPE_STRING, ids,
      "confidence", G_TYPE_DOUBLE, a->confidence,
      "start-time-us", G_TYPE_INT64, a->start_us,
      "time-us", G_TYPE_INT64, a->time_us,
      "timestamp", G_TYPE_UINT64, ts, NULL);
  if (!a->cleared)
    gst_structure_set (s, "snapshot", G_TYPE_STRING, snapshot, NULL);
  g_free (ids);
  gst_element_post_message (GST_ELEMENT (self), gst_message_new_element (GST_OBJECT (self),
          s));
}

static GstFlowReturn
gst_situation_detect_transform_ip (GstBaseTransform * trans, GstBuffer * buf)
{
  GstSituationDetect *self = GST_SITUATION_DETECT (trans);
  State *st = self->state;
  GstEdgefaasEventMeta *em = gst_buffer_get_edgefaas_event_meta (buf);
  const gchar *camera = em && em->event && em->event->camera_id ? em->event->camera_id :
      st->s.camera_id;
  gint64 t_us;

  if (!st->have_info) {
    GST_ELEMENT_ERROR (self, CORE, NEGOTIATION, ("no caps before the first buffer"), (NULL));
    return GST_FLOW_NOT_NEGOTIATED;
  }
  if (em && em->event && em->event->capture_time_us > 0) {
    t_us = em->event->capture_time_us;
  } else {
    GstClockTime rt = gst_segment_to_running_time (&trans->segment, GST_FORMAT_TIME,
        GST_BUFFER_PTS (buf));
    if (!GST_CLOCK_TIME_IS_VALID (rt)) {
      GST_DEBUG_OBJECT (self, "buffer without time: not evaluated");
      return GST_FLOW_OK;
    }
    t_us = (gint64) (rt / GST_USECOND);
  }

  GArray *objs = g_array_new (FALSE, FALSE, sizeof (SrObject));
  collect_objects (st, buf, objs);
  SrEngineStats before, after;
  sr_engine_get_stats (st->engine, &before);
  GPtrArray *alerts = sr_engine_update (st->engine, camera, t_us,
      GST_VIDEO_INFO_WIDTH (&st->vinfo), GST_VIDEO_INFO_HEIGHT (&st->vinfo),
      (SrObject *) objs->data, objs->len);
  sr_engine_get_stats (st->engine, &after);
  if (after.out_of_order > before.out_of_order)
    GST_ELEMENT_WARNING (self, STREAM, FAILED,
        ("camera %s: a frame older than the last one was not evaluated", camera),
        ("capture time %" G_GINT64_FORMAT " us; put a reorder stage (detectionorder) in "
            "front", t_us));
  if (after.objects_dropped > before.objects_dropped)
    GST_WARNING_OBJECT (self, "camera %s: %u objects, only %u evaluated", camera, objs->len,
        st->s.max_objects);

  for (guint i = 0; i < alerts->len; i++) {
    SrAlert *a = g_ptr_array_index (alerts, i);
    gchar *snapshot = NULL;
    if (a->cleared) {
      st->cleared++;
      GST_INFO_OBJECT (self, "%s on %s cleared", a->situation, a->camera);
    } else {
      GError *err = NULL;
      st->alerts++;
      if (st->s.snapshot_dir && *st->s.snapshot_dir) {
        snapshot = write_snapshot (self, st, buf, a, (SrObject *) objs->data, objs->len, &err);
        if (snapshot) {
          st->snapshots++;
        } else {
          st->snapshot_errors++;
          GST_ELEMENT_WARNING (self, RESOURCE, WRITE,
              ("could not store the snapshot of %s: %s", a->situation, err->message), (NULL));
          g_error_free (err);
        }
      }
      GST_INFO_OBJECT (self, "%s raised on %s (zone %s, %u objects, snapshot %s)",
          a->situation, a->camera, GST_STR_NULL (a->zone), a->objects->len,
          GST_STR_NULL (snapshot));
      attach_meta (buf, a, snapshot);
    }
    if (st->s.post_messages)
      post_alert (self, a, snapshot, GST_BUFFER_PTS (buf));
    g_free (snapshot);
  }
  g_ptr_array_unref (alerts);
  g_array_unref (objs);
  return GST_FLOW_OK;
}

/* ------------------------------------------------------------------ */
/* properties */

static void
gst_situation_detect_set_property (GObject * object, guint prop_id, const GValue * value,
    GParamSpec * pspec)
{
  GstSituationDetect *self = GST_SITUATION_DETECT (object);
  Settings *s = &self->settings;

  GST_OBJECT_LOCK (self);
  if (self->state && prop_id != PROP_POST_MESSAGES) {
    GST_OBJECT_UNLOCK (self);
    GST_WARNING_OBJECT (self, "%s cannot change while running: ignored", pspec->name);
    return;
  }
  switch (prop_id) {
    case PROP_RULES:
      g_free (s->rules);
      s->rules = g_value_dup_string (value);
      break;
    case PROP_LABELS:
      g_free (s->labels);
      s->labels = g_value_dup_string (value);
      break;
    case PROP_CAMERA_ID:
      g_free (s->camera_id);
      s->camera_id = g_value_dup_string (value);
      if (!s->camera_id)
        s->camera_id = g_strdup (DEFAULT_PROP_CAMERA_ID);
      break;
    case PROP_SNAPSHOT_DIR:
      g_free (s->snapshot_dir);
      s->snapshot_dir = g_value_dup_string (value);
      break;
    case PROP_MAX_OBJECTS:
      s->max_objects = g_value_get_uint (value);
      break;
    case PROP_TRACK_TIMEOUT:
      s->track_timeout = g_value_get_double (value);
      break;
    case PROP_POST_MESSAGES:
      s->post_messages = g_value_get_boolean (value);
      if (self->state)
        self->state->s.post_messages = s->post_messages;
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

static void
gst_situation_detect_get_property (GObject * object, guint prop_id, GValue * value,
    GParamSpec * pspec)
{
  GstSituationDetect *self = GST_SITUATION_DETECT (object);
  Settings *s = &self->settings;

  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_RULES:
      g_value_set_string (value, s->rules);
      break;
    case PROP_LABELS:
      g_value_set_string (value, s->labels);
      break;
    case PROP_CAMERA_ID:
      g_value_set_string (value, s->camera_id);
      break;
    case PROP_SNAPSHOT_DIR:
      g_value_set_string (value, s->snapshot_dir);
      break;
    case PROP_MAX_OBJECTS:
      g_value_set_uint (value, s->max_objects);
      break;
    case PROP_TRACK_TIMEOUT:
      g_value_set_double (value, s->track_timeout);
      break;
    case PROP_POST_MESSAGES:
      g_value_set_boolean (value, s->post_messages);
      break;
    case PROP_STATS:{
      SrEngineStats es = { 0 };
      State *st = self->state;
      if (st)
        sr_engine_get_stats (st->engine, &es);
      g_value_take_boxed (value, gst_structure_new ("situationdetect-stats",
              "frames", G_TYPE_UINT64, es.frames,
              "out-of-order", G_TYPE_UINT64, es.out_of_order,
              "objects-dropped", G_TYPE_UINT64, es.objects_dropped,
              "alerts", G_TYPE_UINT64, st ? st->alerts : 0,
              "cleared", G_TYPE_UINT64, st ? st->cleared : 0,
              "snapshots", G_TYPE_UINT64, st ? st->snapshots : 0,
              "snapshot-errors", G_TYPE_UINT64, st ? st->snapshot_errors : 0, NULL));
      break;
    }
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

static void
gst_situation_detect_finalize (GObject * object)
{
  GstSituationDetect *self = GST_SITUATION_DETECT (object);
  state_free (self->state);
  settings_clear (&self->settings);
  G_OBJECT_CLASS (parent_class)->finalize (object);
}

static void
gst_situation_detect_class_init (GstSituationDetectClass * klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);
  GstBaseTransformClass *trans_class = GST_BASE_TRANSFORM_CLASS (klass);
  const GParamFlags rw = G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS;

  GST_DEBUG_CATEGORY_INIT (gst_situation_detect_debug, "situationdetect", 0,
      "situations over tracked objects");

  gobject_class->set_property = gst_situation_detect_set_property;
  gobject_class->get_property = gst_situation_detect_get_property;
  gobject_class->finalize = gst_situation_detect_finalize;

  /**
   * GstSituationDetect:rules:
   *
   * Rules key-file: cameras, label groups, zones, lines, situations
   * (docs/situationdetect.md). Validated in start().
   */
  g_object_class_install_property (gobject_class, PROP_RULES,
      g_param_spec_string ("rules", "Rules", "Situation rules key-file (zones, lines, "
          "conditions over time)", DEFAULT_PROP_RULES, rw | GST_PARAM_MUTABLE_READY));
  /**
   * GstSituationDetect:labels:
   *
   * The detector's names file: every label a rule names must be in it.
   */
  g_object_class_install_property (gobject_class, PROP_LABELS,
      g_param_spec_string ("labels", "Labels", "The model's names file (rule labels are "
          "checked against it)", DEFAULT_PROP_LABELS, rw | GST_PARAM_MUTABLE_READY));
  /**
   * GstSituationDetect:camera-id:
   *
   * Camera of buffers without an edgefaas event meta.
   */
  g_object_class_install_property (gobject_class, PROP_CAMERA_ID,
      g_param_spec_string ("camera-id", "Camera id", "Camera of buffers without an "
          "edgefaas event meta", DEFAULT_PROP_CAMERA_ID, rw | GST_PARAM_MUTABLE_READY));
  /**
   * GstSituationDetect:snapshot-dir:
   *
   * Frame store root for the annotated JPEG of each alert; NULL = no
   * snapshots.
   */
  g_object_class_install_property (gobject_class, PROP_SNAPSHOT_DIR,
      g_param_spec_string ("snapshot-dir", "Snapshot directory", "Where annotated alert "
          "snapshots (JPEG) are stored, frame-store layout; NULL = none",
          DEFAULT_PROP_SNAPSHOT_DIR, rw | GST_PARAM_MUTABLE_READY));
  /**
   * GstSituationDetect:max-objects:
   *
   * Objects per frame evaluated; more are ignored (and counted in stats).
   */
  g_object_class_install_property (gobject_class, PROP_MAX_OBJECTS,
      g_param_spec_uint ("max-objects", "Max objects", "Objects per frame evaluated "
          "(a flood beyond is ignored and counted)", 1, 65536, DEFAULT_PROP_MAX_OBJECTS,
          rw | GST_PARAM_MUTABLE_READY));
  /**
   * GstSituationDetect:track-timeout:
   *
   * Seconds after which a track that is no longer seen is forgotten (its
   * alerts are cleared).
   */
  g_object_class_install_property (gobject_class, PROP_TRACK_TIMEOUT,
      g_param_spec_double ("track-timeout", "Track timeout", "Seconds until an unseen track "
          "is forgotten", 0.1, 3600, DEFAULT_PROP_TRACK_TIMEOUT,
          rw | GST_PARAM_MUTABLE_READY));
  /**
   * GstSituationDetect:post-messages:
   *
   * Post `situation` and `situation-cleared` element messages.
   */
  g_object_class_install_property (gobject_class, PROP_POST_MESSAGES,
      g_param_spec_boolean ("post-messages", "Post messages", "Post 'situation' and "
          "'situation-cleared' element messages", DEFAULT_PROP_POST_MESSAGES,
          rw | GST_PARAM_MUTABLE_PLAYING));
  /**
   * GstSituationDetect:stats:
   *
   * Read-only: frames, out-of-order, objects-dropped, alerts, cleared,
   * snapshots, snapshot-errors.
   */
  g_object_class_install_property (gobject_class, PROP_STATS,
      g_param_spec_boxed ("stats", "Statistics", "Frames, alerts, snapshots, refused input",
          GST_TYPE_STRUCTURE, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));

  gst_element_class_set_static_metadata (element_class,
      "Situation detection over tracks", "Filter/Analyzer/Video",
      "Raises situations (zones, tripwires, loitering, crowding, collisions, person down, "
      "fire) from tracked objects over time, with annotated snapshots",
      "edgefaas <edgefaas@users.noreply.github.com>");
  gst_element_class_add_static_pad_template (element_class, &sink_template);
  gst_element_class_add_static_pad_template (element_class, &src_template);

  trans_class->start = GST_DEBUG_FUNCPTR (gst_situation_detect_start);
  trans_class->stop = GST_DEBUG_FUNCPTR (gst_situation_detect_stop);
  trans_class->set_caps = GST_DEBUG_FUNCPTR (gst_situation_detect_set_caps);
  trans_class->transform_ip = GST_DEBUG_FUNCPTR (gst_situation_detect_transform_ip);
  trans_class->passthrough_on_same_caps = FALSE;
}

static void
gst_situation_detect_init (GstSituationDetect * self)
{
  Settings *s = &self->settings;
  s->camera_id = g_strdup (DEFAULT_PROP_CAMERA_ID);
  s->max_objects = DEFAULT_PROP_MAX_OBJECTS;
  s->track_timeout = DEFAULT_PROP_TRACK_TIMEOUT;
  s->post_messages = DEFAULT_PROP_POST_MESSAGES;
  gst_base_transform_set_in_place (GST_BASE_TRANSFORM (self), TRUE);
}
