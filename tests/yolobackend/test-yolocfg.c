/* yolocfg: the validation every model goes through before a backend sees it.
 * Real cfg/weights/names files from ../shared/models; bad variants are made
 * from them in a temporary directory. No backend is called here. */
#include "ef-test.h"
#include "yolo-test-util.h"

#include <string.h>
#include <glib/gstdio.h>

#define FASTEST "models/yolo-fastest-1.1-coco/yolo-fastest-1.1"
#define FASTEST_XL "models/yolo-fastest-1.1-xl-coco/yolo-fastest-1.1-xl"

static gchar *
model_path (const gchar * stem, const gchar * ext)
{
  gchar *rel = g_strconcat (stem, ext, NULL);
  gchar *path = ef_test_shared_path (rel);
  g_free (rel);
  return path;
}

/* Header size from the file's own version fields, as darknet's load_weights()
 * decides it; independent of yolocfg. */
static guint64
weights_header_size (const gchar * path)
{
  gchar *data = NULL;
  gsize len = 0;
  gint32 ver[2];
  g_assert_true (g_file_get_contents (path, &data, &len, NULL));
  g_assert_cmpuint (len, >=, 8);
  memcpy (ver, data, sizeof ver);
  g_free (data);
  return 12 + ((ver[0] * 10 + ver[1]) >= 2 ? 8 : 4);
}

static guint64
file_size (const gchar * path)
{
  GStatBuf st;
  g_assert_cmpint (g_stat (path, &st), ==, 0);
  return st.st_size;
}

/* The computed parameter count accounts for every byte of the published
 * Yolo-Fastest 1.1 and 1.1-XL weights. */
static void
test_param_count_real_weights (void)
{
  const gchar *stems[] = { FASTEST, FASTEST_XL };

  for (guint i = 0; i < G_N_ELEMENTS (stems); i++) {
    gchar *cfg_path = model_path (stems[i], ".cfg");
    gchar *weights = model_path (stems[i], ".weights");
    GError *error = NULL;
    YoloCfg *cfg;
    guint64 params;

    if (!cfg_path || !weights)
      return;
    cfg = yolo_cfg_load (cfg_path, &error);
    g_assert_no_error (error);
    params = yolo_cfg_param_count (cfg, &error);
    g_assert_no_error (error);
    g_assert_cmpuint (weights_header_size (weights) + 4 * params, ==,
        file_size (weights));
    g_assert_true (yolo_cfg_check_weights (cfg, weights, &error));
    g_assert_no_error (error);
    /* the layout the generator uses sums to the same count */
    {
      GArray *layout = yolo_cfg_param_layout (cfg);
      guint64 sum = 0;
      for (guint k = 0; k < layout->len; k++)
        sum += g_array_index (layout, YoloParamBlock, k).count;
      g_assert_cmpuint (sum, ==, params);
      g_array_unref (layout);
    }
    g_assert_cmpint (yolo_cfg_width (cfg), ==, 320);
    g_assert_cmpint (yolo_cfg_height (cfg), ==, 320);
    g_assert_cmpint (yolo_cfg_classes (cfg), ==, 80);
    g_assert_cmpuint (yolo_cfg_n_outputs (cfg), ==, 2);
    yolo_cfg_free (cfg);
    g_free (cfg_path);
    g_free (weights);
  }
}

/* yolov4 / yolov4-tiny / yolov3-tiny: the parameter counts must equal those of
 * the official weights files published with AlexeyAB/darknet (sizes listed in
 * docs/models.md): yolov4.weights 257717640 bytes, yolov4-tiny.weights
 * 24251276 bytes, yolov3-tiny.weights 35434956 bytes, all with the 20-byte
 * header. Cross-checked against libdarknet's own parser in test-yolobackend
 * for the cfgs it can parse. */
static void
test_param_count_reference_cfgs (void)
{
  const struct
  {
    const gchar *cfg;
    guint64 official_bytes;
    guint n_outputs;
  } cases[] = {
    {"models/cfg/yolov4.cfg", 257717640, 3},
    {"models/cfg/yolov4-tiny.cfg", 24251276, 2},
    {"models/cfg/yolov3-tiny.cfg", 35434956, 2},
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
    gchar *path = ef_test_shared_path (cases[i].cfg);
    GError *error = NULL;
    YoloCfg *cfg;

    if (!path)
      return;
    cfg = yolo_cfg_load (path, &error);
    g_assert_no_error (error);
    g_assert_cmpuint (20 + 4 * yolo_cfg_param_count (cfg, NULL), ==,
        cases[i].official_bytes);
    g_assert_cmpuint (yolo_cfg_n_outputs (cfg), ==, cases[i].n_outputs);
    g_assert_true (yolo_cfg_check_backend (cfg, YOLO_BACKEND_KIND_OPENCV,
            &error));
    g_assert_no_error (error);
    yolo_cfg_free (cfg);
    g_free (path);
  }
}

typedef struct
{
  gchar *dir;
  gchar *cfg_path;
  gchar *weights_path;
  gchar *names_path;
  YoloCfg *cfg;
} Fixture;

static void
fixture_setup (Fixture * f, gconstpointer data)
{
  GError *error = NULL;
  f->dir = ef_test_mkdtemp ("yolocfg");
  f->cfg_path = model_path (FASTEST, ".cfg");
  f->weights_path = model_path (FASTEST, ".weights");
  f->names_path = ef_test_shared_path ("models/yolo-fastest-1.1-coco/coco.names");
  if (f->cfg_path) {
    f->cfg = yolo_cfg_load (f->cfg_path, &error);
    g_assert_no_error (error);
  }
}

static void
fixture_teardown (Fixture * f, gconstpointer data)
{
  yolo_cfg_free (f->cfg);
  ef_test_rm_rf (f->dir);
  g_free (f->dir);
  g_free (f->cfg_path);
  g_free (f->weights_path);
  g_free (f->names_path);
}

static gchar *
write_variant (Fixture * f, const gchar * name, const gchar * data, gsize len)
{
  gchar *path = g_build_filename (f->dir, name, NULL);
  g_assert_true (g_file_set_contents (path, data, len, NULL));
  return path;
}

static void
assert_weights_rejected (Fixture * f, const gchar * name, const gchar * data,
    gsize len)
{
  gchar *path = write_variant (f, name, data, len);
  GError *error = NULL;
  gchar *have = g_strdup_printf ("%" G_GSIZE_FORMAT " bytes", len);
  gchar *need = g_strdup_printf ("%" G_GUINT64_FORMAT " bytes",
      file_size (f->weights_path));

  g_assert_false (yolo_cfg_check_weights (f->cfg, path, &error));
  g_assert_error (error, YOLO_CFG_ERROR, YOLO_CFG_ERROR_WEIGHTS);
  g_test_message ("%s: %s", name, error->message);
  g_assert_nonnull (strstr (error->message, have));
  g_assert_nonnull (strstr (error->message, need));
  g_assert_nonnull (strstr (error->message, path));
  g_error_free (error);
  g_free (have);
  g_free (need);
  g_free (path);
}

static void
test_weights_size_rejected (Fixture * f, gconstpointer data)
{
  gchar *w = NULL, *longer;
  gsize len = 0;

  if (!f->cfg || !f->weights_path)
    return;
  g_assert_true (g_file_get_contents (f->weights_path, &w, &len, NULL));
  assert_weights_rejected (f, "truncated.weights", w, len - 4);
  assert_weights_rejected (f, "half.weights", w, len / 2);
  longer = g_malloc0 (len + 4);
  memcpy (longer, w, len);
  assert_weights_rejected (f, "long.weights", longer, len + 4);
  assert_weights_rejected (f, "empty.weights", "", 0);
  assert_weights_rejected (f, "header-only.weights", w, 20);
  /* the exact copy passes: the size check is not a blanket refusal */
  {
    gchar *copy = write_variant (f, "copy.weights", w, len);
    GError *error = NULL;
    g_assert_true (yolo_cfg_check_weights (f->cfg, copy, &error));
    g_assert_no_error (error);
    g_free (copy);
  }
  g_free (longer);
  g_free (w);
}

static void
test_weights_missing (Fixture * f, gconstpointer data)
{
  gchar *path = g_build_filename (f->dir, "nope.weights", NULL);
  GError *error = NULL;

  if (!f->cfg)
    return;
  g_assert_false (yolo_cfg_check_weights (f->cfg, path, &error));
  g_assert_error (error, YOLO_CFG_ERROR, YOLO_CFG_ERROR_NOT_FOUND);
  g_assert_nonnull (strstr (error->message, path));
  g_error_free (error);
  g_free (path);
}

/* The real cfg with @insert put before its line @at (1-based). */
static gchar *
cfg_with_line (Fixture * f, const gchar * name, guint at, const gchar * insert)
{
  gchar *text = NULL, *out, *path;
  gchar **lines;
  GString *s = g_string_new (NULL);

  g_assert_true (g_file_get_contents (f->cfg_path, &text, NULL, NULL));
  lines = g_strsplit (text, "\n", -1);
  g_assert_cmpuint (g_strv_length (lines), >, at);
  for (guint i = 0; lines[i]; i++) {
    if (i + 1 == at)
      g_string_append_printf (s, "%s\n", insert);
    g_string_append (s, lines[i]);
    if (lines[i + 1])
      g_string_append_c (s, '\n');
  }
  out = g_string_free (s, FALSE);
  path = write_variant (f, name, out, strlen (out));
  g_free (out);
  g_strfreev (lines);
  g_free (text);
  return path;
}

static void
test_cfg_syntax_error_line (Fixture * f, gconstpointer data)
{
  const guint lines[] = { 2, 57, 300 };
  const gchar *garbage[] = { "this is not an option", "filters", "=3" };

  if (!f->cfg)
    return;
  for (guint i = 0; i < G_N_ELEMENTS (lines); i++) {
    gchar *path = cfg_with_line (f, "syntax.cfg", lines[i], garbage[i]);
    gchar *where = g_strdup_printf ("%s:%u:", path, lines[i]);
    GError *error = NULL;
    YoloCfg *cfg = yolo_cfg_load (path, &error);

    g_assert_null (cfg);
    g_assert_error (error, YOLO_CFG_ERROR, YOLO_CFG_ERROR_SYNTAX);
    g_test_message ("%s", error->message);
    g_assert_true (g_str_has_prefix (error->message, where));
    g_error_free (error);
    g_free (where);
    g_free (path);
  }
  /* a value that is not a number, on a known line */
  {
    gchar *path = cfg_with_line (f, "value.cfg", 22, "[convolutional]\n"
        "filters=eight\nsize=1\nactivation=leaky\n");
    gchar *where = g_strdup_printf ("%s:23:", path);
    GError *error = NULL;
    g_assert_null (yolo_cfg_load (path, &error));
    g_assert_error (error, YOLO_CFG_ERROR, YOLO_CFG_ERROR_SYNTAX);
    g_assert_true (g_str_has_prefix (error->message, where));
    g_assert_nonnull (strstr (error->message, "filters=eight"));
    g_error_free (error);
    g_free (where);
    g_free (path);
  }
}

static void
test_cfg_unknown_section (Fixture * f, gconstpointer data)
{
  gchar *path, *where;
  GError *error = NULL;

  if (!f->cfg)
    return;
  path = cfg_with_line (f, "unknown.cfg", 31, "[frobnicate]\nsize=3\n");
  where = g_strdup_printf ("%s:31:", path);
  g_assert_null (yolo_cfg_load (path, &error));
  g_assert_error (error, YOLO_CFG_ERROR, YOLO_CFG_ERROR_UNSUPPORTED);
  g_assert_true (g_str_has_prefix (error->message, where));
  g_assert_nonnull (strstr (error->message, "[frobnicate]"));
  g_error_free (error);
  g_free (where);
  g_free (path);
}

static void
test_cfg_missing_and_garbage (Fixture * f, gconstpointer data)
{
  gchar *missing = g_build_filename (f->dir, "missing.cfg", NULL);
  gchar *binary = write_variant (f, "binary.cfg", "\x7f" "ELF\0\1\2", 7);
  gchar *empty = write_variant (f, "empty.cfg", "# nothing\n", 10);
  GError *error = NULL;

  g_assert_null (yolo_cfg_load (missing, &error));
  g_assert_error (error, YOLO_CFG_ERROR, YOLO_CFG_ERROR_NOT_FOUND);
  g_assert_nonnull (strstr (error->message, missing));
  g_clear_error (&error);
  g_assert_null (yolo_cfg_load (binary, &error));
  g_assert_error (error, YOLO_CFG_ERROR, YOLO_CFG_ERROR_SYNTAX);
  g_clear_error (&error);
  g_assert_null (yolo_cfg_load (empty, &error));
  g_assert_error (error, YOLO_CFG_ERROR, YOLO_CFG_ERROR_SYNTAX);
  g_clear_error (&error);
  g_free (missing);
  g_free (binary);
  g_free (empty);
}

/* filters= before a [yolo] layer must match classes= */
static void
test_cfg_yolo_filters_mismatch (Fixture * f, gconstpointer data)
{
  gchar *text = NULL, *bad, *path;
  GError *error = NULL;

  if (!f->cfg)
    return;
  g_assert_true (g_file_get_contents (f->cfg_path, &text, NULL, NULL));
  /* classes=80 -> classes=79 in both [yolo] layers: filters=255 now wrong */
  {
    gchar **parts = g_strsplit (text, "classes=80", -1);
    g_assert_cmpuint (g_strv_length (parts), ==, 3);
    bad = g_strjoinv ("classes=79", parts);
    g_strfreev (parts);
  }
  path = write_variant (f, "filters.cfg", bad, strlen (bad));
  g_assert_null (yolo_cfg_load (path, &error));
  g_assert_error (error, YOLO_CFG_ERROR, YOLO_CFG_ERROR_SYNTAX);
  g_assert_nonnull (strstr (error->message, "classes=79"));
  g_assert_nonnull (strstr (error->message, "255"));
  g_error_free (error);
  g_free (path);
  g_free (bad);
  g_free (text);
}

static void
test_labels (Fixture * f, gconstpointer data)
{
  gchar *text = NULL, *path, **labels, *cut;
  GError *error = NULL;

  if (!f->cfg || !f->names_path)
    return;
  labels = yolo_cfg_load_labels (f->cfg, f->names_path, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_strv_length (labels), ==, 80);
  g_assert_cmpstr (labels[0], ==, "person");
  g_assert_cmpstr (labels[16], ==, "dog");
  g_strfreev (labels);

  /* drop the last label: 79 lines */
  g_assert_true (g_file_get_contents (f->names_path, &text, NULL, NULL));
  g_strchomp (text);
  cut = strrchr (text, '\n');
  g_assert_nonnull (cut);
  *cut = '\0';
  path = write_variant (f, "79.names", text, strlen (text));
  g_assert_null (yolo_cfg_load_labels (f->cfg, path, &error));
  g_assert_error (error, YOLO_CFG_ERROR, YOLO_CFG_ERROR_LABELS);
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, "79 labels"));
  g_assert_nonnull (strstr (error->message, "classes=80"));
  g_assert_nonnull (strstr (error->message, path));
  g_clear_error (&error);
  g_free (path);

  /* 81 lines */
  *cut = '\n';
  {
    gchar *more = g_strconcat (text, "\nextra\n", NULL);
    path = write_variant (f, "81.names", more, strlen (more));
    g_assert_null (yolo_cfg_load_labels (f->cfg, path, &error));
    g_assert_error (error, YOLO_CFG_ERROR, YOLO_CFG_ERROR_LABELS);
    g_assert_nonnull (strstr (error->message, "81 labels"));
    g_clear_error (&error);
    g_free (path);
    g_free (more);
  }
  g_free (text);
}

/* Debian's libdarknet silently mangles YOLOv4: the validator must say which
 * option it cannot run, with the line; OpenCV runs both. */
static void
test_darknet_refuses_yolov4 (void)
{
  const struct
  {
    const gchar *cfg;
    const gchar *needle;
  } cases[] = {
    {"models/cfg/yolov4-tiny.cfg", "groups=2"},
    {"models/cfg/yolov4.cfg", "activation=mish"},
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
    gchar *path = ef_test_shared_path (cases[i].cfg);
    GError *error = NULL;
    YoloCfg *cfg;

    if (!path)
      return;
    cfg = yolo_cfg_load (path, &error);
    g_assert_no_error (error);
    g_assert_false (yolo_cfg_check_backend (cfg, YOLO_BACKEND_KIND_DARKNET,
            &error));
    g_assert_error (error, YOLO_CFG_ERROR, YOLO_CFG_ERROR_UNSUPPORTED);
    g_test_message ("%s", error->message);
    g_assert_nonnull (strstr (error->message, cases[i].needle));
    g_assert_nonnull (strstr (error->message, path));
    g_clear_error (&error);
    g_assert_true (yolo_cfg_check_backend (cfg, YOLO_BACKEND_KIND_OPENCV,
            &error));
    g_assert_no_error (error);
    yolo_cfg_free (cfg);
    g_free (path);
  }
}

/* Activations outside a backend's list are refused by that backend only. */
static void
test_activation_tables (Fixture * f, gconstpointer data)
{
  gchar *path;
  GError *error = NULL;
  YoloCfg *cfg;

  if (!f->cfg)
    return;
  /* selu: darknet has it, OpenCV does not */
  path = cfg_with_line (f, "selu.cfg", 31,
      "[convolutional]\nfilters=8\nsize=1\nactivation=selu\n");
  cfg = yolo_cfg_load (path, &error);
  g_assert_no_error (error);
  g_assert_false (yolo_cfg_check_backend (cfg, YOLO_BACKEND_KIND_OPENCV,
          &error));
  g_assert_error (error, YOLO_CFG_ERROR, YOLO_CFG_ERROR_UNSUPPORTED);
  g_assert_nonnull (strstr (error->message, "activation=selu"));
  g_clear_error (&error);
  g_assert_true (yolo_cfg_check_backend (cfg, YOLO_BACKEND_KIND_DARKNET,
          &error));
  g_assert_no_error (error);
  yolo_cfg_free (cfg);
  g_free (path);
}

/* The rewrite handed to backends parses back to the same network. */
static void
test_cfg_rewrite (Fixture * f, gconstpointer data)
{
  gchar *text, *path;
  GError *error = NULL;
  YoloCfg *again;

  if (!f->cfg)
    return;
  text = yolo_cfg_to_string (f->cfg, 4, 416, 256, 0.0);
  g_assert_nonnull (strstr (text, "batch=4\n"));
  g_assert_nonnull (strstr (text, "thresh=0\n"));
  path = write_variant (f, "rewrite.cfg", text, strlen (text));
  again = yolo_cfg_load (path, &error);
  g_assert_no_error (error);
  g_assert_cmpint (yolo_cfg_width (again), ==, 416);
  g_assert_cmpint (yolo_cfg_height (again), ==, 256);
  g_assert_cmpuint (yolo_cfg_param_count (again, NULL), ==,
      yolo_cfg_param_count (f->cfg, NULL));
  g_assert_cmpuint (yolo_cfg_n_layers (again), ==, yolo_cfg_n_layers (f->cfg));
  /* grids follow the input size: 416/32 x 256/32 for the coarse output */
  g_assert_cmpint (yolo_cfg_output (again, 0)->grid_w, ==, 416 / 32);
  g_assert_cmpint (yolo_cfg_output (again, 0)->grid_h, ==, 256 / 32);
  yolo_cfg_free (again);
  g_free (path);
  g_free (text);
}

static void
test_input_size (Fixture * f, gconstpointer data)
{
  GError *error = NULL;

  if (!f->cfg)
    return;
  g_assert_true (yolo_cfg_check_input_size (f->cfg, 320, 320, &error));
  g_assert_true (yolo_cfg_check_input_size (f->cfg, 416, 416, &error));
  g_assert_true (yolo_cfg_check_input_size (f->cfg, 640, 352, &error));
  g_assert_no_error (error);
  /* 300: the upsampled 10x10 map meets a 19x19 one in a [route] */
  g_assert_false (yolo_cfg_check_input_size (f->cfg, 300, 300, &error));
  g_assert_error (error, YOLO_CFG_ERROR, YOLO_CFG_ERROR_UNSUPPORTED);
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, "300x300"));
  g_assert_nonnull (strstr (error->message, "[route]"));
  g_clear_error (&error);
  g_assert_false (yolo_cfg_check_input_size (f->cfg, 0, 320, &error));
  g_assert_error (error, YOLO_CFG_ERROR, YOLO_CFG_ERROR_UNSUPPORTED);
  g_clear_error (&error);
}

/* backend=auto: the fastest backend that runs the model */
static void
test_pick_auto (Fixture * f, gconstpointer data)
{
  GError *error = NULL;
  const YoloBackendVTable *vt;
  gchar *tiny_path = ef_test_shared_path ("models/cfg/yolov4-tiny.cfg");
  gchar *selu_path;
  YoloCfg *cfg;

  if (!f->cfg || !tiny_path)
    return;
  g_assert_nonnull (yolo_backend_opencv ());
  g_assert_nonnull (yolo_backend_darknet ());
  vt = yolo_backend_pick_auto (f->cfg, "cpu", &error);
  g_assert_no_error (error);
  g_assert_true (vt == yolo_backend_opencv ());

  cfg = yolo_cfg_load (tiny_path, &error);
  g_assert_no_error (error);
  g_assert_true (yolo_backend_pick_auto (cfg, "cpu", &error) ==
      yolo_backend_opencv ());
  yolo_cfg_free (cfg);

  /* OpenCV cannot run selu; darknet can: auto falls back to darknet, and with
   * device=cuda nothing can run it */
  selu_path = cfg_with_line (f, "selu.cfg", 31,
      "[convolutional]\nfilters=8\nsize=1\nactivation=selu\n");
  cfg = yolo_cfg_load (selu_path, &error);
  g_assert_no_error (error);
  g_assert_true (yolo_backend_pick_auto (cfg, "cpu", &error) ==
      yolo_backend_darknet ());
  g_assert_no_error (error);
  g_assert_null (yolo_backend_pick_auto (cfg, "cuda", &error));
  g_assert_error (error, YOLO_CFG_ERROR, YOLO_CFG_ERROR_UNSUPPORTED);
  g_assert_nonnull (strstr (error->message, "activation=selu"));
  g_assert_nonnull (strstr (error->message, "CPU only"));
  g_clear_error (&error);
  yolo_cfg_free (cfg);
  g_free (selu_path);
  g_free (tiny_path);
}

/* The weights generator: exact size, loads past validation, deterministic
 * per seed. */
static void
test_generated_weights (Fixture * f, gconstpointer data)
{
  gchar *a = g_build_filename (f->dir, "a.weights", NULL);
  gchar *b = g_build_filename (f->dir, "b.weights", NULL);
  gchar *c = g_build_filename (f->dir, "c.weights", NULL);
  gchar *da = NULL, *db = NULL, *dc = NULL;
  gsize la, lb, lc;
  GError *error = NULL;

  if (!f->cfg)
    return;
  g_assert_true (yolo_test_write_weights (f->cfg, a, 7, &error));
  g_assert_true (yolo_test_write_weights (f->cfg, b, 7, &error));
  g_assert_true (yolo_test_write_weights (f->cfg, c, 8, &error));
  g_assert_no_error (error);
  g_assert_true (yolo_cfg_check_weights (f->cfg, a, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (file_size (a), ==, file_size (f->weights_path));
  g_assert_true (g_file_get_contents (a, &da, &la, NULL));
  g_assert_true (g_file_get_contents (b, &db, &lb, NULL));
  g_assert_true (g_file_get_contents (c, &dc, &lc, NULL));
  g_assert_cmpmem (da, la, db, lb);
  g_assert_cmpuint (la, ==, lc);
  g_assert_true (memcmp (da + 20, dc + 20, la - 20) != 0);
  g_free (da);
  g_free (db);
  g_free (dc);
  g_free (a);
  g_free (b);
  g_free (c);
}

static void
test_cfg_duplicate_key (Fixture * f, gconstpointer data)
{
  gchar *path, *where;
  GError *error = NULL;

  if (!f->cfg)
    return;
  path = cfg_with_line (f, "dup.cfg", 31,
      "[convolutional]\nfilters=8\nsize=1\nfilters=16\nactivation=leaky\n");
  where = g_strdup_printf ("%s:34:", path);
  g_assert_null (yolo_cfg_load (path, &error));
  g_assert_error (error, YOLO_CFG_ERROR, YOLO_CFG_ERROR_SYNTAX);
  g_assert_true (g_str_has_prefix (error->message, where));
  g_assert_nonnull (strstr (error->message, "line 32"));
  g_clear_error (&error);
  g_free (where);
  g_free (path);
}

/* Every cfg Debian's darknet package ships: the validator either accepts it
 * (and then the weights size it demands is positive and the detection layers
 * are there) or refuses it with an error naming the file; never a crash. The
 * YOLO detectors among them (v2, v3, v3-tiny, v3-spp) are accepted. */
static void
test_debian_cfgs (void)
{
  const gchar *dirname = "/usr/share/darknet/cfg";
  const gchar *must_load[] = { "yolov2.cfg", "yolov2-tiny.cfg", "yolov3.cfg",
    "yolov3-tiny.cfg", "yolov3-spp.cfg", "yolov3-voc.cfg", NULL
  };
  GDir *dir = g_dir_open (dirname, 0, NULL);
  const gchar *name;
  guint n_loaded = 0, n_refused = 0;

  if (!dir) {
    g_test_message ("CANNOT RUN: %s missing (apt-get install darknet)", dirname);
    g_test_fail ();
    return;
  }
  while ((name = g_dir_read_name (dir))) {
    gchar *path;
    GError *error = NULL;
    YoloCfg *cfg;
    if (!g_str_has_suffix (name, ".cfg"))
      continue;
    path = g_build_filename (dirname, name, NULL);
    cfg = yolo_cfg_load (path, &error);
    if (cfg) {
      n_loaded++;
      g_assert_no_error (error);
      g_assert_cmpuint (yolo_cfg_param_count (cfg, NULL), >, 0);
      g_assert_cmpuint (yolo_cfg_n_outputs (cfg), >, 0);
      yolo_cfg_free (cfg);
    } else {
      n_refused++;
      g_assert_nonnull (error);
      g_assert_true (error->domain == YOLO_CFG_ERROR);
      g_assert_true (g_str_has_prefix (error->message, path));
      g_assert_false (g_strv_contains (must_load, name));
      g_clear_error (&error);
    }
    g_free (path);
  }
  g_dir_close (dir);
  g_test_message ("%u accepted, %u refused", n_loaded, n_refused);
  g_assert_cmpuint (n_loaded, >=, g_strv_length ((gchar **) must_load));
}

/* Seeded random mutations of a real cfg (lines dropped, duplicated, numbers
 * changed, bytes replaced): every variant either loads or fails with a
 * YOLO_CFG_ERROR naming the file, and whatever loads answers every query and
 * the backend checks. Meant for the sanitizer build as much as this one. */
static void
test_cfg_mutations (Fixture * f, gconstpointer data)
{
  GRand *rand = g_rand_new_with_seed (20240605);
  gchar *text = NULL, *path = g_build_filename (f->dir, "mut.cfg", NULL);
  gchar **lines;
  guint n_lines, loaded = 0;
  const gchar *numbers[] = { "0", "-1", "1", "3", "1000000", "2147483647",
    "-2147483648", "9999999999", "0.5", "x", ""
  };

  if (!f->cfg)
    return;
  g_assert_true (g_file_get_contents (f->cfg_path, &text, NULL, NULL));
  lines = g_strsplit (text, "\n", -1);
  n_lines = g_strv_length (lines);
  for (guint iter = 0; iter < 400; iter++) {
    GString *out = g_string_new (NULL);
    GError *error = NULL;
    YoloCfg *cfg;
    /* 1 to 3 mutations at random lines */
    gint targets[3], kinds[3];
    const gint n_mut = g_rand_int_range (rand, 1, 4);
    for (gint k = 0; k < 3; k++) {
      targets[k] = k < n_mut ? g_rand_int_range (rand, 0, n_lines) : -1;
      kinds[k] = g_rand_int_range (rand, 0, 4);
    }
    for (guint i = 0; i < n_lines; i++) {
      const gchar *line = lines[i];
      gint kind = -1;
      for (gint k = 0; k < 3; k++)
        if (targets[k] == (gint) i)
          kind = kinds[k];
      if (kind == 0)
        continue;               /* drop */
      if (kind == 1)
        g_string_append_printf (out, "%s\n", line);    /* duplicate */
      if (kind == 2 && strchr (line, '=')) {
        g_string_append_len (out, line, strchr (line, '=') - line + 1);
        g_string_append_printf (out, "%s\n", numbers[g_rand_int_range (rand,
                    0, G_N_ELEMENTS (numbers))]);
        continue;
      }
      if (kind == 3 && *line) {
        gchar *copy = g_strdup (line);
        copy[g_rand_int_range (rand, 0, strlen (copy))] =
            (gchar) g_rand_int_range (rand, 1, 256);
        g_string_append_printf (out, "%s\n", copy);
        g_free (copy);
        continue;
      }
      g_string_append_printf (out, "%s\n", line);
    }
    g_assert_true (g_file_set_contents (path, out->str, out->len, NULL));
    cfg = yolo_cfg_load (path, &error);
    if (cfg) {
      loaded++;
      g_assert_no_error (error);
      (void) yolo_cfg_param_count (cfg, NULL);
      (void) yolo_cfg_check_backend (cfg, YOLO_BACKEND_KIND_OPENCV, NULL);
      (void) yolo_cfg_check_backend (cfg, YOLO_BACKEND_KIND_DARKNET, NULL);
      (void) yolo_cfg_check_input_size (cfg, 416, 416, NULL);
      (void) yolo_cfg_check_weights (cfg, f->weights_path, NULL);
      g_free (yolo_cfg_to_string (cfg, 2, 0, 0, 0.1));
      yolo_cfg_free (cfg);
    } else {
      g_assert_nonnull (error);
      g_assert_true (error->domain == YOLO_CFG_ERROR);
      g_assert_true (g_str_has_prefix (error->message, path));
      g_clear_error (&error);
    }
    g_string_free (out, TRUE);
  }
  /* the mutations are not all fatal, nor all harmless */
  g_test_message ("%u of 400 mutants loaded", loaded);
  g_assert_cmpuint (loaded, >, 0);
  g_assert_cmpuint (loaded, <, 400);
  g_strfreev (lines);
  g_free (text);
  g_free (path);
  g_rand_free (rand);
}

int
main (int argc, char **argv)
{
  ef_test_init (&argc, &argv);

  g_test_add_func ("/yolocfg/param-count/real-weights",
      test_param_count_real_weights);
  g_test_add_func ("/yolocfg/param-count/reference-cfgs",
      test_param_count_reference_cfgs);
  g_test_add ("/yolocfg/weights/size-rejected", Fixture, NULL, fixture_setup,
      test_weights_size_rejected, fixture_teardown);
  g_test_add ("/yolocfg/weights/missing", Fixture, NULL, fixture_setup,
      test_weights_missing, fixture_teardown);
  g_test_add ("/yolocfg/cfg/syntax-error-line", Fixture, NULL, fixture_setup,
      test_cfg_syntax_error_line, fixture_teardown);
  g_test_add ("/yolocfg/cfg/unknown-section", Fixture, NULL, fixture_setup,
      test_cfg_unknown_section, fixture_teardown);
  g_test_add ("/yolocfg/cfg/missing-and-garbage", Fixture, NULL,
      fixture_setup, test_cfg_missing_and_garbage, fixture_teardown);
  g_test_add ("/yolocfg/cfg/yolo-filters-mismatch", Fixture, NULL,
      fixture_setup, test_cfg_yolo_filters_mismatch, fixture_teardown);
  g_test_add ("/yolocfg/cfg/rewrite", Fixture, NULL, fixture_setup,
      test_cfg_rewrite, fixture_teardown);
  g_test_add ("/yolocfg/labels/count", Fixture, NULL, fixture_setup,
      test_labels, fixture_teardown);
  g_test_add_func ("/yolocfg/backend/darknet-refuses-yolov4",
      test_darknet_refuses_yolov4);
  g_test_add ("/yolocfg/backend/activation-tables", Fixture, NULL,
      fixture_setup, test_activation_tables, fixture_teardown);

  g_test_add ("/yolocfg/cfg/duplicate-key", Fixture, NULL, fixture_setup,
      test_cfg_duplicate_key, fixture_teardown);
  g_test_add_func ("/yolocfg/cfg/debian-cfgs", test_debian_cfgs);
  g_test_add ("/yolocfg/cfg/mutations", Fixture, NULL, fixture_setup,
      test_cfg_mutations, fixture_teardown);
  g_test_add ("/yolocfg/weights/generated", Fixture, NULL, fixture_setup,
      test_generated_weights, fixture_teardown);
  g_test_add ("/yolocfg/cfg/input-size", Fixture, NULL, fixture_setup,
      test_input_size, fixture_teardown);
  g_test_add ("/yolocfg/backend/pick-auto", Fixture, NULL, fixture_setup,
      test_pick_auto, fixture_teardown);

  return g_test_run ();
}
