#include "amqp-test-util.h"

#include <string.h>
#include <glib/gstdio.h>
#include <gst/app/app.h>

#include "ef-test.h"

void
at_msg_free (AtMsg * m)
{
  if (!m)
    return;
  g_bytes_unref (m->body);
  g_free (m->routing_key);
  g_free (m->content_type);
  g_free (m->message_id);
  g_hash_table_unref (m->headers);
  g_free (m);
}

static gchar *
bytes_str (amqp_bytes_t b)
{
  return g_strndup (b.bytes, b.len);
}

/* Read (and ack) messages, one every @interval_ms, until @queue stayed empty
 * for @quiet_ms counted from when *@stop (if given) became set. */
static GPtrArray *
drain_impl (const gchar * url, const gchar * queue, guint quiet_ms, guint interval_ms,
    gint * stop, GError ** error)
{
  EdgefaasAmqpParams params = { 0 };
  EdgefaasAmqpConn *conn;
  amqp_connection_state_t st;
  amqp_channel_t ch;
  GPtrArray *out;
  gint64 quiet_until;

  if (!edgefaas_amqp_params_parse_url (&params, url, error)
      || !edgefaas_amqp_params_load_password (&params, NULL, NULL, error))
    return NULL;
  conn = edgefaas_amqp_conn_open (&params, error);
  edgefaas_amqp_params_clear (&params);
  if (!conn)
    return NULL;
  st = edgefaas_amqp_conn_get_state (conn);
  ch = edgefaas_amqp_conn_get_channel (conn);
  out = g_ptr_array_new_with_free_func ((GDestroyNotify) at_msg_free);
  quiet_until = g_get_monotonic_time () + quiet_ms * 1000;

  while ((stop && !g_atomic_int_get (stop)) || g_get_monotonic_time () < quiet_until) {
    if (stop && !g_atomic_int_get (stop))
      quiet_until = g_get_monotonic_time () + quiet_ms * 1000;
    amqp_rpc_reply_t r = amqp_basic_get (st, ch, amqp_cstring_bytes (queue), 1 /* no_ack */ );
    amqp_basic_get_ok_t *ok;
    amqp_message_t msg;
    AtMsg *m;

    if (!edgefaas_amqp_check_reply (r, "basic.get", error)) {
      g_ptr_array_unref (out);
      edgefaas_amqp_conn_close (conn);
      return NULL;
    }
    if (r.reply.id == AMQP_BASIC_GET_EMPTY_METHOD) {
      g_usleep (50 * 1000);
      continue;
    }
    ok = r.reply.decoded;
    m = g_new0 (AtMsg, 1);
    m->routing_key = bytes_str (ok->routing_key);
    m->redelivered = ok->redelivered;
    r = amqp_read_message (st, ch, &msg, 0);
    if (!edgefaas_amqp_check_reply (r, "read message", error)) {
      g_free (m->routing_key);
      g_free (m);
      g_ptr_array_unref (out);
      edgefaas_amqp_conn_close (conn);
      return NULL;
    }
    m->body = g_bytes_new (msg.body.bytes, msg.body.len);
    m->headers = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
    if (msg.properties._flags & AMQP_BASIC_CONTENT_TYPE_FLAG)
      m->content_type = bytes_str (msg.properties.content_type);
    if (msg.properties._flags & AMQP_BASIC_MESSAGE_ID_FLAG)
      m->message_id = bytes_str (msg.properties.message_id);
    if (msg.properties._flags & AMQP_BASIC_HEADERS_FLAG) {
      for (int i = 0; i < msg.properties.headers.num_entries; i++) {
        amqp_table_entry_t *e = &msg.properties.headers.entries[i];
        if (e->value.kind == AMQP_FIELD_KIND_UTF8 || e->value.kind == AMQP_FIELD_KIND_BYTES)
          g_hash_table_insert (m->headers, bytes_str (e->key), bytes_str (e->value.value.bytes));
      }
    }
    amqp_destroy_message (&msg);
    g_ptr_array_add (out, m);
    quiet_until = g_get_monotonic_time () + quiet_ms * 1000;
    if (interval_ms)
      g_usleep (interval_ms * 1000);
  }
  edgefaas_amqp_conn_close (conn);
  return out;
}

GPtrArray *
at_drain_queue (const gchar * url, const gchar * queue, guint quiet_ms, GError ** error)
{
  return drain_impl (url, queue, quiet_ms, 0, NULL, error);
}

struct _AtSlowDrain
{
  GThread *thread;
  gchar *url, *queue;
  guint quiet_ms, interval_ms, delay_ms;
  gint stop;
  GPtrArray *msgs;
  GError *error;
};

static gpointer
slow_drain_thread (gpointer data)
{
  AtSlowDrain *d = data;
  g_usleep ((gulong) d->delay_ms * 1000);
  d->msgs = drain_impl (d->url, d->queue, d->quiet_ms, d->interval_ms, &d->stop, &d->error);
  return NULL;
}

AtSlowDrain *
at_slow_drain_start (const gchar * url, const gchar * queue, guint interval_ms,
    guint delay_ms)
{
  AtSlowDrain *d = g_new0 (AtSlowDrain, 1);
  d->url = g_strdup (url);
  d->queue = g_strdup (queue);
  d->interval_ms = interval_ms;
  d->delay_ms = delay_ms;
  d->quiet_ms = 1000;
  d->thread = g_thread_new ("at-slow-drain", slow_drain_thread, d);
  return d;
}

GPtrArray *
at_slow_drain_finish (AtSlowDrain * d, guint quiet_ms)
{
  GPtrArray *msgs;
  d->quiet_ms = quiet_ms;
  g_atomic_int_set (&d->stop, 1);
  g_thread_join (d->thread);
  g_assert_no_error (d->error);
  g_assert_nonnull (d->msgs);
  msgs = d->msgs;
  g_free (d->url);
  g_free (d->queue);
  g_free (d);
  return msgs;
}

gboolean
at_declare_bounded_queue (const gchar * url, const gchar * queue, gint max_length,
    GError ** error)
{
  EdgefaasAmqpParams params = { 0 };
  EdgefaasAmqpConn *conn;
  amqp_connection_state_t st;
  amqp_table_entry_t e[2];
  amqp_table_t args;
  gboolean ok;

  if (!edgefaas_amqp_params_parse_url (&params, url, error)
      || !edgefaas_amqp_params_load_password (&params, NULL, NULL, error)) {
    edgefaas_amqp_params_clear (&params);
    return FALSE;
  }
  conn = edgefaas_amqp_conn_open (&params, error);
  edgefaas_amqp_params_clear (&params);
  if (!conn)
    return FALSE;
  st = edgefaas_amqp_conn_get_state (conn);
  e[0].key = amqp_cstring_bytes ("x-max-length");
  e[0].value.kind = AMQP_FIELD_KIND_I32;
  e[0].value.value.i32 = max_length;
  e[1].key = amqp_cstring_bytes ("x-overflow");
  e[1].value.kind = AMQP_FIELD_KIND_UTF8;
  e[1].value.value.bytes = amqp_cstring_bytes ("reject-publish");
  args.num_entries = 2;
  args.entries = e;
  amqp_queue_declare (st, edgefaas_amqp_conn_get_channel (conn), amqp_cstring_bytes (queue),
      0, 1, 0, 0, args);
  ok = edgefaas_amqp_check_reply (amqp_get_rpc_reply (st), "queue.declare", error);
  edgefaas_amqp_conn_close (conn);
  return ok;
}

GPtrArray *
at_encode_images (guint n, const gchar * encoder, guint width, guint height)
{
  gchar *desc = g_strdup_printf ("videotestsrc pattern=ball num-buffers=%u ! "
      "video/x-raw,width=%u,height=%u,framerate=30/1 ! %s ! appsink name=s sync=false", n,
      width, height, encoder);
  GstElement *p = gst_parse_launch (desc, NULL);
  GstElement *sink;
  GPtrArray *out = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  GstSample *s;

  g_assert_nonnull (p);
  sink = gst_bin_get_by_name (GST_BIN (p), "s");
  gst_element_set_state (p, GST_STATE_PLAYING);
  while ((s = gst_app_sink_pull_sample (GST_APP_SINK (sink)))) {
    GstBuffer *b = gst_sample_get_buffer (s);
    GstMapInfo map;
    gst_buffer_map (b, &map, GST_MAP_READ);
    g_ptr_array_add (out, g_bytes_new (map.data, map.size));
    gst_buffer_unmap (b, &map);
    gst_sample_unref (s);
  }
  gst_element_set_state (p, GST_STATE_NULL);
  gst_object_unref (sink);
  gst_object_unref (p);
  g_free (desc);
  g_assert_cmpuint (out->len, ==, n);
  return out;
}

GstMessage *
at_run_until_done (GstElement * pipeline, guint timeout_s)
{
  GstBus *bus = gst_element_get_bus (pipeline);
  GstMessage *msg;

  gst_element_set_state (pipeline, GST_STATE_PLAYING);
  msg = gst_bus_timed_pop_filtered (bus, timeout_s * GST_SECOND,
      GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
  gst_object_unref (bus);
  return msg;
}

guint64
at_stat (GstElement * sink, const gchar * field)
{
  GstStructure *s = NULL;
  guint64 v = 0;
  guint u = 0;

  g_object_get (sink, "stats", &s, NULL);
  g_assert_nonnull (s);
  if (!gst_structure_get_uint64 (s, field, &v)) {
    gboolean b;
    if (gst_structure_get_boolean (s, field, &b)) {
      v = b;
    } else {
      g_assert_true (gst_structure_get_uint (s, field, &u));
      v = u;
    }
  }
  gst_structure_free (s);
  return v;
}

gboolean
at_run_cmd (const gchar * dir, const gchar * cmd)
{
  gchar **argv = NULL;
  gint status = 0;
  gchar *errout = NULL;
  gboolean ok;
  g_assert_true (g_shell_parse_argv (cmd, NULL, &argv, NULL));
  ok = g_spawn_sync (dir, argv, NULL, G_SPAWN_SEARCH_PATH | G_SPAWN_STDOUT_TO_DEV_NULL, NULL,
      NULL, NULL, &errout, &status, NULL) && g_spawn_check_wait_status (status, NULL);
  if (!ok)
    g_test_message ("command failed: %s\n%s", cmd, errout ? errout : "");
  g_free (errout);
  g_strfreev (argv);
  return ok;
}

void
at_tls_bed_start (AtTlsBed * bed, const gchar * dir)
{
  EfBrokerOptions opts = { 0 };
  gchar *ext, *cert, *key;
  GError *err = NULL;

  memset (bed, 0, sizeof (*bed));
  g_assert_true (at_run_cmd (dir, "openssl req -x509 -newkey rsa:2048 -nodes -days 2 "
          "-subj /CN=ca -keyout ca.key -out ca.pem"));
  g_assert_true (at_run_cmd (dir, "openssl req -x509 -newkey rsa:2048 -nodes -days 2 "
          "-subj /CN=wrong -keyout wrong.key -out wrong.pem"));
  g_assert_true (at_run_cmd (dir, "openssl req -newkey rsa:2048 -nodes -subj /CN=localhost "
          "-keyout server.key -out server.csr"));
  ext = g_build_filename (dir, "ext.cnf", NULL);
  g_assert_true (g_file_set_contents (ext, "subjectAltName=DNS:localhost,IP:127.0.0.1\n", -1,
          NULL));
  g_free (ext);
  g_assert_true (at_run_cmd (dir, "openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key "
          "-CAcreateserial -days 2 -extfile ext.cnf -out server.pem"));
  bed->ca = g_build_filename (dir, "ca.pem", NULL);
  bed->wrong_ca = g_build_filename (dir, "wrong.pem", NULL);
  cert = g_build_filename (dir, "server.pem", NULL);
  key = g_build_filename (dir, "server.key", NULL);
  /* the broker may run as another user */
  g_assert_cmpint (g_chmod (key, 0644), ==, 0);
  opts.tls_ca = bed->ca;
  opts.tls_cert = cert;
  opts.tls_key = key;
  bed->broker = ef_broker_start (&opts, &err);
  g_assert_no_error (err);
  g_assert_nonnull (bed->broker);
  g_assert_cmpuint (ef_broker_amqps_port (bed->broker), >, 0);
  g_assert_true (g_str_has_prefix (ef_broker_tls_url (bed->broker), "amqps://"));
  g_free (cert);
  g_free (key);
  /* this broker's password through the credentials-file path */
  bed->credentials_file = g_build_filename (dir, "amqp-password", NULL);
  g_assert_true (g_file_set_contents (bed->credentials_file, ef_broker_password (bed->broker),
          -1, NULL));
}

void
at_tls_bed_stop (AtTlsBed * bed)
{
  g_clear_pointer (&bed->broker, ef_broker_free);
  g_clear_pointer (&bed->ca, g_free);
  g_clear_pointer (&bed->wrong_ca, g_free);
  g_clear_pointer (&bed->credentials_file, g_free);
}

static gchar *
without_filename_line (const gchar * text)
{
  gchar **lines = g_strsplit (text, "\n", -1);
  GString *out = g_string_new (NULL);
  for (gchar ** l = lines; *l; l++)
    if (strstr (*l, "Filename") == NULL)
      g_string_append_printf (out, "%s\n", *l);
  g_strfreev (lines);
  return g_string_free (out, FALSE);
}

void
at_assert_inspect_matches_doc (const gchar * element)
{
  const gchar *argv[] = { "gst-inspect-1.0", element, NULL };
  gchar *out = NULL, *doc = NULL, *name, *path, *a, *b;
  gint status = 0;
  GError *err = NULL;

  g_assert_true (g_spawn_sync (NULL, (gchar **) argv, NULL, G_SPAWN_SEARCH_PATH |
          G_SPAWN_STDERR_TO_DEV_NULL, NULL, NULL, &out, NULL, &status, &err));
  g_assert_no_error (err);
  g_assert_true (g_spawn_check_wait_status (status, NULL));
  name = g_strdup_printf ("%s.txt", element);
  path = g_build_filename (ef_test_source_root (), "docs", "elements", name, NULL);
  g_assert_true (g_file_get_contents (path, &doc, NULL, &err));
  g_assert_no_error (err);
  a = without_filename_line (out);
  b = without_filename_line (doc);
  if (g_strcmp0 (a, b) != 0)
    g_test_message ("%s is stale: regenerate it with gst-inspect-1.0 %s", path, element);
  g_assert_cmpstr (a, ==, b);
  g_free (a);
  g_free (b);
  g_free (out);
  g_free (doc);
  g_free (name);
  g_free (path);
}
