/* tracker-bench: the objecttrack benchmark program (run it with benchmarks/tracker.sh).
 *
 *   tracker-bench --mode track --clip clip.mkv --model-dir DIR --out tracks.jsonl
 *       The real pipeline: filesrc ! matroskademux ! jpegdec ! videoconvert !
 *       yolov4infer (the model in DIR) ! objecttrack ! appsink. One JSON line per frame:
 *       {"frame": n, "t_s": s, "objects": [{"id", "box": [x,y,w,h], "label", "state",
 *       "score"}]} with every tracked detection (tentative ones too; the scorer picks).
 *
 *   tracker-bench --mode cost --clip clip.mkv --model-dir DIR --frames F [--arms LIST]
 *       Per-frame cost arms on the same 640x360 frame size, each F steady-state frames
 *       between callgrind client requests (CALLGRIND_ZERO_STATS/START before,
 *       STOP/DUMP_STATS_AT("arm|F") after); set-up, model load and warm-up frames are
 *       outside. Arms: yolo (yolov4infer, the baseline), objecttrack-20, objecttrack-200
 *       (the element on buffers carrying 20/200 detection metas of objects moving with
 *       constant velocity and jitter, made before counting), tracker-20, tracker-200 (the
 *       algorithm alone on the same boxes). Prints "ARM\tname\tframes\tcpu_ms_per_frame".
 *       Without valgrind the client requests do nothing and the CPU time is the figure.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <gst/app/gstappsink.h>
#include <gst/check/gstharness.h>
#include <gst/gst.h>
#include <gst/video/video.h>
#include <json-glib/json-glib.h>

#include "tracker.h"

#if defined(__has_include) && __has_include(<valgrind/callgrind.h>)
#include <valgrind/callgrind.h>
#else
#define CALLGRIND_ZERO_STATS
#define CALLGRIND_START_INSTRUMENTATION
#define CALLGRIND_STOP_INSTRUMENTATION
#define CALLGRIND_DUMP_STATS_AT(x) (void) (x)
#endif

static gchar *opt_in, *opt_mode, *opt_clip, *opt_model_dir, *opt_out, *opt_arms, *opt_track_props;
static gint opt_frames = 8;

static GOptionEntry entries[] = {
  {"mode", 0, 0, G_OPTION_ARG_STRING, &opt_mode, "track or cost", "MODE"},
  {"clip", 0, 0, G_OPTION_ARG_FILENAME, &opt_clip, "Scenario clip (.mkv)", "FILE"},
  {"model-dir", 0, 0, G_OPTION_ARG_FILENAME, &opt_model_dir,
      "Directory with <name>.cfg, <name>.weights, coco.names", "DIR"},
  {"out", 0, 0, G_OPTION_ARG_FILENAME, &opt_out, "Tracks JSONL (track mode)", "FILE"},
  {"track-props", 0, 0, G_OPTION_ARG_STRING, &opt_track_props,
      "Extra objecttrack properties (track mode)", "PROPS"},
  {"in", 0, 0, G_OPTION_ARG_FILENAME, &opt_in,
      "Track-mode JSONL whose detections are replayed (replay mode)", "FILE"},
  {"frames", 0, 0, G_OPTION_ARG_INT, &opt_frames, "Counted frames per arm (cost mode)", "N"},
  {"arms", 0, 0, G_OPTION_ARG_STRING, &opt_arms, "Comma-separated arms (cost mode)", "LIST"},
  {NULL}
};

static gchar *
model_file (const gchar * ext)
{
  g_autoptr (GDir) d = g_dir_open (opt_model_dir, 0, NULL);
  const gchar *n;
  while (d && (n = g_dir_read_name (d)))
    if (g_str_has_suffix (n, ext))
      return g_build_filename (opt_model_dir, n, NULL);
  g_printerr ("tracker-bench: no *%s in %s\n", ext, opt_model_dir);
  exit (1);
}

static gchar *
yolo_desc (void)
{
  g_autofree gchar *cfg = model_file (".cfg"), *weights = model_file (".weights"),
      *names = model_file (".names");
  return g_strdup_printf ("yolov4infer config=\"%s\" weights=\"%s\" labels=\"%s\"", cfg,
      weights, names);
}

static double
cpu_ms (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_PROCESS_CPUTIME_ID, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* ---- track mode ---------------------------------------------------------------------- */

static void
write_frame (FILE * f, guint n, GstBuffer * buf)
{
  gpointer iter = NULL;
  GstMeta *m;
  gboolean first = TRUE;
  fprintf (f, "{\"frame\": %u, \"t_s\": %.3f, \"objects\": [", n,
      GST_BUFFER_PTS (buf) / (double) GST_SECOND);
  while ((m = gst_buffer_iterate_meta_filtered (buf, &iter,
              GST_VIDEO_REGION_OF_INTEREST_META_API_TYPE))) {
    GstVideoRegionOfInterestMeta *roi = (GstVideoRegionOfInterestMeta *) m;
    GstStructure *tr = gst_video_region_of_interest_meta_get_param (roi, "tracking");
    GstStructure *det = gst_video_region_of_interest_meta_get_param (roi, "detection");
    gdouble score = 0;
    if (!tr || !det)
      continue;
    gst_structure_get_double (det, "confidence", &score);
    fprintf (f, "%s{\"id\": %d, \"box\": [%u, %u, %u, %u], \"label\": \"%s\", "
        "\"state\": \"%s\", \"score\": %.3f}", first ? "" : ", ", roi->id, roi->x, roi->y,
        roi->w, roi->h, gst_structure_get_string (det, "label"),
        gst_structure_get_string (tr, "state"), score);
    first = FALSE;
  }
  fprintf (f, "], \"detections\": [");
  iter = NULL;
  first = TRUE;
  while ((m = gst_buffer_iterate_meta_filtered (buf, &iter,
              GST_VIDEO_REGION_OF_INTEREST_META_API_TYPE))) {
    GstVideoRegionOfInterestMeta *roi = (GstVideoRegionOfInterestMeta *) m;
    GstStructure *det = gst_video_region_of_interest_meta_get_param (roi, "detection");
    gdouble score = 0;
    if (!det)
      continue;
    gst_structure_get_double (det, "confidence", &score);
    fprintf (f, "%s{\"box\": [%u, %u, %u, %u], \"label\": \"%s\", \"score\": %.4f}",
        first ? "" : ", ", roi->x, roi->y, roi->w, roi->h,
        gst_structure_get_string (det, "label"), score);
    first = FALSE;
  }
  fprintf (f, "]}\n");
}

static int
run_track (void)
{
  g_autofree gchar *yolo = yolo_desc ();
  g_autofree gchar *desc = g_strdup_printf ("filesrc location=\"%s\" ! matroskademux ! "
      "jpegdec ! videoconvert ! %s ! objecttrack %s ! appsink name=out sync=false",
      opt_clip, yolo, opt_track_props ? opt_track_props : "");
  GError *error = NULL;
  GstElement *p = gst_parse_launch (desc, &error);
  if (error) {                  /* also a "recoverable" one: a missing element */
    g_printerr ("tracker-bench: %s\n", error->message);
    if (p)
      gst_object_unref (p);
    return 1;
  }
  FILE *f = fopen (opt_out, "w");
  if (!f) {
    g_printerr ("tracker-bench: cannot write %s\n", opt_out);
    gst_object_unref (p);
    return 1;
  }
  GstElement *sink = gst_bin_get_by_name (GST_BIN (p), "out");
  GstBus *bus = gst_element_get_bus (p);
  gst_element_set_state (p, GST_STATE_PLAYING);
  GstSample *s;
  GstMessage *msg = NULL;
  guint n = 0, idle = 0;
  /* pull with a short timeout and look at the bus in between: an error ends the run at
   * once, and a pipeline that produces nothing for 300 s fails instead of hanging */
  while (!gst_app_sink_is_eos (GST_APP_SINK (sink))) {
    s = gst_app_sink_try_pull_sample (GST_APP_SINK (sink), GST_SECOND);
    if (s) {
      write_frame (f, n++, gst_sample_get_buffer (s));
      gst_sample_unref (s);
      idle = 0;
      continue;
    }
    if ((msg = gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR)))
      break;
    if (++idle >= 300) {
      g_printerr ("tracker-bench: no frame for 300 s (stalled) after %u frames\n", n);
      break;
    }
  }
  fclose (f);
  int rc = idle >= 300;
  if (msg) {
    gst_message_parse_error (msg, &error, NULL);
    g_printerr ("tracker-bench: %s\n", error->message);
    gst_message_unref (msg);
    rc = 1;
  }
  gst_object_unref (bus);
  gst_element_set_state (p, GST_STATE_NULL);
  gst_object_unref (sink);
  gst_object_unref (p);
  g_printerr ("tracker-bench: %u frames tracked\n", n);
  return rc || n == 0;
}

/* ---- cost mode ----------------------------------------------------------------------- */

#define W 640
#define H 360

typedef struct {
  gdouble x, y, vx, vy, w, h;
} Mover;

/* N objects moving with constant velocity (bouncing at the edges), ±1 px jitter: the
 * boxes of frame f. Deterministic. */
static void
movers_init (Mover * m, guint n, GRand * r)
{
  for (guint i = 0; i < n; i++) {
    m[i].w = g_rand_double_range (r, 16, 48);
    m[i].h = m[i].w * g_rand_double_range (r, 1.0, 2.5);
    m[i].x = g_rand_double_range (r, 0, W - m[i].w);
    m[i].y = g_rand_double_range (r, 0, H - m[i].h);
    m[i].vx = g_rand_double_range (r, -40, 40);
    m[i].vy = g_rand_double_range (r, -15, 15);
  }
}

static void
movers_step (Mover * m, guint n, gdouble dt)
{
  for (guint i = 0; i < n; i++) {
    m[i].x += m[i].vx * dt;
    m[i].y += m[i].vy * dt;
    if (m[i].x < 0 || m[i].x + m[i].w > W)
      m[i].vx = -m[i].vx;
    if (m[i].y < 0 || m[i].y + m[i].h > H)
      m[i].vy = -m[i].vy;
    m[i].x = CLAMP (m[i].x, 0, W - m[i].w);
    m[i].y = CLAMP (m[i].y, 0, H - m[i].h);
  }
}

static GstBuffer *
buffer_with_boxes (const Mover * m, guint n, guint frame, GRand * r)
{
  GstBuffer *buf = gst_buffer_new ();
  GST_BUFFER_PTS (buf) = gst_util_uint64_scale (frame, GST_SECOND, 10);
  for (guint i = 0; i < n; i++) {
    guint x = (guint) (m[i].x + g_rand_int_range (r, -1, 2) + 1);
    guint y = (guint) (m[i].y + g_rand_int_range (r, -1, 2) + 1);
    GstVideoRegionOfInterestMeta *roi = gst_buffer_add_video_region_of_interest_meta (buf,
        "person", x, y, (guint) m[i].w, (guint) m[i].h);
    gst_video_region_of_interest_meta_add_param (roi, gst_structure_new ("detection",
            "label", G_TYPE_STRING, "person", "label_id", G_TYPE_INT, 0,
            "confidence", G_TYPE_DOUBLE, g_rand_double_range (r, 0.3, 1.0),
            "x_min", G_TYPE_DOUBLE, x / (gdouble) W, "y_min", G_TYPE_DOUBLE, y / (gdouble) H,
            "x_max", G_TYPE_DOUBLE, (x + m[i].w) / W, "y_max", G_TYPE_DOUBLE,
            (y + m[i].h) / H, NULL));
  }
  return buf;
}

static void
counted_begin (void)
{
  CALLGRIND_ZERO_STATS;
  CALLGRIND_START_INSTRUMENTATION;
}

static void
counted_end (const gchar * arm, gint frames, double ms)
{
  CALLGRIND_STOP_INSTRUMENTATION;
  g_autofree gchar *tag = g_strdup_printf ("%s|%d", arm, frames);
  CALLGRIND_DUMP_STATS_AT (tag);
  g_print ("ARM\t%s\t%d\t%.4f\n", arm, frames, ms / frames);
}

#define WARMUP 6

static void
arm_objecttrack (const gchar * arm, guint n)
{
  GRand *r = g_rand_new_with_seed (n);
  Mover *m = g_new0 (Mover, n);
  movers_init (m, n, r);
  guint total = WARMUP + opt_frames;
  GstBuffer **bufs = g_new0 (GstBuffer *, total);
  for (guint f = 0; f < total; f++) {
    bufs[f] = buffer_with_boxes (m, n, f, r);
    movers_step (m, n, 0.1);
  }
  GstHarness *h = gst_harness_new ("objecttrack");
  gst_harness_set_src_caps_str (h, "video/x-raw,format=I420,width=640,height=360,"
      "framerate=10/1");
  for (guint f = 0; f < WARMUP; f++)
    gst_buffer_unref (gst_harness_push_and_pull (h, bufs[f]));
  double t0 = cpu_ms ();
  counted_begin ();
  for (guint f = WARMUP; f < total; f++)
    gst_buffer_unref (gst_harness_push_and_pull (h, bufs[f]));
  counted_end (arm, opt_frames, cpu_ms () - t0);
  gst_harness_teardown (h);
  g_free (bufs);
  g_free (m);
  g_rand_free (r);
}

static void
arm_tracker (const gchar * arm, guint n)
{
  GRand *r = g_rand_new_with_seed (n);
  Mover *m = g_new0 (Mover, n);
  movers_init (m, n, r);
  guint total = WARMUP + opt_frames;
  EfTrackerBox *boxes = g_new0 (EfTrackerBox, (gsize) total * n);
  GQuark person = g_quark_from_static_string ("person");
  for (guint f = 0; f < total; f++) {
    /* the same random sequence as buffer_with_boxes */
    for (guint i = 0; i < n; i++) {
      EfTrackerBox *b = &boxes[f * n + i];
      b->x = (guint) (m[i].x + g_rand_int_range (r, -1, 2) + 1);
      b->y = (guint) (m[i].y + g_rand_int_range (r, -1, 2) + 1);
      b->w = (guint) m[i].w;
      b->h = (guint) m[i].h;
      b->score = g_rand_double_range (r, 0.3, 1.0);
      b->label = person;
    }
    movers_step (m, n, 0.1);
  }
  EfTrackerParams p;
  ef_tracker_params_init (&p);
  EfTracker *t = ef_tracker_new (&p);
  for (guint f = 0; f < WARMUP; f++)
    ef_tracker_update (t, f * 0.1, &boxes[f * n], n);
  double t0 = cpu_ms ();
  counted_begin ();
  for (guint f = WARMUP; f < total; f++)
    ef_tracker_update (t, f * 0.1, &boxes[f * n], n);
  counted_end (arm, opt_frames, cpu_ms () - t0);
  EfTrackInfo *tracks;
  g_printerr ("tracker-bench: %s: %u live tracks at the end\n", arm,
      ef_tracker_get_tracks (t, &tracks));
  ef_tracker_free (t);
  g_free (boxes);
  g_free (m);
  g_rand_free (r);
}

/* One decoded frame of the clip (its middle) as RGB 640x360. */
static GstSample *
clip_frame (void)
{
  g_autofree gchar *desc = g_strdup_printf ("filesrc location=\"%s\" ! matroskademux ! "
      "jpegdec ! videoconvert ! videoscale ! video/x-raw,format=RGB,width=%d,height=%d ! "
      "appsink name=out sync=false", opt_clip, W, H);
  GstElement *p = gst_parse_launch (desc, NULL);
  GstElement *sink = gst_bin_get_by_name (GST_BIN (p), "out");
  gst_element_set_state (p, GST_STATE_PLAYING);
  GstSample *s = NULL;
  for (guint i = 0; i < 60; i++) {
    GstSample *n = gst_app_sink_pull_sample (GST_APP_SINK (sink));
    if (!n)
      break;
    if (s)
      gst_sample_unref (s);
    s = n;
  }
  gst_element_set_state (p, GST_STATE_NULL);
  gst_object_unref (sink);
  gst_object_unref (p);
  if (!s) {
    g_printerr ("tracker-bench: cannot decode %s\n", opt_clip);
    exit (1);
  }
  return s;
}

static void
arm_yolo (const gchar * arm)
{
  GstSample *s = clip_frame ();
  g_autofree gchar *desc = yolo_desc ();
  GstHarness *h = gst_harness_new_parse (desc);
  GstCaps *caps = gst_sample_get_caps (s);
  gst_harness_set_src_caps (h, gst_caps_ref (caps));
  GstBuffer *frame = gst_sample_get_buffer (s);
  /* model load and the first (initialising) forward pass outside the count */
  for (guint f = 0; f < 2; f++) {
    GstBuffer *b = gst_buffer_copy (frame);
    GST_BUFFER_PTS (b) = f * GST_SECOND / 10;
    gst_buffer_unref (gst_harness_push_and_pull (h, b));
  }
  GstBuffer **bufs = g_new0 (GstBuffer *, opt_frames);
  for (gint f = 0; f < opt_frames; f++) {
    bufs[f] = gst_buffer_copy_deep (frame);
    GST_BUFFER_PTS (bufs[f]) = (f + 2) * GST_SECOND / 10;
  }
  double t0 = cpu_ms ();
  counted_begin ();
  for (gint f = 0; f < opt_frames; f++)
    gst_buffer_unref (gst_harness_push_and_pull (h, bufs[f]));
  counted_end (arm, opt_frames, cpu_ms () - t0);
  g_free (bufs);
  gst_harness_teardown (h);
  gst_sample_unref (s);
}

static int
run_cost (void)
{
  gchar **arms = g_strsplit (opt_arms ? opt_arms :
      "yolo,objecttrack-20,objecttrack-200,tracker-20,tracker-200", ",", -1);
  for (guint i = 0; arms[i]; i++) {
    const gchar *a = arms[i];
    if (g_str_equal (a, "yolo"))
      arm_yolo (a);
    else if (g_str_has_prefix (a, "objecttrack-"))
      arm_objecttrack (a, atoi (a + strlen ("objecttrack-")));
    else if (g_str_has_prefix (a, "tracker-"))
      arm_tracker (a, atoi (a + strlen ("tracker-")));
    else {
      g_printerr ("tracker-bench: unknown arm %s\n", a);
      return 2;
    }
  }
  g_strfreev (arms);
  return 0;
}

/* ---- replay mode --------------------------------------------------------------------- */

/* The detections recorded by track mode through the tracker algorithm alone (default
 * parameters), written in the same format: tracker changes scored without re-running
 * the detector. */
static int
run_replay (void)
{
  g_autofree gchar *text = NULL;
  if (!g_file_get_contents (opt_in, &text, NULL, NULL)) {
    g_printerr ("tracker-bench: cannot read %s\n", opt_in);
    return 1;
  }
  FILE *f = fopen (opt_out, "w");
  if (!f)
    return 1;
  EfTrackerParams params;
  ef_tracker_params_init (&params);
  EfTracker *t = ef_tracker_new (&params);
  gchar **lines = g_strsplit (text, "\n", -1);
  GArray *boxes = g_array_new (FALSE, TRUE, sizeof (EfTrackerBox));
  for (guint i = 0; lines[i]; i++) {
    if (!*lines[i])
      continue;
    JsonParser *jp = json_parser_new ();
    if (!json_parser_load_from_data (jp, lines[i], -1, NULL)) {
      g_printerr ("tracker-bench: bad line %u of %s\n", i + 1, opt_in);
      return 1;
    }
    JsonObject *o = json_node_get_object (json_parser_get_root (jp));
    JsonArray *dets = json_object_get_array_member (o, "detections");
    g_array_set_size (boxes, json_array_get_length (dets));
    for (guint k = 0; k < boxes->len; k++) {
      JsonObject *d = json_array_get_object_element (dets, k);
      JsonArray *b = json_object_get_array_member (d, "box");
      EfTrackerBox *eb = &g_array_index (boxes, EfTrackerBox, k);
      memset (eb, 0, sizeof (*eb));
      eb->x = json_array_get_int_element (b, 0);
      eb->y = json_array_get_int_element (b, 1);
      eb->w = json_array_get_int_element (b, 2);
      eb->h = json_array_get_int_element (b, 3);
      eb->score = json_object_get_double_member (d, "score");
      eb->label = g_quark_from_string (json_object_get_string_member (d, "label"));
    }
    ef_tracker_update (t, json_object_get_double_member (o, "t_s"),
        (EfTrackerBox *) boxes->data, boxes->len);
    fprintf (f, "{\"frame\": %" G_GINT64_FORMAT ", \"t_s\": %.3f, \"objects\": [",
        json_object_get_int_member (o, "frame"), json_object_get_double_member (o, "t_s"));
    gboolean first = TRUE;
    for (guint k = 0; k < boxes->len; k++) {
      EfTrackerBox *eb = &g_array_index (boxes, EfTrackerBox, k);
      if (!eb->track_id)
        continue;
      fprintf (f, "%s{\"id\": %u, \"box\": [%.0f, %.0f, %.0f, %.0f], \"label\": \"%s\", "
          "\"state\": \"%s\", \"score\": %.3f}", first ? "" : ", ", eb->track_id, eb->x,
          eb->y, eb->w, eb->h, g_quark_to_string (eb->label),
          ef_track_state_name (eb->track.state), eb->score);
      first = FALSE;
    }
    fprintf (f, "]}\n");
    g_object_unref (jp);
  }
  fclose (f);
  g_strfreev (lines);
  g_array_unref (boxes);
  ef_tracker_free (t);
  return 0;
}

int
main (int argc, char **argv)
{
  GError *error = NULL;
  GOptionContext *ctx = g_option_context_new ("- objecttrack benchmark");
  g_option_context_add_main_entries (ctx, entries, NULL);
  g_option_context_add_group (ctx, gst_init_get_option_group ());
  if (!g_option_context_parse (ctx, &argc, &argv, &error)) {
    g_printerr ("tracker-bench: %s\n", error->message);
    return 2;
  }
  if (opt_mode && g_str_equal (opt_mode, "replay") && opt_in && opt_out)
    return run_replay ();
  if (!opt_mode || !opt_clip || !opt_model_dir) {
    g_printerr ("tracker-bench: --mode, --clip and --model-dir are required\n");
    return 2;
  }
  if (g_str_equal (opt_mode, "track") && opt_out)
    return run_track ();
  if (g_str_equal (opt_mode, "cost"))
    return run_cost ();
  g_printerr ("tracker-bench: --mode track --out FILE, or --mode cost\n");
  return 2;
}
