/* detectionorder and situationdetect as elements (GstHarness, the plugin from
 * the build tree): order and dedup of out-of-order, repeated detection
 * events; an alert with meta, bus message and an annotated JPEG snapshot;
 * start-time errors naming file, group and key. */
#include <string.h>
#include <glib/gstdio.h>
#include <gst/check/gstharness.h>
#include <gst/video/video.h>

#include "ef-test.h"
#include "edgefaas-event.h"
#include "edgefaas-meta.h"

#define W 320
#define H 240
#define T0 1764633600000000LL   /* 2025-12-02T00:00:00Z */

static GstBuffer *
frame (const gchar * camera, guint64 seq, gint64 t_us, gdouble x0)
{
  GstBuffer *b = gst_buffer_new_allocate (NULL, W * H * 3 / 2, NULL);
  GstMapInfo m;
  gst_buffer_map (b, &m, GST_MAP_WRITE);
  memset (m.data, 0x60, m.size);
  gst_buffer_unmap (b, &m);
  EdgefaasFrameEvent *ev = edgefaas_frame_event_new ();
  ev->camera_id = g_strdup (camera);
  ev->sequence = seq;
  ev->capture_time_us = t_us;
  ev->frame.uri = g_strdup ("file:///frames/x.jpg");
  ev->frame.media_type = g_strdup ("image/jpeg");
  ev->frame.width = W;
  ev->frame.height = H;
  ev->frame.size = 1;
  gst_buffer_add_edgefaas_event_meta (b, ev, NULL);
  EdgefaasDetectionEvent *det = edgefaas_detection_event_new ();
  det->camera_id = g_strdup (camera);
  det->sequence = seq;
  det->width = W;
  det->height = H;
  EdgefaasDetection d = { g_strdup ("person"), 0, 0.8, x0, 0.3, x0 + 0.08, 0.8 };
  g_array_append_val (det->detections, d);
  gst_buffer_add_edgefaas_detection_meta (b, det);
  edgefaas_detection_event_free (det);
  edgefaas_frame_event_free (ev);
  GST_BUFFER_PTS (b) = (t_us - T0) * GST_USECOND;
  return b;
}

static GstHarness *
order_harness (guint latency, guint stale_timeout)
{
  GstElement *e = gst_element_factory_make ("detectionorder", NULL);
  g_assert_nonnull (e);
  g_object_set (e, "latency", latency, "stale-timeout", stale_timeout, NULL);
  GstHarness *h = gst_harness_new_with_element (e, "sink", "src");
  gst_object_unref (e);
  gst_harness_set_src_caps_str (h, "video/x-raw,format=I420,width=320,height=240,"
      "framerate=5/1");
  return h;
}

static guint64
buf_seq (GstBuffer * b)
{
  return gst_buffer_get_edgefaas_event_meta (b)->event->sequence;
}

static void
test_order_dedup (void)
{
  GstHarness *h = order_harness (1000, 0);
  /* 3 replicas: out of order; 4 and 7 delivered twice (at-least-once) */
  const guint64 order[] = { 0, 2, 1, 4, 3, 4, 6, 5, 7, 9, 8, 7, 10, 12, 11, 13, 14 };
  for (guint i = 0; i < G_N_ELEMENTS (order); i++)
    g_assert_cmpint (gst_harness_push (h, frame ("cam1", order[i],
                T0 + order[i] * 200000, 0.1)), ==, GST_FLOW_OK);
  gst_harness_push_event (h, gst_event_new_eos ());
  guint n = 0;
  GstBuffer *b;
  while ((b = gst_harness_try_pull (h))) {
    g_assert_cmpuint (buf_seq (b), ==, n);
    /* the detection became a ROI meta with the DL Streamer param */
    GstVideoRegionOfInterestMeta *roi = gst_buffer_get_video_region_of_interest_meta (b);
    g_assert_nonnull (roi);
    g_assert_cmpstr (g_quark_to_string (roi->roi_type), ==, "person");
    g_assert_cmpuint (roi->x, ==, 32);
    g_assert_nonnull (gst_video_region_of_interest_meta_get_param (roi, "detection"));
    gst_buffer_unref (b);
    n++;
  }
  g_assert_cmpuint (n, ==, 15);
  GstStructure *st = NULL;
  g_object_get (h->element, "stats", &st, NULL);
  guint64 dups = 0, late = 9;
  gst_structure_get_uint64 (st, "duplicates", &dups);
  gst_structure_get_uint64 (st, "late", &late);
  g_assert_cmpuint (dups, ==, 2);
  g_assert_cmpuint (late, ==, 0);
  gst_structure_free (st);
  gst_harness_teardown (h);
}

static void
test_late_dropped_stale_released (void)
{
  GstHarness *h = order_harness (400, 300);
  for (guint64 s = 0; s < 10; s++)
    gst_harness_push (h, frame ("cam1", s, T0 + s * 200000, 0.1));
  /* 0..7 are out (older than 9 by 400 ms); 3 again but 1 µs later = late */
  g_assert_cmpint (gst_harness_push (h, frame ("cam1", 3, T0 + 3 * 200000 + 1, 0.1)), ==,
      GST_FLOW_OK);
  guint n = 0;
  GstBuffer *b;
  while ((b = gst_harness_try_pull (h))) {
    g_assert_cmpuint (buf_seq (b), ==, n++);
    gst_buffer_unref (b);
  }
  g_assert_cmpuint (n, ==, 8);
  /* the camera goes quiet: 8 and 9 leave after the stale timeout, no EOS */
  b = gst_harness_pull (h);
  g_assert_cmpuint (buf_seq (b), ==, 8);
  gst_buffer_unref (b);
  b = gst_harness_pull (h);
  g_assert_cmpuint (buf_seq (b), ==, 9);
  gst_buffer_unref (b);
  GstStructure *st = NULL;
  g_object_get (h->element, "stats", &st, NULL);
  guint64 late = 0;
  gst_structure_get_uint64 (st, "late", &late);
  g_assert_cmpuint (late, ==, 1);
  gst_structure_free (st);
  gst_harness_teardown (h);
}

/* --- situationdetect --- */

static gchar *
write_file (const gchar * dir, const gchar * name, const gchar * text)
{
  gchar *p = g_build_filename (dir, name, NULL);
  g_assert_true (g_file_set_contents (p, text, -1, NULL));
  return p;
}

static const gchar *names_text = "person\nbicycle\ncar\n";
static const gchar *rules_text =
    "[camera:cam1]\n"
    "[zone:danger]\ncamera=cam1\npolygon=0.52,0.5;0.95,0.5;0.95,0.95;0.52,0.95\n"
    "[situation:person_in_danger]\ncondition=in-zone\nlabels=person\nzone=danger\n"
    "seconds=1\n";

/* A tracked person (id 5) walks into the zone; ROI metas as objecttrack
 * leaves them (id + tracking param). */
static GstBuffer *
tracked (guint64 seq, gint64 t_us, gdouble x0)
{
  GstBuffer *b = frame ("cam1", seq, t_us, x0);
  GstVideoRegionOfInterestMeta *roi = gst_buffer_add_video_region_of_interest_meta (b,
      "person", x0 * W, 0.3 * H, 0.08 * W, 0.5 * H);
  roi->id = 5;
  gst_video_region_of_interest_meta_add_param (roi, gst_structure_new ("detection",
          "label", G_TYPE_STRING, "person", "confidence", G_TYPE_DOUBLE, 0.8, NULL));
  gst_video_region_of_interest_meta_add_param (roi, gst_structure_new ("tracking",
          "id", G_TYPE_INT, 5, "state", G_TYPE_STRING, "confirmed",
          "label", G_TYPE_STRING, "person", NULL));
  return b;
}

static void
test_alert_with_snapshot (void)
{
  g_autofree gchar *dir = ef_test_mkdtemp ("situationdetect");
  g_autofree gchar *names = write_file (dir, "coco.names", names_text);
  g_autofree gchar *rules = write_file (dir, "rules.conf", rules_text);
  g_autofree gchar *snaps = g_build_filename (dir, "snapshots", NULL);
  g_mkdir (snaps, 0755);
  GstElement *e = gst_element_factory_make ("situationdetect", NULL);
  g_object_set (e, "rules", rules, "labels", names, "snapshot-dir", snaps, NULL);
  GstHarness *h = gst_harness_new_with_element (e, "sink", "src");
  gst_object_unref (e);
  GstBus *bus = gst_bus_new ();
  gst_element_set_bus (h->element, bus);
  gst_harness_set_src_caps_str (h, "video/x-raw,format=I420,width=320,height=240,"
      "framerate=5/1");
  guint alerts = 0;
  gint alert_frame = -1;
  for (guint i = 0; i < 25; i++) {
    /* x0 from 0.1 to 0.7 in 3 s, then stays: foot point enters at x0 >= 0.48 */
    gdouble x0 = MIN (0.1 + 0.04 * i, 0.7);
    GstBuffer *out = gst_harness_push_and_pull (h, tracked (i, T0 + i * 200000, x0));
    gpointer it = NULL;
    GstEdgefaasSituationMeta *sm;
    while ((sm = (GstEdgefaasSituationMeta *) gst_buffer_iterate_meta_filtered (out, &it,
                GST_EDGEFAAS_SITUATION_META_API_TYPE))) {
      alerts++;
      alert_frame = i;
      g_assert_cmpstr (sm->situation.name, ==, "person_in_danger");
      g_assert_cmpstr (sm->situation.zone, ==, "danger");
      g_assert_cmpuint (sm->situation.tracks->len, ==, 1);
      g_assert_cmpuint (g_array_index (sm->situation.tracks, EdgefaasSituationTrack,
              0).track_id, ==, 5);
      g_assert_cmpint (sm->situation.start_time_us, <, T0 + i * 200000);
      g_assert_nonnull (sm->situation.snapshot_uri);
      /* the snapshot is a JPEG in the frame store layout */
      g_autofree gchar *path = g_filename_from_uri (sm->situation.snapshot_uri, NULL, NULL);
      g_assert_true (g_str_has_prefix (path, snaps) || strstr (path, "snapshots"));
      gchar *data = NULL;
      gsize len = 0;
      g_assert_true (g_file_get_contents (path, &data, &len, NULL));
      g_assert_cmpuint (len, >, 1000);
      g_assert_cmpuint ((guint8) data[0], ==, 0xFF);
      g_assert_cmpuint ((guint8) data[1], ==, 0xD8);
      g_free (data);
    }
    gst_buffer_unref (out);
  }
  g_assert_cmpuint (alerts, ==, 1);
  /* the foot point (x0 + 0.04) enters at i=10 (0.54 >= 0.52), raised 1 s = 5
   * frames later */
  g_assert_cmpint (alert_frame, ==, 15);
  GstMessage *msg;
  guint msgs = 0;
  while ((msg = gst_bus_pop_filtered (bus, GST_MESSAGE_ELEMENT))) {
    const GstStructure *s = gst_message_get_structure (msg);
    if (gst_structure_has_name (s, "situation")) {
      msgs++;
      g_assert_cmpstr (gst_structure_get_string (s, "camera"), ==, "cam1");
      g_assert_cmpstr (gst_structure_get_string (s, "track-ids"), ==, "5");
      g_assert_true (g_str_has_prefix (gst_structure_get_string (s, "snapshot"), "file://"));
    }
    gst_message_unref (msg);
  }
  g_assert_cmpuint (msgs, ==, 1);
  gst_element_set_bus (h->element, NULL);
  gst_object_unref (bus);
  gst_harness_teardown (h);
  ef_test_rm_rf (dir);
}

static void
expect_start_error (const gchar * rules_body, const gchar * needle)
{
  g_autofree gchar *dir = ef_test_mkdtemp ("situationdetect-bad");
  g_autofree gchar *names = write_file (dir, "coco.names", names_text);
  g_autofree gchar *rules = write_file (dir, "rules.conf", rules_body);
  GstElement *e = gst_element_factory_make ("situationdetect", NULL);
  GstBus *bus = gst_bus_new ();
  gst_element_set_bus (e, bus);
  g_object_set (e, "rules", rules, "labels", names, NULL);
  g_assert_cmpint (gst_element_set_state (e, GST_STATE_PAUSED), ==,
      GST_STATE_CHANGE_FAILURE);
  GstMessage *m = gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR);
  g_assert_nonnull (m);
  GError *err = NULL;
  gst_message_parse_error (m, &err, NULL);
  g_test_message ("%s", err->message);
  g_assert_error (err, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS);
  g_assert_nonnull (strstr (err->message, rules));
  g_assert_nonnull (strstr (err->message, needle));
  g_error_free (err);
  gst_message_unref (m);
  gst_element_set_state (e, GST_STATE_NULL);
  gst_element_set_bus (e, NULL);
  gst_object_unref (bus);
  gst_object_unref (e);
  ef_test_rm_rf (dir);
}

static void
test_bad_rules (void)
{
  expect_start_error ("[camera:cam1]\n[situation:fire]\ncondition=label\nlabels=fire\n"
      "seconds=1\n", "[situation:fire] labels: \"fire\" is neither a label");
  expect_start_error ("[camera:cam1]\n[zone:z]\ncamera=cam1\npolygon=0,0;1,1;1,0;0,1\n"
      "[situation:s]\ncondition=in-zone\nzone=z\nseconds=1\n", "self-intersecting");
  expect_start_error ("[camera:cam1]\n[situation:alerts.#]\ncondition=stationary\n"
      "seconds=1\n", "routing key");
}

int
main (int argc, char **argv)
{
  gst_init (&argc, &argv);
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/detectionorder/order-dedup", test_order_dedup);
  g_test_add_func ("/detectionorder/late-dropped-stale-released",
      test_late_dropped_stale_released);
  g_test_add_func ("/situationdetect/alert-with-snapshot", test_alert_with_snapshot);
  g_test_add_func ("/situationdetect/bad-rules", test_bad_rules);
  return g_test_run ();
}
