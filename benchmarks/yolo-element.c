/* yolo-element-bench: what the yolov4infer element costs on top of its engine.
 *
 * Two arms per case (model, input size, backend), in the same process, on the
 * same decoded frame (dog.jpg 768x576, decoded once by jpegdec to I420):
 *
 * - "plain": a C loop that drives the same backend directly through the
 *   engine's C interface (yolobackend.h; for opencv that is
 *   cv::dnn::readNetFromDarknet + setInput on a blob wrapping our buffer +
 *   forward + reading the output rows, for darknet network_predict +
 *   get_network_boxes). Per frame it does exactly the work the element does
 *   for a frame, with the same functions and parameters: map the I420 frame,
 *   one-pass preprocessing (yolo_preproc_frame, plain resize), forward pass,
 *   candidate filter (class id, threshold 0.25, non-empty box) + mapping back
 *   to frame coordinates (yolo_transform_candidate), top-1000 cap, per-class
 *   NMS at 0.45 -- and nothing else.
 * - "element": `appsrc ! yolov4infer ! fakesink` with the element's defaults
 *   (post-messages=true): GstBaseTransform buffer flow, the settings copy,
 *   the same preprocessing/forward/postprocessing, one
 *   GstVideoRegionOfInterestMeta + "detection" param per detection, one
 *   "detections" bus message per frame (popped and dropped by the app), stats.
 *
 * Model load and the first frame are excluded from the steady state of both
 * arms and reported apart. Each arm checks that it produced the same
 * detections as the other (labels and confidences), so the two really did the
 * same work.
 *
 * Modes:
 *   --mode time       (default) R interleaved rounds of N frames per arm;
 *                     per-frame CPU time (CLOCK_PROCESS_CPUTIME_ID, all
 *                     threads) and wall time; prints a markdown fragment.
 *   --mode callgrind  run under `valgrind --tool=callgrind --instr-atstart=no`:
 *                     each arm's steady-state N frames are wrapped in
 *                     CALLGRIND_ZERO_STATS / START / STOP /
 *                     CALLGRIND_DUMP_STATS_AT("<case>|<arm>|<frames>"), so the
 *                     dump files hold the instruction counts of exactly that
 *                     loop (benchmarks/yolo-element.sh reads them). Fails
 *                     when not running under valgrind.
 *
 *   yolo-element-bench --shared ../shared [--yolov4-tiny-weights W]
 *       [--mode time|callgrind] [--frames N] [--rounds R] [--cases a,b]
 *       [--no-messages-arm]   (third arm: the element with post-messages=false)
 *
 * Case ids: fastest-opencv, fastest-darknet, tiny-opencv, tiny-darknet.
 * Run it pinned to one CPU (taskset -c N; the script does) so both arms run the
 * engine single-threaded and do the same work: Debian's OpenCV is built with
 * TBB, whose pool is sized by the CPU affinity mask and ignores
 * OPENCV_FOR_THREADS_NUM (measured here: 24 ms of CPU in 13.5 ms of wall time
 * per frame with OPENCV_FOR_THREADS_NUM=1). libdarknet's OpenMP follows
 * OMP_NUM_THREADS=1. --mode callgrind refuses to run on more than one CPU.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE             /* sched_getaffinity, CPU_COUNT */
#endif
#include <gst/app/gstappsrc.h>
#include <gst/gst.h>
#include <gst/video/video.h>
#if defined(__has_include) && __has_include(<valgrind/callgrind.h>)
#include <valgrind/callgrind.h>
#else
/* no valgrind headers (Debian package valgrind): the time mode still builds,
 * --mode callgrind refuses to run */
#define RUNNING_ON_VALGRIND 0
#define CALLGRIND_ZERO_STATS
#define CALLGRIND_START_INSTRUMENTATION
#define CALLGRIND_STOP_INSTRUMENTATION
#define CALLGRIND_DUMP_STATS_AT(x) (void) (x)
#endif
#include <stdio.h>
#include <string.h>
#include <sched.h>
#include <time.h>

#include "yolobackend.h"
#include "yolocfg.h"
#include "yolopreproc.h"

/* the element's own constants (gstyolov4infer.c defaults) */
#define THRESHOLD 0.25
#define NMS_THRESHOLD 0.45
#define MAX_CANDIDATES 1000

typedef struct {
  const gchar *id;
  const gchar *name;
  gchar *cfg, *weights, *names;
  gint size;
  const gchar *backend;
  const YoloBackendVTable *vt;
  /* time mode, one value per round */
  GArray *plain_cpu, *elem_cpu, *ratio_cpu;
  GArray *plain_wall, *elem_wall, *ratio_wall;
  GArray *plain_load, *elem_load, *plain_first, *elem_first;
  guint n_dets;
  gchar *skipped;
} Case;

/* What one steady-state run measured. */
typedef struct {
  gdouble cpu_ms, wall_ms;      /* per frame */
  gdouble load_ms, first_ms;
  GArray *first_dets, *last_dets;       /* YoloDetection */
} Run;

static gboolean instrument;
static gboolean no_messages_arm;

static void
run_clear (Run * r)
{
  g_clear_pointer (&r->first_dets, g_array_unref);
  g_clear_pointer (&r->last_dets, g_array_unref);
}

static gdouble
cpu_ms (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_PROCESS_CPUTIME_ID, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static gdouble
wall_ms (void)
{
  return g_get_monotonic_time () / 1000.0;
}

static void
steady_begin (void)
{
  if (instrument) {
    CALLGRIND_ZERO_STATS;
    CALLGRIND_START_INSTRUMENTATION;
  }
}

static void
steady_end (const Case * c, const gchar * arm, gint frames)
{
  if (instrument) {
    gchar *label = g_strdup_printf ("%s|%s|%d", c->id, arm, frames);
    CALLGRIND_STOP_INSTRUMENTATION;
    CALLGRIND_DUMP_STATS_AT (label);
    g_free (label);
  }
}

static gint
cmp_double (gconstpointer a, gconstpointer b)
{
  gdouble x = *(const gdouble *) a, y = *(const gdouble *) b;
  return (x > y) - (x < y);
}

static gdouble
quantile (GArray * v, gdouble q)
{
  if (!v->len)
    return 0;
  GArray *c = g_array_copy (v);
  g_array_sort (c, cmp_double);
  gdouble pos = q * (c->len - 1);
  guint lo = (guint) pos;
  guint hi = MIN (lo + 1, c->len - 1);
  gdouble m = g_array_index (c, gdouble, lo) * (1 - (pos - lo))
      + g_array_index (c, gdouble, hi) * (pos - lo);
  g_array_unref (c);
  return m;
}

static void
push (GArray * a, gdouble v)
{
  g_array_append_val (a, v);
}

static GstSample *
decode (const gchar * path)
{
  gchar *desc = g_strdup_printf ("filesrc location=\"%s\" ! jpegdec ! "
      "video/x-raw,format=I420 ! appsink name=sink", path);
  GstElement *p = gst_parse_launch (desc, NULL);
  g_free (desc);
  if (!p)
    return NULL;
  GstElement *sink = gst_bin_get_by_name (GST_BIN (p), "sink");
  gst_element_set_state (p, GST_STATE_PLAYING);
  GstSample *s = NULL;
  g_signal_emit_by_name (sink, "try-pull-sample", 10 * GST_SECOND, &s);
  gst_element_set_state (p, GST_STATE_NULL);
  gst_object_unref (sink);
  gst_object_unref (p);
  return s;
}

/* One frame of the plain loop: returns the detections after NMS. */
static GArray *
plain_frame (YoloBackend * b, const YoloBackendVTable * vt, GstVideoInfo * info,
    GstBuffer * buf, gint size, gint n_classes, gfloat * in, GError ** error)
{
  GstVideoFrame f;
  YoloTransform xf;
  GArray *out[1];

  if (!gst_video_frame_map (&f, info, buf, GST_MAP_READ)) {
    g_set_error (error, GST_CORE_ERROR, GST_CORE_ERROR_FAILED, "cannot map frame");
    return NULL;
  }
  yolo_preproc_frame (&f, NULL, size, size, FALSE, in, &xf);
  gst_video_frame_unmap (&f);
  if (!vt->infer (b, in, 1, (gfloat) THRESHOLD, out, error))
    return NULL;
  GArray *dets = g_array_new (FALSE, FALSE, sizeof (YoloDetection));
  for (guint k = 0; k < out[0]->len; k++) {
    const YoloCandidate *cand = &g_array_index (out[0], YoloCandidate, k);
    YoloDetection d;
    if (cand->class_id < 0 || cand->class_id >= n_classes || cand->confidence < THRESHOLD)
      continue;
    yolo_transform_candidate (&xf, cand, &d);
    if (d.x_max <= d.x_min || d.y_max <= d.y_min)
      continue;
    g_array_append_val (dets, d);
  }
  g_array_unref (out[0]);
  if (dets->len > MAX_CANDIDATES)
    yolo_keep_top (dets, MAX_CANDIDATES);
  yolo_nms_per_class (dets, info->width, info->height, NMS_THRESHOLD);
  return dets;
}

static gboolean
plain_arm (Case * c, GstSample * s, gint frames, Run * r, GError ** error)
{
  gboolean ok = FALSE;
  GstVideoInfo info;
  gst_video_info_from_caps (&info, gst_sample_get_caps (s));
  GstBuffer *buf = gst_sample_get_buffer (s);

  gdouble t0 = wall_ms ();
  YoloCfg *cfg = yolo_cfg_load (c->cfg, error);
  if (!cfg)
    return FALSE;
  /* the same validation the element does before a backend sees the model */
  YoloBackend *b = NULL;
  if (yolo_cfg_check_backend (cfg, c->vt->kind, error)) {
    YoloBackendOptions o = { c->cfg, c->weights, cfg, c->size, c->size, "cpu", 1 };
    b = c->vt->open (&o, error);
  }
  if (!b) {
    yolo_cfg_free (cfg);
    return FALSE;
  }
  r->load_ms = wall_ms () - t0;
  gint n_classes = yolo_cfg_classes (cfg);
  gfloat *in = g_new (gfloat, (gsize) 3 * c->size * c->size);

  t0 = wall_ms ();
  r->first_dets = plain_frame (b, c->vt, &info, buf, c->size, n_classes, in, error);
  r->first_ms = wall_ms () - t0;
  if (r->first_dets) {
    ok = TRUE;
    gdouble w0 = wall_ms (), c0 = cpu_ms ();
    steady_begin ();
    for (gint i = 0; i < frames && ok; i++) {
      GArray *d = plain_frame (b, c->vt, &info, buf, c->size, n_classes, in, error);
      ok = d != NULL;
      if (d) {
        if (r->last_dets)
          g_array_unref (r->last_dets);
        r->last_dets = d;
      }
    }
    steady_end (c, "plain", frames);
    r->cpu_ms = (cpu_ms () - c0) / frames;
    r->wall_ms = (wall_ms () - w0) / frames;
  }
  g_free (in);
  c->vt->close (b);
  yolo_cfg_free (cfg);
  return ok;
}

/* The detections the element attached to the buffer fakesink holds last. */
static GArray *
element_dets (GstElement * sink, gint fw, gint fh)
{
  GstSample *smp = NULL;
  g_object_get (sink, "last-sample", &smp, NULL);
  if (!smp)
    return NULL;
  GArray *dets = g_array_new (FALSE, FALSE, sizeof (YoloDetection));
  gpointer iter = NULL;
  GstMeta *m;
  while ((m = gst_buffer_iterate_meta_filtered (gst_sample_get_buffer (smp), &iter,
              GST_VIDEO_REGION_OF_INTEREST_META_API_TYPE))) {
    GstStructure *p = gst_video_region_of_interest_meta_get_param (
        (GstVideoRegionOfInterestMeta *) m, "detection");
    YoloDetection d = { 0 };
    gdouble conf = 0;
    if (!p || !gst_structure_get (p, "label_id", G_TYPE_INT, &d.class_id,
            "confidence", G_TYPE_DOUBLE, &conf, "x_min", G_TYPE_DOUBLE, &d.x_min,
            "y_min", G_TYPE_DOUBLE, &d.y_min, "x_max", G_TYPE_DOUBLE, &d.x_max,
            "y_max", G_TYPE_DOUBLE, &d.y_max, NULL))
      continue;
    d.confidence = (gfloat) conf;
    g_array_append_val (dets, d);
  }
  gst_sample_unref (smp);
  (void) fw;
  (void) fh;
  return dets;
}

static GstMessage *
wait_eos_or_error (GstBus * bus)
{
  return gst_bus_timed_pop_filtered (bus, 900 * GST_SECOND,
      GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
}

static void
set_error_from (GstMessage * m, GstBus * bus, const gchar * what, GError ** error)
{
  GstMessage *own = NULL;
  if (error && *error)
    return;
  if (!m)
    m = own = gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR);
  if (m && GST_MESSAGE_TYPE (m) == GST_MESSAGE_ERROR)
    gst_message_parse_error (m, error, NULL);
  else
    g_set_error (error, GST_CORE_ERROR, GST_CORE_ERROR_FAILED, "%s", what);
  if (own)
    gst_message_unref (own);
}

/* The element: model loaded in READY->PAUSED (start()), the first frame
 * prerolls, then PLAYING; the steady state is N buffers (prepared before)
 * pushed into appsrc + EOS until the EOS reaches the bus. */
static gboolean
element_arm (Case * c, GstSample * s, gint frames, gboolean messages, Run * r,
    GError ** error)
{
  gchar *desc = g_strdup_printf ("appsrc name=src format=time max-bytes=0 ! "
      "yolov4infer name=infer backend=%s config=\"%s\" weights=\"%s\" labels=\"%s\" "
      "input-size=%d post-messages=%s ! fakesink name=sink sync=false silent=true",
      c->backend, c->cfg, c->weights, c->names, c->size, messages ? "true" : "false");
  GstElement *p = gst_parse_launch (desc, error);
  g_free (desc);
  if (!p)
    return FALSE;
  GstElement *src = gst_bin_get_by_name (GST_BIN (p), "src");
  GstElement *infer = gst_bin_get_by_name (GST_BIN (p), "infer");
  GstElement *sink = gst_bin_get_by_name (GST_BIN (p), "sink");
  GstBus *bus = gst_element_get_bus (p);
  GstVideoInfo info;
  gst_video_info_from_caps (&info, gst_sample_get_caps (s));
  g_object_set (src, "caps", gst_sample_get_caps (s), NULL);
  GstBuffer **bufs = g_new0 (GstBuffer *, frames);
  gboolean ok = FALSE;

  gdouble t0 = wall_ms ();
  if (gst_element_set_state (p, GST_STATE_PAUSED) == GST_STATE_CHANGE_FAILURE) {
    set_error_from (NULL, bus, "start failed", error);
    goto done;
  }
  r->load_ms = wall_ms () - t0;
  /* first frame: pushed and prerolled (inferred, at the sink) */
  t0 = wall_ms ();
  GstBuffer *b = gst_buffer_copy (gst_sample_get_buffer (s));
  GST_BUFFER_PTS (b) = 0;
  gst_app_src_push_buffer (GST_APP_SRC (src), b);
  if (gst_element_get_state (p, NULL, NULL, 600 * GST_SECOND) != GST_STATE_CHANGE_SUCCESS) {
    set_error_from (NULL, bus, "first frame did not preroll", error);
    goto done;
  }
  r->first_ms = wall_ms () - t0;
  r->first_dets = element_dets (sink, info.width, info.height);
  if (gst_element_set_state (p, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE
      || gst_element_get_state (p, NULL, NULL, 60 * GST_SECOND) != GST_STATE_CHANGE_SUCCESS) {
    set_error_from (NULL, bus, "could not go to PLAYING", error);
    goto done;
  }
  for (gint i = 0; i < frames; i++) {
    bufs[i] = gst_buffer_copy (gst_sample_get_buffer (s));
    GST_BUFFER_PTS (bufs[i]) = (i + 1) * 40 * GST_MSECOND;
  }

  gdouble w0 = wall_ms (), c0 = cpu_ms ();
  steady_begin ();
  for (gint i = 0; i < frames; i++) {
    gst_app_src_push_buffer (GST_APP_SRC (src), bufs[i]);
    bufs[i] = NULL;
  }
  gst_app_src_end_of_stream (GST_APP_SRC (src));
  GstMessage *m = wait_eos_or_error (bus);
  steady_end (c, messages ? "element" : "element-nomsg", frames);
  r->cpu_ms = (cpu_ms () - c0) / frames;
  r->wall_ms = (wall_ms () - w0) / frames;
  if (!m || GST_MESSAGE_TYPE (m) != GST_MESSAGE_EOS) {
    set_error_from (m, bus, "timeout waiting for EOS", error);
  } else {
    r->last_dets = element_dets (sink, info.width, info.height);
    GstStructure *st = NULL;
    guint64 passes = 0;
    g_object_get (infer, "stats", &st, NULL);
    gst_structure_get_uint64 (st, "forward-passes", &passes);
    gst_structure_free (st);
    if (passes != (guint64) frames + 1)
      g_set_error (error, GST_CORE_ERROR, GST_CORE_ERROR_FAILED,
          "the element ran %" G_GUINT64_FORMAT " forward passes for %d frames",
          passes, frames + 1);
    else
      ok = TRUE;
  }
  if (m)
    gst_message_unref (m);

done:
  for (gint i = 0; i < frames; i++)
    if (bufs[i])
      gst_buffer_unref (bufs[i]);
  g_free (bufs);
  gst_element_set_state (p, GST_STATE_NULL);
  gst_object_unref (bus);
  gst_object_unref (src);
  gst_object_unref (infer);
  gst_object_unref (sink);
  gst_object_unref (p);
  return ok;
}

/* Both arms must have produced the same detections (same order: NMS sorts
 * by confidence). */
static gboolean
same_dets (GArray * a, GArray * b, const gchar * which, GError ** error)
{
  if (!a || !b || a->len != b->len) {
    g_set_error (error, GST_CORE_ERROR, GST_CORE_ERROR_FAILED,
        "%s frame: plain loop found %d detections, the element %d", which,
        a ? (gint) a->len : -1, b ? (gint) b->len : -1);
    return FALSE;
  }
  for (guint i = 0; i < a->len; i++) {
    YoloDetection *x = &g_array_index (a, YoloDetection, i);
    YoloDetection *y = &g_array_index (b, YoloDetection, i);
    if (x->class_id != y->class_id || ABS (x->confidence - y->confidence) > 1e-5
        || ABS (x->x_min - y->x_min) > 1e-5 || ABS (x->y_max - y->y_max) > 1e-5) {
      g_set_error (error, GST_CORE_ERROR, GST_CORE_ERROR_FAILED,
          "%s frame: detection %u differs (class %d conf %.4f vs class %d conf %.4f)",
          which, i, x->class_id, x->confidence, y->class_id, y->confidence);
      return FALSE;
    }
  }
  return TRUE;
}

/* One plain run and one element run (order alternates with @round). */
static gboolean
run_pair (Case * c, GstSample * s, gint frames, gint round, Run * pl, Run * el,
    GError ** error)
{
  gboolean ok = round % 2 ? element_arm (c, s, frames, TRUE, el, error)
      && plain_arm (c, s, frames, pl, error)
      : plain_arm (c, s, frames, pl, error) && element_arm (c, s, frames, TRUE, el, error);
  ok = ok && same_dets (pl->first_dets, el->first_dets, "first", error)
      && same_dets (pl->last_dets, el->last_dets, "last", error);
  if (ok && no_messages_arm) {
    /* a third arm: the element with post-messages=false (how much of the
     * difference is the per-frame bus message) */
    Run nm = { 0 };
    ok = element_arm (c, s, frames, FALSE, &nm, error)
        && same_dets (pl->last_dets, nm.last_dets, "last (post-messages=false)", error);
    run_clear (&nm);
  }
  if (ok)
    c->n_dets = pl->last_dets->len;
  return ok;
}

static void
print_time_section (Case * cases, guint n, gint frames, gint rounds)
{
  printf ("### Secondary: CPU and wall time (native, noisy)\n\n");
  printf ("`yolo-element-bench --mode time`, pinned to one CPU as above but on "
      "OpenCV's native (AVX2/FMA) kernels: one unrecorded warm-up round, then %d "
      "interleaved rounds (plain first in even rounds, element first in odd ones); each arm loads the model, runs one first "
      "frame, then %d steady-state frames. CPU time = CLOCK_PROCESS_CPUTIME_ID (all "
      "threads of the process) per frame; the ratio element/plain is taken within "
      "each round, then the median over rounds, with min..max in brackets.\n\n",
      rounds, frames);
  printf ("| model @input | backend | plain CPU ms/frame | element CPU ms/frame | "
      "overhead by CPU time, median [min..max] | overhead by wall time, median [min..max] "
      "| plain fps (wall) | element fps (wall) | model load ms plain / element | "
      "first frame ms plain / element |\n");
  printf ("|---|---|---|---|---|---|---|---|---|---|\n");
  for (guint i = 0; i < n; i++) {
    Case *c = &cases[i];
    if (c->skipped || !c->ratio_cpu->len) {
      printf ("| %s @%d | %s | not measured: %s | | | | | | | |\n", c->name, c->size,
          c->backend, c->skipped ? c->skipped : "no rounds");
      continue;
    }
    printf ("| %s @%d | %s | %.2f | %.2f | %+.1f %% [%+.1f..%+.1f] | %+.1f %% [%+.1f..%+.1f] "
        "| %.1f | %.1f | %.1f / %.1f | %.1f / %.1f |\n",
        c->name, c->size, c->backend, quantile (c->plain_cpu, .5), quantile (c->elem_cpu, .5),
        (quantile (c->ratio_cpu, .5) - 1) * 100, (quantile (c->ratio_cpu, 0) - 1) * 100,
        (quantile (c->ratio_cpu, 1) - 1) * 100,
        (quantile (c->ratio_wall, .5) - 1) * 100, (quantile (c->ratio_wall, 0) - 1) * 100,
        (quantile (c->ratio_wall, 1) - 1) * 100,
        1000 / quantile (c->plain_wall, .5), 1000 / quantile (c->elem_wall, .5),
        quantile (c->plain_load, .5), quantile (c->elem_load, .5),
        quantile (c->plain_first, .5), quantile (c->elem_first, .5));
  }
  printf ("\nA spread (min..max) wider than the 5 %% target means the time figures alone "
      "can neither show nor refute it on this machine; the instruction counts above can.\n\n");
}

int
main (int argc, char **argv)
{
  gchar *shared = NULL, *tiny_weights = NULL, *mode = NULL, *only = NULL;
  gint frames = 10, rounds = 7;
  GOptionEntry entries[] = {
    {"shared", 0, 0, G_OPTION_ARG_FILENAME, &shared, "../shared directory", "DIR"},
    {"yolov4-tiny-weights", 0, 0, G_OPTION_ARG_FILENAME, &tiny_weights,
        "weights for models/cfg/yolov4-tiny.cfg (scripts/gen-weights)", "FILE"},
    {"mode", 0, 0, G_OPTION_ARG_STRING, &mode, "time (default) or callgrind", "MODE"},
    {"frames", 0, 0, G_OPTION_ARG_INT, &frames, "steady-state frames per arm", "N"},
    {"rounds", 0, 0, G_OPTION_ARG_INT, &rounds, "rounds (time mode)", "R"},
    {"cases", 0, 0, G_OPTION_ARG_STRING, &only, "comma-separated case ids", "IDS"},
    {"no-messages-arm", 0, 0, G_OPTION_ARG_NONE, &no_messages_arm,
        "also run the element with post-messages=false (arm element-nomsg)", NULL},
    {NULL}
  };
  GError *error = NULL;
  GOptionContext *ctx = g_option_context_new ("- yolov4infer element overhead");
  g_option_context_add_main_entries (ctx, entries, NULL);
  g_option_context_add_group (ctx, gst_init_get_option_group ());
  if (!g_option_context_parse (ctx, &argc, &argv, &error) || !shared) {
    g_printerr ("%s\n", error ? error->message : "--shared DIR is required");
    return 2;
  }
  g_option_context_free (ctx);
  if (frames < 1 || rounds < 1) {
    g_printerr ("--frames and --rounds must be >= 1\n");
    return 2;
  }
  if (mode && strcmp (mode, "callgrind") == 0) {
    if (!RUNNING_ON_VALGRIND) {
      g_printerr ("--mode callgrind: not running under valgrind --tool=callgrind\n");
      return 2;
    }
    instrument = TRUE;
    rounds = 1;
  } else if (mode && strcmp (mode, "time") != 0) {
    g_printerr ("--mode: time or callgrind, not '%s'\n", mode);
    return 2;
  }
  cpu_set_t cpus;
  gint n_cpus = sched_getaffinity (0, sizeof cpus, &cpus) == 0 ? CPU_COUNT (&cpus) : -1;
  if (instrument && (n_cpus != 1 || g_strcmp0 (g_getenv ("OMP_NUM_THREADS"), "1"))) {
    g_printerr ("--mode callgrind needs one CPU (taskset -c N; this process may use %d) and "
        "OMP_NUM_THREADS=1: thread pools make instruction counts non-repeatable\n", n_cpus);
    return 2;
  }
  g_printerr ("CPUs this process may use: %d\n", n_cpus);

  GstSample *s = decode ("/usr/share/darknet/data/dog.jpg");
  if (!s) {
    g_printerr ("cannot decode /usr/share/darknet/data/dog.jpg (package darknet)\n");
    return 1;
  }
  gchar *fcfg = g_build_filename (shared, "models/yolo-fastest-1.1-coco/yolo-fastest-1.1.cfg", NULL);
  gchar *fw = g_build_filename (shared, "models/yolo-fastest-1.1-coco/yolo-fastest-1.1.weights", NULL);
  gchar *names = g_build_filename (shared, "models/yolo-fastest-1.1-coco/coco.names", NULL);
  gchar *tcfg = g_build_filename (shared, "models/cfg/yolov4-tiny.cfg", NULL);

  Case cases[] = {
    {"fastest-opencv", "Yolo-Fastest 1.1", fcfg, fw, names, 320, "opencv", yolo_backend_opencv ()},
    {"fastest-darknet", "Yolo-Fastest 1.1", fcfg, fw, names, 320, "darknet", yolo_backend_darknet ()},
    {"tiny-opencv", "YOLOv4-tiny (generated weights)", tcfg, tiny_weights, names, 416, "opencv",
        yolo_backend_opencv ()},
    {"tiny-darknet", "YOLOv4-tiny (generated weights)", tcfg, tiny_weights, names, 416, "darknet",
        yolo_backend_darknet ()},
  };
  gchar **wanted = only ? g_strsplit (only, ",", -1) : NULL;
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
    Case *c = &cases[i];
    GArray **arrays[] = { &c->plain_cpu, &c->elem_cpu, &c->ratio_cpu, &c->plain_wall,
      &c->elem_wall, &c->ratio_wall, &c->plain_load, &c->elem_load, &c->plain_first,
      &c->elem_first
    };
    for (guint k = 0; k < G_N_ELEMENTS (arrays); k++)
      *arrays[k] = g_array_new (FALSE, FALSE, sizeof (gdouble));
    if (wanted && !g_strv_contains ((const gchar * const *) wanted, c->id))
      c->skipped = g_strdup ("not selected (--cases)");
    else if (!c->vt)
      c->skipped = g_strdup ("backend not compiled in");
    else if (!c->weights)
      c->skipped = g_strdup ("no --yolov4-tiny-weights given");
  }

  gint status = 0;
  /* time mode: one warm-up round first, not recorded (the first runs in a
   * process pay for page faults, lazy library initialisation, caches) */
  for (gint r = instrument ? 0 : -1; r < rounds; r++) {
    for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
      Case *c = &cases[i];
      Run pl = { 0 }, el = { 0 };
      if (c->skipped)
        continue;
      if (!run_pair (c, s, frames, r < 0 ? 0 : r, &pl, &el, &error)) {
        c->skipped = g_strdup_printf ("fails: %s", error ? error->message : "?");
        g_printerr ("%s: %s\n", c->id, c->skipped);
        /* a refused model (darknet + YOLOv4 layers) is a finding; any other
         * failure makes the run fail */
        if (!g_error_matches (error, YOLO_CFG_ERROR, YOLO_CFG_ERROR_UNSUPPORTED))
          status = 1;
        g_clear_error (&error);
        run_clear (&pl);
        run_clear (&el);
        continue;
      }
      if (r < 0) {
        g_printerr ("warm-up %s: done (not recorded)\n", c->id);
        run_clear (&pl);
        run_clear (&el);
        continue;
      }
      push (c->plain_cpu, pl.cpu_ms);
      push (c->elem_cpu, el.cpu_ms);
      push (c->ratio_cpu, el.cpu_ms / pl.cpu_ms);
      push (c->plain_wall, pl.wall_ms);
      push (c->elem_wall, el.wall_ms);
      push (c->ratio_wall, el.wall_ms / pl.wall_ms);
      push (c->plain_load, pl.load_ms);
      push (c->elem_load, el.load_ms);
      push (c->plain_first, pl.first_ms);
      push (c->elem_first, el.first_ms);
      g_printerr ("round %d %s: %u detections/frame in both arms; CPU ms/frame plain %.2f "
          "element %.2f (x%.3f); wall plain %.2f element %.2f (x%.3f); load %.1f/%.1f ms; "
          "first frame %.1f/%.1f ms\n", r, c->id, c->n_dets, pl.cpu_ms, el.cpu_ms,
          el.cpu_ms / pl.cpu_ms, pl.wall_ms, el.wall_ms, el.wall_ms / pl.wall_ms,
          pl.load_ms, el.load_ms, pl.first_ms, el.first_ms);
      run_clear (&pl);
      run_clear (&el);
    }
  }

  if (instrument) {
    /* the script reads the dumps; tell it what was measured or refused */
    for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
      Case *c = &cases[i];
      if (c->skipped)
        printf ("SKIPPED\t%s\t%s @%d\t%s\t%s\n", c->id, c->name, c->size, c->backend,
            c->skipped);
      else
        printf ("MEASURED\t%s\t%s @%d\t%s\t%u\n", c->id, c->name, c->size, c->backend,
            c->n_dets);
    }
  } else {
    print_time_section (cases, G_N_ELEMENTS (cases), frames, rounds);
  }
  g_strfreev (wanted);
  gst_sample_unref (s);
  return status;
}
