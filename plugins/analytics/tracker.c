/* tracker: multi-object tracking of detection boxes for one camera (see tracker.h).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "tracker.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Motion model noise, relative to the box height so that one setting fits near and far
 * objects: acceleration (px/s²) of the centre and of the size, measurement noise (px)
 * and the initial velocity uncertainty (px/s). */
#define CENTRE_ACCEL_PER_H 0.25
#define SIZE_ACCEL_PER_H 0.5
#define MEASURE_SIGMA_PER_H 0.05
#define INIT_VELOCITY_PER_H 1.5
#define MAX_LABELS 4

/* A constant-velocity Kalman filter for one coordinate: state (p, v), covariance
 * [[a, b], [b, c]]. */
typedef struct {
  gdouble p, v;
  gdouble a, b, c;
} Kalman1;

typedef struct {
  GQuark label;
  gdouble score_sum;
} LabelVote;

typedef struct {
  EfTrackInfo info;
  Kalman1 kf[4];                /* centre x, centre y, width, height */
  Kalman1 prior[4];             /* the prediction, before this update's correction */
  gint box;                     /* box matched in this update, -1 = none */
  gdouble first_time;
  gdouble scores[EF_TRACKER_SCORE_HISTORY];
  guint n_scores, score_pos;
  LabelVote votes[MAX_LABELS];
  GQuark last_label;
  gboolean matched;             /* in the current update */
} Track;

struct _EfTracker {
  EfTrackerParams params;
  GArray *tracks;               /* Track, in id order */
  GArray *infos;                /* EfTrackInfo, returned by get_tracks */
  GArray *pairs;                /* scratch */
  guint next_id;
  gdouble time;
  gboolean started;
};

typedef struct {
  gdouble iou;
  guint t, d;
} Pair;

void
ef_tracker_params_init (EfTrackerParams * p)
{
  p->high_threshold = 0.5;
  p->low_threshold = 0.1;
  p->match_iou = 0.2;
  p->low_match_iou = 0.5;
  p->tentative_iou = 0.3;
  p->duplicate_overlap = 0.8;
  p->min_hits = 3;
  p->max_age = 2.0;
  p->stationary_speed = 10.0;
  p->max_tracks = 1024;
}

const gchar *
ef_track_state_name (EfTrackState state)
{
  switch (state) {
    case EF_TRACK_TENTATIVE:
      return "tentative";
    case EF_TRACK_CONFIRMED:
      return "confirmed";
    case EF_TRACK_LOST:
      return "lost";
    case EF_TRACK_REMOVED:
      return "removed";
  }
  return "unknown";
}

EfTracker *
ef_tracker_new (const EfTrackerParams * params)
{
  EfTracker *t = g_new0 (EfTracker, 1);
  t->params = *params;
  t->tracks = g_array_new (FALSE, TRUE, sizeof (Track));
  t->infos = g_array_new (FALSE, TRUE, sizeof (EfTrackInfo));
  t->pairs = g_array_new (FALSE, FALSE, sizeof (Pair));
  t->next_id = 1;
  return t;
}

void
ef_tracker_free (EfTracker * t)
{
  if (!t)
    return;
  g_array_unref (t->tracks);
  g_array_unref (t->infos);
  g_array_unref (t->pairs);
  g_free (t);
}

void
ef_tracker_set_params (EfTracker * t, const EfTrackerParams * params)
{
  t->params = *params;
}

void
ef_tracker_reset (EfTracker * t)
{
  g_array_set_size (t->tracks, 0);
  g_array_set_size (t->infos, 0);
  t->started = FALSE;
}

gdouble
ef_tracker_last_time (EfTracker * t)
{
  return t->time;
}

/* ---- motion model ------------------------------------------------------------------- */

static void
kalman_init (Kalman1 * k, gdouble z, gdouble r, gdouble v_sigma)
{
  k->p = z;
  k->v = 0;
  k->a = r;
  k->b = 0;
  k->c = v_sigma * v_sigma;
}

/* Propagate by dt seconds with white acceleration noise of spectral density q. */
static void
kalman_predict (Kalman1 * k, gdouble dt, gdouble q)
{
  if (dt <= 0)
    return;
  k->p += k->v * dt;
  k->a += 2 * dt * k->b + dt * dt * k->c + q * dt * dt * dt / 3;
  k->b += dt * k->c + q * dt * dt / 2;
  k->c += q * dt;
}

static void
kalman_correct (Kalman1 * k, gdouble z, gdouble r)
{
  gdouble s = k->a + r;
  gdouble k0 = k->a / s, k1 = k->b / s;
  gdouble y = z - k->p;
  gdouble a = k->a, b = k->b;
  k->p += k0 * y;
  k->v += k1 * y;
  k->a = (1 - k0) * a;
  k->b = (1 - k0) * b;
  k->c -= k1 * b;
}

static gdouble
track_height (const Track * tr)
{
  return MAX (1.0, tr->kf[3].p);
}

static void
track_predict (Track * tr, gdouble dt)
{
  gdouble h = track_height (tr);
  gdouble qc = pow (CENTRE_ACCEL_PER_H * h, 2), qs = pow (SIZE_ACCEL_PER_H * h, 2);
  kalman_predict (&tr->kf[0], dt, qc);
  kalman_predict (&tr->kf[1], dt, qc);
  kalman_predict (&tr->kf[2], dt, qs);
  kalman_predict (&tr->kf[3], dt, qs);
}

static void
track_box (const Track * tr, gdouble * x, gdouble * y, gdouble * w, gdouble * h)
{
  *w = MAX (1.0, tr->kf[2].p);
  *h = MAX (1.0, tr->kf[3].p);
  *x = tr->kf[0].p - *w / 2;
  *y = tr->kf[1].p - *h / 2;
}

static gdouble
iou (gdouble ax, gdouble ay, gdouble aw, gdouble ah, gdouble bx, gdouble by, gdouble bw,
    gdouble bh)
{
  gdouble ix = MIN (ax + aw, bx + bw) - MAX (ax, bx);
  gdouble iy = MIN (ay + ah, by + bh) - MAX (ay, by);
  if (ix <= 0 || iy <= 0)
    return 0;
  gdouble inter = ix * iy;
  return inter / (aw * ah + bw * bh - inter);
}

static gdouble
track_box_iou (const Track * tr, const EfTrackerBox * b)
{
  gdouble x, y, w, h;
  track_box (tr, &x, &y, &w, &h);
  return iou (x, y, w, h, b->x, b->y, b->w, b->h);
}

/* ---- per-track bookkeeping ---------------------------------------------------------- */

static gint
compare_double (gconstpointer a, gconstpointer b)
{
  gdouble x = *(const gdouble *) a, y = *(const gdouble *) b;
  return x < y ? -1 : x > y;
}

static void
track_add_score (Track * tr, gdouble score)
{
  gdouble sorted[EF_TRACKER_SCORE_HISTORY];
  tr->scores[tr->score_pos] = score;
  tr->score_pos = (tr->score_pos + 1) % EF_TRACKER_SCORE_HISTORY;
  tr->n_scores = MIN (tr->n_scores + 1, EF_TRACKER_SCORE_HISTORY);
  memcpy (sorted, tr->scores, tr->n_scores * sizeof (gdouble));
  qsort (sorted, tr->n_scores, sizeof (gdouble), compare_double);
  tr->info.median_score = tr->n_scores % 2 ? sorted[tr->n_scores / 2]
      : (sorted[tr->n_scores / 2 - 1] + sorted[tr->n_scores / 2]) / 2;
}

/* Score-weighted majority vote; with MAX_LABELS distinct labels seen, a new one
 * replaces the weakest. */
static void
track_vote_label (Track * tr, GQuark label, gdouble score)
{
  guint i, weakest = 0;
  for (i = 0; i < MAX_LABELS; i++) {
    if (tr->votes[i].label == label || tr->votes[i].label == 0)
      break;
    if (tr->votes[i].score_sum < tr->votes[weakest].score_sum)
      weakest = i;
  }
  if (i == MAX_LABELS) {
    i = weakest;
    tr->votes[i].score_sum = 0;
  }
  tr->votes[i].label = label;
  tr->votes[i].score_sum += score;
  tr->last_label = label;

  const LabelVote *best = NULL;
  for (i = 0; i < MAX_LABELS && tr->votes[i].label; i++) {
    const LabelVote *v = &tr->votes[i];
    if (!best || v->score_sum > best->score_sum
        || (v->score_sum == best->score_sum && v->label == label))
      best = v;
  }
  tr->info.label = best->label;
}

static void
track_refresh_info (Track * tr, gdouble time)
{
  track_box (tr, &tr->info.x, &tr->info.y, &tr->info.w, &tr->info.h);
  tr->info.vx = tr->kf[0].v;
  tr->info.vy = tr->kf[1].v;
  tr->info.age = time - tr->first_time;
}

static void
track_update_stationary (Track * tr, gdouble dt, gdouble threshold)
{
  if (hypot (tr->kf[0].v, tr->kf[1].v) < threshold)
    tr->info.stationary += dt;
  else
    tr->info.stationary = 0;
}

static void
track_correct (EfTracker * t, Track * tr, const EfTrackerBox * b)
{
  gdouble r = pow (MEASURE_SIGMA_PER_H * MAX (1.0, b->h), 2);
  memcpy (tr->prior, tr->kf, sizeof (tr->kf));
  kalman_correct (&tr->kf[0], b->x + b->w / 2, r);
  kalman_correct (&tr->kf[1], b->y + b->h / 2, r);
  kalman_correct (&tr->kf[2], b->w, r);
  kalman_correct (&tr->kf[3], b->h, r);
  tr->info.hits++;
  tr->info.last_update = t->time;
  track_add_score (tr, b->score);
  track_vote_label (tr, b->label, b->score);
  if (tr->info.state == EF_TRACK_LOST
      || (tr->info.state == EF_TRACK_TENTATIVE && tr->info.hits >= t->params.min_hits))
    tr->info.state = EF_TRACK_CONFIRMED;
  tr->matched = TRUE;
}

static void
track_birth (EfTracker * t, const EfTrackerBox * b)
{
  Track tr = { 0 };
  gdouble h = MAX (1.0, b->h);
  gdouble r = pow (MEASURE_SIGMA_PER_H * h, 2), vs = INIT_VELOCITY_PER_H * h;
  tr.info.id = t->next_id++;
  if (t->next_id == 0 || t->next_id > G_MAXINT)   /* ids fit a gint (the ROI meta's id) */
    t->next_id = 1;
  tr.info.state = t->params.min_hits <= 1 ? EF_TRACK_CONFIRMED : EF_TRACK_TENTATIVE;
  tr.first_time = t->time;
  kalman_init (&tr.kf[0], b->x + b->w / 2, r, vs);
  kalman_init (&tr.kf[1], b->y + b->h / 2, r, vs);
  kalman_init (&tr.kf[2], b->w, r, vs * 0.25);
  kalman_init (&tr.kf[3], b->h, r, vs * 0.25);
  tr.info.hits = 1;
  tr.info.last_update = t->time;
  track_add_score (&tr, b->score);
  track_vote_label (&tr, b->label, b->score);
  tr.matched = TRUE;
  track_refresh_info (&tr, t->time);
  g_array_append_val (t->tracks, tr);
}

/* ---- association -------------------------------------------------------------------- */

static gint
compare_pairs (gconstpointer a, gconstpointer b)
{
  const Pair *p = a, *q = b;
  if (p->iou != q->iou)
    return p->iou > q->iou ? -1 : 1;
  if (p->t != q->t)
    return p->t < q->t ? -1 : 1;
  return p->d < q->d ? -1 : p->d > q->d;
}

typedef gboolean (*TrackFilter) (const Track * tr);
typedef gboolean (*BoxFilter) (const EfTracker * t, const EfTrackerBox * b);

static gboolean
track_is_established (const Track * tr)
{
  return tr->info.state == EF_TRACK_CONFIRMED || tr->info.state == EF_TRACK_LOST;
}

static gboolean
track_is_confirmed (const Track * tr)
{
  return tr->info.state == EF_TRACK_CONFIRMED;
}

static gboolean
track_is_tentative (const Track * tr)
{
  return tr->info.state == EF_TRACK_TENTATIVE;
}

static gboolean
box_is_high (const EfTracker * t, const EfTrackerBox * b)
{
  return b->score >= t->params.high_threshold;
}

static gboolean
box_is_low (const EfTracker * t, const EfTrackerBox * b)
{
  return b->score >= t->params.low_threshold && b->score < t->params.high_threshold;
}

/* Greedy assignment by decreasing IoU between the unmatched tracks passing @tf and the
 * unassigned boxes passing @bf. */
static void
associate (EfTracker * t, EfTrackerBox * boxes, guint n, TrackFilter tf, BoxFilter bf,
    gdouble min_iou, gint * box_track)
{
  g_array_set_size (t->pairs, 0);
  for (guint i = 0; i < t->tracks->len; i++) {
    Track *tr = &g_array_index (t->tracks, Track, i);
    if (tr->matched || !tf (tr))
      continue;
    for (guint d = 0; d < n; d++) {
      if (box_track[d] >= 0 || !bf (t, &boxes[d]))
        continue;
      gdouble v = track_box_iou (tr, &boxes[d]);
      if (v >= min_iou && v > 0) {
        Pair p = { v, i, d };
        g_array_append_val (t->pairs, p);
      }
    }
  }
  g_array_sort (t->pairs, compare_pairs);
  for (guint k = 0; k < t->pairs->len; k++) {
    const Pair *p = &g_array_index (t->pairs, Pair, k);
    Track *tr = &g_array_index (t->tracks, Track, p->t);
    if (tr->matched || box_track[p->d] >= 0)
      continue;
    track_correct (t, tr, &boxes[p->d]);
    tr->box = p->d;
    box_track[p->d] = p->t;
  }
}

/* Descending score, ties by index (deterministic). */
static gint
compare_box_score (gconstpointer a, gconstpointer b, gpointer data)
{
  const EfTrackerBox *boxes = data;
  guint i = *(const guint *) a, j = *(const guint *) b;
  if (boxes[i].score != boxes[j].score)
    return boxes[i].score > boxes[j].score ? -1 : 1;
  return i < j ? -1 : i > j;
}

/* Intersection over the smaller box: a second box of the same object is often a
 * different shape (a truck box taller than the car box) but lies mostly inside it. */
static gdouble
overlap_min (const EfTrackerBox * a, const EfTrackerBox * b)
{
  gdouble ix = MIN (a->x + a->w, b->x + b->w) - MAX (a->x, b->x);
  gdouble iy = MIN (a->y + a->h, b->y + b->h) - MAX (a->y, b->y);
  if (ix <= 0 || iy <= 0)
    return 0;
  return ix * iy / MIN (a->w * a->h, b->w * b->h);
}

/* A box that overlaps a box matched in this update that much is the same object
 * reported twice (another class, or a second anchor). */
static gboolean
duplicates_matched_box (const EfTracker * t, const EfTrackerBox * boxes, guint n,
    const gint * box_track, guint d)
{
  for (guint k = 0; k < n; k++)
    if (k != d && box_track[k] >= 0
        && overlap_min (&boxes[k], &boxes[d]) >= t->params.duplicate_overlap)
      return TRUE;
  return FALSE;
}

/* Two objects crossing: while one hides the other, the one box left overlaps both
 * predictions and may belong to either. Correcting the matched track with it would
 * drag its velocity towards the other object and swap the ids when they separate, so
 * both coast on their motion model instead (the box still gets the id). */
static void
coast_ambiguous (EfTracker * t, const EfTrackerBox * boxes)
{
  for (guint i = 0; i < t->tracks->len; i++) {
    Track *tr = &g_array_index (t->tracks, Track, i);
    if (tr->box < 0 || !track_is_established (tr) || tr->info.hits < 2)
      continue;
    for (guint k = 0; k < t->tracks->len; k++) {
      const Track *o = &g_array_index (t->tracks, Track, k);
      if (k == i || o->matched || !track_is_established (o))
        continue;
      if (track_box_iou (o, &boxes[tr->box]) >= t->params.match_iou) {
        memcpy (tr->kf, tr->prior, sizeof (tr->kf));
        break;
      }
    }
  }
}

static guint
count_live (const EfTracker * t)
{
  return t->tracks->len;
}

gboolean
ef_tracker_update (EfTracker * t, gdouble time, EfTrackerBox * boxes, guint n)
{
  if (t->started && time < t->time)
    return FALSE;
  gdouble dt = t->started ? time - t->time : 0;
  t->time = time;
  t->started = TRUE;

  for (guint i = 0; i < t->tracks->len; i++) {
    Track *tr = &g_array_index (t->tracks, Track, i);
    track_predict (tr, dt);
    tr->matched = FALSE;
    tr->box = -1;
  }

  gint *box_track = g_new (gint, MAX (1, n));
  for (guint d = 0; d < n; d++) {
    box_track[d] = -1;
    boxes[d].track_id = 0;
    /* a box with a NaN or non-positive size can only confuse the filter */
    if (!(boxes[d].w > 0 && boxes[d].h > 0 && isfinite (boxes[d].x) && isfinite (boxes[d].y)
            && isfinite (boxes[d].score)))
      box_track[d] = -2;
  }
  associate (t, boxes, n, track_is_established, box_is_high, t->params.match_iou, box_track);
  associate (t, boxes, n, track_is_confirmed, box_is_low, t->params.low_match_iou, box_track);
  /* a box that duplicates one matched to an established track feeds nothing else */
  for (guint d = 0; d < n; d++)
    if (box_track[d] == -1 && duplicates_matched_box (t, boxes, n, box_track, d))
      box_track[d] = -3;
  associate (t, boxes, n, track_is_tentative, box_is_high, t->params.tentative_iou,
      box_track);

  coast_ambiguous (t, boxes);

  /* Unmatched tracks: a tentative one was a false start, a confirmed one is lost; lost
   * ones that have not been seen for max_age go. */
  guint kept = 0;
  gint *new_index = g_new (gint, MAX (1, t->tracks->len));
  for (guint i = 0; i < t->tracks->len; i++) {
    Track *tr = &g_array_index (t->tracks, Track, i);
    new_index[i] = -1;
    if (!tr->matched) {
      if (tr->info.state == EF_TRACK_TENTATIVE
          || time - tr->info.last_update > t->params.max_age)
        continue;               /* removed */
      tr->info.state = EF_TRACK_LOST;
    }
    track_update_stationary (tr, dt, t->params.stationary_speed);
    track_refresh_info (tr, time);
    if (kept != i)
      g_array_index (t->tracks, Track, kept) = *tr;
    new_index[i] = kept++;
  }
  for (guint d = 0; d < n; d++)
    if (box_track[d] >= 0)
      box_track[d] = new_index[box_track[d]];     /* matched tracks are never removed */
  g_free (new_index);
  g_array_set_size (t->tracks, kept);

  /* births, most confident first, so of two duplicates the better box starts the track */
  guint *order = g_new (guint, MAX (1, n));
  for (guint d = 0; d < n; d++)
    order[d] = d;
  g_qsort_with_data (order, n, sizeof (guint), compare_box_score, boxes);
  for (guint k = 0; k < n; k++) {
    guint d = order[k];
    if (box_track[d] != -1 || !box_is_high (t, &boxes[d])
        || duplicates_matched_box (t, boxes, n, box_track, d)
        || count_live (t) >= t->params.max_tracks)
      continue;
    track_birth (t, &boxes[d]);
    box_track[d] = t->tracks->len - 1;
  }
  g_free (order);

  for (guint d = 0; d < n; d++) {
    if (box_track[d] < 0)
      continue;
    const Track *tr = &g_array_index (t->tracks, Track, box_track[d]);
    boxes[d].track_id = tr->info.id;
    boxes[d].track = tr->info;
  }
  g_free (box_track);
  return TRUE;
}

guint
ef_tracker_get_tracks (EfTracker * t, EfTrackInfo ** tracks)
{
  g_array_set_size (t->infos, t->tracks->len);
  for (guint i = 0; i < t->tracks->len; i++)
    g_array_index (t->infos, EfTrackInfo, i) = g_array_index (t->tracks, Track, i).info;
  *tracks = (EfTrackInfo *) t->infos->data;
  return t->infos->len;
}
