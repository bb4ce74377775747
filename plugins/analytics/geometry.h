/* Geometry for situationdetect: points, boxes, polygons (zones), directed
 * segments (tripwires). Coordinates are normalised to the frame ([0,1] x
 * [0,1]); where areas or distances must be isotropic the caller scales by
 * the frame size first. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct {
  gdouble x, y;
} AnPoint;

typedef struct {
  gdouble x0, y0, x1, y1;       /* x0 <= x1, y0 <= y1 */
} AnBox;

/* The point where an object touches the ground: the bottom-centre of its box
 * (nvdsanalytics' convention for zones and lines). */
AnPoint an_box_anchor (const AnBox * b);
gdouble an_box_area (const AnBox * b);
gdouble an_box_iou (const AnBox * a, const AnBox * b);

/* Even-odd point-in-polygon; a point on an edge counts as inside. */
gboolean an_polygon_contains (const AnPoint * poly, guint n, AnPoint p);

/* Does the closed polygon have two non-adjacent edges that touch or cross
 * (or adjacent edges that fold back on each other)? Sets edge_a and edge_b to
 * the 0-based edges found. */
gboolean an_polygon_self_intersects (const AnPoint * poly, guint n, guint * edge_a,
    guint * edge_b);

/* Twice the signed area (positive = counter-clockwise in y-up, i.e.
 * clockwise on screen). 0 = degenerate. */
gdouble an_polygon_signed_area2 (const AnPoint * poly, guint n);

/* Do segments p1-p2 and q1-q2 intersect (touching counts)? */
gboolean an_segments_intersect (AnPoint p1, AnPoint p2, AnPoint q1, AnPoint q2);

/* Which side of the directed line a->b is p on: > 0 left (on screen, with y
 * down: the side you see on your left walking from a to b... see
 * an_line_crossing), < 0 right, 0 on the line. */
gdouble an_side (AnPoint a, AnPoint b, AnPoint p);

typedef enum {
  AN_CROSS_NONE = 0,
  AN_CROSS_LEFT_TO_RIGHT,       /* from the left of a->b to its right */
  AN_CROSS_RIGHT_TO_LEFT,
} AnCrossing;

/* Did a point moving from @from to @to cross the tripwire a->b (the segment,
 * not the infinite line)? Left/right as seen by someone walking from a to b on
 * the screen (y grows downwards). A point that only touches the line does not
 * cross; the side changes strictly. */
AnCrossing an_line_crossing (AnPoint a, AnPoint b, AnPoint from, AnPoint to);

G_END_DECLS
