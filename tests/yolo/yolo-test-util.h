/* Helpers shared by the yolov4infer tests: decode real images with real
 * GStreamer pipelines, model paths from ../shared. */
#pragma once

#include <gst/gst.h>
#include <gst/video/video.h>

G_BEGIN_DECLS

/* Decode @path (JPEG) and convert to @format (e.g. "RGB", "I420") with
 * jpegdec ! videoconvert; optionally scaled to @width x @height (0 = keep).
 * Fails the test (returns NULL) on any error. */
GstSample *yt_decode_image (const gchar * path, const gchar * format, gint width,
    gint height);
/* Convert a sample to another format with videoconvert (same size). */
GstSample *yt_convert_sample (GstSample * in, const gchar * format);
/* Paste @small (RGB) into a @w x @h RGB canvas of grey at (@x, @y). */
GstSample *yt_paste_into_canvas (GstSample * small, gint w, gint h, gint x, gint y);

/* /usr/share/darknet/data/<name>; fails the test if missing. */
gchar *yt_darknet_image (const gchar * name);

G_END_DECLS
