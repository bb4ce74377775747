/* Unit tests of plugins/amqp/amqpclient.c: the cancellable TCP connect, the
 * one fatal-vs-transient rule and the one warning-throttling policy. */
#include <gst/gst.h>
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include "amqpclient.h"

/* A listening socket whose backlog is full: further connects hang in
 * SYN_SENT on Linux (the SYN is dropped), like a black-holed broker. */
static gint
full_backlog_listener (guint16 *port, GPtrArray *fillers)
{
  struct sockaddr_in a = { 0 };
  socklen_t len = sizeof (a);
  gint l = socket (AF_INET, SOCK_STREAM, 0);

  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
  g_assert_cmpint (bind (l, (struct sockaddr *) &a, sizeof (a)), ==, 0);
  g_assert_cmpint (listen (l, 0), ==, 0);
  g_assert_cmpint (getsockname (l, (struct sockaddr *) &a, &len), ==, 0);
  *port = ntohs (a.sin_port);
  /* Fill the accept queue (backlog 0 admits one or two). */
  for (guint i = 0; i < 4; i++) {
    gint c = socket (AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    connect (c, (struct sockaddr *) &a, sizeof (a));
    g_ptr_array_add (fillers, GINT_TO_POINTER (c));
  }
  g_usleep (50 * 1000);
  return l;
}

typedef struct
{
  gint wake_fd;
  guint delay_ms;
} WakeLater;

static gpointer
wake_later (gpointer data)
{
  WakeLater *w = data;
  guint64 one = 1;
  g_usleep (w->delay_ms * 1000);
  g_assert_cmpint (write (w->wake_fd, &one, sizeof (one)), ==, sizeof (one));
  return NULL;
}

static void
test_tcp_connect_cancel (void)
{
  GPtrArray *fillers = g_ptr_array_new ();
  guint16 port;
  gint l = full_backlog_listener (&port, fillers);
  gint wake = eventfd (0, EFD_NONBLOCK | EFD_CLOEXEC);
  WakeLater w = { wake, 100 };
  GThread *t = g_thread_new ("waker", wake_later, &w);
  GError *err = NULL;
  gint64 t0 = g_get_monotonic_time (), ms;
  gint fd = amqp_client_tcp_connect ("127.0.0.1", port, 5000, wake, &err);

  ms = (g_get_monotonic_time () - t0) / 1000;
  g_thread_join (t);
  g_test_message ("connect to a full backlog: fd %d after %" G_GINT64_FORMAT
                  " ms: %s",
      fd, ms, err ? err->message : "connected");
  g_assert_cmpint (fd, ==, -1);
  g_assert_error (err, EDGEFAAS_AMQP_ERROR, EDGEFAAS_AMQP_ERROR_TIMEOUT);
  g_assert_nonnull (strstr (err->message, "interrupted"));
  g_assert_cmpint (ms, >=, 90);
  g_assert_cmpint (ms, <, 1000);
  g_clear_error (&err);
  for (guint i = 0; i < fillers->len; i++)
    close (GPOINTER_TO_INT (g_ptr_array_index (fillers, i)));
  g_ptr_array_unref (fillers);
  close (l);
  close (wake);
}

static void
test_tcp_connect_refused (void)
{
  struct sockaddr_in a = { 0 };
  socklen_t len = sizeof (a);
  gint s = socket (AF_INET, SOCK_STREAM, 0);
  GError *err = NULL;
  guint16 port;

  /* A port that was just free: nothing listens. */
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
  g_assert_cmpint (bind (s, (struct sockaddr *) &a, sizeof (a)), ==, 0);
  g_assert_cmpint (getsockname (s, (struct sockaddr *) &a, &len), ==, 0);
  port = ntohs (a.sin_port);
  close (s);
  g_assert_cmpint (
      amqp_client_tcp_connect ("127.0.0.1", port, 2000, -1, &err), ==, -1);
  g_assert_error (err, EDGEFAAS_AMQP_ERROR, EDGEFAAS_AMQP_ERROR_CONNECT);
  g_assert_nonnull (strstr (err->message, "refused"));
  g_clear_error (&err);
}

static AmqpClient *
new_client (void)
{
  EdgefaasAmqpParams params = { 0 };
  GError *err = NULL;
  AmqpClient *c;
  static GstElement *owner; /* outlives every client (not a ref) */

  if (owner == NULL)
    owner = gst_element_factory_make ("fakesink", NULL);

  g_assert_true (edgefaas_amqp_params_parse_url (
      &params, "amqp://guest@127.0.0.1:1/", &err));
  params.password = g_strdup ("guest");
  c = amqp_client_new (owner, &params, GST_RESOURCE_ERROR_WRITE);
  edgefaas_amqp_params_clear (&params);
  return c;
}

static void
test_fatal_rule (void)
{
  AmqpClient *c = new_client ();
  GError *e = NULL;
  gint fatal_codes[] = { EDGEFAAS_AMQP_ERROR_URL,
    EDGEFAAS_AMQP_ERROR_CREDENTIALS, EDGEFAAS_AMQP_ERROR_TLS,
    EDGEFAAS_AMQP_ERROR_AUTH, EDGEFAAS_AMQP_ERROR_PROTOCOL };

  for (guint i = 0; i < G_N_ELEMENTS (fatal_codes); i++) {
    e = g_error_new (EDGEFAAS_AMQP_ERROR, fatal_codes[i], "x");
    g_assert_true (amqp_client_error_is_fatal (c, e));
    g_clear_error (&e);
  }
  e = g_error_new (EDGEFAAS_AMQP_ERROR, EDGEFAAS_AMQP_ERROR_CONNECT, "x");
  g_assert_false (amqp_client_error_is_fatal (c, e));
  g_clear_error (&e);
  e = g_error_new (EDGEFAAS_AMQP_ERROR, EDGEFAAS_AMQP_ERROR_TIMEOUT,
      "connect interrupted (element stopping or flushing)");
  g_assert_false (amqp_client_error_is_fatal (c, e));
  g_clear_error (&e);
  /* After a first connection everything is transient. */
  g_assert_false (amqp_client_connected (c));
  e = g_error_new (EDGEFAAS_AMQP_ERROR, EDGEFAAS_AMQP_ERROR_AUTH, "x");
  g_assert_false (amqp_client_error_is_fatal (c, e));
  g_clear_error (&e);
  g_assert_true (amqp_client_connected (c));
  amqp_client_free (c);
}

static void
test_warning_policy_and_backoff (void)
{
  AmqpClient *c = new_client ();
  GError *e =
      g_error_new (EDGEFAAS_AMQP_ERROR, EDGEFAAS_AMQP_ERROR_CONNECT, "x");
  guint expect_delay = 100, warned = 0;

  for (guint i = 1; i <= 45; i++) {
    gboolean warn;
    guint d = amqp_client_connect_failed (c, e, &warn);
    g_assert_cmpuint (d, ==, expect_delay);
    expect_delay = MIN (expect_delay * 2, 5000);
    g_assert_cmpuint (amqp_client_failed_attempts (c), ==, i);
    g_assert_cmpint (warn, ==, i == 1 || i % AMQP_CLIENT_WARN_EVERY == 0);
    warned += warn;
  }
  g_assert_cmpuint (warned, ==, 3); /* attempts 1, 20, 40 */
  /* A new outage starts over. */
  amqp_client_connected (c);
  {
    gboolean warn;
    g_assert_cmpuint (amqp_client_connect_failed (c, e, &warn), ==, 100);
    g_assert_true (warn);
  }
  g_error_free (e);
  amqp_client_free (c);
}

static void
test_wakeup_before_connect (void)
{
  AmqpClient *c = new_client ();
  GError *err = NULL;

  amqp_client_wakeup (c);
  g_assert_true (amqp_client_woken (c));
  g_assert_null (amqp_client_connect (c, NULL, NULL, &err));
  g_assert_error (err, EDGEFAAS_AMQP_ERROR, EDGEFAAS_AMQP_ERROR_TIMEOUT);
  g_clear_error (&err);
  amqp_client_reset (c);
  g_assert_false (amqp_client_woken (c));
  /* Port 1 on loopback: refused, a real attempt was made. */
  g_assert_null (amqp_client_connect (c, NULL, NULL, &err));
  g_assert_error (err, EDGEFAAS_AMQP_ERROR, EDGEFAAS_AMQP_ERROR_CONNECT);
  g_clear_error (&err);
  amqp_client_free (c);
}

int
main (int argc, char **argv)
{
  gst_init (&argc, &argv);
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/amqp-client/tcp-connect/cancel", test_tcp_connect_cancel);
  g_test_add_func (
      "/amqp-client/tcp-connect/refused", test_tcp_connect_refused);
  g_test_add_func ("/amqp-client/fatal-rule", test_fatal_rule);
  g_test_add_func (
      "/amqp-client/warning-policy", test_warning_policy_and_backoff);
  g_test_add_func (
      "/amqp-client/wakeup-before-connect", test_wakeup_before_connect);
  return g_test_run ();
}
