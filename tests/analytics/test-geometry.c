/* situationdetect geometry (plugins/analytics/geometry.c). */
#include "geometry.h"

static void
test_anchor_iou (void)
{
  AnBox a = { 0.1, 0.2, 0.3, 0.6 }, b = { 0.2, 0.2, 0.4, 0.6 }, far = { 0.7, 0.7, 0.8, 0.8 };
  AnPoint p = an_box_anchor (&a);
  g_assert_cmpfloat_with_epsilon (p.x, 0.2, 1e-12);
  g_assert_cmpfloat_with_epsilon (p.y, 0.6, 1e-12);
  /* overlap 0.1 x 0.4 over union 0.12 */
  g_assert_cmpfloat_with_epsilon (an_box_iou (&a, &b), 0.04 / 0.12, 1e-9);
  g_assert_cmpfloat (an_box_iou (&a, &far), ==, 0.0);
  g_assert_cmpfloat_with_epsilon (an_box_iou (&a, &a), 1.0, 1e-12);
}

static void
test_contains (void)
{
  const AnPoint sq[] = { {0.2, 0.2}, {0.8, 0.2}, {0.8, 0.8}, {0.2, 0.8} };
  /* an L shape: the notch at the top right is outside */
  const AnPoint l[] = { {0.1, 0.1}, {0.4, 0.1}, {0.4, 0.5}, {0.9, 0.5}, {0.9, 0.9}, {0.1, 0.9} };
  g_assert_true (an_polygon_contains (sq, 4, (AnPoint) { 0.5, 0.5 }));
  g_assert_false (an_polygon_contains (sq, 4, (AnPoint) { 0.1, 0.5 }));
  g_assert_true (an_polygon_contains (sq, 4, (AnPoint) { 0.8, 0.5 }));       /* edge */
  g_assert_true (an_polygon_contains (sq, 4, (AnPoint) { 0.2, 0.2 }));       /* vertex */
  g_assert_true (an_polygon_contains (l, 6, (AnPoint) { 0.2, 0.3 }));
  g_assert_false (an_polygon_contains (l, 6, (AnPoint) { 0.7, 0.3 }));
  g_assert_true (an_polygon_contains (l, 6, (AnPoint) { 0.7, 0.7 }));
}

static void
test_self_intersection (void)
{
  const AnPoint sq[] = { {0.2, 0.2}, {0.8, 0.2}, {0.8, 0.8}, {0.2, 0.8} };
  const AnPoint bow[] = { {0.2, 0.2}, {0.8, 0.8}, {0.8, 0.2}, {0.2, 0.8} };
  const AnPoint fold[] = { {0.2, 0.2}, {0.8, 0.2}, {0.5, 0.2} };
  const AnPoint l[] = { {0.1, 0.1}, {0.4, 0.1}, {0.4, 0.5}, {0.9, 0.5}, {0.9, 0.9}, {0.1, 0.9} };
  guint a = 99, b = 99;
  g_assert_false (an_polygon_self_intersects (sq, 4, NULL, NULL));
  g_assert_false (an_polygon_self_intersects (l, 6, NULL, NULL));
  g_assert_true (an_polygon_self_intersects (bow, 4, &a, &b));
  g_assert_cmpuint (a, ==, 0);
  g_assert_cmpuint (b, ==, 2);
  g_assert_true (an_polygon_self_intersects (fold, 3, NULL, NULL));
  g_assert_cmpfloat (an_polygon_signed_area2 (sq, 4), !=, 0.0);
}

static void
test_line_crossing (void)
{
  /* a horizontal tripwire drawn left to right: "left" of it is above on screen */
  AnPoint a = { 0.2, 0.5 }, b = { 0.8, 0.5 };
  g_assert_cmpfloat (an_side (a, b, (AnPoint) { 0.5, 0.4 }), >, 0);
  g_assert_cmpint (an_line_crossing (a, b, (AnPoint) { 0.5, 0.4 }, (AnPoint) { 0.5, 0.6 }),
      ==, AN_CROSS_LEFT_TO_RIGHT);
  g_assert_cmpint (an_line_crossing (a, b, (AnPoint) { 0.5, 0.6 }, (AnPoint) { 0.5, 0.4 }),
      ==, AN_CROSS_RIGHT_TO_LEFT);
  /* beside the segment: the infinite line is crossed, the tripwire is not */
  g_assert_cmpint (an_line_crossing (a, b, (AnPoint) { 0.9, 0.4 }, (AnPoint) { 0.9, 0.6 }),
      ==, AN_CROSS_NONE);
  /* touching the line is no crossing */
  g_assert_cmpint (an_line_crossing (a, b, (AnPoint) { 0.5, 0.4 }, (AnPoint) { 0.5, 0.5 }),
      ==, AN_CROSS_NONE);
  g_assert_true (an_segments_intersect (a, b, (AnPoint) { 0.5, 0.0 }, (AnPoint) { 0.5, 1.0 }));
  g_assert_false (an_segments_intersect (a, b, (AnPoint) { 0.0, 0.0 }, (AnPoint) { 1.0, 0.1 }));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/geometry/anchor-iou", test_anchor_iou);
  g_test_add_func ("/geometry/contains", test_contains);
  g_test_add_func ("/geometry/self-intersection", test_self_intersection);
  g_test_add_func ("/geometry/line-crossing", test_line_crossing);
  return g_test_run ();
}
