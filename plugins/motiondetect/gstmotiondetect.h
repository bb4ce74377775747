/* motiondetect: cheap luma-plane motion detection, the edgefaas edge gate. */
#pragma once

#include <gst/gst.h>
#include <gst/video/video.h>
#include <gst/video/gstvideofilter.h>

G_BEGIN_DECLS

#define GST_TYPE_MOTION_DETECT (gst_motion_detect_get_type ())
G_DECLARE_FINAL_TYPE (GstMotionDetect, gst_motion_detect, GST, MOTION_DETECT, GstVideoFilter)

GST_ELEMENT_REGISTER_DECLARE (motiondetect);

G_END_DECLS
