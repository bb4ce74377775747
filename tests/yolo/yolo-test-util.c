#include "yolo-test-util.h"
#include "ef-test.h"

#include <gst/app/gstappsink.h>
#include <gst/app/gstappsrc.h>
#include <string.h>

static GstSample *
run_to_sample (const gchar * desc, GstSample * input)
{
  GError *err = NULL;
  GstElement *pipe = gst_parse_launch (desc, &err);
  if (!pipe) {
    g_test_message ("pipeline '%s': %s", desc, err->message);
    g_test_fail ();
    g_clear_error (&err);
    return NULL;
  }
  GstElement *sink = gst_bin_get_by_name (GST_BIN (pipe), "sink");
  if (input) {
    GstElement *src = gst_bin_get_by_name (GST_BIN (pipe), "src");
    g_object_set (src, "caps", gst_sample_get_caps (input), "format", GST_FORMAT_TIME, NULL);
    gst_element_set_state (pipe, GST_STATE_PLAYING);
    gst_app_src_push_buffer (GST_APP_SRC (src), gst_buffer_ref (gst_sample_get_buffer (input)));
    gst_app_src_end_of_stream (GST_APP_SRC (src));
    gst_object_unref (src);
  } else {
    gst_element_set_state (pipe, GST_STATE_PLAYING);
  }
  GstSample *s = gst_app_sink_try_pull_sample (GST_APP_SINK (sink), 30 * GST_SECOND);
  if (!s) {
    GstMessage *m = gst_bus_pop_filtered (GST_ELEMENT_BUS (pipe), GST_MESSAGE_ERROR);
    if (m) {
      gst_message_parse_error (m, &err, NULL);
      g_test_message ("pipeline '%s' failed: %s", desc, err->message);
      g_clear_error (&err);
      gst_message_unref (m);
    } else {
      g_test_message ("pipeline '%s' gave no sample", desc);
    }
    g_test_fail ();
  }
  gst_element_set_state (pipe, GST_STATE_NULL);
  gst_object_unref (sink);
  gst_object_unref (pipe);
  return s;
}

GstSample *
yt_decode_image (const gchar * path, const gchar * format, gint width, gint height)
{
  gchar *scale = (width > 0 && height > 0)
      ? g_strdup_printf (",width=%d,height=%d,pixel-aspect-ratio=1/1", width, height)
      : g_strdup ("");
  gchar *desc = g_strdup_printf ("filesrc location=\"%s\" ! jpegdec ! videoscale ! "
      "videoconvert ! video/x-raw,format=%s%s ! appsink name=sink sync=false", path,
      format, scale);
  GstSample *s = run_to_sample (desc, NULL);
  g_free (desc);
  g_free (scale);
  return s;
}

GstSample *
yt_convert_sample (GstSample * in, const gchar * format)
{
  gchar *desc = g_strdup_printf ("appsrc name=src ! videoconvert ! "
      "video/x-raw,format=%s ! appsink name=sink sync=false", format);
  GstSample *s = run_to_sample (desc, in);
  g_free (desc);
  return s;
}

GstSample *
yt_paste_into_canvas (GstSample * small, gint w, gint h, gint x, gint y)
{
  GstVideoInfo si, ci;
  GstVideoFrame sf, cf;
  g_assert_true (gst_video_info_from_caps (&si, gst_sample_get_caps (small)));
  g_assert_cmpint (GST_VIDEO_INFO_FORMAT (&si), ==, GST_VIDEO_FORMAT_RGB);
  gst_video_info_set_format (&ci, GST_VIDEO_FORMAT_RGB, w, h);
  GstBuffer *buf = gst_buffer_new_allocate (NULL, GST_VIDEO_INFO_SIZE (&ci), NULL);
  g_assert_true (gst_video_frame_map (&cf, &ci, buf, GST_MAP_WRITE));
  g_assert_true (gst_video_frame_map (&sf, &si, gst_sample_get_buffer (small), GST_MAP_READ));
  guint8 *cd = GST_VIDEO_FRAME_PLANE_DATA (&cf, 0);
  gint cs = GST_VIDEO_FRAME_PLANE_STRIDE (&cf, 0);
  for (gint j = 0; j < h; j++)
    memset (cd + (gsize) j * cs, 0x70, (gsize) w * 3);
  const guint8 *sd = GST_VIDEO_FRAME_PLANE_DATA (&sf, 0);
  gint ss = GST_VIDEO_FRAME_PLANE_STRIDE (&sf, 0);
  gint sw = GST_VIDEO_INFO_WIDTH (&si), sh = GST_VIDEO_INFO_HEIGHT (&si);
  g_assert_cmpint (x + sw, <=, w);
  g_assert_cmpint (y + sh, <=, h);
  for (gint j = 0; j < sh; j++)
    memcpy (cd + (gsize) (y + j) * cs + (gsize) x * 3, sd + (gsize) j * ss, (gsize) sw * 3);
  gst_video_frame_unmap (&sf);
  gst_video_frame_unmap (&cf);
  GstCaps *caps = gst_video_info_to_caps (&ci);
  GstSample *s = gst_sample_new (buf, caps, NULL, NULL);
  gst_caps_unref (caps);
  gst_buffer_unref (buf);
  return s;
}

gchar *
yt_darknet_image (const gchar * name)
{
  gchar *p = g_build_filename ("/usr/share/darknet/data", name, NULL);
  if (!g_file_test (p, G_FILE_TEST_IS_REGULAR)) {
    g_test_message ("%s missing: install Debian's darknet package (scripts/deps.txt)", p);
    g_test_fail ();
    g_free (p);
    return NULL;
  }
  return p;
}
