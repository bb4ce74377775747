/* amqpsink and amqpsrc through a TCP relay that goes silent without closing
 * (a cable pulled behind a switch, a NAT entry dropped, a VM paused): no
 * FIN, no RST, just nothing. Only AMQP heartbeats can tell. Each element must
 * notice within the heartbeat bound (rabbitmq-c gives up after two missed
 * heartbeats), reconnect once the relay forwards again, and lose nothing. */
#include <gst/gst.h>
#include <gst/app/app.h>
#include <errno.h>
#include <string.h>
#include <poll.h>
#include <unistd.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include "ef-test.h"
#include "amqp-test-util.h"

#define HEARTBEAT_S 2
/* Two missed heartbeats, plus the 100 ms poll period and a loaded machine. */
#define NOTICE_BOUND_US ((2 * HEARTBEAT_S + 2) * G_USEC_PER_SEC)
#define SILENCE_US (8 * G_USEC_PER_SEC)

static EfBroker *broker;

/* ---------------------------------------------------------- the relay ---- */

typedef struct
{
  gint listen_fd;
  guint16 port;
  guint16 upstream_port;
  gint silent; /* atomic: forward nothing, close nothing */
  gint stop;   /* atomic */
  GThread *acceptor;
  GMutex lock;
  GPtrArray *pumps; /* GThread* */
} Relay;

typedef struct
{
  Relay *relay;
  gint a, b;
} Pump;

static gboolean
forward (gint from, gint to)
{
  gchar buf[16384];
  gssize n = read (from, buf, sizeof (buf));
  if (n <= 0)
    return FALSE;
  for (gssize off = 0; off < n;) {
    gssize w = write (to, buf + off, n - off);
    if (w < 0 && errno == EINTR)
      continue;
    if (w <= 0)
      return FALSE;
    off += w;
  }
  return TRUE;
}

static gpointer
pump_thread (gpointer data)
{
  Pump *p = data;
  while (!g_atomic_int_get (&p->relay->stop)) {
    struct pollfd fds[2] = { { p->a, POLLIN, 0 }, { p->b, POLLIN, 0 } };
    if (g_atomic_int_get (&p->relay->silent)) {
      g_usleep (20 * 1000); /* hold everything: no read, no close */
      continue;
    }
    if (poll (fds, 2, 50) <= 0)
      continue;
    if ((fds[0].revents && !forward (p->a, p->b))
        || (fds[1].revents && !forward (p->b, p->a)))
      break;
  }
  close (p->a);
  close (p->b);
  g_free (p);
  return NULL;
}

static gint
connect_upstream (guint16 port)
{
  struct sockaddr_in a = { 0 };
  gint fd = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  a.sin_family = AF_INET;
  a.sin_port = htons (port);
  a.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
  if (connect (fd, (struct sockaddr *) &a, sizeof (a)) != 0) {
    close (fd);
    return -1;
  }
  return fd;
}

static gpointer
acceptor_thread (gpointer data)
{
  Relay *r = data;
  while (!g_atomic_int_get (&r->stop)) {
    struct pollfd pfd = { r->listen_fd, POLLIN, 0 };
    gint c, u;
    Pump *p;
    if (poll (&pfd, 1, 50) <= 0)
      continue;
    c = accept4 (r->listen_fd, NULL, NULL, SOCK_CLOEXEC);
    if (c < 0)
      continue;
    /* While silent a new connection is accepted and then left hanging too. */
    u = connect_upstream (r->upstream_port);
    if (u < 0) {
      close (c);
      continue;
    }
    p = g_new0 (Pump, 1);
    p->relay = r;
    p->a = c;
    p->b = u;
    g_mutex_lock (&r->lock);
    g_ptr_array_add (r->pumps, g_thread_new ("relay-pump", pump_thread, p));
    g_mutex_unlock (&r->lock);
  }
  return NULL;
}

static Relay *
relay_start (guint16 upstream_port)
{
  Relay *r = g_new0 (Relay, 1);
  struct sockaddr_in a = { 0 };
  socklen_t len = sizeof (a);

  r->upstream_port = upstream_port;
  r->listen_fd = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
  g_assert_cmpint (
      bind (r->listen_fd, (struct sockaddr *) &a, sizeof (a)), ==, 0);
  g_assert_cmpint (listen (r->listen_fd, 16), ==, 0);
  g_assert_cmpint (
      getsockname (r->listen_fd, (struct sockaddr *) &a, &len), ==, 0);
  r->port = ntohs (a.sin_port);
  g_mutex_init (&r->lock);
  r->pumps = g_ptr_array_new ();
  r->acceptor = g_thread_new ("relay-accept", acceptor_thread, r);
  return r;
}

static void
relay_free (Relay *r)
{
  g_atomic_int_set (&r->stop, 1);
  g_thread_join (r->acceptor);
  for (guint i = 0; i < r->pumps->len; i++)
    g_thread_join (g_ptr_array_index (r->pumps, i));
  g_ptr_array_unref (r->pumps);
  close (r->listen_fd);
  g_mutex_clear (&r->lock);
  g_free (r);
}

static gchar *
relay_url (Relay *r)
{
  return g_strdup_printf ("amqp://%s@127.0.0.1:%u/?heartbeat=%d",
      ef_broker_user (broker), r->port, HEARTBEAT_S);
}

/* ------------------------------------------------------------ helpers ---- */

/* Wait for a WARNING containing @substr; its monotonic time, 0 if none. */
static gint64
wait_warning (GstElement *p, const gchar *substr, guint timeout_ms)
{
  GstBus *bus = gst_element_get_bus (p);
  gint64 until = g_get_monotonic_time () + timeout_ms * 1000, hit = 0;

  while (hit == 0 && g_get_monotonic_time () < until) {
    GstMessage *m = gst_bus_timed_pop_filtered (
        bus, 50 * GST_MSECOND, GST_MESSAGE_WARNING | GST_MESSAGE_ERROR);
    GError *err = NULL;
    if (m == NULL)
      continue;
    if (GST_MESSAGE_TYPE (m) == GST_MESSAGE_ERROR) {
      gst_message_parse_error (m, &err, NULL);
      g_error ("error on the bus: %s", err->message);
    }
    gst_message_parse_warning (m, &err, NULL);
    g_test_message ("warning: %s", err->message);
    if (strstr (err->message, substr))
      hit = g_get_monotonic_time ();
    g_clear_error (&err);
    gst_message_unref (m);
  }
  gst_object_unref (bus);
  return hit;
}

static GstPadProbeReturn
count_probe (GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
  gint *n = data;
  g_atomic_int_inc (n);
  return GST_PAD_PROBE_OK;
}

static guint
distinct_sequences (GPtrArray *msgs, guint *dups)
{
  GHashTable *seen = g_hash_table_new (g_str_hash, g_str_equal);
  guint n;
  *dups = 0;
  for (guint i = 0; i < msgs->len; i++) {
    AtMsg *m = g_ptr_array_index (msgs, i);
    g_assert_nonnull (m->message_id);
    if (g_hash_table_contains (seen, m->message_id))
      (*dups)++;
    g_hash_table_add (seen, m->message_id);
  }
  n = g_hash_table_size (seen);
  g_hash_table_unref (seen);
  return n;
}

/* -------------------------------------------------------------- tests ---- */

/* A live 30 fps stream into amqpsink through the relay; 8 s of silence. */
static void
test_sink_silent_network (void)
{
  Relay *r = relay_start (ef_broker_amqp_port (broker));
  gchar *url = relay_url (r);
  gchar *desc = g_strdup_printf (
      "videotestsrc is-live=true pattern=ball ! "
      "video/x-raw,width=64,height=48,framerate=30/1 ! jpegenc ! "
      "amqpsink name=s url=%s routing-key=silent-sink queue=silent-sink "
      "declare=true "
      "flush-timeout=60000",
      url);
  GstElement *p = gst_parse_launch (desc, NULL);
  GstElement *s = gst_bin_get_by_name (GST_BIN (p), "s");
  GstPad *pad = gst_element_get_static_pad (s, "sink");
  gint frames = 0;
  gint64 t_silent, t_noticed;
  GstMessage *msg;
  GPtrArray *msgs;
  GError *err = NULL;
  guint distinct, dups;

  gst_pad_add_probe (
      pad, GST_PAD_PROBE_TYPE_BUFFER, count_probe, &frames, NULL);
  gst_element_set_state (p, GST_STATE_PLAYING);
  g_usleep (2 * G_USEC_PER_SEC);
  g_assert_true (at_stat (s, "connected"));

  g_atomic_int_set (&r->silent, 1);
  t_silent = g_get_monotonic_time ();
  t_noticed = wait_warning (p, "Lost the connection", SILENCE_US / 1000);
  g_assert_cmpint (t_noticed, !=, 0);
  g_test_message ("amqpsink noticed the silent network after %" G_GINT64_FORMAT
                  " ms "
                  "(heartbeat %d s)",
      (t_noticed - t_silent) / 1000, HEARTBEAT_S);
  g_assert_cmpint (t_noticed - t_silent, <, NOTICE_BOUND_US);
  while (g_get_monotonic_time () - t_silent < SILENCE_US)
    g_usleep (100 * 1000);
  g_assert_false (at_stat (s, "connected"));
  g_atomic_int_set (&r->silent, 0);

  /* Back: it reconnects and catches up. */
  for (guint i = 0; i < 150 && !at_stat (s, "connected"); i++)
    g_usleep (100 * 1000);
  g_assert_true (at_stat (s, "connected"));
  g_usleep (2 * G_USEC_PER_SEC);
  gst_element_send_event (p, gst_event_new_eos ());
  msg = gst_bus_timed_pop_filtered (GST_ELEMENT_BUS (p), 60 * GST_SECOND,
      GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
  g_assert_nonnull (msg);
  g_assert_cmpint (GST_MESSAGE_TYPE (msg), ==, GST_MESSAGE_EOS);
  gst_message_unref (msg);
  g_test_message ("frames %d, confirmed %" G_GUINT64_FORMAT
                  ", republished %" G_GUINT64_FORMAT
                  ", reconnects %" G_GUINT64_FORMAT,
      g_atomic_int_get (&frames), at_stat (s, "confirmed"),
      at_stat (s, "republished"), at_stat (s, "reconnects"));
  g_assert_cmpuint (at_stat (s, "reconnects"), >=, 1);
  g_assert_cmpuint (at_stat (s, "dropped"), ==, 0);
  gst_element_set_state (p, GST_STATE_NULL);

  msgs = at_drain_queue (ef_broker_url (broker), "silent-sink", 500, &err);
  g_assert_no_error (err);
  distinct = distinct_sequences (msgs, &dups);
  g_test_message ("received %u messages: %u distinct, %u duplicates (sent %d)",
      msgs->len, distinct, dups, g_atomic_int_get (&frames));
  g_assert_cmpuint (distinct, ==, (guint) g_atomic_int_get (&frames));
  g_assert_cmpuint (msgs->len, ==, distinct + dups);
  g_ptr_array_unref (msgs);

  gst_object_unref (pad);
  gst_object_unref (s);
  gst_object_unref (p);
  relay_free (r);
  g_free (desc);
  g_free (url);
}

/* amqpsrc consuming through the relay at a paced rate; 8 s of silence in
 * the middle. Every message arrives (redeliveries of what was unacked when
 * the network went silent are allowed and counted), and the queue ends
 * empty with nothing unacked. */
static void
test_src_silent_network (void)
{
  const guint n = 150;
  Relay *r = relay_start (ef_broker_amqp_port (broker));
  gchar *url = relay_url (r);
  gchar *prod = g_strdup_printf ("videotestsrc num-buffers=%u pattern=ball ! "
                                 "video/x-raw,width=64,height=48 ! jpegenc ! "
                                 "amqpsink url=%s routing-key=silent-src "
                                 "queue=silent-src declare=true",
      n, ef_broker_url (broker));
  gchar *cons =
      g_strdup_printf ("amqpsrc name=src url=%s queue=silent-src prefetch=4 ! "
                       "identity sleep-time=20000 ! fakesink name=k sync=false",
          url);
  GstElement *pp, *cp, *k;
  GstPad *pad;
  gint got = 0;
  gint64 t_silent, t_noticed, until;
  guint ready = 99, unacked = 99;
  GError *err = NULL;

  pp = gst_parse_launch (prod, &err);
  g_assert_no_error (err);
  {
    GstMessage *done = at_run_until_done (pp, 60);
    g_assert_nonnull (done);
    g_assert_cmpint (GST_MESSAGE_TYPE (done), ==, GST_MESSAGE_EOS);
    gst_message_unref (done);
  }
  gst_element_set_state (pp, GST_STATE_NULL);
  gst_object_unref (pp);
  g_assert_true (
      ef_broker_queue_counts (broker, "silent-src", &ready, &unacked, &err));
  g_assert_cmpuint (ready, ==, n);

  cp = gst_parse_launch (cons, &err);
  g_assert_no_error (err);
  k = gst_bin_get_by_name (GST_BIN (cp), "k");
  pad = gst_element_get_static_pad (k, "sink");
  gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER, count_probe, &got, NULL);
  gst_element_set_state (cp, GST_STATE_PLAYING);
  for (guint i = 0; i < 100 && g_atomic_int_get (&got) < 30; i++)
    g_usleep (50 * 1000);
  g_assert_cmpint (g_atomic_int_get (&got), >=, 30);

  g_atomic_int_set (&r->silent, 1);
  t_silent = g_get_monotonic_time ();
  t_noticed = wait_warning (cp, "Lost the connection", SILENCE_US / 1000);
  g_assert_cmpint (t_noticed, !=, 0);
  g_test_message ("amqpsrc noticed the silent network after %" G_GINT64_FORMAT
                  " ms "
                  "(heartbeat %d s), %d delivered so far",
      (t_noticed - t_silent) / 1000, HEARTBEAT_S, g_atomic_int_get (&got));
  g_assert_cmpint (t_noticed - t_silent, <, NOTICE_BOUND_US);
  while (g_get_monotonic_time () - t_silent < SILENCE_US)
    g_usleep (100 * 1000);
  g_atomic_int_set (&r->silent, 0);

  /* Back: the rest arrives, and the queue empties. */
  until = g_get_monotonic_time () + 60 * G_USEC_PER_SEC;
  do {
    g_usleep (200 * 1000);
    g_assert_true (
        ef_broker_queue_counts (broker, "silent-src", &ready, &unacked, &err));
  } while ((ready > 0 || unacked > 0 || g_atomic_int_get (&got) < (gint) n)
      && g_get_monotonic_time () < until);
  g_test_message (
      "amqpsrc delivered %d buffers for %u messages (%d redelivered); queue "
      "ready %u unacked %u",
      g_atomic_int_get (&got), n, g_atomic_int_get (&got) - (gint) n, ready,
      unacked);
  g_assert_cmpint (g_atomic_int_get (&got), >=, (gint) n);
  gst_element_set_state (cp, GST_STATE_NULL);
  g_assert_true (
      ef_broker_queue_counts (broker, "silent-src", &ready, &unacked, &err));
  g_assert_cmpuint (ready, ==, 0);
  g_assert_cmpuint (unacked, ==, 0);
  /* Nothing was dead-lettered on the way either. */
  g_assert_true (ef_broker_queue_counts (
      broker, "silent-src.dead", &ready, &unacked, &err));
  g_assert_cmpuint (ready, ==, 0);

  gst_object_unref (pad);
  gst_object_unref (k);
  gst_object_unref (cp);
  relay_free (r);
  g_free (prod);
  g_free (cons);
  g_free (url);
}

int
main (int argc, char **argv)
{
  GError *err = NULL;
  int rc;

  gst_init (&argc, &argv);
  g_test_init (&argc, &argv, NULL);
  broker = ef_broker_start (NULL, &err);
  g_assert_no_error (err);
  ef_broker_export_env (broker);
  g_test_add_func ("/amqp-silent/sink", test_sink_silent_network);
  g_test_add_func ("/amqp-silent/src", test_src_silent_network);
  rc = g_test_run ();
  ef_broker_free (broker);
  return rc;
}
