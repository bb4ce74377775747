/* edgefaas: the frame store and frame-reference resolver.
 *
 * A frame reference is a file:// URI confined to a configured root directory.
 * Loading canonicalises the path (realpath), refuses anything outside the root
 * (.., symlinks that escape, other schemes, non-regular files, files with more
 * than one hard link), caps the size and verifies size and SHA-256 when the
 * event gives them.
 * Storing writes atomically (temporary file + rename) under ROOT/<camera>/<YYYY-MM-DD>/.
 */
#pragma once

#include <glib.h>
#include "edgefaas-prelude.h"

G_BEGIN_DECLS

#define EDGEFAAS_FRAMEREF_ERROR (edgefaas_frameref_error_quark ())
typedef enum {
  EDGEFAAS_FRAMEREF_ERROR_BAD_URI,        /* unparseable, or not file:// */
  EDGEFAAS_FRAMEREF_ERROR_OUTSIDE_ROOT,   /* .., symlink escape, absolute path elsewhere */
  EDGEFAAS_FRAMEREF_ERROR_NOT_FOUND,
  EDGEFAAS_FRAMEREF_ERROR_NOT_REGULAR,
  EDGEFAAS_FRAMEREF_ERROR_TOO_LARGE,
  EDGEFAAS_FRAMEREF_ERROR_SIZE_MISMATCH,
  EDGEFAAS_FRAMEREF_ERROR_HASH_MISMATCH,
  EDGEFAAS_FRAMEREF_ERROR_IO,
  EDGEFAAS_FRAMEREF_ERROR_HARDLINK,       /* st_nlink > 1: may be a link to a file elsewhere */
} EdgefaasFramerefError;
EDGEFAAS_API GQuark edgefaas_frameref_error_quark (void);

/* Used when edgefaas_frameref_load() gets max_bytes 0 (added). */
#define EDGEFAAS_FRAMEREF_DEFAULT_MAX_BYTES (G_GUINT64_CONSTANT (64) * 1024 * 1024)

/* Lowercase hex SHA-256 of @data. */
EDGEFAAS_API gchar *edgefaas_sha256_hex (const guint8 * data, gsize size);

/* Load the bytes a frame reference points to.
 * @expected_size: 0 = don't check; @expected_sha256: NULL = don't check. */
EDGEFAAS_API GBytes *edgefaas_frameref_load (const gchar * uri, const gchar * root,
    guint64 max_bytes, guint64 expected_size, const gchar * expected_sha256, GError ** error);

/* Added: the canonical local path a frame reference names, with every check of
 * _load() except opening the file (used by the fuzzer and for diagnostics). */
EDGEFAAS_API gchar *edgefaas_frameref_resolve (const gchar * uri, const gchar * root,
    GError ** error);

/* Delete the file a frame reference names, with the checks of _load() (inside
 * the root after resolving links, never following a symlink while getting
 * there, a regular file with one hard link): the parent directory is opened
 * from the root one component at a time with O_NOFOLLOW and the file removed
 * with unlinkat(), so a directory swapped for a link since resolving can not
 * make it delete anything outside the root. Used by amqpsrc delete-after-ack. */
EDGEFAAS_API gboolean edgefaas_frameref_delete (const gchar * uri, const gchar * root,
    GError ** error);

/* Added: one safe path component as the store uses it for camera ids and names:
 * [A-Za-z0-9._-], no leading '.', at most 128 bytes, others become '_';
 * NULL or "" gives @fallback. */
EDGEFAAS_API gchar *edgefaas_frameref_sanitize_component (const gchar * s,
    const gchar * fallback);

/* Store @data atomically under @root/<camera>/<date of utc_us>/<name>.<ext>;
 * returns the file:// URI; sets *out_sha256 (hex) when non-NULL. */
EDGEFAAS_API gchar *edgefaas_frameref_store (const gchar * root, const gchar * camera_id,
    gint64 utc_us, const gchar * name, const gchar * extension, GBytes * data,
    gchar ** out_sha256, GError ** error);

G_END_DECLS
