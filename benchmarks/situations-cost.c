/* situations-cost: CPU time per frame of objecttrack ! situationdetect at 20 and 200
 * objects, against Yolo-Fastest 1.1 inference (yolov4infer) on the same 640x360 frame,
 * in the same process and run (and objecttrack alone, for the split). Each arm is appsrc ! ARM ! appsink, one buffer pushed and
 * pulled at a time; an `identity` arm measures that harness alone, and is subtracted
 * for the "net" figures. Rounds are interleaved; the medians are printed as one line
 * of JSON per arm.
 *   situations-cost MODEL_DIR RULES NAMES IMAGE [ROUNDS] [FRAMES] */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <gst/app/gstappsink.h>
#include <gst/app/gstappsrc.h>
#include <gst/gst.h>
#include <gst/video/video.h>

#define W 640
#define H 360

static gdouble
cpu_s (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_PROCESS_CPUTIME_ID, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

static GstSample *
load_frame (const gchar * image)
{
  gchar *desc = g_strdup_printf ("filesrc location=\"%s\" ! decodebin ! videoconvert ! "
      "videoscale ! video/x-raw,format=I420,width=%d,height=%d ! appsink name=out", image, W, H);
  GstElement *p = gst_parse_launch (desc, NULL);
  g_free (desc);
  GstElement *sink = gst_bin_get_by_name (GST_BIN (p), "out");
  gst_element_set_state (p, GST_STATE_PLAYING);
  GstSample *s = gst_app_sink_try_pull_sample (GST_APP_SINK (sink), 30 * GST_SECOND);
  g_assert (s);
  gst_element_set_state (p, GST_STATE_NULL);
  gst_object_unref (sink);
  gst_object_unref (p);
  return s;
}

typedef struct {
  const gchar *name;
  guint objects;                /* ROI metas added per frame (tracking arms) */
  GstElement *pipe, *src, *sink;
  guint64 frame;
  GArray *per_frame_s;          /* one median candidate per round */
} Arm;

static void
arm_start (Arm * a, const gchar * middle, GstCaps * caps)
{
  gchar *desc = g_strdup_printf ("appsrc name=src format=time ! %s ! appsink name=sink "
      "sync=false", middle);
  GError *err = NULL;
  a->pipe = gst_parse_launch (desc, &err);
  if (!a->pipe)
    g_error ("%s: %s", desc, err->message);
  g_free (desc);
  a->src = gst_bin_get_by_name (GST_BIN (a->pipe), "src");
  a->sink = gst_bin_get_by_name (GST_BIN (a->pipe), "sink");
  g_object_set (a->src, "caps", caps, NULL);
  if (gst_element_set_state (a->pipe, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE)
    g_error ("%s: cannot start", a->name);
  a->per_frame_s = g_array_new (FALSE, FALSE, sizeof (gdouble));
}

/* @n objects walking across the frame on separate lanes; ids are the tracker's job */
static void
add_objects (GstBuffer * b, guint n, guint64 frame)
{
  for (guint k = 0; k < n; k++) {
    gint lane = k % 20, col = k / 20;
    gdouble x = fmod (0.02 + col * 0.09 + frame * 0.002 * (1 + lane % 3), 0.9);
    gdouble y = 0.05 + lane * 0.045;
    guint bx = x * W, by = y * H, bw = 0.04 * W, bh = 0.04 * H;
    const gchar *label = k % 2 ? "person" : "car";
    GstVideoRegionOfInterestMeta *roi = gst_buffer_add_video_region_of_interest_meta (b,
        label, bx, by, bw, bh);
    gst_video_region_of_interest_meta_add_param (roi, gst_structure_new ("detection",
            "label", G_TYPE_STRING, label, "label_id", G_TYPE_INT, k % 2 ? 0 : 2,
            "confidence", G_TYPE_DOUBLE, 0.8, "x_min", G_TYPE_DOUBLE, x, "y_min",
            G_TYPE_DOUBLE, y, "x_max", G_TYPE_DOUBLE, x + 0.04, "y_max", G_TYPE_DOUBLE,
            y + 0.04, NULL));
  }
}

static void
arm_push_pull (Arm * a, GstSample * frame)
{
  GstBuffer *b = gst_buffer_copy (gst_sample_get_buffer (frame));
  GST_BUFFER_PTS (b) = a->frame * GST_SECOND / 10;
  GST_BUFFER_DURATION (b) = GST_SECOND / 10;
  if (a->objects)
    add_objects (b, a->objects, a->frame);
  a->frame++;
  gst_app_src_push_buffer (GST_APP_SRC (a->src), b);
  GstSample *s = gst_app_sink_pull_sample (GST_APP_SINK (a->sink));
  g_assert (s);
  gst_sample_unref (s);
}

static void
arm_round (Arm * a, GstSample * frame, guint frames)
{
  gdouble t0 = cpu_s ();
  for (guint i = 0; i < frames; i++)
    arm_push_pull (a, frame);
  gdouble per = (cpu_s () - t0) / frames;
  g_array_append_val (a->per_frame_s, per);
}

static gint
cmp_d (gconstpointer x, gconstpointer y)
{
  gdouble a = *(const gdouble *) x, b = *(const gdouble *) y;
  return a < b ? -1 : a > b;
}

static gdouble
median (GArray * v)
{
  g_array_sort (v, cmp_d);
  return g_array_index (v, gdouble, v->len / 2);
}

int
main (int argc, char **argv)
{
  gst_init (&argc, &argv);
  if (argc < 5)
    g_error ("usage: situations-cost MODEL_DIR RULES NAMES IMAGE [ROUNDS] [FRAMES]");
  const gchar *model = argv[1], *rules = argv[2], *names = argv[3], *image = argv[4];
  guint rounds = argc > 5 ? atoi (argv[5]) : 7, frames = argc > 6 ? atoi (argv[6]) : 20;
  GstSample *frame = load_frame (image);
  GstCaps *caps = gst_sample_get_caps (frame);

  gchar *yolo = g_strdup_printf ("yolov4infer config=%s/yolo-fastest-1.1.cfg "
      "weights=%s/yolo-fastest-1.1.weights labels=%s/coco.names post-messages=false",
      model, model, model);
  gchar *track = g_strdup_printf ("objecttrack ! situationdetect rules=\"%s\" labels=\"%s\" "
      "camera-id=demo post-messages=false", rules, names);
  Arm arms[] = {
    {"yolo-fastest-1.1", 0}, {"harness (identity)", 0}, {"track+situations, 20 objects", 20},
    {"track+situations, 200 objects", 200}, {"track only, 20 objects", 20},
    {"track only, 200 objects", 200},
  };
  arm_start (&arms[0], yolo, caps);
  arm_start (&arms[1], "identity", caps);
  arm_start (&arms[2], track, caps);
  arm_start (&arms[3], track, caps);
  arm_start (&arms[4], "objecttrack", caps);
  arm_start (&arms[5], "objecttrack", caps);
  /* warm-up: first inference initialises the network; tracks fill up */
  for (guint i = 0; i < G_N_ELEMENTS (arms); i++)
    for (guint k = 0; k < 10; k++)
      arm_push_pull (&arms[i], frame);
  for (guint r = 0; r < rounds; r++) {
    arm_round (&arms[0], frame, MAX (frames / 4, 5));
    for (guint i = 1; i < G_N_ELEMENTS (arms); i++)
      arm_round (&arms[i], frame, frames * 10);
  }
  gdouble yolo_s = median (arms[0].per_frame_s), base_s = median (arms[1].per_frame_s);
  for (guint i = 0; i < G_N_ELEMENTS (arms); i++) {
    gdouble m = median (arms[i].per_frame_s);
    gdouble net = i >= 2 ? m - base_s : m;
    g_print ("{\"arm\":\"%s\",\"objects\":%u,\"cpu_ms_per_frame\":%.4f,"
        "\"net_ms_per_frame\":%.4f,\"pct_of_yolo\":%.3f,\"net_pct_of_yolo\":%.3f}\n",
        arms[i].name, arms[i].objects, m * 1e3, net * 1e3, 100 * m / yolo_s,
        100 * net / yolo_s);
    gst_app_src_end_of_stream (GST_APP_SRC (arms[i].src));
    gst_element_set_state (arms[i].pipe, GST_STATE_NULL);
  }
  return 0;
}
