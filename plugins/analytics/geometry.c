/* situationdetect geometry (see geometry.h). */
#include <math.h>
#include "geometry.h"

AnPoint
an_box_anchor (const AnBox * b)
{
  AnPoint p = { (b->x0 + b->x1) / 2.0, b->y1 };
  return p;
}

gdouble
an_box_area (const AnBox * b)
{
  return MAX (0.0, b->x1 - b->x0) * MAX (0.0, b->y1 - b->y0);
}

gdouble
an_box_iou (const AnBox * a, const AnBox * b)
{
  gdouble iw = MIN (a->x1, b->x1) - MAX (a->x0, b->x0);
  gdouble ih = MIN (a->y1, b->y1) - MAX (a->y0, b->y0);
  if (iw <= 0 || ih <= 0)
    return 0.0;
  gdouble inter = iw * ih, uni = an_box_area (a) + an_box_area (b) - inter;
  return uni > 0 ? inter / uni : 0.0;
}

static gdouble
cross (AnPoint o, AnPoint a, AnPoint b)
{
  return (a.x - o.x) * (b.y - o.y) - (a.y - o.y) * (b.x - o.x);
}

static gboolean
on_segment (AnPoint a, AnPoint b, AnPoint p)
{
  return fabs (cross (a, b, p)) < 1e-12 && p.x >= MIN (a.x, b.x) - 1e-12
      && p.x <= MAX (a.x, b.x) + 1e-12 && p.y >= MIN (a.y, b.y) - 1e-12
      && p.y <= MAX (a.y, b.y) + 1e-12;
}

gboolean
an_polygon_contains (const AnPoint * poly, guint n, AnPoint p)
{
  gboolean inside = FALSE;
  for (guint i = 0, j = n - 1; i < n; j = i++) {
    if (on_segment (poly[j], poly[i], p))
      return TRUE;
    if ((poly[i].y > p.y) != (poly[j].y > p.y)) {
      gdouble x = poly[j].x + (p.y - poly[j].y) * (poly[i].x - poly[j].x)
          / (poly[i].y - poly[j].y);
      if (p.x < x)
        inside = !inside;
    }
  }
  return inside;
}

static gint
sign (gdouble v)
{
  return v > 1e-12 ? 1 : (v < -1e-12 ? -1 : 0);
}

gboolean
an_segments_intersect (AnPoint p1, AnPoint p2, AnPoint q1, AnPoint q2)
{
  gint d1 = sign (cross (q1, q2, p1)), d2 = sign (cross (q1, q2, p2));
  gint d3 = sign (cross (p1, p2, q1)), d4 = sign (cross (p1, p2, q2));
  if (d1 * d2 < 0 && d3 * d4 < 0)
    return TRUE;
  return (d1 == 0 && on_segment (q1, q2, p1)) || (d2 == 0 && on_segment (q1, q2, p2))
      || (d3 == 0 && on_segment (p1, p2, q1)) || (d4 == 0 && on_segment (p1, p2, q2));
}

gboolean
an_polygon_self_intersects (const AnPoint * poly, guint n, guint * edge_a, guint * edge_b)
{
  for (guint i = 0; i < n; i++) {
    AnPoint a1 = poly[i], a2 = poly[(i + 1) % n];
    for (guint j = i + 1; j < n; j++) {
      AnPoint b1 = poly[j], b2 = poly[(j + 1) % n];
      gboolean adjacent = j == i + 1 || (i == 0 && j == n - 1);
      gboolean hit;
      if (adjacent) {
        /* adjacent edges share a vertex; they are bad only if they overlap
         * along a line (the polygon folds back on itself) */
        AnPoint shared = j == i + 1 ? a2 : a1;
        AnPoint pa = j == i + 1 ? a1 : a2, pb = j == i + 1 ? b2 : b1;
        hit = sign (cross (shared, pa, pb)) == 0
            && ((pa.x - shared.x) * (pb.x - shared.x) + (pa.y - shared.y) * (pb.y - shared.y))
            > 0;
      } else {
        hit = an_segments_intersect (a1, a2, b1, b2);
      }
      if (hit) {
        if (edge_a)
          *edge_a = i;
        if (edge_b)
          *edge_b = j;
        return TRUE;
      }
    }
  }
  return FALSE;
}

gdouble
an_polygon_signed_area2 (const AnPoint * poly, guint n)
{
  gdouble s = 0;
  for (guint i = 0, j = n - 1; i < n; j = i++)
    s += poly[j].x * poly[i].y - poly[i].x * poly[j].y;
  return s;
}

gdouble
an_side (AnPoint a, AnPoint b, AnPoint p)
{
  /* With y growing downwards, cross > 0 means p is on the right of a->b as
   * seen on screen; return it negated so that > 0 is "left". */
  return -cross (a, b, p);
}

AnCrossing
an_line_crossing (AnPoint a, AnPoint b, AnPoint from, AnPoint to)
{
  gint s0 = sign (an_side (a, b, from)), s1 = sign (an_side (a, b, to));
  if (s0 == 0 || s1 == 0 || s0 == s1)
    return AN_CROSS_NONE;
  if (!an_segments_intersect (a, b, from, to))
    return AN_CROSS_NONE;
  return s0 > 0 ? AN_CROSS_LEFT_TO_RIGHT : AN_CROSS_RIGHT_TO_LEFT;
}
