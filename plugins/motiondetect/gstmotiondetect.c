/* motiondetect: placeholder so the tree builds; the real element lands next. */
#include "config.h"
#include "gstmotiondetect.h"

GST_DEBUG_CATEGORY_STATIC (gst_motion_detect_debug);
#define GST_CAT_DEFAULT gst_motion_detect_debug

struct _GstMotionDetect
{
  GstVideoFilter parent;
};

#define FORMATS "{ I420, YV12, NV12, NV21, Y42B, Y444, GRAY8 }"

G_DEFINE_TYPE (GstMotionDetect, gst_motion_detect, GST_TYPE_VIDEO_FILTER);
GST_ELEMENT_REGISTER_DEFINE_WITH_CODE (motiondetect, "motiondetect", GST_RANK_NONE,
    GST_TYPE_MOTION_DETECT,
    GST_DEBUG_CATEGORY_INIT (gst_motion_detect_debug, "motiondetect", 0, "motion detection"));

static GstFlowReturn
gst_motion_detect_transform_frame_ip (GstVideoFilter * filter, GstVideoFrame * frame)
{
  return GST_FLOW_OK;
}

static void
gst_motion_detect_class_init (GstMotionDetectClass * klass)
{
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);
  GstVideoFilterClass *vf_class = GST_VIDEO_FILTER_CLASS (klass);
  GstCaps *caps = gst_caps_from_string (GST_VIDEO_CAPS_MAKE (FORMATS));

  gst_element_class_add_pad_template (element_class,
      gst_pad_template_new ("sink", GST_PAD_SINK, GST_PAD_ALWAYS, caps));
  gst_element_class_add_pad_template (element_class,
      gst_pad_template_new ("src", GST_PAD_SRC, GST_PAD_ALWAYS, caps));
  gst_caps_unref (caps);
  gst_element_class_set_static_metadata (element_class, "Motion detection",
      "Filter/Analyzer/Video", "Detects motion on the luma plane",
      "edgefaas");
  vf_class->transform_frame_ip = gst_motion_detect_transform_frame_ip;
}

static void
gst_motion_detect_init (GstMotionDetect * self)
{
}
