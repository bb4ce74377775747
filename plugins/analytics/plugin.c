/* edgefaasanalytics plugin: registers the analytics elements (objecttrack, ...). */
#include "config.h"

#include <gst/gst.h>

GST_ELEMENT_REGISTER_DECLARE (objecttrack);

static gboolean
plugin_init (GstPlugin * plugin)
{
  gboolean ok = FALSE;

  ok |= GST_ELEMENT_REGISTER (objecttrack, plugin);
  return ok;
}

GST_PLUGIN_DEFINE (GST_VERSION_MAJOR, GST_VERSION_MINOR, edgefaasanalytics,
    "edgefaas analytics: tracking and situations over each camera's detections",
    plugin_init, VERSION, GST_LICENSE, GST_PACKAGE_NAME, GST_PACKAGE_ORIGIN)
