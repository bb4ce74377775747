/* motiondetect unit tests: frames drawn in C pushed through a GstHarness, plus
 * real videotestsrc pipelines. No broker, no committed video. */
#include <math.h>
#include <string.h>

#include <gst/gst.h>
#include <gst/check/gstharness.h>
#include <gst/video/video.h>

#include "ef-test.h"
#include "edgefaas-meta.h"

#define W 320
#define H 240
#define FPS 30
#define FRAME_DUR (GST_SECOND / FPS)
#define SQ 40                   /* square side, pixels at 320x240 */

/* ---- scene drawing ---- */

typedef struct
{
  gboolean square;
  gdouble sx, sy;               /* square top-left, normalised */
  gdouble gain;                 /* global brightness factor */
  gdouble noise;                /* Gaussian sigma in grey levels */
} Scene;

/* Static textured background, grey level 0..255 (full range). */
static gdouble
background (gdouble nx, gdouble ny)
{
  return 120.0 + 50.0 * sin (nx * 11.0) * cos (ny * 7.0) + 20.0 * sin ((nx + ny) * 23.0);
}

static gdouble
gauss (GRand * r)
{
  gdouble u1 = g_rand_double_range (r, 1e-12, 1.0), u2 = g_rand_double (r);
  return sqrt (-2.0 * log (u1)) * cos (2 * G_PI * u2);
}

static gboolean
format_is_rgb (GstVideoFormat f)
{
  const GstVideoFormatInfo *fi = gst_video_format_get_info (f);
  return GST_VIDEO_FORMAT_INFO_IS_RGB (fi);
}

/* Draws the scene into a new buffer of @format, @w x @h. The square's side scales
 * with the frame (SQ at 320x240). */
static GstBuffer *
draw (GstVideoFormat format, gint w, gint h, const Scene * sc, GRand * rnd)
{
  GstVideoInfo info;
  GstVideoFrame f;
  GstBuffer *buf;
  gboolean rgb = format_is_rgb (format);
  gint x, y, c, sq_w = SQ * w / W, sq_h = SQ * h / H;
  gint x0 = (gint) (sc->sx * w), y0 = (gint) (sc->sy * h);

  gst_video_info_set_format (&info, format, w, h);
  buf = gst_buffer_new_allocate (NULL, info.size, NULL);
  g_assert_true (gst_video_frame_map (&f, &info, buf, GST_MAP_WRITE));
  for (y = 0; y < h; y++) {
    for (x = 0; x < w; x++) {
      gdouble g = background ((x + 0.5) / w, (y + 0.5) / h);
      gint v;
      if (sc->square && x >= x0 && x < x0 + sq_w && y >= y0 && y < y0 + sq_h)
        g = 245.0;
      g *= sc->gain;
      if (sc->noise > 0)
        g += sc->noise * gauss (rnd);
      v = CLAMP ((gint) lround (g), 0, 255);
      if (rgb) {
        for (c = 0; c < 3; c++)
          GST_VIDEO_FRAME_COMP_DATA (&f, c)[y * GST_VIDEO_FRAME_COMP_STRIDE (&f, c)
              + x * GST_VIDEO_FRAME_COMP_PSTRIDE (&f, c)] = v;
        if (GST_VIDEO_FORMAT_INFO_HAS_ALPHA (f.info.finfo))
          GST_VIDEO_FRAME_COMP_DATA (&f, 3)[y * GST_VIDEO_FRAME_COMP_STRIDE (&f, 3)
              + x * GST_VIDEO_FRAME_COMP_PSTRIDE (&f, 3)] = 255;
      } else {
        /* BT.601 limited range luma of a grey of level v */
        GST_VIDEO_FRAME_COMP_DATA (&f, 0)[y * GST_VIDEO_FRAME_COMP_STRIDE (&f, 0)
            + x * GST_VIDEO_FRAME_COMP_PSTRIDE (&f, 0)] = 16 + (v * 219 + 127) / 255;
      }
    }
  }
  if (!rgb && GST_VIDEO_FRAME_N_COMPONENTS (&f) > 1) {
    for (c = 1; c < 3; c++) {
      gint cw = GST_VIDEO_FRAME_COMP_WIDTH (&f, c), ch = GST_VIDEO_FRAME_COMP_HEIGHT (&f, c);
      for (y = 0; y < ch; y++)
        for (x = 0; x < cw; x++)
          GST_VIDEO_FRAME_COMP_DATA (&f, c)[y * GST_VIDEO_FRAME_COMP_STRIDE (&f, c)
              + x * GST_VIDEO_FRAME_COMP_PSTRIDE (&f, c)] = 128;
    }
  }
  gst_video_frame_unmap (&f);
  return buf;
}

/* ---- running a scenario through a harness ---- */

typedef struct
{
  gint x, y, w, h;
} Box;

typedef struct
{
  gboolean out;                 /* buffer came out */
  guint64 event_id;
  gdouble score;
  gboolean analysed;
  GArray *boxes;                /* Box */
  GstClockTime pts;
} FrameResult;

typedef struct
{
  guint n;
  FrameResult *fr;
  GPtrArray *messages;          /* GstStructure copies, in order, with "frame" added */
  GPtrArray *events;            /* custom event structures, with "frame" added */
  GPtrArray *out_pts;           /* output frame indices, in output order */
  GString *order;               /* what left the src pad: B buffer, S/E start/end event */
  GArray *gaps;                 /* GstClockTime pairs (timestamp, duration) of GAP events */
  GArray *timeline;             /* GstClockTime of each buffer and GAP, in src pad order */
} Result;

typedef void (*SceneFunc) (guint i, Scene * sc, gpointer data);

static void
result_free (Result * r)
{
  guint i;
  for (i = 0; i < r->n; i++)
    g_array_unref (r->fr[i].boxes);
  g_free (r->fr);
  g_ptr_array_unref (r->messages);
  g_ptr_array_unref (r->events);
  g_ptr_array_unref (r->out_pts);
  g_string_free (r->order, TRUE);
  g_array_unref (r->gaps);
  g_array_unref (r->timeline);
  g_free (r);
}

static void
collect_output (GstHarness * h, GstBus * bus, Result * r, guint i, guint64 pts0)
{
  GstBuffer *out;
  GstEvent *ev;
  GstMessage *msg;

  while ((out = gst_harness_try_pull (h))) {
    guint idx = (guint) ((GST_BUFFER_PTS (out) - pts0) / FRAME_DUR);
    GstEdgefaasMotionMeta *mm = gst_buffer_get_edgefaas_motion_meta (out);
    gpointer state = NULL;
    GstMeta *meta;
    FrameResult *fr;

    g_assert_cmpuint (idx, <, r->n);
    fr = &r->fr[idx];
    g_assert_false (fr->out);   /* each buffer once */
    fr->out = TRUE;
    fr->pts = GST_BUFFER_PTS (out);
    g_assert_nonnull (mm);
    fr->event_id = mm->event_id;
    fr->score = mm->score;
    fr->analysed = mm->analysed;
    while ((meta = gst_buffer_iterate_meta_filtered (out, &state,
                GST_VIDEO_REGION_OF_INTEREST_META_API_TYPE))) {
      GstVideoRegionOfInterestMeta *roi = (GstVideoRegionOfInterestMeta *) meta;
      GstStructure *p = gst_video_region_of_interest_meta_get_param (roi, "motion");
      Box b = { roi->x, roi->y, roi->w, roi->h };
      guint64 eid = G_MAXUINT64;
      gdouble sc = -1;
      g_assert_cmpstr (g_quark_to_string (roi->roi_type), ==, "motion");
      g_assert_nonnull (p);
      g_assert_true (gst_structure_get_uint64 (p, "event-id", &eid));
      g_assert_true (gst_structure_get_double (p, "score", &sc));
      g_assert_cmpuint (eid, ==, mm->event_id);
      g_assert_cmpfloat (sc, >, 0.0);
      g_assert_cmpfloat (sc, <=, 1.0);
      g_array_append_val (fr->boxes, b);
    }
    g_ptr_array_add (r->out_pts, GUINT_TO_POINTER (idx));
    gst_buffer_unref (out);
  }
  while ((ev = gst_harness_try_pull_event (h))) {
    if (GST_EVENT_TYPE (ev) == GST_EVENT_CUSTOM_DOWNSTREAM
        && gst_event_has_name (ev, EDGEFAAS_MOTION_EVENT_NAME)) {
      GstStructure *s = gst_structure_copy (gst_event_get_structure (ev));
      gst_structure_set (s, "frame", G_TYPE_UINT, i, NULL);
      g_ptr_array_add (r->events, s);
    } else if (GST_EVENT_TYPE (ev) == GST_EVENT_GAP) {
      GstClockTime ts, dur;
      gst_event_parse_gap (ev, &ts, &dur);
      g_array_append_val (r->gaps, ts);
      g_array_append_val (r->gaps, dur);
    }
    gst_event_unref (ev);
  }
  while ((msg = gst_bus_pop_filtered (bus, GST_MESSAGE_ELEMENT))) {
    GstStructure *s = gst_structure_copy (gst_message_get_structure (msg));
    gst_structure_set (s, "frame", G_TYPE_UINT, i, NULL);
    g_ptr_array_add (r->messages, s);
    gst_message_unref (msg);
  }
}

static GstPadProbeReturn
order_probe (GstPad * pad, GstPadProbeInfo * info, gpointer data)
{
  Result *r = data;
  if (info->type & GST_PAD_PROBE_TYPE_BUFFER) {
    GstClockTime ts = GST_BUFFER_PTS (GST_PAD_PROBE_INFO_BUFFER (info));
    g_string_append_c (r->order, 'B');
    g_array_append_val (r->timeline, ts);
  } else if (info->type & GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM) {
    GstEvent *ev = GST_PAD_PROBE_INFO_EVENT (info);
    if (GST_EVENT_TYPE (ev) == GST_EVENT_GAP) {
      GstClockTime ts;
      gst_event_parse_gap (ev, &ts, NULL);
      g_array_append_val (r->timeline, ts);
    }
    if (GST_EVENT_TYPE (ev) == GST_EVENT_CUSTOM_DOWNSTREAM
        && gst_event_has_name (ev, EDGEFAAS_MOTION_EVENT_NAME)) {
      const gchar *t = gst_structure_get_string (gst_event_get_structure (ev), "type");
      g_string_append_c (r->order, g_strcmp0 (t, "start") == 0 ? 'S' : 'E');
    }
  }
  return GST_PAD_PROBE_OK;
}

/* Runs @n frames; @props is a gst_util_set_object_arg list "name=value;...". */
static Result *
run_full (GstVideoFormat format, gint w, gint h, guint n, SceneFunc fn, gpointer data,
    const gchar * props, guint seed, gint renegotiate_at, gint w2, gint h2)
{
  GstHarness *hr = gst_harness_new ("motiondetect");
  GstBus *bus = gst_bus_new ();
  Result *r = g_new0 (Result, 1);
  GRand *rnd = g_rand_new_with_seed (seed);
  gchar *caps;
  guint i;

  gst_element_set_bus (hr->element, bus);
  if (props) {
    gchar **kv = g_strsplit (props, ";", -1), **p;
    for (p = kv; *p; p++) {
      gchar **nv = g_strsplit (*p, "=", 2);
      if (nv[0] && nv[1])
        gst_util_set_object_arg (G_OBJECT (hr->element), nv[0], nv[1]);
      g_strfreev (nv);
    }
    g_strfreev (kv);
  }
  r->n = n;
  r->fr = g_new0 (FrameResult, n);
  for (i = 0; i < n; i++)
    r->fr[i].boxes = g_array_new (FALSE, FALSE, sizeof (Box));
  r->messages = g_ptr_array_new_with_free_func ((GDestroyNotify) gst_structure_free);
  r->events = g_ptr_array_new_with_free_func ((GDestroyNotify) gst_structure_free);
  r->out_pts = g_ptr_array_new ();
  r->order = g_string_new (NULL);
  r->gaps = g_array_new (FALSE, FALSE, sizeof (GstClockTime));
  r->timeline = g_array_new (FALSE, FALSE, sizeof (GstClockTime));
  {
    GstPad *src = gst_element_get_static_pad (hr->element, "src");
    gst_pad_add_probe (src, GST_PAD_PROBE_TYPE_BUFFER |
        GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM, order_probe, r, NULL);
    gst_object_unref (src);
  }

  caps = g_strdup_printf ("video/x-raw,format=%s,width=%d,height=%d,framerate=%d/1",
      gst_video_format_to_string (format), w, h, FPS);
  gst_harness_set_src_caps_str (hr, caps);
  g_free (caps);

  for (i = 0; i < n; i++) {
    Scene sc = { FALSE, 0, 0, 1.0, 0.0 };
    GstBuffer *buf;
    if ((gint) i == renegotiate_at) {
      caps = g_strdup_printf ("video/x-raw,format=%s,width=%d,height=%d,framerate=%d/1",
          gst_video_format_to_string (format), w2, h2, FPS);
      gst_harness_set_src_caps_str (hr, caps);
      g_free (caps);
      w = w2;
      h = h2;
    }
    fn (i, &sc, data);
    buf = draw (format, w, h, &sc, rnd);
    GST_BUFFER_PTS (buf) = i * FRAME_DUR;
    GST_BUFFER_DURATION (buf) = FRAME_DUR;
    g_assert_cmpint (gst_harness_push (hr, buf), ==, GST_FLOW_OK);
    collect_output (hr, bus, r, i, 0);
  }
  gst_harness_push_event (hr, gst_event_new_eos ());
  collect_output (hr, bus, r, n, 0);

  gst_element_set_bus (hr->element, NULL);
  gst_object_unref (bus);
  gst_harness_teardown (hr);
  g_rand_free (rnd);
  return r;
}

static Result *
run (GstVideoFormat format, guint n, SceneFunc fn, gpointer data, const gchar * props,
    guint seed)
{
  return run_full (format, W, H, n, fn, data, props, seed, -1, 0, 0);
}

static const GstStructure *
find_msg (Result * r, const gchar * name, guint nth)
{
  guint i;
  for (i = 0; i < r->messages->len; i++) {
    const GstStructure *s = g_ptr_array_index (r->messages, i);
    if (gst_structure_has_name (s, name) && nth-- == 0)
      return s;
  }
  return NULL;
}

static guint
count_msgs (Result * r, const gchar * name)
{
  guint i, c = 0;
  for (i = 0; i < r->messages->len; i++)
    c += gst_structure_has_name (g_ptr_array_index (r->messages, i), name);
  return c;
}

static guint
msg_frame (const GstStructure * s)
{
  guint f = G_MAXUINT;
  g_assert_true (gst_structure_get_uint (s, "frame", &f));
  return f;
}

static gdouble
iou (Box a, Box b)
{
  gint ix = MAX (0, MIN (a.x + a.w, b.x + b.w) - MAX (a.x, b.x));
  gint iy = MAX (0, MIN (a.y + a.h, b.y + b.h) - MAX (a.y, b.y));
  gdouble inter = (gdouble) ix * iy;
  return inter / ((gdouble) a.w * a.h + (gdouble) b.w * b.h - inter);
}

/* ---- scenes ---- */

typedef struct
{
  guint move_from, move_to;     /* square moves in [from, to), absent outside (or stays) */
  gboolean stays;               /* keep it where it stopped after move_to */
  gdouble x0, y0, dx;           /* start position and x speed per frame (normalised) */
  gdouble noise;
  guint step_at;                /* brightness step frame (0 = none) */
  gdouble gain;
} Moving;

static void
moving_scene (guint i, Scene * sc, gpointer data)
{
  Moving *m = data;
  sc->noise = m->noise;
  if (m->step_at && i >= m->step_at)
    sc->gain = m->gain;
  if (i >= m->move_from && (i < m->move_to || m->stays)) {
    guint k = MIN (i, m->move_to - 1) - m->move_from;
    sc->square = TRUE;
    sc->sx = m->x0 + m->dx * k;
    sc->sy = m->y0;
  }
}

static Box
square_at (const Moving * m, guint i, gint w, gint h)
{
  guint k = MIN (i, m->move_to - 1) - m->move_from;
  Box b = { (gint) ((m->x0 + m->dx * k) * w), (gint) (m->y0 * h), SQ * w / W, SQ * h / H };
  return b;
}

static guint
events_started (Result * r)
{
  return count_msgs (r, "motion-start");
}

/* ---- tests ---- */

static void
test_static_scene_no_event (void)
{
  Moving m = { 1000, 1000, FALSE, 0, 0, 0, 0.0, 0, 1.0 };
  Result *r = run (GST_VIDEO_FORMAT_I420, 90, moving_scene, &m, NULL, 1);
  guint i;

  for (i = 0; i < r->n; i++) {
    g_assert_true (r->fr[i].out);
    g_assert_true (r->fr[i].analysed);
    g_assert_cmpuint (r->fr[i].event_id, ==, 0);
    g_assert_cmpuint (r->fr[i].boxes->len, ==, 0);
  }
  g_assert_cmpuint (events_started (r), ==, 0);
  g_assert_cmpuint (r->events->len, ==, 0);
  result_free (r);
}

static void
test_moving_square_event (void)
{
  /* static 15 frames, square crosses for 60 frames, then gone; quiet-time 0.5 s */
  Moving m = { 15, 75, FALSE, 0.05, 0.35, 0.011, 2.0, 0, 1.0 };
  Result *r = run (GST_VIDEO_FORMAT_I420, 130, moving_scene, &m,
      "start-frames=3;quiet-time=500000000", 2);
  const GstStructure *start, *end;
  guint64 id = 0, rt = 0, ts = 0, end_rt = 0, dur = 0;
  guint sf, ef, i, checked = 0, frames = 0;
  gdouble score = 0;
  const GValue *boxes;

  g_assert_cmpuint (events_started (r), ==, 1);
  g_assert_cmpuint (count_msgs (r, "motion-end"), ==, 1);
  start = find_msg (r, "motion-start", 0);
  end = find_msg (r, "motion-end", 0);
  sf = msg_frame (start);
  ef = msg_frame (end);
  /* confirmed on the 3rd moving frame (the first moving frame already differs) */
  g_assert_cmpuint (sf, >=, m.move_from + 2);
  g_assert_cmpuint (sf, <=, m.move_from + 4);

  /* documented fields */
  g_assert_true (gst_structure_get_uint64 (start, "event-id", &id));
  g_assert_cmpuint (id, ==, 1);
  g_assert_true (gst_structure_get_uint64 (start, "running-time", &rt));
  g_assert_true (gst_structure_get_uint64 (start, "timestamp", &ts));
  g_assert_true (gst_structure_get_double (start, "score", &score));
  g_assert_cmpuint (ts, ==, sf * FRAME_DUR);
  g_assert_cmpuint (rt, <=, ts);
  g_assert_cmpuint (rt, >=, m.move_from * FRAME_DUR);
  g_assert_cmpfloat (score, >, 0.0);
  boxes = gst_structure_get_value (start, "boxes");
  g_assert_nonnull (boxes);
  g_assert_true (GST_VALUE_HOLDS_ARRAY (boxes));
  g_assert_cmpuint (gst_value_array_get_size (boxes), ==, 1);
  {
    const GstStructure *b =
        gst_value_get_structure (gst_value_array_get_value (boxes, 0));
    Box bb;
    guint x, y, bw, bh;
    g_assert_true (gst_structure_get (b, "x", G_TYPE_UINT, &x, "y", G_TYPE_UINT, &y,
            "width", G_TYPE_UINT, &bw, "height", G_TYPE_UINT, &bh, NULL));
    bb = (Box) { x, y, bw, bh };
    g_assert_cmpfloat (iou (bb, square_at (&m, sf, W, H)), >=, 0.5);
  }

  /* boxes overlap the true square on every analysed frame of the crossing */
  for (i = sf; i < m.move_to; i++) {
    FrameResult *fr = &r->fr[i];
    gdouble best = 0;
    guint k;
    g_assert_cmpuint (fr->event_id, ==, id);
    g_assert_cmpuint (fr->boxes->len, >=, 1);
    for (k = 0; k < fr->boxes->len; k++)
      best = MAX (best, iou (g_array_index (fr->boxes, Box, k), square_at (&m, i, W, H)));
    if (best < 0.5)
      g_test_message ("frame %u: best IoU %.2f", i, best);
    g_assert_cmpfloat (best, >=, 0.5);
    checked++;
  }
  g_assert_cmpuint (checked, >, 50);

  /* end: last motion on the last moving frame, declared once quiet-time passed */
  g_assert_true (gst_structure_get_uint64 (end, "event-id", &id));
  g_assert_cmpuint (id, ==, 1);
  g_assert_true (gst_structure_get_uint64 (end, "running-time", &end_rt));
  g_assert_true (gst_structure_get_uint64 (end, "duration", &dur));
  g_assert_true (gst_structure_get_uint (end, "frames", &frames));
  g_assert_cmpuint (end_rt, ==, (m.move_to - 1) * FRAME_DUR);
  g_assert_cmpuint (dur, ==, end_rt - rt);
  g_assert_cmpuint (frames, >=, m.move_to - sf);
  g_assert_cmpuint (ef, ==, (guint) (m.move_to - 1 + (500 * GST_MSECOND +
              FRAME_DUR - 1) / FRAME_DUR));
  for (i = ef; i < r->n; i++)
    g_assert_cmpuint (r->fr[i].event_id, ==, 0);

  /* the two downstream events carry the same fields */
  g_assert_cmpuint (r->events->len, ==, 2);
  {
    const GstStructure *es = g_ptr_array_index (r->events, 0);
    const GstStructure *ee = g_ptr_array_index (r->events, 1);
    guint64 v = 0;
    g_assert_cmpstr (gst_structure_get_string (es, "type"), ==, "start");
    g_assert_true (gst_structure_get_uint64 (es, "event-id", &v));
    g_assert_cmpuint (v, ==, 1);
    g_assert_true (gst_structure_get_uint64 (es, "running-time", &v));
    g_assert_cmpuint (v, ==, rt);
    g_assert_false (gst_structure_has_field (es, "duration"));
    g_assert_cmpuint (msg_frame (es), ==, sf);
    g_assert_cmpstr (gst_structure_get_string (ee, "type"), ==, "end");
    g_assert_true (gst_structure_get_uint64 (ee, "running-time", &v));
    g_assert_cmpuint (v, ==, end_rt);
    g_assert_true (gst_structure_get_uint64 (ee, "duration", &v));
    g_assert_cmpuint (v, ==, dur);
    g_assert_cmpuint (msg_frame (ee), ==, ef);
  }
  result_free (r);
}

static void
test_sensor_noise_no_event (void)
{
  gdouble sigmas[] = { 1.0, 2.0, 4.0 };
  guint k;
  for (k = 0; k < G_N_ELEMENTS (sigmas); k++) {
    Moving m = { 1000, 1000, FALSE, 0, 0, 0, sigmas[k], 0, 1.0 };
    Result *r = run (GST_VIDEO_FORMAT_I420, 120, moving_scene, &m, NULL, 10 + k);
    guint i, boxes = 0;
    for (i = 0; i < r->n; i++)
      boxes += r->fr[i].boxes->len;
    g_test_message ("sigma %.1f: %u boxes in %u frames", sigmas[k], boxes, r->n);
    g_assert_cmpuint (events_started (r), ==, 0);
    result_free (r);
  }
  {
    /* and the same noise does not hide a real object */
    Moving m = { 10, 70, FALSE, 0.05, 0.35, 0.011, 4.0, 0, 1.0 };
    Result *r = run (GST_VIDEO_FORMAT_I420, 80, moving_scene, &m, NULL, 20);
    g_assert_cmpuint (events_started (r), ==, 1);
    result_free (r);
  }
}

static void
test_brightness_step_no_event (void)
{
  gdouble gains[] = { 1.3, 0.7 };
  guint k;
  for (k = 0; k < G_N_ELEMENTS (gains); k++) {
    Moving m = { 1000, 1000, FALSE, 0, 0, 0, 2.0, 20, gains[k] };
    Result *r = run (GST_VIDEO_FORMAT_I420, 80, moving_scene, &m, NULL, 30 + k);
    g_assert_cmpuint (events_started (r), ==, 0);
    result_free (r);
  }
  {
    /* control: with compensation off and no global-change rejection (1.0), a +30 %
     * step is reported as motion, so the scene really changes enough to matter */
    Moving m = { 1000, 1000, FALSE, 0, 0, 0, 2.0, 20, 1.3 };
    Result *r = run (GST_VIDEO_FORMAT_I420, 80, moving_scene, &m,
        "compensate-brightness=false;global-change=1.0", 33);
    g_assert_cmpuint (events_started (r), ==, 1);
    result_free (r);
  }
}

static void
test_exclusion_zone (void)
{
  /* square moves in the left half */
  Moving m = { 10, 70, FALSE, 0.02, 0.35, 0.005, 2.0, 0, 1.0 };
  Result *r;

  r = run (GST_VIDEO_FORMAT_I420, 80, moving_scene, &m,
      "exclude-mask=0,0 0.5,0 0.5,1 0,1", 40);
  g_assert_cmpuint (events_started (r), ==, 0);
  result_free (r);

  r = run (GST_VIDEO_FORMAT_I420, 80, moving_scene, &m,
      "exclude-mask=0.5,0 1,0 1,1 0.5,1", 40);
  g_assert_cmpuint (events_started (r), ==, 1);
  result_free (r);

  /* inclusion zone: only the right half counts */
  r = run (GST_VIDEO_FORMAT_I420, 80, moving_scene, &m,
      "include-mask=0.5,0 1,0 1,1 0.5,1", 40);
  g_assert_cmpuint (events_started (r), ==, 0);
  result_free (r);
  r = run (GST_VIDEO_FORMAT_I420, 80, moving_scene, &m,
      "include-mask=0,0 0.5,0 0.5,1 0,1", 40);
  g_assert_cmpuint (events_started (r), ==, 1);
  result_free (r);
}

static void
test_stopped_object_absorbed (void)
{
  /* moves for 30 frames then stays put until the end (6 s) */
  Moving m = { 10, 40, TRUE, 0.1, 0.35, 0.01, 2.0, 0, 1.0 };
  Result *r = run (GST_VIDEO_FORMAT_I420, 180, moving_scene, &m,
      "absorb-time=1000000000;quiet-time=500000000", 50);
  const GstStructure *end;
  guint ef, limit;

  g_assert_cmpuint (events_started (r), ==, 1);
  g_assert_cmpuint (count_msgs (r, "motion-end"), ==, 1);
  end = find_msg (r, "motion-end", 0);
  ef = msg_frame (end);
  /* stop + absorb-time + quiet-time, plus a few frames of blur fringe */
  limit = m.move_to + (1500 * GST_MSECOND) / FRAME_DUR + 10;
  g_test_message ("stopped at frame %u, event ended at frame %u (limit %u)",
      m.move_to, ef, limit);
  g_assert_cmpuint (ef, >, m.move_to + (500 * GST_MSECOND) / FRAME_DUR);
  g_assert_cmpuint (ef, <=, limit);
  /* the square is still in the picture and no further event starts */
  g_assert_cmpuint (r->fr[r->n - 1].boxes->len, ==, 0);
  g_assert_cmpuint (r->fr[r->n - 1].event_id, ==, 0);

  /* control: with a long absorb-time the same scene does not end by then */
  result_free (r);
  r = run (GST_VIDEO_FORMAT_I420, 180, moving_scene, &m,
      "absorb-time=60000000000;quiet-time=500000000", 50);
  g_assert_cmpuint (events_started (r), ==, 1);
  g_assert_cmpuint (count_msgs (r, "motion-end"), ==, 1);
  g_assert_cmpuint (msg_frame (find_msg (r, "motion-end", 0)), ==, r->n);   /* at EOS */
  result_free (r);
}

static void
test_all_formats_same_result (void)
{
  GstVideoFormat formats[] = {
    GST_VIDEO_FORMAT_GRAY8, GST_VIDEO_FORMAT_I420, GST_VIDEO_FORMAT_YV12,
    GST_VIDEO_FORMAT_NV12, GST_VIDEO_FORMAT_NV21, GST_VIDEO_FORMAT_Y42B,
    GST_VIDEO_FORMAT_Y444, GST_VIDEO_FORMAT_RGB, GST_VIDEO_FORMAT_BGR,
    GST_VIDEO_FORMAT_RGBx, GST_VIDEO_FORMAT_BGRx, GST_VIDEO_FORMAT_xRGB,
    GST_VIDEO_FORMAT_xBGR,
  };
  Moving m = { 10, 50, FALSE, 0.05, 0.35, 0.015, 0.0, 0, 1.0 };
  Result *ref = run (formats[0], 70, moving_scene, &m, NULL, 60);
  guint k, i, ref_start = msg_frame (find_msg (ref, "motion-start", 0));

  for (k = 1; k < G_N_ELEMENTS (formats); k++) {
    Result *r = run (formats[k], 70, moving_scene, &m, NULL, 60);
    g_test_message ("format %s", gst_video_format_to_string (formats[k]));
    g_assert_cmpuint (events_started (r), ==, 1);
    g_assert_cmpuint (msg_frame (find_msg (r, "motion-start", 0)), ==, ref_start);
    for (i = 0; i < r->n; i++) {
      FrameResult *a = &ref->fr[i], *b = &r->fr[i];
      guint j;
      g_assert_cmpuint (a->event_id, ==, b->event_id);
      g_assert_cmpuint (a->boxes->len, ==, b->boxes->len);
      for (j = 0; j < a->boxes->len; j++) {
        Box ba = g_array_index (a->boxes, Box, j), bb = g_array_index (b->boxes, Box, j);
        /* within one analysis pixel (3.2 px at 320x240 -> 100 rows) */
        g_assert_cmpint (ABS (ba.x - bb.x), <=, 4);
        g_assert_cmpint (ABS (ba.y - bb.y), <=, 4);
        g_assert_cmpint (ABS (ba.w - bb.w), <=, 4);
        g_assert_cmpint (ABS (ba.h - bb.h), <=, 4);
      }
    }
    result_free (r);
  }
  result_free (ref);
}

typedef struct
{
  Moving m;
  guint reneg_at;
} Reneg;

static void
reneg_scene (guint i, Scene * sc, gpointer data)
{
  Reneg *rg = data;
  moving_scene (i, sc, &rg->m);
}

static void
test_renegotiation (void)
{
  /* 30 static frames at 320x240, then 640x360 (different aspect): static for 30 frames,
   * then the square crosses */
  Reneg rg = { {60, 110, FALSE, 0.05, 0.35, 0.011, 2.0, 0, 1.0}, 30 };
  Result *r = run_full (GST_VIDEO_FORMAT_I420, W, H, 120, reneg_scene, &rg, NULL, 70,
      30, 640, 360);
  guint sf, i;

  g_assert_cmpuint (events_started (r), ==, 1);   /* the size change is no motion */
  sf = msg_frame (find_msg (r, "motion-start", 0));
  g_assert_cmpuint (sf, >=, 60);
  for (i = sf; i < rg.m.move_to; i++) {
    FrameResult *fr = &r->fr[i];
    g_assert_cmpuint (fr->boxes->len, >=, 1);
    g_assert_cmpfloat (iou (g_array_index (fr->boxes, Box, 0),
            square_at (&rg.m, i, 640, 360)), >=, 0.5);
  }
  result_free (r);
}

static void
test_gate_mode (void)
{
  Moving m = { 15, 45, FALSE, 0.05, 0.35, 0.015, 2.0, 0, 1.0 };
  const gchar *props = "start-frames=3;quiet-time=300000000";
  Result *ref = run (GST_VIDEO_FORMAT_I420, 90, moving_scene, &m, props, 80);
  gchar *gprops = g_strdup_printf ("%s;gate=true;preroll-frames=4", props);
  Result *r = run (GST_VIDEO_FORMAT_I420, 90, moving_scene, &m, gprops, 80);
  guint i, first = G_MAXUINT, expected = 0;

  /* expected: the event frames of the ungated run, plus the 4 frames before */
  for (i = 0; i < ref->n; i++)
    if (ref->fr[i].event_id != 0 && first == G_MAXUINT)
      first = i;
  g_assert_cmpuint (first, !=, G_MAXUINT);
  g_assert_cmpuint (first, >=, 4);
  for (i = 0; i < r->n; i++) {
    gboolean want = ref->fr[i].event_id != 0 || (i >= first - 4 && i < first);
    g_assert_cmpint (r->fr[i].out, ==, want);
    if (want) {
      g_assert_cmpuint (r->fr[i].pts, ==, i * FRAME_DUR);
      expected++;
    }
  }
  g_assert_cmpuint (expected, >, 10);
  /* in timestamp order */
  g_assert_cmpuint (r->out_pts->len, ==, expected);
  for (i = 1; i < r->out_pts->len; i++)
    g_assert_cmpuint (GPOINTER_TO_UINT (r->out_pts->pdata[i]), >,
        GPOINTER_TO_UINT (r->out_pts->pdata[i - 1]));
  /* the start event went out before any buffer (pre-roll included), the end
   * event after all of them */
  g_assert_cmpuint (r->events->len, ==, 2);
  {
    gchar *want = g_strnfill (expected, 'B');
    gchar *full = g_strdup_printf ("S%sE", want);
    g_assert_cmpstr (r->order->str, ==, full);
    g_free (want);
    g_free (full);
  }
  g_free (gprops);
  result_free (ref);
  result_free (r);
}

static void
test_analyse_interval (void)
{
  Moving m = { 10, 70, FALSE, 0.05, 0.35, 0.011, 2.0, 0, 1.0 };
  Result *r = run (GST_VIDEO_FORMAT_I420, 90, moving_scene, &m,
      "analyse-interval=3;messages=frames", 90);
  guint i, analysed = 0;

  for (i = 0; i < r->n; i++) {
    g_assert_cmpint (r->fr[i].analysed, ==, (i % 3) == 0);
    analysed += r->fr[i].analysed;
    if (!r->fr[i].analysed)
      g_assert_cmpuint (r->fr[i].boxes->len, ==, 0);
  }
  g_assert_cmpuint (count_msgs (r, "motion"), ==, analysed);
  g_assert_cmpuint (events_started (r), ==, 1);
  {
    const GstStructure *s = find_msg (r, "motion", 0);
    g_assert_true (gst_structure_has_field_typed (s, "event-id", G_TYPE_UINT64));
    g_assert_true (gst_structure_has_field_typed (s, "running-time", G_TYPE_UINT64));
    g_assert_true (gst_structure_has_field_typed (s, "timestamp", G_TYPE_UINT64));
    g_assert_true (gst_structure_has_field_typed (s, "score", G_TYPE_DOUBLE));
    g_assert_true (gst_structure_has_field_typed (s, "boxes", GST_TYPE_ARRAY));
  }
  result_free (r);
}

static void
test_bad_properties_rejected (void)
{
  GstElement *e = gst_element_factory_make ("motiondetect", NULL);
  guint thr = 0;
  gdouble lr = 0;
  gchar *mask = NULL;
  const gchar *good = "0,0 0.5,0 0.5,0.5";
  const gchar *bad[] = { "0,0 1,1", "a,b c,d e,f", "0,0 2,0 1,1", "0,0;1,1 0,1 1,0",
    "0 0 1 0 1 1", "0,0 1,0 1,1x"
  };
  guint i;

  g_assert_nonnull (e);
  g_object_set (e, "threshold", 25, "exclude-mask", good, NULL);

  g_test_expect_message ("GLib-GObject", G_LOG_LEVEL_WARNING, "*threshold*");
  g_object_set (e, "threshold", 0, NULL);
  g_test_assert_expected_messages ();
  g_test_expect_message ("GLib-GObject", G_LOG_LEVEL_WARNING, "*learning-rate*");
  g_object_set (e, "learning-rate", 2.0, NULL);
  g_test_assert_expected_messages ();
  g_object_get (e, "threshold", &thr, "learning-rate", &lr, NULL);
  g_assert_cmpuint (thr, ==, 25);
  g_assert_cmpfloat (lr, ==, 0.01);

  for (i = 0; i < G_N_ELEMENTS (bad); i++) {
    g_test_expect_message ("motiondetect", G_LOG_LEVEL_WARNING, "*invalid exclude-mask*");
    g_object_set (e, "exclude-mask", bad[i], NULL);
    g_test_assert_expected_messages ();
    g_object_get (e, "exclude-mask", &mask, NULL);
    g_assert_cmpstr (mask, ==, good);
    g_free (mask);
  }
  g_object_set (e, "exclude-mask", "", NULL);
  g_object_get (e, "exclude-mask", &mask, NULL);
  g_assert_cmpstr (mask, ==, "");
  g_free (mask);
  gst_object_unref (e);
}

/* Real pipelines: videotestsrc's moving ball gives an event, a static pattern none. */
static guint
pipeline_events (const gchar * desc)
{
  GError *err = NULL;
  GstElement *p = gst_parse_launch (desc, &err);
  GstBus *bus;
  GstMessage *msg;
  guint starts = 0;
  gboolean done = FALSE;

  g_assert_no_error (err);
  bus = gst_element_get_bus (p);
  g_assert_cmpint (gst_element_set_state (p, GST_STATE_PLAYING), !=,
      GST_STATE_CHANGE_FAILURE);
  while (!done && (msg = gst_bus_timed_pop (bus, 30 * GST_SECOND))) {
    switch (GST_MESSAGE_TYPE (msg)) {
      case GST_MESSAGE_ELEMENT:
        if (gst_message_has_name (msg, "motion-start"))
          starts++;
        break;
      case GST_MESSAGE_ERROR:{
        GError *e = NULL;
        gst_message_parse_error (msg, &e, NULL);
        g_error ("pipeline error: %s", e->message);
      }
      case GST_MESSAGE_EOS:
        done = TRUE;
        break;
      default:
        break;
    }
    gst_message_unref (msg);
  }
  g_assert_true (done);
  gst_element_set_state (p, GST_STATE_NULL);
  gst_object_unref (bus);
  gst_object_unref (p);
  return starts;
}

static void
test_pipeline_videotestsrc (void)
{
  g_assert_cmpuint (pipeline_events ("videotestsrc num-buffers=90 pattern=ball ! "
          "video/x-raw,format=NV12,width=640,height=480,framerate=30/1 ! "
          "motiondetect ! fakesink"), >=, 1);
  g_assert_cmpuint (pipeline_events ("videotestsrc num-buffers=90 pattern=smpte ! "
          "video/x-raw,format=NV12,width=640,height=480,framerate=30/1 ! "
          "motiondetect ! fakesink"), ==, 0);
}

/* ---- gate mode: GAP events, readiness in a quiet scene, max-rate ---- */

static void
assert_timeline_monotonic (Result * r)
{
  guint i;
  g_assert_cmpuint (r->timeline->len, >, 0);
  for (i = 1; i < r->timeline->len; i++)
    g_assert_cmpuint (g_array_index (r->timeline, GstClockTime, i), >=,
        g_array_index (r->timeline, GstClockTime, i - 1));
}

/* The GAP starting at frame @i, or FALSE. */
static gboolean
gap_at (Result * r, guint i, GstClockTime * dur)
{
  guint k;
  for (k = 0; k < r->gaps->len; k += 2)
    if (g_array_index (r->gaps, GstClockTime, k) == i * FRAME_DUR) {
      *dur = g_array_index (r->gaps, GstClockTime, k + 1);
      return TRUE;
    }
  return FALSE;
}

/* Gate mode with pre-roll, quiet scene, the size changes at frame 20: the frames
 * held in the pre-roll cannot follow the new caps and leave as GAPs, like every
 * other dropped frame (no hole in downstream time). Only the last 4 frames, held
 * at EOS, get none. */
static void
test_renegotiation_gate_gaps (void)
{
  Reneg rg = { {60, 110, FALSE, 0.05, 0.35, 0.011, 2.0, 0, 1.0}, 20 };
  Result *r = run_full (GST_VIDEO_FORMAT_I420, W, H, 40, reneg_scene, &rg,
      "gate=true;preroll-frames=4", 71, 20, 640, 360);
  GstClockTime dur = 0;
  guint i;

  g_assert_cmpuint (events_started (r), ==, 0);
  for (i = 0; i < r->n - 4; i++) {
    g_assert_false (r->fr[i].out);
    if (!gap_at (r, i, &dur))
      g_test_message ("no GAP for dropped frame %u", i);
    g_assert_true (gap_at (r, i, &dur));
    g_assert_cmpuint (dur, ==, FRAME_DUR);
  }
  assert_timeline_monotonic (r);
  result_free (r);
}


static void
test_gate_gap_events (void)
{
  Moving m = { 15, 45, FALSE, 0.05, 0.35, 0.015, 2.0, 0, 1.0 };
  const gchar *props = "start-frames=3;quiet-time=300000000";
  Result *ref = run (GST_VIDEO_FORMAT_I420, 90, moving_scene, &m, props, 80);
  gchar *p_all = g_strdup_printf ("%s;gate=true", props);
  gchar *p_first = g_strdup_printf ("%s;gate=true;gaps=first", props);
  gchar *p_none = g_strdup_printf ("%s;gate=true;gaps=none", props);
  gchar *p_pre = g_strdup_printf ("%s;gate=true;preroll-frames=4", props);
  Result *all = run (GST_VIDEO_FORMAT_I420, 90, moving_scene, &m, p_all, 80);
  Result *first = run (GST_VIDEO_FORMAT_I420, 90, moving_scene, &m, p_first, 80);
  Result *none = run (GST_VIDEO_FORMAT_I420, 90, moving_scene, &m, p_none, 80);
  Result *pre = run (GST_VIDEO_FORMAT_I420, 90, moving_scene, &m, p_pre, 80);
  guint i, n_out = 0, runs = 0, held = 0;
  GstClockTime dur = 0;

  /* gaps=all: every input frame leaves as exactly one of a buffer or a GAP with
   * its own timestamp and duration; the buffers are the event frames, as without
   * GAPs (gated frame count unchanged) */
  for (i = 0; i < all->n; i++) {
    gboolean want = ref->fr[i].event_id != 0;
    g_assert_cmpint (all->fr[i].out, ==, want);
    g_assert_cmpint (first->fr[i].out, ==, want);
    g_assert_cmpint (none->fr[i].out, ==, want);
    if (want) {
      n_out++;
      g_assert_false (gap_at (all, i, &dur));
    } else {
      g_assert_true (gap_at (all, i, &dur));
      g_assert_cmpuint (dur, ==, FRAME_DUR);
      if (i == 0 || ref->fr[i - 1].event_id != 0) {
        runs++;
        g_assert_true (gap_at (first, i, &dur));
        g_assert_cmpuint (dur, ==, FRAME_DUR);
      }
    }
  }
  g_assert_cmpuint (n_out, >, 10);
  g_assert_cmpuint (runs, ==, 2);       /* before and after the event */
  g_assert_cmpuint (all->gaps->len / 2, ==, all->n - n_out);
  g_assert_cmpuint (first->gaps->len / 2, ==, runs);
  g_assert_cmpuint (none->gaps->len, ==, 0);
  g_assert_cmpuint (all->timeline->len, ==, all->n);
  assert_timeline_monotonic (all);
  assert_timeline_monotonic (first);

  /* pre-roll: the 4 frames before the event go out as buffers, not GAPs; time
   * downstream never goes back; the frames still held at EOS get neither */
  for (i = 0; i < pre->n; i++) {
    gboolean gap = gap_at (pre, i, &dur);
    g_assert_false (pre->fr[i].out && gap);
    if (!pre->fr[i].out && !gap) {
      held++;
      g_assert_cmpuint (i, >=, pre->n - 4);
    }
  }
  g_assert_cmpuint (held, <=, 4);
  g_assert_cmpuint (pre->out_pts->len, ==, n_out + 4);
  assert_timeline_monotonic (pre);

  g_free (p_all);
  g_free (p_first);
  g_free (p_none);
  g_free (p_pre);
  result_free (ref);
  result_free (all);
  result_free (first);
  result_free (none);
  result_free (pre);
}

typedef struct
{
  guint buffers;
  GArray *gaps;                 /* GstClockTime timestamps */
  GArray *pts;                  /* GstClockTime buffer timestamps */
} SinkCount;

static GstPadProbeReturn
sink_count_probe (GstPad * pad, GstPadProbeInfo * info, gpointer data)
{
  SinkCount *c = data;
  if (info->type & GST_PAD_PROBE_TYPE_BUFFER) {
    GstClockTime ts = GST_BUFFER_PTS (GST_PAD_PROBE_INFO_BUFFER (info));
    c->buffers++;
    g_array_append_val (c->pts, ts);
  } else if (GST_EVENT_TYPE (GST_PAD_PROBE_INFO_EVENT (info)) == GST_EVENT_GAP) {
    GstClockTime ts;
    gst_event_parse_gap (GST_PAD_PROBE_INFO_EVENT (info), &ts, NULL);
    g_array_append_val (c->gaps, ts);
  }
  return GST_PAD_PROBE_OK;
}

/* Starts @desc (its sink is named "sink"), waits up to @wait_s for the state change
 * to PLAYING to complete; returns the result, with what reached the sink after
 * another @run_ms of playing in @c. Fails on any error or motion-start message. */
static GstStateChangeReturn
quiet_pipeline (const gchar * desc, guint wait_s, guint run_ms, SinkCount * c)
{
  GError *err = NULL;
  GstElement *p = gst_parse_launch (desc, &err), *sink;
  GstStateChangeReturn ret;
  GstBus *bus;
  GstMessage *msg;
  GstPad *pad;

  g_assert_no_error (err);
  sink = gst_bin_get_by_name (GST_BIN (p), "sink");
  g_assert_nonnull (sink);
  pad = gst_element_get_static_pad (sink, "sink");
  gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM,
      sink_count_probe, c, NULL);
  gst_object_unref (pad);
  gst_object_unref (sink);
  g_assert_cmpint (gst_element_set_state (p, GST_STATE_PLAYING), !=,
      GST_STATE_CHANGE_FAILURE);
  ret = gst_element_get_state (p, NULL, NULL, wait_s * GST_SECOND);
  if (ret == GST_STATE_CHANGE_SUCCESS)
    g_usleep (run_ms * 1000);
  bus = gst_element_get_bus (p);
  while ((msg = gst_bus_pop (bus))) {
    if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ERROR) {
      GError *e = NULL;
      gst_message_parse_error (msg, &e, NULL);
      g_error ("pipeline error: %s", e->message);
    }
    if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ELEMENT)
      g_assert_false (gst_message_has_name (msg, "motion-start"));
    gst_message_unref (msg);
  }
  gst_object_unref (bus);
  gst_element_set_state (p, GST_STATE_NULL);
  gst_object_unref (p);
  return ret;
}

#define QUIET_SRC "videotestsrc pattern=colors ! " \
  "video/x-raw,format=I420,width=320,height=240,framerate=10/1 ! "

static void
test_gate_quiet_pipeline_plays (void)
{
  SinkCount c = { 0, g_array_new (FALSE, FALSE, sizeof (GstClockTime)),
    g_array_new (FALSE, FALSE, sizeof (GstClockTime))
  };
  guint i;

  /* GAPs preroll the sink: PLAYING without any motion, time advancing on the
   * sink in steps of one frame, no buffer */
  g_assert_cmpint (quiet_pipeline (QUIET_SRC "motiondetect gate=true ! fakesink name=sink",
          10, 1000, &c), ==, GST_STATE_CHANGE_SUCCESS);
  g_assert_cmpuint (c.buffers, ==, 0);
  g_assert_cmpuint (c.gaps->len, >=, 5);
  for (i = 0; i < c.gaps->len; i++)
    g_assert_cmpuint (g_array_index (c.gaps, GstClockTime, i), ==, i * (GST_SECOND / 10));

  /* control: the same without GAPs never prerolls */
  g_array_set_size (c.gaps, 0);
  g_assert_cmpint (quiet_pipeline (QUIET_SRC "motiondetect gate=true gaps=none ! "
          "fakesink name=sink", 2, 0, &c), ==, GST_STATE_CHANGE_ASYNC);
  g_assert_cmpuint (c.buffers, ==, 0);
  g_assert_cmpuint (c.gaps->len, ==, 0);

  /* the edge pipeline's chain (pipelines/edge.pipeline): jpegenc holds GAPs
   * until its next frame, the sink is async=false, PLAYING without motion */
  g_assert_cmpint (quiet_pipeline (QUIET_SRC "motiondetect gate=true gaps=first max-rate=5 "
          "! jpegenc ! fakesink name=sink async=false", 10, 500, &c), ==,
      GST_STATE_CHANGE_SUCCESS);
  g_assert_cmpuint (c.buffers, ==, 0);

  g_array_unref (c.gaps);
  g_array_unref (c.pts);
}

/* Buffers in each second of running time (PTS, one segment from 0). */
static guint
max_per_second (GArray * pts)
{
  guint i, best = 0, cur = 0;
  guint64 sec = G_MAXUINT64;
  for (i = 0; i < pts->len; i++) {
    guint64 s = g_array_index (pts, GstClockTime, i) / GST_SECOND;
    cur = (s == sec) ? cur + 1 : 1;
    sec = s;
    best = MAX (best, cur);
  }
  return best;
}

/* Pushes @n drawn frames at 30 fps through a harness made from @desc; returns the
 * output timestamps. */
static GArray *
harness_pts (const gchar * desc, guint n, Moving * m)
{
  GstHarness *h = gst_harness_new_parse (desc);
  GArray *pts = g_array_new (FALSE, FALSE, sizeof (GstClockTime));
  GRand *rnd = g_rand_new_with_seed (7);
  GstBuffer *out;
  guint i;
  gchar *caps = g_strdup_printf ("video/x-raw,format=I420,width=%d,height=%d,"
      "framerate=%d/1", W, H, FPS);

  gst_harness_set_src_caps_str (h, caps);
  g_free (caps);
  for (i = 0; i < n; i++) {
    Scene sc = { FALSE, 0, 0, 1.0, 0.0 };
    GstBuffer *buf;
    moving_scene (i, &sc, m);
    buf = draw (GST_VIDEO_FORMAT_I420, W, H, &sc, rnd);
    GST_BUFFER_PTS (buf) = i * FRAME_DUR;
    GST_BUFFER_DURATION (buf) = FRAME_DUR;
    g_assert_cmpint (gst_harness_push (h, buf), ==, GST_FLOW_OK);
    while ((out = gst_harness_try_pull (h))) {
      GstClockTime t = GST_BUFFER_PTS (out);
      g_array_append_val (pts, t);
      gst_buffer_unref (out);
    }
  }
  gst_harness_push_event (h, gst_event_new_eos ());
  while ((out = gst_harness_try_pull (h))) {
    GstClockTime t = GST_BUFFER_PTS (out);
    g_array_append_val (pts, t);
    gst_buffer_unref (out);
  }
  gst_harness_teardown (h);
  g_rand_free (rnd);
  return pts;
}

/* 3 s quiet then 4 s of a square crossing the frame, at 30 fps. */
static void
test_max_rate_after_quiet (void)
{
  Moving m = { 90, 210, FALSE, 0.05, 0.35, 0.0065, 0.0, 0, 1.0 };
  GArray *event = harness_pts ("motiondetect gate=true", 210, &m);
  GArray *lim = harness_pts ("motiondetect gate=true max-rate=5", 210, &m);
  GArray *vr = harness_pts ("motiondetect gate=true ! videorate drop-only=true max-rate=5",
      210, &m);
  GstClockTime t0, t1;
  gdouble span, expect;
  guint i;

  /* the ungated-by-rate event frames: most of the 4 s */
  g_assert_cmpuint (event->len, >=, 90);
  t0 = g_array_index (event, GstClockTime, 0);
  t1 = g_array_index (event, GstClockTime, event->len - 1) + FRAME_DUR;
  g_assert_cmpuint (t0, >=, 3 * GST_SECOND);
  span = (gdouble) (t1 - t0) / GST_SECOND;
  expect = 5 * span;
  g_test_message ("event %.2f s, %u frames; max-rate=5: %u frames (max %u in one second); "
      "baseline videorate drop-only max-rate=5 after the gate: %u frames (max %u in one "
      "second)", span, event->len, lim->len, max_per_second (lim), vr->len,
      max_per_second (vr));

  /* at most 5 (+1 at a second boundary) per second of running time, and not
   * fewer than the rate allows over the event */
  g_assert_cmpuint (max_per_second (lim), <=, 5 + 1);
  g_assert_cmpfloat (lim->len, <=, expect + 1);
  g_assert_cmpfloat (lim->len, >=, expect - 1);
  /* the first event frame passes (no stale grid), then one every 200 ms */
  g_assert_cmpuint (g_array_index (lim, GstClockTime, 0), ==, t0);
  for (i = 1; i < lim->len; i++)
    g_assert_cmpuint (g_array_index (lim, GstClockTime, i) -
        g_array_index (lim, GstClockTime, i - 1), >=, GST_SECOND / 5 - FRAME_DUR / 2);

  g_array_unref (event);
  g_array_unref (lim);
  g_array_unref (vr);
}

/* Runs videotestsrc's ball (150 frames at 30 fps) through @chain; returns the
 * timestamps of the buffers reaching the sink. */
static GArray *
ball_pipeline_pts (const gchar * chain)
{
  SinkCount c = { 0, g_array_new (FALSE, FALSE, sizeof (GstClockTime)),
    g_array_new (FALSE, FALSE, sizeof (GstClockTime))
  };
  GError *err = NULL;
  gchar *desc = g_strdup_printf ("videotestsrc num-buffers=150 pattern=ball ! "
      "video/x-raw,format=I420,width=320,height=240,framerate=30/1 ! %s ! "
      "fakesink name=sink sync=false", chain);
  GstElement *p = gst_parse_launch (desc, &err);
  GstElement *sink;
  GstPad *pad;
  GstMessage *msg;
  GstBus *bus;

  g_assert_no_error (err);
  g_free (desc);
  sink = gst_bin_get_by_name (GST_BIN (p), "sink");
  pad = gst_element_get_static_pad (sink, "sink");
  gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM,
      sink_count_probe, &c, NULL);
  gst_object_unref (pad);
  gst_object_unref (sink);
  bus = gst_element_get_bus (p);
  g_assert_cmpint (gst_element_set_state (p, GST_STATE_PLAYING), !=,
      GST_STATE_CHANGE_FAILURE);
  msg = gst_bus_timed_pop_filtered (bus, 60 * GST_SECOND, GST_MESSAGE_EOS |
      GST_MESSAGE_ERROR);
  g_assert_nonnull (msg);
  g_assert_cmpint (GST_MESSAGE_TYPE (msg), ==, GST_MESSAGE_EOS);
  gst_message_unref (msg);
  gst_element_set_state (p, GST_STATE_NULL);
  gst_object_unref (bus);
  gst_object_unref (p);
  g_array_unref (c.gaps);
  return c.pts;
}

/* A real pipeline: videotestsrc's ball at 30 fps, gated, limited to 5 fps, encoded. */
static void
test_max_rate_pipeline (void)
{
  GArray *event = ball_pipeline_pts ("motiondetect gate=true ! jpegenc");
  GArray *lim = ball_pipeline_pts ("motiondetect gate=true max-rate=5 ! jpegenc");
  guint i, len = 1, runs = 0, expect = 0;

  /* expected: one frame in six of each run of consecutive event frames */
  g_assert_cmpuint (event->len, >=, 60);
  for (i = 1; i <= event->len; i++) {
    if (i < event->len && g_array_index (event, GstClockTime, i) -
        g_array_index (event, GstClockTime, i - 1) < FRAME_DUR + FRAME_DUR / 2) {
      len++;
      continue;
    }
    expect += (len + 5) / 6;
    runs++;
    len = 1;
  }
  g_test_message ("%u event frames in %u run(s), max-rate=5: %u JPEG frames (expected "
      "%u), max %u in one second", event->len, runs, lim->len, expect,
      max_per_second (lim));
  g_assert_cmpuint (max_per_second (lim), <=, 5 + 1);
  g_assert_cmpuint (lim->len, <=, expect + runs);
  g_assert_cmpuint (lim->len + runs, >=, expect);
  g_array_unref (event);
  g_array_unref (lim);
}

/* gst-inspect output matches the committed docs/elements/motiondetect.txt. */
static void
test_inspect_doc (void)
{
  gchar *doc_path = g_build_filename (ef_test_source_root (), "docs", "elements",
      "motiondetect.txt", NULL);
  gchar *doc = NULL, *out = NULL, *err = NULL;
  gchar *argv[] = { (gchar *) "gst-inspect-1.0", (gchar *) "motiondetect", NULL };
  gint status = 0;
  GString *a = g_string_new (NULL), *b = g_string_new (NULL);
  gchar **lines;
  guint i;

  g_assert_true (g_file_get_contents (doc_path, &doc, NULL, NULL));
  g_assert_true (g_spawn_sync (NULL, argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, &out,
          &err, &status, NULL));
  g_assert_cmpint (status, ==, 0);
  /* the plugin's file name depends on the build dir */
  lines = g_strsplit (out, "\n", -1);
  for (i = 0; lines[i]; i++)
    if (!strstr (lines[i], "Filename"))
      g_string_append_printf (a, "%s\n", lines[i]);
  g_strfreev (lines);
  lines = g_strsplit (doc, "\n", -1);
  for (i = 0; lines[i]; i++)
    if (!strstr (lines[i], "Filename"))
      g_string_append_printf (b, "%s\n", lines[i]);
  g_strfreev (lines);
  if (strcmp (a->str, b->str) != 0)
    g_test_message ("docs/elements/motiondetect.txt is stale: regenerate with "
        "gst-inspect-1.0 motiondetect");
  g_assert_cmpstr (a->str, ==, b->str);
  g_string_free (a, TRUE);
  g_string_free (b, TRUE);
  g_free (doc);
  g_free (out);
  g_free (err);
  g_free (doc_path);
}

int
main (int argc, char **argv)
{
  ef_test_init (&argc, &argv);

  g_test_add_func ("/motiondetect/static-scene-no-event", test_static_scene_no_event);
  g_test_add_func ("/motiondetect/moving-square-event", test_moving_square_event);
  g_test_add_func ("/motiondetect/sensor-noise-no-event", test_sensor_noise_no_event);
  g_test_add_func ("/motiondetect/brightness-step-no-event",
      test_brightness_step_no_event);
  g_test_add_func ("/motiondetect/exclusion-zone", test_exclusion_zone);
  g_test_add_func ("/motiondetect/stopped-object-absorbed", test_stopped_object_absorbed);
  g_test_add_func ("/motiondetect/all-formats-same-result", test_all_formats_same_result);
  g_test_add_func ("/motiondetect/renegotiation", test_renegotiation);
  g_test_add_func ("/motiondetect/gate-mode", test_gate_mode);
  g_test_add_func ("/motiondetect/gate-gap-events", test_gate_gap_events);
  g_test_add_func ("/motiondetect/renegotiation-gate-gaps", test_renegotiation_gate_gaps);
  g_test_add_func ("/motiondetect/gate-quiet-pipeline-plays", test_gate_quiet_pipeline_plays);
  g_test_add_func ("/motiondetect/max-rate-after-quiet", test_max_rate_after_quiet);
  g_test_add_func ("/motiondetect/max-rate-pipeline", test_max_rate_pipeline);
  g_test_add_func ("/motiondetect/analyse-interval", test_analyse_interval);
  g_test_add_func ("/motiondetect/bad-properties-rejected", test_bad_properties_rejected);
  g_test_add_func ("/motiondetect/pipeline-videotestsrc", test_pipeline_videotestsrc);
  g_test_add_func ("/motiondetect/inspect-doc", test_inspect_doc);
  return g_test_run ();
}
