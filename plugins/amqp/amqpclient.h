/* edgefaas: the AMQP client shared by amqpsink and amqpsrc (like
 * GstSRTObject for srtsrc/srtsink): connect (interruptible), the reconnect
 * backoff, one warning-throttling policy, one fatal-vs-transient rule and one
 * GST_ELEMENT_ERROR mapping. Not a GObject: the element owns one per start().
 *
 * Threads: the thread that connects owns the connection (rabbitmq-c is not
 * thread-safe). amqp_client_wakeup() and amqp_client_reset() may be called
 * from any thread (unlock, unlock_stop, stop). */
#pragma once

#include <gst/gst.h>
#include "edgefaas-amqp.h"

G_BEGIN_DECLS

typedef struct _AmqpClient AmqpClient;

/* Runs on the connecting thread right after login (declare, qos, consume,
 * confirm.select...), while a wakeup can still cut the socket. */
typedef gboolean (*AmqpClientSetupFunc) (
    EdgefaasAmqpConn *conn, gpointer user_data, GError **error);

/* @params is copied. @direction is GST_RESOURCE_ERROR_READ for a source,
 * _WRITE for a sink (the warnings' and errors' codes). */
AmqpClient *amqp_client_new (GstElement *owner,
    const EdgefaasAmqpParams *params, GstResourceError direction);
void amqp_client_free (AmqpClient *client);

const gchar *amqp_client_redacted_url (AmqpClient *client);
const EdgefaasAmqpParams *amqp_client_params (AmqpClient *client);

/* Connect, log in, open a channel, run @setup. Interruptible: a wakeup()
 * during the TCP connect, the TLS handshake, the login or @setup ends it at
 * once with EDGEFAAS_AMQP_ERROR_TIMEOUT "interrupted" (amqp_client_woken()
 * is then TRUE). Returns NULL with @error on failure. */
EdgefaasAmqpConn *amqp_client_connect (AmqpClient *client,
    AmqpClientSetupFunc setup, gpointer user_data, GError **error);

/* Any thread: interrupt a connect in progress and make the wake fd readable
 * (the owner polls it with its socket). Sticky until reset(). */
void amqp_client_wakeup (AmqpClient *client);
/* Any thread: clear the wakeup (unlock_stop). */
void amqp_client_reset (AmqpClient *client);
gboolean amqp_client_woken (AmqpClient *client);
/* Readable while woken (an eventfd). */
gint amqp_client_wake_fd (AmqpClient *client);

/* The one rule: errors that retrying cannot fix (URL, credentials, login
 * refused, TLS verification, a broker refusing our declare/consume) are fatal
 * until the first successful connection; after it every failure is
 * transient (the broker may be restarting with a different state). A
 * connect interrupted by wakeup() is never fatal. */
gboolean amqp_client_error_is_fatal (AmqpClient *client, const GError *error);

/* Post the GST_ELEMENT_ERROR for @error: RESOURCE/NOT_AUTHORIZED for a
 * refused login, OPEN_READ/OPEN_WRITE (per direction) for TLS and
 * everything else; the text says what, the debug names the redacted url.
 * Never a password: messages only see the redacted url and GErrors of
 * edgefaas-amqp.c, which never carry one. */
void amqp_client_post_error (
    AmqpClient *client, const GError *error, const gchar *what);

/* Reconnect bookkeeping, on the connecting thread. After a failed attempt:
 * counts it, sets *@warn per the one throttling policy and returns the delay
 * before the next attempt (100 ms doubling to 5 s). Policy (both elements):
 * warn on the first failure of an outage, then on every WARN_EVERY-th
 * attempt (~ every 100 s at the 5 s ceiling), naming the attempt number
 * (amqp_client_failed_attempts()); other attempts go to the debug log. The
 * element posts the warning: its text says what it could not do. */
#define AMQP_CLIENT_WARN_EVERY 20
guint amqp_client_connect_failed (
    AmqpClient *client, const GError *error, gboolean *warn);
/* After a successful connect: resets the backoff and outage; returns TRUE
 * when it was a reconnect (a connection existed before), and then posts the
 * "Reconnected" info message. */
gboolean amqp_client_connected (AmqpClient *client);
/* The connection was lost: the next attempt comes at once. */
void amqp_client_connection_lost (AmqpClient *client);
gboolean amqp_client_ever_connected (AmqpClient *client);
guint amqp_client_failed_attempts (AmqpClient *client);

/* A cancellable non-blocking TCP connect to @host:@port polled together with
 * @wake_fd; returns the connected non-blocking fd or -1 with @error. Exposed
 * for the unit test. */
gint amqp_client_tcp_connect (const gchar *host, guint port, guint timeout_ms,
    gint wake_fd, GError **error);

G_END_DECLS
