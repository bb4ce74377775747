/* edgefaas: retention of amqpsink's frame store.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "framestore-retention.h"

#include <errno.h>
#include <string.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>
#include <glib/gstdio.h>

typedef struct
{
  gchar *path;
  gint64 mtime_us;
  guint64 size;
} Frame;

static void
frame_free (Frame * f)
{
  g_free (f->path);
  g_free (f);
}

/* Oldest first; the path breaks ties so the order is total. */
static gint
frame_cmp_age (gconstpointer a, gconstpointer b)
{
  const Frame *fa = *(const Frame * const *) a, *fb = *(const Frame * const *) b;
  if (fa->mtime_us != fb->mtime_us)
    return fa->mtime_us < fb->mtime_us ? -1 : 1;
  return strcmp (fa->path, fb->path);
}

/* The regular, non-hidden files @depth levels below @dir (2 = camera/date). */
static void
collect (const gchar * dir, guint depth, GPtrArray * frames, GPtrArray * dirs)
{
  GDir *d = g_dir_open (dir, 0, NULL);
  const gchar *name;

  if (d == NULL)
    return;
  while ((name = g_dir_read_name (d))) {
    gchar *path;
    GStatBuf st;

    if (name[0] == '.')
      continue;                 /* temporary file of a store in progress */
    path = g_build_filename (dir, name, NULL);
    if (g_lstat (path, &st) != 0) {
      g_free (path);
      continue;
    }
    if (depth > 0 && S_ISDIR (st.st_mode)) {
      collect (path, depth - 1, frames, dirs);
      if (depth == 1)
        g_ptr_array_add (dirs, path);   /* a date directory */
      else
        g_free (path);
    } else if (depth == 0 && S_ISREG (st.st_mode)) {
      Frame *f = g_new0 (Frame, 1);
      f->path = path;
      f->mtime_us = (gint64) st.st_mtim.tv_sec * G_USEC_PER_SEC + st.st_mtim.tv_nsec / 1000;
      f->size = st.st_size;
      g_ptr_array_add (frames, f);
    } else {
      g_free (path);
    }
  }
  g_dir_close (d);
}

static gboolean
deletable (const Frame * f, GHashTable * protect, gint64 keep_newer_than_us)
{
  if (f->mtime_us >= keep_newer_than_us)
    return FALSE;
  return protect == NULL || !g_hash_table_contains (protect, f->path);
}

gboolean
framestore_prune (const gchar * root, gint64 now_us, gint64 max_age_us, guint64 max_bytes,
    GHashTable * protect, gint64 keep_newer_than_us, FramestorePruneResult * result,
    GError ** error)
{
  gchar *croot = realpath (root, NULL);
  GPtrArray *frames, *dirs;
  guint64 total = 0;
  gboolean *gone;

  memset (result, 0, sizeof (*result));
  if (croot == NULL) {
    g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (errno),
        "frame store \"%s\": %s", root, g_strerror (errno));
    return FALSE;
  }
  frames = g_ptr_array_new_with_free_func ((GDestroyNotify) frame_free);
  dirs = g_ptr_array_new_with_free_func (g_free);
  collect (croot, 2, frames, dirs);
  g_ptr_array_sort (frames, frame_cmp_age);
  gone = g_new0 (gboolean, frames->len + 1);

  for (guint i = 0; i < frames->len; i++)
    total += ((Frame *) g_ptr_array_index (frames, i))->size;

  for (guint pass = 0; pass < 2; pass++) {
    for (guint i = 0; i < frames->len; i++) {
      Frame *f = g_ptr_array_index (frames, i);
      gboolean want;

      if (gone[i])
        continue;
      if (pass == 0)
        want = max_age_us > 0 && f->mtime_us < now_us - max_age_us;
      else
        want = max_bytes > 0 && total > max_bytes;
      if (!want || !deletable (f, protect, keep_newer_than_us))
        continue;
      if (g_unlink (f->path) == 0 || errno == ENOENT) {
        gone[i] = TRUE;
        total -= f->size;
        result->deleted++;
        result->freed_bytes += f->size;
      }
    }
  }
  for (guint i = 0; i < frames->len; i++) {
    Frame *f = g_ptr_array_index (frames, i);
    if (gone[i])
      continue;
    result->kept++;
    result->kept_bytes += f->size;
    if (!deletable (f, protect, keep_newer_than_us))
      result->protected_files++;
  }
  /* Empty date directories go, except today's and yesterday's (UTC): the
   * store may be about to write there (mkdir, then create the file), and an
   * rmdir in between would fail that store. rmdir only removes empty ones. */
  {
    GDateTime *t = g_date_time_new_from_unix_utc (now_us / G_USEC_PER_SEC - 86400);
    gchar *yesterday = g_date_time_format (t, "%Y-%m-%d");
    for (guint i = 0; i < dirs->len; i++) {
      const gchar *dir = g_ptr_array_index (dirs, i);
      gchar *base = g_path_get_basename (dir);
      if (strcmp (base, yesterday) < 0)
        g_rmdir (dir);
      g_free (base);
    }
    g_free (yesterday);
    g_date_time_unref (t);
  }

  g_free (gone);
  g_ptr_array_unref (dirs);
  g_ptr_array_unref (frames);
  free (croot);
  return TRUE;
}
