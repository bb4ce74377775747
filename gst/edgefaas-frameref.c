/* edgefaas-frameref.c: the frame store and the frame-reference resolver
 * (see edgefaas-frameref.h and docs/events.md "Frame references").
 *
 * Resolving a reference (the URI comes from the network, treat it as hostile):
 *   1. only file:// URIs with an empty or "localhost" host, at most 4096 bytes;
 *      percent-decoding by g_filename_from_uri (an encoded '/' is refused);
 *   2. no ".." segment at all, even one that would stay inside the root;
 *   3. realpath() of the root and of the file; the file's canonical path must be
 *      strictly below the canonical root (this resolves every symlink, so a link
 *      inside the root to a file inside the root is fine, one that escapes is not);
 *   4. the canonical path is opened relative to the root directory with
 *      openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS) where the kernel has it
 *      (closes the window in which a component could be swapped for a symlink
 *      after realpath); where it does not, the path is walked one component
 *      at a time with openat(O_NOFOLLOW) from the root; always O_NONBLOCK so a
 *      FIFO can not block us;
 *   5. fstat on that fd: regular file only, exactly one hard link (a hard link
 *      inside the root to a file outside it passes every path check: realpath
 *      cannot tell the names of an inode apart, so any st_nlink > 1 is refused;
 *      the store's temp-file + rename never makes one), size <= max_bytes and
 *      == the expected size, checked BEFORE reading; at most max_bytes + 1
 *      bytes are ever read;
 *   6. SHA-256 (GChecksum) compared with the expected hash.
 * Storing writes a temporary file in the target directory, fsyncs it, renames it
 * over the final name and fsyncs the directory.
 */
#include "edgefaas-frameref.h"
#include "edgefaas-event.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <unistd.h>

#ifdef __linux__
#include <linux/openat2.h>
#endif

G_DEFINE_QUARK (edgefaas-frameref-error-quark, edgefaas_frameref_error)

#define MAX_URI_BYTES 4096
#define MAX_COMPONENT 128

gchar *
edgefaas_sha256_hex (const guint8 * data, gsize size)
{
  return g_compute_checksum_for_data (G_CHECKSUM_SHA256, data, size);
}

/* A printable, bounded form of hostile input for error messages. A user-info
 * part ("scheme://user:password@host/...") is masked: error messages end up in
 * bus warnings and logs. */
static gchar *
printable (const gchar * s)
{
  gchar *masked = NULL, *cut, *esc;
  const gchar *auth, *slash, *at;
  gsize full;

  if (!s)
    return g_strdup ("(null)");
  auth = strstr (s, "://");
  if (auth) {
    auth += 3;
    slash = strchr (auth, '/');
    at = memchr (auth, '@', slash ? (gsize) (slash - auth) : strlen (auth));
    if (at)
      s = masked = g_strdup_printf ("%.*s***%s", (int) (auth - s), s, at);
  }
  full = strlen (s);
  cut = g_strndup (s, 200);
  esc = g_strescape (cut, NULL);
  g_free (cut);
  g_free (masked);
  if (full > 200) {
    gchar *t = g_strconcat (esc, "...", NULL);
    g_free (esc);
    esc = t;
  }
  return esc;
}

/* realpath() of @root; it must be an existing directory. */
static gchar *
canonical_root (const gchar * root, GError ** error)
{
  gchar *canon;
  struct stat st;

  if (!root || !*root) {
    g_set_error (error, EDGEFAAS_FRAMEREF_ERROR, EDGEFAAS_FRAMEREF_ERROR_IO,
        "frame root: not set");
    return NULL;
  }
  canon = realpath (root, NULL);
  if (!canon || stat (canon, &st) != 0 || !S_ISDIR (st.st_mode)) {
    gint err = errno;
    gchar *p = printable (root);
    g_set_error (error, EDGEFAAS_FRAMEREF_ERROR, EDGEFAAS_FRAMEREF_ERROR_IO,
        "frame root \"%s\": %s", p, canon ? "not a directory" : g_strerror (err));
    g_free (p);
    free (canon);
    return NULL;
  }
  /* to GLib memory */
  {
    gchar *g = g_strdup (canon);
    free (canon);
    return g;
  }
}

/* TRUE when @path is strictly below the directory @root (both canonical). */
static gboolean
is_below (const gchar * path, const gchar * root)
{
  gsize rl = strlen (root);

  if (rl == 1 && root[0] == '/')       /* root "/" */
    return path[0] == '/' && path[1] != '\0';
  return strncmp (path, root, rl) == 0 && path[rl] == '/' && path[rl + 1] != '\0';
}

static gboolean
has_dotdot_segment (const gchar * path)
{
  const gchar *p = path;

  while (*p) {
    const gchar *end = strchr (p, '/');
    gsize len = end ? (gsize) (end - p) : strlen (p);
    if (len == 2 && p[0] == '.' && p[1] == '.')
      return TRUE;
    if (!end)
      break;
    p = end + 1;
  }
  return FALSE;
}

/* URI → local absolute path, syntactic checks only. */
static gchar *
uri_to_path (const gchar * uri, GError ** error)
{
  GError *err = NULL;
  gchar *host = NULL, *path, *p;

  if (!uri || !*uri) {
    g_set_error (error, EDGEFAAS_FRAMEREF_ERROR, EDGEFAAS_FRAMEREF_ERROR_BAD_URI,
        "frame uri: empty");
    return NULL;
  }
  p = printable (uri);
  if (strlen (uri) > MAX_URI_BYTES) {
    g_set_error (error, EDGEFAAS_FRAMEREF_ERROR, EDGEFAAS_FRAMEREF_ERROR_BAD_URI,
        "frame uri \"%s\": longer than %d bytes", p, MAX_URI_BYTES);
    g_free (p);
    return NULL;
  }
  if (g_ascii_strncasecmp (uri, "file://", 7) != 0) {
    g_set_error (error, EDGEFAAS_FRAMEREF_ERROR, EDGEFAAS_FRAMEREF_ERROR_BAD_URI,
        "frame uri \"%s\": only file:// URIs are accepted", p);
    g_free (p);
    return NULL;
  }
  path = g_filename_from_uri (uri, &host, &err);
  if (!path) {
    g_set_error (error, EDGEFAAS_FRAMEREF_ERROR, EDGEFAAS_FRAMEREF_ERROR_BAD_URI,
        "frame uri \"%s\": %s", p, err->code == G_CONVERT_ERROR_NOT_ABSOLUTE_PATH ?
        "not an absolute path" : "invalid file URI (bad escape, encoded '/' or NUL, or bad host)");
    /* (GLib's own message repeats the URI unmasked: not used) */
    g_error_free (err);
    g_free (host);              /* GLib may have set it before failing on the path */
    g_free (p);
    return NULL;
  }
  if (host && *host && g_ascii_strcasecmp (host, "localhost") != 0) {
    g_set_error (error, EDGEFAAS_FRAMEREF_ERROR, EDGEFAAS_FRAMEREF_ERROR_BAD_URI,
        "frame uri \"%s\": remote host not allowed", p);
    goto fail;
  }
  if (!g_path_is_absolute (path) || strlen (path) >= PATH_MAX) {
    g_set_error (error, EDGEFAAS_FRAMEREF_ERROR, EDGEFAAS_FRAMEREF_ERROR_BAD_URI,
        "frame uri \"%s\": not an absolute path", p);
    goto fail;
  }
  if (has_dotdot_segment (path)) {
    g_set_error (error, EDGEFAAS_FRAMEREF_ERROR, EDGEFAAS_FRAMEREF_ERROR_OUTSIDE_ROOT,
        "frame uri \"%s\": \"..\" is not allowed", p);
    goto fail;
  }
  g_free (host);
  g_free (p);
  return path;

fail:
  g_free (host);
  g_free (path);
  g_free (p);
  return NULL;
}

/* The canonical path of the file @uri names, checked to be below @root. */
static gchar *
resolve (const gchar * uri, const gchar * root, gchar ** out_root, GError ** error)
{
  gchar *path, *croot, *canon, *p;

  path = uri_to_path (uri, error);
  if (!path)
    return NULL;
  croot = canonical_root (root, error);
  if (!croot) {
    g_free (path);
    return NULL;
  }

  p = printable (uri);
  canon = realpath (path, NULL);
  if (!canon) {
    gint err = errno;
    /* Say "outside" rather than "not found" when the lexical path is already
     * outside the root, so probing for files elsewhere learns nothing. */
    gchar *lex = g_canonicalize_filename (path, "/");
    if (!is_below (lex, croot))
      g_set_error (error, EDGEFAAS_FRAMEREF_ERROR, EDGEFAAS_FRAMEREF_ERROR_OUTSIDE_ROOT,
          "frame uri \"%s\": outside the frame root", p);
    else
      g_set_error (error, EDGEFAAS_FRAMEREF_ERROR,
          err == ENOENT || err == ENOTDIR ? EDGEFAAS_FRAMEREF_ERROR_NOT_FOUND :
          EDGEFAAS_FRAMEREF_ERROR_IO, "frame uri \"%s\": %s", p, g_strerror (err));
    g_free (lex);
    g_free (path);
    g_free (croot);
    g_free (p);
    return NULL;
  }
  g_free (path);
  path = g_strdup (canon);
  free (canon);

  if (!is_below (path, croot)) {
    g_set_error (error, EDGEFAAS_FRAMEREF_ERROR, EDGEFAAS_FRAMEREF_ERROR_OUTSIDE_ROOT,
        "frame uri \"%s\": outside the frame root (after resolving links)", p);
    g_free (path);
    g_free (croot);
    g_free (p);
    return NULL;
  }
  g_free (p);
  if (out_root)
    *out_root = croot;
  else
    g_free (croot);
  return path;
}

gchar *
edgefaas_frameref_resolve (const gchar * uri, const gchar * root, GError ** error)
{
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);
  return resolve (uri, root, NULL, error);
}

/* Fallback without openat2: walk the canonical path one component at a time
 * from the root directory with O_NOFOLLOW, so a component that became a
 * symlink since realpath() is refused (ELOOP / ENOTDIR) at every level. */
static gint
open_walk (const gchar * croot, const gchar * path, gint flags)
{
  const gchar *rel = path + strlen (croot);
  gchar **parts;
  gint dfd, fd = -1, err = 0;
  guint n, i;

  while (*rel == '/')
    rel++;
  parts = g_strsplit (rel, "/", -1);
  n = g_strv_length (parts);
  dfd = open (croot, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0 || n == 0) {
    err = dfd < 0 ? errno : ENOENT;
    goto out;
  }
  for (i = 0; i < n; i++) {
    gboolean last = i + 1 == n;
    gint next;

    if (parts[i][0] == '\0' || strcmp (parts[i], ".") == 0 || strcmp (parts[i], "..") == 0) {
      err = EXDEV;
      break;
    }
    next = openat (dfd, parts[i], last ? flags :
        (O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (next < 0) {
      err = errno;
      break;
    }
    close (dfd);
    dfd = -1;
    if (last) {
      fd = next;
      break;
    }
    dfd = next;
  }
out:
  if (dfd >= 0)
    close (dfd);
  g_strfreev (parts);
  if (fd < 0)
    errno = err ? err : ENOENT;
  return fd;
}

/* Opens canonical @path (below canonical @croot) read-only, never following a
 * symlink at any level, never blocking. EDGEFAAS_FRAMEREF_NO_OPENAT2 set in the
 * environment forces the fallback (used by the tests to cover it). */
static gint
open_beneath (const gchar * croot, const gchar * path)
{
  gint flags = O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY;
#if defined(__linux__) && defined(SYS_openat2)
  static gint have_openat2 = 1;         /* racy but monotonic: 1 → 0 once */

  if (g_atomic_int_get (&have_openat2) && !g_getenv ("EDGEFAAS_FRAMEREF_NO_OPENAT2")) {
    gint dfd = open (croot, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
      struct open_how how = { 0 };
      const gchar *rel = path + strlen (croot);
      gint fd, err;

      while (*rel == '/')
        rel++;
      how.flags = (guint64) flags;
      how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
      fd = (gint) syscall (SYS_openat2, dfd, rel, &how, sizeof (how));
      err = errno;
      close (dfd);
      if (fd >= 0 || (err != ENOSYS && err != EPERM)) {
        errno = err;
        return fd;
      }
      /* no openat2 here (old kernel, seccomp): remember, use the walk */
      g_atomic_int_set (&have_openat2, 0);
    }
  }
#endif
  return open_walk (croot, path, flags);
}

GBytes *
edgefaas_frameref_load (const gchar * uri, const gchar * root, guint64 max_bytes,
    guint64 expected_size, const gchar * expected_sha256, GError ** error)
{
  gchar *path, *croot = NULL, *p = NULL, *hex;
  struct stat st;
  guint8 *buf = NULL;
  gsize got = 0, cap;
  gint fd;

  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (max_bytes == 0)
    max_bytes = EDGEFAAS_FRAMEREF_DEFAULT_MAX_BYTES;

  path = resolve (uri, root, &croot, error);
  if (!path)
    return NULL;
  p = printable (uri);

  fd = open_beneath (croot, path);
  if (fd < 0) {
    gint err = errno;
    gint code = err == ELOOP || err == EXDEV || err == ENOTDIR ?
        EDGEFAAS_FRAMEREF_ERROR_OUTSIDE_ROOT :
        err == ENOENT ? EDGEFAAS_FRAMEREF_ERROR_NOT_FOUND : EDGEFAAS_FRAMEREF_ERROR_IO;
    g_set_error (error, EDGEFAAS_FRAMEREF_ERROR, code, "frame uri \"%s\": %s", p,
        code == EDGEFAAS_FRAMEREF_ERROR_OUTSIDE_ROOT ?
        "changed into a link while opening" : g_strerror (err));
    goto fail;
  }
  if (fstat (fd, &st) != 0) {
    g_set_error (error, EDGEFAAS_FRAMEREF_ERROR, EDGEFAAS_FRAMEREF_ERROR_IO,
        "frame uri \"%s\": fstat: %s", p, g_strerror (errno));
    goto fail;
  }
  if (!S_ISREG (st.st_mode)) {
    g_set_error (error, EDGEFAAS_FRAMEREF_ERROR, EDGEFAAS_FRAMEREF_ERROR_NOT_REGULAR,
        "frame uri \"%s\": not a regular file", p);
    goto fail;
  }
  if (st.st_nlink != 1) {
    g_set_error (error, EDGEFAAS_FRAMEREF_ERROR, EDGEFAAS_FRAMEREF_ERROR_HARDLINK,
        "frame uri \"%s\": the file has %" G_GUINT64_FORMAT " hard links (frame files "
        "must have exactly one: another link may name a file outside the frame root)", p,
        (guint64) st.st_nlink);
    goto fail;
  }
  if ((guint64) st.st_size > max_bytes) {
    g_set_error (error, EDGEFAAS_FRAMEREF_ERROR, EDGEFAAS_FRAMEREF_ERROR_TOO_LARGE,
        "frame uri \"%s\": %" G_GUINT64_FORMAT " bytes, at most %" G_GUINT64_FORMAT
        " allowed", p, (guint64) st.st_size, max_bytes);
    goto fail;
  }
  if (expected_size != 0 && (guint64) st.st_size != expected_size) {
    g_set_error (error, EDGEFAAS_FRAMEREF_ERROR, EDGEFAAS_FRAMEREF_ERROR_SIZE_MISMATCH,
        "frame uri \"%s\": %" G_GUINT64_FORMAT " bytes, the event says %" G_GUINT64_FORMAT,
        p, (guint64) st.st_size, expected_size);
    goto fail;
  }

  /* Read at most max_bytes + 1: a file that grew since fstat is caught. */
  cap = (gsize) st.st_size + 1;
  buf = g_malloc (cap);
  while (got < cap) {
    ssize_t n = read (fd, buf + got, cap - got);
    if (n < 0) {
      if (errno == EINTR || errno == EAGAIN)
        continue;
      g_set_error (error, EDGEFAAS_FRAMEREF_ERROR, EDGEFAAS_FRAMEREF_ERROR_IO,
          "frame uri \"%s\": read: %s", p, g_strerror (errno));
      goto fail;
    }
    if (n == 0)
      break;
    got += (gsize) n;
  }
  if (got != (gsize) st.st_size) {
    g_set_error (error, EDGEFAAS_FRAMEREF_ERROR,
        got > max_bytes ? EDGEFAAS_FRAMEREF_ERROR_TOO_LARGE : EDGEFAAS_FRAMEREF_ERROR_SIZE_MISMATCH,
        "frame uri \"%s\": changed size while reading", p);
    goto fail;
  }
  close (fd);
  fd = -1;

  if (expected_sha256) {
    hex = edgefaas_sha256_hex (buf, got);
    if (g_ascii_strcasecmp (hex, expected_sha256) != 0) {
      g_set_error (error, EDGEFAAS_FRAMEREF_ERROR, EDGEFAAS_FRAMEREF_ERROR_HASH_MISMATCH,
          "frame uri \"%s\": SHA-256 mismatch (file %s)", p, hex);
      g_free (hex);
      goto fail;
    }
    g_free (hex);
  }

  g_free (path);
  g_free (croot);
  g_free (p);
  return g_bytes_new_take (g_realloc (buf, MAX (got, 1)), got);

fail:
  if (fd >= 0)
    close (fd);
  g_free (buf);
  g_free (path);
  g_free (croot);
  g_free (p);
  return NULL;
}

gboolean
edgefaas_frameref_delete (const gchar * uri, const gchar * root, GError ** error)
{
  gchar *path, *croot = NULL, *p, *dir, *base;
  struct stat st;
  gboolean ok = FALSE;
  gint dfd;

  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  path = resolve (uri, root, &croot, error);
  if (!path)
    return FALSE;
  p = printable (uri);
  dir = g_path_get_dirname (path);
  base = g_path_get_basename (path);
  if (strcmp (dir, croot) == 0)
    dfd = open (croot, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  else
    dfd = open_walk (croot, dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (dfd < 0) {
    gint err = errno;
    g_set_error (error, EDGEFAAS_FRAMEREF_ERROR, err == ENOENT ?
        EDGEFAAS_FRAMEREF_ERROR_NOT_FOUND : EDGEFAAS_FRAMEREF_ERROR_OUTSIDE_ROOT,
        "frame uri \"%s\": %s", p, err == ENOENT ? g_strerror (err) :
        "its directory changed into a link while deleting");
    goto out;
  }
  if (fstatat (dfd, base, &st, AT_SYMLINK_NOFOLLOW) != 0) {
    g_set_error (error, EDGEFAAS_FRAMEREF_ERROR, errno == ENOENT ?
        EDGEFAAS_FRAMEREF_ERROR_NOT_FOUND : EDGEFAAS_FRAMEREF_ERROR_IO,
        "frame uri \"%s\": %s", p, g_strerror (errno));
  } else if (!S_ISREG (st.st_mode)) {
    g_set_error (error, EDGEFAAS_FRAMEREF_ERROR, EDGEFAAS_FRAMEREF_ERROR_NOT_REGULAR,
        "frame uri \"%s\": not a regular file, not deleted", p);
  } else if (st.st_nlink != 1) {
    g_set_error (error, EDGEFAAS_FRAMEREF_ERROR, EDGEFAAS_FRAMEREF_ERROR_HARDLINK,
        "frame uri \"%s\": %" G_GUINT64_FORMAT " hard links, not deleted", p,
        (guint64) st.st_nlink);
  } else if (unlinkat (dfd, base, 0) != 0) {
    g_set_error (error, EDGEFAAS_FRAMEREF_ERROR, errno == ENOENT ?
        EDGEFAAS_FRAMEREF_ERROR_NOT_FOUND : EDGEFAAS_FRAMEREF_ERROR_IO,
        "frame uri \"%s\": unlink: %s", p, g_strerror (errno));
  } else {
    ok = TRUE;
  }
  close (dfd);
out:
  g_free (base);
  g_free (dir);
  g_free (p);
  g_free (croot);
  g_free (path);
  return ok;
}

/* ------------------------------------------------------------------------- */
/* Store                                                                      */
/* ------------------------------------------------------------------------- */

/* One safe path component: [A-Za-z0-9._-], no leading '.', at most 128 bytes;
 * everything else becomes '_'. "" and NULL become @fallback. */
gchar *
edgefaas_frameref_sanitize_component (const gchar * s, const gchar * fallback)
{
  GString *out;

  if (!s || !*s)
    return g_strdup (fallback);
  out = g_string_new (NULL);
  for (const gchar * c = s; *c && out->len < MAX_COMPONENT; c++) {
    gchar ch = *c;
    if (g_ascii_isalnum (ch) || ch == '-' || ch == '_' || (ch == '.' && out->len > 0))
      g_string_append_c (out, ch);
    else
      g_string_append_c (out, '_');
  }
  return g_string_free (out, FALSE);
}

static gboolean
write_all (gint fd, const guint8 * data, gsize size)
{
  while (size > 0) {
    ssize_t n = write (fd, data, size);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      return FALSE;
    }
    data += n;
    size -= (gsize) n;
  }
  return TRUE;
}

gchar *
edgefaas_frameref_store (const gchar * root, const gchar * camera_id, gint64 utc_us,
    const gchar * name, const gchar * extension, GBytes * data, gchar ** out_sha256,
    GError ** error)
{
  gchar *cam = NULL, *base = NULL, *ext = NULL, *date = NULL, *dir = NULL, *cdir = NULL;
  gchar *croot = NULL, *file = NULL, *final = NULL, *tmp = NULL, *uri = NULL, *iso;
  const guint8 *bytes;
  gsize size;
  gint fd = -1, dfd;

  g_return_val_if_fail (data != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (!root || !*root) {
    g_set_error (error, EDGEFAAS_FRAMEREF_ERROR, EDGEFAAS_FRAMEREF_ERROR_IO,
        "frame store: no root directory");
    return NULL;
  }
  if (g_mkdir_with_parents (root, 0755) != 0) {
    gchar *p = printable (root);
    g_set_error (error, EDGEFAAS_FRAMEREF_ERROR, EDGEFAAS_FRAMEREF_ERROR_IO,
        "frame store \"%s\": %s", p, g_strerror (errno));
    g_free (p);
    return NULL;
  }
  croot = canonical_root (root, error);
  if (!croot)
    return NULL;

  cam = edgefaas_frameref_sanitize_component (camera_id, "unknown");
  base = edgefaas_frameref_sanitize_component (name, "frame");
  ext = extension && *extension ? edgefaas_frameref_sanitize_component (extension, "bin") : NULL;
  iso = edgefaas_format_utc_us (utc_us);
  date = g_strndup (iso, 10);   /* YYYY-MM-DD */
  g_free (iso);

  /* Create <camera> then <date>, checking after each step that it resolves
   * below the root: a pre-existing symlink must not make us create anything
   * outside it. */
  dir = g_build_filename (croot, cam, NULL);
  for (gint step = 0; step < 2; step++) {
    gchar *c;

    if (step == 1) {
      gchar *d = g_build_filename (cdir, date, NULL);
      g_free (dir);
      g_clear_pointer (&cdir, g_free);
      dir = d;
    }
    if (g_mkdir (dir, 0755) != 0 && errno != EEXIST) {
      g_set_error (error, EDGEFAAS_FRAMEREF_ERROR, EDGEFAAS_FRAMEREF_ERROR_IO,
          "frame store \"%s\": %s", dir, g_strerror (errno));
      goto out;
    }
    c = realpath (dir, NULL);
    cdir = c ? g_strdup (c) : NULL;
    free (c);
    if (!cdir || !is_below (cdir, croot) || !g_file_test (cdir, G_FILE_TEST_IS_DIR)) {
      g_set_error (error, EDGEFAAS_FRAMEREF_ERROR, EDGEFAAS_FRAMEREF_ERROR_OUTSIDE_ROOT,
          "frame store \"%s\": resolves outside the frame root", dir);
      goto out;
    }
  }

  file = ext ? g_strconcat (base, ".", ext, NULL) : g_strdup (base);
  final = g_build_filename (cdir, file, NULL);
  tmp = g_strdup_printf ("%s/.%s.XXXXXX", cdir, file);
  fd = g_mkstemp_full (tmp, O_RDWR | O_CLOEXEC, 0644);
  if (fd < 0) {
    g_set_error (error, EDGEFAAS_FRAMEREF_ERROR, EDGEFAAS_FRAMEREF_ERROR_IO,
        "frame store \"%s\": %s", tmp, g_strerror (errno));
    g_clear_pointer (&tmp, g_free);
    goto out;
  }

  bytes = g_bytes_get_data (data, &size);
  if (!write_all (fd, bytes, size) || fsync (fd) != 0) {
    g_set_error (error, EDGEFAAS_FRAMEREF_ERROR, EDGEFAAS_FRAMEREF_ERROR_IO,
        "frame store \"%s\": write: %s", final, g_strerror (errno));
    goto out;
  }
  if (close (fd) != 0) {
    fd = -1;
    g_set_error (error, EDGEFAAS_FRAMEREF_ERROR, EDGEFAAS_FRAMEREF_ERROR_IO,
        "frame store \"%s\": close: %s", final, g_strerror (errno));
    goto out;
  }
  fd = -1;
  if (rename (tmp, final) != 0) {
    g_set_error (error, EDGEFAAS_FRAMEREF_ERROR, EDGEFAAS_FRAMEREF_ERROR_IO,
        "frame store \"%s\": rename: %s", final, g_strerror (errno));
    goto out;
  }
  g_clear_pointer (&tmp, g_free);       /* renamed: nothing to clean up */

  /* Make the rename durable. */
  dfd = open (cdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    fsync (dfd);
    close (dfd);
  }

  uri = g_filename_to_uri (final, NULL, error);
  if (uri && out_sha256)
    *out_sha256 = edgefaas_sha256_hex (bytes, size);

out:
  if (fd >= 0)
    close (fd);
  if (tmp)
    g_unlink (tmp);
  g_free (cam);
  g_free (base);
  g_free (ext);
  g_free (date);
  g_free (dir);
  g_free (cdir);
  g_free (croot);
  g_free (file);
  g_free (final);
  g_free (tmp);
  return uri;
}
