/* framestore_prune (plugins/amqp/framestore-retention.c): age bound, size
 * bound oldest first, protected (unconfirmed) and recent frames never
 * deleted, hidden temporary files ignored, old empty date directories
 * removed and today's kept. Real files in a temporary directory, mtimes set
 * with utimes. */
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <glib.h>
#include <glib/gstdio.h>

#include "ef-test.h"
#include "framestore-retention.h"

#define DAY_US (G_GINT64_CONSTANT (86400) * G_USEC_PER_SEC)

/* <root>/<cam>/<date>/<name> of @size bytes, modified at @mtime_us. Returns
 * its canonical path. */
static gchar *
make_frame (const gchar * root, const gchar * cam, const gchar * date, const gchar * name,
    gsize size, gint64 mtime_us)
{
  gchar *dir = g_build_filename (root, cam, date, NULL);
  gchar *path = g_build_filename (dir, name, NULL);
  gchar *data = g_malloc0 (size);
  struct timeval tv[2];
  gchar *canon;

  g_assert_cmpint (g_mkdir_with_parents (dir, 0755), ==, 0);
  g_assert_true (g_file_set_contents (path, data, size, NULL));
  tv[0].tv_sec = tv[1].tv_sec = mtime_us / G_USEC_PER_SEC;
  tv[0].tv_usec = tv[1].tv_usec = mtime_us % G_USEC_PER_SEC;
  g_assert_cmpint (utimes (path, tv), ==, 0);
  canon = realpath (path, NULL);
  g_assert_nonnull (canon);
  g_free (data);
  g_free (dir);
  g_free (path);
  return canon;
}

static void
test_age_bound (void)
{
  gchar *root = ef_test_mkdtemp ("retention-age");
  gint64 now = g_get_real_time ();
  gchar *old1 = make_frame (root, "cam", "2020-01-01", "1-a-1.jpg", 100, now - 10 * DAY_US);
  gchar *old2 = make_frame (root, "cam", "2020-01-01", "1-a-2.jpg", 100, now - 9 * DAY_US);
  gchar *young = make_frame (root, "cam", "2020-01-02", "1-a-3.jpg", 100, now - (gint64) 3600 * G_USEC_PER_SEC);
  gchar *tmp = make_frame (root, "cam", "2020-01-02", ".1-a-4.jpg.XXXX", 100, now - 10 * DAY_US);
  gchar *olddir = g_build_filename (root, "cam", "2020-01-01", NULL);
  FramestorePruneResult r;
  GError *err = NULL;

  g_assert_true (framestore_prune (root, now, DAY_US, 0, NULL, now, &r, &err));
  g_assert_no_error (err);
  g_assert_cmpuint (r.deleted, ==, 2);
  g_assert_cmpuint (r.freed_bytes, ==, 200);
  g_assert_cmpuint (r.kept, ==, 1);
  g_assert_false (g_file_test (old1, G_FILE_TEST_EXISTS));
  g_assert_false (g_file_test (old2, G_FILE_TEST_EXISTS));
  g_assert_true (g_file_test (young, G_FILE_TEST_EXISTS));
  g_assert_true (g_file_test (tmp, G_FILE_TEST_EXISTS));       /* hidden: not ours to judge */
  g_assert_false (g_file_test (olddir, G_FILE_TEST_EXISTS));   /* empty old date dir gone */

  /* no bound at all: nothing happens */
  g_assert_true (framestore_prune (root, now, 0, 0, NULL, now, &r, &err));
  g_assert_cmpuint (r.deleted, ==, 0);
  g_assert_true (g_file_test (young, G_FILE_TEST_EXISTS));

  ef_test_rm_rf (root);
  g_free (root);
  g_free (old1);
  g_free (old2);
  g_free (young);
  g_free (tmp);
  g_free (olddir);
}

static void
test_size_bound_oldest_first_and_protected (void)
{
  gchar *root = ef_test_mkdtemp ("retention-size");
  gint64 now = g_get_real_time ();
  GDateTime *dt = g_date_time_new_from_unix_utc (now / G_USEC_PER_SEC);
  gchar *today = g_date_time_format (dt, "%Y-%m-%d");
  gchar *f[6];
  GHashTable *protect = g_hash_table_new (g_str_hash, g_str_equal);
  FramestorePruneResult r;
  GError *err = NULL;

  /* six 1000-byte frames, f[0] the oldest; two cameras */
  for (guint i = 0; i < 6; i++) {
    gchar *name = g_strdup_printf ("0-r-%u.jpg", i);
    f[i] = make_frame (root, i % 2 ? "camB" : "camA", today, name, 1000,
        now - (gint64) (60 - i) * G_USEC_PER_SEC);
    g_free (name);
  }
  /* f[0] is not confirmed yet: protected; f[5] was written after the
   * snapshot of the protected set: too recent */
  g_hash_table_add (protect, f[0]);
  g_assert_true (framestore_prune (root, now, 0, 2500, protect,
          now - 55 * G_USEC_PER_SEC, &r, &err));
  g_assert_no_error (err);
  /* 6000 bytes, bound 2500: f[1], f[2], f[3] go (oldest deletable first);
   * then 3000 bytes left in f[0] (protected), f[4], f[5] (too recent): f[4]
   * goes too, leaving 2000 */
  g_assert_true (g_file_test (f[0], G_FILE_TEST_EXISTS));
  for (guint i = 1; i <= 4; i++)
    g_assert_false (g_file_test (f[i], G_FILE_TEST_EXISTS));
  g_assert_true (g_file_test (f[5], G_FILE_TEST_EXISTS));
  g_assert_cmpuint (r.deleted, ==, 4);
  g_assert_cmpuint (r.kept_bytes, ==, 2000);
  g_assert_cmpuint (r.protected_files, ==, 2);

  /* everything protected and the bound still exceeded: nothing deleted */
  g_hash_table_add (protect, f[5]);
  g_assert_true (framestore_prune (root, now, 0, 1, protect, now, &r, &err));
  g_assert_cmpuint (r.deleted, ==, 0);
  g_assert_cmpuint (r.kept, ==, 2);
  /* today's date directory stays even when empty */
  g_hash_table_remove_all (protect);
  g_assert_true (framestore_prune (root, now, 0, 1, protect, now, &r, &err));
  g_assert_cmpuint (r.deleted, ==, 2);
  {
    gchar *d = g_build_filename (root, "camA", today, NULL);
    g_assert_true (g_file_test (d, G_FILE_TEST_IS_DIR));
    g_free (d);
  }

  g_assert_false (framestore_prune ("/nonexistent/frames", now, 1, 0, NULL, now, &r, &err));
  g_assert_nonnull (err);
  g_clear_error (&err);

  for (guint i = 0; i < 6; i++)
    g_free (f[i]);
  g_hash_table_unref (protect);
  g_free (today);
  g_date_time_unref (dt);
  ef_test_rm_rf (root);
  g_free (root);
}

int
main (int argc, char **argv)
{
  ef_test_init (&argc, &argv);
  g_test_add_func ("/framestore-retention/age", test_age_bound);
  g_test_add_func ("/framestore-retention/size-oldest-first-protected",
      test_size_bound_oldest_first_and_protected);
  return g_test_run ();
}
