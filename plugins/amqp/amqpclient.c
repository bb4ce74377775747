/* edgefaas: the AMQP client shared by amqpsink and amqpsrc (see amqpclient.h).
 *
 * Why connect is interruptible: rabbitmq-c 0.11 bounds the TCP connect, the
 * TLS handshake and the login by a timeout (5 s by default) but offers no
 * way to cancel them. A broker that accepts TCP and never answers (a hung
 * node, a half-open load balancer, a TLS port that stalls) therefore held
 * every state change to NULL for ~5 s. Here:
 *  - amqp://: the TCP connect is ours (non-blocking connect polled together
 *    with the wake eventfd), the fd is handed to rabbitmq-c with
 *    amqp_tcp_socket_set_sockfd();
 *  - amqps://: rabbitmq-c must make the socket itself (its TLS socket takes
 *    no fd), so first a cancellable TCP connect of ours proves the port is
 *    reachable (a black-holed host is then cancellable too), then rabbitmq-c
 *    connects again and does the handshake;
 *  - in both cases, while the handshake, the login and the caller's setup
 *    RPCs run, the library socket is known here (watch_socket hook) and
 *    wakeup() shutdown()s its fd: the blocked poll returns at once and the
 *    call fails; the error is then reported as "interrupted". */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "amqpclient.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

GST_DEBUG_CATEGORY_STATIC (amqp_client_debug);
#define GST_CAT_DEFAULT amqp_client_debug

/* How long wakeup() waits for rabbitmq-c's TLS socket to get its fd (its own
 * TCP connect to a port just proven reachable) before giving up on cutting
 * it. */
#define WAKE_WAIT_FD_US (100 * 1000)

struct _AmqpClient
{
  GstElement *owner; /* not a ref: the owner frees the client */
  EdgefaasAmqpParams params;
  gchar *redacted_url;
  GstResourceError direction;

  GMutex lock;
  gboolean woken;
  gboolean connecting;
  amqp_socket_t *sock; /* rabbitmq-c socket of a connect in progress */
  gint wake_fd;

  /* Only the connecting thread. */
  gboolean ever_connected;
  guint failed_attempts;
  guint backoff_ms;
};

static void
init_debug (void)
{
  static gsize once = 0;
  if (g_once_init_enter (&once)) {
    GST_DEBUG_CATEGORY_INIT (amqp_client_debug, "amqpclient", 0,
        "AMQP client shared by amqpsink and amqpsrc");
    g_once_init_leave (&once, 1);
  }
}

AmqpClient *
amqp_client_new (GstElement *owner, const EdgefaasAmqpParams *params,
    GstResourceError direction)
{
  AmqpClient *c = g_new0 (AmqpClient, 1);

  init_debug ();
  c->owner = owner;
  edgefaas_amqp_params_copy (&c->params, params);
  c->redacted_url = edgefaas_amqp_params_redacted_url (&c->params);
  c->direction = direction;
  g_mutex_init (&c->lock);
  c->wake_fd = eventfd (0, EFD_NONBLOCK | EFD_CLOEXEC);
  c->backoff_ms = EDGEFAAS_AMQP_BACKOFF_MIN_MS;
  return c;
}

void
amqp_client_free (AmqpClient *c)
{
  if (c == NULL)
    return;
  edgefaas_amqp_params_clear (&c->params);
  g_free (c->redacted_url);
  if (c->wake_fd >= 0)
    close (c->wake_fd);
  g_mutex_clear (&c->lock);
  g_free (c);
}

const gchar *
amqp_client_redacted_url (AmqpClient *c)
{
  return c->redacted_url;
}

const EdgefaasAmqpParams *
amqp_client_params (AmqpClient *c)
{
  return &c->params;
}

gint
amqp_client_wake_fd (AmqpClient *c)
{
  return c->wake_fd;
}

gboolean
amqp_client_woken (AmqpClient *c)
{
  gboolean woken;
  g_mutex_lock (&c->lock);
  woken = c->woken;
  g_mutex_unlock (&c->lock);
  return woken;
}

void
amqp_client_wakeup (AmqpClient *c)
{
  guint64 one = 1;

  g_mutex_lock (&c->lock);
  c->woken = TRUE;
  if (c->wake_fd >= 0 && write (c->wake_fd, &one, sizeof (one)) < 0
      && errno != EAGAIN)
    GST_WARNING ("eventfd write failed: %s", g_strerror (errno));
  if (c->connecting && c->sock) {
    gint64 until = g_get_monotonic_time () + WAKE_WAIT_FD_US;
    gint fd;
    /* The TLS socket may still be in rabbitmq-c's own TCP connect. The
     * connecting thread cannot free the socket meanwhile: it needs this
     * lock to unwatch it. */
    while ((fd = amqp_socket_get_sockfd (c->sock)) < 0
        && g_get_monotonic_time () < until)
      g_usleep (1000);
    if (fd >= 0) {
      GST_DEBUG ("cutting the socket of a connect in progress");
      shutdown (fd, SHUT_RDWR);
    }
  }
  g_mutex_unlock (&c->lock);
}

void
amqp_client_reset (AmqpClient *c)
{
  guint64 v;

  g_mutex_lock (&c->lock);
  c->woken = FALSE;
  if (c->wake_fd >= 0 && read (c->wake_fd, &v, sizeof (v)) < 0
      && errno != EAGAIN)
    GST_WARNING ("eventfd read failed: %s", g_strerror (errno));
  g_mutex_unlock (&c->lock);
}

/* ------------------------------------------------------------- connect ---- */

static void
set_interrupted (GError **error)
{
  g_set_error (error, EDGEFAAS_AMQP_ERROR, EDGEFAAS_AMQP_ERROR_TIMEOUT,
      "connect interrupted (element stopping or flushing)");
}

/* Wait until @fd is writable (connect done), the deadline passes or @wake_fd
 * is readable. Returns 1, 0 (timeout) or -1 (woken / poll error, errno). */
static gint
wait_connected (gint fd, gint wake_fd, gint64 deadline)
{
  for (;;) {
    struct pollfd fds[2] = {
      { .fd = fd, .events = POLLOUT },
      { .fd = wake_fd, .events = POLLIN },
    };
    gint64 left_ms = (deadline - g_get_monotonic_time ()) / 1000;
    gint n;

    if (left_ms <= 0)
      return 0;
    n = poll (fds, wake_fd >= 0 ? 2 : 1, (gint) MIN (left_ms, G_MAXINT));
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      return -1;
    if (n == 0)
      return 0;
    if (wake_fd >= 0 && (fds[1].revents & POLLIN)) {
      errno = ECANCELED;
      return -1;
    }
    if (fds[0].revents)
      return 1;
  }
}

gint
amqp_client_tcp_connect (const gchar *host, guint port, guint timeout_ms,
    gint wake_fd, GError **error)
{
  struct addrinfo hints = { 0 }, *res = NULL, *ai;
  gchar portstr[8];
  gint64 deadline = g_get_monotonic_time () + (gint64) timeout_ms * 1000;
  gint rc, last_errno = ECONNREFUSED;
  gboolean timed_out = FALSE;

  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_protocol = IPPROTO_TCP;
  g_snprintf (portstr, sizeof (portstr), "%u", port);
  /* Name resolution itself is blocking (getaddrinfo has no cancel); broker
   * names are local (loopback, a cluster service) in every deployment. */
  rc = getaddrinfo (host, portstr, &hints, &res);
  if (rc != 0) {
    g_set_error (error, EDGEFAAS_AMQP_ERROR, EDGEFAAS_AMQP_ERROR_CONNECT,
        "cannot connect to %s:%u: cannot resolve the host: %s", host, port,
        gai_strerror (rc));
    return -1;
  }

  for (ai = res; ai; ai = ai->ai_next) {
    gint fd = socket (ai->ai_family,
        ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
    gint one = 1, w, soerr = 0;
    socklen_t len = sizeof (soerr);

    if (fd < 0) {
      last_errno = errno;
      continue;
    }
    /* What rabbitmq-c's own connect sets: frames go out at once. */
    setsockopt (fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof (one));
    if (connect (fd, ai->ai_addr, ai->ai_addrlen) == 0) {
      freeaddrinfo (res);
      return fd;
    }
    if (errno != EINPROGRESS) {
      last_errno = errno;
      close (fd);
      continue;
    }
    w = wait_connected (fd, wake_fd, deadline);
    if (w == 1 && getsockopt (fd, SOL_SOCKET, SO_ERROR, &soerr, &len) == 0
        && soerr == 0) {
      freeaddrinfo (res);
      return fd;
    }
    close (fd);
    if (w < 0 && errno == ECANCELED) {
      freeaddrinfo (res);
      set_interrupted (error);
      return -1;
    }
    if (w == 0) {
      timed_out = TRUE;
      break;
    }
    last_errno = w == 1 ? soerr : errno;
  }
  freeaddrinfo (res);
  if (timed_out)
    g_set_error (error, EDGEFAAS_AMQP_ERROR, EDGEFAAS_AMQP_ERROR_TIMEOUT,
        "cannot connect to %s:%u: no answer within %u ms", host, port,
        timeout_ms);
  else
    g_set_error (error, EDGEFAAS_AMQP_ERROR, EDGEFAAS_AMQP_ERROR_CONNECT,
        "cannot connect to %s:%u: %s", host, port, g_strerror (last_errno));
  return -1;
}

static gint
hook_connect_tcp (const gchar *host, guint port, guint timeout_ms,
    gpointer user_data, GError **error)
{
  AmqpClient *c = user_data;
  return amqp_client_tcp_connect (host, port, timeout_ms, c->wake_fd, error);
}

static void
hook_watch_socket (amqp_socket_t *sock, gpointer user_data)
{
  AmqpClient *c = user_data;
  gboolean cut = FALSE;

  g_mutex_lock (&c->lock);
  c->sock = sock;
  /* A wakeup that came before the socket was known. */
  cut = sock && c->woken;
  g_mutex_unlock (&c->lock);
  if (cut && amqp_socket_get_sockfd (sock) >= 0)
    shutdown (amqp_socket_get_sockfd (sock), SHUT_RDWR);
}

EdgefaasAmqpConn *
amqp_client_connect (AmqpClient *c, AmqpClientSetupFunc setup,
    gpointer user_data, GError **error)
{
  EdgefaasAmqpConnectHooks hooks = { hook_connect_tcp, hook_watch_socket, c };
  EdgefaasAmqpConn *conn = NULL;
  GError *err = NULL;
  gboolean woken;

  g_mutex_lock (&c->lock);
  woken = c->woken;
  c->connecting = !woken;
  g_mutex_unlock (&c->lock);
  if (woken) {
    set_interrupted (error);
    return NULL;
  }

  if (c->params.tls) {
    /* Cancellable reachability check; see the top of this file. */
    guint timeout =
        c->params.connect_timeout_ms ? c->params.connect_timeout_ms : 5000;
    gint fd = amqp_client_tcp_connect (
        c->params.host, c->params.port, timeout, c->wake_fd, &err);
    if (fd < 0)
      goto done;
    close (fd);
  }

  conn = edgefaas_amqp_conn_open_with_hooks (&c->params, &hooks, &err);
  if (conn && setup && !setup (conn, user_data, &err)) {
    g_mutex_lock (&c->lock);
    c->sock = NULL;
    g_mutex_unlock (&c->lock);
    edgefaas_amqp_conn_close (conn);
    conn = NULL;
  }

done:
  g_mutex_lock (&c->lock);
  c->sock = NULL;
  c->connecting = FALSE;
  woken = c->woken;
  g_mutex_unlock (&c->lock);
  if (conn == NULL) {
    if (woken) {
      GST_DEBUG ("connect interrupted (%s)", err ? err->message : "");
      g_clear_error (&err);
      set_interrupted (&err);
    }
    g_propagate_error (error, err);
  }
  return conn;
}

/* -------------------------------------------------------------- policy ---- */

static gboolean
is_interrupted (const GError *e)
{
  return e->domain == EDGEFAAS_AMQP_ERROR
      && e->code == EDGEFAAS_AMQP_ERROR_TIMEOUT
      && strstr (e->message, "interrupted") != NULL;
}

gboolean
amqp_client_error_is_fatal (AmqpClient *c, const GError *e)
{
  if (c->ever_connected || is_interrupted (e))
    return FALSE;
  if (e->domain != EDGEFAAS_AMQP_ERROR)
    return TRUE;
  return e->code != EDGEFAAS_AMQP_ERROR_CONNECT
      && e->code != EDGEFAAS_AMQP_ERROR_TIMEOUT;
}

void
amqp_client_post_error (AmqpClient *c, const GError *e, const gchar *what)
{
  GstResourceError open_code = c->direction == GST_RESOURCE_ERROR_READ
      ? GST_RESOURCE_ERROR_OPEN_READ
      : GST_RESOURCE_ERROR_OPEN_WRITE;
  gboolean auth =
      e->domain == EDGEFAAS_AMQP_ERROR && e->code == EDGEFAAS_AMQP_ERROR_AUTH;
  gboolean tls =
      e->domain == EDGEFAAS_AMQP_ERROR && e->code == EDGEFAAS_AMQP_ERROR_TLS;
  gchar *text, *debug;

  if (auth)
    text = g_strdup_printf ("The AMQP broker refused the login%s%s",
        what ? " " : "", what ? what : "");
  else if (tls)
    text = g_strdup (
        "TLS connection to the AMQP broker failed (check tls-ca / tls-verify, "
        "the certificate or the CA)");
  else
    text = g_strdup_printf ("Could not set up the AMQP connection%s%s",
        what ? " " : "", what ? what : "");
  debug = g_strdup_printf ("%s: %s", c->redacted_url, e->message);
  gst_element_message_full (c->owner, GST_MESSAGE_ERROR, GST_RESOURCE_ERROR,
      auth ? GST_RESOURCE_ERROR_NOT_AUTHORIZED : (gint) open_code, text, debug,
      __FILE__, GST_FUNCTION, __LINE__);
}

guint
amqp_client_connect_failed (AmqpClient *c, const GError *e, gboolean *warn)
{
  guint delay = c->backoff_ms;

  c->failed_attempts++;
  *warn = c->failed_attempts == 1
      || c->failed_attempts % AMQP_CLIENT_WARN_EVERY == 0;
  GST_INFO_OBJECT (c->owner, "connect attempt %u failed (next in %u ms): %s",
      c->failed_attempts, delay, e->message);
  c->backoff_ms = edgefaas_amqp_backoff_next (c->backoff_ms);
  return delay;
}

gboolean
amqp_client_connected (AmqpClient *c)
{
  gboolean again = c->ever_connected;

  c->ever_connected = TRUE;
  c->failed_attempts = 0;
  c->backoff_ms = EDGEFAAS_AMQP_BACKOFF_MIN_MS;
  GST_INFO_OBJECT (c->owner, "connected to %s", c->redacted_url);
  return again;
}

void
amqp_client_connection_lost (AmqpClient *c)
{
  c->failed_attempts = 0;
  c->backoff_ms = EDGEFAAS_AMQP_BACKOFF_MIN_MS;
}

gboolean
amqp_client_ever_connected (AmqpClient *c)
{
  return c->ever_connected;
}

guint
amqp_client_failed_attempts (AmqpClient *c)
{
  return c->failed_attempts;
}
