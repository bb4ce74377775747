/* amqp-consume-bench: amqpsrc consume throughput and latency vs a plain
 * librabbitmq consume+ack loop, against the broker in $EF_BROKER_URL
 * (run under tests/fixture's edgefaas-broker; password in EDGEFAAS_AMQP_PASSWORD).
 *
 *   amqp-consume-bench throughput plain|src N PREFETCH
 *       fill a fresh queue with N inline 1 KiB frame messages, then consume them
 *       all; prints "<mode> throughput N PREFETCH <msg/s> <seconds>"
 *   amqp-consume-bench latency plain|src N PREFETCH RATE
 *       consumer running on an empty queue, a second connection publishes N
 *       messages at RATE msg/s; per message latency = consume time - publish
 *       time (trace.published in the event, same host clock); prints
 *       "<mode> latency N PREFETCH <p50 us> <p99 us> <max us>"
 *
 * The plain loop does what a hand-written consumer does: basic.consume with
 * manual acks, parse the event, ack. amqpsrc additionally builds a GstBuffer,
 * attaches the event meta and acks only when fakesink released the buffer
 * (ack-mode=after-processing).
 */
#include <string.h>
#include <stdlib.h>

#include <gst/gst.h>
#include <amqp.h>

#include "edgefaas.h"
#include "edgefaas-amqp.h"

#define PAYLOAD 1024

static const gchar *url;

static EdgefaasAmqpConn *
open_conn (void)
{
  EdgefaasAmqpParams params = { 0 };
  GError *err = NULL;
  EdgefaasAmqpConn *conn;

  if (!edgefaas_amqp_params_parse_url (&params, url, &err)
      || !edgefaas_amqp_params_load_password (&params, NULL, NULL, &err)
      || !(conn = edgefaas_amqp_conn_open (&params, &err)))
    g_error ("connect: %s", err->message);
  edgefaas_amqp_params_clear (&params);
  return conn;
}

static void
publish_one (EdgefaasAmqpConn * conn, const gchar * queue, guint64 seq, const guint8 * body)
{
  EdgefaasFrameEvent *ev = edgefaas_frame_event_new ();
  amqp_basic_properties_t props = { 0 };
  amqp_table_entry_t entry;
  gchar *json;

  ev->camera_id = g_strdup ("bench");
  ev->sequence = seq;
  ev->capture_time_us = edgefaas_now_utc_us ();
  ev->frame.is_inline = TRUE;
  ev->frame.media_type = g_strdup ("image/jpeg");
  ev->frame.width = 64;
  ev->frame.height = 64;
  ev->frame.size = PAYLOAD;
  ev->trace.published_us = edgefaas_now_utc_us ();
  json = edgefaas_frame_event_to_json (ev, NULL);

  props._flags = AMQP_BASIC_DELIVERY_MODE_FLAG | AMQP_BASIC_CONTENT_TYPE_FLAG |
      AMQP_BASIC_HEADERS_FLAG;
  props.delivery_mode = 2;
  props.content_type = amqp_cstring_bytes ("image/jpeg");
  entry.key = amqp_cstring_bytes ("edgefaas-event");
  entry.value.kind = AMQP_FIELD_KIND_UTF8;
  entry.value.value.bytes = amqp_cstring_bytes (json);
  props.headers.num_entries = 1;
  props.headers.entries = &entry;
  if (amqp_basic_publish (edgefaas_amqp_conn_get_state (conn),
          edgefaas_amqp_conn_get_channel (conn), amqp_empty_bytes, amqp_cstring_bytes (queue),
          0, 0, &props, (amqp_bytes_t) { PAYLOAD, (void *) body }) != AMQP_STATUS_OK)
    g_error ("publish failed");
  g_free (json);
  edgefaas_frame_event_free (ev);
}

static guint
ready_count (EdgefaasAmqpConn * conn, const gchar * queue)
{
  amqp_connection_state_t cs = edgefaas_amqp_conn_get_state (conn);
  amqp_queue_declare_ok_t *ok = amqp_queue_declare (cs, edgefaas_amqp_conn_get_channel (conn),
      amqp_cstring_bytes (queue), 1, 0, 0, 0, amqp_empty_table);
  if (ok == NULL)
    g_error ("passive queue.declare failed");
  return ok->message_count;
}

static gchar *
fresh_queue (void)
{
  gchar *queue = g_strdup_printf ("bench-consume-%u", g_random_int ());
  EdgefaasAmqpConn *conn = open_conn ();
  GError *err = NULL;
  if (!edgefaas_amqp_declare_topology (conn, "", "direct", queue, queue, "classic", &err))
    g_error ("declare: %s", err->message);
  edgefaas_amqp_conn_close (conn);
  return queue;
}

static void
fill (const gchar * queue, guint n)
{
  EdgefaasAmqpConn *conn = open_conn ();
  guint8 body[PAYLOAD];
  for (guint i = 0; i < PAYLOAD; i++)
    body[i] = (guint8) g_random_int ();
  for (guint i = 0; i < n; i++)
    publish_one (conn, queue, i, body);
  for (guint i = 0; i < 600 && ready_count (conn, queue) < n; i++)
    g_usleep (50 * 1000);
  if (ready_count (conn, queue) < n)
    g_error ("queue did not fill");
  edgefaas_amqp_conn_close (conn);
}

/* ------------------------------------------------------ plain consumer ---- */

typedef struct
{
  const gchar *queue;
  guint n, prefetch;
  gint64 *lat;                  /* per message latency, µs, or NULL */
  volatile gint ready;          /* consumer subscribed */
} PlainArgs;

static gpointer
plain_consume (gpointer data)
{
  PlainArgs *a = data;
  EdgefaasAmqpConn *conn = open_conn ();
  amqp_connection_state_t cs = edgefaas_amqp_conn_get_state (conn);
  amqp_channel_t ch = edgefaas_amqp_conn_get_channel (conn);

  amqp_basic_qos (cs, ch, 0, a->prefetch, 0);
  amqp_basic_consume (cs, ch, amqp_cstring_bytes (a->queue), amqp_empty_bytes, 0, 0, 0,
      amqp_empty_table);
  if (amqp_get_rpc_reply (cs).reply_type != AMQP_RESPONSE_NORMAL)
    g_error ("basic.consume failed");
  g_atomic_int_set (&a->ready, 1);
  for (guint i = 0; i < a->n;) {
    amqp_envelope_t env;
    amqp_rpc_reply_t r;
    amqp_maybe_release_buffers (cs);
    r = amqp_consume_message (cs, &env, NULL, 0);
    if (r.reply_type != AMQP_RESPONSE_NORMAL)
      g_error ("consume failed");
    {
      /* Same per-message work as a real consumer: parse the event header. */
      amqp_table_t *h = &env.message.properties.headers;
      EdgefaasFrameEvent *ev = NULL;
      for (int k = 0; k < h->num_entries; k++)
        if (h->entries[k].key.len == 14 && memcmp (h->entries[k].key.bytes, "edgefaas-event",
                14) == 0)
          ev = edgefaas_frame_event_from_json (h->entries[k].value.value.bytes.bytes,
              h->entries[k].value.value.bytes.len, NULL);
      if (ev == NULL)
        g_error ("bad event");
      if (a->lat)
        a->lat[ev->sequence] = edgefaas_now_utc_us () - ev->trace.published_us;
      edgefaas_frame_event_free (ev);
    }
    amqp_basic_ack (cs, ch, env.delivery_tag, 0);
    amqp_destroy_envelope (&env);
    i++;
  }
  edgefaas_amqp_conn_close (conn);
  return NULL;
}

/* ------------------------------------------------------- amqpsrc consumer ---- */

typedef struct
{
  gint64 *lat;
  guint count;
} SrcStats;

static void
on_handoff (GstElement * sink, GstBuffer * buf, GstPad * pad, SrcStats * s)
{
  GstEdgefaasEventMeta *m = gst_buffer_get_edgefaas_event_meta (buf);
  if (m && s->lat)
    s->lat[m->event->sequence] = edgefaas_now_utc_us () - m->event->trace.published_us;
  s->count++;
}

static GstElement *
src_pipeline (const gchar * queue, guint n, guint prefetch, SrcStats * s)
{
  GError *err = NULL;
  gchar *desc = g_strdup_printf ("amqpsrc name=src url=%s queue=%s prefetch=%u "
      "max-messages=%u ! fakesink name=sink sync=false signal-handoffs=true", url, queue,
      prefetch, n);
  GstElement *p = gst_parse_launch (desc, &err);
  GstElement *sink;
  if (p == NULL)
    g_error ("pipeline: %s", err->message);
  sink = gst_bin_get_by_name (GST_BIN (p), "sink");
  g_signal_connect (sink, "handoff", G_CALLBACK (on_handoff), s);
  gst_object_unref (sink);
  g_free (desc);
  return p;
}

static void
wait_eos (GstElement * p)
{
  GstBus *bus = gst_element_get_bus (p);
  GstMessage *m = gst_bus_timed_pop_filtered (bus, 300 * GST_SECOND,
      GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
  if (m == NULL || GST_MESSAGE_TYPE (m) != GST_MESSAGE_EOS)
    g_error ("amqpsrc pipeline did not reach EOS");
  gst_message_unref (m);
  gst_object_unref (bus);
}

static int
cmp_i64 (const void *a, const void *b)
{
  gint64 x = *(const gint64 *) a, y = *(const gint64 *) b;
  return x < y ? -1 : x > y;
}

int
main (int argc, char **argv)
{
  const gchar *what, *mode;
  guint n, prefetch, rate = 0;
  gchar *queue;

  gst_init (&argc, &argv);
  if (argc < 5)
    g_error ("usage: %s throughput|latency plain|src N PREFETCH [RATE]", argv[0]);
  what = argv[1];
  mode = argv[2];
  n = atoi (argv[3]);
  prefetch = atoi (argv[4]);
  if (argc > 5)
    rate = atoi (argv[5]);
  url = g_getenv ("EF_BROKER_URL");
  if (url == NULL)
    g_error ("EF_BROKER_URL not set: run under edgefaas-broker --");
  queue = fresh_queue ();

  if (strcmp (what, "throughput") == 0) {
    gint64 t0, t1;
    fill (queue, n);
    if (strcmp (mode, "plain") == 0) {
      PlainArgs a = { queue, n, prefetch, NULL, 0 };
      t0 = g_get_monotonic_time ();
      plain_consume (&a);
      t1 = g_get_monotonic_time ();
    } else {
      SrcStats s = { 0 };
      GstElement *p = src_pipeline (queue, n, prefetch, &s);
      t0 = g_get_monotonic_time ();
      gst_element_set_state (p, GST_STATE_PLAYING);
      wait_eos (p);             /* EOS only after the drain acked all n */
      t1 = g_get_monotonic_time ();
      gst_element_set_state (p, GST_STATE_NULL);
      gst_object_unref (p);
      if (s.count != n)
        g_error ("amqpsrc delivered %u of %u", s.count, n);
    }
    g_print ("%s throughput %u %u %.0f %.3f\n", mode, n, prefetch,
        n / ((t1 - t0) / 1e6), (t1 - t0) / 1e6);
  } else {
    gint64 *lat = g_new0 (gint64, n);
    EdgefaasAmqpConn *pub;
    guint8 body[PAYLOAD] = { 0 };
    GThread *th = NULL;
    PlainArgs a = { queue, n, prefetch, lat, 0 };
    SrcStats s = { lat, 0 };
    GstElement *p = NULL;
    gint64 start;

    if (strcmp (mode, "plain") == 0) {
      th = g_thread_new ("plain", plain_consume, &a);
      while (!g_atomic_int_get (&a.ready))
        g_usleep (1000);
    } else {
      p = src_pipeline (queue, n, prefetch, &s);
      gst_element_set_state (p, GST_STATE_PLAYING);
      gst_element_get_state (p, NULL, NULL, 10 * GST_SECOND);
      g_usleep (300 * 1000);    /* subscribed */
    }
    pub = open_conn ();
    start = g_get_monotonic_time ();
    for (guint i = 0; i < n; i++) {
      gint64 due = start + (gint64) i * G_USEC_PER_SEC / (rate ? rate : 500);
      gint64 now = g_get_monotonic_time ();
      if (due > now)
        g_usleep (due - now);
      publish_one (pub, queue, i, body);
    }
    if (th)
      g_thread_join (th);
    else {
      wait_eos (p);
      gst_element_set_state (p, GST_STATE_NULL);
      gst_object_unref (p);
    }
    edgefaas_amqp_conn_close (pub);
    if (g_getenv ("BENCH_OUTLIERS"))
      for (guint i = 0; i < n; i++)
        if (lat[i] > 50000)
          g_printerr ("seq %u: %" G_GINT64_FORMAT " us\n", i, lat[i]);
    qsort (lat, n, sizeof (gint64), cmp_i64);
    g_print ("%s latency %u %u %" G_GINT64_FORMAT " %" G_GINT64_FORMAT " %" G_GINT64_FORMAT
        "\n", mode, n, prefetch, lat[n / 2], lat[(guint) (n * 0.99)], lat[n - 1]);
    g_free (lat);
  }
  g_free (queue);
  return 0;
}
