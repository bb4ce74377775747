/* Per-camera reorder + dedup window (see reorder.h). */
#include "reorder.h"

typedef struct {
  guint64 seq;
  gint64 time_us;
  gint64 pushed_us;             /* monotonic, for release_stale */
  gpointer item;
} Entry;

typedef struct {
  guint64 seq;
  gint64 time_us;
} Key;

typedef struct {
  GQueue held;                  /* Entry*, sorted by (time, seq) */
  gint64 newest_us;
  gboolean released_any;
  Key last;                     /* last released */
  GHashTable *seen;             /* Key* of held and recently released items */
  GQueue seen_order;            /* Key* released, oldest first (for forgetting) */
} Camera;

struct _EfReorder {
  gint64 window_us;
  guint max_held, dedup_memory;
  GHashTable *cameras;          /* gchar* -> Camera* */
  EfReorderStats stats;
};

static guint
key_hash (gconstpointer p)
{
  const Key *k = p;
  return (guint) (k->seq * 2654435761u) ^ (guint) (k->time_us ^ (k->time_us >> 32));
}

static gboolean
key_equal (gconstpointer a, gconstpointer b)
{
  const Key *x = a, *y = b;
  return x->seq == y->seq && x->time_us == y->time_us;
}

static gint
key_cmp (gint64 ta, guint64 sa, gint64 tb, guint64 sb)
{
  if (ta != tb)
    return ta < tb ? -1 : 1;
  return sa < sb ? -1 : (sa > sb);
}

static void
camera_free (Camera * c)
{
  g_hash_table_unref (c->seen);
  g_queue_clear (&c->seen_order);
  g_free (c);
}

EfReorder *
ef_reorder_new (gint64 window_us, guint max_held, guint dedup_memory)
{
  EfReorder *r = g_new0 (EfReorder, 1);
  r->window_us = window_us;
  r->max_held = MAX (max_held, 1);
  r->dedup_memory = MAX (dedup_memory, 1);
  r->cameras = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
      (GDestroyNotify) camera_free);
  return r;
}

void
ef_reorder_free (EfReorder * r, GDestroyNotify free_item)
{
  GHashTableIter it;
  Camera *c;
  if (!r)
    return;
  g_hash_table_iter_init (&it, r->cameras);
  while (g_hash_table_iter_next (&it, NULL, (gpointer *) & c)) {
    Entry *e;
    while ((e = g_queue_pop_head (&c->held))) {
      if (free_item)
        free_item (e->item);
      g_free (e);
    }
  }
  g_hash_table_unref (r->cameras);
  g_free (r);
}

static Camera *
get_camera (EfReorder * r, const gchar * id)
{
  Camera *c = g_hash_table_lookup (r->cameras, id);
  if (!c) {
    c = g_new0 (Camera, 1);
    g_queue_init (&c->held);
    g_queue_init (&c->seen_order);
    c->newest_us = G_MININT64;
    /* keys are owned by the table (freed on removal) */
    c->seen = g_hash_table_new_full (key_hash, key_equal, g_free, NULL);
    g_hash_table_insert (r->cameras, g_strdup (id), c);
  }
  return c;
}

static void
release_head (EfReorder * r, Camera * c, GPtrArray * ready)
{
  Entry *e = g_queue_pop_head (&c->held);
  Key probe = { e->seq, e->time_us };
  Key *k = NULL;
  g_hash_table_lookup_extended (c->seen, &probe, (gpointer *) & k, NULL);
  g_queue_push_tail (&c->seen_order, k);
  while (c->seen_order.length > r->dedup_memory)
    g_hash_table_remove (c->seen, g_queue_pop_head (&c->seen_order));
  c->last.seq = e->seq;
  c->last.time_us = e->time_us;
  c->released_any = TRUE;
  g_ptr_array_add (ready, e->item);
  r->stats.released++;
  g_free (e);
}

static void
release_due (EfReorder * r, Camera * c, GPtrArray * ready)
{
  Entry *e;
  while ((e = g_queue_peek_head (&c->held)) && e->time_us <= c->newest_us - r->window_us)
    release_head (r, c, ready);
  while (c->held.length > r->max_held) {
    r->stats.forced++;
    release_head (r, c, ready);
  }
}

EfReorderVerdict
ef_reorder_push (EfReorder * r, const gchar * camera, guint64 sequence, gint64 time_us,
    gpointer item, GPtrArray * ready)
{
  Camera *c = get_camera (r, camera ? camera : "");
  Key probe = { sequence, time_us };

  if (g_hash_table_contains (c->seen, &probe)) {
    r->stats.duplicates++;
    return EF_REORDER_DUPLICATE;
  }
  if (c->released_any && key_cmp (time_us, sequence, c->last.time_us, c->last.seq) < 0) {
    r->stats.late++;
    return EF_REORDER_LATE;
  }
  Key *k = g_new (Key, 1);
  *k = probe;
  g_hash_table_add (c->seen, k);

  Entry *e = g_new0 (Entry, 1);
  e->seq = sequence;
  e->time_us = time_us;
  e->pushed_us = g_get_monotonic_time ();
  e->item = item;
  /* insert sorted, scanning from the tail: items mostly come nearly in order */
  GList *l = c->held.tail;
  while (l && key_cmp (((Entry *) l->data)->time_us, ((Entry *) l->data)->seq, time_us,
          sequence) > 0)
    l = l->prev;
  if (l)
    g_queue_insert_after (&c->held, l, e);
  else
    g_queue_push_head (&c->held, e);
  r->stats.held++;
  c->newest_us = MAX (c->newest_us, time_us);
  release_due (r, c, ready);
  return EF_REORDER_HELD;
}

void
ef_reorder_flush (EfReorder * r, GPtrArray * ready)
{
  GHashTableIter it;
  Camera *c;
  g_hash_table_iter_init (&it, r->cameras);
  while (g_hash_table_iter_next (&it, NULL, (gpointer *) & c))
    while (c->held.length)
      release_head (r, c, ready);
}

void
ef_reorder_release_stale (EfReorder * r, gint64 now_us, gint64 wait_us, GPtrArray * ready)
{
  GHashTableIter it;
  Camera *c;
  g_hash_table_iter_init (&it, r->cameras);
  while (g_hash_table_iter_next (&it, NULL, (gpointer *) & c)) {
    /* everything up to the last item that waited too long (order kept) */
    guint n = 0, i = 0;
    for (GList * l = c->held.head; l; l = l->next, i++)
      if (now_us - ((Entry *) l->data)->pushed_us >= wait_us)
        n = i + 1;
    while (n--)
      release_head (r, c, ready);
  }
}

void
ef_reorder_get_stats (const EfReorder * r, EfReorderStats * stats)
{
  *stats = r->stats;
}

guint
ef_reorder_n_held (const EfReorder * r)
{
  GHashTableIter it;
  Camera *c;
  guint n = 0;
  g_hash_table_iter_init (&it, r->cameras);
  while (g_hash_table_iter_next (&it, NULL, (gpointer *) & c))
    n += c->held.length;
  return n;
}
