/* edgefaasyolo plugin: registers yolov4infer. */
#include "config.h"

#include <gst/gst.h>
#include "gstyolov4infer.h"

static gboolean
plugin_init (GstPlugin * plugin)
{
  return GST_ELEMENT_REGISTER (yolov4infer, plugin);
}

GST_PLUGIN_DEFINE (GST_VERSION_MAJOR, GST_VERSION_MINOR, edgefaasyolo,
    "edgefaas YOLO detection: darknet-format YOLOv4 on OpenCV DNN or libdarknet",
    plugin_init, VERSION, GST_LICENSE, GST_PACKAGE_NAME, GST_PACKAGE_ORIGIN)
