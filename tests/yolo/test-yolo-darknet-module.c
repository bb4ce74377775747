/* yolov4infer's darknet backend is a module loaded on first use (issue 16.5):
 * the plugin itself does not link libdarknet, so a node without the module,
 * or with a CUDA build of libdarknet but no NVIDIA driver (libcuda.so.1),
 * still runs the OpenCV backend, and backend=darknet fails there with a
 * LIBRARY error naming the loader's reason. Real plugin from the build tree,
 * real model (Yolo-Fastest from ../shared/models), real image (Debian's
 * darknet dog.jpg). Each case runs in a subprocess: the module is loaded (or
 * its failure remembered) once per process. */
#include <gst/gst.h>
#include <gst/app/gstappsink.h>
#include <gst/video/video.h>
#include <string.h>

#include "ef-test.h"

#define MODEL_DIR "models/yolo-fastest-1.1-coco"
#define DOG_JPG "/usr/share/darknet/data/dog.jpg"
#define MODULE_ENV "EDGEFAAS_YOLO_DARKNET_MODULE"

typedef struct
{
  guint n_detections;
  gboolean saw_dog;
  GError *error;
} Result;

/* filesrc ! jpegdec ! videoconvert ! yolov4infer backend=@backend ! appsink */
static Result
detect_dog (const gchar * backend)
{
  Result r = { 0, };
  g_autofree gchar *cfg = ef_test_shared_path (MODEL_DIR "/yolo-fastest-1.1.cfg");
  g_autofree gchar *weights =
      ef_test_shared_path (MODEL_DIR "/yolo-fastest-1.1.weights");
  g_autofree gchar *names = ef_test_shared_path (MODEL_DIR "/coco.names");
  g_assert_true (g_file_test (DOG_JPG, G_FILE_TEST_EXISTS));
  g_assert_nonnull (cfg);
  g_autofree gchar *desc = g_strdup_printf ("filesrc location=%s ! jpegdec ! "
      "videoconvert ! yolov4infer backend=%s config=\"%s\" weights=\"%s\" "
      "labels=\"%s\" ! appsink name=sink sync=false", DOG_JPG, backend, cfg,
      weights, names);
  GError *err = NULL;
  GstElement *pipe = gst_parse_launch (desc, &err);
  g_assert_no_error (err);
  GstElement *sink = gst_bin_get_by_name (GST_BIN (pipe), "sink");

  gst_element_set_state (pipe, GST_STATE_PLAYING);
  /* until EOS or an error (appsink does not wake up on an upstream error) */
  gint64 deadline = g_get_monotonic_time () + 120 * G_USEC_PER_SEC;
  GstMessage *msg = NULL;
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
    gpointer it = NULL;
    GstMeta *m;
    while ((m = gst_buffer_iterate_meta_filtered (gst_sample_get_buffer (s),
                &it, GST_VIDEO_REGION_OF_INTEREST_META_API_TYPE))) {
      GstVideoRegionOfInterestMeta *roi = (GstVideoRegionOfInterestMeta *) m;
      r.n_detections++;
      r.saw_dog |= roi->roi_type == g_quark_from_string ("dog");
    }
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

/* Whether a library whose file name contains @needle is mapped in this process. */
static gboolean
mapped (const gchar * needle)
{
  g_autofree gchar *maps = NULL;
  g_assert_true (g_file_get_contents ("/proc/self/maps", &maps, NULL, NULL));
  return strstr (maps, needle) != NULL;
}

static void
assert_opencv_works (void)
{
  Result r = detect_dog ("opencv");
  g_assert_no_error (r.error);
  g_assert_true (r.saw_dog);
}

static void
assert_darknet_refused (const gchar * needle)
{
  Result r = detect_dog ("darknet");
  g_assert_nonnull (r.error);
  g_test_message ("backend=darknet -> %s: %s",
      g_quark_to_string (r.error->domain), r.error->message);
  g_assert_error (r.error, GST_LIBRARY_ERROR, GST_LIBRARY_ERROR_SETTINGS);
  g_assert_nonnull (strstr (r.error->message,
          "darknet backend module cannot be loaded"));
  g_assert_nonnull (strstr (r.error->message, needle));
  g_assert_cmpuint (r.n_detections, ==, 0);
  g_error_free (r.error);
}

/* The plugin loads and runs OpenCV without libdarknet in the process. */
static void
test_plugin_does_not_link_darknet (void)
{
  if (g_test_subprocess ()) {
    g_setenv (MODULE_ENV, "/nonexistent/libedgefaas-yolo-darknet.so", TRUE);
    assert_opencv_works ();
    g_assert_false (mapped ("libdarknet"));
    return;
  }
  g_test_trap_subprocess (NULL, 300 * G_USEC_PER_SEC, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_passed ();
}

static void
test_missing_module (void)
{
  if (g_test_subprocess ()) {
    g_setenv (MODULE_ENV, "/nonexistent/libedgefaas-yolo-darknet.so", TRUE);
    assert_darknet_refused ("/nonexistent/libedgefaas-yolo-darknet.so");
    /* the failure is remembered and the OpenCV backend is unaffected */
    assert_opencv_works ();
    assert_darknet_refused ("No such file");
    return;
  }
  g_test_trap_subprocess (NULL, 300 * G_USEC_PER_SEC, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_passed ();
}

/* A module linked against libcuda.so.1 copied where its build rpath does not
 * reach: the loader fails on libcuda.so.1 like a CUDA darknet on a CPU node. */
static void
test_module_without_libcuda (void)
{
  if (g_test_subprocess ()) {
    g_autofree gchar *dir = ef_test_mkdtemp ("yolo-nocuda");
    g_autofree gchar *copy =
        g_build_filename (dir, "libedgefaas-yolo-darknet.so", NULL);
    g_autofree gchar *bytes = NULL;
    gsize len;
    g_assert_true (g_file_get_contents (NEEDS_LIBCUDA_MODULE, &bytes, &len,
            NULL));
    g_assert_true (g_file_set_contents (copy, bytes, len, NULL));
    g_setenv (MODULE_ENV, copy, TRUE);
    assert_darknet_refused ("libcuda.so.1");
    assert_opencv_works ();
    ef_test_rm_rf (dir);
    return;
  }
  g_test_trap_subprocess (NULL, 300 * G_USEC_PER_SEC, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_passed ();
}

/* A file that is not a shared object at all. */
static void
test_broken_module (void)
{
  if (g_test_subprocess ()) {
    g_autofree gchar *dir = ef_test_mkdtemp ("yolo-broken");
    g_autofree gchar *bad =
        g_build_filename (dir, "libedgefaas-yolo-darknet.so", NULL);
    g_assert_true (g_file_set_contents (bad, "not an ELF file\n", -1, NULL));
    g_setenv (MODULE_ENV, bad, TRUE);
    assert_darknet_refused (bad);
    assert_opencv_works ();
    ef_test_rm_rf (dir);
    return;
  }
  g_test_trap_subprocess (NULL, 300 * G_USEC_PER_SEC, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_passed ();
}

/* Without the override the build tree's module (beside the plugin) is found
 * and libdarknet is loaded only then. */
static void
test_module_loaded_on_first_use (void)
{
  if (g_test_subprocess ()) {
    g_unsetenv (MODULE_ENV);
    assert_opencv_works ();
    g_assert_false (mapped ("libdarknet"));
    Result r = detect_dog ("darknet");
    g_assert_no_error (r.error);
    g_assert_true (r.saw_dog);
    g_assert_true (mapped ("libedgefaas-yolo-darknet.so"));
    g_assert_true (mapped ("libdarknet"));
    return;
  }
  g_test_trap_subprocess (NULL, 300 * G_USEC_PER_SEC, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_passed ();
}

int
main (int argc, char **argv)
{
  ef_test_init (&argc, &argv);
  g_test_add_func ("/yolo-darknet-module/plugin-does-not-link-darknet",
      test_plugin_does_not_link_darknet);
  g_test_add_func ("/yolo-darknet-module/missing", test_missing_module);
  g_test_add_func ("/yolo-darknet-module/without-libcuda",
      test_module_without_libcuda);
  g_test_add_func ("/yolo-darknet-module/broken", test_broken_module);
  g_test_add_func ("/yolo-darknet-module/loaded-on-first-use",
      test_module_loaded_on_first_use);
  return g_test_run ();
}
