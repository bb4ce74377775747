/* docs/elements/amqpsrc.txt is what gst-inspect-1.0 amqpsrc really prints
 * (except the Filename line, which names the build dir), and the element's
 * defaults are the documented ones. No broker needed. */
#include <string.h>
#include <gst/gst.h>
#include <gst/base/gstbasesrc.h>
#include "ef-test.h"

static gchar *
strip_filename (const gchar * text)
{
  gchar **lines = g_strsplit (text, "\n", -1);
  GString *out = g_string_new (NULL);
  for (gchar ** l = lines; *l; l++)
    if (strstr (*l, "Filename") == NULL)
      g_string_append_printf (out, "%s\n", *l);
  g_strfreev (lines);
  return g_string_free (out, FALSE);
}

static void
test_inspect_matches_doc (void)
{
  const gchar *argv[] = { "gst-inspect-1.0", "amqpsrc", NULL };
  gchar *out = NULL, *doc = NULL, *path, *a, *b;
  gint status = 0;
  GError *err = NULL;

  g_assert_true (g_spawn_sync (NULL, (gchar **) argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL,
          &out, NULL, &status, &err));
  g_assert_no_error (err);
  g_assert_true (g_spawn_check_wait_status (status, NULL));
  path = g_build_filename (ef_test_source_root (), "docs", "elements", "amqpsrc.txt", NULL);
  g_assert_true (g_file_get_contents (path, &doc, NULL, &err));
  g_assert_no_error (err);
  a = strip_filename (out);
  b = strip_filename (doc);
  if (strcmp (a, b) != 0)
    g_test_message ("regenerate with: gst-inspect-1.0 amqpsrc > %s", path);
  g_assert_cmpstr (a, ==, b);
  g_free (a);
  g_free (b);
  g_free (out);
  g_free (doc);
  g_free (path);
}

static void
test_defaults (void)
{
  GstElement *e = gst_element_factory_make ("amqpsrc", NULL);
  guint prefetch;
  gint max_red;
  gchar *penv = NULL, *url = NULL;
  gboolean live;

  g_assert_nonnull (e);
  g_object_get (e, "prefetch", &prefetch, "max-redeliveries", &max_red, "password-env", &penv,
      "url", &url, "is-live", &live, NULL);
  g_assert_cmpuint (prefetch, ==, 1);
  g_assert_cmpint (max_red, ==, 5);
  g_assert_cmpstr (penv, ==, "EDGEFAAS_AMQP_PASSWORD");
  g_assert_null (url);
  g_assert_true (live);
  g_assert_true (gst_base_src_is_live (GST_BASE_SRC (e)));
  g_free (penv);
  gst_object_unref (e);
}

int
main (int argc, char **argv)
{
  ef_test_init (&argc, &argv);
  g_test_add_func ("/amqpsrc/doc/inspect-matches", test_inspect_matches_doc);
  g_test_add_func ("/amqpsrc/doc/defaults", test_defaults);
  return g_test_run ();
}
