/* A 2-class fire/smoke darknet model (the shape of the public YOLOv4-tiny D-Fire
 * models: classes=2, filters=21 before each [yolo]) loads in yolov4infer, its boxes carry
 * the labels fire/smoke, and the shipped pipelines/situations/fire.conf validates against
 * its names and raises `fire` over time. Weights are generated (yolo-gen-weights): only
 * the architecture matters here; random weights give boxes of random class. */
#include <string.h>
#include <gst/gst.h>
#include <gst/app/gstappsink.h>
#include <gst/video/video.h>

#include "ef-test.h"

static gchar *
two_class_cfg (const gchar * dir)
{
  g_autofree gchar *src = ef_test_shared_path ("models/cfg/yolov4-tiny.cfg");
  g_assert_nonnull (src);
  gchar *text = NULL;
  g_assert_true (g_file_get_contents (src, &text, NULL, NULL));
  g_auto (GStrv) a = g_strsplit (text, "filters=255", -1);
  g_autofree gchar *b = g_strjoinv ("filters=21", a);
  g_auto (GStrv) c = g_strsplit (b, "classes=80", -1);
  g_autofree gchar *d = g_strjoinv ("classes=2", c);
  g_assert_cmpuint (g_strv_length (a), ==, 3);  /* two [yolo] heads */
  gchar *path = g_build_filename (dir, "yolov4-tiny-fire-smoke.cfg", NULL);
  g_assert_true (g_file_set_contents (path, d, -1, NULL));
  g_free (text);
  return path;
}

static void
test_fire_smoke_model (void)
{
  g_autofree gchar *dir = ef_test_mkdtemp ("fire-model");
  g_autofree gchar *cfg = two_class_cfg (dir);
  g_autofree gchar *weights = g_build_filename (dir, "fire-smoke.weights", NULL);
  g_autofree gchar *names = g_build_filename (dir, "fire-smoke.names", NULL);
  g_assert_true (g_file_set_contents (names, "fire\nsmoke\n", -1, NULL));
  g_autofree gchar *gen = g_build_filename (g_getenv ("EDGEFAAS_BUILD_ROOT"), "tests",
      "yolobackend", "yolo-gen-weights", NULL);
  const gchar *argv[] = { gen, cfg, weights, NULL };
  gint status = 1;
  g_autofree gchar *gen_out = NULL;     /* kept off the TAP stream */
  g_assert_true (g_spawn_sync (NULL, (gchar **) argv, NULL, 0, NULL, NULL, &gen_out,
          NULL, &status, NULL));
  g_assert_true (g_spawn_check_wait_status (status, NULL));
  g_test_message ("%s", g_strstrip (gen_out));
  g_autofree gchar *shipped = g_build_filename (ef_test_source_root (), "pipelines",
      "situations", "fire.conf", NULL);
  /* fire.conf (labels fire;smoke for 2 s) as shipped, but random weights score
   * below its min-score 0.35: the copy accepts any score */
  gchar *text = NULL;
  g_assert_true (g_file_get_contents (shipped, &text, NULL, NULL));
  g_assert_nonnull (strstr (text, "min-score=0.35"));
  g_auto (GStrv) parts = g_strsplit (text, "min-score=0.35", -1);
  g_autofree gchar *any = g_strjoinv ("min-score=0", parts);
  g_free (text);
  g_autofree gchar *rules = g_build_filename (dir, "fire.conf", NULL);
  g_assert_true (g_file_set_contents (rules, any, -1, NULL));
  g_autofree gchar *desc = g_strdup_printf ("videotestsrc num-buffers=15 pattern=ball ! "
      "video/x-raw,format=RGB,width=320,height=240,framerate=5/1 ! "
      "yolov4infer config=\"%s\" weights=\"%s\" labels=\"%s\" threshold=0.05 "
      "post-messages=false ! situationdetect name=sit rules=\"%s\" labels=\"%s\" "
      "camera-id=cam ! appsink name=out sync=false", cfg, weights, names, rules, names);
  GError *err = NULL;
  GstElement *pipe = gst_parse_launch (desc, &err);
  g_assert_no_error (err);
  GstElement *sink = gst_bin_get_by_name (GST_BIN (pipe), "out");
  GstBus *bus = gst_element_get_bus (pipe);
  g_assert_cmpint (gst_element_set_state (pipe, GST_STATE_PLAYING), !=,
      GST_STATE_CHANGE_FAILURE);
  guint boxes = 0, fire = 0, smoke = 0, frames = 0;
  GstSample *s;
  while ((s = gst_app_sink_try_pull_sample (GST_APP_SINK (sink), 120 * GST_SECOND))) {
    gpointer it = NULL;
    GstMeta *m;
    frames++;
    while ((m = gst_buffer_iterate_meta_filtered (gst_sample_get_buffer (s), &it,
                GST_VIDEO_REGION_OF_INTEREST_META_API_TYPE))) {
      const gchar *l = g_quark_to_string (((GstVideoRegionOfInterestMeta *) m)->roi_type);
      boxes++;
      fire += g_str_equal (l, "fire");
      smoke += g_str_equal (l, "smoke");
    }
    gst_sample_unref (s);
  }
  GstMessage *msg;
  guint raised = 0;
  while ((msg = gst_bus_pop (bus))) {
    if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ERROR) {
      GError *e = NULL;
      gst_message_parse_error (msg, &e, NULL);
      g_error ("pipeline error: %s", e->message);
    }
    if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ELEMENT
        && gst_structure_has_name (gst_message_get_structure (msg), "situation")) {
      g_assert_cmpstr (gst_structure_get_string (gst_message_get_structure (msg), "name"),
          ==, "fire");
      raised++;
    }
    gst_message_unref (msg);
  }
  g_test_message ("%u frames, %u boxes: %u fire, %u smoke; fire raised %u times", frames,
      boxes, fire, smoke, raised);
  g_assert_cmpuint (frames, ==, 15);
  g_assert_cmpuint (boxes, >, 0);
  g_assert_cmpuint (fire + smoke, ==, boxes);
  /* boxes on every frame for 3 s: one episode, one alert */
  g_assert_cmpuint (raised, ==, 1);
  gst_element_set_state (pipe, GST_STATE_NULL);
  gst_object_unref (bus);
  gst_object_unref (sink);
  gst_object_unref (pipe);
  ef_test_rm_rf (dir);
}

int
main (int argc, char **argv)
{
  gst_init (&argc, &argv);
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/fire-model/two-class-cfg-maps-to-fire-smoke", test_fire_smoke_model);
  return g_test_run ();
}
