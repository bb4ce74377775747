/* Unit tests of the situations key-file and its consecutive-frame logic
 * (yolosituations.c compiled in). */
#include <string.h>

#include "ef-test.h"
#include "yolosituations.h"

static const gchar *labels[] = { "person", "car", "fire", "smoke", "fallen", "dog", NULL };
enum { PERSON, CAR, FIRE, SMOKE, FALLEN, DOG };

static GArray *
frame (guint n, const YoloDetection * d)
{
  GArray *a = g_array_new (FALSE, FALSE, sizeof (YoloDetection));
  g_array_append_vals (a, d, n);
  return a;
}

static guint
feed (YoloSituations * s, guint n, const YoloDetection * d, const gchar * expect_name,
    YoloRaised * copy)
{
  GArray *dets = frame (n, d);
  GArray *r = yolo_situations_update (s, dets, labels, 640, 480);
  guint len = r->len;
  if (len && expect_name)
    g_assert_cmpstr (g_array_index (r, YoloRaised, 0).name, ==, expect_name);
  if (len && copy) {
    YoloRaised *x = &g_array_index (r, YoloRaised, 0);
    copy->name = g_strdup (x->name);
    copy->labels = g_strdup (x->labels);
    copy->frames = x->frames;
    copy->confidence = x->confidence;
  }
  g_array_unref (r);
  g_array_unref (dets);
  return len;
}

/* The committed default file parses and defines the three documented
 * situations. */
static void
test_default_file (void)
{
  g_autofree gchar *path = g_build_filename (ef_test_source_root (), "plugins", "yolo",
      "situations.conf", NULL);
  GError *err = NULL;
  YoloSituations *s = yolo_situations_load (path, &err);
  g_assert_no_error (err);
  g_assert_cmpuint (yolo_situations_count (s), ==, 3);
  /* fire with min-frames=3 from the file: third fire frame raises */
  YoloDetection f = { FIRE, 0.8f, 0.1, 0.1, 0.3, 0.3 };
  g_assert_cmpuint (feed (s, 1, &f, NULL, NULL), ==, 0);
  g_assert_cmpuint (feed (s, 1, &f, NULL, NULL), ==, 0);
  g_assert_cmpuint (feed (s, 1, &f, "fire", NULL), ==, 1);
  yolo_situations_free (s);
}

/* A fire-like label sequence raises only after N consecutive frames, once
 * per run; a frame without support ends the run; weak detections do not count. */
static void
test_consecutive_frames (void)
{
  const guint N = 4;
  g_autofree gchar *conf = g_strdup_printf ("[fire]\nlabels=fire;smoke\n"
      "min-confidence=0.5\nmin-frames=%u\n", N);
  GError *err = NULL;
  YoloSituations *s = yolo_situations_load_data (conf, -1, &err);
  g_assert_no_error (err);

  YoloDetection fire = { FIRE, 0.7f, 0.1, 0.1, 0.3, 0.3 };
  YoloDetection smoke = { SMOKE, 0.9f, 0.5, 0.1, 0.9, 0.5 };
  YoloDetection weak = { FIRE, 0.3f, 0.1, 0.1, 0.3, 0.3 };
  YoloDetection dog = { DOG, 0.9f, 0.1, 0.1, 0.3, 0.3 };

  /* N-1 frames, then a gap (a dog only), then a weak fire: nothing */
  for (guint i = 0; i < N - 1; i++)
    g_assert_cmpuint (feed (s, 1, &fire, NULL, NULL), ==, 0);
  g_assert_cmpuint (feed (s, 1, &dog, NULL, NULL), ==, 0);
  g_assert_cmpuint (feed (s, 1, &weak, NULL, NULL), ==, 0);
  /* a run of N: raised exactly on the Nth, smoke and fire both support it */
  guint raised_at = 0, total = 0;
  YoloRaised r = { 0, };
  for (guint i = 1; i <= N + 3; i++) {
    YoloDetection two[2] = { fire, smoke };
    guint n = feed (s, i % 2 ? 1 : 2, two, "fire", raised_at ? NULL : &r);
    if (n && !raised_at)
      raised_at = i;
    total += n;
  }
  g_assert_cmpuint (raised_at, ==, N);
  g_assert_cmpuint (total, ==, 1);
  g_assert_cmpuint (r.frames, ==, N);
  g_assert_cmpfloat (r.confidence, >=, 0.7);
  g_assert_nonnull (strstr (r.labels, "fire"));
  g_free (r.name);
  g_free (r.labels);
  /* end of run, then a new run raises again */
  g_assert_cmpuint (feed (s, 0, NULL, NULL, NULL), ==, 0);
  for (guint i = 1; i < N; i++)
    g_assert_cmpuint (feed (s, 1, &fire, NULL, NULL), ==, 0);
  g_assert_cmpuint (feed (s, 1, &fire, "fire", NULL), ==, 1);
  /* reset forgets the run */
  yolo_situations_reset (s);
  for (guint i = 1; i < N; i++)
    g_assert_cmpuint (feed (s, 1, &fire, NULL, NULL), ==, 0);
  yolo_situations_free (s);
}

/* pairs= needs the two labels overlapping with IoU >= min-iou. */
static void
test_pairs (void)
{
  GError *err = NULL;
  YoloSituations *s = yolo_situations_load_data ("[traffic_accident]\n"
      "pairs=car+car;car+person\nmin-iou=0.3\nmin-confidence=0.5\nmin-frames=1\n", -1, &err);
  g_assert_no_error (err);
  YoloDetection apart[2] = { {CAR, 0.9f, 0.1, 0.1, 0.3, 0.3}, {CAR, 0.9f, 0.6, 0.6, 0.8, 0.8} };
  YoloDetection crash[2] = { {CAR, 0.9f, 0.1, 0.1, 0.3, 0.3}, {CAR, 0.8f, 0.12, 0.12, 0.32, 0.32} };
  YoloDetection hit[2] = { {CAR, 0.9f, 0.1, 0.1, 0.3, 0.3}, {PERSON, 0.6f, 0.12, 0.1, 0.3, 0.3} };
  YoloDetection weak[2] = { {CAR, 0.9f, 0.1, 0.1, 0.3, 0.3}, {PERSON, 0.4f, 0.12, 0.1, 0.3, 0.3} };
  YoloDetection one[1] = { {CAR, 0.9f, 0.1, 0.1, 0.3, 0.3} };
  YoloRaised r = { 0, };
  g_assert_cmpuint (feed (s, 2, apart, NULL, NULL), ==, 0);
  g_assert_cmpuint (feed (s, 1, one, NULL, NULL), ==, 0);       /* a car is not a pair with itself */
  g_assert_cmpuint (feed (s, 2, crash, "traffic_accident", &r), ==, 1);
  g_assert_cmpfloat (r.confidence, ==, 0.8f);   /* the weaker of the pair */
  g_assert_cmpstr (r.labels, ==, "car");
  g_free (r.name);
  g_free (r.labels);
  g_assert_cmpuint (feed (s, 2, weak, NULL, NULL), ==, 0);      /* person below min-confidence */
  g_assert_cmpuint (feed (s, 2, hit, "traffic_accident", &r), ==, 1);
  g_assert_cmpstr (r.labels, ==, "car,person");
  g_free (r.name);
  g_free (r.labels);
  yolo_situations_free (s);
}

/* all-labels= needs every label in the same frame. */
static void
test_all_labels (void)
{
  GError *err = NULL;
  YoloSituations *s = yolo_situations_load_data ("[person_in_danger]\n"
      "all-labels=person;fallen\nmin-frames=2\n", -1, &err);
  g_assert_no_error (err);
  YoloDetection p = { PERSON, 0.9f, 0.1, 0.1, 0.3, 0.3 };
  YoloDetection both[2] = { {PERSON, 0.9f, 0.1, 0.1, 0.3, 0.3}, {FALLEN, 0.6f, 0.1, 0.1, 0.3, 0.3} };
  g_assert_cmpuint (feed (s, 1, &p, NULL, NULL), ==, 0);
  g_assert_cmpuint (feed (s, 1, &p, NULL, NULL), ==, 0);
  g_assert_cmpuint (feed (s, 2, both, NULL, NULL), ==, 0);
  g_assert_cmpuint (feed (s, 2, both, "person_in_danger", NULL), ==, 1);
  yolo_situations_free (s);
}

/* Bad files are refused with a message naming the problem. */
static void
test_bad_files (void)
{
  struct { const gchar *data; gint code; const gchar *needle; } cases[] = {
    {"[fire]\nmin-frames=3\n", YOLO_SITUATIONS_ERROR_INVALID, "no rule"},
    {"[x]\npairs=car\n", YOLO_SITUATIONS_ERROR_INVALID, "LABEL+LABEL"},
    {"[x]\nlabels=a\nmin-frame=3\n", YOLO_SITUATIONS_ERROR_INVALID, "min-frame"},
    {"[x]\nlabels=a\nmin-confidence=high\n", YOLO_SITUATIONS_ERROR_PARSE, "min-confidence"},
    {"[x]\nlabels=a\nmin-confidence=1.5\n", YOLO_SITUATIONS_ERROR_INVALID, "outside"},
    {"labels=a\n", YOLO_SITUATIONS_ERROR_PARSE, "situations"},
  };
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
    GError *err = NULL;
    YoloSituations *s = yolo_situations_load_data (cases[i].data, -1, &err);
    g_assert_null (s);
    g_assert_error (err, YOLO_SITUATIONS_ERROR, cases[i].code);
    g_test_message ("%s -> %s", cases[i].data, err->message);
    g_assert_nonnull (strstr (err->message, cases[i].needle));
    g_error_free (err);
  }
  GError *err = NULL;
  g_assert_null (yolo_situations_load ("/nonexistent/situations.conf", &err));
  g_assert_nonnull (err);
  g_assert_nonnull (strstr (err->message, "/nonexistent/situations.conf"));
  g_error_free (err);
}

int
main (int argc, char **argv)
{
  ef_test_init (&argc, &argv);
  g_test_add_func ("/yolo/situations/default-file", test_default_file);
  g_test_add_func ("/yolo/situations/consecutive-frames", test_consecutive_frames);
  g_test_add_func ("/yolo/situations/pairs", test_pairs);
  g_test_add_func ("/yolo/situations/all-labels", test_all_labels);
  g_test_add_func ("/yolo/situations/bad-files", test_bad_files);
  return g_test_run ();
}
