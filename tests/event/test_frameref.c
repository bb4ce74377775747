/* Unit tests of the frame store and the frame-reference resolver against a real
 * file system: atomic store, and every hostile reference we know of. */
#include "ef-test.h"
#include "edgefaas.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>
#include <stdio.h>
#include <unistd.h>

typedef struct
{
  gchar *base;                  /* temp dir holding root/ and outside/ */
  gchar *root;
  gchar *outside;
  gchar *secret;                /* a file outside the root */
} Fx;

static void
fx_setup (Fx * fx, gconstpointer data)
{
  fx->base = ef_test_mkdtemp ("edgefaas-frameref");
  fx->root = g_build_filename (fx->base, "root", NULL);
  fx->outside = g_build_filename (fx->base, "root-outside", NULL);
  g_assert_cmpint (g_mkdir (fx->root, 0755), ==, 0);
  g_assert_cmpint (g_mkdir (fx->outside, 0755), ==, 0);
  fx->secret = g_build_filename (fx->outside, "secret.jpg", NULL);
  g_assert_true (g_file_set_contents (fx->secret, "TOP SECRET", -1, NULL));
}

static void
fx_teardown (Fx * fx, gconstpointer data)
{
  ef_test_rm_rf (fx->base);
  g_free (fx->secret);
  g_free (fx->outside);
  g_free (fx->root);
  g_free (fx->base);
}

static GBytes *
random_bytes (gsize n)
{
  guint8 *b = g_malloc (n);

  for (gsize i = 0; i < n; i++)
    b[i] = (guint8) g_random_int ();
  if (n > 10)
    b[5] = 0;                   /* binary-safe */
  return g_bytes_new_take (b, n);
}

static gchar *
write_in_root (Fx * fx, const gchar * rel, GBytes * bytes)
{
  gchar *path = g_build_filename (fx->root, rel, NULL);
  gchar *dir = g_path_get_dirname (path);

  g_assert_cmpint (g_mkdir_with_parents (dir, 0755), ==, 0);
  g_assert_true (g_file_set_contents (path, g_bytes_get_data (bytes, NULL),
          (gssize) g_bytes_get_size (bytes), NULL));
  g_free (dir);
  return path;
}

static void
put_in_root (Fx * fx, const gchar * rel)
{
  GBytes *b = g_bytes_new_static ("x", 1);
  g_free (write_in_root (fx, rel, b));
  g_bytes_unref (b);
}

static gchar *
uri_for (const gchar * path)
{
  gchar *uri = g_filename_to_uri (path, NULL, NULL);
  g_assert_nonnull (uri);
  return uri;
}

/* Loads @uri and expects @code; the message must mention the frame uri. */
static void
expect_refused (const gchar * uri, const gchar * root, guint64 max, guint64 size,
    const gchar * sha, gint code)
{
  GError *error = NULL;
  GBytes *b;
  gint64 t0 = g_get_monotonic_time ();

  g_test_message ("refuse %s", uri ? uri : "(null)");
  b = edgefaas_frameref_load (uri, root, max, size, sha, &error);
  if (b)
    g_error ("%s was accepted (%" G_GSIZE_FORMAT " bytes)", uri, g_bytes_get_size (b));
  g_assert_error (error, EDGEFAAS_FRAMEREF_ERROR, code);
  g_test_message ("  -> %s", error->message);
  g_assert_nonnull (strstr (error->message, "frame"));
  /* nothing here may block or read a large file */
  g_assert_cmpint (g_get_monotonic_time () - t0, <, G_USEC_PER_SEC);
  g_error_free (error);
}

/* --------------------------------------------------------------- store */

static void
test_store_and_load (Fx * fx, gconstpointer data)
{
  GBytes *bytes = random_bytes (100000), *back;
  GError *error = NULL;
  gchar *sha = NULL, *uri, *path, *want_dir, *dir;
  gint64 utc = G_GINT64_CONSTANT (1795647786123000);   /* 2026-11-23T... */
  GDateTime *dt = g_date_time_new_from_unix_utc (utc / G_USEC_PER_SEC);
  gchar *date = g_date_time_format (dt, "%Y-%m-%d");
  GDir *d;
  const gchar *n;
  guint entries = 0;

  uri = edgefaas_frameref_store (fx->root, "cam-1", utc, "000042", "jpg", bytes, &sha, &error);
  g_assert_no_error (error);
  g_assert_nonnull (uri);
  g_assert_true (g_str_has_prefix (uri, "file:///"));
  {
    gchar *want = g_compute_checksum_for_bytes (G_CHECKSUM_SHA256, bytes);
    g_assert_cmpstr (sha, ==, want);
    g_free (want);
  }

  path = g_filename_from_uri (uri, NULL, NULL);
  {
    gchar *croot = realpath (fx->root, NULL);
    want_dir = g_build_filename (croot, "cam-1", date, NULL);
    free (croot);
  }
  dir = g_path_get_dirname (path);
  g_assert_cmpstr (dir, ==, want_dir);
  g_assert_true (g_str_has_suffix (path, "/000042.jpg"));

  /* only the final file: no temporary left behind */
  d = g_dir_open (dir, 0, NULL);
  while ((n = g_dir_read_name (d))) {
    g_assert_cmpstr (n, ==, "000042.jpg");
    entries++;
  }
  g_dir_close (d);
  g_assert_cmpuint (entries, ==, 1);

  back = edgefaas_frameref_load (uri, fx->root, 200000, g_bytes_get_size (bytes), sha, &error);
  g_assert_no_error (error);
  g_assert_true (g_bytes_equal (bytes, back));
  g_bytes_unref (back);

  /* exact size limit passes, one byte less refuses */
  back = edgefaas_frameref_load (uri, fx->root, 100000, 0, NULL, &error);
  g_assert_no_error (error);
  g_bytes_unref (back);
  expect_refused (uri, fx->root, 99999, 0, NULL, EDGEFAAS_FRAMEREF_ERROR_TOO_LARGE);

  /* an upper-case expected hash is the same hash */
  {
    gchar *upper = g_ascii_strup (sha, -1);
    back = edgefaas_frameref_load (uri, fx->root, 0, 0, upper, &error);
    g_assert_no_error (error);
    g_bytes_unref (back);
    g_free (upper);
  }

  /* storing the same name again replaces it atomically */
  {
    GBytes *other = random_bytes (10);
    gchar *uri2 = edgefaas_frameref_store (fx->root, "cam-1", utc, "000042", "jpg", other, NULL,
        &error);
    g_assert_no_error (error);
    g_assert_cmpstr (uri2, ==, uri);
    back = edgefaas_frameref_load (uri2, fx->root, 0, 10, NULL, &error);
    g_assert_no_error (error);
    g_assert_true (g_bytes_equal (other, back));
    g_bytes_unref (back);
    g_bytes_unref (other);
    g_free (uri2);
  }

  g_free (date);
  g_date_time_unref (dt);
  g_free (dir);
  g_free (want_dir);
  g_free (path);
  g_free (sha);
  g_free (uri);
  g_bytes_unref (bytes);
}

static void
test_store_sanitizes_camera (Fx * fx, gconstpointer data)
{
  const gchar *hostile[] = { "../../etc", "..", ".", "/abs/cam", "a/../../b", "cam\n1", "", NULL };
  GBytes *bytes = random_bytes (64);
  gchar *croot = realpath (fx->root, NULL);

  for (guint i = 0; i < G_N_ELEMENTS (hostile); i++) {
    GError *error = NULL;
    gchar *uri = edgefaas_frameref_store (fx->root, hostile[i], 0, "../x", "j/pg", bytes, NULL,
        &error);
    gchar *path, *rel, **parts;
    GBytes *back;

    g_test_message ("camera %s", hostile[i] ? hostile[i] : "(null)");
    g_assert_no_error (error);
    path = g_filename_from_uri (uri, NULL, NULL);
    g_assert_true (g_str_has_prefix (path, croot));
    rel = path + strlen (croot) + 1;
    /* exactly <camera>/<date>/<file>, none of them "..", "." or hidden */
    parts = g_strsplit (rel, "/", -1);
    g_assert_cmpuint (g_strv_length (parts), ==, 3);
    for (guint k = 0; k < 3; k++) {
      g_assert_cmpuint (strlen (parts[k]), >, 0);
      g_assert_true (parts[k][0] != '.');
    }
    g_assert_cmpstr (parts[1], ==, "1970-01-01");
    back = edgefaas_frameref_load (uri, fx->root, 0, 64, NULL, &error);
    g_assert_no_error (error);
    g_bytes_unref (back);
    g_strfreev (parts);
    g_free (path);
    g_free (uri);
  }
  /* nothing was created outside the root */
  {
    GDir *d = g_dir_open (fx->base, 0, NULL);
    const gchar *n;
    while ((n = g_dir_read_name (d)))
      g_assert_true (g_str_equal (n, "root") || g_str_equal (n, "root-outside"));
    g_dir_close (d);
    d = g_dir_open (fx->outside, 0, NULL);
    while ((n = g_dir_read_name (d)))
      g_assert_cmpstr (n, ==, "secret.jpg");
    g_dir_close (d);
  }
  free (croot);
  g_bytes_unref (bytes);
}

static void
test_store_refuses_symlinked_camera_dir (Fx * fx, gconstpointer data)
{
  GBytes *bytes = random_bytes (16);
  GError *error = NULL;
  gchar *link = g_build_filename (fx->root, "cam-evil", NULL);
  gchar *uri;
  GDir *d;
  guint outside_entries = 0;

  g_assert_cmpint (symlink (fx->outside, link), ==, 0);
  uri = edgefaas_frameref_store (fx->root, "cam-evil", 0, "f", "jpg", bytes, NULL, &error);
  g_assert_null (uri);
  g_assert_error (error, EDGEFAAS_FRAMEREF_ERROR, EDGEFAAS_FRAMEREF_ERROR_OUTSIDE_ROOT);
  g_error_free (error);
  /* nothing at all was created through the link */
  d = g_dir_open (fx->outside, 0, NULL);
  while (g_dir_read_name (d))
    outside_entries++;
  g_dir_close (d);
  g_assert_cmpuint (outside_entries, ==, 1);     /* secret.jpg */
  g_free (link);
  g_bytes_unref (bytes);
}

static void
test_store_bad_root (Fx * fx, gconstpointer data)
{
  GBytes *bytes = random_bytes (16);
  GError *error = NULL;
  gchar *file_root = g_build_filename (fx->base, "plainfile", NULL);

  g_assert_true (g_file_set_contents (file_root, "x", 1, NULL));
  g_assert_null (edgefaas_frameref_store (file_root, "c", 0, "f", "jpg", bytes, NULL, &error));
  g_assert_error (error, EDGEFAAS_FRAMEREF_ERROR, EDGEFAAS_FRAMEREF_ERROR_IO);
  g_clear_error (&error);
  g_assert_null (edgefaas_frameref_store (NULL, "c", 0, "f", "jpg", bytes, NULL, &error));
  g_assert_error (error, EDGEFAAS_FRAMEREF_ERROR, EDGEFAAS_FRAMEREF_ERROR_IO);
  g_clear_error (&error);
  g_free (file_root);
  g_bytes_unref (bytes);
}

/* --------------------------------------------------------------- hostile loads */

static void
test_refuse_dotdot (Fx * fx, gconstpointer data)
{
  gchar *uri;

  /* relative, no scheme */
  expect_refused ("../../etc/passwd", fx->root, 0, 0, NULL, EDGEFAAS_FRAMEREF_ERROR_BAD_URI);
  /* .. that climbs out of the root */
  uri = g_strdup_printf ("file://%s/../../../../../../etc/passwd", fx->root);
  expect_refused (uri, fx->root, 0, 0, NULL, EDGEFAAS_FRAMEREF_ERROR_OUTSIDE_ROOT);
  g_free (uri);
  /* .. that would land inside the root again: refused all the same */
  put_in_root (fx, "a/f.jpg");
  uri = g_strdup_printf ("file://%s/a/../a/f.jpg", fx->root);
  expect_refused (uri, fx->root, 0, 0, NULL, EDGEFAAS_FRAMEREF_ERROR_OUTSIDE_ROOT);
  g_free (uri);
  /* .. to a sibling whose name starts like the root */
  uri = g_strdup_printf ("file://%s/../root-outside/secret.jpg", fx->root);
  expect_refused (uri, fx->root, 0, 0, NULL, EDGEFAAS_FRAMEREF_ERROR_OUTSIDE_ROOT);
  g_free (uri);
}

static void
test_refuse_percent_encoded (Fx * fx, gconstpointer data)
{
  gchar *uri;

  uri = g_strdup_printf ("file://%s/%%2e%%2e/%%2E%%2E/etc/passwd", fx->root);
  expect_refused (uri, fx->root, 0, 0, NULL, EDGEFAAS_FRAMEREF_ERROR_OUTSIDE_ROOT);
  g_free (uri);
  uri = g_strdup_printf ("file://%s/..%%2f..%%2fetc%%2fpasswd", fx->root);
  expect_refused (uri, fx->root, 0, 0, NULL, EDGEFAAS_FRAMEREF_ERROR_BAD_URI);
  g_free (uri);
  uri = g_strdup_printf ("file://%s/a%%00.jpg", fx->root);
  expect_refused (uri, fx->root, 0, 0, NULL, EDGEFAAS_FRAMEREF_ERROR_BAD_URI);
  g_free (uri);
}

static void
test_refuse_absolute_outside (Fx * fx, gconstpointer data)
{
  gchar *uri = uri_for (fx->secret);

  expect_refused ("file:///etc/passwd", fx->root, 0, 0, NULL,
      EDGEFAAS_FRAMEREF_ERROR_OUTSIDE_ROOT);
  /* the sibling directory "root-outside" shares the prefix "root" */
  expect_refused (uri, fx->root, 0, 0, NULL, EDGEFAAS_FRAMEREF_ERROR_OUTSIDE_ROOT);
  /* a file that does not exist outside: still "outside", not "not found" */
  expect_refused ("file:///nonexistent/x.jpg", fx->root, 0, 0, NULL,
      EDGEFAAS_FRAMEREF_ERROR_OUTSIDE_ROOT);
  /* the root itself is not a frame */
  g_free (uri);
  uri = uri_for (fx->root);
  expect_refused (uri, fx->root, 0, 0, NULL, EDGEFAAS_FRAMEREF_ERROR_OUTSIDE_ROOT);
  g_free (uri);
}

static void
test_refuse_symlink_escape (Fx * fx, gconstpointer data)
{
  gchar *link = g_build_filename (fx->root, "evil.jpg", NULL);
  gchar *dlink = g_build_filename (fx->root, "evildir", NULL);
  gchar *uri, *duri;

  g_assert_cmpint (symlink (fx->secret, link), ==, 0);
  g_assert_cmpint (symlink (fx->outside, dlink), ==, 0);
  uri = uri_for (link);
  expect_refused (uri, fx->root, 0, 0, NULL, EDGEFAAS_FRAMEREF_ERROR_OUTSIDE_ROOT);
  {
    gchar *u = uri_for (dlink);
    duri = g_strdup_printf ("%s/secret.jpg", u);
    g_free (u);
  }
  expect_refused (duri, fx->root, 0, 0, NULL, EDGEFAAS_FRAMEREF_ERROR_OUTSIDE_ROOT);
  /* relative link with .. inside the link target */
  g_unlink (link);
  g_assert_cmpint (symlink ("../root-outside/secret.jpg", link), ==, 0);
  expect_refused (uri, fx->root, 0, 0, NULL, EDGEFAAS_FRAMEREF_ERROR_OUTSIDE_ROOT);
  g_free (duri);
  g_free (uri);
  g_free (dlink);
  g_free (link);
}

/* Issue 15.8: a hard link inside the root to a file outside it resolves
 * inside the root (realpath cannot tell an inode's names apart), so any file
 * with st_nlink > 1 is refused; the same file with one link loads. */
static void
test_refuse_hardlink (Fx * fx, gconstpointer data)
{
  GBytes *bytes = random_bytes (100), *back;
  gchar *evil = g_build_filename (fx->root, "evil.jpg", NULL);
  gchar *own = write_in_root (fx, "cam/own.jpg", bytes);
  gchar *twin = g_build_filename (fx->root, "cam", "twin.jpg", NULL);
  gchar *uri = uri_for (evil), *own_uri = uri_for (own);
  GError *error = NULL;

  g_assert_cmpint (link (fx->secret, evil), ==, 0);
  expect_refused (uri, fx->root, 0, 0, NULL, EDGEFAAS_FRAMEREF_ERROR_HARDLINK);
  /* Policy: a second link is refused even when both names are inside the root. */
  g_assert_cmpint (link (own, twin), ==, 0);
  expect_refused (own_uri, fx->root, 0, 0, NULL, EDGEFAAS_FRAMEREF_ERROR_HARDLINK);
  g_assert_cmpint (g_unlink (twin), ==, 0);
  back = edgefaas_frameref_load (own_uri, fx->root, 0, 100, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (g_bytes_equal (back, bytes));
  g_bytes_unref (back);
  g_free (own_uri);
  g_free (uri);
  g_free (twin);
  g_free (own);
  g_free (evil);
  g_bytes_unref (bytes);
}

/* Issue 15.8d: deleting a frame by its reference, with the load checks. */
static void
test_delete (Fx * fx, gconstpointer data)
{
  GBytes *bytes = random_bytes (50);
  gchar *own = write_in_root (fx, "cam/2026-01-01/f1.jpg", bytes);
  gchar *own_uri = uri_for (own);
  gchar *evil = g_build_filename (fx->root, "evil.jpg", NULL);
  gchar *evil_uri = uri_for (evil);
  gchar *hard = g_build_filename (fx->root, "hard.jpg", NULL);
  gchar *hard_uri = uri_for (hard);
  gchar *dlink = g_build_filename (fx->root, "outdir", NULL);
  gchar *dlink_uri = g_strconcat ("file://", dlink, "/secret.jpg", NULL);
  GError *error = NULL;

  g_assert_true (edgefaas_frameref_delete (own_uri, fx->root, &error));
  g_assert_no_error (error);
  g_assert_false (g_file_test (own, G_FILE_TEST_EXISTS));
  /* Gone: NOT_FOUND, nothing else touched. */
  g_assert_false (edgefaas_frameref_delete (own_uri, fx->root, &error));
  g_assert_error (error, EDGEFAAS_FRAMEREF_ERROR, EDGEFAAS_FRAMEREF_ERROR_NOT_FOUND);
  g_clear_error (&error);
  /* A symlink (file or directory) to the outside: refused, the target stays. */
  g_assert_cmpint (symlink (fx->secret, evil), ==, 0);
  g_assert_false (edgefaas_frameref_delete (evil_uri, fx->root, &error));
  g_assert_error (error, EDGEFAAS_FRAMEREF_ERROR, EDGEFAAS_FRAMEREF_ERROR_OUTSIDE_ROOT);
  g_clear_error (&error);
  g_assert_cmpint (symlink (fx->outside, dlink), ==, 0);
  g_assert_false (edgefaas_frameref_delete (dlink_uri, fx->root, &error));
  g_assert_error (error, EDGEFAAS_FRAMEREF_ERROR, EDGEFAAS_FRAMEREF_ERROR_OUTSIDE_ROOT);
  g_clear_error (&error);
  /* A hard link to the outside: refused, both names stay. */
  g_assert_cmpint (link (fx->secret, hard), ==, 0);
  g_assert_false (edgefaas_frameref_delete (hard_uri, fx->root, &error));
  g_assert_error (error, EDGEFAAS_FRAMEREF_ERROR, EDGEFAAS_FRAMEREF_ERROR_HARDLINK);
  g_clear_error (&error);
  g_assert_true (g_file_test (hard, G_FILE_TEST_EXISTS));
  g_assert_true (g_file_test (fx->secret, G_FILE_TEST_EXISTS));
  /* Outside by path. */
  {
    gchar *u = uri_for (fx->secret);
    g_assert_false (edgefaas_frameref_delete (u, fx->root, &error));
    g_assert_error (error, EDGEFAAS_FRAMEREF_ERROR, EDGEFAAS_FRAMEREF_ERROR_OUTSIDE_ROOT);
    g_clear_error (&error);
    g_free (u);
  }
  g_assert_true (g_file_test (fx->secret, G_FILE_TEST_EXISTS));
  g_free (dlink_uri);
  g_free (dlink);
  g_free (hard_uri);
  g_free (hard);
  g_free (evil_uri);
  g_free (evil);
  g_free (own_uri);
  g_free (own);
  g_bytes_unref (bytes);
}

static void
test_symlink_inside_root_allowed (Fx * fx, gconstpointer data)
{
  GBytes *bytes = random_bytes (333), *back;
  gchar *target = write_in_root (fx, "cam/2026-01-01/real.jpg", bytes);
  gchar *link = g_build_filename (fx->root, "latest.jpg", NULL);
  gchar *dlink = g_build_filename (fx->root, "today", NULL);
  gchar *uri, *duri;
  GError *error = NULL;
  gchar *sha = g_compute_checksum_for_bytes (G_CHECKSUM_SHA256, bytes);

  g_assert_cmpint (symlink ("cam/2026-01-01/real.jpg", link), ==, 0);
  g_assert_cmpint (symlink ("cam/2026-01-01", dlink), ==, 0);
  uri = uri_for (link);
  back = edgefaas_frameref_load (uri, fx->root, 1000, 333, sha, &error);
  g_assert_no_error (error);
  g_assert_true (g_bytes_equal (back, bytes));
  g_bytes_unref (back);
  {
    gchar *u = uri_for (dlink);
    duri = g_strconcat (u, "/real.jpg", NULL);
    g_free (u);
  }
  back = edgefaas_frameref_load (duri, fx->root, 1000, 333, sha, &error);
  g_assert_no_error (error);
  g_assert_true (g_bytes_equal (back, bytes));
  g_bytes_unref (back);

  /* the root given through a symlink works the same */
  {
    gchar *root_link = g_build_filename (fx->base, "rootlink", NULL);
    g_assert_cmpint (symlink (fx->root, root_link), ==, 0);
    back = edgefaas_frameref_load (uri, root_link, 1000, 333, sha, &error);
    g_assert_no_error (error);
    g_bytes_unref (back);
    g_free (root_link);
  }
  g_free (sha);
  g_free (duri);
  g_free (uri);
  g_free (dlink);
  g_free (link);
  g_free (target);
  g_bytes_unref (bytes);
}

static void
test_refuse_other_schemes (Fx * fx, gconstpointer data)
{
  const gchar *uris[] = {
    "http://example.com/frame.jpg", "https://example.com/frame.jpg",
    "ftp://example.com/frame.jpg", "data:image/jpeg;base64,AAAA", "/etc/passwd",
    "file:/etc/passwd", "fILE", "", "file://", NULL,
  };

  for (guint i = 0; i < G_N_ELEMENTS (uris); i++)
    expect_refused (uris[i], fx->root, 0, 0, NULL, EDGEFAAS_FRAMEREF_ERROR_BAD_URI);

  /* a remote host in a file:// URI */
  {
    gchar *uri = g_strdup_printf ("file://otherhost%s/x.jpg", fx->root);
    put_in_root (fx, "x.jpg");
    expect_refused (uri, fx->root, 0, 0, NULL, EDGEFAAS_FRAMEREF_ERROR_BAD_URI);
    g_free (uri);
  }
  /* a password in a URI never reaches the error message */
  {
    const gchar *secret_uris[] = { "http://user:hunter2@example.com/a.jpg",
      "file://user:hunter2@localhost/etc/passwd", "amqp://guest:hunter2@broker/x" };
    for (guint i = 0; i < G_N_ELEMENTS (secret_uris); i++) {
      GError *error = NULL;
      g_assert_null (edgefaas_frameref_load (secret_uris[i], fx->root, 0, 0, NULL, &error));
      g_assert_error (error, EDGEFAAS_FRAMEREF_ERROR, EDGEFAAS_FRAMEREF_ERROR_BAD_URI);
      g_test_message ("%s", error->message);
      g_assert_null (strstr (error->message, "hunter2"));
      g_assert_nonnull (strstr (error->message, "***@"));
      g_error_free (error);
    }
  }
  /* overlong */
  {
    GString *s = g_string_new ("file://");
    g_string_append (s, fx->root);
    while (s->len < 5000)
      g_string_append (s, "/a");
    expect_refused (s->str, fx->root, 0, 0, NULL, EDGEFAAS_FRAMEREF_ERROR_BAD_URI);
    g_string_free (s, TRUE);
  }
}

static void
test_refuse_fifo_and_devices (Fx * fx, gconstpointer data)
{
  gchar *fifo = g_build_filename (fx->root, "pipe.jpg", NULL);
  gchar *dir = g_build_filename (fx->root, "adir.jpg", NULL);
  gchar *uri;

  g_assert_cmpint (mkfifo (fifo, 0644), ==, 0);
  uri = uri_for (fifo);
  /* must return at once (no writer will ever come) */
  expect_refused (uri, fx->root, 0, 0, NULL, EDGEFAAS_FRAMEREF_ERROR_NOT_REGULAR);
  g_free (uri);

  g_assert_cmpint (g_mkdir (dir, 0755), ==, 0);
  uri = uri_for (dir);
  expect_refused (uri, fx->root, 0, 0, NULL, EDGEFAAS_FRAMEREF_ERROR_NOT_REGULAR);
  g_free (uri);

  /* a character device, with its directory as the root */
  if (!g_file_test ("/dev/null", G_FILE_TEST_EXISTS)) {
    g_test_message ("CANNOT RUN: no /dev/null");
    g_test_fail ();
  } else {
    expect_refused ("file:///dev/null", "/dev", 0, 0, NULL, EDGEFAAS_FRAMEREF_ERROR_NOT_REGULAR);
    expect_refused ("file:///dev/zero", "/dev", 0, 0, NULL, EDGEFAAS_FRAMEREF_ERROR_NOT_REGULAR);
  }
  g_free (dir);
  g_free (fifo);
}

static void
test_refuse_oversize (Fx * fx, gconstpointer data)
{
  gchar *path = g_build_filename (fx->root, "huge.jpg", NULL);
  gint fd = open (path, O_CREAT | O_WRONLY | O_TRUNC, 0644);
  gchar *uri;
  GError *error = NULL;
  GBytes *b;

  g_assert_cmpint (fd, >=, 0);
  /* 100 MB (sparse: the test must not fill the disk) */
  g_assert_cmpint (ftruncate (fd, 100 * 1000 * 1000), ==, 0);
  g_assert_cmpint (pwrite (fd, "\xff\xd8", 2, 0), ==, 2);
  close (fd);
  uri = uri_for (path);
  expect_refused (uri, fx->root, 1024 * 1024, 0, NULL, EDGEFAAS_FRAMEREF_ERROR_TOO_LARGE);
  b = edgefaas_frameref_load (uri, fx->root, 1024 * 1024, 0, NULL, &error);
  g_assert_null (b);
  g_assert_nonnull (strstr (error->message, "100000000 bytes, at most 1048576 allowed"));
  g_clear_error (&error);
  /* the default cap (64 MiB) applies with max_bytes 0 */
  expect_refused (uri, fx->root, 0, 0, NULL, EDGEFAAS_FRAMEREF_ERROR_TOO_LARGE);
  g_free (uri);
  g_free (path);
}

static void
test_refuse_size_and_hash_mismatch (Fx * fx, gconstpointer data)
{
  GBytes *bytes = random_bytes (4096);
  gchar *path = write_in_root (fx, "c/d/f.jpg", bytes);
  gchar *uri = uri_for (path);
  gchar *sha = g_compute_checksum_for_bytes (G_CHECKSUM_SHA256, bytes);
  gchar *bad = g_strdup (sha);

  bad[10] = bad[10] == '0' ? '1' : '0';
  expect_refused (uri, fx->root, 0, 4095, sha, EDGEFAAS_FRAMEREF_ERROR_SIZE_MISMATCH);
  expect_refused (uri, fx->root, 0, 4097, NULL, EDGEFAAS_FRAMEREF_ERROR_SIZE_MISMATCH);
  expect_refused (uri, fx->root, 0, 4096, bad, EDGEFAAS_FRAMEREF_ERROR_HASH_MISMATCH);
  expect_refused (uri, fx->root, 0, 0, "short", EDGEFAAS_FRAMEREF_ERROR_HASH_MISMATCH);
  g_free (bad);
  g_free (sha);
  g_free (uri);
  g_free (path);
  g_bytes_unref (bytes);
}

static void
test_refuse_missing (Fx * fx, gconstpointer data)
{
  gchar *uri = g_strdup_printf ("file://%s/nope/none.jpg", fx->root);
  gchar *noroot = g_build_filename (fx->base, "no-such-root", NULL);

  expect_refused (uri, fx->root, 0, 0, NULL, EDGEFAAS_FRAMEREF_ERROR_NOT_FOUND);
  expect_refused (uri, noroot, 0, 0, NULL, EDGEFAAS_FRAMEREF_ERROR_IO);
  expect_refused (uri, NULL, 0, 0, NULL, EDGEFAAS_FRAMEREF_ERROR_IO);
  g_free (noroot);
  g_free (uri);
}


/* A directory inside the root is swapped, atomically and continuously, with a
 * symlink to a directory outside, while frames are loaded through it. Between
 * realpath() and open() the path may change under us; the secret outside must
 * never be returned. */
typedef struct
{
  gchar *a, *b;
  gint stop;
  guint swaps;
} Flipper;

static gpointer
flip (gpointer data)
{
  Flipper *f = data;

  while (!g_atomic_int_get (&f->stop)) {
    if (renameat2 (AT_FDCWD, f->a, AT_FDCWD, f->b, RENAME_EXCHANGE) != 0)
      g_error ("renameat2(RENAME_EXCHANGE): %s", g_strerror (errno));
    f->swaps++;
  }
  return NULL;
}

static void
test_swap_race (Fx * fx, gconstpointer data)
{
  gboolean fallback = GPOINTER_TO_INT (data);
  gchar *dir = g_build_filename (fx->root, "dir", NULL);
  gchar *lnk = g_build_filename (fx->root, "lnk", NULL);
  gchar *inside = g_build_filename (dir, "secret.jpg", NULL);
  gchar *uri = uri_for (inside);
  Flipper f = { dir, lnk, 0, 0 };
  GThread *t;
  guint ok = 0, refused = 0;
  gint64 end;

  /* the same file name inside and outside, different content */
  g_assert_cmpint (g_mkdir (dir, 0755), ==, 0);
  g_assert_true (g_file_set_contents (inside, "inside", -1, NULL));
  g_assert_cmpint (symlink (fx->outside, lnk), ==, 0);

  /* the kernel's openat2, or the component walk used where it is missing */
  if (fallback)
    g_setenv ("EDGEFAAS_FRAMEREF_NO_OPENAT2", "1", TRUE);
  t = g_thread_new ("flip", flip, &f);
  end = g_get_monotonic_time () + 2 * G_USEC_PER_SEC;
  while (g_get_monotonic_time () < end) {
    GError *error = NULL;
    GBytes *b = edgefaas_frameref_load (uri, fx->root, 1024, 0, NULL, &error);
    if (b) {
      gsize n;
      const gchar *d = g_bytes_get_data (b, &n);
      if (n != 6 || memcmp (d, "inside", 6) != 0)
        g_error ("read %.*s through a swapped symlink", (int) n, d);
      ok++;
      g_bytes_unref (b);
    } else {
      g_assert_true (error->domain == EDGEFAAS_FRAMEREF_ERROR);
      refused++;
      g_clear_error (&error);
    }
  }
  g_atomic_int_set (&f.stop, 1);
  g_thread_join (t);
  g_unsetenv ("EDGEFAAS_FRAMEREF_NO_OPENAT2");
  g_test_message ("%u swaps, %u loads ok, %u refused", f.swaps, ok, refused);
  /* both states were seen, or the test proved nothing */
  g_assert_cmpuint (f.swaps, >, 100);
  g_assert_cmpuint (ok, >, 0);
  g_assert_cmpuint (refused, >, 0);
  g_free (uri);
  g_free (inside);
  g_free (lnk);
  g_free (dir);
}

static void
test_resolve (Fx * fx, gconstpointer data)
{
  GBytes *bytes = g_bytes_new_static ("abc", 3);
  gchar *path = write_in_root (fx, "x/./y.jpg", bytes);
  gchar *uri = g_strdup_printf ("file://localhost%s/x/./y.jpg", fx->root);
  GError *error = NULL;
  gchar *resolved = edgefaas_frameref_resolve (uri, fx->root, &error);
  gchar *croot = realpath (fx->root, NULL);
  gchar *want = g_build_filename (croot, "x", "y.jpg", NULL);

  g_assert_no_error (error);
  g_assert_cmpstr (resolved, ==, want);
  g_free (want);
  free (croot);
  g_free (resolved);
  g_free (uri);
  g_free (path);
  g_bytes_unref (bytes);
}

static void
test_sanitize (void)
{
  struct
  {
    const gchar *in, *out;
  } cases[] = {
    {"cam-1", "cam-1"}, {"Front.Door_2", "Front.Door_2"}, {"..", "_."}, {".hidden", "_hidden"},
    {"a/b", "a_b"}, {"../../etc", "_._.._etc"}, {"caméra", "cam__ra"}, {"", "fb"}, {NULL, "fb"},
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
    gchar *s = edgefaas_frameref_sanitize_component (cases[i].in, "fb");
    g_assert_cmpstr (s, ==, cases[i].out);
    g_free (s);
  }
  {
    gchar *longname = g_strnfill (500, 'x');
    gchar *s = edgefaas_frameref_sanitize_component (longname, "fb");
    g_assert_cmpuint (strlen (s), ==, 128);
    g_free (s);
    g_free (longname);
  }
}

int
main (int argc, char **argv)
{
  ef_test_init (&argc, &argv);

#define ADD(name, fn) g_test_add ("/frameref/" name, Fx, NULL, fx_setup, fn, fx_teardown)
  ADD ("store/and-load", test_store_and_load);
  ADD ("store/sanitizes-camera", test_store_sanitizes_camera);
  ADD ("store/refuses-symlinked-camera-dir", test_store_refuses_symlinked_camera_dir);
  ADD ("store/bad-root", test_store_bad_root);
  ADD ("load/refuse-dotdot", test_refuse_dotdot);
  ADD ("load/refuse-percent-encoded", test_refuse_percent_encoded);
  ADD ("load/refuse-absolute-outside", test_refuse_absolute_outside);
  ADD ("load/refuse-symlink-escape", test_refuse_symlink_escape);
  ADD ("load/symlink-inside-root-allowed", test_symlink_inside_root_allowed);
  ADD ("load/refuse-hardlink", test_refuse_hardlink);
  ADD ("delete", test_delete);
  ADD ("load/refuse-other-schemes", test_refuse_other_schemes);
  ADD ("load/refuse-fifo-and-devices", test_refuse_fifo_and_devices);
  ADD ("load/refuse-oversize", test_refuse_oversize);
  ADD ("load/refuse-size-and-hash-mismatch", test_refuse_size_and_hash_mismatch);
  ADD ("load/refuse-missing", test_refuse_missing);
  g_test_add ("/frameref/load/swap-race-openat2", Fx, GINT_TO_POINTER (0), fx_setup,
      test_swap_race, fx_teardown);
  g_test_add ("/frameref/load/swap-race-walk", Fx, GINT_TO_POINTER (1), fx_setup,
      test_swap_race, fx_teardown);
  ADD ("resolve", test_resolve);
#undef ADD
  g_test_add_func ("/frameref/sanitize", test_sanitize);
  return g_test_run ();
}
