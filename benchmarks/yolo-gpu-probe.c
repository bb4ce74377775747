/* yolo-gpu-probe: one yolov4infer process, as scripts/gpu-verify.sh needs it
 * (CPU or CUDA, from a bundle; see docs/gpu.md).
 *
 *   yolo-gpu-probe --config C --weights W --labels L --images a.jpg,b.jpg
 *       [--device cpu|cuda] [--backend opencv|darknet|auto] [--batch B]
 *       [--frames N] [--size WxH] [--hold-ms MS] [--compare CPU.tsv]
 *
 * Decodes each image once (jpegdec, RGB, scaled to --size, by default to
 * the first image's size), then
 * pushes N frames (the images in turn) through
 * `appsrc ! yolov4infer batch-size=B ... ! appsink`. Prints, tab-separated:
 *
 *   PID      this process (first line, printed at once)
 *   COLD_MS  process start -> first output buffer (model load and first
 *            forward pass included; a cold process)
 *   LOAD_MS / FIRST_INFER_MS   the element's own model-load-ms and
 *            first-inference-ms
 *   PER_FRAME_MS  steady state: wall time from the last output of the
 *            first batch to the last output, per frame after the first batch
 *   DET image label confidence x0 y0 x1 y1   (normalised, first pass over the
 *            images only)
 *   MATCH / MISMATCH lines and MATCHED n/m with --compare (a DET file from a
 *            CPU run): every CPU detection with confidence >= 0.3 needs one of
 *            the same label with IoU >= 0.9 here, and the other way round
 *   LIB path  every libgstreamer / libopencv / libdarknet / libcuda* /
 *            libcudart / libc mapped into this process (where they came from)
 *   --hold-ms: after the last frame, sleep with the model loaded (the
 *            verify script reads the process's GPU memory meanwhile).
 * Exit status 1 on any error (the element's error message is printed), 3
 * when --compare found a mismatch.
 */
#include <gst/app/gstappsink.h>
#include <gst/app/gstappsrc.h>
#include <gst/gst.h>
#include <gst/video/video.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

typedef struct {
  gchar *image, *label;
  gdouble conf, x0, y0, x1, y1;
} Det;

static gdouble
now_ms (void)
{
  return g_get_monotonic_time () / 1000.0;
}

/* process start time, from /proc/self/stat field 22 (clock ticks since boot) */
static gdouble
process_age_ms (void)
{
  gchar *stat = NULL;
  gdouble age = -1;
  if (g_file_get_contents ("/proc/self/stat", &stat, NULL, NULL)) {
    const gchar *p = strrchr (stat, ')');
    guint64 start = 0;
    for (gint field = 2; p && *p; p++)
      if (*p == ' ' && ++field == 22) {
        start = g_ascii_strtoull (p + 1, NULL, 10);
        break;
      }
    struct timespec ts;
    clock_gettime (CLOCK_BOOTTIME, &ts);
    gdouble hz = sysconf (_SC_CLK_TCK);
    if (start > 0)
      age = (ts.tv_sec + ts.tv_nsec / 1e9 - start / hz) * 1000.0;
  }
  g_free (stat);
  return age;
}

static GstSample *
decode (const gchar * path, gint w, gint h)
{
  gchar *size = w > 0 ? g_strdup_printf (",width=%d,height=%d", w, h) : g_strdup ("");
  gchar *desc = g_strdup_printf ("filesrc location=\"%s\" ! jpegdec ! videoconvert ! "
      "videoscale ! video/x-raw,format=RGB%s ! appsink name=out", path, size);
  GstElement *p = gst_parse_launch (desc, NULL);
  g_free (desc);
  g_free (size);
  if (!p)
    return NULL;
  GstElement *sink = gst_bin_get_by_name (GST_BIN (p), "out");
  gst_element_set_state (p, GST_STATE_PLAYING);
  GstSample *s = gst_app_sink_try_pull_sample (GST_APP_SINK (sink), 30 * GST_SECOND);
  gst_element_set_state (p, GST_STATE_NULL);
  gst_object_unref (sink);
  gst_object_unref (p);
  return s;
}

static gchar *
bus_error (GstElement * p)
{
  GstBus *bus = gst_element_get_bus (p);
  GstMessage *m = gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR);
  gchar *out = NULL;
  if (m) {
    GError *e = NULL;
    gchar *dbg = NULL;
    gst_message_parse_error (m, &e, &dbg);
    out = g_strdup_printf ("%s (domain %s, code %d) %s", e->message,
        g_quark_to_string (e->domain), e->code, dbg ? dbg : "");
    g_error_free (e);
    g_free (dbg);
    gst_message_unref (m);
  }
  gst_object_unref (bus);
  return out;
}

static void
collect (GstBuffer * buf, const gchar * image, GArray * dets)
{
  gpointer iter = NULL;
  GstMeta *m;
  while ((m = gst_buffer_iterate_meta_filtered (buf, &iter,
              GST_VIDEO_REGION_OF_INTEREST_META_API_TYPE))) {
    GstVideoRegionOfInterestMeta *r = (GstVideoRegionOfInterestMeta *) m;
    GstStructure *s = gst_video_region_of_interest_meta_get_param (r, "detection");
    if (!s)
      continue;
    Det d = { g_strdup (image), g_strdup (g_quark_to_string (r->roi_type)) };
    gst_structure_get_double (s, "confidence", &d.conf);
    gst_structure_get_double (s, "x_min", &d.x0);
    gst_structure_get_double (s, "y_min", &d.y0);
    gst_structure_get_double (s, "x_max", &d.x1);
    gst_structure_get_double (s, "y_max", &d.y1);
    g_array_append_val (dets, d);
  }
}

static gdouble
iou (const Det * a, const Det * b)
{
  gdouble iw = MIN (a->x1, b->x1) - MAX (a->x0, b->x0);
  gdouble ih = MIN (a->y1, b->y1) - MAX (a->y0, b->y0);
  if (iw <= 0 || ih <= 0)
    return 0;
  gdouble u = (a->x1 - a->x0) * (a->y1 - a->y0) + (b->x1 - b->x0) * (b->y1 - b->y0) - iw * ih;
  return u > 0 ? iw * ih / u : 0;
}

static GArray *
read_dets (const gchar * path)
{
  gchar *text = NULL;
  if (!g_file_get_contents (path, &text, NULL, NULL))
    return NULL;
  GArray *a = g_array_new (FALSE, TRUE, sizeof (Det));
  gchar **lines = g_strsplit (text, "\n", -1);
  for (guint i = 0; lines[i]; i++) {
    gchar **f = g_strsplit (lines[i], "\t", -1);
    if (g_strv_length (f) == 8 && !strcmp (f[0], "DET")) {
      Det d = { g_strdup (f[1]), g_strdup (f[2]), g_ascii_strtod (f[3], NULL),
        g_ascii_strtod (f[4], NULL), g_ascii_strtod (f[5], NULL),
        g_ascii_strtod (f[6], NULL), g_ascii_strtod (f[7], NULL) };
      g_array_append_val (a, d);
    }
    g_strfreev (f);
  }
  g_strfreev (lines);
  g_free (text);
  return a;
}

/* every strong detection of @a has one in @b: same image and label, IoU >= 0.9 */
static guint
match_all (GArray * a, GArray * b, const gchar * what, guint * total)
{
  guint ok = 0;
  for (guint i = 0; i < a->len; i++) {
    const Det *x = &g_array_index (a, Det, i);
    if (x->conf < 0.3)
      continue;
    (*total)++;
    gdouble best = 0;
    for (guint j = 0; j < b->len; j++) {
      const Det *y = &g_array_index (b, Det, j);
      if (!strcmp (x->image, y->image) && !strcmp (x->label, y->label))
        best = MAX (best, iou (x, y));
    }
    printf ("%s\t%s\t%s\t%s %.3f\tbest IoU %.3f\n", best >= 0.9 ? "MATCH" : "MISMATCH",
        what, x->image, x->label, x->conf, best);
    ok += best >= 0.9;
  }
  return ok;
}

static void
print_libs (void)
{
  gchar *maps = NULL;
  if (!g_file_get_contents ("/proc/self/maps", &maps, NULL, NULL))
    return;
  GHashTable *seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  gchar **lines = g_strsplit (maps, "\n", -1);
  const gchar *want[] = { "/libgstreamer-1.0", "/libgstvideo-1.0", "/libopencv_dnn",
    "/libopencv_core", "/libdarknet", "/libcuda.", "/libcudart", "/libcublas", "/libcudnn",
    "/libc.so", "/ld-linux", "/libgstedgefaas" };
  for (guint i = 0; lines[i]; i++) {
    const gchar *path = strchr (lines[i], '/');
    if (!path || g_hash_table_contains (seen, path))
      continue;
    for (guint k = 0; k < G_N_ELEMENTS (want); k++)
      if (strstr (path, want[k])) {
        printf ("LIB\t%s\n", path);
        g_hash_table_add (seen, g_strdup (path));
        break;
      }
  }
  g_strfreev (lines);
  g_hash_table_unref (seen);
  g_free (maps);
}

int
main (int argc, char **argv)
{
  gdouble age0 = process_age_ms (), t_main = now_ms ();
  gchar *config = NULL, *weights = NULL, *labels = NULL, *images = NULL, *device = NULL,
      *backend = NULL, *size = NULL, *compare = NULL;
  gint batch = 1, frames = 0, hold_ms = 0;
  GOptionEntry entries[] = {
    {"config", 0, 0, G_OPTION_ARG_FILENAME, &config, "cfg", "F"},
    {"weights", 0, 0, G_OPTION_ARG_FILENAME, &weights, "weights", "F"},
    {"labels", 0, 0, G_OPTION_ARG_FILENAME, &labels, "names", "F"},
    {"images", 0, 0, G_OPTION_ARG_STRING, &images, "JPEGs, comma-separated", "LIST"},
    {"device", 0, 0, G_OPTION_ARG_STRING, &device, "cpu or cuda", "D"},
    {"backend", 0, 0, G_OPTION_ARG_STRING, &backend, "opencv, darknet or auto", "B"},
    {"batch", 0, 0, G_OPTION_ARG_INT, &batch, "batch-size", "N"},
    {"frames", 0, 0, G_OPTION_ARG_INT, &frames, "frames to push (default: 3 batches)", "N"},
    {"size", 0, 0, G_OPTION_ARG_STRING, &size, "scale the images to WxH", "WxH"},
    {"hold-ms", 0, 0, G_OPTION_ARG_INT, &hold_ms, "sleep with the model loaded", "MS"},
    {"compare", 0, 0, G_OPTION_ARG_FILENAME, &compare, "DET lines of a CPU run", "F"},
    {NULL}
  };
  GOptionContext *ctx = g_option_context_new ("- one yolov4infer process for gpu-verify.sh");
  g_option_context_add_main_entries (ctx, entries, NULL);
  g_option_context_add_group (ctx, gst_init_get_option_group ());
  if (!g_option_context_parse (ctx, &argc, &argv, NULL) || !config || !weights || !labels
      || !images || batch < 1) {
    g_printerr ("usage: yolo-gpu-probe --config C --weights W --labels L --images a.jpg,...\n");
    return 2;
  }
  g_option_context_free (ctx);
  /* first line: who to look for in nvidia-smi, or to stop */
  printf ("PID\t%d\n", (gint) getpid ());
  fflush (stdout);
  if (frames <= 0)
    frames = 3 * batch;
  gint sw = 0, sh = 0;
  if (size && sscanf (size, "%dx%d", &sw, &sh) != 2) {
    g_printerr ("yolo-gpu-probe: --size WxH\n");
    return 2;
  }
  gchar **paths = g_strsplit (images, ",", -1);
  guint n_img = g_strv_length (paths);
  GstSample **samples = g_new0 (GstSample *, n_img);
  for (guint i = 0; i < n_img; i++) {
    if (!(samples[i] = decode (paths[i], sw, sh))) {
      g_printerr ("yolo-gpu-probe: cannot decode %s\n", paths[i]);
      return 1;
    }
    if (sw <= 0) {
      /* one caps for the stream: the others are scaled to the first's size */
      GstVideoInfo vi;
      gst_video_info_from_caps (&vi, gst_sample_get_caps (samples[i]));
      sw = GST_VIDEO_INFO_WIDTH (&vi);
      sh = GST_VIDEO_INFO_HEIGHT (&vi);
    }
  }

  gchar *desc = g_strdup_printf ("appsrc name=src format=time ! yolov4infer name=det "
      "config=\"%s\" weights=\"%s\" labels=\"%s\" device=%s backend=%s batch-size=%d ! "
      "appsink name=out sync=false", config, weights, labels, device ? device : "cpu",
      backend ? backend : "auto", batch);
  GError *err = NULL;
  GstElement *p = gst_parse_launch (desc, &err);
  g_free (desc);
  if (!p) {
    g_printerr ("yolo-gpu-probe: %s\n", err->message);
    return 1;
  }
  GstElement *src = gst_bin_get_by_name (GST_BIN (p), "src");
  GstElement *sink = gst_bin_get_by_name (GST_BIN (p), "out");
  GstElement *det = gst_bin_get_by_name (GST_BIN (p), "det");
  g_object_set (src, "caps", gst_sample_get_caps (samples[0]), NULL);
  if (gst_element_set_state (p, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE) {
    gchar *e = bus_error (p);
    printf ("ERROR\t%s\n", e ? e : "pipeline does not start");
    fflush (stdout);
    return 1;
  }
  GArray *dets = g_array_new (FALSE, TRUE, sizeof (Det));
  gdouble t_first = 0, t_steady = 0, t_last = 0;
  guint steady_frames = 0;
  gint pushed = 0;
  for (gint got = 0; got < frames; got++) {
    /* keep a batch in flight: push until the element can release one */
    while (pushed < frames && pushed < got + batch) {
      GstSample *s = samples[pushed % n_img];
      GstBuffer *b = gst_buffer_copy (gst_sample_get_buffer (s));
      GST_BUFFER_PTS (b) = pushed * GST_SECOND / 10;
      GST_BUFFER_DURATION (b) = GST_SECOND / 10;
      if (gst_app_src_push_buffer (GST_APP_SRC (src), b) != GST_FLOW_OK)
        break;
      pushed++;
    }
    if (pushed == frames)
      gst_app_src_end_of_stream (GST_APP_SRC (src));
    GstSample *out = gst_app_sink_try_pull_sample (GST_APP_SINK (sink), 300 * GST_SECOND);
    if (!out) {
      gchar *e = bus_error (p);
      printf ("ERROR\t%s\n", e ? e : "no output");
      fflush (stdout);
      return 1;
    }
    gdouble t = now_ms ();
    if (got == 0)
      t_first = t;
    /* a batch's buffers leave together: the steady state runs from the end
     * of the first batch to the end of the last */
    if (got == batch - 1)
      t_steady = t;
    if (got >= batch)
      steady_frames++;
    t_last = t;
    if ((guint) got < n_img)
      collect (gst_sample_get_buffer (out), g_path_get_basename (paths[got]), dets);
    gst_sample_unref (out);
  }
  GstStructure *stats = NULL;
  g_object_get (det, "stats", &stats, NULL);
  gdouble load = 0, first = 0;
  gst_structure_get_double (stats, "model-load-ms", &load);
  gst_structure_get_double (stats, "first-inference-ms", &first);
  printf ("COLD_MS\t%.1f\n", (age0 >= 0 ? age0 : 0) + (t_first - t_main));
  printf ("LOAD_MS\t%.1f\nFIRST_INFER_MS\t%.1f\n", load, first);
  if (steady_frames > 0)
    printf ("PER_FRAME_MS\t%.2f\t(%u frames, batch %d)\n", (t_last - t_steady) / steady_frames,
        steady_frames, batch);
  for (guint i = 0; i < dets->len; i++) {
    const Det *d = &g_array_index (dets, Det, i);
    printf ("DET\t%s\t%s\t%.4f\t%.4f\t%.4f\t%.4f\t%.4f\n", d->image, d->label, d->conf,
        d->x0, d->y0, d->x1, d->y1);
  }
  print_libs ();
  fflush (stdout);
  if (hold_ms > 0)
    g_usleep ((gulong) hold_ms * 1000);
  gint status = 0;
  if (compare) {
    GArray *ref = read_dets (compare);
    if (!ref) {
      g_printerr ("yolo-gpu-probe: cannot read %s\n", compare);
      return 1;
    }
    guint total = 0, ok = match_all (ref, dets, "cpu->this", &total);
    ok += match_all (dets, ref, "this->cpu", &total);
    printf ("MATCHED\t%u/%u\n", ok, total);
    status = ok == total && total > 0 ? 0 : 3;
  }
  gst_structure_free (stats);
  gst_element_set_state (p, GST_STATE_NULL);
  fflush (stdout);
  return status;
}
