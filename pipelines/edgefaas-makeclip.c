/* edgefaas-makeclip: make a test/demo clip on the spot from images on the machine.
 *
 *   edgefaas-makeclip --out clip.mkv [--truth truth.json] [--fps 10] [--width 640 --height 360]
 *       (--schedule quiet:5,dog:3,quiet:6,person:3 | --duration 60 --motion-fraction 0.3)
 *       [--images /usr/share/darknet/data]
 *
 * A still synthetic background (sky, ground, two buildings) with quiet stretches; in a
 * motion stretch one photo (darknet's dog.jpg, person.jpg, horses.jpg) slides across the
 * frame, then disappears. Written as MJPEG in Matroska (plugins-good only). The ground
 * truth (intervals in seconds and frames, the COCO label expected in each) goes to
 * --truth as JSON. Nothing binary is committed: the clip is always made here.
 */
#include <math.h>
#include <string.h>

#include <gst/app/gstappsink.h>
#include <gst/app/gstappsrc.h>
#include <gst/video/video.h>
#include <gst/gst.h>
#include <json-glib/json-glib.h>

typedef struct {
  const gchar *name;    /* schedule word */
  const gchar *file;    /* image file */
  const gchar *label;   /* COCO label expected */
} Subject;

static const Subject subjects[] = {
  {"dog", "dog.jpg", "dog"},
  {"person", "person.jpg", "person"},
  {"horses", "horses.jpg", "horse"},
};

typedef struct {
  const Subject *subject;    /* NULL = quiet */
  gdouble seconds;
  guint start_frame, end_frame;  /* [start, end) */
} Segment;

typedef struct {
  guint8 *rgb;
  gint w, h;
} Image;

static gboolean
load_image (const gchar * path, gint w, gint h, Image * img, GError ** error)
{
  gchar *desc = g_strdup_printf ("filesrc location=\"%s\" ! decodebin ! videoconvert ! "
      "videoscale ! video/x-raw,format=RGB,width=%d,height=%d,pixel-aspect-ratio=1/1 ! "
      "appsink name=out sync=false", path, w, h);
  GstElement *p = gst_parse_launch (desc, error);
  g_free (desc);
  if (!p)
    return FALSE;
  GstElement *sink = gst_bin_get_by_name (GST_BIN (p), "out");
  gst_element_set_state (p, GST_STATE_PLAYING);
  GstSample *s = gst_app_sink_try_pull_sample (GST_APP_SINK (sink), 20 * GST_SECOND);
  gboolean ok = FALSE;
  if (s) {
    GstVideoInfo vi;
    gst_video_info_from_caps (&vi, gst_sample_get_caps (s));
    GstVideoFrame f;
    if (gst_video_frame_map (&f, &vi, gst_sample_get_buffer (s), GST_MAP_READ)) {
      img->w = w;
      img->h = h;
      img->rgb = g_malloc (w * h * 3);
      for (gint y = 0; y < h; y++)
        memcpy (img->rgb + y * w * 3, (guint8 *) GST_VIDEO_FRAME_PLANE_DATA (&f, 0)
            + y * GST_VIDEO_FRAME_PLANE_STRIDE (&f, 0), w * 3);
      gst_video_frame_unmap (&f);
      ok = TRUE;
    }
    gst_sample_unref (s);
  } else {
    g_set_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_READ, "cannot decode %s", path);
  }
  gst_element_set_state (p, GST_STATE_NULL);
  gst_object_unref (sink);
  gst_object_unref (p);
  return ok;
}

static void
draw_background (guint8 * rgb, gint w, gint h)
{
  for (gint y = 0; y < h; y++) {
    for (gint x = 0; x < w; x++) {
      guint8 *p = rgb + (y * w + x) * 3;
      if (y < h * 0.55) {       /* sky gradient */
        p[0] = 110 + 60 * y / h;
        p[1] = 150 + 50 * y / h;
        p[2] = 200;
      } else {                  /* ground */
        p[0] = 90;
        p[1] = 100 + 20 * (y - h * 0.55) / h;
        p[2] = 70;
      }
      /* two buildings */
      if ((x > w * 0.05 && x < w * 0.2 && y > h * 0.2 && y < h * 0.55)
          || (x > w * 0.75 && x < w * 0.92 && y > h * 0.3 && y < h * 0.55)) {
        p[0] = 120;
        p[1] = 110;
        p[2] = 105;
        if (((x / 12) % 2) && ((y / 16) % 2))
          p[0] = p[1] = p[2] = 60;  /* windows */
      }
    }
  }
}

static void
blit (guint8 * dst, gint w, gint h, const Image * img, gint x0, gint y0)
{
  for (gint y = 0; y < img->h; y++) {
    gint dy = y0 + y;
    if (dy < 0 || dy >= h)
      continue;
    for (gint x = 0; x < img->w; x++) {
      gint dx = x0 + x;
      if (dx < 0 || dx >= w)
        continue;
      memcpy (dst + (dy * w + dx) * 3, img->rgb + (y * img->w + x) * 3, 3);
    }
  }
}

static gchar *opt_out, *opt_truth, *opt_schedule, *opt_images;
static gint opt_fps = 10, opt_w = 640, opt_h = 360;
static gdouble opt_duration = 0, opt_fraction = -1, opt_burst = 3;

static GOptionEntry entries[] = {
  {"out", 'o', 0, G_OPTION_ARG_FILENAME, &opt_out, "Output .mkv file", "FILE"},
  {"truth", 't', 0, G_OPTION_ARG_FILENAME, &opt_truth, "Ground truth JSON file", "FILE"},
  {"schedule", 's', 0, G_OPTION_ARG_STRING, &opt_schedule,
      "Segments NAME:SECONDS, NAME = quiet, dog, person or horses", "LIST"},
  {"duration", 'd', 0, G_OPTION_ARG_DOUBLE, &opt_duration, "Clip length (with --motion-fraction)",
      "S"},
  {"motion-fraction", 'm', 0, G_OPTION_ARG_DOUBLE, &opt_fraction,
      "Fraction of the time with motion, in bursts of --burst seconds", "F"},
  {"burst", 0, 0, G_OPTION_ARG_DOUBLE, &opt_burst, "Motion burst length (default 3 s)", "S"},
  {"fps", 0, 0, G_OPTION_ARG_INT, &opt_fps, "Frame rate (default 10)", "N"},
  {"width", 0, 0, G_OPTION_ARG_INT, &opt_w, "Width (default 640)", "PX"},
  {"height", 0, 0, G_OPTION_ARG_INT, &opt_h, "Height (default 360)", "PX"},
  {"images", 0, 0, G_OPTION_ARG_FILENAME, &opt_images,
      "Directory with dog.jpg, person.jpg, horses.jpg (default /usr/share/darknet/data)", "DIR"},
  {NULL}
};

static GArray *
parse_schedule (const gchar * s, GError ** error)
{
  GArray *segs = g_array_new (FALSE, TRUE, sizeof (Segment));
  gchar **parts = g_strsplit (s, ",", -1);
  for (guint i = 0; parts[i]; i++) {
    gchar **kv = g_strsplit (g_strstrip (parts[i]), ":", 2);
    Segment seg = { 0 };
    gboolean known = g_str_equal (kv[0], "quiet");
    for (guint j = 0; j < G_N_ELEMENTS (subjects); j++)
      if (g_str_equal (kv[0], subjects[j].name)) {
        seg.subject = &subjects[j];
        known = TRUE;
      }
    seg.seconds = kv[1] ? g_ascii_strtod (kv[1], NULL) : 0;
    if (!known || seg.seconds <= 0) {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
          "bad schedule item '%s' (NAME:SECONDS, NAME = quiet, dog, person, horses)", parts[i]);
      g_strfreev (kv);
      g_strfreev (parts);
      g_array_unref (segs);
      return NULL;
    }
    g_array_append_val (segs, seg);
    g_strfreev (kv);
  }
  g_strfreev (parts);
  return segs;
}

/* Evenly spread bursts: n bursts of opt_burst s, quiet in between, quiet at both ends. */
static gchar *
schedule_for_fraction (gdouble duration, gdouble fraction, gdouble burst)
{
  guint n = MAX (1, (guint) round (duration * fraction / burst));
  gdouble motion = n * burst;
  gdouble quiet = (duration - motion) / (n + 1);
  GString *s = g_string_new (NULL);
  for (guint i = 0; i < n; i++)
    g_string_append_printf (s, "%squiet:%.3f,%s:%.3f", i ? "," : "", quiet,
        subjects[i % G_N_ELEMENTS (subjects)].name, burst);
  g_string_append_printf (s, ",quiet:%.3f", quiet);
  return g_string_free (s, FALSE);
}

int
main (int argc, char **argv)
{
  GError *error = NULL;
  GOptionContext *ctx = g_option_context_new ("- make a demo/test clip with known motion");
  g_option_context_add_main_entries (ctx, entries, NULL);
  g_option_context_add_group (ctx, gst_init_get_option_group ());
  if (!g_option_context_parse (ctx, &argc, &argv, &error)) {
    g_printerr ("edgefaas-makeclip: %s\n", error->message);
    return 2;
  }
  if (!opt_out) {
    g_printerr ("edgefaas-makeclip: --out is required\n");
    return 2;
  }
  if (!opt_schedule) {
    if (opt_duration <= 0 || opt_fraction <= 0 || opt_fraction >= 1) {
      g_printerr ("edgefaas-makeclip: give --schedule, or --duration and --motion-fraction "
          "(0 < F < 1)\n");
      return 2;
    }
    opt_schedule = schedule_for_fraction (opt_duration, opt_fraction, opt_burst);
  }
  GArray *segs = parse_schedule (opt_schedule, &error);
  if (!segs) {
    g_printerr ("edgefaas-makeclip: %s\n", error->message);
    return 2;
  }
  const gchar *dir = opt_images ? opt_images : "/usr/share/darknet/data";
  gint ow = opt_h * 0.6 * 4 / 3, oh = opt_h * 0.6;   /* subject size: 60 % of the height */
  Image imgs[G_N_ELEMENTS (subjects)] = { 0 };
  for (guint i = 0; i < segs->len; i++) {
    Segment *sg = &g_array_index (segs, Segment, i);
    if (!sg->subject)
      continue;
    guint k = sg->subject - subjects;
    if (imgs[k].rgb)
      continue;
    gchar *path = g_build_filename (dir, sg->subject->file, NULL);
    if (!g_file_test (path, G_FILE_TEST_IS_REGULAR)) {
      g_printerr ("edgefaas-makeclip: %s not found (apt-get install darknet, or --images DIR)\n",
          path);
      return 1;
    }
    if (!load_image (path, ow, oh, &imgs[k], &error)) {
      g_printerr ("edgefaas-makeclip: %s: %s\n", path, error->message);
      return 1;
    }
    g_free (path);
  }

  guint frame = 0;
  for (guint i = 0; i < segs->len; i++) {
    Segment *sg = &g_array_index (segs, Segment, i);
    sg->start_frame = frame;
    frame += (guint) round (sg->seconds * opt_fps);
    sg->end_frame = frame;
  }
  guint total = frame;

  gchar *desc = g_strdup_printf ("appsrc name=src format=time caps=video/x-raw,format=RGB,"
      "width=%d,height=%d,framerate=%d/1,pixel-aspect-ratio=1/1 ! videoconvert ! "
      "video/x-raw,format=I420 ! jpegenc quality=90 ! matroskamux ! filesink location=\"%s\"",
      opt_w, opt_h, opt_fps, opt_out);
  GstElement *p = gst_parse_launch (desc, &error);
  g_free (desc);
  if (!p) {
    g_printerr ("edgefaas-makeclip: %s\n", error->message);
    return 1;
  }
  GstElement *src = gst_bin_get_by_name (GST_BIN (p), "src");
  gst_element_set_state (p, GST_STATE_PLAYING);
  guint8 *bg = g_malloc (opt_w * opt_h * 3);
  draw_background (bg, opt_w, opt_h);
  guint seg_i = 0;
  for (frame = 0; frame < total; frame++) {
    while (frame >= g_array_index (segs, Segment, seg_i).end_frame)
      seg_i++;
    Segment *sg = &g_array_index (segs, Segment, seg_i);
    GstBuffer *buf = gst_buffer_new_allocate (NULL, opt_w * opt_h * 3, NULL);
    GstMapInfo m;
    gst_buffer_map (buf, &m, GST_MAP_WRITE);
    memcpy (m.data, bg, opt_w * opt_h * 3);
    if (sg->subject) {
      const Image *img = &imgs[sg->subject - subjects];
      gdouble t = (gdouble) (frame - sg->start_frame) / MAX (1, sg->end_frame - sg->start_frame);
      /* slides from the left edge to the right edge, fully visible most of the time */
      gint x = (gint) (-img->w * 0.2 + t * (opt_w - img->w * 0.6));
      gint y = (gint) (opt_h * 0.35);
      blit (m.data, opt_w, opt_h, img, x, y);
    }
    gst_buffer_unmap (buf, &m);
    GST_BUFFER_PTS (buf) = gst_util_uint64_scale (frame, GST_SECOND, opt_fps);
    GST_BUFFER_DURATION (buf) = gst_util_uint64_scale (1, GST_SECOND, opt_fps);
    if (gst_app_src_push_buffer (GST_APP_SRC (src), buf) != GST_FLOW_OK)
      break;
  }
  gst_app_src_end_of_stream (GST_APP_SRC (src));
  GstBus *bus = gst_element_get_bus (p);
  GstMessage *msg = gst_bus_timed_pop_filtered (bus, GST_CLOCK_TIME_NONE,
      GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
  int rc = 0;
  if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ERROR) {
    gst_message_parse_error (msg, &error, NULL);
    g_printerr ("edgefaas-makeclip: %s\n", error->message);
    rc = 1;
  }
  gst_message_unref (msg);
  gst_object_unref (bus);
  gst_element_set_state (p, GST_STATE_NULL);

  JsonBuilder *b = json_builder_new ();
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "clip");
  json_builder_add_string_value (b, opt_out);
  json_builder_set_member_name (b, "fps");
  json_builder_add_int_value (b, opt_fps);
  json_builder_set_member_name (b, "width");
  json_builder_add_int_value (b, opt_w);
  json_builder_set_member_name (b, "height");
  json_builder_add_int_value (b, opt_h);
  json_builder_set_member_name (b, "frames");
  json_builder_add_int_value (b, total);
  json_builder_set_member_name (b, "duration_s");
  json_builder_add_double_value (b, (gdouble) total / opt_fps);
  json_builder_set_member_name (b, "schedule");
  json_builder_add_string_value (b, opt_schedule);
  guint motion_frames = 0;
  json_builder_set_member_name (b, "motion");
  json_builder_begin_array (b);
  for (guint i = 0; i < segs->len; i++) {
    Segment *sg = &g_array_index (segs, Segment, i);
    if (!sg->subject)
      continue;
    motion_frames += sg->end_frame - sg->start_frame;
    json_builder_begin_object (b);
    json_builder_set_member_name (b, "label");
    json_builder_add_string_value (b, sg->subject->label);
    json_builder_set_member_name (b, "image");
    json_builder_add_string_value (b, sg->subject->file);
    json_builder_set_member_name (b, "start_s");
    json_builder_add_double_value (b, (gdouble) sg->start_frame / opt_fps);
    json_builder_set_member_name (b, "end_s");
    json_builder_add_double_value (b, (gdouble) sg->end_frame / opt_fps);
    json_builder_set_member_name (b, "start_frame");
    json_builder_add_int_value (b, sg->start_frame);
    json_builder_set_member_name (b, "end_frame");
    json_builder_add_int_value (b, sg->end_frame);
    json_builder_end_object (b);
  }
  json_builder_end_array (b);
  json_builder_set_member_name (b, "motion_fraction");
  json_builder_add_double_value (b, total ? (gdouble) motion_frames / total : 0);
  json_builder_end_object (b);
  JsonNode *root = json_builder_get_root (b);
  gchar *json = json_to_string (root, TRUE);
  if (opt_truth)
    g_file_set_contents (opt_truth, json, -1, NULL);
  else
    g_print ("%s\n", json);
  return rc;
}
