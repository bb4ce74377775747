#include "yolo-test-util.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <gst/gst.h>
#include <gst/app/gstappsink.h>
#include <gst/video/video.h>

static gboolean
write_all (FILE * f, const void *data, gsize len)
{
  return fwrite (data, 1, len, f) == len;
}

gboolean
yolo_test_write_weights (const YoloCfg * cfg, const gchar * path, guint32 seed,
    GError ** error)
{
  GArray *layout = yolo_cfg_param_layout (cfg);
  GRand *rand = g_rand_new_with_seed (seed);
  gint32 header[3] = { 0, 2, 0 };
  guint64 seen = 0;
  gboolean ok;
  FILE *f = fopen (path, "wb");
  gfloat buf[4096];

  if (!f) {
    g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (errno),
        "cannot create %s: %s", path, g_strerror (errno));
    g_array_unref (layout);
    g_rand_free (rand);
    return FALSE;
  }
  ok = write_all (f, header, sizeof header) && write_all (f, &seen, sizeof seen);
  for (guint i = 0; ok && i < layout->len; i++) {
    const YoloParamBlock *b = &g_array_index (layout, YoloParamBlock, i);
    const gdouble limit = b->fan_in ? sqrt (3.0 / b->fan_in) : 0.0;
    guint64 left = b->count;
    while (ok && left > 0) {
      guint n = MIN (left, G_N_ELEMENTS (buf));
      for (guint k = 0; k < n; k++) {
        switch (b->kind) {
          case YOLO_PARAM_WEIGHT:
            buf[k] = g_rand_double_range (rand, -limit, limit);
            break;
          case YOLO_PARAM_BIAS:
          case YOLO_PARAM_BN_MEAN:
            buf[k] = g_rand_double_range (rand, -0.05, 0.05);
            break;
          case YOLO_PARAM_BN_SCALE:
          case YOLO_PARAM_BN_VARIANCE:
            buf[k] = g_rand_double_range (rand, 0.9, 1.1);
            break;
        }
      }
      ok = write_all (f, buf, n * sizeof (gfloat));
      left -= n;
    }
  }
  if (fclose (f) != 0)
    ok = FALSE;
  if (!ok)
    g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_IO, "cannot write %s", path);
  g_array_unref (layout);
  g_rand_free (rand);
  return ok;
}

gfloat *
yolo_test_load_image (const gchar * path, gint width, gint height,
    GError ** error)
{
  gchar *uri_path = g_strescape (path, NULL);
  gchar *desc = g_strdup_printf ("filesrc location=\"%s\" ! decodebin ! "
      "videoconvert ! videoscale method=bilinear add-borders=false ! "
      "video/x-raw,format=RGB,width=%d,height=%d,pixel-aspect-ratio=1/1 ! "
      "appsink name=sink sync=false", uri_path, width, height);
  /* fatal: a partial pipeline with the error already set would have it set
   * again below */
  GstElement *pipeline = gst_parse_launch_full (desc, NULL,
      GST_PARSE_FLAG_FATAL_ERRORS, error);
  GstSample *sample = NULL;
  gfloat *out = NULL;

  g_free (desc);
  g_free (uri_path);
  if (!pipeline)
    return NULL;
  {
    GstElement *sink = gst_bin_get_by_name (GST_BIN (pipeline), "sink");
    gst_element_set_state (pipeline, GST_STATE_PLAYING);
    sample = gst_app_sink_try_pull_sample (GST_APP_SINK (sink), 10 * GST_SECOND);
    gst_object_unref (sink);
  }
  if (sample) {
    GstVideoInfo info;
    GstVideoFrame frame;
    gst_video_info_from_caps (&info, gst_sample_get_caps (sample));
    if (gst_video_frame_map (&frame, &info, gst_sample_get_buffer (sample),
            GST_MAP_READ)) {
      const gsize plane = (gsize) width * height;
      const guint8 *data = GST_VIDEO_FRAME_PLANE_DATA (&frame, 0);
      const gint stride = GST_VIDEO_FRAME_PLANE_STRIDE (&frame, 0);
      out = g_new (gfloat, 3 * plane);
      for (gint y = 0; y < height; y++)
        for (gint x = 0; x < width; x++)
          for (gint c = 0; c < 3; c++)
            out[c * plane + (gsize) y * width + x] =
                data[(gsize) y * stride + x * 3 + c] / 255.0f;
      gst_video_frame_unmap (&frame);
    }
    gst_sample_unref (sample);
  }
  if (!out) {
    GstMessage *msg = gst_bus_poll (GST_ELEMENT_BUS (pipeline),
        GST_MESSAGE_ERROR, 0);
    GError *e = NULL;
    if (msg) {
      gst_message_parse_error (msg, &e, NULL);
      gst_message_unref (msg);
    }
    g_set_error (error, GST_STREAM_ERROR, GST_STREAM_ERROR_DECODE,
        "cannot decode %s: %s", path, e ? e->message : "no frame");
    g_clear_error (&e);
  }
  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_object_unref (pipeline);
  return out;
}

gfloat
yolo_test_iou (const YoloCandidate * a, const YoloCandidate * b)
{
  gfloat ix = MIN (a->x_max, b->x_max) - MAX (a->x_min, b->x_min);
  gfloat iy = MIN (a->y_max, b->y_max) - MAX (a->y_min, b->y_min);
  gfloat inter, uni;
  if (ix <= 0 || iy <= 0)
    return 0.0f;
  inter = ix * iy;
  uni = (a->x_max - a->x_min) * (a->y_max - a->y_min)
      + (b->x_max - b->x_min) * (b->y_max - b->y_min) - inter;
  return uni > 0 ? inter / uni : 0.0f;
}

static gint
by_confidence (gconstpointer a, gconstpointer b)
{
  const YoloCandidate *ca = a, *cb = b;
  return (ca->confidence < cb->confidence) - (ca->confidence > cb->confidence);
}

GArray *
yolo_test_nms (GArray * cands, gfloat iou_threshold)
{
  GArray *sorted = g_array_copy (cands);
  GArray *kept = g_array_new (FALSE, FALSE, sizeof (YoloCandidate));

  g_array_sort (sorted, by_confidence);
  for (guint i = 0; i < sorted->len; i++) {
    const YoloCandidate *c = &g_array_index (sorted, YoloCandidate, i);
    gboolean suppressed = FALSE;
    for (guint k = 0; k < kept->len && !suppressed; k++) {
      const YoloCandidate *o = &g_array_index (kept, YoloCandidate, k);
      suppressed = o->class_id == c->class_id
          && yolo_test_iou (o, c) > iou_threshold;
    }
    if (!suppressed)
      g_array_append_val (kept, *c);
  }
  g_array_unref (sorted);
  return kept;
}
