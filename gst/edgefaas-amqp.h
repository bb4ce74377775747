/* edgefaas: AMQP 0-9-1 connection helpers shared by amqpsink and amqpsrc
 * (librabbitmq 0.11). One connection per thread: rabbitmq-c is not thread-safe.
 *
 * Credentials: the URL carries at most a user name. A password inside the URL is
 * refused (it would show up in pipeline strings and logs); it comes from the
 * environment variable named by password_env (default EDGEFAAS_AMQP_PASSWORD)
 * or from a credentials file (first line = password). Logs only ever see
 * edgefaas_amqp_params_redacted_url().
 *
 * Topology (declare=true): a durable exchange, a durable queue bound to it with
 * the routing key, and for dead-lettering an exchange "<queue>.dlx" (fanout) with
 * a durable queue "<queue>.dead"; the work queue gets x-dead-letter-exchange.
 */
#pragma once

#include <glib.h>
#include <gst/gst.h>
#include <amqp.h>
#include "edgefaas-prelude.h"

G_BEGIN_DECLS

#define EDGEFAAS_AMQP_DEFAULT_PASSWORD_ENV "EDGEFAAS_AMQP_PASSWORD"

#define EDGEFAAS_AMQP_ERROR (edgefaas_amqp_error_quark ())
typedef enum {
  EDGEFAAS_AMQP_ERROR_URL,          /* bad URL, or password in URL */
  EDGEFAAS_AMQP_ERROR_CREDENTIALS,  /* credentials file unreadable, env missing */
  EDGEFAAS_AMQP_ERROR_CONNECT,      /* TCP/TLS connect failed (retryable) */
  EDGEFAAS_AMQP_ERROR_TLS,          /* TLS setup or verification failed */
  EDGEFAAS_AMQP_ERROR_AUTH,         /* login refused */
  EDGEFAAS_AMQP_ERROR_PROTOCOL,     /* channel/connection closed by broker, RPC failure */
  EDGEFAAS_AMQP_ERROR_TIMEOUT,
} EdgefaasAmqpError;
EDGEFAAS_API GQuark edgefaas_amqp_error_quark (void);

typedef struct {
  gchar *host;
  guint port;
  gchar *vhost;
  gchar *user;
  gchar *password;       /* secret: never log */
  gboolean tls;          /* amqps:// */
  gchar *tls_ca, *tls_cert, *tls_key;
  gboolean tls_verify;
  guint heartbeat_s;     /* 0 = library default of 30 s is applied by the parser */
  guint connect_timeout_ms;
  gchar *queue_type;     /* "classic" (default) or "quorum" for declared queues */
} EdgefaasAmqpParams;

/* Parse amqp[s]://user@host:port/vhost?heartbeat=N. */
EDGEFAAS_API gboolean edgefaas_amqp_params_parse_url (EdgefaasAmqpParams * params,
    const gchar * url, GError ** error);
/* Fill params->password from @credentials_file if set, else from env @password_env
 * (NULL = EDGEFAAS_AMQP_DEFAULT_PASSWORD_ENV), else "guest" only if the user is "guest". */
EDGEFAAS_API gboolean edgefaas_amqp_params_load_password (EdgefaasAmqpParams * params,
    const gchar * credentials_file, const gchar * password_env, GError ** error);
EDGEFAAS_API gchar *edgefaas_amqp_params_redacted_url (const EdgefaasAmqpParams * params);
EDGEFAAS_API void edgefaas_amqp_params_copy (EdgefaasAmqpParams * dest,
    const EdgefaasAmqpParams * src);
EDGEFAAS_API void edgefaas_amqp_params_clear (EdgefaasAmqpParams * params);

/* The connection properties amqpsink and amqpsrc share (one implementation,
 * like gstsrtobject.c for srtsrc/srtsink): url, password-env,
 * credentials-file, tls-ca, tls-cert, tls-key, tls-verify. The element keeps
 * one of these in its settings (under GST_OBJECT_LOCK), installs the
 * properties from @first_prop_id on, forwards set/get_property, and in
 * start() turns its copy into EdgefaasAmqpParams with _to_params(). */
#define EDGEFAAS_AMQP_SETTINGS_N_PROPS 7

typedef struct {
  gchar *url;                   /* never holds a password: such a URL is refused */
  gboolean url_has_password;    /* the last url set had one (start() must fail) */
  gchar *password_env;
  gchar *credentials_file;
  gchar *tls_ca, *tls_cert, *tls_key;
  gboolean tls_verify;
} EdgefaasAmqpSettings;

/* Defaults: no url, password-env EDGEFAAS_AMQP_DEFAULT_PASSWORD_ENV, no
 * credentials file, no TLS files, tls-verify TRUE. */
EDGEFAAS_API void edgefaas_amqp_settings_init (EdgefaasAmqpSettings * settings);
EDGEFAAS_API void edgefaas_amqp_settings_copy (EdgefaasAmqpSettings * dest,
    const EdgefaasAmqpSettings * src);
EDGEFAAS_API void edgefaas_amqp_settings_clear (EdgefaasAmqpSettings * settings);
/* Installs the 7 properties with ids first_prop_id .. first_prop_id + 6
 * (GST_PARAM_MUTABLE_READY); returns the next free id. */
EDGEFAAS_API guint edgefaas_amqp_settings_install_properties (GObjectClass * klass,
    guint first_prop_id);
/* TRUE when @prop_id is one of ours (handled); the caller holds the object lock.
 * A url with a password is not stored: url becomes NULL, url_has_password TRUE. */
EDGEFAAS_API gboolean edgefaas_amqp_settings_set_property (EdgefaasAmqpSettings * settings,
    GObject * object, guint first_prop_id, guint prop_id, const GValue * value);
EDGEFAAS_API gboolean edgefaas_amqp_settings_get_property (const EdgefaasAmqpSettings * settings,
    guint first_prop_id, guint prop_id, GValue * value);
/* Parse the url, take the TLS files, load the password. On failure @error is
 * EDGEFAAS_AMQP_ERROR_URL or _CREDENTIALS (no secret in its text); @params may
 * then be partly filled (host and user once the url parsed) and must be cleared. */
EDGEFAAS_API gboolean edgefaas_amqp_settings_to_params (const EdgefaasAmqpSettings * settings,
    EdgefaasAmqpParams * params, GError ** error);
/* Post the GST_ELEMENT_ERROR for a failed _to_params(): RESOURCE/SETTINGS for
 * the url, RESOURCE/NOT_AUTHORIZED for the password (with the redacted url). */
EDGEFAAS_API void edgefaas_amqp_settings_post_error (GstElement * element,
    const EdgefaasAmqpSettings * settings, const EdgefaasAmqpParams * params,
    const GError * error);

typedef struct _EdgefaasAmqpConn EdgefaasAmqpConn;

/* Connect (TCP or TLS), log in, open channel 1. Bounded by connect_timeout_ms. */
EDGEFAAS_API EdgefaasAmqpConn *edgefaas_amqp_conn_open (const EdgefaasAmqpParams * params,
    GError ** error);
EDGEFAAS_API amqp_connection_state_t edgefaas_amqp_conn_get_state (EdgefaasAmqpConn * conn);
EDGEFAAS_API amqp_channel_t edgefaas_amqp_conn_get_channel (EdgefaasAmqpConn * conn);
/* Hooks that make a connect interruptible (plugins/amqp/amqpclient.c uses
 * them; NULL members = library defaults). connect_tcp opens the TCP
 * connection for amqp:// itself (a non-blocking fd, already connected, or -1
 * with @error set) so it can poll it together with a wake fd; watch_socket is
 * told the library socket as soon as it exists (before the TLS handshake and
 * login) and NULL before it is destroyed on failure, so another thread can
 * shutdown() its fd to end a handshake that blocks. */
typedef struct {
  gint (*connect_tcp) (const gchar * host, guint port, guint timeout_ms,
      gpointer user_data, GError ** error);
  void (*watch_socket) (amqp_socket_t * sock, gpointer user_data);
  gpointer user_data;
} EdgefaasAmqpConnectHooks;
EDGEFAAS_API EdgefaasAmqpConn *edgefaas_amqp_conn_open_with_hooks (const EdgefaasAmqpParams * params,
    const EdgefaasAmqpConnectHooks * hooks, GError ** error);
/* Close channel and connection politely (bounded), then free. NULL-safe. */
EDGEFAAS_API void edgefaas_amqp_conn_close (EdgefaasAmqpConn * conn);

/* Declare the topology described above. @exchange may be "" (default exchange:
 * then only the queues are declared). */
EDGEFAAS_API gboolean edgefaas_amqp_declare_topology (EdgefaasAmqpConn * conn,
    const gchar * exchange, const gchar * exchange_type, const gchar * queue,
    const gchar * routing_key, const gchar * queue_type, GError ** error);

/* A channel.close or connection.close method frame from the broker: send the
 * close-ok it asks for, set *why ("the broker closed the channel: 406
 * PRECONDITION_FAILED - ...") and return TRUE. Any other frame: FALSE, nothing
 * sent. The caller must then drop the connection. */
EDGEFAAS_API gboolean edgefaas_amqp_answer_close (amqp_connection_state_t state,
    const amqp_frame_t * frame, gchar ** why);

/* Reconnect backoff shared by the elements: the first retry after
 * EDGEFAAS_AMQP_BACKOFF_MIN_MS, doubling up to EDGEFAAS_AMQP_BACKOFF_MAX_MS. */
#define EDGEFAAS_AMQP_BACKOFF_MIN_MS 100
#define EDGEFAAS_AMQP_BACKOFF_MAX_MS 5000
static inline guint
edgefaas_amqp_backoff_next (guint backoff_ms)
{
  return MIN (backoff_ms * 2, EDGEFAAS_AMQP_BACKOFF_MAX_MS);
}

/* Turn an rpc reply into a GError naming @what; returns TRUE on success. */
EDGEFAAS_API gboolean edgefaas_amqp_check_reply (amqp_rpc_reply_t reply, const gchar * what,
    GError ** error);

G_END_DECLS
