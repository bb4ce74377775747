/* Unit tests of roi-mode=motion region planning, cost and deduplication
 * (yoloregions.c and yolopreproc.c compiled in). */
#include <math.h>
#include <string.h>

#include "ef-test.h"
#include "yoloregions.h"

static YoloRegionParams
params (gint fw, gint fh, guint max_regions)
{
  return (YoloRegionParams) { fw, fh, 320, 320, 1.35, max_regions, 0.6 };
}

static gboolean
contains (const YoloRect * r, const YoloRect * b)
{
  return b->x >= r->x && b->y >= r->y && b->x + b->w <= r->x + r->w
      && b->y + b->h <= r->y + r->h;
}

static gboolean
inside_frame (const YoloRect * r, gint fw, gint fh)
{
  return r->x >= 0 && r->y >= 0 && r->w > 0 && r->h > 0 && r->x + r->w <= fw
      && r->y + r->h <= fh;
}

static void
test_plan_one_small_box (void)
{
  YoloRegionParams p = params (1920, 1080, 4);
  YoloRect box = { 900, 500, 40, 60 }, out[YOLO_REGIONS_MAX];
  gboolean whole;
  guint n = yolo_regions_plan (&p, &box, 1, out, &whole);
  g_assert_cmpuint (n, ==, 1);
  g_assert_false (whole);
  g_assert_cmpint (out[0].w, ==, 320);
  g_assert_cmpint (out[0].h, ==, 320);
  g_assert_true (contains (&out[0], &box));
  /* nothing (or only boxes outside the frame): nothing to infer */
  g_assert_cmpuint (yolo_regions_plan (&p, NULL, 0, out, &whole), ==, 0);
  YoloRect outside = { 2000, 10, 50, 50 };
  g_assert_cmpuint (yolo_regions_plan (&p, &outside, 1, out, &whole), ==, 0);
}

/* Far apart: two regions. Close (regions overlap or nearly touch): one
 * region holding both boxes, so an object between them is not cut. */
static void
test_plan_merges_near (void)
{
  YoloRegionParams p = params (1920, 1080, 4);
  YoloRect out[YOLO_REGIONS_MAX];
  gboolean whole;
  YoloRect far[] = { {100, 100, 50, 80}, {1500, 700, 60, 90} };
  g_assert_cmpuint (yolo_regions_plan (&p, far, 2, out, &whole), ==, 2);
  g_assert_false (yolo_rects_near (&out[0], &out[1], 0));

  /* a walker whose legs and head moved: two boxes 300 px apart vertically */
  YoloRect parts[] = { {800, 300, 60, 40}, {790, 620, 80, 60} };
  guint n = yolo_regions_plan (&p, parts, 2, out, &whole);
  g_assert_cmpuint (n, ==, 1);
  g_assert_false (whole);
  g_assert_true (contains (&out[0], &parts[0]));
  g_assert_true (contains (&out[0], &parts[1]));
  /* the object between them is inside too */
  g_assert_true (contains (&out[0], &(YoloRect) { 790, 300, 80, 380 }));
}

/* More regions than allowed: merged down to the cap, every box still inside
 * one region; regions cover most of the frame: the whole frame. */
static void
test_plan_cap_and_whole (void)
{
  YoloRect boxes[10], out[YOLO_REGIONS_MAX];
  gboolean whole;
  for (guint i = 0; i < 10; i++)
    boxes[i] = (YoloRect) { 60 + (gint) (i % 5) * 380, 80 + (gint) (i / 5) * 600, 40, 80 };
  YoloRegionParams p = params (1920, 1080, 3);
  p.whole_coverage = 2.0;       /* never: check the cap alone */
  guint n = yolo_regions_plan (&p, boxes, 10, out, &whole);
  g_assert_cmpuint (n, <=, 3);
  g_assert_false (whole);
  for (guint i = 0; i < 10; i++) {
    gboolean in = FALSE;
    for (guint j = 0; j < n; j++)
      in |= contains (&out[j], &boxes[i]);
    g_assert_true (in);
  }
  p.whole_coverage = 0.6;
  n = yolo_regions_plan (&p, boxes, 10, out, &whole);
  g_assert_cmpuint (n, ==, 1);
  g_assert_true (whole);
  g_assert_cmpint (out[0].w, ==, 1920);
  /* a small frame: one box's region already covers most of it */
  YoloRegionParams small = params (400, 300, 4);
  n = yolo_regions_plan (&small, &(YoloRect) { 100, 100, 40, 40 }, 1, out, &whole);
  g_assert_true (whole);
}

/* Random motion boxes: regions inside the frame, at least the network
 * size (or the frame), no two near each other, at most the cap, every box in
 * a region. */
static void
test_plan_invariants (void)
{
  GRand *rand = g_rand_new_with_seed (7);
  const gint sizes[][2] = { {640, 360}, {1280, 720}, {1920, 1080}, {3840, 2160} };
  for (guint it = 0; it < 2000; it++) {
    gint fw = sizes[it % 4][0], fh = sizes[it % 4][1];
    YoloRegionParams p = params (fw, fh, 1 + g_rand_int_range (rand, 0, 6));
    p.whole_coverage = it % 3 ? 0.6 : 10.0;
    guint nb = g_rand_int_range (rand, 1, 20);
    YoloRect boxes[20], out[YOLO_REGIONS_MAX];
    for (guint i = 0; i < nb; i++) {
      gint w = g_rand_int_range (rand, 1, fw / 3), h = g_rand_int_range (rand, 1, fh / 3);
      boxes[i] = (YoloRect) { g_rand_int_range (rand, 0, fw - w), g_rand_int_range (rand, 0, fh - h), w, h };
    }
    gboolean whole;
    guint n = yolo_regions_plan (&p, boxes, nb, out, &whole);
    g_assert_cmpuint (n, >=, 1);
    g_assert_cmpuint (n, <=, p.max_regions);
    if (whole) {
      g_assert_cmpuint (n, ==, 1);
      continue;
    }
    for (guint j = 0; j < n; j++) {
      g_assert_true (inside_frame (&out[j], fw, fh));
      g_assert_cmpint (out[j].w, >=, MIN (320, fw));
      g_assert_cmpint (out[j].h, >=, MIN (320, fh));
      for (guint k = j + 1; k < n; k++)
        g_assert_false (yolo_rects_near (&out[j], &out[k], 80));
    }
    for (guint i = 0; i < nb; i++) {
      gboolean in = FALSE;
      for (guint j = 0; j < n; j++)
        in |= contains (&out[j], &boxes[i]);
      g_assert_true (in);
    }
  }
  g_rand_free (rand);
}

static void
test_cost (void)
{
  YoloRegionCost c;
  yolo_region_cost_init (&c);
  /* nothing measured: one input costs one input */
  g_assert_true (yolo_region_cost_prefer_regions (&c, 1, 4));
  g_assert_false (yolo_region_cost_prefer_regions (&c, 2, 4));
  /* CPU-like: a pass of one image 10 ms; region preprocessing cheaper than
   * the whole frame's */
  yolo_region_cost_add_pass (&c, 1, 10000);
  yolo_region_cost_add_preproc (&c, FALSE, 200);
  g_assert_true (yolo_region_cost_prefer_regions (&c, 1, 4));
  g_assert_false (yolo_region_cost_prefer_regions (&c, 2, 4));
  yolo_region_cost_add_preproc (&c, TRUE, 1000);
  g_assert_cmpfloat (yolo_region_cost_whole (&c), ==, 11000);
  /* batched passes are not assumed cheaper before one was measured */
  g_assert_cmpfloat (yolo_region_cost_regions (&c, 2, 4), ==, 20400);
  /* a measured 2-image pass of 12 ms: 12.4 > 11 ms, still the whole frame */
  yolo_region_cost_add_pass (&c, 2, 12000);
  g_assert_false (yolo_region_cost_prefer_regions (&c, 2, 4));
  /* GPU-like: batching nearly free; the running average follows */
  for (guint i = 0; i < 30; i++)
    yolo_region_cost_add_pass (&c, 2, 10300);
  g_assert_cmpfloat (c.pass_us[2], <, 10400);
  g_assert_true (yolo_region_cost_prefer_regions (&c, 2, 4));
  /* 3 images: not measured, estimated from the 2-image per-image cost */
  g_assert_cmpfloat (yolo_region_cost_regions (&c, 3, 4), >, 15000);
  g_assert_false (yolo_region_cost_prefer_regions (&c, 3, 4));
  /* with batch-size 1 the two regions take two passes */
  g_assert_false (yolo_region_cost_prefer_regions (&c, 2, 1));
}

static void
add_det (GArray * d, GArray * r, gint cls, gfloat conf, gdouble x0, gdouble y0,
    gdouble x1, gdouble y1, guint region, gint fw, gint fh)
{
  YoloDetection det = { cls, conf, x0 / fw, y0 / fh, x1 / fw, y1 / fh };
  g_array_append_val (d, det);
  g_array_append_val (r, region);
}

static void
test_dedupe (void)
{
  const gint fw = 1280, fh = 720;
  YoloRect regions[] = { {0, 0, 320, 320}, {320, 0, 320, 320}, {900, 300, 320, 320} };
  GArray *d = g_array_new (FALSE, FALSE, sizeof (YoloDetection));
  GArray *r = g_array_new (FALSE, FALSE, sizeof (guint));
  /* one person cut by the boundary x = 320 between regions 0 and 1 */
  add_det (d, r, 0, 0.6f, 250, 100, 320, 300, 0, fw, fh);
  add_det (d, r, 0, 0.7f, 321, 110, 380, 290, 1, fw, fh);
  /* a dog in region 2 only */
  add_det (d, r, 16, 0.5f, 950, 400, 1050, 500, 2, fw, fh);
  /* two people side by side in one region: both kept */
  add_det (d, r, 0, 0.8f, 950, 320, 1000, 450, 2, fw, fh);
  add_det (d, r, 0, 0.8f, 1002, 320, 1050, 450, 2, fw, fh);
  /* a car in region 0 seen again, mostly inside, from region 1: one car */
  add_det (d, r, 2, 0.4f, 20, 20, 120, 80, 0, fw, fh);
  add_det (d, r, 2, 0.3f, 30, 25, 110, 75, 1, fw, fh);
  yolo_regions_dedupe (d, r, regions, 3, fw, fh);
  g_assert_cmpuint (d->len, ==, 5);
  g_assert_cmpuint (r->len, ==, 5);
  guint persons = 0, cars = 0;
  for (guint i = 0; i < d->len; i++) {
    YoloDetection *x = &g_array_index (d, YoloDetection, i);
    if (x->class_id == 0 && x->x_min * fw < 300) {
      /* the more confident half, with the union of both */
      g_assert_cmpfloat (x->confidence, ==, 0.7f);
      g_assert_cmpfloat (fabs (x->x_min * fw - 250), <, 1e-6);
      g_assert_cmpfloat (fabs (x->x_max * fw - 380), <, 1e-6);
      g_assert_cmpfloat (fabs (x->y_max * fh - 300), <, 1e-6);
    }
    persons += x->class_id == 0;
    cars += x->class_id == 2;
  }
  g_assert_cmpuint (persons, ==, 3);
  g_assert_cmpuint (cars, ==, 1);
  /* one region: nothing to do */
  add_det (d, r, 2, 0.3f, 30, 25, 110, 75, 0, fw, fh);
  guint before = d->len;
  yolo_regions_dedupe (d, r, regions, 1, fw, fh);
  g_assert_cmpuint (d->len, ==, before);
  g_array_unref (d);
  g_array_unref (r);
}

int
main (int argc, char **argv)
{
  ef_test_init (&argc, &argv);
  g_test_add_func ("/yolo/regions/plan-one-small-box", test_plan_one_small_box);
  g_test_add_func ("/yolo/regions/plan-merges-near", test_plan_merges_near);
  g_test_add_func ("/yolo/regions/plan-cap-and-whole", test_plan_cap_and_whole);
  g_test_add_func ("/yolo/regions/plan-invariants", test_plan_invariants);
  g_test_add_func ("/yolo/regions/cost", test_cost);
  g_test_add_func ("/yolo/regions/dedupe", test_dedupe);
  return g_test_run ();
}
