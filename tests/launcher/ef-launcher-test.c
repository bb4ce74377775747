/* Helpers for tests that run edgefaas-launch / edgefaas-scale as real processes. */
#include "ef-launcher-test.h"

#include <signal.h>
#include <string.h>
#include <sys/wait.h>

#include "ef-test.h"

EfProc *
ef_proc_start (const gchar * const *argv, const gchar * const *env_add)
{
  EfProc *p = g_new0 (EfProc, 1);
  p->dir = ef_test_mkdtemp ("ef-proc");
  p->out_path = g_build_filename (p->dir, "stdout", NULL);
  p->err_path = g_build_filename (p->dir, "stderr", NULL);
  p->lines = g_ptr_array_new_with_free_func ((GDestroyNotify) json_object_unref);
  GSubprocessLauncher *l = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_NONE);
  g_subprocess_launcher_set_stdout_file_path (l, p->out_path);
  g_subprocess_launcher_set_stderr_file_path (l, p->err_path);
  for (guint i = 0; env_add && env_add[i]; i++) {
    gchar **kv = g_strsplit (env_add[i], "=", 2);
    g_subprocess_launcher_setenv (l, kv[0], kv[1] ? kv[1] : "", TRUE);
    g_strfreev (kv);
  }
  GError *err = NULL;
  p->proc = g_subprocess_launcher_spawnv (l, argv, &err);
  g_assert_no_error (err);
  g_object_unref (l);
  return p;
}

guint
ef_proc_update (EfProc * p)
{
  gchar *data = NULL;
  gsize len = 0;
  if (!g_file_get_contents (p->out_path, &data, &len, NULL))
    return p->lines->len;
  while (p->out_consumed < len) {
    gchar *start = data + p->out_consumed;
    gchar *nl = memchr (start, '\n', len - p->out_consumed);
    if (!nl)
      break;
    *nl = '\0';
    p->out_consumed += nl - start + 1;
    if (start[0] != '{')
      continue;
    JsonParser *jp = json_parser_new ();
    if (json_parser_load_from_data (jp, start, -1, NULL)
        && JSON_NODE_HOLDS_OBJECT (json_parser_get_root (jp)))
      g_ptr_array_add (p->lines, json_object_ref (json_node_get_object (json_parser_get_root
                  (jp))));
    else
      g_test_message ("not a JSON line: %s", start);
    g_object_unref (jp);
  }
  g_free (data);
  return p->lines->len;
}

static gboolean
member_matches (JsonObject * o, const gchar * key, const gchar * value)
{
  if (!key)
    return TRUE;
  JsonNode *n = json_object_get_member (o, key);
  if (!n || !JSON_NODE_HOLDS_VALUE (n))
    return FALSE;
  if (json_node_get_value_type (n) == G_TYPE_STRING)
    return g_str_equal (json_node_get_string (n), value);
  if (json_node_get_value_type (n) == G_TYPE_INT64) {
    gchar *s = g_strdup_printf ("%" G_GINT64_FORMAT, json_node_get_int (n));
    gboolean eq = g_str_equal (s, value);
    g_free (s);
    return eq;
  }
  if (json_node_get_value_type (n) == G_TYPE_BOOLEAN)
    return g_str_equal (json_node_get_boolean (n) ? "true" : "false", value);
  return FALSE;
}

JsonObject *
ef_proc_wait_line (EfProc * p, const gchar * type, const gchar * key, const gchar * value,
    guint from, gdouble timeout_s, guint * index_out)
{
  gint64 deadline = g_get_monotonic_time () + (gint64) (timeout_s * G_USEC_PER_SEC);
  do {
    ef_proc_update (p);
    for (guint i = from; i < p->lines->len; i++) {
      JsonObject *o = g_ptr_array_index (p->lines, i);
      const gchar *t = json_object_get_string_member_with_default (o, "type", "");
      if (g_str_equal (t, type) && member_matches (o, key, value)) {
        if (index_out)
          *index_out = i;
        return o;
      }
    }
    g_usleep (50000);
  } while (g_get_monotonic_time () < deadline);
  return NULL;
}

guint
ef_proc_count (EfProc * p, const gchar * type)
{
  ef_proc_update (p);
  guint n = 0;
  for (guint i = 0; i < p->lines->len; i++)
    if (g_str_equal (json_object_get_string_member_with_default (g_ptr_array_index (p->lines,
                    i), "type", ""), type))
      n++;
  return n;
}

gboolean
ef_proc_wait_exit (EfProc * p, gdouble timeout_s)
{
  gint64 deadline = g_get_monotonic_time () + (gint64) (timeout_s * G_USEC_PER_SEC);
  while (g_get_monotonic_time () < deadline) {
    /* g_subprocess_get_if_exited needs the child reaped: poll via a zero-wait main
     * context iteration (GSubprocess reaps with a child watch in the worker). */
    g_main_context_iteration (NULL, FALSE);
    if (g_subprocess_get_identifier (p->proc) == NULL) {
      ef_proc_update (p);
      return TRUE;
    }
    g_usleep (20000);
  }
  return FALSE;
}

gint
ef_proc_exit_status (EfProc * p)
{
  if (g_subprocess_get_if_signaled (p->proc))
    return 128 + g_subprocess_get_term_sig (p->proc);
  return g_subprocess_get_exit_status (p->proc);
}

gchar *
ef_proc_stdout (EfProc * p)
{
  gchar *s = NULL;
  g_file_get_contents (p->out_path, &s, NULL, NULL);
  return s ? s : g_strdup ("");
}

gchar *
ef_proc_stderr (EfProc * p)
{
  gchar *s = NULL;
  g_file_get_contents (p->err_path, &s, NULL, NULL);
  return s ? s : g_strdup ("");
}

void
ef_proc_signal (EfProc * p, gint sig)
{
  g_subprocess_send_signal (p->proc, sig);
}

void
ef_proc_free (EfProc * p)
{
  if (!p)
    return;
  if (g_subprocess_get_identifier (p->proc)) {
    g_subprocess_force_exit (p->proc);
    g_subprocess_wait (p->proc, NULL, NULL);
  }
  g_object_unref (p->proc);
  ef_test_rm_rf (p->dir);
  g_free (p->dir);
  g_free (p->out_path);
  g_free (p->err_path);
  g_ptr_array_unref (p->lines);
  g_free (p);
}

guint
ef_http_get (guint port, const gchar * path, gchar ** body)
{
  GError *err = NULL;
  GSocketClient *c = g_socket_client_new ();
  g_socket_client_set_timeout (c, 5);
  GSocketConnection *conn = g_socket_client_connect_to_host (c, "127.0.0.1", port, NULL, &err);
  g_object_unref (c);
  if (body)
    *body = NULL;
  if (!conn) {
    g_clear_error (&err);
    return 0;
  }
  gchar *req = g_strdup_printf ("GET %s HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n", path);
  GOutputStream *os = g_io_stream_get_output_stream (G_IO_STREAM (conn));
  g_output_stream_write_all (os, req, strlen (req), NULL, NULL, NULL);
  g_free (req);
  GInputStream *is = g_io_stream_get_input_stream (G_IO_STREAM (conn));
  GString *resp = g_string_new (NULL);
  gchar buf[4096];
  gssize n;
  while ((n = g_input_stream_read (is, buf, sizeof buf, NULL, NULL)) > 0)
    g_string_append_len (resp, buf, n);
  g_object_unref (conn);
  guint status = 0;
  if (g_str_has_prefix (resp->str, "HTTP/1."))
    status = (guint) g_ascii_strtoull (resp->str + 9, NULL, 10);
  gchar *sep = strstr (resp->str, "\r\n\r\n");
  if (body)
    *body = g_strdup (sep ? sep + 4 : "");
  g_string_free (resp, TRUE);
  return status;
}

gchar *
ef_built_program (const gchar * relative)
{
  gchar *p = g_build_filename (ef_test_build_root (), relative, NULL);
  if (!g_file_test (p, G_FILE_TEST_IS_EXECUTABLE)) {
    g_test_message ("program %s was not built", p);
    g_test_fail ();
  }
  return p;
}

gchar *
ef_pipelines_program (const gchar * name)
{
  g_autofree gchar *rel = g_build_filename ("pipelines", name, NULL);
  return ef_built_program (rel);
}

gchar *
ef_source_file (const gchar * dir, const gchar * name)
{
  return g_build_filename (ef_test_source_root (), dir, name, NULL);
}

gboolean
ef_run_sync (const gchar * const *argv, const gchar * const *env)
{
  EfProc *p = ef_proc_start (argv, env);
  gboolean ok = ef_proc_wait_exit (p, 120) && ef_proc_exit_status (p) == 0;
  if (!ok) {
    g_autofree gchar *e = ef_proc_stderr (p);
    g_test_message ("%s failed: %s", argv[0], e);
  }
  ef_proc_free (p);
  return ok;
}

guint64
ef_run_edge_to_end (const gchar * const *env, EfProc ** keep)
{
  g_autofree gchar *launch = ef_pipelines_program ("edgefaas-launch");
  g_autofree gchar *edge = ef_source_file ("pipelines", "edge.pipeline");
  const gchar *argv[] = { launch, edge, NULL };
  EfProc *p = ef_proc_start (argv, env);
  g_assert_true (ef_proc_wait_exit (p, 120));
  if (ef_proc_exit_status (p) != 0) {
    g_autofree gchar *e = ef_proc_stderr (p);
    g_test_message ("edge stderr: %s", e);
  }
  g_assert_cmpint (ef_proc_exit_status (p), ==, 0);
  JsonObject *ex = ef_proc_wait_line (p, "exit", NULL, NULL, 0, 0, NULL);
  g_assert_nonnull (ex);
  guint64 sent = json_object_get_int_member (ex, "sink_buffers");
  if (keep)
    *keep = p;
  else
    ef_proc_free (p);
  return sent;
}

guint
ef_queue_total (EfBroker * broker, const gchar * queue)
{
  GError *err = NULL;
  guint ready = 0, unacked = 0;
  g_assert_true (ef_broker_queue_counts (broker, queue, &ready, &unacked, &err));
  g_assert_no_error (err);
  return ready + unacked;
}
