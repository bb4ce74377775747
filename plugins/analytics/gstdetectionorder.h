/* detectionorder: per-camera capture order and dedup of detection events. */
#pragma once

#include <gst/gst.h>

G_BEGIN_DECLS

#define GST_TYPE_DETECTION_ORDER (gst_detection_order_get_type ())
G_DECLARE_FINAL_TYPE (GstDetectionOrder, gst_detection_order, GST, DETECTION_ORDER, GstElement)

GST_ELEMENT_REGISTER_DECLARE (detectionorder);

G_END_DECLS
