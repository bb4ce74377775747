/* docs/elements/amqpsrc.txt is what gst-inspect-1.0 amqpsrc really prints
 * (except the Filename line, which names the build dir), and the element's
 * defaults are the documented ones. No broker needed. */
#include <string.h>
#include <gst/gst.h>
#include <gst/base/gstbasesrc.h>
#include "ef-test.h"
#include "amqp-test-util.h"

static void
test_inspect_matches_doc (void)
{
  at_assert_inspect_matches_doc ("amqpsrc");
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
