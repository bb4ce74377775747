/* yolo-element-bench: what the yolov4infer element costs on top of the engine.
 *
 * Baseline, named "plain loop": the same backend (OpenCV DNN via
 * readNetFromDarknet, or libdarknet) driven directly in a C loop on the same
 * decoded frame -- one-pass preprocessing + forward pass + candidate decoding,
 * nothing else, as an application calling the library itself would do.
 * Measured: the element in a real pipeline (appsrc ! yolov4infer ! fakesink)
 * on the same frames: buffer flow, metas, NMS, bus messages included.
 * The model load (start()) and the first forward pass are reported apart from
 * the steady state. Loop and element runs are interleaved round by round so
 * machine noise hits both alike; the figures are medians over rounds and the
 * overhead is the ratio element / plain loop of the same round.
 *
 *   yolo-element-bench --shared ../shared [--yolov4-tiny-weights W] [--frames N] [--rounds R]
 *
 * Prints a markdown section (benchmarks/yolo-element.sh feeds it to
 * benchmarks/lib/update-section.sh yolo-element).
 */
#include <gst/app/gstappsrc.h>
#include <gst/gst.h>
#include <gst/video/video.h>
#include <stdio.h>
#include <string.h>

#include "yolobackend.h"
#include "yolocfg.h"
#include "yolopreproc.h"

typedef struct {
  const gchar *name;
  gchar *cfg, *weights, *names;
  gint size;
  const gchar *backend;
  const YoloBackendVTable *vt;
  GArray *loop_ms, *elem_ms, *ratio, *load_ms, *first_ms, *elem_fwd_ms;
  gchar *skipped;
} Case;

static gdouble
now_ms (void)
{
  return g_get_monotonic_time () / 1000.0;
}

static gint
cmp_double (gconstpointer a, gconstpointer b)
{
  gdouble x = *(const gdouble *) a, y = *(const gdouble *) b;
  return (x > y) - (x < y);
}

static gdouble
median (GArray * v)
{
  if (!v->len)
    return 0;
  GArray *c = g_array_copy (v);
  g_array_sort (c, cmp_double);
  gdouble m = c->len % 2 ? g_array_index (c, gdouble, c->len / 2)
      : (g_array_index (c, gdouble, c->len / 2 - 1) + g_array_index (c, gdouble, c->len / 2)) / 2;
  g_array_unref (c);
  return m;
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

/* The plain loop: preprocess + forward + decode, per frame. ms per frame. */
static gboolean
plain_loop (Case * c, GstSample * s, gint frames, gdouble * ms, GError ** error)
{
  YoloCfg *cfg = yolo_cfg_load (c->cfg, error);
  if (!cfg)
    return FALSE;
  /* the same validation the element does: never hand libdarknet a network it
   * would silently run wrong */
  if (!yolo_cfg_check_backend (cfg, c->vt->kind, error)) {
    yolo_cfg_free (cfg);
    return FALSE;
  }
  YoloBackendOptions o = { c->cfg, c->weights, cfg, c->size, c->size, "cpu", 1 };
  YoloBackend *b = c->vt->open (&o, error);
  if (!b) {
    yolo_cfg_free (cfg);
    return FALSE;
  }
  GstVideoInfo info;
  GstVideoFrame f;
  gst_video_info_from_caps (&info, gst_sample_get_caps (s));
  gfloat *in = g_new (gfloat, (gsize) 3 * c->size * c->size);
  GArray *out[1];
  gboolean ok = TRUE;
  /* first pass (initialisation) not counted, as for the element */
  for (gint i = -1; i < frames && ok; i++) {
    if (i == 0)
      *ms = now_ms ();
    YoloTransform xf;
    gst_video_frame_map (&f, &info, gst_sample_get_buffer (s), GST_MAP_READ);
    yolo_preproc_frame (&f, NULL, c->size, c->size, FALSE, in, &xf);
    gst_video_frame_unmap (&f);
    ok = c->vt->infer (b, in, 1, 0.25f, out, error);
    if (ok) {
      /* what an application does with the candidates: map back, cap, NMS */
      GArray *dets = g_array_new (FALSE, FALSE, sizeof (YoloDetection));
      for (guint k = 0; k < out[0]->len; k++) {
        YoloDetection d;
        yolo_transform_candidate (&xf, &g_array_index (out[0], YoloCandidate, k), &d);
        g_array_append_val (dets, d);
      }
      yolo_keep_top (dets, 1000);
      yolo_nms_per_class (dets, info.width, info.height, 0.45);
      g_array_unref (dets);
      g_array_unref (out[0]);
    }
  }
  *ms = (now_ms () - *ms) / frames;
  g_free (in);
  c->vt->close (b);
  yolo_cfg_free (cfg);
  return ok;
}

/* The element: model loaded in PAUSED, then the clock runs from PLAYING to
 * EOS over @frames buffers after one warm-up buffer. */
static gboolean
element_run (Case * c, GstSample * s, gint frames, gdouble * ms, gdouble * load,
    gdouble * first, gdouble * fwd, GError ** error)
{
  gchar *desc = g_strdup_printf ("appsrc name=src format=time max-bytes=0 ! "
      "yolov4infer name=infer backend=%s config=\"%s\" weights=\"%s\" labels=\"%s\" "
      "input-size=%d ! fakesink name=sink sync=false signal-handoffs=true", c->backend, c->cfg,
      c->weights, c->names, c->size);
  GstElement *p = gst_parse_launch (desc, error);
  g_free (desc);
  if (!p)
    return FALSE;
  GstElement *src = gst_bin_get_by_name (GST_BIN (p), "src");
  GstElement *infer = gst_bin_get_by_name (GST_BIN (p), "infer");
  GstBus *bus = gst_element_get_bus (p);
  g_object_set (src, "caps", gst_sample_get_caps (s), NULL);
  gboolean ok = gst_element_set_state (p, GST_STATE_PAUSED) != GST_STATE_CHANGE_FAILURE;
  if (ok) {
    /* warm-up frame: the first forward pass */
    GstBuffer *b = gst_buffer_copy (gst_sample_get_buffer (s));
    GST_BUFFER_PTS (b) = 0;
    gst_app_src_push_buffer (GST_APP_SRC (src), b);
    ok = gst_element_get_state (p, NULL, NULL, 60 * GST_SECOND) == GST_STATE_CHANGE_SUCCESS;
  }
  if (ok) {
    for (gint i = 1; i <= frames; i++) {
      GstBuffer *b = gst_buffer_copy (gst_sample_get_buffer (s));
      GST_BUFFER_PTS (b) = i * 40 * GST_MSECOND;
      gst_app_src_push_buffer (GST_APP_SRC (src), b);
    }
    gst_app_src_end_of_stream (GST_APP_SRC (src));
    gdouble t0 = now_ms ();
    gst_element_set_state (p, GST_STATE_PLAYING);
    GstMessage *m = gst_bus_timed_pop_filtered (bus, 600 * GST_SECOND,
        GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
    *ms = (now_ms () - t0) / frames;
    if (!m || GST_MESSAGE_TYPE (m) == GST_MESSAGE_ERROR) {
      if (m)
        gst_message_parse_error (m, error, NULL);
      else
        g_set_error (error, GST_CORE_ERROR, GST_CORE_ERROR_FAILED, "timeout");
      ok = FALSE;
    }
    if (m)
      gst_message_unref (m);
    GstStructure *st = NULL;
    g_object_get (infer, "stats", &st, NULL);
    gst_structure_get_double (st, "model-load-ms", load);
    gst_structure_get_double (st, "first-inference-ms", first);
    gdouble inf_ms = 0;
    guint64 passes = 0;
    gst_structure_get_double (st, "inference-ms", &inf_ms);
    gst_structure_get_uint64 (st, "forward-passes", &passes);
    /* steady-state forward pass inside the element (warm-up excluded) */
    *fwd = passes > 1 ? (inf_ms - *first) / (passes - 1) : 0;
    gst_structure_free (st);
  } else if (error && !*error) {
    GstMessage *m = gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR);
    if (m) {
      gst_message_parse_error (m, error, NULL);
      gst_message_unref (m);
    } else {
      g_set_error (error, GST_CORE_ERROR, GST_CORE_ERROR_STATE_CHANGE, "start failed");
    }
  }
  gst_element_set_state (p, GST_STATE_NULL);
  gst_object_unref (bus);
  gst_object_unref (src);
  gst_object_unref (infer);
  gst_object_unref (p);
  return ok;
}

int
main (int argc, char **argv)
{
  gchar *shared = NULL, *tiny_weights = NULL;
  gint frames = 40, rounds = 5;
  GOptionEntry entries[] = {
    {"shared", 0, 0, G_OPTION_ARG_FILENAME, &shared, "../shared directory", "DIR"},
    {"yolov4-tiny-weights", 0, 0, G_OPTION_ARG_FILENAME, &tiny_weights,
        "weights for models/cfg/yolov4-tiny.cfg (scripts/gen-weights)", "FILE"},
    {"frames", 0, 0, G_OPTION_ARG_INT, &frames, "frames per round", "N"},
    {"rounds", 0, 0, G_OPTION_ARG_INT, &rounds, "rounds", "R"},
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

  GstSample *s = decode ("/usr/share/darknet/data/dog.jpg");
  if (!s) {
    g_printerr ("cannot decode /usr/share/darknet/data/dog.jpg\n");
    return 1;
  }
  gchar *fcfg = g_build_filename (shared, "models/yolo-fastest-1.1-coco/yolo-fastest-1.1.cfg", NULL);
  gchar *fw = g_build_filename (shared, "models/yolo-fastest-1.1-coco/yolo-fastest-1.1.weights", NULL);
  gchar *names = g_build_filename (shared, "models/yolo-fastest-1.1-coco/coco.names", NULL);
  gchar *tcfg = g_build_filename (shared, "models/cfg/yolov4-tiny.cfg", NULL);

  Case cases[] = {
    {"Yolo-Fastest 1.1", fcfg, fw, names, 320, "opencv", yolo_backend_opencv ()},
    {"Yolo-Fastest 1.1", fcfg, fw, names, 320, "darknet", yolo_backend_darknet ()},
    {"YOLOv4-tiny (generated weights)", tcfg, tiny_weights, names, 416, "opencv", yolo_backend_opencv ()},
    {"YOLOv4-tiny (generated weights)", tcfg, tiny_weights, names, 416, "darknet", yolo_backend_darknet ()},
  };
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
    Case *c = &cases[i];
    c->loop_ms = g_array_new (FALSE, FALSE, sizeof (gdouble));
    c->elem_ms = g_array_new (FALSE, FALSE, sizeof (gdouble));
    c->ratio = g_array_new (FALSE, FALSE, sizeof (gdouble));
    c->load_ms = g_array_new (FALSE, FALSE, sizeof (gdouble));
    c->first_ms = g_array_new (FALSE, FALSE, sizeof (gdouble));
    c->elem_fwd_ms = g_array_new (FALSE, FALSE, sizeof (gdouble));
    if (!c->vt)
      c->skipped = g_strdup ("backend not compiled in");
    else if (!c->weights)
      c->skipped = g_strdup ("no --yolov4-tiny-weights given");
  }

  for (gint r = 0; r < rounds; r++) {
    for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
      Case *c = &cases[i];
      gdouble lm = 0, em = 0, load = 0, first = 0, fwd = 0;
      if (c->skipped)
        continue;
      /* alternate which goes first */
      gboolean ok;
      if (r % 2) {
        ok = element_run (c, s, frames, &em, &load, &first, &fwd, &error)
            && plain_loop (c, s, frames, &lm, &error);
      } else {
        ok = plain_loop (c, s, frames, &lm, &error)
            && element_run (c, s, frames, &em, &load, &first, &fwd, &error);
      }
      if (!ok) {
        c->skipped = g_strdup_printf ("fails: %s", error ? error->message : "?");
        g_clear_error (&error);
        continue;
      }
      gdouble ratio = em / lm;
      g_array_append_val (c->loop_ms, lm);
      g_array_append_val (c->elem_ms, em);
      g_array_append_val (c->ratio, ratio);
      g_array_append_val (c->load_ms, load);
      g_array_append_val (c->first_ms, first);
      g_array_append_val (c->elem_fwd_ms, fwd);
      g_printerr ("round %d %s/%s: loop %.2f ms, element %.2f ms (x%.3f), "
          "element forward pass %.2f ms\n", r, c->name, c->backend, lm, em, ratio, fwd);
    }
  }

  printf ("## yolov4infer element overhead\n\n");
  printf ("`benchmarks/yolo-element.sh` (program `yolo-element-bench`, built from "
      "tests/yolo). Frame: dog.jpg 768x576 decoded once to I420 (as jpegdec gives it). "
      "Baseline **plain loop**: the same backend driven directly in a C loop "
      "(one-pass preprocessing + forward pass + mapping boxes back + top-1000 cap + per-class NMS). Measured: `appsrc ! yolov4infer ! "
      "fakesink` on the same frames (metas, NMS, bus messages included). "
      "%d frames per round after one warm-up frame, %d interleaved rounds, medians; "
      "overhead = element / plain loop in the same round, minus 1. Model load and the "
      "first forward pass are the element's own `stats` figures.\n\n", frames, rounds);
  printf ("| model @input | backend | plain loop ms/frame (fps) | element ms/frame (fps) | "
      "element overhead | forward pass inside the element ms | model load ms | first frame ms |\n");
  printf ("|---|---|---|---|---|---|---|---|\n");
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
    Case *c = &cases[i];
    if (c->skipped || !c->ratio->len) {
      printf ("| %s @%d | %s | skipped: %s | | | | | |\n", c->name, c->size, c->backend,
          c->skipped ? c->skipped : "no rounds");
      continue;
    }
    gdouble lm = median (c->loop_ms), em = median (c->elem_ms);
    printf ("| %s @%d | %s | %.2f (%.1f) | %.2f (%.1f) | %+.1f %% | %.2f | %.1f | %.1f |\n",
        c->name, c->size, c->backend, lm, 1000 / lm, em, 1000 / em,
        (median (c->ratio) - 1) * 100, median (c->elem_fwd_ms), median (c->load_ms),
        median (c->first_ms));
  }
  printf ("\nTarget (issue 5): element overhead <= 5 %%.\n");
  gst_sample_unref (s);
  return 0;
}
