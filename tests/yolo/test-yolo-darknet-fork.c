/* yolov4infer with the darknet fork's module (libedgefaas-yolo-darknet-fork.so,
 * built with -Ddarknet-fork=PREFIX against AlexeyAB's libdarknet; docs/gpu.md).
 * Registered only in builds given that option, where it must pass: with
 * the fork's CPU build (GPU=0) it
 *  - finds on dog.jpg, with Yolo-Fastest, the detections of the OpenCV backend
 *    (same labels, IoU >= 0.9, both ways);
 *  - loads yolov4.cfg (mish, grouped routes, scale_x_y) with generated weights
 *    and runs a frame, which Debian's 2018 libdarknet module refuses;
 *  - answers device=cuda with a LIBRARY error naming the CPU build.
 * Real plugin from the build tree, real models from $EDGEFAAS_SHARED_DIR. Each
 * case is a subprocess: the darknet module is loaded once per process. */
#include <gst/gst.h>
#include <gst/app/gstappsink.h>
#include <gst/video/video.h>
#include <string.h>

#include "ef-test.h"

#define FAST_DIR "models/yolo-fastest-1.1-coco"
#define DOG_JPG "/usr/share/darknet/data/dog.jpg"
#define MODULE_ENV "EDGEFAAS_YOLO_DARKNET_MODULE"

typedef struct
{
  gchar *label;
  gdouble conf, x0, y0, x1, y1;
} Det;

typedef struct
{
  GArray *dets;                 /* Det */
  guint n_frames;               /* buffers that reached the sink */
  GError *error;
} Result;

static void
result_clear (Result * r)
{
  for (guint i = 0; r->dets && i < r->dets->len; i++)
    g_free (g_array_index (r->dets, Det, i).label);
  if (r->dets)
    g_array_unref (r->dets);
  g_clear_error (&r->error);
}

static void
collect_dets (GstBuffer * b, GArray * dets)
{
  gpointer it = NULL;
  GstMeta *m;
  while ((m = gst_buffer_iterate_meta_filtered (b, &it,
              GST_VIDEO_REGION_OF_INTEREST_META_API_TYPE))) {
    GstStructure *s = gst_video_region_of_interest_meta_get_param (
        (GstVideoRegionOfInterestMeta *) m, "detection");
    Det d = { 0, };
    g_assert_nonnull (s);
    d.label = g_strdup (gst_structure_get_string (s, "label"));
    g_assert_true (gst_structure_get_double (s, "confidence", &d.conf));
    g_assert_true (gst_structure_get_double (s, "x_min", &d.x0));
    g_assert_true (gst_structure_get_double (s, "y_min", &d.y0));
    g_assert_true (gst_structure_get_double (s, "x_max", &d.x1));
    g_assert_true (gst_structure_get_double (s, "y_max", &d.y1));
    g_array_append_val (dets, d);
  }
}

/* filesrc dog.jpg ! jpegdec ! videoconvert ! yolov4infer @props ! appsink */
static Result
detect (const gchar * props)
{
  Result r = { g_array_new (FALSE, FALSE, sizeof (Det)), 0, NULL };
  g_autofree gchar *desc = g_strdup_printf ("filesrc location=%s ! jpegdec ! "
      "videoconvert ! yolov4infer %s ! appsink name=sink sync=false", DOG_JPG,
      props);
  GError *err = NULL;
  GstElement *pipe = gst_parse_launch (desc, &err);
  g_assert_no_error (err);
  GstElement *sink = gst_bin_get_by_name (GST_BIN (pipe), "sink");
  gint64 deadline = g_get_monotonic_time () + 240 * G_USEC_PER_SEC;
  GstMessage *msg = NULL;

  g_assert_true (g_file_test (DOG_JPG, G_FILE_TEST_EXISTS));
  gst_element_set_state (pipe, GST_STATE_PLAYING);
  while (!gst_app_sink_is_eos (GST_APP_SINK (sink))) {
    GstSample *s = gst_app_sink_try_pull_sample (GST_APP_SINK (sink),
        100 * GST_MSECOND);
    if (!s) {
      msg = gst_bus_pop_filtered (GST_ELEMENT_BUS (pipe), GST_MESSAGE_ERROR);
      if (msg)
        break;
      g_assert_cmpint (g_get_monotonic_time (), <, deadline);
      continue;
    }
    collect_dets (gst_sample_get_buffer (s), r.dets);
    r.n_frames++;
    gst_sample_unref (s);
  }
  if (!msg)
    msg = gst_bus_pop_filtered (GST_ELEMENT_BUS (pipe), GST_MESSAGE_ERROR);
  if (msg) {
    gst_message_parse_error (msg, &r.error, NULL);
    gst_message_unref (msg);
  }
  gst_element_set_state (pipe, GST_STATE_NULL);
  gst_object_unref (sink);
  gst_object_unref (pipe);
  return r;
}

static gchar *
fast_props (const gchar * backend, const gchar * device)
{
  g_autofree gchar *cfg = ef_test_shared_path (FAST_DIR "/yolo-fastest-1.1.cfg");
  g_autofree gchar *weights =
      ef_test_shared_path (FAST_DIR "/yolo-fastest-1.1.weights");
  g_autofree gchar *names = ef_test_shared_path (FAST_DIR "/coco.names");
  g_assert_nonnull (cfg);
  return g_strdup_printf ("backend=%s device=%s config=\"%s\" weights=\"%s\" "
      "labels=\"%s\"", backend, device, cfg, weights, names);
}

static gdouble
iou (const Det * a, const Det * b)
{
  gdouble ix = MIN (a->x1, b->x1) - MAX (a->x0, b->x0);
  gdouble iy = MIN (a->y1, b->y1) - MAX (a->y0, b->y0);
  gdouble inter = ix > 0 && iy > 0 ? ix * iy : 0;
  gdouble uni = (a->x1 - a->x0) * (a->y1 - a->y0)
      + (b->x1 - b->x0) * (b->y1 - b->y0) - inter;
  return uni > 0 ? inter / uni : 0;
}

/* Every detection of @a with confidence >= @min_conf has one of @b with its
 * label and IoU >= 0.9. Returns how many were matched. */
static guint
assert_covered (GArray * a, GArray * b, gdouble min_conf, const gchar * what)
{
  guint n = 0;
  for (guint i = 0; i < a->len; i++) {
    const Det *d = &g_array_index (a, Det, i);
    gdouble best = 0;
    if (d->conf < min_conf)
      continue;
    for (guint j = 0; j < b->len; j++) {
      const Det *e = &g_array_index (b, Det, j);
      if (!g_strcmp0 (d->label, e->label))
        best = MAX (best, iou (d, e));
    }
    g_test_message ("%s: %s %.3f [%.3f %.3f %.3f %.3f] best IoU %.3f", what,
        d->label, d->conf, d->x0, d->y0, d->x1, d->y1, best);
    g_assert_cmpfloat (best, >=, 0.9);
    n++;
  }
  return n;
}

static void
test_fast_equals_opencv (void)
{
  if (g_test_subprocess ()) {
    g_autofree gchar *p_cv = fast_props ("opencv", "cpu");
    g_autofree gchar *p_dn = fast_props ("darknet", "cpu");
    g_setenv (MODULE_ENV, FORK_MODULE, TRUE);
    Result cv = detect (p_cv);
    Result dn = detect (p_dn);
    g_assert_no_error (cv.error);
    g_assert_no_error (dn.error);
    g_test_message ("opencv: %u detections, darknet fork: %u", cv.dets->len,
        dn.dets->len);
    /* dog, bicycle and truck are in the picture: something must be found */
    g_assert_cmpuint (assert_covered (cv.dets, dn.dets, 0.3, "opencv->fork"),
        >=, 2);
    g_assert_cmpuint (assert_covered (dn.dets, cv.dets, 0.3, "fork->opencv"),
        >=, 2);
    result_clear (&cv);
    result_clear (&dn);
    return;
  }
  g_test_trap_subprocess (NULL, 300 * G_USEC_PER_SEC, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_passed ();
}

/* yolov4.cfg with seeded weights of its exact size (yolo-gen-weights). */
static gchar *
yolov4_props (const gchar * dir)
{
  g_autofree gchar *cfg = ef_test_shared_path ("models/cfg/yolov4.cfg");
  g_autofree gchar *names = ef_test_shared_path (FAST_DIR "/coco.names");
  g_autofree gchar *weights = g_build_filename (dir, "yolov4.weights", NULL);
  g_autofree gchar *gen = g_build_filename (ef_test_build_root (), "tests",
      "yolobackend", "yolo-gen-weights", NULL);
  gchar *argv[] = { gen, (gchar *) "--seed", (gchar *) "1", cfg, weights, NULL };
  gint status = -1;
  GError *err = NULL;

  g_assert_nonnull (cfg);
  g_assert_true (g_file_test (gen, G_FILE_TEST_IS_EXECUTABLE));
  g_assert_true (g_spawn_sync (NULL, argv, NULL, G_SPAWN_STDOUT_TO_DEV_NULL |
          G_SPAWN_STDERR_TO_DEV_NULL, NULL, NULL, NULL, NULL, &status, &err));
  g_assert_no_error (err);
  g_assert_true (g_spawn_check_wait_status (status, NULL));
  /* 320: a multiple of 32 keeps the routes joined; cheaper than the cfg's 608 */
  return g_strdup_printf ("backend=darknet device=cpu config=\"%s\" "
      "weights=\"%s\" labels=\"%s\" input-size=320 threshold=0.99", cfg,
      weights, names);
}

static void
test_yolov4_runs (void)
{
  if (g_test_subprocess ()) {
    g_autofree gchar *dir = ef_test_mkdtemp ("yolo-fork-v4");
    g_autofree gchar *props = yolov4_props (dir);
    g_setenv (MODULE_ENV, FORK_MODULE, TRUE);
    gint64 t0 = g_get_monotonic_time ();
    Result r = detect (props);
    g_test_message ("yolov4.cfg on the fork (CPU, 320x320, random weights): "
        "%u detections, %.1f s", r.dets->len,
        (g_get_monotonic_time () - t0) / 1e6);
    g_assert_no_error (r.error);
    g_assert_cmpuint (r.n_frames, ==, 1);
    result_clear (&r);
    ef_test_rm_rf (dir);
    return;
  }
  g_test_trap_subprocess (NULL, 300 * G_USEC_PER_SEC, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_passed ();
}

/* The contrast: the same element and files through Debian's 2018 module. */
static void
test_yolov4_refused_by_debian_module (void)
{
  if (g_test_subprocess ()) {
    g_autofree gchar *dir = ef_test_mkdtemp ("yolo-2018-v4");
    g_autofree gchar *props = yolov4_props (dir);
    g_setenv (MODULE_ENV, DEBIAN_MODULE, TRUE);
    Result r = detect (props);
    g_assert_nonnull (r.error);
    g_test_message ("yolov4.cfg on Debian's libdarknet: %s", r.error->message);
    g_assert_cmpuint (r.dets->len, ==, 0);
    result_clear (&r);
    ef_test_rm_rf (dir);
    return;
  }
  g_test_trap_subprocess (NULL, 300 * G_USEC_PER_SEC, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_passed ();
}

static void
test_cuda_on_cpu_build (void)
{
  if (g_test_subprocess ()) {
    g_autofree gchar *props = fast_props ("darknet", "cuda");
    g_setenv (MODULE_ENV, FORK_MODULE, TRUE);
    Result r = detect (props);
    g_assert_nonnull (r.error);
    g_test_message ("device=cuda: %s", r.error->message);
    g_assert_error (r.error, GST_LIBRARY_ERROR, GST_LIBRARY_ERROR_SETTINGS);
    g_assert_nonnull (strstr (r.error->message, "device=cuda"));
    g_assert_nonnull (strstr (r.error->message, "CPU build (GPU=0)"));
    g_assert_cmpuint (r.dets->len, ==, 0);
    result_clear (&r);
    return;
  }
  g_test_trap_subprocess (NULL, 120 * G_USEC_PER_SEC, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_passed ();
}

int
main (int argc, char **argv)
{
  ef_test_init (&argc, &argv);
  g_test_add_func ("/yolo-darknet-fork/yolo-fastest-equals-opencv",
      test_fast_equals_opencv);
  g_test_add_func ("/yolo-darknet-fork/yolov4-runs", test_yolov4_runs);
#ifdef DEBIAN_MODULE
  g_test_add_func ("/yolo-darknet-fork/yolov4-refused-by-2018-module",
      test_yolov4_refused_by_debian_module);
#endif
  g_test_add_func ("/yolo-darknet-fork/cuda-on-cpu-build",
      test_cuda_on_cpu_build);
  return g_test_run ();
}
