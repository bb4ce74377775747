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
  /* Remove each required variable in turn: the error must name it. FRAME_STORE is not
   * in this list: unset, it selects inline frames (test_frame_mode_* below). */
  const gchar *required[] = { "CAMERA_ID", "CAMERA_URI", "EDGEFAAS_AMQP_URL", "MODELS_DIR" };
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

/* gst-launch-1.0 gets the words of $(edgefaas-launch --print FILE): parse them the same
 * way, every error fatal. */
static GstElement *
parse_words (const gchar * desc)
{
  g_autoptr (GError) err = NULL;
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
  return p;
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
  GstElement *p = parse_words (desc);
  gst_object_unref (p);
}

/* ---- frame mode: FRAME_STORE set = frames by reference, unset/empty = inline ---- */

typedef struct {
  const gchar *file;            /* pipeline file */
  const gchar *element;         /* element name in it */
  const gchar *property;        /* the property FRAME_STORE sets */
  const gchar *after_property;  /* a property set after it on the same element ... */
  const gchar *after_value;     /* ... and its value (proves no word was swallowed) */
} FrameModeCase;

static const FrameModeCase frame_mode_cases[] = {
  {"edge.pipeline", "publish", "frame-store", "camera-id", "cam1"},
  {"inference.pipeline", "consume", "frame-root", "exchange", "edgefaas"},
};

static gchar *
load_with (const gchar * file, GHashTable * t)
{
  g_autofree gchar *path = pipeline_path (file);
  g_autoptr (GError) err = NULL;
  gchar *desc = ef_pipeline_load (path, table_lookup, t, &err);
  g_assert_no_error (err);
  g_assert_nonnull (desc);
  return desc;
}

static gchar *
element_string (GstElement * pipeline, const gchar * element, const gchar * property)
{
  GstElement *e = gst_bin_get_by_name (GST_BIN (pipeline), element);
  g_assert_nonnull (e);
  gchar *v = NULL;
  g_object_get (e, property, &v, NULL);
  gst_object_unref (e);
  return v;
}

static void
test_frame_mode_store (gconstpointer data)
{
  const FrameModeCase *c = data;
  g_autoptr (GHashTable) t = full_env ();
  g_autofree gchar *desc = load_with (c->file, t);
  g_autofree gchar *word = g_strdup_printf ("%s=/tmp/frames", c->property);
  g_auto (GStrv) words = g_strsplit (desc, " ", -1);
  g_assert_true (g_strv_contains ((const gchar * const *) words, word));
  GstElement *p = parse_words (desc);
  g_autofree gchar *v = element_string (p, c->element, c->property);
  g_assert_cmpstr (v, ==, "/tmp/frames");
  g_autofree gchar *after = element_string (p, c->element, c->after_property);
  g_assert_cmpstr (after, ==, c->after_value);
  gst_object_unref (p);
}

static void
test_frame_mode_inline (gconstpointer data)
{
  const FrameModeCase *c = data;
  g_autoptr (GHashTable) store_env = full_env ();
  g_autofree gchar *store_desc = load_with (c->file, store_env);
  g_auto (GStrv) store_words = g_strsplit (store_desc, " ", -1);
  /* FRAME_STORE unset, then set but empty: both are inline mode, not an error */
  for (guint round = 0; round < 2; round++) {
    g_autoptr (GHashTable) t = full_env ();
    if (round == 0)
      g_hash_table_remove (t, "FRAME_STORE");
    else
      g_hash_table_insert (t, (gpointer) "FRAME_STORE", (gpointer) "");
    g_autofree gchar *desc = load_with (c->file, t);
    /* the same words as in store mode but exactly one: PROPERTY=NULL */
    g_auto (GStrv) words = g_strsplit (desc, " ", -1);
    g_assert_cmpuint (g_strv_length (words), ==, g_strv_length (store_words));
    guint differ = 0;
    for (guint i = 0; words[i]; i++) {
      if (g_str_equal (words[i], store_words[i]))
        continue;
      differ++;
      g_autofree gchar *want = g_strdup_printf ("%s=NULL", c->property);
      g_autofree gchar *was = g_strdup_printf ("%s=/tmp/frames", c->property);
      g_assert_cmpstr (words[i], ==, want);
      g_assert_cmpstr (store_words[i], ==, was);
    }
    g_assert_cmpuint (differ, ==, 1);
    /* gst_parse turns NULL into an unset property: amqpsink's inline mode, amqpsrc
     * without a frame root (inline frames only) */
    GstElement *p = parse_words (desc);
    g_autofree gchar *v = element_string (p, c->element, c->property);
    g_assert_null (v);
    g_autofree gchar *after = element_string (p, c->element, c->after_property);
    g_assert_cmpstr (after, ==, c->after_value);
    gst_object_unref (p);
  }
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
    g_free (n1);                /* the test path is copied */
    g_free (n2);
  }
  for (guint i = 0; i < G_N_ELEMENTS (frame_mode_cases); i++) {
    gchar *n1 = g_strdup_printf ("/pipelines/%s/frame-mode-store", frame_mode_cases[i].file);
    gchar *n2 = g_strdup_printf ("/pipelines/%s/frame-mode-inline", frame_mode_cases[i].file);
    g_test_add_data_func (n1, &frame_mode_cases[i], test_frame_mode_store);
    g_test_add_data_func (n2, &frame_mode_cases[i], test_frame_mode_inline);
    g_free (n1);
    g_free (n2);
  }
  return g_test_run ();
}
