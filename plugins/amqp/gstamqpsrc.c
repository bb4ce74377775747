/* amqpsrc: consume edgefaas frame events from RabbitMQ (being written). */
#include "config.h"

#include <gst/gst.h>
#include <gst/base/gstpushsrc.h>

GST_DEBUG_CATEGORY_STATIC (gst_amqp_src_debug);
#define GST_CAT_DEFAULT gst_amqp_src_debug

#define GST_TYPE_AMQP_SRC (gst_amqp_src_get_type ())
G_DECLARE_FINAL_TYPE (GstAmqpSrc, gst_amqp_src, GST, AMQP_SRC, GstPushSrc)

struct _GstAmqpSrc
{
  GstPushSrc parent;
};

static GstStaticPadTemplate src_template = GST_STATIC_PAD_TEMPLATE ("src",
    GST_PAD_SRC, GST_PAD_ALWAYS, GST_STATIC_CAPS ("image/jpeg; image/png"));

G_DEFINE_TYPE (GstAmqpSrc, gst_amqp_src, GST_TYPE_PUSH_SRC);
GST_ELEMENT_REGISTER_DEFINE (amqpsrc, "amqpsrc", GST_RANK_NONE, GST_TYPE_AMQP_SRC);

static GstFlowReturn
gst_amqp_src_create (GstPushSrc * psrc, GstBuffer ** buf)
{
  return GST_FLOW_EOS;
}

static void
gst_amqp_src_class_init (GstAmqpSrcClass * klass)
{
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);
  GstPushSrcClass *pushsrc_class = GST_PUSH_SRC_CLASS (klass);

  GST_DEBUG_CATEGORY_INIT (gst_amqp_src_debug, "amqpsrc", 0, "AMQP source");
  gst_element_class_add_static_pad_template (element_class, &src_template);
  gst_element_class_set_static_metadata (element_class, "AMQP frame event source",
      "Source/Network", "Consumes edgefaas frame events from RabbitMQ",
      "edgefaas");
  pushsrc_class->create = gst_amqp_src_create;
}

static void
gst_amqp_src_init (GstAmqpSrc * self)
{
}
