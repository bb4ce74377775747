/* Unit tests: pipeline file substitution (ef-pipeline-file.c) and the real pipeline
 * files parsing with gst_parse_launchv after substitution and word splitting, which is
 * exactly what `gst-launch-1.0 -e $(edgefaas-launch --print FILE)` does. */
#include <string.h>

#include "ef-test.h"
#include "ef-pipeline-file.h"

static const gchar *
table_lookup (const gchar * name, gpointer table)
{
  return g_hash_table_lookup (table, name);
}

static GHashTable *
vars (const gchar * first, ...)
{
  GHashTable *t = g_hash_table_new (g_str_hash, g_str_equal);
  va_list ap;
  va_start (ap, first);
  for (const gchar * k = first; k; k = va_arg (ap, const gchar *))
      g_hash_table_insert (t, (gpointer) k, va_arg (ap, gpointer));
  va_end (ap);
  return t;
}

static gchar *
subst (const gchar * text, GHashTable * t, GError ** error)
{
  return ef_pipeline_substitute (text, "test.pipeline", table_lookup, t, error);
}

static void
test_basic (void)
{
  g_autoptr (GHashTable) t = vars ("A", "x1", "EMPTY", "", NULL);
  g_autoptr (GError) err = NULL;
  g_autofree gchar *out = subst ("# comment line\n"
      "videotestsrc name=${A}\n"
      "   # indented comment\n"
      "\n"
      "  ! fakesink name=${B:-dflt} sync=${EMPTY:-true} price=$$5 lone=$x\n", t, &err);
  g_assert_no_error (err);
  g_assert_cmpstr (out, ==,
      "videotestsrc name=x1 ! fakesink name=dflt sync=true price=$5 lone=$x");
}

static void
test_missing_names_variable_and_line (void)
{
  g_autoptr (GHashTable) t = vars ("A", "1", NULL);
  g_autoptr (GError) err = NULL;
  gchar *out = subst ("# c\nfakesrc name=${A}\n ! fakesink name=${CAMERA_ID}\n", t, &err);
  g_assert_null (out);
  g_assert_error (err, EF_PIPELINE_ERROR, EF_PIPELINE_ERROR_MISSING_VARIABLE);
  g_assert_nonnull (strstr (err->message, "CAMERA_ID"));
  g_assert_nonnull (strstr (err->message, "test.pipeline:3"));
}

static void
test_empty_counts_as_missing (void)
{
  g_autoptr (GHashTable) t = vars ("CAMERA_ID", "", NULL);
  g_autoptr (GError) err = NULL;
  gchar *out = subst ("fakesrc name=${CAMERA_ID}", t, &err);
  g_assert_null (out);
  g_assert_error (err, EF_PIPELINE_ERROR, EF_PIPELINE_ERROR_MISSING_VARIABLE);
}

static void
test_nested_default_is_lazy (void)
{
  g_autoptr (GError) err = NULL;
  /* MODEL_CFG set: MODELS_DIR is not needed */
  g_autoptr (GHashTable) t1 = vars ("MODEL_CFG", "/m/a.cfg", NULL);
  g_autofree gchar *o1 = subst ("x config=${MODEL_CFG:-${MODELS_DIR}/y.cfg}", t1, &err);
  g_assert_no_error (err);
  g_assert_cmpstr (o1, ==, "x config=/m/a.cfg");
  /* MODEL_CFG unset: the default is used and MODELS_DIR substituted */
  g_autoptr (GHashTable) t2 = vars ("MODELS_DIR", "/models", NULL);
  g_autofree gchar *o2 = subst ("x config=${MODEL_CFG:-${MODELS_DIR}/y.cfg}", t2, &err);
  g_assert_no_error (err);
  g_assert_cmpstr (o2, ==, "x config=/models/y.cfg");
  /* both unset: the error names the inner, required one */
  g_autoptr (GHashTable) t3 = vars (NULL);
  gchar *o3 = subst ("x config=${MODEL_CFG:-${MODELS_DIR}/y.cfg}", t3, &err);
  g_assert_null (o3);
  g_assert_error (err, EF_PIPELINE_ERROR, EF_PIPELINE_ERROR_MISSING_VARIABLE);
  g_assert_nonnull (strstr (err->message, "MODELS_DIR"));
}

static void
test_syntax_errors (void)
{
  g_autoptr (GHashTable) t = vars ("A", "1", NULL);
  const gchar *bad[] = { "x name=${A", "x name=${1A}", "x name=${A:?oops}", "x name=${}",
    "# only\n# comments\n"
  };
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++) {
    GError *err = NULL;
    gchar *out = subst (bad[i], t, &err);
    g_assert_null (out);
    g_assert_nonnull (err);
    g_assert_true (err->code == EF_PIPELINE_ERROR_SYNTAX || err->code == EF_PIPELINE_ERROR_EMPTY);
    g_test_message ("%s -> %s", bad[i], err->message);
    g_error_free (err);
  }
}

static void
test_value_cannot_inject_elements (void)
{
  const gchar *evil[] = { "a ! filesink location=/tmp/x", "a b", "a\"b", "a'b", "a!b",
    "a\nb"
  };
  for (guint i = 0; i < G_N_ELEMENTS (evil); i++) {
    g_autoptr (GHashTable) t = vars ("CAMERA_URI", evil[i], NULL);
    GError *err = NULL;
    gchar *out = subst ("uridecodebin uri=${CAMERA_URI} ! fakesink", t, &err);
    g_assert_null (out);
    g_assert_error (err, EF_PIPELINE_ERROR, EF_PIPELINE_ERROR_BAD_VALUE);
    g_assert_nonnull (strstr (err->message, "CAMERA_URI"));
    g_error_free (err);
  }
}

static void
test_redaction (void)
{
  g_autofree gchar *r1 = ef_redact_credentials ("amqpsink url=amqp://bob:s3cret@host:5672/%2F "
      "! x uri=rtsp://cam:pw@10.0.0.1/stream");
  g_assert_null (strstr (r1, "s3cret"));
  g_assert_null (strstr (r1, ":pw@"));
  g_assert_nonnull (strstr (r1, "amqp://bob:***@host:5672/%2F"));
  g_assert_nonnull (strstr (r1, "rtsp://cam:***@10.0.0.1/stream"));
  g_autofree gchar *r2 = ef_redact_credentials ("amqp://edgefaas@host/ file:///a:b@c");
  g_assert_cmpstr (r2, ==, "amqp://edgefaas@host/ file:///a:b@c");
}

/* ---- the real pipeline files ---- */

static gchar *
pipeline_path (const gchar * name)
{
  return g_build_filename (ef_test_source_root (), "pipelines", name, NULL);
}

static GHashTable *
full_env (void)
{
  return vars ("CAMERA_ID", "cam1", "CAMERA_URI", "file:///tmp/clip.mkv",
      "EDGEFAAS_AMQP_URL", "amqp://edgefaas@127.0.0.1:5672/%2F", "FRAME_STORE", "/tmp/frames",
      "MODELS_DIR", "/tmp/models", NULL);
}

static void
check_required (gconstpointer data)
{
  const gchar *name = data;
  g_autofree gchar *path = pipeline_path (name);
  g_autofree gchar *text = NULL;
  g_assert_true (g_file_get_contents (path, &text, NULL, NULL));
  /* Remove each required variable in turn: the error must name it. */
  const gchar *required[] = { "CAMERA_ID", "CAMERA_URI", "EDGEFAAS_AMQP_URL", "FRAME_STORE",
    "MODELS_DIR"
  };
  g_autoptr (GPtrArray) used = ef_pipeline_variables (text);
  guint checked = 0;
  for (guint i = 0; i < G_N_ELEMENTS (required); i++) {
    gboolean uses = FALSE;
    for (guint j = 0; j < used->len; j++)
      uses |= g_str_equal (g_ptr_array_index (used, j), required[i]);
    if (!uses)
      continue;
    g_autoptr (GHashTable) t = full_env ();
    g_hash_table_remove (t, required[i]);
    GError *err = NULL;
    gchar *out = ef_pipeline_substitute (text, path, table_lookup, t, &err);
    g_assert_null (out);
    g_assert_error (err, EF_PIPELINE_ERROR, EF_PIPELINE_ERROR_MISSING_VARIABLE);
    g_assert_nonnull (strstr (err->message, required[i]));
    g_error_free (err);
    checked++;
  }
  /* every pipeline needs a broker URL at least */
  g_assert_cmpuint (checked, >=, 1);
}

static void
check_parses (gconstpointer data)
{
  const gchar *name = data;
  g_autofree gchar *path = pipeline_path (name);
  g_autoptr (GHashTable) t = full_env ();
  g_autoptr (GError) err = NULL;
  g_autofree gchar *desc = ef_pipeline_load (path, table_lookup, t, &err);
  g_assert_no_error (err);
  /* gst-launch-1.0 gets the words of $(edgefaas-launch --print FILE) */
  g_auto (GStrv) words = g_strsplit_set (desc, " ", -1);
  GstParseContext *ctx = gst_parse_context_new ();
  GstElement *p = gst_parse_launchv_full ((const gchar **) words, ctx,
      GST_PARSE_FLAG_FATAL_ERRORS, &err);
  gchar **missing = gst_parse_context_get_missing_elements (ctx);
  if (missing && missing[0])
    g_test_message ("missing elements: %s", missing[0]);
  g_strfreev (missing);
  gst_parse_context_free (ctx);
  g_assert_no_error (err);
  g_assert_nonnull (p);
  gst_object_unref (p);
}

int
main (int argc, char **argv)
{
  ef_test_init (&argc, &argv);
  g_test_add_func ("/subst/basic", test_basic);
  g_test_add_func ("/subst/missing-names-variable-and-line", test_missing_names_variable_and_line);
  g_test_add_func ("/subst/empty-counts-as-missing", test_empty_counts_as_missing);
  g_test_add_func ("/subst/nested-default-is-lazy", test_nested_default_is_lazy);
  g_test_add_func ("/subst/syntax-errors", test_syntax_errors);
  g_test_add_func ("/subst/value-cannot-inject-elements", test_value_cannot_inject_elements);
  g_test_add_func ("/subst/redaction", test_redaction);
  const gchar *files[] = { "edge.pipeline", "inference.pipeline", "always-on.pipeline" };
  for (guint i = 0; i < G_N_ELEMENTS (files); i++) {
    gchar *n1 = g_strdup_printf ("/pipelines/%s/missing-required-named", files[i]);
    gchar *n2 = g_strdup_printf ("/pipelines/%s/parses-as-gst-launch-words", files[i]);
    g_test_add_data_func (n1, files[i], check_required);
    g_test_add_data_func (n2, files[i], check_parses);
  }
  return g_test_run ();
}
