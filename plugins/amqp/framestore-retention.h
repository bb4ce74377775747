/* edgefaas: retention of amqpsink's frame store (age and size bounds).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct
{
  guint deleted;                /* frame files removed */
  guint64 freed_bytes;
  guint kept;                   /* frame files left */
  guint64 kept_bytes;
  guint protected_files;        /* left because protected or too recent */
} FramestorePruneResult;

/* Prune the frame store under @root (<root>/<camera>/<date>/<file>):
 * - every frame file whose mtime is older than @now_us - @max_age_us
 *   (@max_age_us 0 = no age bound);
 * - then, oldest first, files until the total is at most @max_bytes
 *   (0 = no size bound).
 * Never deleted: a path in @protect (absolute, canonical paths as in the
 * file:// URIs of frame events; a set, may be NULL), a file modified at or
 * after @keep_newer_than_us (a frame being written or not yet registered),
 * hidden files (the store's temporary files). Date and camera directories
 * left empty are removed. FALSE with @error only if @root cannot be read. */
gboolean framestore_prune (const gchar * root, gint64 now_us, gint64 max_age_us,
    guint64 max_bytes, GHashTable * protect, gint64 keep_newer_than_us,
    FramestorePruneResult * result, GError ** error);

G_END_DECLS
