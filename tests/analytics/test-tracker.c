/* The tracker algorithm (plugins/analytics/tracker.c) on synthetic box streams. */
#include "tracker.h"

#include <math.h>
#include <string.h>

static GQuark q_person, q_car, q_truck;

static EfTrackerBox
box (gdouble x, gdouble y, gdouble w, gdouble h, gdouble score, GQuark label)
{
  EfTrackerBox b = { x, y, w, h, score, label, 0, {0} };
  return b;
}

static EfTracker *
tracker_new_default (void)
{
  EfTrackerParams p;
  ef_tracker_params_init (&p);
  return ef_tracker_new (&p);
}

/* Two people walk towards each other on almost the same line and cross; for the three
 * frames around the crossing the nearer one hides the other (one box only). Motion
 * prediction keeps each id on its own person. */
static void
test_crossing_paths (void)
{
  EfTracker *t = tracker_new_default ();
  guint id_a = 0, id_b = 0, switches = 0;
  for (guint f = 0; f <= 100; f++) {
    gdouble time = f * 0.1;
    gdouble xa = 20 + 60 * time, xb = 620 - 60 * time;   /* they meet at t = 5 s */
    EfTrackerBox b[2] = { box (xa, 100, 40, 120, 0.9, q_person),
      box (xb, 108, 40, 120, 0.85, q_person)
    };
    gboolean hidden = f >= 49 && f <= 51;
    g_assert_true (ef_tracker_update (t, time, b, hidden ? 1 : 2));
    if (f < 3)
      continue;
    if (!id_a) {
      id_a = b[0].track_id;
      id_b = b[1].track_id;
      g_assert_cmpuint (id_a, !=, 0);
      g_assert_cmpuint (id_b, !=, 0);
      g_assert_cmpuint (id_a, !=, id_b);
    }
    switches += b[0].track_id != id_a;
    if (!hidden)
      switches += b[1].track_id != id_b;
  }
  g_assert_cmpuint (switches, ==, 0);
  ef_tracker_free (t);
}

/* An object that disappears for less than max-age and comes back where its motion
 * says keeps its id; a gap longer than max-age gives a new one. */
static void
test_occlusion_gap (void)
{
  EfTrackerParams p;
  ef_tracker_params_init (&p);
  p.max_age = 2.0;
  EfTracker *t = ef_tracker_new (&p);
  guint id = 0;
  gdouble time = 0;
  for (; time < 1.0; time += 0.1) {
    EfTrackerBox b = box (50 + 40 * time, 50, 50, 100, 0.9, q_person);
    ef_tracker_update (t, time, &b, 1);
    id = b.track_id;
  }
  g_assert_cmpuint (id, !=, 0);
  /* 1.5 s without the object: empty updates */
  for (; time < 2.5; time += 0.1) {
    EfTrackInfo *tracks;
    ef_tracker_update (t, time, NULL, 0);
    g_assert_cmpuint (ef_tracker_get_tracks (t, &tracks), ==, 1);
    g_assert_cmpint (tracks[0].state, ==, EF_TRACK_LOST);
  }
  EfTrackerBox b = box (50 + 40 * time, 50, 50, 100, 0.9, q_person);
  ef_tracker_update (t, time, &b, 1);
  g_assert_cmpuint (b.track_id, ==, id);
  g_assert_cmpint (b.track.state, ==, EF_TRACK_CONFIRMED);

  /* now 3 s away (> max-age): the track is removed, the object gets a new id */
  time += 3.0;
  ef_tracker_update (t, time - 0.5, NULL, 0);
  EfTrackInfo *tracks;
  g_assert_cmpuint (ef_tracker_get_tracks (t, &tracks), ==, 0);
  b = box (50 + 40 * time, 50, 50, 100, 0.9, q_person);
  ef_tracker_update (t, time, &b, 1);
  g_assert_cmpuint (b.track_id, >, id);
  g_assert_cmpint (b.track.state, ==, EF_TRACK_TENTATIVE);
  ef_tracker_free (t);
}

/* Frames skipped (motion gate, interval): one update after 1.2 s in which the object
 * moved further than its own width. IoU with the last box is 0; with the box predicted
 * from the velocity it matches. */
static void
test_skipped_frames (void)
{
  EfTracker *t = tracker_new_default ();
  guint id = 0;
  gdouble last_x = 0;
  for (guint f = 0; f < 10; f++) {
    gdouble time = f * 0.1;
    last_x = 10 + 100 * time;
    EfTrackerBox b = box (last_x, 40, 50, 100, 0.9, q_person);
    ef_tracker_update (t, time, &b, 1);
    id = b.track_id;
  }
  gdouble time = 0.9 + 1.2, x = 10 + 100 * time;
  g_assert_cmpfloat (x - last_x, >, 50);        /* no overlap with the last box at all */
  EfTrackerBox b = box (x, 40, 50, 100, 0.9, q_person);
  ef_tracker_update (t, time, &b, 1);
  g_assert_cmpuint (b.track_id, ==, id);
  /* the velocity is per second, whatever the frame spacing */
  g_assert_cmpfloat (fabs (b.track.vx - 100), <, 10);
  g_assert_cmpfloat (fabs (b.track.vy), <, 5);
  ef_tracker_free (t);
}

/* Velocity in px/s is the same at 10 fps and at 2 fps. */
static void
test_velocity_units (void)
{
  gdouble fps[] = { 10, 2 };
  for (guint k = 0; k < 2; k++) {
    EfTracker *t = tracker_new_default ();
    EfTrackerBox b = { 0 };
    for (gdouble time = 0; time <= 4.0 + 1e-9; time += 1.0 / fps[k]) {
      b = box (10 + 30 * time, 200 - 20 * time, 60, 60, 0.9, q_car);
      ef_tracker_update (t, time, &b, 1);
    }
    g_assert_cmpuint (b.track_id, !=, 0);
    g_assert_cmpfloat (fabs (b.track.vx - 30), <, 3);
    g_assert_cmpfloat (fabs (b.track.vy + 20), <, 3);
    g_assert_cmpfloat (fabs (b.track.age - 4.0), <, 1e-6);
    ef_tracker_free (t);
  }
}

/* A car drives for 3 s and stops: stationary is 0 while it moves and then grows with the
 * time since it stopped (within the filter's settling time). */
static void
test_stationary_grows (void)
{
  EfTracker *t = tracker_new_default ();
  EfTrackerBox b = { 0 };
  for (guint f = 0; f <= 150; f++) {
    gdouble time = f * 0.1;
    gdouble x = time < 3 ? 20 + 50 * time : 170;
    b = box (x + ((f * 7) % 3) - 1, 100, 120, 60, 0.8, q_car);    /* ±1 px jitter */
    ef_tracker_update (t, time, &b, 1);
    if (f == 29)
      g_assert_cmpfloat (b.track.stationary, ==, 0);
    if (f == 100) {
      g_assert_cmpfloat (b.track.stationary, >, 5.0);
      g_assert_cmpfloat (b.track.stationary, <=, 7.0 + 1e-9);
    }
  }
  /* +5 s more: grows by 5 s */
  g_assert_cmpfloat (b.track.stationary, >, 10.0);
  g_assert_cmpfloat (b.track.stationary, <=, 12.0 + 1e-9);
  g_assert_cmpfloat (fabs (b.track.vx), <, 10);
  /* it starts again: stationary back to 0 */
  for (guint f = 151; f <= 165; f++) {
    gdouble time = f * 0.1;
    b = box (170 + 60 * (time - 15.0), 100, 120, 60, 0.8, q_car);
    ef_tracker_update (t, time, &b, 1);
  }
  g_assert_cmpfloat (b.track.stationary, ==, 0);
  ef_tracker_free (t);
}

/* ByteTrack's second pass: a confirmed track keeps its id on weak boxes (score between
 * the low and the high threshold); a weak box alone never starts a track. */
static void
test_low_score_second_pass (void)
{
  for (guint variant = 0; variant < 2; variant++) {
    EfTrackerParams p;
    ef_tracker_params_init (&p);
    if (variant == 1)
      p.low_threshold = 0.4;    /* the 0.3 boxes are now below the low threshold */
    EfTracker *t = ef_tracker_new (&p);
    guint id = 0, kept = 0;
    for (guint f = 0; f < 20; f++) {
      gdouble time = f * 0.1;
      gdouble score = f < 8 ? 0.9 : 0.3;
      EfTrackerBox b[2] = { box (10 + 30 * time, 50, 40, 100, score, q_person),
        box (400, 50, 40, 100, 0.3, q_person)   /* weak from the start */
      };
      ef_tracker_update (t, time, b, 2);
      if (f == 7)
        id = b[0].track_id;
      if (f >= 8)
        kept += b[0].track_id == id;
      g_assert_cmpuint (b[1].track_id, ==, 0);
    }
    g_assert_cmpuint (id, !=, 0);
    g_assert_cmpuint (kept, ==, variant == 0 ? 12 : 0);
    EfTrackInfo *tracks;
    guint n = ef_tracker_get_tracks (t, &tracks);
    g_assert_cmpuint (n, ==, 1);
    g_assert_cmpint (tracks[0].state, ==, variant == 0 ? EF_TRACK_CONFIRMED : EF_TRACK_LOST);
    ef_tracker_free (t);
  }
}

/* min-hits: tentative for the first boxes, then confirmed; a tentative track missing
 * one update is gone (a one-frame false positive never becomes a track). */
static void
test_birth_min_hits (void)
{
  EfTrackerParams p;
  ef_tracker_params_init (&p);
  p.min_hits = 3;
  EfTracker *t = ef_tracker_new (&p);
  EfTrackerBox b = box (100, 100, 50, 50, 0.9, q_person);
  ef_tracker_update (t, 0.0, &b, 1);
  g_assert_cmpint (b.track.state, ==, EF_TRACK_TENTATIVE);
  guint first = b.track_id;
  ef_tracker_update (t, 0.1, NULL, 0);
  EfTrackInfo *tracks;
  g_assert_cmpuint (ef_tracker_get_tracks (t, &tracks), ==, 0);
  for (guint f = 2; f < 5; f++) {
    b = box (100, 100, 50, 50, 0.9, q_person);
    ef_tracker_update (t, f * 0.1, &b, 1);
    g_assert_cmpuint (b.track_id, !=, first);
    g_assert_cmpint (b.track.state, ==, f < 4 ? EF_TRACK_TENTATIVE : EF_TRACK_CONFIRMED);
    g_assert_cmpuint (b.track.hits, ==, f - 1);
  }
  ef_tracker_free (t);
}

/* The same vehicle reported as car and truck (IoU 0.72, and a taller truck box mostly
 * inside the car box): one track, label car (the
 * higher summed score), median score over the track. */
static void
test_duplicates_label_median (void)
{
  EfTracker *t = tracker_new_default ();
  gdouble scores[] = { 0.8, 0.7, 0.9, 0.6, 0.75 };
  EfTrackerBox b[2];
  for (guint f = 0; f < 5; f++) {
    b[0] = box (100, 100, 200, 80, scores[f], q_car);
    b[1] = f % 2 ? box (110, 104, 170, 72, 0.59, q_truck)
        : box (115, 95, 150, 95, 0.65, q_truck);       /* IoU 0.66, 0.84 of it inside */
    ef_tracker_update (t, f * 0.1, b, 2);
    g_assert_cmpuint (b[1].track_id, ==, 0);
  }
  EfTrackInfo *tracks;
  g_assert_cmpuint (ef_tracker_get_tracks (t, &tracks), ==, 1);
  g_assert_cmpuint (b[0].track_id, ==, tracks[0].id);
  g_assert_cmpfloat (fabs (tracks[0].median_score - 0.75), <, 1e-9);
  g_assert_cmpuint (tracks[0].label, ==, q_car);
  /* two truck boxes with a higher sum (2 × 0.95 > ... no: 3.75 car) keep car */
  for (guint f = 5; f < 7; f++) {
    b[0] = box (100, 100, 200, 80, 0.95, q_truck);
    ef_tracker_update (t, f * 0.1, b, 1);
  }
  g_assert_cmpuint (b[0].track.label, ==, q_car);
  /* many trucks outweigh it */
  for (guint f = 7; f < 12; f++) {
    b[0] = box (100, 100, 200, 80, 0.95, q_truck);
    ef_tracker_update (t, f * 0.1, b, 1);
  }
  g_assert_cmpuint (b[0].track.label, ==, q_truck);
  ef_tracker_free (t);
}

/* A time earlier than the last update is refused and changes nothing. */
static void
test_time_backwards (void)
{
  EfTracker *t = tracker_new_default ();
  EfTrackerBox b = box (10, 10, 20, 20, 0.9, q_person);
  g_assert_true (ef_tracker_update (t, 5.0, &b, 1));
  b = box (10, 10, 20, 20, 0.9, q_person);
  g_assert_false (ef_tracker_update (t, 4.9, &b, 1));
  g_assert_cmpuint (b.track_id, ==, 0);
  EfTrackInfo *tracks;
  g_assert_cmpuint (ef_tracker_get_tracks (t, &tracks), ==, 1);
  g_assert_cmpuint (tracks[0].hits, ==, 1);
  g_assert_cmpfloat (ef_tracker_last_time (t), ==, 5.0);
  ef_tracker_free (t);
}

/* Same input, same output: ids, boxes, velocities bit for bit. */
static void
run_random (EfTracker * t, guint32 seed, guint n_frames, guint n_boxes, GArray * out)
{
  GRand *r = g_rand_new_with_seed (seed);
  EfTrackerBox *b = g_new0 (EfTrackerBox, n_boxes);
  for (guint f = 0; f < n_frames; f++) {
    for (guint i = 0; i < n_boxes; i++)
      b[i] = box (g_rand_double_range (r, 0, 1800), g_rand_double_range (r, 0, 1000),
          g_rand_double_range (r, 5, 120), g_rand_double_range (r, 5, 120),
          g_rand_double (r), q_person);
    g_assert_true (ef_tracker_update (t, f * 0.1, b, n_boxes));
    if (out)
      for (guint i = 0; i < n_boxes; i++)
        g_array_append_val (out, b[i]);
  }
  g_free (b);
  g_rand_free (r);
}

static void
test_deterministic (void)
{
  GArray *a = g_array_new (FALSE, FALSE, sizeof (EfTrackerBox));
  GArray *b = g_array_new (FALSE, FALSE, sizeof (EfTrackerBox));
  EfTracker *t1 = tracker_new_default (), *t2 = tracker_new_default ();
  run_random (t1, 7, 20, 60, a);
  run_random (t2, 7, 20, 60, b);
  g_assert_cmpuint (a->len, ==, b->len);
  g_assert_cmpint (memcmp (a->data, b->data, a->len * sizeof (EfTrackerBox)), ==, 0);
  guint tracked = 0;
  for (guint i = 0; i < a->len; i++)
    tracked += g_array_index (a, EfTrackerBox, i).track_id != 0;
  g_assert_cmpuint (tracked, >, 0);
  ef_tracker_free (t1);
  ef_tracker_free (t2);
  g_array_unref (a);
  g_array_unref (b);
}

/* A flood: 500 random boxes per frame for 30 frames. No crash, live tracks bounded by
 * max-tracks, and time bounded (generous: ASan builds on a loaded 2-core machine). */
static void
test_flood_500 (void)
{
  EfTrackerParams p;
  ef_tracker_params_init (&p);
  p.max_tracks = 700;
  EfTracker *t = ef_tracker_new (&p);
  gint64 t0 = g_get_monotonic_time ();
  run_random (t, 42, 30, 500, NULL);
  gdouble s = (g_get_monotonic_time () - t0) / 1e6;
  EfTrackInfo *tracks;
  guint n = ef_tracker_get_tracks (t, &tracks);
  g_test_message ("500 boxes x 30 frames: %.3f s, %u live tracks", s, n);
  g_assert_cmpuint (n, <=, 700);
  g_assert_cmpuint (n, >, 0);
  g_assert_cmpfloat (s, <, 20.0);
  /* ids unique among live tracks */
  for (guint i = 1; i < n; i++)
    g_assert_cmpuint (tracks[i].id, >, tracks[i - 1].id);
  /* degenerate boxes are ignored, not tracked */
  EfTrackerBox bad[3] = { box (0, 0, 0, 10, 0.9, q_person), box (0, 0, 10, -5, 0.9, q_person),
    box (NAN, 0, 10, 10, 0.9, q_person)
  };
  g_assert_true (ef_tracker_update (t, 100.0, bad, 3));
  for (guint i = 0; i < 3; i++)
    g_assert_cmpuint (bad[i].track_id, ==, 0);
  ef_tracker_free (t);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  q_person = g_quark_from_static_string ("person");
  q_car = g_quark_from_static_string ("car");
  q_truck = g_quark_from_static_string ("truck");
  g_test_add_func ("/tracker/crossing-paths", test_crossing_paths);
  g_test_add_func ("/tracker/occlusion-gap", test_occlusion_gap);
  g_test_add_func ("/tracker/skipped-frames", test_skipped_frames);
  g_test_add_func ("/tracker/velocity-units", test_velocity_units);
  g_test_add_func ("/tracker/stationary-grows", test_stationary_grows);
  g_test_add_func ("/tracker/low-score-second-pass", test_low_score_second_pass);
  g_test_add_func ("/tracker/birth-min-hits", test_birth_min_hits);
  g_test_add_func ("/tracker/duplicates-label-median", test_duplicates_label_median);
  g_test_add_func ("/tracker/time-backwards", test_time_backwards);
  g_test_add_func ("/tracker/deterministic", test_deterministic);
  g_test_add_func ("/tracker/flood-500", test_flood_500);
  return g_test_run ();
}
