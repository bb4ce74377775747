/* Helpers for the amqp tests: messages read back with our own AMQP helpers,
 * encoded test images, pipelines driven from the bus. */
#pragma once

#include <gst/gst.h>
#include "edgefaas-amqp.h"

G_BEGIN_DECLS

typedef struct {
  GBytes *body;
  gchar *routing_key;
  gchar *content_type;
  gchar *message_id;
  GHashTable *headers;    /* string headers */
  gboolean redelivered;
} AtMsg;

void at_msg_free (AtMsg * m);

/* Read (and ack) every message in @queue until it stays empty for @quiet_ms. */
GPtrArray *at_drain_queue (const gchar * url, const gchar * queue, guint quiet_ms,
    GError ** error);

/* @n distinct JPEG (or PNG) images from videotestsrc, as GBytes. */
GPtrArray *at_encode_images (guint n, const gchar * encoder, guint width, guint height);

/* Run until EOS/ERROR or @timeout_s; returns the final message (ref) or NULL. */
GstMessage *at_run_until_done (GstElement * pipeline, guint timeout_s);

/* The stats structure of an element (amqpsink). */
guint64 at_stat (GstElement * sink, const gchar * field);

G_END_DECLS
