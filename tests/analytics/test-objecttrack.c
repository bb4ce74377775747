/* objecttrack element: GstHarness with detection metas made in C, and its gst-inspect doc. */
#include "ef-test.h"

#include <math.h>
#include <string.h>
#include <gst/check/gstharness.h>
#include <gst/video/video.h>

#include "edgefaas-meta.h"
#include "tracker.h"

#define CAPS "video/x-raw,format=I420,width=640,height=360,framerate=10/1"

static GstHarness *
harness_new (const gchar * props)
{
  GstHarness *h = gst_harness_new ("objecttrack");
  gchar **kv = g_strsplit (props ? props : "", " ", -1);
  for (guint i = 0; kv[i]; i++) {
    gchar **p = g_strsplit (kv[i], "=", 2);
    if (p[0] && p[1])
      gst_util_set_object_arg (G_OBJECT (h->element), p[0], p[1]);
    g_strfreev (p);
  }
  g_strfreev (kv);
  gst_harness_set_src_caps_str (h, CAPS);
  return h;
}

/* A DL Streamer style detection: ROI meta of roi type @label with a `detection` param. */
static GstVideoRegionOfInterestMeta *
add_detection (GstBuffer * buf, const gchar * label, guint x, guint y, guint w, guint h,
    gdouble confidence)
{
  GstVideoRegionOfInterestMeta *roi = gst_buffer_add_video_region_of_interest_meta (buf,
      label, x, y, w, h);
  gst_video_region_of_interest_meta_add_param (roi, gst_structure_new ("detection",
          "label", G_TYPE_STRING, label, "label_id", G_TYPE_INT, 0,
          "confidence", G_TYPE_DOUBLE, confidence,
          "x_min", G_TYPE_DOUBLE, x / 640.0, "y_min", G_TYPE_DOUBLE, y / 360.0,
          "x_max", G_TYPE_DOUBLE, (x + w) / 640.0, "y_max", G_TYPE_DOUBLE, (y + h) / 360.0,
          NULL));
  return roi;
}

static GstBuffer *
buffer_at (gdouble t)
{
  GstBuffer *buf = gst_buffer_new ();
  GST_BUFFER_PTS (buf) = (GstClockTime) (t * GST_SECOND + 0.5);
  GST_BUFFER_DURATION (buf) = GST_SECOND / 10;
  return buf;
}

static void
add_event_meta (GstBuffer * buf, const gchar * camera, gint64 capture_us)
{
  EdgefaasFrameEvent *ev = edgefaas_frame_event_new ();
  ev->camera_id = g_strdup (camera);
  ev->capture_time_us = capture_us;
  gst_buffer_add_edgefaas_event_meta (buf, ev, NULL);
  edgefaas_frame_event_free (ev);
}

/* The n-th ROI meta of the buffer (in attach order). */
static GstVideoRegionOfInterestMeta *
nth_roi (GstBuffer * buf, guint n)
{
  gpointer iter = NULL;
  GstMeta *m;
  guint i = 0;
  while ((m = gst_buffer_iterate_meta_filtered (buf, &iter,
              GST_VIDEO_REGION_OF_INTEREST_META_API_TYPE)))
    if (i++ == n)
      return (GstVideoRegionOfInterestMeta *) m;
  return NULL;
}

static GstStructure *
tracking_of (GstBuffer * buf, guint n)
{
  GstVideoRegionOfInterestMeta *roi = nth_roi (buf, n);
  g_assert_nonnull (roi);
  return gst_video_region_of_interest_meta_get_param (roi, "tracking");
}

/* A person moving right at 50 px/s, 10 fps: same id on every buffer, the `tracking`
 * structure has every documented field with the right values; the motion ROI of the
 * buffer is not touched. */
static void
test_moving_object (void)
{
  GstHarness *h = harness_new ("min-hits=3");
  gint id = 0;
  for (guint f = 0; f < 30; f++) {
    gdouble t = f * 0.1;
    GstBuffer *buf = buffer_at (t);
    GstVideoRegionOfInterestMeta *motion = gst_buffer_add_video_region_of_interest_meta (buf,
        "motion", 0, 0, 640, 360);
    gst_video_region_of_interest_meta_add_param (motion, gst_structure_new ("motion",
            "score", G_TYPE_DOUBLE, 0.5, NULL));
    add_detection (buf, "person", (guint) (100 + 50 * t), 100, 40, 120, 0.9);
    buf = gst_harness_push_and_pull (h, buf);
    g_assert_nonnull (buf);
    g_assert_null (tracking_of (buf, 0));       /* motion box: untouched */
    g_assert_cmpint (nth_roi (buf, 0)->id, ==, 0);
    GstStructure *tr = tracking_of (buf, 1);
    g_assert_nonnull (tr);
    gint tid;
    g_assert_true (gst_structure_get_int (tr, "id", &tid));
    g_assert_cmpint (nth_roi (buf, 1)->id, ==, tid);
    if (f == 0)
      id = tid;
    g_assert_cmpint (tid, ==, id);
    g_assert_cmpstr (gst_structure_get_string (tr, "state"), ==,
        f < 2 ? "tentative" : "confirmed");
    g_assert_cmpstr (gst_structure_get_string (tr, "label"), ==, "person");
    g_assert_cmpstr (gst_structure_get_string (tr, "camera-id"), ==, "default");
    gdouble age, vx, vy, stationary, median;
    guint hits;
    g_assert_true (gst_structure_get_double (tr, "age", &age));
    g_assert_true (gst_structure_get_double (tr, "velocity-x", &vx));
    g_assert_true (gst_structure_get_double (tr, "velocity-y", &vy));
    g_assert_true (gst_structure_get_double (tr, "stationary", &stationary));
    g_assert_true (gst_structure_get_double (tr, "median-score", &median));
    g_assert_true (gst_structure_get_uint (tr, "hits", &hits));
    g_assert_cmpfloat (fabs (age - t), <, 1e-6);
    g_assert_cmpuint (hits, ==, f + 1);
    g_assert_cmpfloat (fabs (median - 0.9), <, 1e-9);
    if (f == 29) {
      g_assert_cmpfloat (fabs (vx - 50), <, 5);
      g_assert_cmpfloat (fabs (vy), <, 2);
      g_assert_cmpfloat (stationary, ==, 0);
    }
    gst_buffer_unref (buf);
  }
  gst_harness_teardown (h);
}

/* Two cameras through one element (interleaved, as an analytics pipeline sees them):
 * one tracker each. The same boxes moving in opposite directions would swap or break
 * tracks if they shared one. */
static void
test_cameras_separate (void)
{
  GstHarness *h = harness_new (NULL);
  gint ids[2] = { 0, 0 };
  gint64 t0 = 1700000000000000;
  for (guint f = 0; f < 20; f++) {
    for (guint c = 0; c < 2; c++) {
      gdouble t = f * 0.1;
      GstBuffer *buf = buffer_at (t);
      add_event_meta (buf, c ? "cam-b" : "cam-a", t0 + (gint64) (t * 1e6));
      guint x = (guint) (c ? 400 - 80 * t : 200 + 80 * t);
      add_detection (buf, "car", x, 200, 120, 60, 0.8);
      buf = gst_harness_push_and_pull (h, buf);
      GstStructure *tr = tracking_of (buf, 0);
      g_assert_nonnull (tr);
      g_assert_cmpstr (gst_structure_get_string (tr, "camera-id"), ==, c ? "cam-b" : "cam-a");
      gint tid;
      gst_structure_get_int (tr, "id", &tid);
      if (f == 0)
        ids[c] = tid;
      g_assert_cmpint (tid, ==, ids[c]);
      gdouble vx;
      gst_structure_get_double (tr, "velocity-x", &vx);
      if (f == 19)
        g_assert_cmpfloat (fabs (vx - (c ? -80 : 80)), <, 8);
      gst_buffer_unref (buf);
    }
  }
  /* both trackers started at id 1: ids are per camera */
  g_assert_cmpint (ids[0], ==, 1);
  g_assert_cmpint (ids[1], ==, 1);
  gst_harness_teardown (h);
}

/* With an event meta, time is the capture time: PTS that advance at a different pace
 * (re-stamped after the AMQP hop) do not change the velocity; time-source=pts uses
 * them. */
static void
test_time_source (void)
{
  for (guint k = 0; k < 2; k++) {
    GstHarness *h = harness_new (k ? "time-source=pts" : NULL);
    gdouble vx = 0;
    for (guint f = 0; f < 30; f++) {
      gdouble capture = f * 0.1, pts = f * 0.2;
      GstBuffer *buf = buffer_at (pts);
      add_event_meta (buf, "cam", 1700000000000000 + (gint64) (capture * 1e6));
      add_detection (buf, "person", (guint) (100 + 40 * capture), 100, 40, 120, 0.9);
      buf = gst_harness_push_and_pull (h, buf);
      gst_structure_get_double (tracking_of (buf, 0), "velocity-x", &vx);
      gst_buffer_unref (buf);
    }
    g_assert_cmpfloat (fabs (vx - (k ? 20 : 40)), <, 4);
    gst_harness_teardown (h);
  }
}

/* A late buffer (earlier time than the last: out of order, or a redelivery) passes
 * untracked and does not disturb the track. */
static void
test_late_buffer (void)
{
  GstHarness *h = harness_new (NULL);
  for (guint f = 0; f < 10; f++) {
    GstBuffer *buf = buffer_at (f * 0.1);
    add_detection (buf, "person", 100 + 5 * f, 100, 40, 120, 0.9);
    gst_buffer_unref (gst_harness_push_and_pull (h, buf));
  }
  GstBuffer *buf = buffer_at (0.35);
  add_detection (buf, "person", 117, 100, 40, 120, 0.9);
  buf = gst_harness_push_and_pull (h, buf);
  g_assert_nonnull (buf);
  g_assert_null (tracking_of (buf, 0));
  g_assert_cmpint (nth_roi (buf, 0)->id, ==, 0);
  gst_buffer_unref (buf);
  buf = buffer_at (1.0);
  add_detection (buf, "person", 150, 100, 40, 120, 0.9);
  buf = gst_harness_push_and_pull (h, buf);
  guint hits;
  gint id;
  gst_structure_get_uint (tracking_of (buf, 0), "hits", &hits);
  gst_structure_get_int (tracking_of (buf, 0), "id", &id);
  g_assert_cmpuint (hits, ==, 11);
  g_assert_cmpint (id, ==, 1);
  gst_buffer_unref (buf);
  gst_harness_teardown (h);
}

/* A new frame size forgets the tracks (boxes of two sizes do not compare): the same
 * box gets a new id; a caps event with the same size does not. */
static void
test_caps_change (void)
{
  GstHarness *h = harness_new (NULL);
  gint id = 0;
  for (guint f = 0; f < 5; f++) {
    GstBuffer *buf = buffer_at (f * 0.1);
    add_detection (buf, "person", 100, 100, 40, 120, 0.9);
    buf = gst_harness_push_and_pull (h, buf);
    gst_structure_get_int (tracking_of (buf, 0), "id", &id);
    gst_buffer_unref (buf);
  }
  gst_harness_set_src_caps_str (h, "video/x-raw,format=I420,width=640,height=360,"
      "framerate=5/1");
  GstBuffer *buf = buffer_at (0.5);
  add_detection (buf, "person", 100, 100, 40, 120, 0.9);
  buf = gst_harness_push_and_pull (h, buf);
  gint same;
  gst_structure_get_int (tracking_of (buf, 0), "id", &same);
  g_assert_cmpint (same, ==, id);
  gst_buffer_unref (buf);

  gst_harness_set_src_caps_str (h, "video/x-raw,format=I420,width=1280,height=720,"
      "framerate=10/1");
  buf = buffer_at (0.6);
  add_detection (buf, "person", 100, 100, 40, 120, 0.9);
  buf = gst_harness_push_and_pull (h, buf);
  gint fresh;
  gst_structure_get_int (tracking_of (buf, 0), "id", &fresh);
  g_assert_cmpint (fresh, >, id);
  GstStructure *tr = tracking_of (buf, 0);
  g_assert_cmpstr (gst_structure_get_string (tr, "state"), ==, "tentative");
  gst_buffer_unref (buf);
  gst_harness_teardown (h);
}

/* Properties: defaults, ranges, and a change while PLAYING applies from the next buffer
 * (min-hits 3 → 1: a new box is confirmed at once). */
static void
test_properties (void)
{
  GstHarness *h = harness_new (NULL);
  GstElement *e = h->element;
  guint min_hits, max_tracks;
  gdouble max_age, high, low;
  gchar *camera;
  g_object_get (e, "min-hits", &min_hits, "max-age", &max_age, "high-threshold", &high,
      "low-threshold", &low, "max-tracks", &max_tracks, "camera-id", &camera, NULL);
  g_assert_cmpuint (min_hits, ==, 3);
  g_assert_cmpfloat (max_age, ==, 2.0);
  g_assert_cmpfloat (high, ==, 0.5);
  g_assert_cmpfloat (low, ==, 0.1);
  g_assert_cmpuint (max_tracks, ==, 1024);
  g_assert_cmpstr (camera, ==, "default");
  g_free (camera);
  GParamSpec *ps = g_object_class_find_property (G_OBJECT_GET_CLASS (e), "max-age");
  g_assert_true (ps->flags & GST_PARAM_MUTABLE_PLAYING);

  g_object_set (e, "min-hits", 1, "camera-id", "gate-3", NULL);
  GstBuffer *buf = buffer_at (0);
  add_detection (buf, "person", 100, 100, 40, 120, 0.9);
  buf = gst_harness_push_and_pull (h, buf);
  GstStructure *tr = tracking_of (buf, 0);
  g_assert_cmpstr (gst_structure_get_string (tr, "state"), ==, "confirmed");
  g_assert_cmpstr (gst_structure_get_string (tr, "camera-id"), ==, "gate-3");
  gst_buffer_unref (buf);
  gst_harness_teardown (h);
}

/* A flood of 500 boxes per buffer with max-tracks=100: every buffer comes out, at most
 * 100 distinct live ids, no crash. A buffer tracked twice keeps one `tracking`. */
static void
test_flood (void)
{
  GstHarness *h = harness_new ("max-tracks=100");
  GRand *r = g_rand_new_with_seed (3);
  for (guint f = 0; f < 10; f++) {
    GstBuffer *buf = buffer_at (f * 0.1);
    for (guint i = 0; i < 500; i++)
      add_detection (buf, "person", g_rand_int_range (r, 0, 600), g_rand_int_range (r, 0,
              320), g_rand_int_range (r, 4, 40), g_rand_int_range (r, 4, 40),
          g_rand_double_range (r, 0.5, 1.0));
    buf = gst_harness_push_and_pull (h, buf);
    g_assert_nonnull (buf);
    GHashTable *ids = g_hash_table_new (NULL, NULL);
    for (guint i = 0; i < 500; i++) {
      GstVideoRegionOfInterestMeta *roi = nth_roi (buf, i);
      if (roi->id)
        g_hash_table_add (ids, GINT_TO_POINTER (roi->id));
    }
    g_assert_cmpuint (g_hash_table_size (ids), <=, 100);
    g_assert_cmpuint (g_hash_table_size (ids), >, 0);
    g_hash_table_unref (ids);
    gst_buffer_unref (buf);
  }
  g_rand_free (r);
  gst_harness_teardown (h);

  /* twice through objecttrack */
  h = gst_harness_new_parse ("objecttrack ! objecttrack");
  gst_harness_set_src_caps_str (h, CAPS);
  GstBuffer *buf = buffer_at (0);
  add_detection (buf, "person", 100, 100, 40, 120, 0.9);
  buf = gst_harness_push_and_pull (h, buf);
  GstVideoRegionOfInterestMeta *roi = nth_roi (buf, 0);
  guint n = 0;
  for (GList * l = roi->params; l; l = l->next)
    n += gst_structure_has_name (l->data, "tracking");
  g_assert_cmpuint (n, ==, 1);
  gst_buffer_unref (buf);
  gst_harness_teardown (h);
}

/* A flush forgets the tracks. */
static void
test_flush (void)
{
  GstHarness *h = harness_new (NULL);
  for (guint f = 0; f < 3; f++) {
    GstBuffer *buf = buffer_at (f * 0.1);
    add_detection (buf, "person", 100, 100, 40, 120, 0.9);
    gst_buffer_unref (gst_harness_push_and_pull (h, buf));
  }
  g_assert_true (gst_harness_push_event (h, gst_event_new_flush_start ()));
  g_assert_true (gst_harness_push_event (h, gst_event_new_flush_stop (TRUE)));
  GstSegment seg;
  gst_segment_init (&seg, GST_FORMAT_TIME);
  g_assert_true (gst_harness_push_event (h, gst_event_new_segment (&seg)));
  GstBuffer *buf = buffer_at (0.0);     /* time starts again: accepted after the flush */
  add_detection (buf, "person", 100, 100, 40, 120, 0.9);
  buf = gst_harness_push_and_pull (h, buf);
  gint id;
  g_assert_nonnull (tracking_of (buf, 0));
  gst_structure_get_int (tracking_of (buf, 0), "id", &id);
  g_assert_cmpint (id, ==, 2);          /* a new track; ids are never given twice */
  g_assert_cmpstr (gst_structure_get_string (tracking_of (buf, 0), "state"), ==, "tentative");
  gst_buffer_unref (buf);
  gst_harness_teardown (h);
}

/* gst-inspect output matches the committed docs/elements/objecttrack.txt (all lines
 * but the build-dependent Filename). */
static gchar *
without_filename (const gchar * text)
{
  GString *o = g_string_new (NULL);
  gchar **lines = g_strsplit (text, "\n", -1);
  for (guint i = 0; lines[i]; i++)
    if (!strstr (lines[i], "Filename"))
      g_string_append_printf (o, "%s\n", lines[i]);
  g_strfreev (lines);
  return g_string_free (o, FALSE);
}

static void
test_inspect_doc (void)
{
  g_autofree gchar *doc_path = g_build_filename (ef_test_source_root (), "docs", "elements",
      "objecttrack.txt", NULL);
  g_autofree gchar *doc = NULL, *out = NULL, *err = NULL;
  gchar *argv[] = { (gchar *) "gst-inspect-1.0", (gchar *) "objecttrack", NULL };
  gint status = 0;
  g_assert_true (g_file_get_contents (doc_path, &doc, NULL, NULL));
  g_assert_true (g_spawn_sync (NULL, argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, &out,
          &err, &status, NULL));
  g_assert_cmpint (status, ==, 0);
  g_autofree gchar *a = without_filename (out), *b = without_filename (doc);
  if (strcmp (a, b))
    g_test_message ("docs/elements/objecttrack.txt is stale: regenerate with "
        "gst-inspect-1.0 objecttrack > docs/elements/objecttrack.txt");
  g_assert_cmpstr (a, ==, b);
}

int
main (int argc, char **argv)
{
  ef_test_init (&argc, &argv);
  g_test_add_func ("/objecttrack/moving-object", test_moving_object);
  g_test_add_func ("/objecttrack/cameras-separate", test_cameras_separate);
  g_test_add_func ("/objecttrack/time-source", test_time_source);
  g_test_add_func ("/objecttrack/late-buffer", test_late_buffer);
  g_test_add_func ("/objecttrack/caps-change", test_caps_change);
  g_test_add_func ("/objecttrack/properties", test_properties);
  g_test_add_func ("/objecttrack/flood", test_flood);
  g_test_add_func ("/objecttrack/flush", test_flush);
  g_test_add_func ("/objecttrack/inspect-doc", test_inspect_doc);
  return g_test_run ();
}
