/* tracker: multi-object tracking of detection boxes for one camera.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Pure C + GLib, no GStreamer. Driven by timestamps in seconds, not frame counts: the
 * motion model (a constant-velocity Kalman filter per box coordinate) is propagated by
 * the real time between two updates, so skipped frames (interval, motion gate) only
 * mean a longer prediction. Association is ByteTrack-style:
 *
 *  1. boxes with score ≥ high_threshold against confirmed and lost tracks (IoU with
 *     the predicted box ≥ match_iou);
 *  2. boxes with low_threshold ≤ score < high_threshold against the confirmed tracks
 *     still unmatched (IoU ≥ low_match_iou): an occluded object keeps its track with a
 *     weak detection, but a weak box never starts a track;
 *  3. remaining high boxes against tentative tracks (IoU ≥ tentative_iou), except
 *     boxes that duplicate a box matched in pass 1 or 2 (intersection over the smaller box
 *     ≥ duplicate_overlap: the same vehicle reported as car and truck);
 *  4. remaining high boxes start tentative tracks, most confident first, unless they
 *     duplicate a box matched or born in this update.
 *
 * While one box overlaps both its own track's prediction and that of an established
 * track left unmatched (one object hiding another), the matched track is not corrected
 * with it but coasts on its prediction, so its velocity is not dragged towards the
 * hidden object's.
 *
 * Each pass is a greedy assignment by decreasing IoU (ties by track then box order), so
 * the result depends only on the input. A tentative track becomes confirmed after
 * min_hits boxes; a tentative track that misses an update is removed; a confirmed track
 * that misses becomes lost, is predicted forward, and is removed when no box has
 * matched it for max_age seconds.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum {
  EF_TRACK_TENTATIVE,
  EF_TRACK_CONFIRMED,
  EF_TRACK_LOST,
  EF_TRACK_REMOVED,
} EfTrackState;

typedef struct {
  gdouble high_threshold;       /* first pass and track birth */
  gdouble low_threshold;        /* second pass; boxes below are ignored */
  gdouble match_iou;            /* first pass */
  gdouble low_match_iou;        /* second pass */
  gdouble tentative_iou;        /* third pass */
  gdouble duplicate_overlap;    /* no birth from a box this much inside a matched one */
  guint min_hits;               /* boxes before a track is confirmed */
  gdouble max_age;              /* seconds a lost track is kept */
  gdouble stationary_speed;     /* px/s below which a track counts as stationary */
  guint max_tracks;             /* bound on live tracks (births beyond it are refused) */
} EfTrackerParams;

/* Defaults: 0.5 / 0.1, IoU 0.2 / 0.5 / 0.3, duplicate overlap 0.8, 3 hits, 2 s, 10 px/s, 1024 tracks. */
void ef_tracker_params_init (EfTrackerParams * params);

/* What a track looks like after an update. */
typedef struct {
  guint id;                     /* ≥ 1 */
  EfTrackState state;
  GQuark label;                 /* highest summed score; ties: most recent */
  gdouble x, y, w, h;           /* filtered box, px */
  gdouble vx, vy;               /* velocity of the box centre, px/s */
  gdouble age;                  /* s since the first box */
  gdouble stationary;           /* s with speed below stationary_speed */
  gdouble median_score;         /* median of the last EF_TRACKER_SCORE_HISTORY scores */
  guint hits;
  gdouble last_update;          /* time of the last matched box, s */
} EfTrackInfo;

#define EF_TRACKER_SCORE_HISTORY 16

/* One input box. The tracker fills track_id (0 = not tracked) and track. */
typedef struct {
  gdouble x, y, w, h;           /* px */
  gdouble score;
  GQuark label;
  guint track_id;
  EfTrackInfo track;
} EfTrackerBox;

typedef struct _EfTracker EfTracker;

EfTracker *ef_tracker_new (const EfTrackerParams * params);
void ef_tracker_free (EfTracker * tracker);
/* Parameters may change between updates (thresholds apply from the next update). */
void ef_tracker_set_params (EfTracker * tracker, const EfTrackerParams * params);
/* Forget every track (ids keep counting up, so an id is never reused). */
void ef_tracker_reset (EfTracker * tracker);

/* Advance to @time (seconds) and associate @boxes. Returns FALSE and changes nothing
 * when @time is earlier than the previous update's (a late or repeated frame). An
 * update with no boxes ages and predicts the tracks. */
gboolean ef_tracker_update (EfTracker * tracker, gdouble time, EfTrackerBox * boxes,
    guint n_boxes);

/* Live tracks (tentative, confirmed, lost) after the last update, in id order. */
guint ef_tracker_get_tracks (EfTracker * tracker, EfTrackInfo ** tracks);
gdouble ef_tracker_last_time (EfTracker * tracker);

const gchar *ef_track_state_name (EfTrackState state);

G_END_DECLS
