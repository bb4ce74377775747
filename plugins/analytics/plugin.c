/* edgefaasanalytics plugin: registers situationdetect, detectionorder (and objecttrack, from
 * the tracker branch, when merged). */
#include "config.h"

#include <gst/gst.h>
#include "gstdetectionorder.h"
#include "gstsituationdetect.h"

static gboolean
plugin_init (GstPlugin * plugin)
{
  gboolean ok = TRUE;
  ok &= GST_ELEMENT_REGISTER (situationdetect, plugin);
  ok &= GST_ELEMENT_REGISTER (detectionorder, plugin);
  return ok;
}

GST_PLUGIN_DEFINE (GST_VERSION_MAJOR, GST_VERSION_MINOR, edgefaasanalytics,
    "edgefaas analytics: tracking and situations over time",
    plugin_init, VERSION, GST_LICENSE, GST_PACKAGE_NAME, GST_PACKAGE_ORIGIN)
