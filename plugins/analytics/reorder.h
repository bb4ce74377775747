/* Reorder and deduplicate per-camera events delivered at-least-once and out
 * of order (N inference replicas finish a camera's frames in any order; a
 * redelivery repeats one). Items are released per camera in (capture time,
 * sequence) order once they are older than the newest item of that camera by
 * the window, or when a camera holds more than max_held items. An item that
 * comes after a later one was released is LATE (cannot be put in order any
 * more); one seen before (same camera, sequence and capture time) is a
 * DUPLICATE. Both are handed back to the caller to drop. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct _EfReorder EfReorder;

typedef enum {
  EF_REORDER_HELD,              /* taken; released later through @ready */
  EF_REORDER_DUPLICATE,         /* not taken: seen before */
  EF_REORDER_LATE,              /* not taken: older than what was released */
} EfReorderVerdict;

typedef struct {
  guint64 held, released, duplicates, late, forced;     /* forced: released by max_held */
} EfReorderStats;

/* @window_us: how far behind the newest item of a camera an item is kept;
 * @max_held: items held per camera at most; @dedup_memory: released
 * (sequence, time) pairs remembered per camera for duplicate detection. */
EfReorder *ef_reorder_new (gint64 window_us, guint max_held, guint dedup_memory);
void ef_reorder_free (EfReorder * r, GDestroyNotify free_item);

/* Offer @item; ready items (of this camera) are appended to @ready in order. */
EfReorderVerdict ef_reorder_push (EfReorder * r, const gchar * camera, guint64 sequence,
    gint64 time_us, gpointer item, GPtrArray * ready);
/* Release everything held, camera by camera, in order. */
void ef_reorder_flush (EfReorder * r, GPtrArray * ready);
/* Release items of every camera held since before @now_us - @wait_us (by the
 * time they were pushed, monotonic clock): bounds the delay when a camera's
 * events stop coming. */
void ef_reorder_release_stale (EfReorder * r, gint64 now_us, gint64 wait_us, GPtrArray * ready);
void ef_reorder_get_stats (const EfReorder * r, EfReorderStats * stats);
guint ef_reorder_n_held (const EfReorder * r);

G_END_DECLS
