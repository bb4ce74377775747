/* reorder.c: per-camera reorder + dedup window for at-least-once, out-of-order
 * detection events. */
#include "reorder.h"

#define MS 1000
#define T0 1700000000000000LL

static gpointer
item (const gchar * cam, guint64 seq)
{
  return g_strdup_printf ("%s:%" G_GUINT64_FORMAT, cam, seq);
}

/* Frames at 5 fps (200 ms apart); @order gives the arrival order. */
static void
test_in_order_out (void)
{
  EfReorder *r = ef_reorder_new (1000 * MS, 64, 1024);
  GPtrArray *out = g_ptr_array_new_with_free_func (g_free);
  /* 3 replicas finish out of order, never more than 4 frames apart */
  const guint order[] = { 1, 3, 2, 0, 4, 7, 5, 6, 9, 8, 12, 10, 11, 13, 15, 14, 16, 19, 17,
    18
  };
  for (guint i = 0; i < G_N_ELEMENTS (order); i++) {
    guint64 s = order[i];
    g_assert_cmpint (ef_reorder_push (r, "cam1", s, T0 + s * 200 * MS, item ("cam1", s), out),
        ==, EF_REORDER_HELD);
  }
  /* everything older than the newest (19) by 1 s is out already, in order */
  g_assert_cmpuint (out->len, ==, 15);
  ef_reorder_flush (r, out);
  g_assert_cmpuint (out->len, ==, 20);
  for (guint i = 0; i < out->len; i++) {
    g_autofree gchar *want = item ("cam1", i);
    g_assert_cmpstr (g_ptr_array_index (out, i), ==, want);
  }
  EfReorderStats st;
  ef_reorder_get_stats (r, &st);
  g_assert_cmpuint (st.released, ==, 20);
  g_assert_cmpuint (st.duplicates + st.late + st.forced, ==, 0);
  g_ptr_array_unref (out);
  ef_reorder_free (r, g_free);
}

static void
test_duplicates (void)
{
  EfReorder *r = ef_reorder_new (1000 * MS, 64, 1024);
  GPtrArray *out = g_ptr_array_new_with_free_func (g_free);
  for (guint64 s = 0; s < 10; s++)
    g_assert_cmpint (ef_reorder_push (r, "cam1", s, T0 + s * 200 * MS, item ("c", s), out),
        ==, EF_REORDER_HELD);
  g_assert_cmpuint (out->len, ==, 5);
  /* a redelivery of a released one and of a held one */
  gchar *dup = item ("c", 2);
  g_assert_cmpint (ef_reorder_push (r, "cam1", 2, T0 + 2 * 200 * MS, dup, out), ==,
      EF_REORDER_DUPLICATE);
  g_free (dup);
  dup = item ("c", 8);
  g_assert_cmpint (ef_reorder_push (r, "cam1", 8, T0 + 8 * 200 * MS, dup, out), ==,
      EF_REORDER_DUPLICATE);
  g_free (dup);
  /* same sequence, other time: a restarted edge, not a duplicate (and not late
   * when newer) */
  g_assert_cmpint (ef_reorder_push (r, "cam1", 3, T0 + 60000 * MS, item ("c", 3), out), ==,
      EF_REORDER_HELD);
  ef_reorder_flush (r, out);
  g_assert_cmpuint (out->len, ==, 11);
  EfReorderStats st;
  ef_reorder_get_stats (r, &st);
  g_assert_cmpuint (st.duplicates, ==, 2);
  g_ptr_array_unref (out);
  ef_reorder_free (r, g_free);
}

static void
test_late_and_forced (void)
{
  EfReorder *r = ef_reorder_new (1000 * MS, 4, 1024);
  GPtrArray *out = g_ptr_array_new_with_free_func (g_free);
  for (guint64 s = 10; s < 20; s++)
    ef_reorder_push (r, "cam1", s, T0 + s * 100 * MS, item ("c", s), out);
  /* 100 ms apart, 1 s window: only max_held=4 keeps the hold bounded */
  g_assert_cmpuint (out->len, ==, 6);
  EfReorderStats st;
  ef_reorder_get_stats (r, &st);
  g_assert_cmpuint (st.forced, ==, 6);
  /* frame 12 arrives after 15 was released: late */
  gchar *late = item ("c", 12);
  g_assert_cmpint (ef_reorder_push (r, "cam1", 12, T0 + 12 * 100 * MS + 1, late, out), ==,
      EF_REORDER_LATE);
  g_free (late);
  /* another camera is independent */
  g_assert_cmpint (ef_reorder_push (r, "cam2", 1, T0, item ("d", 1), out), ==,
      EF_REORDER_HELD);
  g_assert_cmpuint (ef_reorder_n_held (r), ==, 5);
  ef_reorder_flush (r, out);
  g_assert_cmpuint (out->len, ==, 11);
  g_ptr_array_unref (out);
  ef_reorder_free (r, g_free);
}

static void
test_release_stale (void)
{
  EfReorder *r = ef_reorder_new (10000 * MS, 64, 16);
  GPtrArray *out = g_ptr_array_new_with_free_func (g_free);
  ef_reorder_push (r, "cam1", 1, T0, item ("c", 1), out);
  ef_reorder_push (r, "cam1", 2, T0 + 200 * MS, item ("c", 2), out);
  g_assert_cmpuint (out->len, ==, 0);
  ef_reorder_release_stale (r, g_get_monotonic_time (), 60 * G_USEC_PER_SEC, out);
  g_assert_cmpuint (out->len, ==, 0);
  ef_reorder_release_stale (r, g_get_monotonic_time () + 61 * G_USEC_PER_SEC,
      60 * G_USEC_PER_SEC, out);
  g_assert_cmpuint (out->len, ==, 2);
  g_ptr_array_unref (out);
  /* forgetting: dedup memory is bounded, items are still never released twice */
  out = g_ptr_array_new_with_free_func (g_free);
  for (guint64 s = 3; s < 200; s++)
    ef_reorder_push (r, "cam1", s, T0 + s * 200 * MS, item ("c", s), out);
  gchar *old = item ("c", 5);
  g_assert_cmpint (ef_reorder_push (r, "cam1", 5, T0 + 5 * 200 * MS, old, out), ==,
      EF_REORDER_LATE);
  g_free (old);
  g_ptr_array_unref (out);
  ef_reorder_free (r, g_free);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/reorder/in-order-out", test_in_order_out);
  g_test_add_func ("/reorder/duplicates", test_duplicates);
  g_test_add_func ("/reorder/late-and-forced", test_late_and_forced);
  g_test_add_func ("/reorder/release-stale", test_release_stale);
  return g_test_run ();
}
