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

typedef struct _EdgefaasAmqpConn EdgefaasAmqpConn;

/* Connect (TCP or TLS), log in, open channel 1. Bounded by connect_timeout_ms. */
EDGEFAAS_API EdgefaasAmqpConn *edgefaas_amqp_conn_open (const EdgefaasAmqpParams * params,
    GError ** error);
EDGEFAAS_API amqp_connection_state_t edgefaas_amqp_conn_get_state (EdgefaasAmqpConn * conn);
EDGEFAAS_API amqp_channel_t edgefaas_amqp_conn_get_channel (EdgefaasAmqpConn * conn);
/* Close channel and connection politely (bounded), then free. NULL-safe. */
EDGEFAAS_API void edgefaas_amqp_conn_close (EdgefaasAmqpConn * conn);

/* Declare the topology described above. @exchange may be "" (default exchange:
 * then only the queues are declared). */
EDGEFAAS_API gboolean edgefaas_amqp_declare_topology (EdgefaasAmqpConn * conn,
    const gchar * exchange, const gchar * exchange_type, const gchar * queue,
    const gchar * routing_key, const gchar * queue_type, GError ** error);

/* Turn an rpc reply into a GError naming @what; returns TRUE on success. */
EDGEFAAS_API gboolean edgefaas_amqp_check_reply (amqp_rpc_reply_t reply, const gchar * what,
    GError ** error);

G_END_DECLS
