/* amqpsink and amqpsrc against a broker that accepts TCP and never answers
 * (a hung node, a half-open load balancer, a TLS port that stalls in the
 * handshake): every state change down to NULL must still be quick.
 *
 * The listener is a GSocketService on loopback that accepts connections and
 * never writes a byte. For amqp:// rabbitmq-c then waits in the login for
 * connection.start; for amqps:// it waits in the TLS handshake for the
 * ServerHello. Both waits are bounded only by the 5 s handshake timeout of
 * edgefaas-amqp.c; before amqpclient.c made them interruptible each state
 * change to NULL took ~4.9 s (and amqpsrc's start() held 5 s). */
#include <gst/gst.h>
#include <gio/gio.h>
#include <string.h>

#define BOUND_MS 200
/* Long enough for the elements to be inside the login / handshake. */
#define SETTLE_MS 400

typedef struct
{
  GThread *thread;
  GMainContext *ctx;
  GMainLoop *loop;
  GSocketService *service;
  guint16 port;
  GPtrArray *held; /* accepted connections, never answered */
  gint accepted;   /* atomic */
} SilentListener;

static SilentListener *listener;

static gboolean
on_incoming (GSocketService *service, GSocketConnection *connection,
    GObject *source, gpointer user_data)
{
  SilentListener *l = user_data;
  g_ptr_array_add (l->held, g_object_ref (connection));
  g_atomic_int_inc (&l->accepted);
  return TRUE;
}

static gpointer
listener_thread (gpointer data)
{
  SilentListener *l = data;
  g_main_context_push_thread_default (l->ctx);
  g_main_loop_run (l->loop);
  g_main_context_pop_thread_default (l->ctx);
  return NULL;
}

static SilentListener *
silent_listener_start (void)
{
  SilentListener *l = g_new0 (SilentListener, 1);
  GError *err = NULL;
  GInetAddress *lo = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  GSocketAddress *addr = g_inet_socket_address_new (lo, 0);
  GSocketAddress *bound = NULL;

  l->ctx = g_main_context_new ();
  l->loop = g_main_loop_new (l->ctx, FALSE);
  l->held = g_ptr_array_new_with_free_func (g_object_unref);
  g_main_context_push_thread_default (l->ctx);
  l->service = g_socket_service_new ();
  g_socket_listener_add_address (G_SOCKET_LISTENER (l->service), addr,
      G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, NULL, &bound, &err);
  g_assert_no_error (err);
  l->port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));
  g_signal_connect (l->service, "incoming", G_CALLBACK (on_incoming), l);
  g_socket_service_start (l->service);
  g_main_context_pop_thread_default (l->ctx);
  l->thread = g_thread_new ("silent-listener", listener_thread, l);
  g_object_unref (bound);
  g_object_unref (addr);
  g_object_unref (lo);
  g_test_message ("silent listener on 127.0.0.1:%u", l->port);
  return l;
}

static void
silent_listener_stop (SilentListener *l)
{
  g_main_loop_quit (l->loop);
  g_thread_join (l->thread);
  g_socket_service_stop (l->service);
  g_socket_listener_close (G_SOCKET_LISTENER (l->service));
  g_object_unref (l->service);
  g_ptr_array_unref (l->held);
  g_main_loop_unref (l->loop);
  g_main_context_unref (l->ctx);
  g_free (l);
}

static gchar *
url_for (gboolean tls)
{
  return g_strdup_printf (
      "%s://guest@127.0.0.1:%u/", tls ? "amqps" : "amqp", listener->port);
}

static GstElement *
make_pipeline (const gchar *element, gboolean tls)
{
  gchar *url = url_for (tls);
  gchar *desc;
  GstElement *p;
  GError *err = NULL;

  if (g_str_equal (element, "amqpsink"))
    desc = g_strdup_printf (
        "appsrc is-live=true caps=image/jpeg,width=64,height=48 "
        "! amqpsink url=%s tls-verify=false",
        url);
  else
    desc = g_strdup_printf (
        "amqpsrc url=%s tls-verify=false queue=q ! fakesink", url);
  p = gst_parse_launch (desc, &err);
  g_assert_no_error (err);
  g_free (desc);
  g_free (url);
  return p;
}

/* Time one gst_element_set_state() in ms. */
static gint64
timed_set_state (GstElement *p, GstState state, GstStateChangeReturn *ret)
{
  gint64 t0 = g_get_monotonic_time ();
  *ret = gst_element_set_state (p, state);
  return (g_get_monotonic_time () - t0) / 1000;
}

/* No error may be on the bus: a stall is not a failure of the settings. */
static void
assert_no_error (GstElement *p)
{
  GstBus *bus = gst_element_get_bus (p);
  GstMessage *m;
  while ((m = gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR))) {
    GError *err = NULL;
    gst_message_parse_error (m, &err, NULL);
    g_error ("unexpected error on the bus: %s", err->message);
  }
  gst_object_unref (bus);
}

static void
run_case (const gchar *element, gboolean tls, GstState up, GstState down)
{
  GstElement *p = make_pipeline (element, tls);
  gint before = g_atomic_int_get (&listener->accepted);
  GstStateChangeReturn ret;
  gint64 up_ms, down_ms;

  up_ms = timed_set_state (p, up, &ret);
  g_assert_cmpint (ret, !=, GST_STATE_CHANGE_FAILURE);
  g_usleep (SETTLE_MS * 1000);
  /* The element is inside the connect: the listener holds its connection. */
  g_assert_cmpint (g_atomic_int_get (&listener->accepted), >, before);
  down_ms = timed_set_state (p, down, &ret);
  g_test_message ("%s %s: to %s %" G_GINT64_FORMAT
                  " ms, to %s %" G_GINT64_FORMAT " ms",
      element, tls ? "amqps" : "amqp", gst_element_state_get_name (up), up_ms,
      gst_element_state_get_name (down), down_ms);
  g_assert_cmpint (ret, ==, GST_STATE_CHANGE_SUCCESS);
  /* amqpsrc's start() used to connect under the state lock (5 s). */
  g_assert_cmpint (up_ms, <, BOUND_MS);
  g_assert_cmpint (down_ms, <, BOUND_MS);
  assert_no_error (p);
  if (down != GST_STATE_NULL) {
    down_ms = timed_set_state (p, GST_STATE_NULL, &ret);
    g_assert_cmpint (down_ms, <, BOUND_MS);
  }
  gst_object_unref (p);
}

static void
test_sink_tcp_playing_null (void)
{
  run_case ("amqpsink", FALSE, GST_STATE_PLAYING, GST_STATE_NULL);
}

static void
test_sink_tcp_paused_null (void)
{
  run_case ("amqpsink", FALSE, GST_STATE_PAUSED, GST_STATE_NULL);
}

static void
test_sink_tcp_playing_ready (void)
{
  run_case ("amqpsink", FALSE, GST_STATE_PLAYING, GST_STATE_READY);
}

static void
test_sink_tls_playing_null (void)
{
  run_case ("amqpsink", TRUE, GST_STATE_PLAYING, GST_STATE_NULL);
}

static void
test_sink_tls_paused_null (void)
{
  run_case ("amqpsink", TRUE, GST_STATE_PAUSED, GST_STATE_NULL);
}

static void
test_src_tcp_playing_null (void)
{
  run_case ("amqpsrc", FALSE, GST_STATE_PLAYING, GST_STATE_NULL);
}

static void
test_src_tcp_playing_ready (void)
{
  run_case ("amqpsrc", FALSE, GST_STATE_PLAYING, GST_STATE_READY);
}

static void
test_src_tls_playing_null (void)
{
  run_case ("amqpsrc", TRUE, GST_STATE_PLAYING, GST_STATE_NULL);
}

static void
test_src_tls_playing_ready (void)
{
  run_case ("amqpsrc", TRUE, GST_STATE_PLAYING, GST_STATE_READY);
}

int
main (int argc, char **argv)
{
  int rc;

  gst_init (&argc, &argv);
  g_test_init (&argc, &argv, NULL);
  if (gst_element_factory_find ("amqpsink") == NULL
      || gst_element_factory_find ("amqpsrc") == NULL)
    g_error ("amqpsink/amqpsrc not found (GST_PLUGIN_PATH?)");
  listener = silent_listener_start ();

  g_test_add_func (
      "/amqp-stall/sink/amqp/playing-null", test_sink_tcp_playing_null);
  g_test_add_func (
      "/amqp-stall/sink/amqp/paused-null", test_sink_tcp_paused_null);
  g_test_add_func (
      "/amqp-stall/sink/amqp/playing-ready", test_sink_tcp_playing_ready);
  g_test_add_func (
      "/amqp-stall/sink/amqps/playing-null", test_sink_tls_playing_null);
  g_test_add_func (
      "/amqp-stall/sink/amqps/paused-null", test_sink_tls_paused_null);
  g_test_add_func (
      "/amqp-stall/src/amqp/playing-null", test_src_tcp_playing_null);
  g_test_add_func (
      "/amqp-stall/src/amqp/playing-ready", test_src_tcp_playing_ready);
  g_test_add_func (
      "/amqp-stall/src/amqps/playing-null", test_src_tls_playing_null);
  g_test_add_func (
      "/amqp-stall/src/amqps/playing-ready", test_src_tls_playing_ready);
  rc = g_test_run ();
  silent_listener_stop (listener);
  return rc;
}
