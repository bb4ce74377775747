/* amqpsink: publishes frame and detection events to RabbitMQ (being written). */
#include "config.h"

#include <gst/gst.h>
#include <gst/base/gstbasesink.h>

GST_DEBUG_CATEGORY_STATIC (gst_amqp_sink_debug);
#define GST_CAT_DEFAULT gst_amqp_sink_debug

#define GST_TYPE_AMQP_SINK (gst_amqp_sink_get_type ())
G_DECLARE_FINAL_TYPE (GstAmqpSink, gst_amqp_sink, GST, AMQP_SINK, GstBaseSink);

struct _GstAmqpSink
{
  GstBaseSink parent;
};

static GstStaticPadTemplate sink_template = GST_STATIC_PAD_TEMPLATE ("sink",
    GST_PAD_SINK, GST_PAD_ALWAYS,
    GST_STATIC_CAPS ("image/jpeg; image/png; video/x-raw; application/json"));

G_DEFINE_TYPE (GstAmqpSink, gst_amqp_sink, GST_TYPE_BASE_SINK);
GST_ELEMENT_REGISTER_DEFINE_WITH_CODE (amqpsink, "amqpsink", GST_RANK_NONE,
    GST_TYPE_AMQP_SINK, GST_DEBUG_CATEGORY_INIT (gst_amqp_sink_debug, "amqpsink", 0,
        "AMQP event sink"));

static GstFlowReturn
gst_amqp_sink_render (GstBaseSink * sink, GstBuffer * buf)
{
  return GST_FLOW_OK;
}

static void
gst_amqp_sink_class_init (GstAmqpSinkClass * klass)
{
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);
  GstBaseSinkClass *bs_class = GST_BASE_SINK_CLASS (klass);

  gst_element_class_add_static_pad_template (element_class, &sink_template);
  gst_element_class_set_static_metadata (element_class, "AMQP event sink",
      "Sink/Network", "Publishes frame and detection events to an AMQP 0-9-1 broker",
      "edgefaas");
  bs_class->render = GST_DEBUG_FUNCPTR (gst_amqp_sink_render);
}

static void
gst_amqp_sink_init (GstAmqpSink * self)
{
}
