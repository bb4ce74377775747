/* edgefaas: AMQP 0-9-1 connection helpers (see edgefaas-amqp.h).
 *
 * Everything here runs on the caller's thread with bounded waits: the socket is
 * opened with amqp_socket_open_noblock (connect timeout), and the handshake and
 * every synchronous RPC are bounded by amqp_set_handshake_timeout /
 * amqp_set_rpc_timeout, so a broker that stops answering never hangs a thread.
 *
 * The password is only ever stored in EdgefaasAmqpParams.password and passed to
 * amqp_login_with_properties(); no message built here contains it.
 */
#include "edgefaas-amqp.h"

#include <errno.h>
#include <string.h>
#include <sys/time.h>
#include <amqp_tcp_socket.h>
#include <amqp_ssl_socket.h>

#define DEFAULT_HEARTBEAT_S 30
#define DEFAULT_CONNECT_TIMEOUT_MS 5000
/* Upper bound for any synchronous RPC (declare, channel.open, close). */
#define RPC_TIMEOUT_MS 5000
#define CLOSE_TIMEOUT_MS 1000

G_DEFINE_QUARK (edgefaas-amqp-error-quark, edgefaas_amqp_error);

struct _EdgefaasAmqpConn
{
  amqp_connection_state_t state;
  amqp_channel_t channel;
  gboolean open;
};

/* ---------------------------------------------------------------- URL ---- */

static gboolean
parse_uint (const gchar * s, guint max, guint * out)
{
  guint64 v;
  gchar *end = NULL;

  if (s == NULL || *s == '\0' || !g_ascii_isdigit (*s))
    return FALSE;
  errno = 0;
  v = g_ascii_strtoull (s, &end, 10);
  if (errno != 0 || *end != '\0' || v > max)
    return FALSE;
  *out = (guint) v;
  return TRUE;
}

/* "scheme://user:password@host...": a ':' in the user info of the authority. */
static gboolean
url_has_password (const gchar * url)
{
  const gchar *authority, *end, *at;

  if (url == NULL || (authority = strstr (url, "://")) == NULL)
    return FALSE;
  authority += 3;
  end = authority + strcspn (authority, "/?#");
  at = g_strstr_len (authority, end - authority, "@");
  return at != NULL && memchr (authority, ':', at - authority) != NULL;
}

static void
set_password_in_url_error (GError ** error)
{
  g_set_error (error, EDGEFAAS_AMQP_ERROR, EDGEFAAS_AMQP_ERROR_URL,
      "the AMQP URL must not contain a password: give it in the environment "
      "variable (password-env, default " EDGEFAAS_AMQP_DEFAULT_PASSWORD_ENV
      ") or in a credentials-file");
}

gboolean
edgefaas_amqp_params_parse_url (EdgefaasAmqpParams * params, const gchar * url, GError ** error)
{
  g_autoptr (GUri) uri = NULL;
  g_autoptr (GError) uri_err = NULL;
  const gchar *scheme, *path, *query;
  gint port;

  g_return_val_if_fail (params != NULL, FALSE);

  edgefaas_amqp_params_clear (params);
  params->tls_verify = TRUE;
  params->heartbeat_s = DEFAULT_HEARTBEAT_S;
  params->connect_timeout_ms = DEFAULT_CONNECT_TIMEOUT_MS;
  params->queue_type = g_strdup ("classic");

  if (url == NULL || *url == '\0') {
    g_set_error (error, EDGEFAAS_AMQP_ERROR, EDGEFAAS_AMQP_ERROR_URL,
        "no AMQP URL given (expected amqp://user@host:port/vhost)");
    return FALSE;
  }

  /* Refuse a password before handing the string to anything that might echo
   * it back in an error message. */
  if (url_has_password (url)) {
    set_password_in_url_error (error);
    return FALSE;
  }

  uri = g_uri_parse (url, G_URI_FLAGS_HAS_PASSWORD | G_URI_FLAGS_ENCODED_PATH
      | G_URI_FLAGS_ENCODED_QUERY, &uri_err);
  if (uri == NULL) {
    g_set_error (error, EDGEFAAS_AMQP_ERROR, EDGEFAAS_AMQP_ERROR_URL,
        "invalid AMQP URL: %s", uri_err->message);
    return FALSE;
  }

  scheme = g_uri_get_scheme (uri);
  if (g_ascii_strcasecmp (scheme, "amqp") == 0) {
    params->tls = FALSE;
  } else if (g_ascii_strcasecmp (scheme, "amqps") == 0) {
    params->tls = TRUE;
  } else {
    g_set_error (error, EDGEFAAS_AMQP_ERROR, EDGEFAAS_AMQP_ERROR_URL,
        "unsupported URL scheme '%s' (expected amqp:// or amqps://)", scheme);
    return FALSE;
  }

  if (g_uri_get_password (uri) != NULL) {
    g_set_error (error, EDGEFAAS_AMQP_ERROR, EDGEFAAS_AMQP_ERROR_URL,
        "the AMQP URL must not contain a password");
    return FALSE;
  }

  params->host = g_strdup (g_uri_get_host (uri) && *g_uri_get_host (uri)
      ? g_uri_get_host (uri) : "localhost");
  port = g_uri_get_port (uri);
  params->port = port > 0 ? (guint) port : (params->tls ? 5671 : 5672);
  params->user = g_strdup (g_uri_get_user (uri) && *g_uri_get_user (uri)
      ? g_uri_get_user (uri) : "guest");

  /* vhost: "" or "/" → "/"; "/name" → "name" (percent-decoded, "%2f" → "/"). */
  path = g_uri_get_path (uri);
  if (path == NULL || path[0] == '\0' || strcmp (path, "/") == 0) {
    params->vhost = g_strdup ("/");
  } else {
    g_autofree gchar *decoded = g_uri_unescape_string (path + 1, NULL);
    if (decoded == NULL || *decoded == '\0') {
      g_set_error (error, EDGEFAAS_AMQP_ERROR, EDGEFAAS_AMQP_ERROR_URL,
          "invalid vhost in AMQP URL path '%s'", path);
      return FALSE;
    }
    params->vhost = g_steal_pointer (&decoded);
  }

  query = g_uri_get_query (uri);
  if (query && *query) {
    g_autoptr (GHashTable) q = g_uri_parse_params (query, -1, "&;",
        G_URI_PARAMS_NONE, &uri_err);
    GHashTableIter it;
    gpointer k, v;

    if (q == NULL) {
      g_set_error (error, EDGEFAAS_AMQP_ERROR, EDGEFAAS_AMQP_ERROR_URL,
          "invalid AMQP URL query: %s", uri_err->message);
      return FALSE;
    }
    g_hash_table_iter_init (&it, q);
    while (g_hash_table_iter_next (&it, &k, &v)) {
      guint n;
      if (strcmp (k, "heartbeat") == 0) {
        if (!parse_uint (v, 3600, &n)) {
          g_set_error (error, EDGEFAAS_AMQP_ERROR, EDGEFAAS_AMQP_ERROR_URL,
              "URL parameter heartbeat='%s' is not a number of seconds in [0,3600]",
              (const gchar *) v);
          return FALSE;
        }
        params->heartbeat_s = n;
      } else if (strcmp (k, "connection_timeout") == 0
          || strcmp (k, "connect_timeout") == 0) {
        if (!parse_uint (v, 600000, &n) || n == 0) {
          g_set_error (error, EDGEFAAS_AMQP_ERROR, EDGEFAAS_AMQP_ERROR_URL,
              "URL parameter %s='%s' is not a number of milliseconds in [1,600000]",
              (const gchar *) k, (const gchar *) v);
          return FALSE;
        }
        params->connect_timeout_ms = n;
      } else if (strcmp (k, "queue_type") == 0 || strcmp (k, "x-queue-type") == 0) {
        if (strcmp (v, "classic") != 0 && strcmp (v, "quorum") != 0) {
          g_set_error (error, EDGEFAAS_AMQP_ERROR, EDGEFAAS_AMQP_ERROR_URL,
              "URL parameter queue_type='%s' must be classic or quorum", (const gchar *) v);
          return FALSE;
        }
        g_free (params->queue_type);
        params->queue_type = g_strdup (v);
      } else {
        g_set_error (error, EDGEFAAS_AMQP_ERROR, EDGEFAAS_AMQP_ERROR_URL,
            "unknown AMQP URL parameter '%s' (known: heartbeat, connection_timeout, "
            "queue_type)", (const gchar *) k);
        return FALSE;
      }
    }
  }
  return TRUE;
}

gboolean
edgefaas_amqp_params_load_password (EdgefaasAmqpParams * params, const gchar * credentials_file,
    const gchar * password_env, GError ** error)
{
  g_return_val_if_fail (params != NULL, FALSE);

  if (params->password) {
    memset (params->password, 0, strlen (params->password));
    g_clear_pointer (&params->password, g_free);
  }

  if (credentials_file && *credentials_file) {
    g_autofree gchar *contents = NULL;
    gsize len = 0;
    g_autoptr (GError) ferr = NULL;
    gchar *nl;

    if (!g_file_get_contents (credentials_file, &contents, &len, &ferr)) {
      g_set_error (error, EDGEFAAS_AMQP_ERROR, EDGEFAAS_AMQP_ERROR_CREDENTIALS,
          "cannot read credentials file: %s", ferr->message);
      return FALSE;
    }
    nl = strpbrk (contents, "\r\n");
    if (nl)
      *nl = '\0';
    if (contents[0] == '\0') {
      memset (contents, 0, len);
      g_set_error (error, EDGEFAAS_AMQP_ERROR, EDGEFAAS_AMQP_ERROR_CREDENTIALS,
          "credentials file '%s' is empty (its first line must be the password)",
          credentials_file);
      return FALSE;
    }
    params->password = g_strdup (contents);
    memset (contents, 0, len);
    return TRUE;
  }

  {
    const gchar *var = (password_env && *password_env) ? password_env :
        EDGEFAAS_AMQP_DEFAULT_PASSWORD_ENV;
    const gchar *val = g_getenv (var);

    if (val && *val) {
      params->password = g_strdup (val);
      return TRUE;
    }
    if (g_strcmp0 (params->user, "guest") == 0) {
      params->password = g_strdup ("guest");
      return TRUE;
    }
    g_set_error (error, EDGEFAAS_AMQP_ERROR, EDGEFAAS_AMQP_ERROR_CREDENTIALS,
        "no password for AMQP user '%s': set the environment variable %s or a "
        "credentials-file", params->user ? params->user : "", var);
    return FALSE;
  }
}

gchar *
edgefaas_amqp_params_redacted_url (const EdgefaasAmqpParams * params)
{
  g_autofree gchar *vhost = NULL;
  g_autofree gchar *user = NULL;
  gboolean ipv6;

  g_return_val_if_fail (params != NULL, NULL);

  if (params->host == NULL)
    return g_strdup ("(no url)");

  vhost = (params->vhost == NULL || strcmp (params->vhost, "/") == 0) ? g_strdup ("") :
      g_uri_escape_string (params->vhost, NULL, FALSE);
  user = g_uri_escape_string (params->user ? params->user : "guest",
      G_URI_RESERVED_CHARS_SUBCOMPONENT_DELIMITERS, FALSE);
  ipv6 = strchr (params->host, ':') != NULL;
  /* Never the password: not even a placeholder that could be mistaken for it. */
  return g_strdup_printf ("%s://%s@%s%s%s:%u/%s?heartbeat=%u",
      params->tls ? "amqps" : "amqp", user, ipv6 ? "[" : "", params->host,
      ipv6 ? "]" : "", params->port, vhost, params->heartbeat_s);
}

void
edgefaas_amqp_params_copy (EdgefaasAmqpParams * dest, const EdgefaasAmqpParams * src)
{
  g_return_if_fail (dest != NULL && src != NULL);
  if (dest == src)
    return;
  edgefaas_amqp_params_clear (dest);
  *dest = *src;
  dest->host = g_strdup (src->host);
  dest->vhost = g_strdup (src->vhost);
  dest->user = g_strdup (src->user);
  dest->password = g_strdup (src->password);
  dest->tls_ca = g_strdup (src->tls_ca);
  dest->tls_cert = g_strdup (src->tls_cert);
  dest->tls_key = g_strdup (src->tls_key);
  dest->queue_type = g_strdup (src->queue_type);
}

void
edgefaas_amqp_params_clear (EdgefaasAmqpParams * params)
{
  if (params == NULL)
    return;
  g_free (params->host);
  g_free (params->vhost);
  g_free (params->user);
  if (params->password) {
    memset (params->password, 0, strlen (params->password));
    g_free (params->password);
  }
  g_free (params->tls_ca);
  g_free (params->tls_cert);
  g_free (params->tls_key);
  g_free (params->queue_type);
  memset (params, 0, sizeof (*params));
}

/* ----------------------------------------------------------- settings ---- */

enum
{
  SETTING_URL,
  SETTING_PASSWORD_ENV,
  SETTING_CREDENTIALS_FILE,
  SETTING_TLS_CA,
  SETTING_TLS_CERT,
  SETTING_TLS_KEY,
  SETTING_TLS_VERIFY,
  SETTING_COUNT
};
G_STATIC_ASSERT (SETTING_COUNT == EDGEFAAS_AMQP_SETTINGS_N_PROPS);

#define DEFAULT_TLS_VERIFY TRUE

void
edgefaas_amqp_settings_init (EdgefaasAmqpSettings * settings)
{
  g_return_if_fail (settings != NULL);
  memset (settings, 0, sizeof (*settings));
  settings->password_env = g_strdup (EDGEFAAS_AMQP_DEFAULT_PASSWORD_ENV);
  settings->tls_verify = DEFAULT_TLS_VERIFY;
}

void
edgefaas_amqp_settings_copy (EdgefaasAmqpSettings * dest, const EdgefaasAmqpSettings * src)
{
  g_return_if_fail (dest != NULL && src != NULL);
  if (dest == src)
    return;
  edgefaas_amqp_settings_clear (dest);
  *dest = *src;
  dest->url = g_strdup (src->url);
  dest->password_env = g_strdup (src->password_env);
  dest->credentials_file = g_strdup (src->credentials_file);
  dest->tls_ca = g_strdup (src->tls_ca);
  dest->tls_cert = g_strdup (src->tls_cert);
  dest->tls_key = g_strdup (src->tls_key);
}

void
edgefaas_amqp_settings_clear (EdgefaasAmqpSettings * settings)
{
  if (settings == NULL)
    return;
  g_free (settings->url);
  g_free (settings->password_env);
  g_free (settings->credentials_file);
  g_free (settings->tls_ca);
  g_free (settings->tls_cert);
  g_free (settings->tls_key);
  memset (settings, 0, sizeof (*settings));
}

guint
edgefaas_amqp_settings_install_properties (GObjectClass * klass, guint first_prop_id)
{
  const GParamFlags rw = G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_READY;

  /**
   * GstAmqpSink:url / GstAmqpSrc:url:
   *
   * Broker URL `amqp[s]://user@host:port/vhost?heartbeat=N` (also
   * `connection_timeout=MS`, `queue_type=classic|quorum`). A password in the
   * URL is refused (the URL is not kept, start() fails): it comes from
   * `password-env` or `credentials-file`.
   */
  g_object_class_install_property (klass, first_prop_id + SETTING_URL,
      g_param_spec_string ("url", "URL",
          "Broker URL amqp[s]://user@host:port/vhost?heartbeat=N (no password: it comes "
          "from password-env or credentials-file)", NULL, rw));
  /**
   * GstAmqpSink:password-env / GstAmqpSrc:password-env:
   *
   * Name of the environment variable that holds the password (unset or empty =
   * EDGEFAAS_AMQP_PASSWORD). Without it, user `guest` gets password `guest`.
   */
  g_object_class_install_property (klass, first_prop_id + SETTING_PASSWORD_ENV,
      g_param_spec_string ("password-env", "Password environment variable",
          "Environment variable holding the broker password (used when credentials-file "
          "is not set)", EDGEFAAS_AMQP_DEFAULT_PASSWORD_ENV, rw));
  /**
   * GstAmqpSink:credentials-file / GstAmqpSrc:credentials-file:
   *
   * A file whose first line is the password (e.g. a mounted Kubernetes
   * Secret); takes precedence over the environment.
   */
  g_object_class_install_property (klass, first_prop_id + SETTING_CREDENTIALS_FILE,
      g_param_spec_string ("credentials-file", "Credentials file",
          "File whose first line is the broker password (takes precedence over password-env)",
          NULL, rw));
  /**
   * GstAmqpSink:tls-ca / GstAmqpSrc:tls-ca:
   *
   * PEM file of the CA that signed the broker's certificate (amqps://); needed
   * for a private CA.
   */
  g_object_class_install_property (klass, first_prop_id + SETTING_TLS_CA,
      g_param_spec_string ("tls-ca", "TLS CA", "PEM file of the CA that signed the broker's "
          "certificate (amqps://)", NULL, rw));
  /**
   * GstAmqpSink:tls-cert / GstAmqpSrc:tls-cert:
   *
   * PEM client certificate (with `tls-key`) for mutual TLS.
   */
  g_object_class_install_property (klass, first_prop_id + SETTING_TLS_CERT,
      g_param_spec_string ("tls-cert", "TLS client certificate",
          "PEM client certificate for mutual TLS (needs tls-key)", NULL, rw));
  /**
   * GstAmqpSink:tls-key / GstAmqpSrc:tls-key:
   *
   * PEM private key of `tls-cert`.
   */
  g_object_class_install_property (klass, first_prop_id + SETTING_TLS_KEY,
      g_param_spec_string ("tls-key", "TLS client key", "PEM client private key (with tls-cert)",
          NULL, rw));
  /**
   * GstAmqpSink:tls-verify / GstAmqpSrc:tls-verify:
   *
   * Verify the broker certificate and host name.
   */
  g_object_class_install_property (klass, first_prop_id + SETTING_TLS_VERIFY,
      g_param_spec_boolean ("tls-verify", "TLS verify",
          "Verify the broker's certificate and host name", DEFAULT_TLS_VERIFY, rw));
  return first_prop_id + SETTING_COUNT;
}

static void
set_string (gchar ** field, const GValue * value)
{
  g_free (*field);
  *field = g_value_dup_string (value);
}

gboolean
edgefaas_amqp_settings_set_property (EdgefaasAmqpSettings * settings, GObject * object,
    guint first_prop_id, guint prop_id, const GValue * value)
{
  if (prop_id < first_prop_id || prop_id >= first_prop_id + SETTING_COUNT)
    return FALSE;
  switch (prop_id - first_prop_id) {
    case SETTING_URL:{
      const gchar *url = g_value_get_string (value);
      g_free (settings->url);
      settings->url_has_password = url_has_password (url);
      /* Never keep (or later report) a password given in the URL. */
      settings->url = settings->url_has_password ? NULL : g_strdup (url);
      if (settings->url_has_password)
        GST_WARNING_OBJECT (object, "refusing an url with a password in it");
      break;
    }
    case SETTING_PASSWORD_ENV:
      set_string (&settings->password_env, value);
      break;
    case SETTING_CREDENTIALS_FILE:
      set_string (&settings->credentials_file, value);
      break;
    case SETTING_TLS_CA:
      set_string (&settings->tls_ca, value);
      break;
    case SETTING_TLS_CERT:
      set_string (&settings->tls_cert, value);
      break;
    case SETTING_TLS_KEY:
      set_string (&settings->tls_key, value);
      break;
    case SETTING_TLS_VERIFY:
      settings->tls_verify = g_value_get_boolean (value);
      break;
  }
  return TRUE;
}

gboolean
edgefaas_amqp_settings_get_property (const EdgefaasAmqpSettings * settings,
    guint first_prop_id, guint prop_id, GValue * value)
{
  if (prop_id < first_prop_id || prop_id >= first_prop_id + SETTING_COUNT)
    return FALSE;
  switch (prop_id - first_prop_id) {
    case SETTING_URL:
      g_value_set_string (value, settings->url);
      break;
    case SETTING_PASSWORD_ENV:
      g_value_set_string (value, settings->password_env);
      break;
    case SETTING_CREDENTIALS_FILE:
      g_value_set_string (value, settings->credentials_file);
      break;
    case SETTING_TLS_CA:
      g_value_set_string (value, settings->tls_ca);
      break;
    case SETTING_TLS_CERT:
      g_value_set_string (value, settings->tls_cert);
      break;
    case SETTING_TLS_KEY:
      g_value_set_string (value, settings->tls_key);
      break;
    case SETTING_TLS_VERIFY:
      g_value_set_boolean (value, settings->tls_verify);
      break;
  }
  return TRUE;
}

gboolean
edgefaas_amqp_settings_to_params (const EdgefaasAmqpSettings * settings,
    EdgefaasAmqpParams * params, GError ** error)
{
  g_return_val_if_fail (settings != NULL && params != NULL, FALSE);

  if (settings->url_has_password) {
    edgefaas_amqp_params_clear (params);
    set_password_in_url_error (error);
    return FALSE;
  }
  if (!edgefaas_amqp_params_parse_url (params, settings->url, error))
    return FALSE;
  g_free (params->tls_ca);
  g_free (params->tls_cert);
  g_free (params->tls_key);
  params->tls_ca = g_strdup (settings->tls_ca);
  params->tls_cert = g_strdup (settings->tls_cert);
  params->tls_key = g_strdup (settings->tls_key);
  params->tls_verify = settings->tls_verify;
  return edgefaas_amqp_params_load_password (params, settings->credentials_file,
      settings->password_env, error);
}

void
edgefaas_amqp_settings_post_error (GstElement * element, const EdgefaasAmqpSettings * settings,
    const EdgefaasAmqpParams * params, const GError * error)
{
  g_return_if_fail (GST_IS_ELEMENT (element) && settings != NULL && error != NULL);

  if (error->domain == EDGEFAAS_AMQP_ERROR && error->code == EDGEFAAS_AMQP_ERROR_CREDENTIALS) {
    gchar *url = params ? edgefaas_amqp_params_redacted_url (params) : g_strdup ("");
    GST_ELEMENT_ERROR (element, RESOURCE, NOT_AUTHORIZED,
        ("No password for the AMQP broker"), ("%s: %s", url, error->message));
    g_free (url);
  } else if (settings->url_has_password) {
    GST_ELEMENT_ERROR (element, RESOURCE, SETTINGS,
        ("The AMQP url must not contain a password"), ("%s", error->message));
  } else {
    GST_ELEMENT_ERROR (element, RESOURCE, SETTINGS, ("Invalid AMQP url"), ("%s",
            error->message));
  }
}

/* ------------------------------------------------------------ replies ---- */

gboolean
edgefaas_amqp_check_reply (amqp_rpc_reply_t reply, const gchar * what, GError ** error)
{
  switch (reply.reply_type) {
    case AMQP_RESPONSE_NORMAL:
      return TRUE;
    case AMQP_RESPONSE_NONE:
      g_set_error (error, EDGEFAAS_AMQP_ERROR, EDGEFAAS_AMQP_ERROR_PROTOCOL,
          "%s: no reply from the broker", what);
      return FALSE;
    case AMQP_RESPONSE_LIBRARY_EXCEPTION:{
      gint code = reply.library_error;
      gint domain = code == AMQP_STATUS_TIMEOUT ? EDGEFAAS_AMQP_ERROR_TIMEOUT :
          (code == AMQP_STATUS_SSL_ERROR || code == AMQP_STATUS_SSL_HOSTNAME_VERIFY_FAILED
          || code == AMQP_STATUS_SSL_PEER_VERIFY_FAILED
          || code == AMQP_STATUS_SSL_CONNECTION_FAILED) ? EDGEFAAS_AMQP_ERROR_TLS :
          (code == AMQP_STATUS_CONNECTION_CLOSED || code == AMQP_STATUS_SOCKET_ERROR
          || code == AMQP_STATUS_SOCKET_CLOSED || code == AMQP_STATUS_HEARTBEAT_TIMEOUT
          || code == AMQP_STATUS_TCP_ERROR) ? EDGEFAAS_AMQP_ERROR_CONNECT :
          EDGEFAAS_AMQP_ERROR_PROTOCOL;
      g_set_error (error, EDGEFAAS_AMQP_ERROR, domain, "%s: %s", what,
          amqp_error_string2 (code));
      return FALSE;
    }
    case AMQP_RESPONSE_SERVER_EXCEPTION:
      if (reply.reply.id == AMQP_CONNECTION_CLOSE_METHOD) {
        amqp_connection_close_t *m = reply.reply.decoded;
        gint domain = (m->reply_code == AMQP_ACCESS_REFUSED || m->reply_code == 530)
            ? EDGEFAAS_AMQP_ERROR_AUTH : EDGEFAAS_AMQP_ERROR_PROTOCOL;
        g_set_error (error, EDGEFAAS_AMQP_ERROR, domain,
            "%s: broker closed the connection: %u %.*s", what, m->reply_code,
            (int) m->reply_text.len, (const char *) m->reply_text.bytes);
      } else if (reply.reply.id == AMQP_CHANNEL_CLOSE_METHOD) {
        amqp_channel_close_t *m = reply.reply.decoded;
        g_set_error (error, EDGEFAAS_AMQP_ERROR,
            m->reply_code == AMQP_ACCESS_REFUSED ? EDGEFAAS_AMQP_ERROR_AUTH :
            EDGEFAAS_AMQP_ERROR_PROTOCOL,
            "%s: broker closed the channel: %u %.*s", what, m->reply_code,
            (int) m->reply_text.len, (const char *) m->reply_text.bytes);
      } else {
        g_set_error (error, EDGEFAAS_AMQP_ERROR, EDGEFAAS_AMQP_ERROR_PROTOCOL,
            "%s: unexpected server method 0x%08x", what, reply.reply.id);
      }
      return FALSE;
  }
  g_set_error (error, EDGEFAAS_AMQP_ERROR, EDGEFAAS_AMQP_ERROR_PROTOCOL,
      "%s: unknown reply type %d", what, reply.reply_type);
  return FALSE;
}

gboolean
edgefaas_amqp_answer_close (amqp_connection_state_t state, const amqp_frame_t * frame,
    gchar ** why)
{
  g_return_val_if_fail (frame != NULL && why != NULL, FALSE);

  if (frame->frame_type != AMQP_FRAME_METHOD)
    return FALSE;
  if (frame->payload.method.id == AMQP_CHANNEL_CLOSE_METHOD) {
    const amqp_channel_close_t *m = frame->payload.method.decoded;
    amqp_channel_close_ok_t ok = { 0 };
    *why = g_strdup_printf ("the broker closed the channel: %u %.*s", m->reply_code,
        (int) m->reply_text.len, (const char *) m->reply_text.bytes);
    amqp_send_method (state, frame->channel, AMQP_CHANNEL_CLOSE_OK_METHOD, &ok);
    return TRUE;
  }
  if (frame->payload.method.id == AMQP_CONNECTION_CLOSE_METHOD) {
    const amqp_connection_close_t *m = frame->payload.method.decoded;
    amqp_connection_close_ok_t ok = { 0 };
    *why = g_strdup_printf ("the broker closed the connection: %u %.*s", m->reply_code,
        (int) m->reply_text.len, (const char *) m->reply_text.bytes);
    amqp_send_method (state, 0, AMQP_CONNECTION_CLOSE_OK_METHOD, &ok);
    return TRUE;
  }
  return FALSE;
}

/* After a server exception the connection/channel must be answered with
 * close-ok; mark what is still usable. */
static void
handle_server_close (EdgefaasAmqpConn * conn, amqp_rpc_reply_t reply)
{
  if (reply.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION) {
    conn->open = FALSE;
  } else if (reply.reply_type == AMQP_RESPONSE_SERVER_EXCEPTION) {
    if (reply.reply.id == AMQP_CONNECTION_CLOSE_METHOD) {
      amqp_connection_close_ok_t ok = { 0 };
      amqp_send_method (conn->state, 0, AMQP_CONNECTION_CLOSE_OK_METHOD, &ok);
      conn->open = FALSE;
    } else if (reply.reply.id == AMQP_CHANNEL_CLOSE_METHOD) {
      amqp_channel_close_ok_t ok = { 0 };
      amqp_send_method (conn->state, conn->channel, AMQP_CHANNEL_CLOSE_OK_METHOD, &ok);
      /* Reopen the channel so the connection stays usable for the caller. */
      conn->channel++;
      amqp_channel_open (conn->state, conn->channel);
      if (amqp_get_rpc_reply (conn->state).reply_type != AMQP_RESPONSE_NORMAL)
        conn->open = FALSE;
    }
  }
}

/* --------------------------------------------------------- connection ---- */

static gpointer
init_ssl_once (gpointer data)
{
  /* rabbitmq-c initialises OpenSSL lazily with a global refcount; make it
   * happen once per process so concurrent connections never race on it. */
  amqp_initialize_ssl_library ();
  return NULL;
}

/* Log in advertising the client capabilities (client-properties
 * "capabilities" table). Without them RabbitMQ never sends basic.cancel when
 * a consumed queue is deleted (consumer_cancel_notify), nor
 * connection.blocked/unblocked on a resource alarm, nor basic.nack for a
 * refused publish; the broker only uses what the client says it understands. */
static amqp_rpc_reply_t
login_with_capabilities (amqp_connection_state_t state, const EdgefaasAmqpParams * params)
{
  static const gchar *const capabilities[] = {
    "consumer_cancel_notify", "connection.blocked", "publisher_confirms",
    "basic.nack", "authentication_failure_close",
  };
  amqp_table_entry_t caps[G_N_ELEMENTS (capabilities)];
  amqp_table_entry_t props[2];
  amqp_table_t client_properties = { G_N_ELEMENTS (props), props };
  guint i;

  for (i = 0; i < G_N_ELEMENTS (capabilities); i++) {
    caps[i].key = amqp_cstring_bytes (capabilities[i]);
    caps[i].value.kind = AMQP_FIELD_KIND_BOOLEAN;
    caps[i].value.value.boolean = 1;
  }
  props[0].key = amqp_cstring_bytes ("capabilities");
  props[0].value.kind = AMQP_FIELD_KIND_TABLE;
  props[0].value.value.table.num_entries = G_N_ELEMENTS (caps);
  props[0].value.value.table.entries = caps;
  props[1].key = amqp_cstring_bytes ("product");
  props[1].value.kind = AMQP_FIELD_KIND_UTF8;
  props[1].value.value.bytes = amqp_cstring_bytes ("edgefaas");

  return amqp_login_with_properties (state, params->vhost ? params->vhost : "/",
      AMQP_DEFAULT_MAX_CHANNELS, AMQP_DEFAULT_FRAME_SIZE, (int) params->heartbeat_s,
      &client_properties, AMQP_SASL_METHOD_PLAIN, params->user ? params->user : "guest",
      params->password);
}

EdgefaasAmqpConn *
edgefaas_amqp_conn_open (const EdgefaasAmqpParams * params, GError ** error)
{
  return edgefaas_amqp_conn_open_with_hooks (params, NULL, error);
}

EdgefaasAmqpConn *
edgefaas_amqp_conn_open_with_hooks (const EdgefaasAmqpParams * params,
    const EdgefaasAmqpConnectHooks * hooks, GError ** error)
{
  static GOnce ssl_once = G_ONCE_INIT;
  EdgefaasAmqpConn *conn;
  amqp_socket_t *sock = NULL;
  struct timeval tv;
  amqp_rpc_reply_t r;
  gint status;
  guint timeout_ms;

  g_return_val_if_fail (params != NULL, NULL);

  if (params->host == NULL) {
    g_set_error (error, EDGEFAAS_AMQP_ERROR, EDGEFAAS_AMQP_ERROR_URL,
        "AMQP parameters have no host (URL not parsed)");
    return NULL;
  }
  if (params->password == NULL) {
    g_set_error (error, EDGEFAAS_AMQP_ERROR, EDGEFAAS_AMQP_ERROR_CREDENTIALS,
        "AMQP password not loaded");
    return NULL;
  }

  timeout_ms = params->connect_timeout_ms ? params->connect_timeout_ms :
      DEFAULT_CONNECT_TIMEOUT_MS;

  conn = g_new0 (EdgefaasAmqpConn, 1);
  conn->state = amqp_new_connection ();
  if (conn->state == NULL) {
    g_free (conn);
    g_set_error (error, EDGEFAAS_AMQP_ERROR, EDGEFAAS_AMQP_ERROR_CONNECT,
        "out of memory creating AMQP connection");
    return NULL;
  }

  if (params->tls) {
    g_once (&ssl_once, init_ssl_once, NULL);
    sock = amqp_ssl_socket_new (conn->state);
    if (sock == NULL) {
      g_set_error (error, EDGEFAAS_AMQP_ERROR, EDGEFAAS_AMQP_ERROR_TLS,
          "cannot create TLS socket");
      goto fail;
    }
    amqp_ssl_socket_set_verify_peer (sock, params->tls_verify);
    amqp_ssl_socket_set_verify_hostname (sock, params->tls_verify);
    if (params->tls_ca && *params->tls_ca) {
      status = amqp_ssl_socket_set_cacert (sock, params->tls_ca);
      if (status != AMQP_STATUS_OK) {
        g_set_error (error, EDGEFAAS_AMQP_ERROR, EDGEFAAS_AMQP_ERROR_TLS,
            "cannot load TLS CA file '%s': %s", params->tls_ca, amqp_error_string2 (status));
        goto fail;
      }
    }
    /* No CA given: whatever trust store rabbitmq-c/OpenSSL use by default;
     * a private CA must be given with tls-ca. */
    if ((params->tls_cert && *params->tls_cert) || (params->tls_key && *params->tls_key)) {
      if (!(params->tls_cert && *params->tls_cert && params->tls_key && *params->tls_key)) {
        g_set_error (error, EDGEFAAS_AMQP_ERROR, EDGEFAAS_AMQP_ERROR_TLS,
            "a TLS client certificate needs both tls-cert and tls-key");
        goto fail;
      }
      status = amqp_ssl_socket_set_key (sock, params->tls_cert, params->tls_key);
      if (status != AMQP_STATUS_OK) {
        g_set_error (error, EDGEFAAS_AMQP_ERROR, EDGEFAAS_AMQP_ERROR_TLS,
            "cannot load TLS client certificate '%s' / key '%s': %s",
            params->tls_cert, params->tls_key, amqp_error_string2 (status));
        goto fail;
      }
    }
  } else {
    sock = amqp_tcp_socket_new (conn->state);
    if (sock == NULL) {
      g_set_error (error, EDGEFAAS_AMQP_ERROR, EDGEFAAS_AMQP_ERROR_CONNECT,
          "cannot create TCP socket");
      goto fail;
    }
  }

  tv.tv_sec = timeout_ms / 1000;
  tv.tv_usec = (timeout_ms % 1000) * 1000;
  amqp_set_handshake_timeout (conn->state, &tv);
  {
    struct timeval rpc = { RPC_TIMEOUT_MS / 1000, (RPC_TIMEOUT_MS % 1000) * 1000 };
    amqp_set_rpc_timeout (conn->state, &rpc);
  }

  if (hooks && hooks->connect_tcp && !params->tls) {
    gint fd = hooks->connect_tcp (params->host, params->port, timeout_ms,
        hooks->user_data, error);
    if (fd < 0)
      goto fail;
    amqp_tcp_socket_set_sockfd (sock, fd);      /* the connection owns it now */
    status = AMQP_STATUS_OK;
  } else {
    if (hooks && hooks->watch_socket)
      hooks->watch_socket (sock, hooks->user_data);
    status = amqp_socket_open_noblock (sock, params->host, (int) params->port, &tv);
  }
  if (hooks && hooks->watch_socket)
    hooks->watch_socket (sock, hooks->user_data);
  if (status != AMQP_STATUS_OK) {
    gint code = EDGEFAAS_AMQP_ERROR_CONNECT;
    if (params->tls && (status == AMQP_STATUS_SSL_ERROR
            || status == AMQP_STATUS_SSL_HOSTNAME_VERIFY_FAILED
            || status == AMQP_STATUS_SSL_PEER_VERIFY_FAILED
            || status == AMQP_STATUS_SSL_CONNECTION_FAILED))
      code = EDGEFAAS_AMQP_ERROR_TLS;
    else if (status == AMQP_STATUS_TIMEOUT)
      code = EDGEFAAS_AMQP_ERROR_TIMEOUT;
    g_set_error (error, EDGEFAAS_AMQP_ERROR, code, "cannot connect to %s:%u%s: %s",
        params->host, params->port, params->tls ? " (TLS)" : "", amqp_error_string2 (status));
    goto fail;
  }

  r = login_with_capabilities (conn->state, params);
  if (r.reply_type != AMQP_RESPONSE_NORMAL) {
    g_autoptr (GError) lerr = NULL;
    edgefaas_amqp_check_reply (r, "login", &lerr);
    /* RabbitMQ answers bad credentials by closing the socket during the
     * handshake (library error), or with 403 ACCESS_REFUSED. */
    if (r.reply_type == AMQP_RESPONSE_SERVER_EXCEPTION
        || (r.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION
            && (r.library_error == AMQP_STATUS_CONNECTION_CLOSED
                || r.library_error == AMQP_STATUS_SOCKET_CLOSED)))
      g_set_error (error, EDGEFAAS_AMQP_ERROR,
          lerr->code == EDGEFAAS_AMQP_ERROR_PROTOCOL || r.reply_type ==
          AMQP_RESPONSE_LIBRARY_EXCEPTION ? EDGEFAAS_AMQP_ERROR_AUTH : lerr->code,
          "login as '%s' to vhost '%s' on %s:%u refused (%s)", params->user,
          params->vhost, params->host, params->port, lerr->message);
    else
      g_set_error (error, EDGEFAAS_AMQP_ERROR, lerr->code, "login to %s:%u failed: %s",
          params->host, params->port, lerr->message);
    goto fail;
  }
  conn->open = TRUE;

  conn->channel = 1;
  amqp_channel_open (conn->state, conn->channel);
  if (!edgefaas_amqp_check_reply (amqp_get_rpc_reply (conn->state), "channel.open", error))
    goto fail;

  return conn;

fail:
  if (hooks && hooks->watch_socket)
    hooks->watch_socket (NULL, hooks->user_data);
  if (conn->open) {
    amqp_connection_close (conn->state, AMQP_REPLY_SUCCESS);
  }
  amqp_destroy_connection (conn->state);
  g_free (conn);
  return NULL;
}

amqp_connection_state_t
edgefaas_amqp_conn_get_state (EdgefaasAmqpConn * conn)
{
  g_return_val_if_fail (conn != NULL, NULL);
  return conn->state;
}

amqp_channel_t
edgefaas_amqp_conn_get_channel (EdgefaasAmqpConn * conn)
{
  g_return_val_if_fail (conn != NULL, 0);
  return conn->channel;
}

void
edgefaas_amqp_conn_close (EdgefaasAmqpConn * conn)
{
  if (conn == NULL)
    return;
  if (conn->open) {
    struct timeval tv = { CLOSE_TIMEOUT_MS / 1000, (CLOSE_TIMEOUT_MS % 1000) * 1000 };
    amqp_set_rpc_timeout (conn->state, &tv);
    /* Politely, but a dead broker only costs the bounded rpc timeout. */
    amqp_rpc_reply_t r = amqp_channel_close (conn->state, conn->channel, AMQP_REPLY_SUCCESS);
    if (r.reply_type != AMQP_RESPONSE_LIBRARY_EXCEPTION)
      amqp_connection_close (conn->state, AMQP_REPLY_SUCCESS);
  }
  amqp_destroy_connection (conn->state);
  g_free (conn);
}

/* ----------------------------------------------------------- topology ---- */

static gboolean
rpc_ok (EdgefaasAmqpConn * conn, const gchar * what, GError ** error)
{
  amqp_rpc_reply_t r = amqp_get_rpc_reply (conn->state);
  if (edgefaas_amqp_check_reply (r, what, error))
    return TRUE;
  handle_server_close (conn, r);
  return FALSE;
}

gboolean
edgefaas_amqp_declare_topology (EdgefaasAmqpConn * conn, const gchar * exchange,
    const gchar * exchange_type, const gchar * queue, const gchar * routing_key,
    const gchar * queue_type, GError ** error)
{
  amqp_connection_state_t st;
  amqp_channel_t ch;
  g_autofree gchar *dlx = NULL;
  g_autofree gchar *dead = NULL;
  g_autofree gchar *what = NULL;
  amqp_table_entry_t entries[2];
  amqp_table_t args = { 0, entries };
  gboolean quorum;

  g_return_val_if_fail (conn != NULL, FALSE);
  st = conn->state;
  ch = conn->channel;
  if (exchange == NULL)
    exchange = "";
  if (exchange_type == NULL || *exchange_type == '\0')
    exchange_type = "direct";
  quorum = g_strcmp0 (queue_type, "quorum") == 0;

  if (*exchange) {
    what = g_strdup_printf ("exchange.declare '%s' (%s)", exchange, exchange_type);
    amqp_exchange_declare (st, ch, amqp_cstring_bytes (exchange),
        amqp_cstring_bytes (exchange_type), 0 /* passive */ , 1 /* durable */ ,
        0 /* auto_delete */ , 0 /* internal */ , amqp_empty_table);
    if (!rpc_ok (conn, what, error))
      return FALSE;
    g_clear_pointer (&what, g_free);
  }

  if (queue == NULL || *queue == '\0')
    return TRUE;

  dlx = g_strdup_printf ("%s.dlx", queue);
  dead = g_strdup_printf ("%s.dead", queue);

  what = g_strdup_printf ("exchange.declare '%s' (dead-letter, fanout)", dlx);
  amqp_exchange_declare (st, ch, amqp_cstring_bytes (dlx), amqp_cstring_bytes ("fanout"),
      0, 1, 0, 0, amqp_empty_table);
  if (!rpc_ok (conn, what, error))
    return FALSE;
  g_clear_pointer (&what, g_free);

  args.num_entries = 0;
  if (quorum) {
    entries[0].key = amqp_cstring_bytes ("x-queue-type");
    entries[0].value.kind = AMQP_FIELD_KIND_UTF8;
    entries[0].value.value.bytes = amqp_cstring_bytes ("quorum");
    args.num_entries = 1;
  }
  what = g_strdup_printf ("queue.declare '%s'", dead);
  amqp_queue_declare (st, ch, amqp_cstring_bytes (dead), 0, 1, 0, 0, args);
  if (!rpc_ok (conn, what, error))
    return FALSE;
  g_clear_pointer (&what, g_free);

  what = g_strdup_printf ("queue.bind '%s' to '%s'", dead, dlx);
  amqp_queue_bind (st, ch, amqp_cstring_bytes (dead), amqp_cstring_bytes (dlx),
      amqp_cstring_bytes (""), amqp_empty_table);
  if (!rpc_ok (conn, what, error))
    return FALSE;
  g_clear_pointer (&what, g_free);

  entries[0].key = amqp_cstring_bytes ("x-dead-letter-exchange");
  entries[0].value.kind = AMQP_FIELD_KIND_UTF8;
  entries[0].value.value.bytes = amqp_cstring_bytes (dlx);
  args.num_entries = 1;
  if (quorum) {
    entries[1].key = amqp_cstring_bytes ("x-queue-type");
    entries[1].value.kind = AMQP_FIELD_KIND_UTF8;
    entries[1].value.value.bytes = amqp_cstring_bytes ("quorum");
    args.num_entries = 2;
  }
  what = g_strdup_printf ("queue.declare '%s' (if it already exists with other "
      "arguments, delete it or declare it the same way)", queue);
  amqp_queue_declare (st, ch, amqp_cstring_bytes (queue), 0, 1, 0, 0, args);
  if (!rpc_ok (conn, what, error))
    return FALSE;
  g_clear_pointer (&what, g_free);

  if (*exchange) {
    const gchar *key = routing_key ? routing_key : "";
    what = g_strdup_printf ("queue.bind '%s' to '%s' with key '%s'", queue, exchange, key);
    amqp_queue_bind (st, ch, amqp_cstring_bytes (queue), amqp_cstring_bytes (exchange),
        amqp_cstring_bytes (key), amqp_empty_table);
    if (!rpc_ok (conn, what, error))
      return FALSE;
  }
  return TRUE;
}
