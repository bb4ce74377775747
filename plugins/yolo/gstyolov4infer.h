/* yolov4infer: darknet-format YOLO detection (OpenCV DNN / libdarknet). */
#pragma once

#include <gst/gst.h>
#include <gst/base/gstbasetransform.h>

G_BEGIN_DECLS

#define GST_TYPE_YOLOV4_INFER (gst_yolov4_infer_get_type ())
G_DECLARE_FINAL_TYPE (GstYolov4Infer, gst_yolov4_infer, GST, YOLOV4_INFER, GstBaseTransform)

#define GST_TYPE_YOLOV4_INFER_BACKEND (gst_yolov4_infer_backend_get_type ())
GType gst_yolov4_infer_backend_get_type (void);
#define GST_TYPE_YOLOV4_INFER_DEVICE (gst_yolov4_infer_device_get_type ())
GType gst_yolov4_infer_device_get_type (void);
#define GST_TYPE_YOLOV4_INFER_ROI_MODE (gst_yolov4_infer_roi_mode_get_type ())
GType gst_yolov4_infer_roi_mode_get_type (void);

GST_ELEMENT_REGISTER_DECLARE (yolov4infer);

G_END_DECLS
