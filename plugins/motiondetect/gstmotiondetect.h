/* motiondetect: cheap luma-plane motion detection, the edgefaas edge gate. */
#pragma once

#include <gst/gst.h>
#include <gst/base/gstbasetransform.h>
#include <gst/video/video.h>

G_BEGIN_DECLS

/**
 * GstMotionDetectMessages:
 * @GST_MOTION_DETECT_MESSAGES_NONE: no element messages
 * @GST_MOTION_DETECT_MESSAGES_EVENTS: motion-start and motion-end
 * @GST_MOTION_DETECT_MESSAGES_FRAMES: also one "motion" message per analysed frame
 */
typedef enum {
  GST_MOTION_DETECT_MESSAGES_NONE,
  GST_MOTION_DETECT_MESSAGES_EVENTS,
  GST_MOTION_DETECT_MESSAGES_FRAMES,
} GstMotionDetectMessages;

GType gst_motion_detect_messages_get_type (void);
#define GST_TYPE_MOTION_DETECT_MESSAGES (gst_motion_detect_messages_get_type ())

/**
 * GstMotionDetectGaps:
 * @GST_MOTION_DETECT_GAPS_NONE: no GAP events
 * @GST_MOTION_DETECT_GAPS_FIRST: one GAP event for the first dropped buffer of each
 *   run of dropped buffers (for downstream elements that hold events until their
 *   next buffer, such as GstVideoEncoder in 1.22)
 * @GST_MOTION_DETECT_GAPS_ALL: one GAP event per dropped buffer
 */
typedef enum {
  GST_MOTION_DETECT_GAPS_NONE,
  GST_MOTION_DETECT_GAPS_FIRST,
  GST_MOTION_DETECT_GAPS_ALL,
} GstMotionDetectGaps;

GType gst_motion_detect_gaps_get_type (void);
#define GST_TYPE_MOTION_DETECT_GAPS (gst_motion_detect_gaps_get_type ())

#define GST_TYPE_MOTION_DETECT (gst_motion_detect_get_type ())
G_DECLARE_FINAL_TYPE (GstMotionDetect, gst_motion_detect, GST, MOTION_DETECT, GstBaseTransform)

GST_ELEMENT_REGISTER_DECLARE (motiondetect);

G_END_DECLS
