/* yolo-preproc-bench: yolov4infer's preprocessing against OpenCV doing the
 * same work on the same frame, in the same process.
 *
 * The work: a decoded frame (I420 as jpegdec gives it, or packed RGB) into the
 * network input -- resize to the network size, colour conversion to RGB,
 * normalisation to [0,1], planar CHW float blob.
 *
 * - "ours": yolo_preproc_frame (plugins/yolo/yolopreproc.c), plain resize
 *   (darknet's corner-aligned bilinear, which tests/yolo asserts equal to
 *   libdarknet's resize_image).
 * - "opencv" (baseline): for I420 cv::cvtColor (COLOR_YUV2RGB_I420) on the
 *   whole frame then cv::dnn::blobFromImage (scale 1/255, network size, no
 *   swap, no crop, CV_32F), i.e. the usual OpenCV DNN preprocessing; for RGB
 *   blobFromImage alone. OpenCV runs sequentially (cv::setNumThreads (0)),
 *   which is its cheapest configuration in instructions.
 *
 * Both blobs are compared (mean |ours - opencv|, must stay below 0.06): they
 * differ by the resize convention (OpenCV's INTER_LINEAR uses half-pixel
 * centres) and, for I420, by the colour conversion: OpenCV's YUV2RGB is
 * BT.601 limited range whatever the frame says, ours follows the frame's
 * colorimetry (full range for decoded JPEG) -- about 0.03 on average.
 *
 * Modes:
 *   --mode callgrind  under `valgrind --tool=callgrind --instr-atstart=no`:
 *                     each arm's N frames are wrapped in CALLGRIND_ZERO_STATS /
 *                     START / STOP / DUMP_STATS_AT ("<case>|<arm>|<N>"), after
 *                     one warm-up call outside.
 *   --mode time       (default) R interleaved rounds of N calls per arm, CPU
 *                     time per call (CLOCK_PROCESS_CPUTIME_ID), medians.
 *
 *   yolo-preproc-bench --image dog.jpg [--mode time|callgrind] [--frames N]
 *       [--rounds R]
 *
 * Prints one TSV line per case and arm: RESULT case arm frame net fmt
 * value (time: median ns per call) mean_abs_diff.
 */
#include <gst/app/gstappsink.h>
#include <gst/gst.h>
#include <gst/video/video.h>
#if defined(__has_include) && __has_include(<valgrind/callgrind.h>)
#include <valgrind/callgrind.h>
#else
#define RUNNING_ON_VALGRIND 0
#define CALLGRIND_ZERO_STATS
#define CALLGRIND_START_INSTRUMENTATION
#define CALLGRIND_STOP_INSTRUMENTATION
#define CALLGRIND_DUMP_STATS_AT(x) (void) (x)
#endif
#include <opencv2/core.hpp>
#include <opencv2/dnn.hpp>
#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <string>
#include <vector>

#include "yolopreproc.h"

struct Case {
  const char *id;
  int frame_w, frame_h;         /* 0 = the image's own size */
  int net_w, net_h;
  const char *format;           /* I420 or RGB */
};

/* Yolo-Fastest (320) on the sample image as decoded, YOLOv4-tiny (416) and
 * YOLOv4 (608) on a 1080p frame, and the packed RGB path. */
static const Case cases[] = {
  {"i420-768x576-320", 0, 0, 320, 320, "I420"},
  {"i420-1920x1080-416", 1920, 1080, 416, 416, "I420"},
  {"i420-1920x1080-608", 1920, 1080, 608, 608, "I420"},
  {"rgb-768x576-320", 0, 0, 320, 320, "RGB"},
  {"rgb-1920x1080-416", 1920, 1080, 416, 416, "RGB"},
};

static GstSample *
decode (const char *path, const char *format, int w, int h)
{
  gchar *size = w ? g_strdup_printf (",width=%d,height=%d", w, h) : g_strdup ("");
  gchar *desc = g_strdup_printf ("filesrc location=\"%s\" ! jpegdec ! videoconvert ! "
      "videoscale ! video/x-raw,format=%s%s ! appsink name=sink", path, format, size);
  GError *err = NULL;
  GstElement *p = gst_parse_launch (desc, &err);
  g_free (desc);
  g_free (size);
  if (!p) {
    g_printerr ("yolo-preproc-bench: %s\n", err->message);
    return NULL;
  }
  GstElement *sink = gst_bin_get_by_name (GST_BIN (p), "sink");
  gst_element_set_state (p, GST_STATE_PLAYING);
  GstSample *s = gst_app_sink_pull_sample (GST_APP_SINK (sink));
  gst_element_set_state (p, GST_STATE_NULL);
  gst_object_unref (sink);
  gst_object_unref (p);
  return s;
}

struct Frame {
  GstVideoFrame vf;
  cv::Mat mat;                  /* wraps the same bytes */
  bool i420;
};

static bool
map_frame (GstSample * s, Frame * f)
{
  GstVideoInfo info;
  if (!gst_video_info_from_caps (&info, gst_sample_get_caps (s))
      || !gst_video_frame_map (&f->vf, &info, gst_sample_get_buffer (s), GST_MAP_READ))
    return false;
  int w = GST_VIDEO_INFO_WIDTH (&info), h = GST_VIDEO_INFO_HEIGHT (&info);
  f->i420 = GST_VIDEO_INFO_FORMAT (&info) == GST_VIDEO_FORMAT_I420;
  guint8 *y = (guint8 *) GST_VIDEO_FRAME_PLANE_DATA (&f->vf, 0);
  if (f->i420) {
    /* cv::COLOR_YUV2RGB_I420 wants the three planes back to back, tight */
    guint8 *u = (guint8 *) GST_VIDEO_FRAME_PLANE_DATA (&f->vf, 1);
    guint8 *v = (guint8 *) GST_VIDEO_FRAME_PLANE_DATA (&f->vf, 2);
    if (GST_VIDEO_FRAME_PLANE_STRIDE (&f->vf, 0) != w
        || GST_VIDEO_FRAME_PLANE_STRIDE (&f->vf, 1) != w / 2
        || u != y + (gsize) w * h || v != u + (gsize) w * h / 4 || (w | h) & 1) {
      g_printerr ("yolo-preproc-bench: I420 %dx%d is not tightly packed\n", w, h);
      return false;
    }
    f->mat = cv::Mat (h * 3 / 2, w, CV_8UC1, y);
  } else {
    f->mat = cv::Mat (h, w, CV_8UC3, y, GST_VIDEO_FRAME_PLANE_STRIDE (&f->vf, 0));
  }
  return true;
}

static void
run_ours (Frame * f, const Case * c, float *out)
{
  yolo_preproc_frame (&f->vf, NULL, c->net_w, c->net_h, FALSE, out, NULL);
}

static void
run_opencv (Frame * f, const Case * c, cv::Mat & rgb, cv::Mat & blob)
{
  const cv::Mat *src = &f->mat;
  if (f->i420) {
    cv::cvtColor (f->mat, rgb, cv::COLOR_YUV2RGB_I420);
    src = &rgb;
  }
  cv::dnn::blobFromImage (*src, blob, 1.0 / 255.0, cv::Size (c->net_w, c->net_h),
      cv::Scalar (), false, false, CV_32F);
}

static double
cpu_ns (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_PROCESS_CPUTIME_ID, &ts);
  return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static double
median (std::vector<double> v)
{
  std::sort (v.begin (), v.end ());
  return v[v.size () / 2];
}

int
main (int argc, char **argv)
{
  const char *image = NULL, *mode = "time";
  int frames = 5, rounds = 15;
  gst_init (&argc, &argv);
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!strcmp (argv[i], "--image"))
      image = argv[i + 1];
    else if (!strcmp (argv[i], "--mode"))
      mode = argv[i + 1];
    else if (!strcmp (argv[i], "--frames"))
      frames = atoi (argv[i + 1]);
    else if (!strcmp (argv[i], "--rounds"))
      rounds = atoi (argv[i + 1]);
    else {
      g_printerr ("usage: %s --image JPEG [--mode time|callgrind] [--frames N] [--rounds R]\n", argv[0]);
      return 2;
    }
  }
  bool cg = !strcmp (mode, "callgrind");
  if (!image || (!cg && strcmp (mode, "time")) || frames < 1 || rounds < 1) {
    g_printerr ("yolo-preproc-bench: --image JPEG required, --mode time|callgrind\n");
    return 2;
  }
  if (cg && !RUNNING_ON_VALGRIND) {
    g_printerr ("yolo-preproc-bench: --mode callgrind must run under valgrind --tool=callgrind\n");
    return 2;
  }
  cv::setNumThreads (0);

  for (const Case & c : cases) {
    GstSample *s = decode (image, c.format, c.frame_w, c.frame_h);
    Frame f;
    if (!s || !map_frame (s, &f)) {
      g_printerr ("yolo-preproc-bench: %s: cannot decode %s\n", c.id, image);
      return 1;
    }
    std::vector<float> ours ((size_t) 3 * c.net_w * c.net_h);
    cv::Mat rgb, blob;
    /* warm-up (allocations, OpenCV's lazy initialisation) and the check */
    run_ours (&f, &c, ours.data ());
    run_opencv (&f, &c, rgb, blob);
    if (blob.total () != ours.size ()) {
      g_printerr ("yolo-preproc-bench: %s: blob has %zu values, ours %zu\n", c.id,
          blob.total (), ours.size ());
      return 1;
    }
    double diff = 0;
    const float *b = blob.ptr<float> ();
    for (size_t i = 0; i < ours.size (); i++)
      diff += std::fabs (ours[i] - b[i]);
    diff /= ours.size ();
    if (diff > 0.06) {
      g_printerr ("yolo-preproc-bench: %s: blobs differ by %g on average: not the same work\n",
          c.id, diff);
      return 1;
    }
    int fw = GST_VIDEO_FRAME_WIDTH (&f.vf), fh = GST_VIDEO_FRAME_HEIGHT (&f.vf);
    char frame_s[32], net_s[32];
    g_snprintf (frame_s, sizeof frame_s, "%dx%d", fw, fh);
    g_snprintf (net_s, sizeof net_s, "%dx%d", c.net_w, c.net_h);

    if (cg) {
      char tag[128];
      g_snprintf (tag, sizeof tag, "%s|ours|%d", c.id, frames);
      CALLGRIND_ZERO_STATS;
      CALLGRIND_START_INSTRUMENTATION;
      for (int i = 0; i < frames; i++)
        run_ours (&f, &c, ours.data ());
      CALLGRIND_STOP_INSTRUMENTATION;
      CALLGRIND_DUMP_STATS_AT (tag);
      g_snprintf (tag, sizeof tag, "%s|opencv|%d", c.id, frames);
      CALLGRIND_ZERO_STATS;
      CALLGRIND_START_INSTRUMENTATION;
      for (int i = 0; i < frames; i++)
        run_opencv (&f, &c, rgb, blob);
      CALLGRIND_STOP_INSTRUMENTATION;
      CALLGRIND_DUMP_STATS_AT (tag);
      printf ("RESULT\t%s\t-\t%s\t%s\t%s\t-\t%.5f\n", c.id, frame_s, net_s, c.format, diff);
    } else {
      std::vector<double> t_ours, t_cv;
      for (int r = 0; r < rounds; r++) {
        double t0 = cpu_ns ();
        for (int i = 0; i < frames; i++)
          run_ours (&f, &c, ours.data ());
        double t1 = cpu_ns ();
        for (int i = 0; i < frames; i++)
          run_opencv (&f, &c, rgb, blob);
        double t2 = cpu_ns ();
        t_ours.push_back ((t1 - t0) / frames);
        t_cv.push_back ((t2 - t1) / frames);
      }
      printf ("RESULT\t%s\tours\t%s\t%s\t%s\t%.0f\t%.5f\n", c.id, frame_s, net_s, c.format,
          median (t_ours), diff);
      printf ("RESULT\t%s\topencv\t%s\t%s\t%s\t%.0f\t%.5f\n", c.id, frame_s, net_s, c.format,
          median (t_cv), diff);
    }
    fflush (stdout);
    gst_video_frame_unmap (&f.vf);
    gst_sample_unref (s);
  }
  return 0;
}
