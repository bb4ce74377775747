/* amqpsrc against a real private RabbitMQ (tests/fixture/ef-broker.h).
 *
 * Every test uses its own queue on one broker started in main(); the broker
 * restart test runs last. Messages are published with librabbitmq through the
 * edgefaas connection helpers (content type, headers, persistence), and the
 * broker's own counters (rabbitmqctl, passive queue.declare) are the judge of
 * what was acked, requeued or dead-lettered.
 */
#include <stdio.h>
#include <stdlib.h>
#include <errno.h>
#include <string.h>
#include <signal.h>
#include <unistd.h>
#include <sys/wait.h>

#include <glib/gstdio.h>
#include <gst/gst.h>
#include <gst/app/gstappsink.h>
#include <amqp.h>

#include "ef-test.h"
#include "ef-broker.h"
#include "amqp-test-util.h"
#include "edgefaas.h"
#include "edgefaas-amqp.h"

static EfBroker *broker;

/* ------------------------------------------------------------ helpers ---- */

static EdgefaasAmqpConn *
pub_open (void)
{
  EdgefaasAmqpParams params = { 0 };
  GError *err = NULL;
  EdgefaasAmqpConn *conn;

  g_assert_true (edgefaas_amqp_params_parse_url (&params, ef_broker_url (broker), &err));
  g_assert_no_error (err);
  g_assert_true (edgefaas_amqp_params_load_password (&params, NULL, NULL, &err));
  g_assert_no_error (err);
  conn = edgefaas_amqp_conn_open (&params, &err);
  g_assert_no_error (err);
  g_assert_nonnull (conn);
  edgefaas_amqp_params_clear (&params);
  return conn;
}

/* The same topology helper amqpsrc declare=true uses (queue + <queue>.dlx + <queue>.dead). */
static void
declare_queue (const gchar * queue)
{
  EdgefaasAmqpConn *conn = pub_open ();
  GError *err = NULL;
  g_assert_true (edgefaas_amqp_declare_topology (conn, "", "direct", queue, queue, "classic",
          &err));
  g_assert_no_error (err);
  edgefaas_amqp_conn_close (conn);
}

static void
publish (EdgefaasAmqpConn * conn, const gchar * queue, const void *body, gsize len,
    const gchar * content_type, const gchar * event_header)
{
  amqp_basic_properties_t props = { 0 };
  amqp_table_entry_t entry;
  int r;

  props._flags = AMQP_BASIC_DELIVERY_MODE_FLAG;
  props.delivery_mode = 2;
  if (content_type) {
    props._flags |= AMQP_BASIC_CONTENT_TYPE_FLAG;
    props.content_type = amqp_cstring_bytes (content_type);
  }
  if (event_header) {
    entry.key = amqp_cstring_bytes ("edgefaas-event");
    entry.value.kind = AMQP_FIELD_KIND_UTF8;
    entry.value.value.bytes = amqp_cstring_bytes (event_header);
    props._flags |= AMQP_BASIC_HEADERS_FLAG;
    props.headers.num_entries = 1;
    props.headers.entries = &entry;
  }
  r = amqp_basic_publish (edgefaas_amqp_conn_get_state (conn),
      edgefaas_amqp_conn_get_channel (conn), amqp_empty_bytes, amqp_cstring_bytes (queue),
      0, 0, &props, (amqp_bytes_t) {
      len, (void *) body});
  g_assert_cmpint (r, ==, AMQP_STATUS_OK);
}

/* Ready count by passive queue.declare; also a barrier: the broker handles a
 * channel's commands in order, so earlier publishes have been routed. */
static guint
ready_count (EdgefaasAmqpConn * conn, const gchar * queue)
{
  amqp_connection_state_t cs = edgefaas_amqp_conn_get_state (conn);
  amqp_queue_declare_ok_t *ok = amqp_queue_declare (cs, edgefaas_amqp_conn_get_channel (conn),
      amqp_cstring_bytes (queue), 1, 0, 0, 0, amqp_empty_table);
  GError *err = NULL;
  g_assert_true (edgefaas_amqp_check_reply (amqp_get_rpc_reply (cs), "queue.declare passive",
          &err));
  g_assert_no_error (err);
  return ok->message_count;
}

/* Publishes are asynchronous: poll until the queue holds @want ready messages. */
static guint
wait_ready (EdgefaasAmqpConn * conn, const gchar * queue, guint want)
{
  guint have = 0;
  for (guint i = 0; i < 200; i++) {
    have = ready_count (conn, queue);
    if (have >= want)
      break;
    g_usleep (50 * 1000);
  }
  return have;
}

static void
broker_counts (const gchar * queue, guint * ready, guint * unacked)
{
  GError *err = NULL;
  g_assert_true (ef_broker_queue_counts (broker, queue, ready, unacked, &err));
  g_assert_no_error (err);
}

/* Poll the broker until @queue has @ready/@unacked (G_MAXUINT = any), or fail. */
static void
wait_counts (const gchar * queue, guint want_ready, guint want_unacked, guint timeout_s)
{
  gint64 end = g_get_monotonic_time () + timeout_s * G_USEC_PER_SEC;
  guint r = 0, u = 0;
  do {
    broker_counts (queue, &r, &u);
    if ((want_ready == G_MAXUINT || r == want_ready)
        && (want_unacked == G_MAXUINT || u == want_unacked))
      return;
    g_usleep (200 * 1000);
  } while (g_get_monotonic_time () < end);
  g_error ("queue %s: ready=%u unacked=%u, expected ready=%d unacked=%d after %us", queue, r,
      u, (gint) want_ready, (gint) want_unacked, timeout_s);
}

static gchar *
frame_event_json (guint64 seq, gboolean is_inline, const gchar * uri, gsize size,
    const gchar * sha256)
{
  EdgefaasFrameEvent *ev = edgefaas_frame_event_new ();
  gchar *json;

  ev->camera_id = g_strdup ("cam-test");
  ev->event_id = 7;
  ev->sequence = seq;
  ev->capture_time_us = edgefaas_now_utc_us ();
  ev->running_time = seq * GST_MSECOND * 33;
  ev->frame.is_inline = is_inline;
  ev->frame.uri = g_strdup (uri);
  ev->frame.media_type = g_strdup ("image/jpeg");
  ev->frame.width = 640;
  ev->frame.height = 480;
  ev->frame.size = size;
  ev->frame.sha256 = g_strdup (sha256);
  ev->motion_score = 0.25;
  json = edgefaas_frame_event_to_json (ev, NULL);
  g_assert_nonnull (json);
  edgefaas_frame_event_free (ev);
  return json;
}

/* Random bytes (with zero bytes) whose first 8 bytes are the sequence number. */
static GBytes *
make_payload (guint64 seq, gsize size)
{
  guint8 *data = g_malloc (size);
  for (gsize i = 0; i < size; i++)
    data[i] = (guint8) g_random_int ();
  memcpy (data, &seq, MIN (size, sizeof (seq)));
  if (size > 16)
    data[9] = 0;
  return g_bytes_new_take (data, size);
}

static gchar *
sha_of (GBytes * b)
{
  return g_compute_checksum_for_bytes (G_CHECKSUM_SHA256, b);
}

static gchar *
queue_name (const gchar * what)
{
  return g_strdup_printf ("amqpsrc-%s-%u", what, g_random_int ());
}

static GstElement *
make_pipeline (const gchar * queue, const gchar * extra, const gchar * sink)
{
  GError *err = NULL;
  gchar *desc = g_strdup_printf ("amqpsrc name=src url=%s queue=%s declare=true %s ! %s",
      ef_broker_url (broker), queue, extra ? extra : "", sink);
  GstElement *p = gst_parse_launch (desc, &err);
  g_assert_no_error (err);
  g_free (desc);
  return p;
}

static GstElement *
get_el (GstElement * pipeline, const gchar * name)
{
  GstElement *e = gst_bin_get_by_name (GST_BIN (pipeline), name);
  g_assert_nonnull (e);
  gst_object_unref (e);         /* the bin keeps it alive */
  return e;
}

static guint64
stat_u64 (GstElement * src, const gchar * field)
{
  GstStructure *s = NULL;
  guint64 v = 0;
  g_object_get (src, "stats", &s, NULL);
  g_assert_nonnull (s);
  g_assert_true (gst_structure_get_uint64 (s, field, &v));
  gst_structure_free (s);
  return v;
}

static guint
stat_inflight (GstElement * src)
{
  GstStructure *s = NULL;
  guint v = 0;
  g_object_get (src, "stats", &s, NULL);
  g_assert_true (gst_structure_get_uint (s, "in-flight", &v));
  gst_structure_free (s);
  return v;
}

static void
wait_stat (GstElement * src, const gchar * field, guint64 want, guint timeout_s)
{
  gint64 end = g_get_monotonic_time () + timeout_s * G_USEC_PER_SEC;
  while (stat_u64 (src, field) < want) {
    if (g_get_monotonic_time () > end)
      g_error ("stats %s = %" G_GUINT64_FORMAT ", expected %" G_GUINT64_FORMAT " within %us",
          field, stat_u64 (src, field), want, timeout_s);
    g_usleep (20 * 1000);
  }
}

static void
set_state_sync (GstElement * p, GstState state)
{
  GstStateChangeReturn r = gst_element_set_state (p, state);
  g_assert_cmpint (r, !=, GST_STATE_CHANGE_FAILURE);
  if (r == GST_STATE_CHANGE_ASYNC)
    g_assert_cmpint (gst_element_get_state (p, NULL, NULL, 10 * GST_SECOND), ==,
        GST_STATE_CHANGE_SUCCESS);
}

/* Fail on any ERROR message on the bus (drops the other messages). */
static void
assert_no_error (GstElement * p)
{
  GstBus *bus = gst_element_get_bus (p);
  GstMessage *m;
  while ((m = gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR))) {
    GError *e = NULL;
    gchar *dbg = NULL;
    gst_message_parse_error (m, &e, &dbg);
    g_error ("pipeline error: %s (%s)", e->message, dbg);
  }
  gst_object_unref (bus);
}

/* ------------------------------------------------------------ collector ---- */

/* Buffers are checked in fakesink's handoff (streaming thread). appsink is not
 * used for counting: it keeps the last pulled buffer in a cached GstSample, so
 * the last delivery could not be acked before the next pull. */
typedef struct
{
  GMutex lock;
  GCond cond;
  GHashTable *sha_by_seq;       /* seq -> expected sha, or NULL: don't check */
  GHashTable *seen;             /* seq -> times seen */
  guint total, matched, mismatched, without_meta, bad_caps, no_pts, discont;
  guint hold;                   /* keep a ref on the first @hold buffers */
  gboolean requeue;             /* downstream asks for a requeue of every delivery */
  gboolean reject;              /* downstream dead-letters every delivery */
  GPtrArray *held;
} Collector;

static Collector *
collector_new (void)
{
  Collector *c = g_new0 (Collector, 1);
  g_mutex_init (&c->lock);
  g_cond_init (&c->cond);
  c->seen = g_hash_table_new (NULL, NULL);
  c->held = g_ptr_array_new_with_free_func ((GDestroyNotify) gst_buffer_unref);
  return c;
}

static void
collector_free (Collector * c)
{
  g_ptr_array_unref (c->held);
  g_hash_table_destroy (c->seen);
  if (c->sha_by_seq)
    g_hash_table_destroy (c->sha_by_seq);
  g_mutex_clear (&c->lock);
  g_cond_clear (&c->cond);
  g_free (c);
}

static void
on_handoff (GstElement * fakesink, GstBuffer * buf, GstPad * pad, Collector * c)
{
  GstEdgefaasEventMeta *meta = gst_buffer_get_edgefaas_event_meta (buf);
  GstCaps *caps = gst_pad_get_current_caps (pad);
  GstMapInfo map;
  guint64 seq_in_payload = 0;
  gchar *sha;

  g_mutex_lock (&c->lock);
  c->total++;
  if (GST_BUFFER_FLAG_IS_SET (buf, GST_BUFFER_FLAG_DISCONT))
    c->discont++;
  if (!caps || !gst_structure_has_name (gst_caps_get_structure (caps, 0), "image/jpeg"))
    c->bad_caps++;
  if (!GST_BUFFER_PTS_IS_VALID (buf))
    c->no_pts++;
  if (meta == NULL || meta->event == NULL) {
    c->without_meta++;
  } else {
    guint seq = (guint) meta->event->sequence;
    g_hash_table_insert (c->seen, GUINT_TO_POINTER (seq),
        GUINT_TO_POINTER (GPOINTER_TO_UINT (g_hash_table_lookup (c->seen,
                    GUINT_TO_POINTER (seq))) + 1));
    if (c->sha_by_seq) {
      const gchar *want = g_hash_table_lookup (c->sha_by_seq, GUINT_TO_POINTER (seq));
      g_assert_true (gst_buffer_map (buf, &map, GST_MAP_READ));
      sha = g_compute_checksum_for_data (G_CHECKSUM_SHA256, map.data, map.size);
      memcpy (&seq_in_payload, map.data, MIN (map.size, sizeof (seq_in_payload)));
      gst_buffer_unmap (buf, &map);
      if (want && strcmp (want, sha) == 0 && seq_in_payload == seq
          && g_strcmp0 (meta->event->camera_id, "cam-test") == 0
          && meta->event->trace.consumed_us > 0)
        c->matched++;
      else
        c->mismatched++;
      g_free (sha);
    }
  }
  if (c->held->len < c->hold)
    g_ptr_array_add (c->held, gst_buffer_ref (buf));
  if (c->requeue && meta && meta->token)
    edgefaas_ack_token_reject (meta->token, TRUE, "test asks for a requeue");
  if (c->reject && meta && meta->token)
    edgefaas_ack_token_reject (meta->token, FALSE, "the test rejects it");
  g_cond_broadcast (&c->cond);
  g_mutex_unlock (&c->lock);
  if (caps)
    gst_caps_unref (caps);
}

static void
collector_wait_total (Collector * c, guint want, guint timeout_s)
{
  gint64 end = g_get_monotonic_time () + timeout_s * G_USEC_PER_SEC;
  g_mutex_lock (&c->lock);
  while (c->total < want) {
    if (!g_cond_wait_until (&c->cond, &c->lock, end)) {
      guint t = c->total;
      g_mutex_unlock (&c->lock);
      g_error ("only %u buffers of %u arrived within %us", t, want, timeout_s);
    }
  }
  g_mutex_unlock (&c->lock);
}

static void
collector_release_held (Collector * c)
{
  GPtrArray *held;
  g_mutex_lock (&c->lock);
  held = c->held;
  c->held = g_ptr_array_new_with_free_func ((GDestroyNotify) gst_buffer_unref);
  c->hold = 0;
  g_mutex_unlock (&c->lock);
  g_ptr_array_unref (held);
}

#define COLLECT_SINK "fakesink name=sink sync=false signal-handoffs=true"

static GstElement *
make_collecting_pipeline (const gchar * queue, const gchar * extra, Collector * c)
{
  GstElement *p = make_pipeline (queue, extra, COLLECT_SINK);
  g_signal_connect (get_el (p, "sink"), "handoff", G_CALLBACK (on_handoff), c);
  return p;
}

/* Wait for EOS (or fail on error/timeout). */
static void
wait_eos (GstElement * p, guint timeout_s)
{
  GstBus *bus = gst_element_get_bus (p);
  GstMessage *m = gst_bus_timed_pop_filtered (bus, timeout_s * GST_SECOND,
      GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
  if (m == NULL)
    g_error ("no EOS within %us", timeout_s);
  if (GST_MESSAGE_TYPE (m) == GST_MESSAGE_ERROR) {
    GError *e = NULL;
    gchar *dbg = NULL;
    gst_message_parse_error (m, &e, &dbg);
    g_error ("pipeline error: %s (%s)", e->message, dbg);
  }
  gst_message_unref (m);
  gst_object_unref (bus);
}

static gboolean
got_eos (GstElement * p)
{
  GstBus *bus = gst_element_get_bus (p);
  GstMessage *m = gst_bus_pop_filtered (bus, GST_MESSAGE_EOS);
  gboolean eos = m != NULL;
  if (m)
    gst_message_unref (m);
  gst_object_unref (bus);
  return eos;
}

/* --------------------------------------------------------- round trip ---- */

static void
run_round_trip (gboolean by_reference)
{
  const guint n = 1000, extra = 5;
  gchar *queue = queue_name (by_reference ? "ref" : "inline");
  gchar *root = ef_test_mkdtemp ("amqpsrc-root");
  Collector *c = collector_new ();
  EdgefaasAmqpConn *conn;
  GstElement *p, *src;
  gchar *extra_props;
  guint ready, unacked;

  c->sha_by_seq = g_hash_table_new_full (NULL, NULL, NULL, g_free);
  declare_queue (queue);
  conn = pub_open ();
  for (guint i = 0; i < n + extra; i++) {
    GBytes *payload = make_payload (i, 200 + g_random_int_range (0, 20000));
    gchar *sha = sha_of (payload);
    gsize len;
    const guint8 *data = g_bytes_get_data (payload, &len);
    if (by_reference) {
      gchar *path = g_strdup_printf ("%s/f%05u.jpg", root, i);
      gchar *uri = g_filename_to_uri (path, NULL, NULL);
      gchar *json = frame_event_json (i, FALSE, uri, len, sha);
      g_assert_true (g_file_set_contents (path, (const gchar *) data, len, NULL));
      publish (conn, queue, json, strlen (json), "application/json", NULL);
      g_free (path);
      g_free (uri);
      g_free (json);
    } else {
      gchar *json = frame_event_json (i, TRUE, NULL, len, sha);
      publish (conn, queue, data, len, "image/jpeg", json);
      g_free (json);
    }
    g_hash_table_insert (c->sha_by_seq, GUINT_TO_POINTER (i), sha);
    g_bytes_unref (payload);
  }
  g_assert_cmpuint (wait_ready (conn, queue, n + extra), ==, n + extra);

  extra_props = g_strdup_printf ("prefetch=10 max-messages=%u frame-root=%s", n, root);
  p = make_collecting_pipeline (queue, extra_props, c);
  src = get_el (p, "src");
  set_state_sync (p, GST_STATE_PLAYING);
  wait_eos (p, 120);

  g_assert_cmpuint (c->without_meta, ==, 0);
  g_assert_cmpuint (c->bad_caps, ==, 0);
  g_assert_cmpuint (c->no_pts, ==, 0);
  g_assert_cmpuint (c->mismatched, ==, 0);
  g_assert_cmpuint (c->matched, ==, n);
  g_assert_cmpuint (c->total, ==, n);
  g_assert_cmpuint (g_hash_table_size (c->seen), ==, n);
  /* Drain acked everything before EOS: nothing unacked, exactly the extra left. */
  g_assert_cmpuint (stat_u64 (src, "acked"), ==, n);
  g_assert_cmpuint (stat_u64 (src, "rejected"), ==, 0);
  broker_counts (queue, &ready, &unacked);
  g_assert_cmpuint (unacked, ==, 0);
  g_assert_cmpuint (ready, ==, extra);

  set_state_sync (p, GST_STATE_NULL);
  gst_object_unref (p);
  broker_counts (queue, &ready, &unacked);
  g_assert_cmpuint (ready, ==, extra);
  g_assert_cmpuint (unacked, ==, 0);

  edgefaas_amqp_conn_close (conn);
  collector_free (c);
  ef_test_rm_rf (root);
  g_free (root);
  g_free (extra_props);
  g_free (queue);
}

static void
test_round_trip_inline (void)
{
  run_round_trip (FALSE);
}

static void
test_round_trip_reference (void)
{
  run_round_trip (TRUE);
}

/* ------------------------------------------------ ack after processing ---- */

static void
run_ack_mode (gboolean immediate)
{
  gchar *queue = queue_name (immediate ? "ackimm" : "ackafter");
  Collector *c = collector_new ();
  EdgefaasAmqpConn *conn;
  GstElement *p, *src;

  declare_queue (queue);
  conn = pub_open ();
  for (guint i = 0; i < 3; i++) {
    GBytes *payload = make_payload (i, 1000);
    gchar *sha = sha_of (payload);
    gchar *json = frame_event_json (i, TRUE, NULL, 1000, sha);
    publish (conn, queue, g_bytes_get_data (payload, NULL), 1000, "image/jpeg", json);
    g_free (json);
    g_free (sha);
    g_bytes_unref (payload);
  }
  g_assert_cmpuint (wait_ready (conn, queue, 3), ==, 3);

  c->hold = 1;                  /* a downstream element keeps the first buffer */
  p = make_collecting_pipeline (queue, immediate ? "prefetch=1 ack-mode=immediate" :
      "prefetch=1", c);
  src = get_el (p, "src");
  set_state_sync (p, GST_STATE_PLAYING);
  collector_wait_total (c, 1, 10);
  if (immediate) {
    /* Acked on receipt although the buffer is still held; prefetch 1 lets the
     * others through. */
    wait_stat (src, "acked", 3, 10);
    wait_counts (queue, 0, 0, 10);
    collector_release_held (c);
  } else {
    /* The buffer is alive: the delivery must stay unacked, however long we
     * wait, and prefetch=1 holds back the rest. */
    g_usleep (G_USEC_PER_SEC);
    g_assert_cmpuint (stat_u64 (src, "acked"), ==, 0);
    g_assert_cmpuint (stat_inflight (src), ==, 1);
    g_assert_cmpuint (c->total, ==, 1);
    wait_counts (queue, 2, 1, 10);
    collector_release_held (c);
    /* Released: acked, and the next two flow through and are acked too. */
    wait_stat (src, "acked", 3, 10);
    wait_counts (queue, 0, 0, 10);
    g_assert_cmpuint (c->total, ==, 3);
  }
  assert_no_error (p);
  set_state_sync (p, GST_STATE_NULL);
  gst_object_unref (p);
  edgefaas_amqp_conn_close (conn);
  collector_free (c);
  g_free (queue);
}

static void
test_ack_after_processing (void)
{
  run_ack_mode (FALSE);
}

static void
test_ack_immediate (void)
{
  run_ack_mode (TRUE);
}

/* --------------------------------------------------------------- poison ---- */

typedef struct
{
  const gchar *name;
  const gchar *code;            /* expected reason-code in the warning details */
} Poison;

/* A file outside @frames (in @root) with a hard link inside @frames; returns
 * the link's file:// URI. */
static gchar *
hardlink_outside_root (const gchar * root, const gchar * frames)
{
  gchar *outside = g_build_filename (root, "outside.jpg", NULL);
  gchar *hard = g_build_filename (frames, "hardlink.jpg", NULL);
  gchar *uri;

  g_assert_true (g_file_set_contents (outside, "NOT A FRAME", -1, NULL));
  g_assert_cmpint (link (outside, hard), ==, 0);
  uri = g_filename_to_uri (hard, NULL, NULL);
  g_free (hard);
  g_free (outside);
  return uri;
}

/* Issue 15.8: read every message of @dead (acking it) and check that each
 * carries the reason amqpsrc dead-lettered it for, in order. */
static void
assert_dead_reasons (const gchar * dead, const gchar * queue, const gchar * const *codes,
    guint n)
{
  GError *err = NULL;
  GPtrArray *msgs = at_drain_queue (ef_broker_url (broker), dead, 500, &err);

  g_assert_no_error (err);
  g_assert_cmpuint (msgs->len, ==, n);
  for (guint i = 0; i < n; i++) {
    AtMsg *m = g_ptr_array_index (msgs, i);
    const gchar *code = g_hash_table_lookup (m->headers, "x-edgefaas-reason-code");
    const gchar *text = g_hash_table_lookup (m->headers, "x-edgefaas-reason");
    if (g_strcmp0 (code, codes[i]) != 0)
      g_error ("dead-lettered message %u: x-edgefaas-reason-code '%s', expected '%s'", i,
          code ? code : "(none)", codes[i]);
    g_assert_nonnull (text);
    g_assert_true (g_str_has_prefix (text, codes[i]));
    g_assert_cmpuint (strlen (text), >, strlen (codes[i]) + 2);
    g_assert_cmpstr (g_hash_table_lookup (m->headers, "x-edgefaas-queue"), ==, queue);
    g_assert_null (strstr (text, ef_broker_password (broker)));
  }
  g_ptr_array_unref (msgs);
}

static void
test_poison (void)
{
  gchar *queue = queue_name ("poison");
  gchar *dead = g_strdup_printf ("%s.dead", queue);
  gchar *root = ef_test_mkdtemp ("amqpsrc-poison");
  gchar *frames = g_build_filename (root, "frames", NULL);
  EdgefaasAmqpConn *conn;
  GstElement *p, *src;
  GstBus *bus;
  GstMessage *m;
  Collector *c = collector_new ();
  GPtrArray *codes = g_ptr_array_new_with_free_func (g_free);
  GstState state;
  const Poison expected[] = {
    {"non-JSON", "not-json"},
    {"wrong schema", "wrong-schema"},
    {"missing file", "frameref-not-found"},
    {"../../etc/passwd", "frameref-outside-root"},
    {"symlink escape", "frameref-outside-root"},
    {"hardlink to a file outside the root", "frameref-hardlink"},
    {"hash mismatch", "hash-mismatch"},
    {"100 MB body", "too-large"},
  };

  g_assert_cmpint (g_mkdir_with_parents (frames, 0755), ==, 0);
  declare_queue (queue);
  conn = pub_open ();

  {
    const gchar *not_json = "this is {not json";
    gchar *json = frame_event_json (1, FALSE, "file:///x/y.jpg", 10, NULL);
    gchar *wrong, *uri, *path, *link;
    GBytes *payload = make_payload (2, 1000);
    gchar *sha = sha_of (payload);
    gchar *bad_sha = g_strdup (sha);
    gsize big = 100 * 1024 * 1024;
    guint8 *bigbody;

    publish (conn, queue, not_json, strlen (not_json), "application/json", NULL);

    wrong = g_strdup (json);
    memcpy (strstr (wrong, "edgefaas.frame/v1"), "edgefaas.fraXX/v1", 17);
    publish (conn, queue, wrong, strlen (wrong), "application/json", NULL);
    g_free (wrong);
    g_free (json);

    path = g_build_filename (frames, "missing.jpg", NULL);
    uri = g_filename_to_uri (path, NULL, NULL);
    json = frame_event_json (3, FALSE, uri, 100, NULL);
    publish (conn, queue, json, strlen (json), "application/json", NULL);
    g_free (json);
    g_free (uri);
    g_free (path);

    uri = g_strdup_printf ("file://%s/../../../../../../../../etc/passwd", frames);
    json = frame_event_json (4, FALSE, uri, 100, NULL);
    publish (conn, queue, json, strlen (json), "application/json", NULL);
    g_free (json);
    g_free (uri);

    link = g_build_filename (frames, "escape.jpg", NULL);
    g_assert_cmpint (symlink ("/etc/passwd", link), ==, 0);
    uri = g_filename_to_uri (link, NULL, NULL);
    json = frame_event_json (5, FALSE, uri, 100, NULL);
    publish (conn, queue, json, strlen (json), "application/json", NULL);
    g_free (json);
    g_free (uri);
    g_free (link);

    uri = hardlink_outside_root (root, frames);
    json = frame_event_json (9, FALSE, uri, 11, NULL);
    publish (conn, queue, json, strlen (json), "application/json", NULL);
    g_free (json);
    g_free (uri);

    bad_sha[0] = bad_sha[0] == 'a' ? 'b' : 'a';
    json = frame_event_json (6, TRUE, NULL, 1000, bad_sha);
    publish (conn, queue, g_bytes_get_data (payload, NULL), 1000, "image/jpeg", json);
    g_free (json);

    bigbody = g_malloc0 (big);
    json = frame_event_json (7, TRUE, NULL, 1000, NULL);
    publish (conn, queue, bigbody, big, "image/jpeg", json);
    g_free (bigbody);
    g_free (json);

    /* And one good message after all of them. */
    json = frame_event_json (8, TRUE, NULL, 1000, sha);
    publish (conn, queue, g_bytes_get_data (payload, NULL), 1000, "image/jpeg", json);
    g_free (json);
    g_free (sha);
    g_free (bad_sha);
    g_bytes_unref (payload);
  }
  g_assert_cmpuint (wait_ready (conn, queue, G_N_ELEMENTS (expected) + 1), ==, G_N_ELEMENTS (expected) + 1);

  {
    gchar *props = g_strdup_printf ("frame-root=%s prefetch=2", frames);
    p = make_collecting_pipeline (queue, props, c);
    g_free (props);
  }
  src = get_el (p, "src");
  set_state_sync (p, GST_STATE_PLAYING);
  collector_wait_total (c, 1, 60);
  g_assert_cmpuint (c->total, ==, 1);
  g_assert_true (g_hash_table_contains (c->seen, GUINT_TO_POINTER (8)));

  /* Every poison message is in <queue>.dead, the good one was acked. */
  for (guint i = 0; i < 100 && ready_count (conn, dead) < G_N_ELEMENTS (expected); i++)
    g_usleep (100 * 1000);
  g_assert_cmpuint (ready_count (conn, dead), ==, G_N_ELEMENTS (expected));
  wait_stat (src, "acked", 1, 5);
  wait_counts (queue, 0, 0, 10);
  g_assert_cmpuint (stat_u64 (src, "rejected"), ==, G_N_ELEMENTS (expected));

  /* Still running. */
  g_assert_cmpint (gst_element_get_state (p, &state, NULL, 0), ==, GST_STATE_CHANGE_SUCCESS);
  g_assert_cmpint (state, ==, GST_STATE_PLAYING);

  /* One warning per poison message, in order, naming the reason. */
  bus = gst_element_get_bus (p);
  while ((m = gst_bus_pop_filtered (bus, GST_MESSAGE_WARNING | GST_MESSAGE_ERROR))) {
    const GstStructure *details = NULL;
    GError *e = NULL;
    if (GST_MESSAGE_TYPE (m) == GST_MESSAGE_ERROR) {
      gst_message_parse_error (m, &e, NULL);
      g_error ("pipeline error: %s", e->message);
    }
    gst_message_parse_warning (m, &e, NULL);
    gst_message_parse_warning_details (m, &details);
    g_test_message ("warning %s details %" GST_PTR_FORMAT, e->message, details);
    if (details && gst_structure_has_field (details, "reason-code")) {
      g_assert_nonnull (strstr (e->message, "dead-lettered"));
      g_assert_null (strstr (e->message, ef_broker_password (broker)));
      g_ptr_array_add (codes, g_strdup (gst_structure_get_string (details, "reason-code")));
      g_test_message ("warning: %s", e->message);
    }
    g_error_free (e);
    gst_message_unref (m);
  }
  gst_object_unref (bus);
  g_assert_cmpuint (codes->len, ==, G_N_ELEMENTS (expected));
  for (guint i = 0; i < G_N_ELEMENTS (expected); i++) {
    if (g_strcmp0 (codes->pdata[i], expected[i].code) != 0)
      g_error ("poison '%s': reason code '%s', expected '%s'", expected[i].name,
          (gchar *) codes->pdata[i], expected[i].code);
  }
  /* The messages in <queue>.dead carry the same reasons as headers. */
  {
    const gchar *want[G_N_ELEMENTS (expected)];
    for (guint i = 0; i < G_N_ELEMENTS (expected); i++)
      want[i] = expected[i].code;
    assert_dead_reasons (dead, queue, want, G_N_ELEMENTS (expected));
  }

  set_state_sync (p, GST_STATE_NULL);
  gst_object_unref (p);
  edgefaas_amqp_conn_close (conn);
  g_ptr_array_unref (codes);
  collector_free (c);
  ef_test_rm_rf (root);
  g_free (root);
  g_free (frames);
  g_free (dead);
  g_free (queue);
}

/* Publish with @n_extra filler headers of @extra_len bytes each besides an
 * optional edgefaas-event header. */
static void
publish_with_headers (EdgefaasAmqpConn * conn, const gchar * queue, const void *body,
    gsize len, const gchar * content_type, const gchar * event_header, guint n_extra,
    gsize extra_len)
{
  amqp_basic_properties_t props = { 0 };
  amqp_table_entry_t *entries = g_new0 (amqp_table_entry_t, n_extra + 1);
  gchar *filler = g_malloc (extra_len + 1);
  GPtrArray *keys = g_ptr_array_new_with_free_func (g_free);
  guint n = 0;
  int r;

  memset (filler, 'h', extra_len);
  filler[extra_len] = '\0';
  if (event_header) {
    entries[n].key = amqp_cstring_bytes ("edgefaas-event");
    entries[n].value.kind = AMQP_FIELD_KIND_UTF8;
    entries[n].value.value.bytes = amqp_cstring_bytes (event_header);
    n++;
  }
  for (guint i = 0; i < n_extra; i++, n++) {
    gchar *k = g_strdup_printf ("x-filler-%u", i);
    g_ptr_array_add (keys, k);
    entries[n].key = amqp_cstring_bytes (k);
    entries[n].value.kind = AMQP_FIELD_KIND_UTF8;
    entries[n].value.value.bytes = amqp_cstring_bytes (filler);
  }
  props._flags = AMQP_BASIC_DELIVERY_MODE_FLAG | AMQP_BASIC_HEADERS_FLAG;
  props.delivery_mode = 2;
  if (content_type) {
    props._flags |= AMQP_BASIC_CONTENT_TYPE_FLAG;
    props.content_type = amqp_cstring_bytes (content_type);
  }
  props.headers.num_entries = n;
  props.headers.entries = entries;
  r = amqp_basic_publish (edgefaas_amqp_conn_get_state (conn),
      edgefaas_amqp_conn_get_channel (conn), amqp_empty_bytes, amqp_cstring_bytes (queue),
      0, 0, &props, (amqp_bytes_t) {
      len, (void *) body});
  g_assert_cmpint (r, ==, AMQP_STATUS_OK);
  g_ptr_array_unref (keys);
  g_free (filler);
  g_free (entries);
}

/* Input a broker really carries from a broken or hostile producer: random
 * bytes (as body, and as the event header), ~100 KB of headers (just under
 * RabbitMQ's 128 KB frame_max for the header frame), a 50 MB message (over
 * the default max-bytes of 32 MB). Each is dead-lettered with a reason
 * (warning reason-code and x-edgefaas-reason header), the element keeps
 * running and the good message after them arrives. */
static void
test_hostile_input (void)
{
  gchar *queue = queue_name ("hostile");
  gchar *dead = g_strdup_printf ("%s.dead", queue);
  Collector *c = collector_new ();
  GPtrArray *codes = g_ptr_array_new_with_free_func (g_free);
  EdgefaasAmqpConn *conn;
  GstElement *p, *src;
  GstBus *bus;
  GstMessage *m;
  GBytes *payload = make_payload (8, 1000);
  gchar *sha = sha_of (payload);
  const gchar *expected[] = { "not-json", "not-json", "not-json", "too-large" };
  guint8 *noise = g_malloc (4096);
  gchar *noise_hdr;
  gsize big = 50 * 1024 * 1024;
  guint8 *bigbody;
  gchar *json;

  for (guint i = 0; i < 4096; i++)
    noise[i] = g_random_int_range (0, 256);
  /* A header value must be a string: random printable bytes. */
  noise_hdr = g_malloc (2049);
  for (guint i = 0; i < 2048; i++)
    noise_hdr[i] = (gchar) g_random_int_range (33, 127);
  noise_hdr[2048] = '\0';

  declare_queue (queue);
  conn = pub_open ();
  publish (conn, queue, noise, 4096, "application/octet-stream", NULL);
  publish (conn, queue, noise, 4096, "image/jpeg", noise_hdr);
  publish_with_headers (conn, queue, noise, 1000, "image/jpeg", noise_hdr, 100, 1000);
  bigbody = g_malloc (big);
  for (gsize i = 0; i < big; i += 4096)
    memcpy (bigbody + i, noise, MIN (4096, big - i));
  json = frame_event_json (7, TRUE, NULL, big, NULL);
  publish (conn, queue, bigbody, big, "image/jpeg", json);
  g_free (json);
  g_free (bigbody);
  json = frame_event_json (8, TRUE, NULL, 1000, sha);
  publish (conn, queue, g_bytes_get_data (payload, NULL), 1000, "image/jpeg", json);
  g_free (json);
  g_assert_cmpuint (wait_ready (conn, queue, G_N_ELEMENTS (expected) + 1), ==,
      G_N_ELEMENTS (expected) + 1);

  p = make_collecting_pipeline (queue, "prefetch=2", c);
  src = get_el (p, "src");
  set_state_sync (p, GST_STATE_PLAYING);
  collector_wait_total (c, 1, 60);
  g_assert_cmpuint (c->total, ==, 1);
  g_assert_true (g_hash_table_contains (c->seen, GUINT_TO_POINTER (8)));
  for (guint i = 0; i < 100 && ready_count (conn, dead) < G_N_ELEMENTS (expected); i++)
    g_usleep (100 * 1000);
  g_assert_cmpuint (ready_count (conn, dead), ==, G_N_ELEMENTS (expected));
  wait_stat (src, "acked", 1, 5);
  wait_counts (queue, 0, 0, 10);
  g_assert_cmpuint (stat_u64 (src, "rejected"), ==, G_N_ELEMENTS (expected));

  bus = gst_element_get_bus (p);
  while ((m = gst_bus_pop_filtered (bus, GST_MESSAGE_WARNING | GST_MESSAGE_ERROR))) {
    const GstStructure *details = NULL;
    GError *e = NULL;
    if (GST_MESSAGE_TYPE (m) == GST_MESSAGE_ERROR) {
      gst_message_parse_error (m, &e, NULL);
      g_error ("pipeline error: %s", e->message);
    }
    gst_message_parse_warning (m, &e, NULL);
    gst_message_parse_warning_details (m, &details);
    if (details && gst_structure_has_field (details, "reason-code")) {
      g_test_message ("warning: %s (%s)", e->message,
          gst_structure_get_string (details, "reason-code"));
      g_ptr_array_add (codes, g_strdup (gst_structure_get_string (details, "reason-code")));
    }
    g_error_free (e);
    gst_message_unref (m);
  }
  gst_object_unref (bus);
  g_assert_cmpuint (codes->len, ==, G_N_ELEMENTS (expected));
  for (guint i = 0; i < G_N_ELEMENTS (expected); i++)
    g_assert_cmpstr (codes->pdata[i], ==, expected[i]);
  assert_dead_reasons (dead, queue, expected, G_N_ELEMENTS (expected));

  set_state_sync (p, GST_STATE_NULL);
  gst_object_unref (p);
  edgefaas_amqp_conn_close (conn);
  g_ptr_array_unref (codes);
  collector_free (c);
  g_bytes_unref (payload);
  g_free (sha);
  g_free (noise);
  g_free (noise_hdr);
  g_free (dead);
  g_free (queue);
}

/* ------------------------------------------------------- redeliveries ---- */

/* A message that downstream always gives back (nack requeue) on a classic
 * queue: amqpsrc counts its redeliveries in its own header and dead-letters
 * it after max-redeliveries, instead of looping forever. */
static void
test_max_redeliveries (void)
{
  gchar *queue = queue_name ("redeliver");
  gchar *dead = g_strdup_printf ("%s.dead", queue);
  Collector *c = collector_new ();
  EdgefaasAmqpConn *conn;
  GstElement *p, *src;
  GBytes *payload = make_payload (42, 800);
  gchar *sha = sha_of (payload);
  gchar *json = frame_event_json (42, TRUE, NULL, 800, sha);

  declare_queue (queue);
  conn = pub_open ();
  publish (conn, queue, g_bytes_get_data (payload, NULL), 800, "image/jpeg", json);
  g_assert_cmpuint (wait_ready (conn, queue, 1), ==, 1);

  c->requeue = TRUE;
  p = make_collecting_pipeline (queue, "max-redeliveries=2", c);
  src = get_el (p, "src");
  set_state_sync (p, GST_STATE_PLAYING);
  for (guint i = 0; i < 100 && ready_count (conn, dead) < 1; i++)
    g_usleep (100 * 1000);
  g_assert_cmpuint (ready_count (conn, dead), ==, 1);
  {
    const gchar *want[] = { "redelivered" };
    assert_dead_reasons (dead, queue, want, 1);
  }
  /* Processed exactly max-redeliveries + 1 times, always the same bytes. */
  g_assert_cmpuint (c->total, ==, 3);
  g_assert_cmpuint (GPOINTER_TO_UINT (g_hash_table_lookup (c->seen, GUINT_TO_POINTER (42))),
      ==, 3);
  g_assert_cmpuint (stat_u64 (src, "requeued"), ==, 3);
  g_assert_cmpuint (stat_u64 (src, "republished"), ==, 2);
  g_assert_cmpuint (stat_u64 (src, "rejected"), ==, 1);
  wait_counts (queue, 0, 0, 10);
  set_state_sync (p, GST_STATE_NULL);
  gst_object_unref (p);
  edgefaas_amqp_conn_close (conn);
  collector_free (c);
  g_bytes_unref (payload);
  g_free (sha);
  g_free (json);
  g_free (dead);
  g_free (queue);
}

/* ---------------------------------------------------------------- drain ---- */

static void
test_drain_on_eos (void)
{
  const guint n = 10;
  gchar *queue = queue_name ("drain");
  Collector *c = collector_new ();
  EdgefaasAmqpConn *conn;
  GstElement *p, *src;
  guint ready, unacked;

  declare_queue (queue);
  conn = pub_open ();
  for (guint i = 0; i < n; i++) {
    GBytes *payload = make_payload (i, 500);
    gchar *json = frame_event_json (i, TRUE, NULL, 500, NULL);
    publish (conn, queue, g_bytes_get_data (payload, NULL), 500, "image/jpeg", json);
    g_free (json);
    g_bytes_unref (payload);
  }
  g_assert_cmpuint (wait_ready (conn, queue, n), ==, n);

  /* A slow downstream: identity sleeps 300 ms per buffer, and the first buffer
   * is held by the test. */
  c->hold = 1;
  p = make_pipeline (queue, "prefetch=3", "identity sleep-time=300000 ! " COLLECT_SINK);
  g_signal_connect (get_el (p, "sink"), "handoff", G_CALLBACK (on_handoff), c);
  src = get_el (p, "src");
  set_state_sync (p, GST_STATE_PLAYING);
  collector_wait_total (c, 1, 10);

  g_assert_true (gst_element_send_event (p, gst_event_new_eos ()));
  /* While the held buffer lives, no EOS: the source waits for it. */
  g_usleep (1500 * 1000);
  g_assert_false (got_eos (p));
  g_assert_cmpuint (stat_inflight (src), >=, 1);
  collector_release_held (c);
  wait_eos (p, 20);

  g_assert_cmpuint (stat_u64 (src, "pushed"), ==, c->total);
  g_assert_cmpuint (stat_u64 (src, "acked"), ==, c->total);
  g_assert_cmpuint (c->total, <, n);
  g_test_message ("drain: %u pushed and acked, %" G_GUINT64_FORMAT " requeued", c->total,
      stat_u64 (src, "requeued"));
  /* In-flight acked, the rest back in the queue, nothing unacked, before NULL. */
  broker_counts (queue, &ready, &unacked);
  g_assert_cmpuint (unacked, ==, 0);
  g_assert_cmpuint (ready, ==, n - c->total);

  set_state_sync (p, GST_STATE_NULL);
  gst_object_unref (p);
  edgefaas_amqp_conn_close (conn);
  collector_free (c);
  g_free (queue);
}

/* --------------------------------------------------------- idle timeout ---- */

static void
test_idle_timeout (void)
{
  gchar *queue = queue_name ("idle");
  Collector *c = collector_new ();
  GstElement *p;
  gint64 t0, dt;

  declare_queue (queue);
  p = make_collecting_pipeline (queue, "idle-timeout=2", c);
  t0 = g_get_monotonic_time ();
  set_state_sync (p, GST_STATE_PLAYING);
  wait_eos (p, 10);
  dt = g_get_monotonic_time () - t0;
  g_assert_cmpuint (c->total, ==, 0);
  g_assert_cmpint (dt, >=, 2 * G_USEC_PER_SEC - 100000);
  g_assert_cmpint (dt, <, 6 * G_USEC_PER_SEC);
  set_state_sync (p, GST_STATE_NULL);
  gst_object_unref (p);
  collector_free (c);
  g_free (queue);
}

/* ------------------------------------------------------ configuration ---- */

static void
expect_start_error (const gchar * desc, GQuark domain, gint code, const gchar * must_not_contain)
{
  GError *err = NULL;
  GstElement *p = gst_parse_launch (desc, &err);
  GstBus *bus;
  GstMessage *m;

  g_assert_no_error (err);
  gst_element_set_state (p, GST_STATE_PLAYING);
  bus = gst_element_get_bus (p);
  m = gst_bus_timed_pop_filtered (bus, 10 * GST_SECOND, GST_MESSAGE_ERROR);
  g_assert_nonnull (m);
  gst_message_parse_error (m, &err, NULL);
  g_assert_error (err, domain, code);
  if (must_not_contain)
    g_assert_null (strstr (err->message, must_not_contain));
  g_error_free (err);
  gst_message_unref (m);
  gst_object_unref (bus);
  gst_element_set_state (p, GST_STATE_NULL);
  gst_object_unref (p);
}

static void
test_config_errors (void)
{
  gchar *desc;
  gchar *pwfile = g_build_filename (g_get_tmp_dir (), "amqpsrc-wrong-pw", NULL);

  /* A password inside the URL is refused. */
  desc = g_strdup_printf ("amqpsrc url=amqp://edgefaas:hunter2@127.0.0.1:%u/ queue=q ! fakesink",
      ef_broker_amqp_port (broker));
  expect_start_error (desc, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS, "hunter2");
  g_free (desc);
  /* No queue. */
  desc = g_strdup_printf ("amqpsrc url=%s ! fakesink", ef_broker_url (broker));
  expect_start_error (desc, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS, NULL);
  g_free (desc);
  /* Wrong password from a credentials file: a clear NOT_AUTHORIZED error. */
  g_assert_true (g_file_set_contents (pwfile, "wrong-password\n", -1, NULL));
  desc = g_strdup_printf ("amqpsrc url=%s queue=q credentials-file=%s ! fakesink",
      ef_broker_url (broker), pwfile);
  expect_start_error (desc, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_NOT_AUTHORIZED,
      "wrong-password");
  g_free (desc);
  /* No such queue without declare. */
  desc = g_strdup_printf ("amqpsrc url=%s queue=does-not-exist-%u ! fakesink",
      ef_broker_url (broker), g_random_int ());
  expect_start_error (desc, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_OPEN_READ, NULL);
  g_free (desc);
  g_unlink (pwfile);
  g_free (pwfile);
}

/* ------------------------------------------ amqpsink -> amqpsrc chain ---- */

/* Real JPEGs published by amqpsink (inline, and through its frame store by
 * reference), consumed by amqpsrc and decoded by jpegdec; the event meta
 * survives the decoder and every delivery is acked once the decoded frame is
 * released. */
static void
run_chain (gboolean by_reference)
{
  const guint n = 1000;
  gchar *queue = queue_name (by_reference ? "chainref" : "chaininline");
  gchar *store = ef_test_mkdtemp ("amqpsrc-store");
  Collector *c = collector_new ();
  GError *err = NULL;
  gchar *desc, *props;
  GstElement *p, *src;
  guint ready, unacked;

  desc = g_strdup_printf ("videotestsrc num-buffers=%u ! video/x-raw,width=160,height=120 ! "
      "jpegenc ! amqpsink url=%s queue=%s routing-key=%s declare=true camera-id=cam-chain %s%s",
      n, ef_broker_url (broker), queue, queue, by_reference ? "frame-store=" : "",
      by_reference ? store : "");
  if (!ef_test_run_pipeline (desc, 180, &err))
    g_error ("amqpsink pipeline failed: %s", err ? err->message : "timeout");
  g_free (desc);
  {
    /* amqpsink's EOS waited for the confirms: all n must be in the queue. */
    EdgefaasAmqpConn *conn = pub_open ();
    guint have = wait_ready (conn, queue, n);
    edgefaas_amqp_conn_close (conn);
    if (have != n)
      g_error ("amqpsink reached EOS but the queue holds %u of %u messages", have, n);
  }

  props = g_strdup_printf ("frame-root=%s max-messages=%u prefetch=4", store, n);
  desc = g_strdup_printf ("jpegdec ! " COLLECT_SINK);
  p = make_pipeline (queue, props, desc);
  g_signal_connect (get_el (p, "sink"), "handoff", G_CALLBACK (on_handoff), c);
  src = get_el (p, "src");
  set_state_sync (p, GST_STATE_PLAYING);
  wait_eos (p, 60);
  /* on_handoff counts caps other than image/jpeg as bad: here they must all be
   * decoded video. */
  g_assert_cmpuint (c->total, ==, n);
  g_assert_cmpuint (c->bad_caps, ==, n);
  g_assert_cmpuint (c->without_meta, ==, 0);
  g_assert_cmpuint (g_hash_table_size (c->seen), ==, n);
  g_assert_cmpuint (stat_u64 (src, "acked"), ==, n);
  g_assert_cmpuint (stat_u64 (src, "rejected"), ==, 0);
  broker_counts (queue, &ready, &unacked);
  g_assert_cmpuint (ready, ==, 0);
  g_assert_cmpuint (unacked, ==, 0);
  set_state_sync (p, GST_STATE_NULL);
  gst_object_unref (p);
  collector_free (c);
  ef_test_rm_rf (store);
  g_free (store);
  g_free (props);
  g_free (desc);
  g_free (queue);
}

static void
test_chain_inline (void)
{
  run_chain (FALSE);
}

static void
test_chain_reference (void)
{
  run_chain (TRUE);
}

/* ------------------------------------------------- credentials in logs ---- */

static GMutex log_lock;
static guint log_lines;
static guint log_leaks;
static const gchar *log_secret;

static void
capture_log (GstDebugCategory * category, GstDebugLevel level, const gchar * file,
    const gchar * function, gint line, GObject * object, GstDebugMessage * message,
    gpointer user_data)
{
  const gchar *text = gst_debug_message_get (message);
  g_mutex_lock (&log_lock);
  log_lines++;
  if (text && strstr (text, log_secret))
    log_leaks++;
  g_mutex_unlock (&log_lock);
}

static void
test_credentials_not_logged (void)
{
  gchar *queue = queue_name ("creds");
  Collector *c = collector_new ();
  EdgefaasAmqpConn *conn;
  GstElement *p;
  GstBus *bus;
  GstMessage *m;
  guint bus_msgs = 0;

  declare_queue (queue);
  conn = pub_open ();
  for (guint i = 0; i < 5; i++) {
    GBytes *payload = make_payload (i, 300);
    gchar *json = frame_event_json (i, TRUE, NULL, 300, NULL);
    publish (conn, queue, g_bytes_get_data (payload, NULL), 300, "image/jpeg", json);
    g_free (json);
    g_bytes_unref (payload);
  }
  publish (conn, queue, "nope", 4, "application/json", NULL);
  g_assert_cmpuint (wait_ready (conn, queue, 6), ==, 6);

  log_secret = ef_broker_password (broker);
  g_assert_nonnull (log_secret);
  g_assert_cmpuint (strlen (log_secret), >=, 8);
  gst_debug_remove_log_function (gst_debug_log_default);
  gst_debug_add_log_function (capture_log, NULL, NULL);
  gst_debug_set_active (TRUE);
  gst_debug_set_default_threshold (GST_LEVEL_LOG);      /* GST_DEBUG=*:6 */

  p = make_collecting_pipeline (queue, "max-messages=6", c);
  set_state_sync (p, GST_STATE_PLAYING);
  /* Every bus message until EOS is scanned too (warnings, state changes, ...). */
  bus = gst_element_get_bus (p);
  while ((m = gst_bus_timed_pop (bus, 30 * GST_SECOND))) {
    const GstStructure *st = gst_message_get_structure (m);
    GError *e = NULL;
    gchar *dbg = NULL;
    gboolean eos = GST_MESSAGE_TYPE (m) == GST_MESSAGE_EOS;
    bus_msgs++;
    if (st) {
      gchar *str = gst_structure_to_string (st);
      g_assert_null (strstr (str, log_secret));
      g_free (str);
    }
    g_assert_cmpint (GST_MESSAGE_TYPE (m), !=, GST_MESSAGE_ERROR);
    if (GST_MESSAGE_TYPE (m) == GST_MESSAGE_WARNING) {
      gst_message_parse_warning (m, &e, &dbg);
      g_assert_null (strstr (e->message, log_secret));
      g_assert_null (strstr (dbg ? dbg : "", log_secret));
      g_error_free (e);
      g_free (dbg);
    }
    gst_message_unref (m);
    if (eos)
      break;
  }
  gst_object_unref (bus);
  set_state_sync (p, GST_STATE_NULL);
  gst_object_unref (p);

  gst_debug_set_default_threshold (GST_LEVEL_NONE);
  gst_debug_remove_log_function (capture_log);
  gst_debug_add_log_function (gst_debug_log_default, NULL, NULL);

  g_test_message ("%u log lines, %u bus messages scanned", log_lines, bus_msgs);
  g_assert_cmpuint (c->total, ==, 5);
  g_assert_cmpuint (log_lines, >, 100);
  g_assert_cmpuint (bus_msgs, >, 0);
  g_assert_cmpuint (log_leaks, ==, 0);
  edgefaas_amqp_conn_close (conn);
  collector_free (c);
  g_free (queue);
}

/* ------------------------------------------------------------------ TLS ---- */

/* A second broker with a TLS listener; certificates made here with openssl.
 * Right CA: consumed over amqps:// with the password from credentials-file.
 * Wrong CA: a clear TLS error, nothing consumed. */
static void
test_tls (void)
{
  gchar *dir = ef_test_mkdtemp ("amqpsrc-tls");
  AtTlsBed bed;
  const gchar *ca, *wrong, *credfile;
  gchar *desc;
  EfBroker *tb;
  GError *err = NULL;
  GstElement *p;
  GstBus *bus;
  GstMessage *m;
  Collector *c = collector_new ();
  guint ready, unacked;

  at_tls_bed_start (&bed, dir);
  tb = bed.broker;
  ca = bed.ca;
  wrong = bed.wrong_ca;
  credfile = bed.credentials_file;
  g_assert_true (ef_broker_declare_queue (tb, "tlsq", &err));
  g_assert_no_error (err);
  {
    /* ef_broker_publish sends no headers: by-reference events into a frame root. */
    gchar *root = g_build_filename (dir, "frames", NULL);
    g_assert_cmpint (g_mkdir_with_parents (root, 0755), ==, 0);
    for (guint i = 0; i < 5; i++) {
      GBytes *payload = make_payload (i, 400);
      gchar *sha = sha_of (payload);
      gchar *path = g_strdup_printf ("%s/f%u.jpg", root, i);
      gchar *uri = g_filename_to_uri (path, NULL, NULL);
      gchar *json = frame_event_json (i, FALSE, uri, 400, sha);
      g_assert_true (g_file_set_contents (path, g_bytes_get_data (payload, NULL), 400, NULL));
      g_assert_true (ef_broker_publish (tb, "tlsq", json, strlen (json), TRUE, &err));
      g_assert_no_error (err);
      g_free (json);
      g_free (uri);
      g_free (path);
      g_free (sha);
      g_bytes_unref (payload);
    }

    /* Wrong CA first: error naming TLS, nothing consumed. */
    desc = g_strdup_printf ("amqpsrc url=%s queue=tlsq tls-ca=%s credentials-file=%s "
        "frame-root=%s ! fakesink", ef_broker_tls_url (tb), wrong, credfile, root);
    p = gst_parse_launch (desc, &err);
    g_assert_no_error (err);
    gst_element_set_state (p, GST_STATE_PLAYING);
    bus = gst_element_get_bus (p);
    m = gst_bus_timed_pop_filtered (bus, 30 * GST_SECOND, GST_MESSAGE_ERROR);
    g_assert_nonnull (m);
    {
      gchar *dbg = NULL;
      gst_message_parse_error (m, &err, &dbg);
      g_test_message ("wrong CA -> %s (%s)", err->message, dbg);
      g_assert_true (err->domain == GST_RESOURCE_ERROR);
      g_assert_nonnull (strstr (err->message, "TLS"));
      g_assert_null (strstr (dbg, ef_broker_password (tb)));
      g_clear_error (&err);
      g_free (dbg);
    }
    gst_message_unref (m);
    gst_object_unref (bus);
    gst_element_set_state (p, GST_STATE_NULL);
    gst_object_unref (p);
    g_free (desc);
    g_assert_true (ef_broker_queue_counts (tb, "tlsq", &ready, &unacked, &err));
    g_assert_cmpuint (ready, ==, 5);

    /* Right CA: all five consumed over TLS and acked. */
    desc = g_strdup_printf ("amqpsrc name=src url=%s queue=tlsq tls-ca=%s credentials-file=%s "
        "frame-root=%s max-messages=5 ! " COLLECT_SINK, ef_broker_tls_url (tb), ca, credfile,
        root);
    p = gst_parse_launch (desc, &err);
    g_assert_no_error (err);
    g_signal_connect (get_el (p, "sink"), "handoff", G_CALLBACK (on_handoff), c);
    set_state_sync (p, GST_STATE_PLAYING);
    wait_eos (p, 30);
    g_assert_cmpuint (c->total, ==, 5);
    g_assert_cmpuint (c->without_meta, ==, 0);
    g_assert_cmpuint (stat_u64 (get_el (p, "src"), "acked"), ==, 5);
    set_state_sync (p, GST_STATE_NULL);
    gst_object_unref (p);
    g_free (desc);
    g_assert_true (ef_broker_queue_counts (tb, "tlsq", &ready, &unacked, &err));
    g_assert_cmpuint (ready, ==, 0);
    g_assert_cmpuint (unacked, ==, 0);
    g_free (root);
  }
  at_tls_bed_stop (&bed);
  collector_free (c);
  ef_test_rm_rf (dir);
  g_free (dir);
}

/* ------------------------------------------------------------- SIGKILL ---- */

static GPid
spawn_consumer (const gchar * queue, const gchar * outdir, const gchar * extra)
{
  gchar *cmd = g_strdup_printf ("exec gst-launch-1.0 -q amqpsrc url=%s queue=%s prefetch=4 %s ! "
      "identity sleep-time=10000 ! multifilesink location=%s/out-%%05d.bin",
      ef_broker_url (broker), queue, extra, outdir);
  gchar *argv[] = { (gchar *) "/bin/sh", (gchar *) "-c", cmd, NULL };
  GError *err = NULL;
  GPid pid = 0;
  g_assert_true (g_spawn_async (NULL, argv, NULL, G_SPAWN_DO_NOT_REAP_CHILD, NULL, NULL, &pid,
          &err));
  g_assert_no_error (err);
  g_free (cmd);
  return pid;
}

/* Sequence numbers found in the first 8 bytes of each output file. With
 * @killed (the consumer was SIGKILLed), a file shorter than that is the frame
 * multifilesink had opened but not written when the kill came: that frame was
 * never acknowledged (acks follow the sink), so it is not counted here and must
 * come out of the next consumer. */
static guint
collect_outputs (const gchar * dir, GHashTable * counts, gboolean killed)
{
  GDir *d = g_dir_open (dir, 0, NULL);
  const gchar *name;
  guint files = 0;
  g_assert_nonnull (d);
  while ((name = g_dir_read_name (d))) {
    gchar *path = g_build_filename (dir, name, NULL);
    gchar *data = NULL;
    gsize len = 0;
    guint64 seq = 0;
    g_assert_true (g_file_get_contents (path, &data, &len, NULL));
    if (killed && len < sizeof (seq)) {
      g_test_message ("%s: %" G_GSIZE_FORMAT " bytes, torn by the kill", name, len);
      g_free (data);
      g_free (path);
      continue;
    }
    g_assert_cmpuint (len, >=, sizeof (seq));
    memcpy (&seq, data, sizeof (seq));
    g_hash_table_insert (counts, GUINT_TO_POINTER ((guint) seq),
        GUINT_TO_POINTER (GPOINTER_TO_UINT (g_hash_table_lookup (counts,
                    GUINT_TO_POINTER ((guint) seq))) + 1));
    files++;
    g_free (data);
    g_free (path);
  }
  g_dir_close (d);
  return files;
}

static void
test_sigkill_consumer (void)
{
  const guint n = 300;
  gchar *queue = queue_name ("kill");
  gchar *dir1 = ef_test_mkdtemp ("amqpsrc-kill1");
  gchar *dir2 = ef_test_mkdtemp ("amqpsrc-kill2");
  GHashTable *counts = g_hash_table_new (NULL, NULL);
  EdgefaasAmqpConn *conn;
  GPid pid;
  gint status = 0;
  guint first, second, dups = 0;
  gint64 end;

  declare_queue (queue);
  conn = pub_open ();
  for (guint i = 0; i < n; i++) {
    GBytes *payload = make_payload (i, 2000);
    gchar *sha = sha_of (payload);
    gchar *json = frame_event_json (i, TRUE, NULL, 2000, sha);
    publish (conn, queue, g_bytes_get_data (payload, NULL), 2000, "image/jpeg", json);
    g_free (json);
    g_free (sha);
    g_bytes_unref (payload);
  }
  g_assert_cmpuint (wait_ready (conn, queue, n), ==, n);

  /* ~10 ms per frame: kill it once it has written a good part but not all. */
  pid = spawn_consumer (queue, dir1, "");
  end = g_get_monotonic_time () + 30 * G_USEC_PER_SEC;
  for (;;) {
    GDir *d = g_dir_open (dir1, 0, NULL);
    guint k = 0;
    while (g_dir_read_name (d))
      k++;
    g_dir_close (d);
    if (k >= n / 3)
      break;
    g_assert_cmpint (g_get_monotonic_time (), <, end);
    g_usleep (20 * 1000);
  }
  g_assert_cmpint (kill (pid, SIGKILL), ==, 0);
  g_assert_cmpint (waitpid (pid, &status, 0), ==, pid);
  g_assert_true (WIFSIGNALED (status));
  g_spawn_close_pid (pid);

  /* Restart: this one stops on its own once the queue stays empty. */
  pid = spawn_consumer (queue, dir2, "idle-timeout=3");
  g_assert_cmpint (waitpid (pid, &status, 0), ==, pid);
  g_assert_true (WIFEXITED (status));
  g_assert_cmpint (WEXITSTATUS (status), ==, 0);
  g_spawn_close_pid (pid);

  first = collect_outputs (dir1, counts, TRUE);
  second = collect_outputs (dir2, counts, FALSE);
  g_assert_cmpuint (first, >, 0);
  g_assert_cmpuint (first, <, n);
  g_assert_cmpuint (second, >, 0);
  /* None lost; duplicates allowed (at-least-once) and reported. */
  g_assert_cmpuint (g_hash_table_size (counts), ==, n);
  for (guint i = 0; i < n; i++) {
    guint c = GPOINTER_TO_UINT (g_hash_table_lookup (counts, GUINT_TO_POINTER (i)));
    g_assert_cmpuint (c, >=, 1);
    dups += c - 1;
  }
  g_test_message ("SIGKILL: first run %u frames, second run %u, duplicates %u", first, second,
      dups);
  g_assert_cmpuint (first + second, ==, n + dups);
  wait_counts (queue, 0, 0, 10);

  edgefaas_amqp_conn_close (conn);
  g_hash_table_destroy (counts);
  ef_test_rm_rf (dir1);
  ef_test_rm_rf (dir2);
  g_free (dir1);
  g_free (dir2);
  g_free (queue);
}

/* ------------------------------------------- restart in mid-stream ---- */

/* The broker stops while deliveries are in flight: acks for the old
 * connection are dropped (the broker requeued those deliveries), the consumer
 * reconnects, and every message is processed at least once. */
static void
test_broker_restart_mid_stream (void)
{
  const guint n = 200;
  gchar *queue = queue_name ("midstream");
  Collector *c = collector_new ();
  EdgefaasAmqpConn *conn;
  GstElement *p, *src;
  GError *err = NULL;
  gint64 end;
  guint dups = 0;

  declare_queue (queue);
  conn = pub_open ();
  for (guint i = 0; i < n; i++) {
    GBytes *payload = make_payload (i, 900);
    gchar *json = frame_event_json (i, TRUE, NULL, 900, NULL);
    publish (conn, queue, g_bytes_get_data (payload, NULL), 900, "image/jpeg", json);
    g_free (json);
    g_bytes_unref (payload);
  }
  g_assert_cmpuint (wait_ready (conn, queue, n), ==, n);
  edgefaas_amqp_conn_close (conn);

  p = make_pipeline (queue, "prefetch=5", "identity sleep-time=20000 ! " COLLECT_SINK);
  g_signal_connect (get_el (p, "sink"), "handoff", G_CALLBACK (on_handoff), c);
  src = get_el (p, "src");
  set_state_sync (p, GST_STATE_PLAYING);
  collector_wait_total (c, n / 4, 30);
  g_assert_true (ef_broker_stop (broker, &err));
  g_assert_no_error (err);
  g_usleep (G_USEC_PER_SEC);
  g_assert_true (ef_broker_restart (broker, &err));
  g_assert_no_error (err);

  end = g_get_monotonic_time () + 90 * G_USEC_PER_SEC;
  for (;;) {
    guint seen;
    g_mutex_lock (&c->lock);
    seen = g_hash_table_size (c->seen);
    g_mutex_unlock (&c->lock);
    if (seen == n)
      break;
    if (g_get_monotonic_time () > end)
      g_error ("only %u of %u messages seen after the restart", seen, n);
    g_usleep (100 * 1000);
  }
  wait_counts (queue, 0, 0, 20);
  assert_no_error (p);
  for (guint i = 0; i < n; i++)
    dups += GPOINTER_TO_UINT (g_hash_table_lookup (c->seen, GUINT_TO_POINTER (i))) - 1;
  g_test_message ("restart mid-stream: %u buffers for %u messages (%u duplicates), "
      "%" G_GUINT64_FORMAT " acks dropped, %" G_GUINT64_FORMAT " reconnects", c->total, n, dups,
      stat_u64 (src, "dropped-acks"), stat_u64 (src, "reconnects"));
  g_assert_cmpuint (c->total, ==, n + dups);
  g_assert_cmpuint (stat_u64 (src, "reconnects"), >=, 1);
  set_state_sync (p, GST_STATE_NULL);
  gst_object_unref (p);
  collector_free (c);
  g_free (queue);
}

/* ----------------------------------------------- broker down / restart ---- */

static void
test_broker_restart_and_prompt_stop (void)
{
  const guint n = 50;
  gchar *queue = queue_name ("restart");
  Collector *c = collector_new ();
  EdgefaasAmqpConn *conn;
  GstElement *p, *src;
  GError *err = NULL;
  gint64 t0, dt;
  GstBus *bus;
  GstMessage *m;
  gboolean warned = FALSE;

  declare_queue (queue);
  conn = pub_open ();
  for (guint i = 0; i < n; i++) {
    GBytes *payload = make_payload (i, 700);
    gchar *json = frame_event_json (i, TRUE, NULL, 700, NULL);
    publish (conn, queue, g_bytes_get_data (payload, NULL), 700, "image/jpeg", json);
    g_free (json);
    g_bytes_unref (payload);
  }
  g_assert_cmpuint (wait_ready (conn, queue, n), ==, n);
  edgefaas_amqp_conn_close (conn);

  p = make_collecting_pipeline (queue, "prefetch=5", c);
  src = get_el (p, "src");
  set_state_sync (p, GST_STATE_PLAYING);
  collector_wait_total (c, n, 20);
  wait_stat (src, "acked", n, 10);

  /* Broker gone while the consumer waits. */
  g_assert_true (ef_broker_stop (broker, &err));
  g_assert_no_error (err);
  g_usleep (1500 * 1000);
  bus = gst_element_get_bus (p);
  while ((m = gst_bus_pop_filtered (bus, GST_MESSAGE_WARNING))) {
    warned = TRUE;
    gst_message_unref (m);
  }
  g_assert_true (warned);
  assert_no_error (p);

  g_assert_true (ef_broker_restart (broker, &err));
  g_assert_no_error (err);
  conn = pub_open ();
  for (guint i = n; i < 2 * n; i++) {
    GBytes *payload = make_payload (i, 700);
    gchar *json = frame_event_json (i, TRUE, NULL, 700, NULL);
    publish (conn, queue, g_bytes_get_data (payload, NULL), 700, "image/jpeg", json);
    g_free (json);
    g_bytes_unref (payload);
  }
  /* (the reconnected consumer may already be taking them: no ready count here) */
  edgefaas_amqp_conn_close (conn);
  collector_wait_total (c, 2 * n, 60);
  g_assert_cmpuint (g_hash_table_size (c->seen), ==, 2 * n);
  g_assert_cmpuint (stat_u64 (src, "reconnects"), >=, 1);
  wait_stat (src, "acked", 2 * n, 10);
  wait_counts (queue, 0, 0, 10);

  /* Now stop the broker again and ask for NULL: must return promptly. */
  g_assert_true (ef_broker_stop (broker, &err));
  g_assert_no_error (err);
  g_usleep (500 * 1000);
  t0 = g_get_monotonic_time ();
  g_assert_cmpint (gst_element_set_state (p, GST_STATE_NULL), ==, GST_STATE_CHANGE_SUCCESS);
  dt = g_get_monotonic_time () - t0;
  g_test_message ("PLAYING -> NULL with the broker down took %" G_GINT64_FORMAT " ms",
      dt / 1000);
  g_assert_cmpint (dt, <, 2 * G_USEC_PER_SEC);

  /* And while it is reconnecting from the start (broker down at PLAYING). */
  gst_element_set_state (p, GST_STATE_PLAYING);
  g_usleep (1000 * 1000);
  t0 = g_get_monotonic_time ();
  g_assert_cmpint (gst_element_set_state (p, GST_STATE_NULL), ==, GST_STATE_CHANGE_SUCCESS);
  dt = g_get_monotonic_time () - t0;
  g_assert_cmpint (dt, <, 2 * G_USEC_PER_SEC);

  gst_object_unref (bus);
  gst_object_unref (p);
  g_assert_true (ef_broker_restart (broker, &err));
  g_assert_no_error (err);
  collector_free (c);
  g_free (queue);
}

/* ------------------------------------------------------- issue 15 ---- */

/* The shared login advertises the capabilities RabbitMQ only uses when the
 * client says it understands them (basic.cancel on queue deletion,
 * connection.blocked, nacks). Judged by the broker: rabbitmqctl shows the
 * client properties of amqpsrc's own connection. */
static void
test_login_capabilities (void)
{
  const gchar *caps[] = { "consumer_cancel_notify", "connection.blocked",
    "publisher_confirms", "basic.nack", "authentication_failure_close"
  };
  gchar *queue = queue_name ("caps");
  GstElement *p = make_pipeline (queue, "", "fakesink");
  GError *err = NULL;
  gchar *out = NULL, *line = NULL;

  /* The queue stays empty: PLAYING completes only with a first buffer. */
  g_assert_cmpint (gst_element_set_state (p, GST_STATE_PLAYING), !=,
      GST_STATE_CHANGE_FAILURE);
  for (guint i = 0; i < 20 && line == NULL; i++) {
    gchar **lines;
    g_free (out);
    out = ef_broker_ctl (broker, &err, "list_connections", "client_properties", NULL);
    g_assert_no_error (err);
    lines = g_strsplit (out, "\n", -1);
    for (guint l = 0; lines[l] && line == NULL; l++)
      if (strstr (lines[l], "{\"product\",\"edgefaas\"}"))
        line = g_strdup (lines[l]);
    g_strfreev (lines);
    if (line == NULL)
      g_usleep (100 * 1000);
  }
  if (line == NULL)
    g_error ("no connection with product edgefaas in: %s", out);
  for (guint i = 0; i < G_N_ELEMENTS (caps); i++) {
    gchar *want = g_strdup_printf ("{\"%s\",true}", caps[i]);
    if (strstr (line, want) == NULL)
      g_error ("capability %s not advertised: %s", want, line);
    g_free (want);
  }
  assert_no_error (p);
  set_state_sync (p, GST_STATE_NULL);
  gst_object_unref (p);
  g_free (line);
  g_free (out);
  g_free (queue);
}

/* Resident set size of this process in bytes (/proc/self/statm). */
static guint64
rss_bytes (void)
{
  gchar *statm = NULL;
  guint64 pages = 0, resident = 0;
  g_assert_true (g_file_get_contents ("/proc/self/statm", &statm, NULL, NULL));
  g_assert_cmpint (sscanf (statm, "%" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT, &pages,
          &resident), ==, 2);
  g_free (statm);
  return resident * (guint64) sysconf (_SC_PAGESIZE);
}

/* A transient (delivery mode 1) inline frame: nothing goes to the broker's disk. */
static void
publish_transient_inline (EdgefaasAmqpConn * conn, const gchar * queue, const void *body,
    gsize len, const gchar * event_json)
{
  amqp_basic_properties_t props = { 0 };
  amqp_table_entry_t entry;
  int r;

  props._flags = AMQP_BASIC_DELIVERY_MODE_FLAG | AMQP_BASIC_CONTENT_TYPE_FLAG
      | AMQP_BASIC_HEADERS_FLAG;
  props.delivery_mode = 1;
  props.content_type = amqp_cstring_bytes ("image/jpeg");
  entry.key = amqp_cstring_bytes ("edgefaas-event");
  entry.value.kind = AMQP_FIELD_KIND_UTF8;
  entry.value.value.bytes = amqp_cstring_bytes (event_json);
  props.headers.num_entries = 1;
  props.headers.entries = &entry;
  r = amqp_basic_publish (edgefaas_amqp_conn_get_state (conn),
      edgefaas_amqp_conn_get_channel (conn), amqp_empty_bytes, amqp_cstring_bytes (queue),
      0, 0, &props, (amqp_bytes_t) {
      len, (void *) body});
  g_assert_cmpint (r, ==, AMQP_STATUS_OK);
}

#if defined(__SANITIZE_ADDRESS__)
/* ASan keeps freed memory in its quarantine (256 MB by default) and adds its
 * own bookkeeping: allow for that, a leak of the bodies is still 2 GB. */
#define RSS_GROWTH_LIMIT (G_GUINT64_CONSTANT (640) << 20)
#else
#define RSS_GROWTH_LIMIT (G_GUINT64_CONSTANT (192) << 20)
#endif

/* Issue 15.1: consuming must not keep the message bodies. 720 frames of
 * 3 MB (2.1 GB) flow through amqpsrc ! fakesink, inline or by reference (8
 * files in the frame root, referenced in turn), the publisher staying at most
 * 16 frames ahead; RSS after the first 64 frames is the baseline, and RSS may
 * never grow more than RSS_GROWTH_LIMIT above it (a leak of every body passes
 * that limit after ~70 frames: the test then stops at once). */
static void
run_memory_bounded (gboolean by_reference)
{
  const guint n = 720, ahead = 16, warmup = 64, nfiles = 8;
  const gsize size = 3 * 1024 * 1024;
  gchar *queue = queue_name (by_reference ? "rss-ref" : "rss-inline");
  gchar *root = ef_test_mkdtemp ("amqpsrc-rss");
  gchar *uris[8];
  Collector *c = collector_new ();
  EdgefaasAmqpConn *conn;
  GstElement *p, *src;
  guint8 *body = g_malloc (size);
  guint64 baseline = 0, peak = 0;
  gchar *props;

  for (gsize i = 0; i < size; i++)
    body[i] = (guint8) (i * 7 + (i >> 12));
  for (guint f = 0; f < nfiles; f++) {
    gchar *path = g_strdup_printf ("%s/f%u.jpg", root, f);
    memcpy (body, &f, sizeof (f));
    g_assert_true (g_file_set_contents (path, (const gchar *) body, size, NULL));
    uris[f] = g_filename_to_uri (path, NULL, NULL);
    g_free (path);
  }
  declare_queue (queue);
  conn = pub_open ();
  props = g_strdup_printf ("prefetch=4 max-messages=%u frame-root=%s", n, root);
  p = make_collecting_pipeline (queue, props, c);
  src = get_el (p, "src");
  g_assert_cmpint (gst_element_set_state (p, GST_STATE_PLAYING), !=,
      GST_STATE_CHANGE_FAILURE);

  for (guint i = 0; i < n; i++) {
    guint total;

    if (by_reference) {
      gchar *json = frame_event_json (i, FALSE, uris[i % nfiles], size, NULL);
      publish (conn, queue, json, strlen (json), "application/json", NULL);
      g_free (json);
    } else {
      gchar *json = frame_event_json (i, TRUE, NULL, size, NULL);
      memcpy (body, &i, sizeof (i));    /* every frame differs */
      publish_transient_inline (conn, queue, body, size, json);
      g_free (json);
    }
    /* Pace: never more than @ahead frames in the broker or in flight. */
    collector_wait_total (c, i + 1 > ahead ? i + 1 - ahead : 0, 60);
    g_mutex_lock (&c->lock);
    total = c->total;
    g_mutex_unlock (&c->lock);
    if (baseline == 0 && total >= warmup)
      baseline = rss_bytes ();
    if (baseline) {
      guint64 rss = rss_bytes ();
      peak = MAX (peak, rss);
      if (rss > baseline + RSS_GROWTH_LIMIT)
        g_error ("RSS grew from %" G_GUINT64_FORMAT " MB to %" G_GUINT64_FORMAT
            " MB after %u frames of %" G_GSIZE_FORMAT " bytes (%" G_GUINT64_FORMAT
            " MB consumed): the consumer keeps what it consumed", baseline >> 20, rss >> 20,
            total, size, ((guint64) total * size) >> 20);
    }
  }
  wait_eos (p, 120);
  g_assert_cmpuint (c->total, ==, n);
  g_assert_cmpuint (c->without_meta, ==, 0);
  g_assert_cmpuint (g_hash_table_size (c->seen), ==, n);
  g_assert_cmpuint (stat_u64 (src, "acked"), ==, n);
  g_assert_cmpuint (stat_u64 (src, "rejected"), ==, 0);
  g_assert_cmpuint (baseline, >, 0);
  g_test_message ("%s: RSS baseline %" G_GUINT64_FORMAT " MB, peak %" G_GUINT64_FORMAT
      " MB over %" G_GUINT64_FORMAT " MB consumed", by_reference ? "by reference" : "inline",
      baseline >> 20, peak >> 20, ((guint64) n * size) >> 20);
  wait_counts (queue, 0, 0, 10);
  set_state_sync (p, GST_STATE_NULL);
  gst_object_unref (p);
  edgefaas_amqp_conn_close (conn);
  collector_free (c);
  for (guint f = 0; f < nfiles; f++)
    g_free (uris[f]);
  ef_test_rm_rf (root);
  g_free (root);
  g_free (props);
  g_free (body);
  g_free (queue);
}

static void
test_memory_bounded_inline (void)
{
  run_memory_bounded (FALSE);
}

static void
test_memory_bounded_reference (void)
{
  run_memory_bounded (TRUE);
}

/* Wait for a WARNING whose details have reason-code @code; other messages are
 * dropped, an ERROR fails. Returns the warning's text. */
static gchar *
wait_warning_code (GstElement * p, const gchar * code, guint timeout_s)
{
  GstBus *bus = gst_element_get_bus (p);
  gint64 end = g_get_monotonic_time () + timeout_s * G_USEC_PER_SEC;
  gchar *text = NULL;

  while (text == NULL) {
    gint64 left = end - g_get_monotonic_time ();
    GstMessage *m;
    if (left <= 0)
      g_error ("no warning with reason-code %s within %us", code, timeout_s);
    m = gst_bus_timed_pop_filtered (bus, left * GST_USECOND,
        GST_MESSAGE_WARNING | GST_MESSAGE_ERROR);
    if (m == NULL)
      continue;
    if (GST_MESSAGE_TYPE (m) == GST_MESSAGE_ERROR) {
      GError *e = NULL;
      gchar *dbg = NULL;
      gst_message_parse_error (m, &e, &dbg);
      g_error ("pipeline error: %s (%s)", e->message, dbg);
    } else {
      const GstStructure *details = NULL;
      gst_message_parse_warning_details (m, &details);
      if (details && g_strcmp0 (gst_structure_get_string (details, "reason-code"), code) == 0) {
        GError *e = NULL;
        gst_message_parse_warning (m, &e, NULL);
        text = g_strdup (e->message);
        g_error_free (e);
      }
    }
    gst_message_unref (m);
  }
  gst_object_unref (bus);
  return text;
}

static void
publish_frames (EdgefaasAmqpConn * conn, const gchar * queue, guint first, guint n)
{
  for (guint i = first; i < first + n; i++) {
    GBytes *payload = make_payload (i, 1000);
    gchar *sha = sha_of (payload);
    gchar *json = frame_event_json (i, TRUE, NULL, 1000, sha);
    publish (conn, queue, g_bytes_get_data (payload, NULL), 1000, "image/jpeg", json);
    g_free (json);
    g_free (sha);
    g_bytes_unref (payload);
  }
}

static void
delete_queue (EdgefaasAmqpConn * conn, const gchar * queue)
{
  amqp_connection_state_t cs = edgefaas_amqp_conn_get_state (conn);
  GError *err = NULL;
  amqp_queue_delete (cs, edgefaas_amqp_conn_get_channel (conn), amqp_cstring_bytes (queue), 0,
      0);
  g_assert_true (edgefaas_amqp_check_reply (amqp_get_rpc_reply (cs), "queue.delete", &err));
  g_assert_no_error (err);
}

/* Issue 15.2: the queue is deleted under a running consumer and recreated.
 * amqpsrc must notice (basic.cancel from the broker, a warning on the bus)
 * and consume what is published after the recreation: with declare=true it
 * declares the queue again itself, with declare=false it retries with backoff
 * until the queue exists. */
static void
run_queue_deleted (gboolean declare)
{
  gchar *queue = queue_name (declare ? "qdel-declare" : "qdel-nodeclare");
  Collector *c = collector_new ();
  EdgefaasAmqpConn *conn;
  GstElement *p, *src;
  gchar *text;

  declare_queue (queue);
  conn = pub_open ();
  publish_frames (conn, queue, 0, 5);
  p = make_collecting_pipeline (queue, declare ? "prefetch=2" : "prefetch=2 declare=false", c);
  src = get_el (p, "src");
  set_state_sync (p, GST_STATE_PLAYING);
  collector_wait_total (c, 5, 20);
  wait_stat (src, "acked", 5, 10);

  delete_queue (conn, queue);
  text = wait_warning_code (p, "consumer-cancelled", 10);
  g_assert_nonnull (strstr (text, queue));
  g_free (text);
  g_assert_cmpuint (stat_u64 (src, "cancels"), ==, 1);

  if (!declare) {
    /* Missing for a while: the consumer keeps trying (warned, not silent). */
    text = wait_warning_code (p, "consumer-waiting", 10);
    g_free (text);
  }
  declare_queue (queue);
  publish_frames (conn, queue, 5, 5);
  collector_wait_total (c, 10, 30);
  for (guint i = 0; i < 10; i++)
    g_assert_true (g_hash_table_contains (c->seen, GUINT_TO_POINTER (i)));
  g_assert_cmpuint (c->total, ==, 10);
  g_assert_cmpuint (c->mismatched, ==, 0);
  wait_stat (src, "acked", 10, 10);
  wait_counts (queue, 0, 0, 10);
  assert_no_error (p);
  set_state_sync (p, GST_STATE_NULL);
  gst_object_unref (p);
  edgefaas_amqp_conn_close (conn);
  collector_free (c);
  g_free (queue);
}

static void
test_queue_deleted_declare (void)
{
  run_queue_deleted (TRUE);
}

static void
test_queue_deleted_nodeclare (void)
{
  run_queue_deleted (FALSE);
}

/* Issue 15.7: every redelivered buffer is DISCONT, on a classic queue too.
 * A first consumer takes 20 deliveries and keeps every buffer (nothing
 * acked), then stops: the broker requeues them as redelivered. A second
 * consumer gets all 20 again: with the default max-redeliveries each
 * redelivered original is republished with x-edgefaas-redeliveries=1 (the
 * copy arrives with redelivered=false), with max-redeliveries=-1 the
 * redelivered flag arrives as such; DISCONT must be on all 20 either way.
 * The first consumer's fresh deliveries carry none but GstBaseSrc's own
 * DISCONT on the very first buffer. */
static void
run_discont_redelivered (gboolean counting)
{
  const guint n = 20;
  gchar *queue = queue_name (counting ? "discont-count" : "discont-flag");
  Collector *first = collector_new (), *second = collector_new ();
  EdgefaasAmqpConn *conn;
  GstElement *p, *src;
  const gchar *props = counting ? "prefetch=20" : "prefetch=20 max-redeliveries=-1";

  declare_queue (queue);
  conn = pub_open ();
  publish_frames (conn, queue, 0, n);
  g_assert_cmpuint (wait_ready (conn, queue, n), ==, n);

  first->hold = n;
  p = make_collecting_pipeline (queue, props, first);
  set_state_sync (p, GST_STATE_PLAYING);
  collector_wait_total (first, n, 20);
  wait_counts (queue, 0, n, 10);
  set_state_sync (p, GST_STATE_NULL);
  gst_object_unref (p);
  collector_release_held (first);
  g_assert_cmpuint (first->total, ==, n);
  g_assert_cmpuint (first->discont, ==, 1);
  wait_counts (queue, n, 0, 10);

  p = make_collecting_pipeline (queue, props, second);
  src = get_el (p, "src");
  set_state_sync (p, GST_STATE_PLAYING);
  collector_wait_total (second, n, 20);
  wait_stat (src, "acked", n, 10);
  g_assert_cmpuint (second->total, ==, n);
  g_assert_cmpuint (g_hash_table_size (second->seen), ==, n);
  g_assert_cmpuint (stat_u64 (src, "republished"), ==, counting ? n : 0);
  g_assert_cmpuint (second->discont, ==, n);
  wait_counts (queue, 0, 0, 10);
  assert_no_error (p);
  set_state_sync (p, GST_STATE_NULL);
  gst_object_unref (p);
  edgefaas_amqp_conn_close (conn);
  collector_free (first);
  collector_free (second);
  g_free (queue);
}

static void
test_discont_redelivered_counting (void)
{
  run_discont_redelivered (TRUE);
}

static void
test_discont_redelivered_flag (void)
{
  run_discont_redelivered (FALSE);
}

/* Issue 15.8: without the "<queue>.dlx" exchange (a queue declared by
 * someone else, declare=false) the copy with the reason cannot be published
 * (404 closes amqpsrc's second channel): amqpsrc says so once, rejects the
 * message to the queue's own dead-lettering instead, and the connection keeps
 * working for the next messages. */
static void
test_dead_letter_without_dlx (void)
{
  gchar *queue = queue_name ("nodlx");
  const gchar *not_json = "this is {not json";
  Collector *c = collector_new ();
  EdgefaasAmqpConn *conn;
  GstElement *p, *src;
  GError *err = NULL;
  gchar *text;

  g_assert_true (ef_broker_declare_queue (broker, queue, &err));
  g_assert_no_error (err);
  conn = pub_open ();
  publish (conn, queue, not_json, strlen (not_json), "application/json", NULL);
  publish (conn, queue, not_json, strlen (not_json), "application/json", NULL);
  publish_frames (conn, queue, 1, 1);
  p = make_collecting_pipeline (queue, "declare=false", c);
  src = get_el (p, "src");
  set_state_sync (p, GST_STATE_PLAYING);
  text = wait_warning_code (p, "not-json", 20);
  g_free (text);
  collector_wait_total (c, 1, 20);
  g_assert_true (g_hash_table_contains (c->seen, GUINT_TO_POINTER (1)));
  wait_stat (src, "acked", 1, 10);
  g_assert_cmpuint (stat_u64 (src, "rejected"), ==, 2);
  g_assert_cmpuint (stat_u64 (src, "reconnects"), ==, 0);
  wait_counts (queue, 0, 0, 10);
  assert_no_error (p);
  set_state_sync (p, GST_STATE_NULL);
  gst_object_unref (p);
  edgefaas_amqp_conn_close (conn);
  collector_free (c);
  g_free (queue);
}

/* By-reference frame i in @dir: the file and its event, published. Returns
 * the file's path. */
static gchar *
publish_ref_frame (EdgefaasAmqpConn * conn, const gchar * queue, const gchar * dir, guint i)
{
  GBytes *payload = make_payload (i, 2000);
  gchar *sha = sha_of (payload);
  gchar *path = g_strdup_printf ("%s/f%05u.jpg", dir, i);
  gchar *uri = g_filename_to_uri (path, NULL, NULL);
  gchar *json = frame_event_json (i, FALSE, uri, 2000, sha);

  g_assert_true (g_file_set_contents (path, g_bytes_get_data (payload, NULL), 2000, NULL));
  publish (conn, queue, json, strlen (json), "application/json", NULL);
  g_free (json);
  g_free (uri);
  g_free (sha);
  g_bytes_unref (payload);
  return path;
}

static void
wait_file_gone (const gchar * path, guint timeout_s)
{
  gint64 end = g_get_monotonic_time () + timeout_s * G_USEC_PER_SEC;
  while (g_file_test (path, G_FILE_TEST_EXISTS)) {
    if (g_get_monotonic_time () > end)
      g_error ("%s still exists %us after its delivery was acked", path, timeout_s);
    g_usleep (20 * 1000);
  }
}

/* Issue 15.8d: delete-after-ack removes a by-reference frame's file once its
 * delivery is acked, and only then: not while the buffer is alive, not on a
 * requeue (the redelivery loads it again), not on dead-lettering, not for a
 * file outside frame-root, not by default. */
static void
test_delete_after_ack (void)
{
  gchar *queue = queue_name ("delack");
  gchar *base = ef_test_mkdtemp ("amqpsrc-delack");
  gchar *root = g_build_filename (base, "frames", NULL);
  gchar *outside = g_build_filename (base, "outside.jpg", NULL);
  gchar *props = NULL;
  gchar *paths[6];
  Collector *c;
  EdgefaasAmqpConn *conn;
  GstElement *p, *src;

  g_assert_cmpint (g_mkdir (root, 0755), ==, 0);
  declare_queue (queue);
  conn = pub_open ();

  /* 1. Acked: deleted, but only after the buffer was released. */
  c = collector_new ();
  c->hold = 1;
  for (guint i = 0; i < 3; i++)
    paths[i] = publish_ref_frame (conn, queue, root, i);
  props = g_strdup_printf ("frame-root=%s delete-after-ack=true prefetch=1", root);
  p = make_collecting_pipeline (queue, props, c);
  src = get_el (p, "src");
  set_state_sync (p, GST_STATE_PLAYING);
  collector_wait_total (c, 1, 20);
  g_usleep (500 * 1000);
  g_assert_true (g_file_test (paths[0], G_FILE_TEST_EXISTS));   /* held: not acked */
  collector_release_held (c);
  collector_wait_total (c, 3, 20);
  wait_stat (src, "acked", 3, 10);
  for (guint i = 0; i < 3; i++)
    wait_file_gone (paths[i], 5);
  wait_stat (src, "frames-deleted", 3, 5);
  g_assert_cmpuint (stat_u64 (src, "delete-failures"), ==, 0);
  g_assert_cmpuint (c->mismatched, ==, 0);
  assert_no_error (p);
  set_state_sync (p, GST_STATE_NULL);
  gst_object_unref (p);
  collector_free (c);

  /* 2. Requeued by downstream until amqpsrc dead-letters it (max-redeliveries=1),
   * and a reference to a file outside the root: every file stays. */
  c = collector_new ();
  c->requeue = TRUE;
  paths[3] = publish_ref_frame (conn, queue, root, 3);
  g_assert_true (g_file_set_contents (outside, "OUTSIDE", -1, NULL));
  {
    gchar *uri = g_filename_to_uri (outside, NULL, NULL);
    gchar *json = frame_event_json (4, FALSE, uri, 7, NULL);
    publish (conn, queue, json, strlen (json), "application/json", NULL);
    g_free (json);
    g_free (uri);
  }
  g_free (props);
  props = g_strdup_printf ("frame-root=%s delete-after-ack=true max-redeliveries=1", root);
  p = make_collecting_pipeline (queue, props, c);
  src = get_el (p, "src");
  set_state_sync (p, GST_STATE_PLAYING);
  collector_wait_total (c, 2, 20);      /* frame 3 delivered twice, requeued each time */
  wait_stat (src, "rejected", 2, 20);   /* frame 3 (redelivered) and the outside one */
  wait_counts (queue, 0, 0, 10);
  g_assert_cmpuint (c->total, ==, 2);
  g_assert_true (g_file_test (paths[3], G_FILE_TEST_EXISTS));
  g_assert_true (g_file_test (outside, G_FILE_TEST_EXISTS));
  g_assert_cmpuint (stat_u64 (src, "frames-deleted"), ==, 0);
  assert_no_error (p);
  set_state_sync (p, GST_STATE_NULL);
  gst_object_unref (p);
  collector_free (c);

  /* 3. Default (delete-after-ack=false): acked, the file stays. */
  c = collector_new ();
  paths[5] = publish_ref_frame (conn, queue, root, 5);
  g_free (props);
  props = g_strdup_printf ("frame-root=%s", root);
  p = make_collecting_pipeline (queue, props, c);
  src = get_el (p, "src");
  set_state_sync (p, GST_STATE_PLAYING);
  collector_wait_total (c, 1, 20);
  wait_stat (src, "acked", 1, 10);
  wait_counts (queue, 0, 0, 10);
  g_assert_true (g_file_test (paths[5], G_FILE_TEST_EXISTS));
  assert_no_error (p);
  set_state_sync (p, GST_STATE_NULL);
  gst_object_unref (p);
  collector_free (c);

  edgefaas_amqp_conn_close (conn);
  for (guint i = 0; i < 6; i++)
    if (i != 4)
      g_free (paths[i]);
  ef_test_rm_rf (base);
  g_free (props);
  g_free (outside);
  g_free (root);
  g_free (base);
  g_free (queue);
}

/* Issue 12 (last bullet): the amqpsink 30 fps outage test for amqpsrc. A
 * live 30 fps stream (videotestsrc ! jpegenc ! amqpsink with a spool) feeds
 * a running amqpsrc; the broker is stopped for 6 s mid-stream and started
 * again. The consumer survives (warnings, no error), reconnects, and every
 * frame arrives: exactly n distinct sequence numbers, consecutive;
 * duplicates (redeliveries, resends) are counted and reported. */
static void
test_broker_outage_live (void)
{
  const guint n = 450;          /* 15 s at 30 fps */
  gchar *queue = queue_name ("outage");
  gchar *spool = ef_test_mkdtemp ("amqpsrc-outage-spool");
  gchar *desc = g_strdup_printf ("videotestsrc is-live=true num-buffers=%u ! "
      "video/x-raw,width=160,height=120,framerate=30/1 ! jpegenc ! amqpsink name=s url=%s "
      "queue=%s routing-key=%s declare=true spool-dir=%s flush-timeout=60000", n,
      ef_broker_url (broker), queue, queue, spool);
  Collector *c = collector_new ();
  GstElement *prod, *cons, *src;
  GError *err = NULL;
  GstMessage *m;
  guint lo = G_MAXUINT, hi = 0, total;
  GHashTableIter it;
  gpointer k, v;
  gint64 t_down;

  declare_queue (queue);
  cons = make_collecting_pipeline (queue, "prefetch=4", c);
  src = get_el (cons, "src");
  g_assert_cmpint (gst_element_set_state (cons, GST_STATE_PLAYING), !=,
      GST_STATE_CHANGE_FAILURE);
  prod = gst_parse_launch (desc, &err);
  g_assert_no_error (err);
  g_assert_cmpint (gst_element_set_state (prod, GST_STATE_PLAYING), !=,
      GST_STATE_CHANGE_FAILURE);

  collector_wait_total (c, 60, 30);     /* flowing */
  g_assert_true (ef_broker_stop (broker, &err));
  g_assert_no_error (err);
  t_down = g_get_monotonic_time ();
  while (g_get_monotonic_time () - t_down < 6 * G_USEC_PER_SEC)
    g_usleep (100 * 1000);
  g_mutex_lock (&c->lock);
  total = c->total;
  g_mutex_unlock (&c->lock);
  g_test_message ("%u frames consumed before/while the broker was down", total);
  g_assert_true (ef_broker_restart (broker, &err));
  g_assert_no_error (err);

  m = gst_bus_timed_pop_filtered (GST_ELEMENT_BUS (prod), 120 * GST_SECOND,
      GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
  g_assert_nonnull (m);
  if (GST_MESSAGE_TYPE (m) == GST_MESSAGE_ERROR) {
    GError *e = NULL;
    gst_message_parse_error (m, &e, NULL);
    g_error ("producer error: %s", e->message);
  }
  gst_message_unref (m);
  gst_element_set_state (prod, GST_STATE_NULL);

  /* Every frame, then the queue empty. */
  {
    gint64 end = g_get_monotonic_time () + 60 * G_USEC_PER_SEC;
    guint distinct = 0;
    while (g_get_monotonic_time () < end) {
      g_mutex_lock (&c->lock);
      distinct = g_hash_table_size (c->seen);
      g_mutex_unlock (&c->lock);
      if (distinct >= n)
        break;
      g_usleep (100 * 1000);
    }
    if (distinct < n)
      g_error ("only %u of %u frames arrived at amqpsrc", distinct, n);
  }
  wait_counts (queue, 0, 0, 30);
  g_mutex_lock (&c->lock);
  g_hash_table_iter_init (&it, c->seen);
  while (g_hash_table_iter_next (&it, &k, &v)) {
    lo = MIN (lo, GPOINTER_TO_UINT (k));
    hi = MAX (hi, GPOINTER_TO_UINT (k));
  }
  g_test_message ("amqpsrc: %u buffers, %u distinct frames (%u duplicates), %u DISCONT; "
      "reconnects %" G_GUINT64_FORMAT, c->total, g_hash_table_size (c->seen),
      c->total - g_hash_table_size (c->seen), c->discont, stat_u64 (src, "reconnects"));
  g_assert_cmpuint (g_hash_table_size (c->seen), ==, n);
  g_assert_cmpuint (hi - lo + 1, ==, n);
  g_assert_cmpuint (c->without_meta, ==, 0);
  g_assert_cmpuint (c->bad_caps, ==, 0);
  g_mutex_unlock (&c->lock);
  g_assert_cmpuint (stat_u64 (src, "reconnects"), >=, 1);
  assert_no_error (cons);
  set_state_sync (cons, GST_STATE_NULL);
  gst_object_unref (cons);
  gst_object_unref (prod);
  collector_free (c);
  ef_test_rm_rf (spool);
  g_free (spool);
  g_free (desc);
  g_free (queue);
}

/* Issue 15.8: a delivery downstream dead-letters (edgefaas_ack_token_reject)
 * reaches <queue>.dead with the reason headers too, inline and by
 * reference, body intact. */
static void
test_downstream_reject_reason (void)
{
  gchar *queue = queue_name ("dsreject");
  gchar *dead = g_strdup_printf ("%s.dead", queue);
  gchar *root = ef_test_mkdtemp ("amqpsrc-dsreject");
  const gchar *want[] = { "downstream-rejected", "downstream-rejected" };
  Collector *c = collector_new ();
  EdgefaasAmqpConn *conn;
  GstElement *p, *src;
  GBytes *payload = make_payload (1, 1000);
  gchar *props, *path, *json;
  GPtrArray *msgs;
  GError *err = NULL;

  declare_queue (queue);
  conn = pub_open ();
  {
    gchar *sha = sha_of (payload);
    json = frame_event_json (1, TRUE, NULL, 1000, sha);
    publish (conn, queue, g_bytes_get_data (payload, NULL), 1000, "image/jpeg", json);
    g_free (json);
    g_free (sha);
  }
  path = publish_ref_frame (conn, queue, root, 2);
  c->reject = TRUE;
  props = g_strdup_printf ("frame-root=%s prefetch=1", root);
  p = make_collecting_pipeline (queue, props, c);
  src = get_el (p, "src");
  set_state_sync (p, GST_STATE_PLAYING);
  collector_wait_total (c, 2, 20);
  wait_stat (src, "rejected", 2, 10);
  wait_counts (queue, 0, 0, 10);
  for (guint i = 0; i < 100 && ready_count (conn, dead) < 2; i++)
    g_usleep (100 * 1000);
  assert_no_error (p);
  set_state_sync (p, GST_STATE_NULL);
  gst_object_unref (p);

  /* Read once for the bodies, the headers are checked by assert_dead_reasons
   * on a second copy: publish them back first. */
  msgs = at_drain_queue (ef_broker_url (broker), dead, 500, &err);
  g_assert_no_error (err);
  g_assert_cmpuint (msgs->len, ==, 2);
  g_assert_true (g_bytes_equal (((AtMsg *) g_ptr_array_index (msgs, 0))->body, payload));
  g_assert_cmpstr (((AtMsg *) g_ptr_array_index (msgs, 0))->content_type, ==, "image/jpeg");
  for (guint i = 0; i < 2; i++) {
    AtMsg *m = g_ptr_array_index (msgs, i);
    const gchar *code = g_hash_table_lookup (m->headers, "x-edgefaas-reason-code");
    const gchar *text = g_hash_table_lookup (m->headers, "x-edgefaas-reason");
    if (g_strcmp0 (code, want[i]) != 0)
      g_error ("downstream-rejected message %u: x-edgefaas-reason-code '%s'", i,
          code ? code : "(none)");
    g_assert_cmpstr (text, ==, "downstream-rejected: the test rejects it");
    g_assert_cmpstr (g_hash_table_lookup (m->headers, "x-edgefaas-queue"), ==, queue);
  }
  {
    /* The by-reference one still names its file. */
    AtMsg *m = g_ptr_array_index (msgs, 1);
    gsize len;
    const gchar *body = g_bytes_get_data (m->body, &len);
    EdgefaasFrameEvent *ev = edgefaas_frame_event_from_json (body, len, &err);
    gchar *uri = g_filename_to_uri (path, NULL, NULL);
    g_assert_no_error (err);
    g_assert_cmpstr (ev->frame.uri, ==, uri);
    edgefaas_frame_event_free (ev);
    g_free (uri);
  }
  g_ptr_array_unref (msgs);
  edgefaas_amqp_conn_close (conn);
  collector_free (c);
  g_bytes_unref (payload);
  ef_test_rm_rf (root);
  g_free (root);
  g_free (path);
  g_free (props);
  g_free (dead);
  g_free (queue);
}

int
main (int argc, char **argv)
{
  GError *err = NULL;
  int ret;

  /* GLib 2.74 still has the slice allocator: a leaked GBytes sits in a
   * magazine chunk that stays reachable, so LeakSanitizer does not see a
   * leaked frame body (issue 15.1 went unnoticed under the ASan pass that
   * way). GLib reads G_SLICE in its constructors, before main(): run again
   * with plain malloc. */
  if (g_strcmp0 (getenv ("G_SLICE"), "always-malloc") != 0) {
    setenv ("G_SLICE", "always-malloc", 1);
    execv ("/proc/self/exe", argv);
    g_error ("cannot re-run with G_SLICE=always-malloc: %s", g_strerror (errno));
  }
  ef_test_init (&argc, &argv);
  broker = ef_broker_start (NULL, &err);
  if (broker == NULL)
    g_error ("cannot start the private RabbitMQ broker: %s", err ? err->message : "?");
  ef_broker_export_env (broker);

  g_test_add_func ("/amqpsrc/config-errors", test_config_errors);
  g_test_add_func ("/amqpsrc/round-trip-inline", test_round_trip_inline);
  g_test_add_func ("/amqpsrc/round-trip-reference", test_round_trip_reference);
  g_test_add_func ("/amqpsrc/ack-after-processing", test_ack_after_processing);
  g_test_add_func ("/amqpsrc/ack-immediate", test_ack_immediate);
  g_test_add_func ("/amqpsrc/poison", test_poison);
  g_test_add_func ("/amqpsrc/hostile-input", test_hostile_input);
  g_test_add_func ("/amqpsrc/max-redeliveries", test_max_redeliveries);
  g_test_add_func ("/amqpsrc/drain-on-eos", test_drain_on_eos);
  g_test_add_func ("/amqpsrc/idle-timeout", test_idle_timeout);
  g_test_add_func ("/amqpsrc/chain-amqpsink-inline", test_chain_inline);
  g_test_add_func ("/amqpsrc/chain-amqpsink-reference", test_chain_reference);
  g_test_add_func ("/amqpsrc/credentials-not-logged", test_credentials_not_logged);
  g_test_add_func ("/amqpsrc/tls", test_tls);
  g_test_add_func ("/amqpsrc/login-capabilities", test_login_capabilities);
  g_test_add_func ("/amqpsrc/memory-bounded-inline", test_memory_bounded_inline);
  g_test_add_func ("/amqpsrc/memory-bounded-reference", test_memory_bounded_reference);
  g_test_add_func ("/amqpsrc/queue-deleted-declare", test_queue_deleted_declare);
  g_test_add_func ("/amqpsrc/queue-deleted-nodeclare", test_queue_deleted_nodeclare);
  g_test_add_func ("/amqpsrc/discont-redelivered-counting",
      test_discont_redelivered_counting);
  g_test_add_func ("/amqpsrc/discont-redelivered-flag", test_discont_redelivered_flag);
  g_test_add_func ("/amqpsrc/dead-letter-without-dlx", test_dead_letter_without_dlx);
  g_test_add_func ("/amqpsrc/downstream-reject-reason", test_downstream_reject_reason);
  g_test_add_func ("/amqpsrc/delete-after-ack", test_delete_after_ack);
  g_test_add_func ("/amqpsrc/sigkill-consumer", test_sigkill_consumer);
  g_test_add_func ("/amqpsrc/broker-restart-mid-stream", test_broker_restart_mid_stream);
  g_test_add_func ("/amqpsrc/broker-restart-and-prompt-stop",
      test_broker_restart_and_prompt_stop);
  g_test_add_func ("/amqpsrc/broker-outage-live", test_broker_outage_live);
  ret = g_test_run ();
  ef_broker_free (broker);
  return ret;
}
