/* edgefaasamqp plugin: registers amqpsink and amqpsrc. */
#include "config.h"

#include <gst/gst.h>

GST_ELEMENT_REGISTER_DECLARE (amqpsink);
GST_ELEMENT_REGISTER_DECLARE (amqpsrc);

static gboolean
plugin_init (GstPlugin * plugin)
{
  gboolean ret = FALSE;

  ret |= GST_ELEMENT_REGISTER (amqpsink, plugin);
  ret |= GST_ELEMENT_REGISTER (amqpsrc, plugin);
  return ret;
}

GST_PLUGIN_DEFINE (GST_VERSION_MAJOR, GST_VERSION_MINOR, edgefaasamqp,
    "edgefaas AMQP 0-9-1 (RabbitMQ) frame and detection events",
    plugin_init, VERSION, GST_LICENSE, GST_PACKAGE_NAME, GST_PACKAGE_ORIGIN)
