/* amqp-publish-bench: publish throughput, amqpsink vs a plain librabbitmq loop.
 *
 *   amqp-publish-bench plain|sink N WINDOW   (EF_BROKER_URL, EDGEFAAS_AMQP_PASSWORD set,
 *                                           e.g. by tests/fixture's edgefaas-broker)
 *
 * Both publish N persistent 1 KiB messages to the durable queue "bench" through
 * the default exchange with publisher confirms, at most WINDOW unconfirmed, and
 * stop the clock when the last confirm arrived. The queue is purged before and
 * after. Prints one line: "<mode> <N> <seconds> <msg/s>".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <gst/gst.h>
#include <gst/app/app.h>
#include <amqp.h>
#include <amqp_framing.h>

#include "edgefaas-amqp.h"

#define QUEUE "bench"
#define MSG_SIZE 1024

static EdgefaasAmqpConn *
connect_or_die (void)
{
  EdgefaasAmqpParams p = { 0 };
  GError *err = NULL;
  EdgefaasAmqpConn *c;

  if (!edgefaas_amqp_params_parse_url (&p, g_getenv ("EF_BROKER_URL"), &err)
      || !edgefaas_amqp_params_load_password (&p, NULL, NULL, &err)
      || !(c = edgefaas_amqp_conn_open (&p, &err))) {
    g_printerr ("amqp-publish-bench: %s\n", err->message);
    exit (2);
  }
  edgefaas_amqp_params_clear (&p);
  return c;
}

static void
prepare_queue (void)
{
  EdgefaasAmqpConn *c = connect_or_die ();
  amqp_connection_state_t st = edgefaas_amqp_conn_get_state (c);
  GError *err = NULL;

  amqp_queue_declare (st, 1, amqp_cstring_bytes (QUEUE), 0, 1, 0, 0, amqp_empty_table);
  if (!edgefaas_amqp_check_reply (amqp_get_rpc_reply (st), "queue.declare", &err)) {
    g_printerr ("amqp-publish-bench: %s\n", err->message);
    exit (2);
  }
  amqp_queue_purge (st, 1, amqp_cstring_bytes (QUEUE));
  edgefaas_amqp_conn_close (c);
}

static double
run_plain (guint n, guint window)
{
  EdgefaasAmqpConn *c = connect_or_die ();
  amqp_connection_state_t st = edgefaas_amqp_conn_get_state (c);
  amqp_channel_t ch = edgefaas_amqp_conn_get_channel (c);
  amqp_basic_properties_t props = { 0 };
  guint8 body[MSG_SIZE];
  guint64 sent = 0, confirmed = 0;
  gint64 t0;

  memset (body, 'x', sizeof (body));
  amqp_confirm_select (st, ch);
  props._flags = AMQP_BASIC_CONTENT_TYPE_FLAG | AMQP_BASIC_DELIVERY_MODE_FLAG;
  props.content_type = amqp_cstring_bytes ("application/json");
  props.delivery_mode = 2;

  t0 = g_get_monotonic_time ();
  while (confirmed < n) {
    while (sent < n && sent - confirmed < window) {
      amqp_bytes_t b = { sizeof (body), body };
      if (amqp_basic_publish (st, ch, amqp_cstring_bytes (""), amqp_cstring_bytes (QUEUE), 0,
              0, &props, b) != AMQP_STATUS_OK) {
        g_printerr ("publish failed\n");
        exit (3);
      }
      sent++;
    }
    {
      amqp_frame_t f;
      struct timeval tv = { 0, sent - confirmed >= window || sent == n ? 20000 : 0 };
      int rc = amqp_simple_wait_frame_noblock (st, &f, &tv);
      if (rc == AMQP_STATUS_TIMEOUT)
        continue;
      if (rc != AMQP_STATUS_OK) {
        g_printerr ("wait frame failed: %s\n", amqp_error_string2 (rc));
        exit (3);
      }
      if (f.frame_type == AMQP_FRAME_METHOD && f.payload.method.id == AMQP_BASIC_ACK_METHOD) {
        amqp_basic_ack_t *a = f.payload.method.decoded;
        confirmed = a->multiple ? a->delivery_tag : confirmed + 1;
      }
    }
  }
  {
    double s = (g_get_monotonic_time () - t0) / 1e6;
    edgefaas_amqp_conn_close (c);
    return s;
  }
}

static double
run_sink (guint n, guint window)
{
  gchar *desc = g_strdup_printf ("appsrc name=a caps=application/json block=true "
      "max-bytes=262144 ! amqpsink name=s url=%s routing-key=" QUEUE " persistent=true "
      "confirms=true confirm-window=%u on-full=block max-queue=%u flush-timeout=120000",
      g_getenv ("EF_BROKER_URL"), window, window * 2);
  GstElement *p = gst_parse_launch (desc, NULL);
  GstElement *a = gst_bin_get_by_name (GST_BIN (p), "a");
  GstElement *s = gst_bin_get_by_name (GST_BIN (p), "s");
  guint8 body[MSG_SIZE];
  GstMessage *msg;
  GstStructure *stats = NULL;
  guint64 confirmed = 0;
  gint64 t0;
  double secs;

  memset (body, 'x', sizeof (body));
  gst_element_set_state (p, GST_STATE_PLAYING);
  t0 = g_get_monotonic_time ();
  for (guint i = 0; i < n; i++)
    gst_app_src_push_buffer (GST_APP_SRC (a), gst_buffer_new_memdup (body, sizeof (body)));
  gst_app_src_end_of_stream (GST_APP_SRC (a));
  /* amqpsink posts EOS only after every confirm arrived */
  msg = gst_bus_timed_pop_filtered (GST_ELEMENT_BUS (p), 300 * GST_SECOND,
      GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
  secs = (g_get_monotonic_time () - t0) / 1e6;
  if (!msg || GST_MESSAGE_TYPE (msg) != GST_MESSAGE_EOS) {
    g_printerr ("amqpsink run failed\n");
    exit (3);
  }
  gst_message_unref (msg);
  g_object_get (s, "stats", &stats, NULL);
  gst_structure_get_uint64 (stats, "confirmed", &confirmed);
  gst_structure_free (stats);
  if (confirmed != n) {
    g_printerr ("amqpsink confirmed %" G_GUINT64_FORMAT " of %u\n", confirmed, n);
    exit (3);
  }
  gst_element_set_state (p, GST_STATE_NULL);
  gst_object_unref (a);
  gst_object_unref (s);
  gst_object_unref (p);
  g_free (desc);
  return secs;
}

int
main (int argc, char **argv)
{
  guint n, window;
  double secs;

  gst_init (&argc, &argv);
  if (argc != 4 || !g_getenv ("EF_BROKER_URL")) {
    g_printerr ("usage: EF_BROKER_URL=... %s plain|sink N WINDOW\n", argv[0]);
    return 1;
  }
  n = atoi (argv[2]);
  window = atoi (argv[3]);
  prepare_queue ();
  if (strcmp (argv[1], "plain") == 0)
    secs = run_plain (n, window);
  else if (strcmp (argv[1], "sink") == 0)
    secs = run_sink (n, window);
  else
    return 1;
  prepare_queue ();
  printf ("%s %u %.3f %.0f\n", argv[1], n, secs, n / secs);
  return 0;
}
