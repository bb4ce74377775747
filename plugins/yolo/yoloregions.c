/* yolov4infer roi-mode=motion regions: see yoloregions.h. */
#include "yoloregions.h"

#include <math.h>
#include <string.h>

#define COST_EMA 0.2            /* weight of a new measurement */
#define BOX_CAP 64              /* motion boxes considered per frame */

static gint64
rect_area (const YoloRect * r)
{
  return (gint64) r->w * r->h;
}

static YoloRect
rect_union (const YoloRect * a, const YoloRect * b)
{
  gint x0 = MIN (a->x, b->x), y0 = MIN (a->y, b->y);
  gint x1 = MAX (a->x + a->w, b->x + b->w), y1 = MAX (a->y + a->h, b->y + b->h);
  return (YoloRect) { x0, y0, x1 - x0, y1 - y0 };
}

gboolean
yolo_rects_near (const YoloRect * a, const YoloRect * b, gint gap)
{
  return a->x < b->x + b->w + gap && b->x < a->x + a->w + gap
      && a->y < b->y + b->h + gap && b->y < a->y + a->h + gap;
}

/* A planned region and the bounding box of the motion boxes it holds. The
 * region is always the Frigate square around that bounding box, so merging
 * two regions gives the region of their boxes' union (it holds every box of
 * both, without the padding of the two squares adding up). */
typedef struct {
  YoloRect boxes, region;
} Planned;

static void
planned_update (const YoloRegionParams * p, Planned * r)
{
  yolo_region_for_box (p->frame_w, p->frame_h, &r->boxes, MAX (p->net_w, p->net_h),
      p->grow, &r->region);
}

static Planned
planned_merge (const YoloRegionParams * p, const Planned * a, const Planned * b)
{
  Planned m = { rect_union (&a->boxes, &b->boxes), {0, 0, 0, 0} };
  planned_update (p, &m);
  return m;
}

/* Merge regions that overlap or nearly touch until none do. */
static guint
merge_near (const YoloRegionParams * p, Planned * r, guint n)
{
  gint gap = MIN (p->net_w, p->net_h) / 4;
  gboolean changed = TRUE;
  while (changed) {
    changed = FALSE;
    for (guint i = 0; i < n && !changed; i++)
      for (guint j = i + 1; j < n && !changed; j++) {
        if (!yolo_rects_near (&r[i].region, &r[j].region, gap))
          continue;
        r[i] = planned_merge (p, &r[i], &r[j]);
        r[j] = r[--n];
        changed = TRUE;
      }
  }
  return n;
}

/* Merge the pair whose merged region is smallest. */
static guint
merge_cheapest_pair (const YoloRegionParams * p, Planned * r, guint n)
{
  guint bi = 0, bj = 1;
  gint64 best = G_MAXINT64;
  for (guint i = 0; i < n; i++)
    for (guint j = i + 1; j < n; j++) {
      Planned m = planned_merge (p, &r[i], &r[j]);
      gint64 a = rect_area (&m.region);
      if (a < best) {
        best = a;
        bi = i;
        bj = j;
      }
    }
  r[bi] = planned_merge (p, &r[bi], &r[bj]);
  r[bj] = r[--n];
  return n;
}

guint
yolo_regions_plan (const YoloRegionParams * p, const YoloRect * boxes,
    guint n_boxes, YoloRect * out, gboolean * whole)
{
  Planned r[BOX_CAP];
  guint n = 0, cap = CLAMP (p->max_regions, 1, YOLO_REGIONS_MAX);

  *whole = FALSE;
  for (guint i = 0; i < n_boxes && n < BOX_CAP; i++) {
    const YoloRect *b = &boxes[i];
    gint x0 = CLAMP (b->x, 0, p->frame_w), y0 = CLAMP (b->y, 0, p->frame_h);
    gint x1 = CLAMP (b->x + b->w, 0, p->frame_w), y1 = CLAMP (b->y + b->h, 0, p->frame_h);
    if (x1 <= x0 || y1 <= y0)
      continue;
    r[n].boxes = (YoloRect) { x0, y0, x1 - x0, y1 - y0 };
    planned_update (p, &r[n++]);
  }
  if (n == 0)
    return 0;
  n = merge_near (p, r, n);
  while (n > cap) {
    n = merge_cheapest_pair (p, r, n);
    n = merge_near (p, r, n);
  }
  /* after merge_near the regions are disjoint: their union is their sum */
  gint64 covered = 0;
  for (guint i = 0; i < n; i++)
    covered += rect_area (&r[i].region);
  if (covered >= p->whole_coverage * p->frame_w * p->frame_h) {
    *whole = TRUE;
    out[0] = (YoloRect) { 0, 0, p->frame_w, p->frame_h };
    return 1;
  }
  for (guint i = 0; i < n; i++)
    out[i] = r[i].region;
  return n;
}

/* ------------------------------------------------------------------ */
/* cost */

void
yolo_region_cost_init (YoloRegionCost * c)
{
  memset (c, 0, sizeof *c);
}

static void
ema (gdouble * v, gdouble x)
{
  *v = *v > 0 ? *v + COST_EMA * (x - *v) : x;
}

void
yolo_region_cost_add_pass (YoloRegionCost * c, guint n_images, gdouble us)
{
  if (n_images >= 1 && n_images <= YOLO_REGIONS_MAX_BATCH && us > 0)
    ema (&c->pass_us[n_images], us);
}

void
yolo_region_cost_add_preproc (YoloRegionCost * c, gboolean whole, gdouble us)
{
  if (us > 0)
    ema (whole ? &c->pre_whole_us : &c->pre_region_us, us);
}

/* A pass of n images: measured, or n times the cheapest measured per-image
 * cost of a smaller pass (batching is not assumed to help until measured);
 * with nothing measured, n (units of one input). */
static gdouble
pass_cost (const YoloRegionCost * c, guint n, gboolean * measured)
{
  if (n == 0)
    return 0;
  n = MIN (n, YOLO_REGIONS_MAX_BATCH);
  if (c->pass_us[n] > 0) {
    *measured = TRUE;
    return c->pass_us[n];
  }
  gdouble per = 0;
  for (guint k = 1; k < n; k++)
    if (c->pass_us[k] > 0 && (per == 0 || c->pass_us[k] / k < per))
      per = c->pass_us[k] / k;
  if (per > 0) {
    *measured = TRUE;
    return n * per;
  }
  return n;
}

static gboolean
anything_measured (const YoloRegionCost * c)
{
  for (guint k = 1; k <= YOLO_REGIONS_MAX_BATCH; k++)
    if (c->pass_us[k] > 0)
      return TRUE;
  return FALSE;
}

gdouble
yolo_region_cost_regions (const YoloRegionCost * c, guint n, guint max_batch)
{
  gboolean m = FALSE;
  max_batch = CLAMP (max_batch, 1, YOLO_REGIONS_MAX_BATCH);
  gdouble t = (n / max_batch) * pass_cost (c, max_batch, &m) + pass_cost (c, n % max_batch, &m);
  return anything_measured (c) ? t + n * c->pre_region_us : t;
}

gdouble
yolo_region_cost_whole (const YoloRegionCost * c)
{
  gboolean m = FALSE;
  gdouble t = pass_cost (c, 1, &m);
  return anything_measured (c) ? t + c->pre_whole_us : t;
}

gboolean
yolo_region_cost_prefer_regions (const YoloRegionCost * c, guint n, guint max_batch)
{
  if (n == 0)
    return TRUE;
  if (!anything_measured (c))
    return n <= 1;
  /* the whole frame's preprocessing may not be measured yet (motion mode
   * only does it on a fallback): then only the forward passes compare */
  if (c->pre_whole_us <= 0) {
    gboolean m = FALSE;
    max_batch = CLAMP (max_batch, 1, YOLO_REGIONS_MAX_BATCH);
    gdouble t = (n / max_batch) * pass_cost (c, max_batch, &m) + pass_cost (c, n % max_batch, &m);
    return t <= pass_cost (c, 1, &m) * 1.0001;
  }
  return yolo_region_cost_regions (c, n, max_batch) <= yolo_region_cost_whole (c) * 1.0001;
}

/* ------------------------------------------------------------------ */
/* deduplication */

typedef struct {
  YoloDetection d;
  guint region;
  gboolean gone;
} Tagged;

static gint
tagged_by_confidence (gconstpointer pa, gconstpointer pb)
{
  const Tagged *a = pa, *b = pb;
  if (a->d.confidence != b->d.confidence)
    return a->d.confidence > b->d.confidence ? -1 : 1;
  return 0;
}

typedef struct {
  gdouble x0, y0, x1, y1;
} PxBox;

static PxBox
px_box (const YoloDetection * d, gint fw, gint fh)
{
  return (PxBox) { d->x_min * fw, d->y_min * fh, d->x_max * fw, d->y_max * fh };
}

static gdouble
intersection_over_smaller (const PxBox * a, const PxBox * b)
{
  gdouble iw = MIN (a->x1, b->x1) - MAX (a->x0, b->x0);
  gdouble ih = MIN (a->y1, b->y1) - MAX (a->y0, b->y0);
  if (iw <= 0 || ih <= 0)
    return 0;
  gdouble sa = (a->x1 - a->x0) * (a->y1 - a->y0), sb = (b->x1 - b->x0) * (b->y1 - b->y0);
  gdouble s = MIN (sa, sb);
  return s > 0 ? iw * ih / s : 0;
}

/* The box reaches an edge of its region that is not an edge of the frame:
 * the region may have cut the object there. */
static gboolean
cut_by_region (const PxBox * b, const YoloRect * r, gint fw, gint fh)
{
  gdouble tol = MAX (2.0, 0.02 * MAX (r->w, r->h));
  return (r->x > 0 && b->x0 <= r->x + tol)
      || (r->y > 0 && b->y0 <= r->y + tol)
      || (r->x + r->w < fw && b->x1 >= r->x + r->w - tol)
      || (r->y + r->h < fh && b->y1 >= r->y + r->h - tol);
}

/* Two boxes that meet (gap of a few pixels at most) and overlap along the
 * other axis by at least half the shorter side. */
static gboolean
boxes_meet (const PxBox * a, const PxBox * b)
{
  const gdouble gap = 4.0;
  gdouble ox = MIN (a->x1, b->x1) - MAX (a->x0, b->x0);
  gdouble oy = MIN (a->y1, b->y1) - MAX (a->y0, b->y0);
  gdouble minw = MIN (a->x1 - a->x0, b->x1 - b->x0);
  gdouble minh = MIN (a->y1 - a->y0, b->y1 - b->y0);
  return (ox > -gap && oy >= 0.5 * minh) || (oy > -gap && ox >= 0.5 * minw);
}

void
yolo_regions_dedupe (GArray * dets, GArray * region, const YoloRect * regions,
    guint n_regions, gint fw, gint fh)
{
  guint n = dets->len;
  g_return_if_fail (region->len == n);
  if (n < 2 || n_regions < 2)
    return;
  Tagged *t = g_new (Tagged, n);
  for (guint i = 0; i < n; i++) {
    t[i].d = g_array_index (dets, YoloDetection, i);
    t[i].region = MIN (g_array_index (region, guint, i), n_regions - 1);
    t[i].gone = FALSE;
  }
  qsort (t, n, sizeof (Tagged), tagged_by_confidence);
  for (guint i = 0; i < n; i++) {
    if (t[i].gone)
      continue;
    for (guint j = i + 1; j < n; j++) {
      if (t[j].gone || t[j].region == t[i].region || t[j].d.class_id != t[i].d.class_id)
        continue;
      PxBox a = px_box (&t[i].d, fw, fh), b = px_box (&t[j].d, fw, fh);
      gboolean same = intersection_over_smaller (&a, &b) > 0.5
          || (cut_by_region (&a, &regions[t[i].region], fw, fh)
          && cut_by_region (&b, &regions[t[j].region], fw, fh) && boxes_meet (&a, &b));
      if (!same)
        continue;
      t[i].d.x_min = MIN (t[i].d.x_min, t[j].d.x_min);
      t[i].d.y_min = MIN (t[i].d.y_min, t[j].d.y_min);
      t[i].d.x_max = MAX (t[i].d.x_max, t[j].d.x_max);
      t[i].d.y_max = MAX (t[i].d.y_max, t[j].d.y_max);
      t[j].gone = TRUE;
    }
  }
  guint w = 0;
  for (guint i = 0; i < n; i++) {
    if (t[i].gone)
      continue;
    g_array_index (dets, YoloDetection, w) = t[i].d;
    g_array_index (region, guint, w) = t[i].region;
    w++;
  }
  g_array_set_size (dets, w);
  g_array_set_size (region, w);
  g_free (t);
}
