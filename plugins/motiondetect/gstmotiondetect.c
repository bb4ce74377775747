/* edgefaas
 * motiondetect: cheap luma-plane motion detection, the edge gate in front of the detector.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
/**
 * SECTION:element-motiondetect
 * @title: motiondetect
 *
 * Detects motion in raw video at a small fraction of the cost of decoding it, and
 * marks, reports or gates the frames that contain it. The element is in place and
 * never modifies pixels: it maps the luma plane read-only (packed RGB formats are
 * turned into an integer BT.601 luma on the fly, no colour conversion copy).
 *
 * ## Algorithm (each step is a property)
 *
 * 1. The luma is area-averaged down to #GstMotionDetect:analysis-height rows
 *    (aspect kept). At most #GstMotionDetect:downscale-rows source rows are read per
 *    analysis row, so a 1080p frame reads 200 of its 1080 rows
 *    (the whole frame with downscale-rows=0). Columns are boxes of one integer width.
 * 2. Optional contrast normalisation (#GstMotionDetect:normalize-contrast): the 4th
 *    and 96th percentiles, averaged over 50 analysed frames, are stretched to 0..255.
 * 3. Box blur of radius #GstMotionDetect:blur-radius.
 * 4. Absolute difference against a running-average background
 *    (#GstMotionDetect:learning-rate). With #GstMotionDetect:compensate-brightness the
 *    background is first matched to the frame by a robust least-squares gain and
 *    offset, so a camera gain or exposure change does not look like motion.
 * 5. Threshold (#GstMotionDetect:threshold, in grey levels), masks
 *    (#GstMotionDetect:exclude-mask, #GstMotionDetect:include-mask), dilation
 *    (#GstMotionDetect:dilate), 8-connected regions, regions with fewer motion
 *    pixels than #GstMotionDetect:min-area dropped, regions closer than
 *    #GstMotionDetect:merge-distance merged into motion boxes.
 * 6. Global change rejection: when more than #GstMotionDetect:global-change of the
 *    unmasked area changes at once, or the fitted brightness moves by more than the
 *    threshold (lights, IR switch, auto-exposure), the background is re-baselined and
 *    no motion is reported for that frame.
 * 7. Absorption: a background pixel that has been in motion for
 *    #GstMotionDetect:absorb-time is replaced by the current frame, so a parked car
 *    or a moved chair stops being motion. Pixels without motion follow the
 *    running average.
 *
 * ## Events
 *
 * An event starts when #GstMotionDetect:start-frames consecutive analysed frames
 * have motion, and ends when no motion has been seen for #GstMotionDetect:quiet-time
 * (measured in running time). Event ids start at 1 and grow by one per event; 0 means
 * "no event". Every #GstMotionDetect:analyse-interval -th frame is analysed.
 *
 * ## Output
 *
 * On every buffer: a #GstEdgefaasMotionMeta (event id, score = fraction of the
 * unmasked analysis area in motion, analysed flag). On analysed buffers, one
 * #GstVideoRegionOfInterestMeta per motion box, roi type `motion`, full-frame
 * pixel coordinates, with a param structure `motion` { score: double (fraction of
 * the box in motion), event-id: guint64 (0 before the event is confirmed) }.
 *
 * Element messages (with #GstMotionDetect:messages = events or frames):
 *
 * * `motion-start`: `event-id` (guint64), `running-time` (guint64, running time of
 *   the first of the start-frames frames with motion), `timestamp` (guint64, PTS of
 *   the frame that confirmed the event), `score` (gdouble), `boxes` (GstValueArray
 *   of `box` structures { x, y, width, height: guint; score: gdouble }).
 * * `motion-end`: `event-id`, `running-time` (running time of the last frame with
 *   motion), `duration` (guint64, ns, last motion minus start), `frames` (guint,
 *   analysed frames with motion in the event). Also sent at EOS for an open event.
 * * `motion` (only with messages=frames, once per analysed frame): `event-id`,
 *   `running-time`, `timestamp`, `score`, `boxes`.
 *
 * A serialized custom downstream event (structure `edgefaas-motion`, see
 * EDGEFAAS_MOTION_EVENT_NAME) with `type` ("start" or "end"), `event-id`,
 * `running-time` and, for "end", `duration` is pushed before the buffer that starts
 * or ends an event, so a sink further down can mark event boundaries.
 *
 * With #GstMotionDetect:gate, buffers outside events are dropped. The last
 * #GstMotionDetect:preroll-frames dropped buffers are kept (by reference, so a
 * decoder pool must have room for them) and pushed, with their own timestamps,
 * right after the "start" event. The pre-roll is discarded on flush and on caps
 * change. The buffer on which the event ends is dropped.
 *
 * For every dropped buffer a GAP event with the buffer's timestamp and duration
 * goes downstream instead (#GstMotionDetect:gaps), so a sink prerolls and the
 * pipeline reaches PLAYING in a quiet scene; a pre-roll buffer gets its GAP when it
 * leaves the pre-roll without being pushed, so downstream time never goes back.
 * #GstMotionDetect:max-rate caps the buffers that pass at so many per second of
 * running time (the others are dropped with a GAP too), also across the holes the
 * gate leaves, which `videorate max-rate` after the gate does not do.
 *
 * ## Example launch line
 * |[
 * gst-launch-1.0 filesrc location=cam.mp4 ! decodebin ! motiondetect gate=true preroll-frames=5 max-rate=5 gaps=first exclude-mask="0,0 1,0 1,0.1 0,0.1" ! jpegenc ! multifilesink location=motion-%05d.jpg async=false
 * ]| Encodes only the frames of motion events, at most 5 per second, ignoring the
 * timestamp strip at the top.
 */
#include "config.h"

#include <math.h>
#include <string.h>
#include <stdlib.h>

#include "gstmotiondetect.h"
#include "edgefaas-meta.h"

GST_DEBUG_CATEGORY_STATIC (gst_motion_detect_debug);
#define GST_CAT_DEFAULT gst_motion_detect_debug

#define DEFAULT_ANALYSIS_HEIGHT 100
#define DEFAULT_DOWNSCALE_ROWS 2
#define DEFAULT_NORMALIZE_CONTRAST FALSE
#define DEFAULT_BLUR_RADIUS 1
#define DEFAULT_LEARNING_RATE 0.01
#define DEFAULT_THRESHOLD 30
#define DEFAULT_DILATE 2
#define DEFAULT_MIN_AREA 10
#define DEFAULT_MERGE_DISTANCE 5
#define DEFAULT_GLOBAL_CHANGE 0.8
#define DEFAULT_COMPENSATE_BRIGHTNESS TRUE
#define DEFAULT_ABSORB_TIME (10 * GST_SECOND)
#define DEFAULT_START_FRAMES 3
#define DEFAULT_QUIET_TIME (2 * GST_SECOND)
#define DEFAULT_ANALYSE_INTERVAL 1
#define DEFAULT_GATE FALSE
#define DEFAULT_PREROLL_FRAMES 0
#define DEFAULT_MAX_RATE 0.0
#define DEFAULT_GAPS GST_MOTION_DETECT_GAPS_ALL
#define DEFAULT_MESSAGES GST_MOTION_DETECT_MESSAGES_EVENTS

#define MAX_REGIONS 1024

enum
{
  PROP_0,
  PROP_ANALYSIS_HEIGHT,
  PROP_DOWNSCALE_ROWS,
  PROP_NORMALIZE_CONTRAST,
  PROP_BLUR_RADIUS,
  PROP_LEARNING_RATE,
  PROP_THRESHOLD,
  PROP_DILATE,
  PROP_MIN_AREA,
  PROP_MERGE_DISTANCE,
  PROP_GLOBAL_CHANGE,
  PROP_COMPENSATE_BRIGHTNESS,
  PROP_ABSORB_TIME,
  PROP_START_FRAMES,
  PROP_QUIET_TIME,
  PROP_ANALYSE_INTERVAL,
  PROP_EXCLUDE_MASK,
  PROP_INCLUDE_MASK,
  PROP_GATE,
  PROP_PREROLL_FRAMES,
  PROP_MESSAGES,
  PROP_MAX_RATE,
  PROP_GAPS,
};

#define FORMATS "{ I420, YV12, NV12, NV21, Y42B, Y444, GRAY8, RGB, BGR, RGBx, BGRx, xRGB, xBGR, RGBA, BGRA, ARGB, ABGR }"

static GstStaticPadTemplate sink_template = GST_STATIC_PAD_TEMPLATE ("sink",
    GST_PAD_SINK, GST_PAD_ALWAYS, GST_STATIC_CAPS (GST_VIDEO_CAPS_MAKE (FORMATS)));
static GstStaticPadTemplate src_template = GST_STATIC_PAD_TEMPLATE ("src",
    GST_PAD_SRC, GST_PAD_ALWAYS, GST_STATIC_CAPS (GST_VIDEO_CAPS_MAKE (FORMATS)));

GType
gst_motion_detect_messages_get_type (void)
{
  static GType type = 0;
  static const GEnumValue values[] = {
    {GST_MOTION_DETECT_MESSAGES_NONE, "No element messages", "none"},
    {GST_MOTION_DETECT_MESSAGES_EVENTS, "motion-start and motion-end", "events"},
    {GST_MOTION_DETECT_MESSAGES_FRAMES,
        "motion-start, motion-end and one motion message per analysed frame", "frames"},
    {0, NULL, NULL}
  };
  if (g_once_init_enter (&type)) {
    GType t = g_enum_register_static ("GstMotionDetectMessages", values);
    g_once_init_leave (&type, t);
  }
  return type;
}

GType
gst_motion_detect_gaps_get_type (void)
{
  static GType type = 0;
  static const GEnumValue values[] = {
    {GST_MOTION_DETECT_GAPS_NONE, "No GAP events", "none"},
    {GST_MOTION_DETECT_GAPS_FIRST,
        "One GAP event for the first dropped buffer of each run of drops", "first"},
    {GST_MOTION_DETECT_GAPS_ALL, "One GAP event per dropped buffer", "all"},
    {0, NULL, NULL}
  };
  if (g_once_init_enter (&type)) {
    GType t = g_enum_register_static ("GstMotionDetectGaps", values);
    g_once_init_leave (&type, t);
  }
  return type;
}

/* Parsed polygon list, immutable once built, shared by reference (GRcBox). */
typedef struct
{
  guint n_polys;
  guint *n_pts;                 /* per polygon */
  gdouble *xy;                  /* all points, x,y pairs, polygon after polygon */
  gchar *str;                   /* canonical text as given */
} MaskSet;

static void
mask_set_clear (gpointer data)
{
  MaskSet *m = data;
  g_free (m->n_pts);
  g_free (m->xy);
  g_free (m->str);
}

static MaskSet *
mask_set_ref (MaskSet * m)
{
  return m ? g_rc_box_acquire (m) : NULL;
}

static void
mask_set_unref (MaskSet * m)
{
  if (m)
    g_rc_box_release_full (m, mask_set_clear);
}

/* "x,y x,y x,y;x,y ..." with coordinates in [0,1], >= 3 points per polygon.
 * Empty (or only spaces) = no polygons, returns NULL with no error. */
static MaskSet *
mask_set_parse (const gchar * str, GError ** error)
{
  gchar **polys;
  GArray *npts, *xy;
  MaskSet *m;
  guint i;

  if (str == NULL || str[strspn (str, " \t\n;")] == '\0')
    return NULL;
  polys = g_strsplit (str, ";", -1);
  npts = g_array_new (FALSE, FALSE, sizeof (guint));
  xy = g_array_new (FALSE, FALSE, sizeof (gdouble));
  for (i = 0; polys[i]; i++) {
    gchar **pts = g_strsplit_set (g_strstrip (polys[i]), " \t\n", -1);
    guint n = 0, j;
    if (polys[i][0] == '\0') {
      g_strfreev (pts);
      continue;                 /* allow a trailing ';' */
    }
    for (j = 0; pts[j]; j++) {
      gchar *end = NULL, *p = pts[j];
      gdouble x, y;
      if (*p == '\0')
        continue;
      x = g_ascii_strtod (p, &end);
      if (end == p || *end != ',') {
        g_set_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS,
            "polygon %u: '%s' is not a point 'x,y'", i + 1, p);
        goto fail;
      }
      p = end + 1;
      y = g_ascii_strtod (p, &end);
      if (end == p || *end != '\0') {
        g_set_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS,
            "polygon %u: '%s' is not a point 'x,y'", i + 1, pts[j]);
        goto fail;
      }
      if (!(x >= 0.0 && x <= 1.0 && y >= 0.0 && y <= 1.0)) {
        g_set_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS,
            "polygon %u: point %s is outside [0,1] (coordinates are normalised)",
            i + 1, pts[j]);
        goto fail;
      }
      g_array_append_val (xy, x);
      g_array_append_val (xy, y);
      n++;
    }
    if (n < 3) {
      g_set_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS,
          "polygon %u has %u point(s), at least 3 are needed", i + 1, n);
      goto fail;
    }
    g_array_append_val (npts, n);
    g_strfreev (pts);
    continue;
  fail:
    g_strfreev (pts);
    g_strfreev (polys);
    g_array_free (npts, TRUE);
    g_array_free (xy, TRUE);
    return NULL;
  }
  g_strfreev (polys);
  if (npts->len == 0) {
    g_array_free (npts, TRUE);
    g_array_free (xy, TRUE);
    return NULL;
  }
  m = g_rc_box_new0 (MaskSet);
  m->n_polys = npts->len;
  m->n_pts = (guint *) g_array_free (npts, FALSE);
  m->xy = (gdouble *) g_array_free (xy, FALSE);
  m->str = g_strdup (str);
  return m;
}

static gboolean
mask_set_contains (const MaskSet * m, gdouble x, gdouble y)
{
  guint p, off = 0;
  for (p = 0; p < m->n_polys; p++) {
    guint n = m->n_pts[p], i, j;
    const gdouble *v = m->xy + 2 * off;
    gboolean in = FALSE;
    for (i = 0, j = n - 1; i < n; j = i++) {
      gdouble xi = v[2 * i], yi = v[2 * i + 1], xj = v[2 * j], yj = v[2 * j + 1];
      if (((yi > y) != (yj > y)) && (x < (xj - xi) * (y - yi) / (yj - yi) + xi))
        in = !in;
    }
    if (in)
      return TRUE;
    off += n;
  }
  return FALSE;
}

typedef struct
{
  guint analysis_height;
  guint downscale_rows;
  gboolean normalize_contrast;
  guint blur_radius;
  gdouble learning_rate;
  guint threshold;
  guint dilate;
  guint min_area;
  guint merge_distance;
  gdouble global_change;
  gboolean compensate_brightness;
  guint64 absorb_time;
  guint start_frames;
  guint64 quiet_time;
  guint analyse_interval;
  MaskSet *exclude;             /* owned ref, may be NULL */
  MaskSet *include;             /* owned ref, may be NULL */
  gboolean gate;
  guint preroll_frames;
  GstMotionDetectMessages messages;
  gdouble max_rate;
  GstMotionDetectGaps gaps;
} Settings;

typedef struct
{
  gint x0, y0, x1, y1;          /* inclusive, analysis pixels */
  guint motion_px;              /* undilated motion pixels */
  guint area;                   /* dilated region area */
} Region;

/* Streaming state: exists between start() and stop(), touched only by the
 * streaming thread (and start/stop, when no streaming happens). */
typedef struct
{
  /* geometry */
  gint width, height;           /* frame */
  gint aw, ah;                  /* analysis */
  gint bw;                      /* column box width (last column: the rest) */
  gint *xb;                     /* aw + 1 column boundaries */
  gfloat *invw;                 /* aw: 1 / column box width */
  guint16 *colacc;              /* width */
  gfloat *cur, *tmp, *bg;       /* aw * ah */
  guint8 *motion, *dil, *dil2, *active;
  guint16 *age;
  gint32 *label, *stack;
  guint n_active;
  MaskSet *mask_ex, *mask_in;   /* masks the active map was built from */
  gboolean have_bg;
  gdouble c_low, c_high;
  guint c_frames;

  /* timing */
  guint64 frame_count;
  GstClockTime last_rt;
  GstClockTime frame_interval;  /* EMA of analysed-frame spacing */

  /* events */
  guint consecutive;
  GstClockTime first_motion_rt; /* of the current run of consecutive motion frames */
  gboolean in_event;
  guint64 event_id;
  guint64 next_event_id;
  GstClockTime event_start_rt;
  GstClockTime last_motion_rt;
  guint event_frames;

  GQueue preroll;               /* gate mode, GstBuffer refs */

  /* max-rate: running time from which the next buffer may pass */
  GstClockTime next_pass_rt;
  /* gaps=first: a GAP was sent since the last buffer that passed */
  gboolean gap_sent;

  Region regions[MAX_REGIONS];
  guint n_regions;
  gdouble score;
} State;

struct _GstMotionDetect
{
  GstBaseTransform parent;

  GstVideoInfo info;
  gboolean have_info;

  Settings settings;            /* under GST_OBJECT_LOCK */
  State *state;                 /* streaming thread */
};

#define gst_motion_detect_parent_class parent_class
G_DEFINE_TYPE (GstMotionDetect, gst_motion_detect, GST_TYPE_BASE_TRANSFORM);
GST_ELEMENT_REGISTER_DEFINE_WITH_CODE (motiondetect, "motiondetect", GST_RANK_NONE,
    GST_TYPE_MOTION_DETECT,
    GST_DEBUG_CATEGORY_INIT (gst_motion_detect_debug, "motiondetect", 0,
        "motion detection"));

static void
state_free_buffers (State * st)
{
  g_clear_pointer (&st->xb, g_free);
  g_clear_pointer (&st->invw, g_free);
  g_clear_pointer (&st->colacc, g_free);
  g_clear_pointer (&st->cur, g_free);
  g_clear_pointer (&st->tmp, g_free);
  g_clear_pointer (&st->bg, g_free);
  g_clear_pointer (&st->motion, g_free);
  g_clear_pointer (&st->dil, g_free);
  g_clear_pointer (&st->dil2, g_free);
  g_clear_pointer (&st->active, g_free);
  g_clear_pointer (&st->age, g_free);
  g_clear_pointer (&st->label, g_free);
  g_clear_pointer (&st->stack, g_free);
  g_clear_pointer (&st->mask_ex, mask_set_unref);
  g_clear_pointer (&st->mask_in, mask_set_unref);
  st->width = st->height = st->aw = st->ah = 0;
  st->have_bg = FALSE;
  st->c_frames = 0;
}

static void
state_clear_preroll (State * st)
{
  GstBuffer *b;
  while ((b = g_queue_pop_head (&st->preroll)))
    gst_buffer_unref (b);
}

static void
state_free (State * st)
{
  state_free_buffers (st);
  state_clear_preroll (st);
  g_free (st);
}

/* (Re)allocate for a frame size and analysis height; forgets the background. */
static void
state_setup (State * st, gint width, gint height, guint analysis_height)
{
  gint i, n;

  state_free_buffers (st);
  st->width = width;
  st->height = height;
  st->ah = MIN ((gint) analysis_height, height);
  st->aw = MAX (1, (gint) ((gint64) width * st->ah + height / 2) / height);
  st->aw = MIN (st->aw, width);
  /* Columns are boxes of one integer width (the last one takes the remainder), so
   * the horizontal sums run with a constant trip count; analysis pixels may be
   * slightly non-square. */
  st->bw = MAX (1, (width + st->aw / 2) / st->aw);
  st->aw = MAX (1, width / st->bw);
  n = st->aw * st->ah;
  st->xb = g_new (gint, st->aw + 1);
  for (i = 0; i < st->aw; i++)
    st->xb[i] = i * st->bw;
  st->xb[st->aw] = width;
  st->invw = g_new (gfloat, st->aw);
  for (i = 0; i < st->aw; i++)
    st->invw[i] = 1.0f / (gfloat) (st->xb[i + 1] - st->xb[i]);
  st->colacc = g_new0 (guint16, width);
  st->cur = g_new0 (gfloat, n);
  st->tmp = g_new0 (gfloat, n);
  st->bg = g_new0 (gfloat, n);
  st->motion = g_new0 (guint8, n);
  st->dil = g_new0 (guint8, n);
  st->dil2 = g_new0 (guint8, n);
  st->active = g_new0 (guint8, n);
  st->age = g_new0 (guint16, n);
  st->label = g_new0 (gint32, n);
  st->stack = g_new0 (gint32, n);
  GST_DEBUG ("frame %dx%d, analysis %dx%d", width, height, st->aw, st->ah);
}

static void
state_build_active (State * st, MaskSet * ex, MaskSet * in)
{
  gint x, y;
  st->n_active = 0;
  for (y = 0; y < st->ah; y++) {
    gdouble ny = (y + 0.5) / st->ah;
    for (x = 0; x < st->aw; x++) {
      gdouble nx = (x + 0.5) / st->aw;
      gboolean a = TRUE;
      if (in && !mask_set_contains (in, nx, ny))
        a = FALSE;
      if (a && ex && mask_set_contains (ex, nx, ny))
        a = FALSE;
      st->active[y * st->aw + x] = a;
      st->n_active += a;
    }
  }
  g_clear_pointer (&st->mask_ex, mask_set_unref);
  g_clear_pointer (&st->mask_in, mask_set_unref);
  st->mask_ex = mask_set_ref (ex);
  st->mask_in = mask_set_ref (in);
}

/* ---- analysis steps ---- */

/* acc[x] += r[x], 16 pixels at a time with GCC/clang vector extensions. */
typedef guint8 v16u8 __attribute__ ((vector_size (16)));
typedef guint16 v16u16 __attribute__ ((vector_size (32)));

static inline void
acc_row_u8 (guint16 * restrict acc, const guint8 * restrict r, gint w)
{
  gint x = 0;
  for (; x + 16 <= w; x += 16) {
    v16u8 a;
    v16u16 b;
    memcpy (&a, r + x, 16);
    memcpy (&b, acc + x, 32);
    b += __builtin_convertvector (a, v16u16);
    memcpy (acc + x, &b, 32);
  }
  for (; x < w; x++)
    acc[x] += r[x];
}

/* out[i] = scale * sum (acc[i * bw .. i * bw + bw - 1]) for i < n; constant widths
 * are spelled out so the compiler unrolls them. */
#define HSUM_CASE(BW) \
  case BW: \
    for (i = 0; i < n; i++) { \
      const guint16 *p = acc + i * BW; \
      guint32 s = 0; \
      for (k = 0; k < BW; k++) \
        s += p[k]; \
      out[i] = (gfloat) s * scale; \
    } \
    break;

static void
hsum (const guint16 * restrict acc, gint bw, gint n, gfloat * restrict out, gfloat scale)
{
  gint i, k;
  switch (bw) {
      HSUM_CASE (1) HSUM_CASE (2) HSUM_CASE (3) HSUM_CASE (4) HSUM_CASE (5)
      HSUM_CASE (6) HSUM_CASE (7) HSUM_CASE (8) HSUM_CASE (9) HSUM_CASE (10)
      HSUM_CASE (11) HSUM_CASE (12) HSUM_CASE (13) HSUM_CASE (14) HSUM_CASE (15)
      HSUM_CASE (16)
    default:
      for (i = 0; i < n; i++) {
        const guint16 *p = acc + i * bw;
        guint32 s = 0;
        for (k = 0; k < bw; k++)
          s += p[k];
        out[i] = (gfloat) s * scale;
      }
      break;
  }
}

/* Area-average the luma of @frame into st->cur (aw x ah, grey levels 0..255).
 * Reads at most @max_rows evenly spaced source rows per analysis row. */
static void
downscale_luma (State * st, GstVideoFrame * frame, guint max_rows)
{
  const gint W = st->width, H = st->height, aw = st->aw, ah = st->ah;
  /* the packed RGB formats of the template (GRAY8 and YUV have a luma plane) */
  const gboolean rgb = GST_VIDEO_INFO_IS_RGB (&frame->info);
  const guint8 *base0 = GST_VIDEO_FRAME_COMP_DATA (frame, 0);
  const gint stride = GST_VIDEO_FRAME_COMP_STRIDE (frame, 0);
  const gint ps = GST_VIDEO_FRAME_COMP_PSTRIDE (frame, 0);
  const guint8 *base1 = NULL, *base2 = NULL;
  guint16 *acc = st->colacc;
  gint j;

  if (rgb) {
    base1 = GST_VIDEO_FRAME_COMP_DATA (frame, 1);
    base2 = GST_VIDEO_FRAME_COMP_DATA (frame, 2);
  }

  for (j = 0; j < ah; j++) {
    gint y0 = (gint) ((gint64) j * H / ah), y1 = (gint) ((gint64) (j + 1) * H / ah);
    gint n = y1 - y0, m, k;
    gfloat inv;

    m = (max_rows == 0 || n <= (gint) max_rows) ? n : (gint) max_rows;
    memset (acc, 0, sizeof (guint16) * W);
    for (k = 0; k < m; k++) {
      gint y = y0 + (gint) (((2 * (gint64) k + 1) * n) / (2 * m));
      const guint8 *r = base0 + (gsize) y * stride;
      gint x;
      if (!rgb) {
        if (ps == 1) {
          acc_row_u8 (acc, r, W);
        } else {
          for (x = 0; x < W; x++)
            acc[x] += r[x * ps];
        }
      } else {
        const guint8 *g = base1 + (gsize) y * stride, *b = base2 + (gsize) y * stride;
        for (x = 0; x < W; x++) {
          gint o = x * ps;
          /* BT.601 limited range, as videoconvert produces for I420 */
          acc[x] += (guint16) (((66 * r[o] + 129 * g[o] + 25 * b[o] + 128) >> 8) + 16);
        }
      }
    }
    inv = 1.0f / (gfloat) m;
    hsum (acc, st->bw, aw - 1, st->cur + j * aw, inv * st->invw[0]);
    {
      gint xa = st->xb[aw - 1], xe = st->xb[aw], x;
      guint32 s = 0;
      for (x = xa; x < xe; x++)
        s += acc[x];
      st->cur[j * aw + aw - 1] = (gfloat) s * (inv * st->invw[aw - 1]);
    }
  }
}

static void
normalize_contrast (State * st)
{
  const gint n = st->aw * st->ah;
  guint hist[256] = { 0 };
  guint lo_n = n * 4 / 100, hi_n = n * 96 / 100, c = 0;
  gint i, lo = 0, hi = 255;
  gdouble w;
  gfloat l, scale;

  for (i = 0; i < n; i++)
    hist[CLAMP ((gint) st->cur[i], 0, 255)]++;
  for (i = 0; i < 256; i++) {
    c += hist[i];
    if (c <= lo_n)
      lo = i;
    if (c <= hi_n)
      hi = i + 1;
  }
  st->c_frames = MIN (st->c_frames + 1, 50);
  w = 1.0 / st->c_frames;
  if (st->c_frames == 1) {
    st->c_low = lo;
    st->c_high = hi;
  } else {
    st->c_low += (lo - st->c_low) * w;
    st->c_high += (hi - st->c_high) * w;
  }
  if (st->c_high - st->c_low < 8)
    return;
  l = (gfloat) st->c_low;
  scale = (gfloat) (255.0 / (st->c_high - st->c_low));
  for (i = 0; i < n; i++) {
    gfloat v = (st->cur[i] - l) * scale;
    st->cur[i] = v < 0 ? 0 : (v > 255 ? 255 : v);
  }
}

/* Separable box blur of radius r on st->cur (edges clamped). */
static void
box_blur (State * st, guint r)
{
  const gint aw = st->aw, ah = st->ah, R = (gint) r;
  gint x, y, k;
  gfloat inv = 1.0f / (2 * R + 1);

  if (R == 0)
    return;
  for (y = 0; y < ah; y++) {
    const gfloat *s = st->cur + y * aw;
    gfloat *d = st->tmp + y * aw;
    for (x = 0; x < MIN (R, aw); x++) {
      gfloat sum = 0;
      for (k = -R; k <= R; k++)
        sum += s[CLAMP (x + k, 0, aw - 1)];
      d[x] = sum * inv;
    }
    if (R == 1) {
      for (x = 1; x < aw - 1; x++)
        d[x] = (s[x - 1] + s[x] + s[x + 1]) * inv;
    } else {
      for (x = R; x < aw - R; x++) {
        gfloat sum = 0;
        for (k = -R; k <= R; k++)
          sum += s[x + k];
        d[x] = sum * inv;
      }
    }
    for (x = MAX (aw - R, R); x < aw; x++) {
      gfloat sum = 0;
      for (k = -R; k <= R; k++)
        sum += s[CLAMP (x + k, 0, aw - 1)];
      d[x] = sum * inv;
    }
  }
  for (y = 0; y < ah; y++) {
    gfloat *d = st->cur + y * aw;
    for (x = 0; x < aw; x++)
      d[x] = 0;
    for (k = -R; k <= R; k++) {
      const gfloat *s = st->tmp + CLAMP (y + k, 0, ah - 1) * aw;
      for (x = 0; x < aw; x++)
        d[x] += s[x];
    }
    for (x = 0; x < aw; x++)
      d[x] *= inv;
  }
}

/* Robust least squares cur ~ a * bg + b over active pixels of a 2x2 subsample (two
 * passes, the second ignoring pixels whose residual exceeds @thr). */
static void
fit_brightness (State * st, gfloat thr, gdouble * pa, gdouble * pb)
{
  gdouble a = 1.0, b = 0.0;
  gint pass, i, row, col;

  for (pass = 0; pass < 2; pass++) {
    gdouble sx = 0, sy = 0, sxx = 0, sxy = 0, cnt = 0, var;
    for (row = 0; row < st->ah; row += 2) {
      for (col = 0; col < st->aw; col += 2) {
        gdouble x, y;
        i = row * st->aw + col;
        x = st->bg[i];
        y = st->cur[i];
        if (!st->active[i])
          continue;
        if (pass == 1 && fabs (y - (a * x + b)) > thr)
          continue;
        sx += x;
        sy += y;
        sxx += x * x;
        sxy += x * y;
        cnt += 1;
      }
    }
    if (cnt < 16)
      break;
    var = sxx - sx * sx / cnt;
    if (var / cnt > 25.0) {     /* enough texture for a gain */
      a = (sxy - sx * sy / cnt) / var;
      a = CLAMP (a, 0.5, 2.0);
    } else {
      a = 1.0;
    }
    b = (sy - a * sx) / cnt;
  }
  *pa = a;
  *pb = b;
}

static void
dilate3 (const guint8 * src, guint8 * dst, guint8 * tmp, gint aw, gint ah)
{
  gint x, y;
  for (y = 0; y < ah; y++) {
    const guint8 *s = src + y * aw;
    guint8 *t = tmp + y * aw;
    if (aw == 1) {
      t[0] = s[0];
      continue;
    }
    t[0] = s[0] | s[1];
    for (x = 1; x < aw - 1; x++)
      t[x] = s[x - 1] | s[x] | s[x + 1];
    t[aw - 1] = s[aw - 2] | s[aw - 1];
  }
  for (y = 0; y < ah; y++) {
    const guint8 *a = tmp + (y > 0 ? y - 1 : y) * aw;
    const guint8 *b = tmp + y * aw;
    const guint8 *c = tmp + (y + 1 < ah ? y + 1 : y) * aw;
    guint8 *d = dst + y * aw;
    for (x = 0; x < aw; x++)
      d[x] = a[x] | b[x] | c[x];
  }
}

static gboolean
regions_close (const Region * a, const Region * b, gint dist)
{
  gint gx = MAX (a->x0, b->x0) - MIN (a->x1, b->x1) - 1;
  gint gy = MAX (a->y0, b->y0) - MIN (a->y1, b->y1) - 1;
  return MAX (gx, 0) <= dist && MAX (gy, 0) <= dist;
}

/* Labels st->dil (8-connected), boxes from undilated motion pixels. */
static void
find_regions (State * st, const Settings * s)
{
  const gint aw = st->aw, ah = st->ah, n = aw * ah;
  gint i, nr = 0;
  gboolean merged;

  memset (st->label, 0, sizeof (gint32) * n);
  for (i = 0; i < n; i++) {
    Region r;
    gint sp = 0;
    if (!st->dil[i] || st->label[i])
      continue;
    r.x0 = aw;
    r.y0 = ah;
    r.x1 = -1;
    r.y1 = -1;
    r.motion_px = 0;
    r.area = 0;
    st->label[i] = 1;
    st->stack[sp++] = i;
    while (sp > 0) {
      gint p = st->stack[--sp], px = p % aw, py = p / aw, dx, dy;
      r.area++;
      if (st->motion[p]) {
        r.motion_px++;
        r.x0 = MIN (r.x0, px);
        r.x1 = MAX (r.x1, px);
        r.y0 = MIN (r.y0, py);
        r.y1 = MAX (r.y1, py);
      }
      for (dy = -1; dy <= 1; dy++) {
        gint qy = py + dy;
        if (qy < 0 || qy >= ah)
          continue;
        for (dx = -1; dx <= 1; dx++) {
          gint qx = px + dx, q;
          if (qx < 0 || qx >= aw)
            continue;
          q = qy * aw + qx;
          if (st->dil[q] && !st->label[q]) {
            st->label[q] = 1;
            st->stack[sp++] = q;
          }
        }
      }
    }
    if (r.motion_px < s->min_area)
      continue;
    if (nr < MAX_REGIONS)
      st->regions[nr++] = r;
  }

  do {
    gint a, b;
    merged = FALSE;
    for (a = 0; a < nr; a++) {
      for (b = a + 1; b < nr; b++) {
        Region *ra = &st->regions[a], *rb = &st->regions[b];
        if (!regions_close (ra, rb, (gint) s->merge_distance))
          continue;
        ra->x0 = MIN (ra->x0, rb->x0);
        ra->y0 = MIN (ra->y0, rb->y0);
        ra->x1 = MAX (ra->x1, rb->x1);
        ra->y1 = MAX (ra->y1, rb->y1);
        ra->motion_px += rb->motion_px;
        ra->area += rb->area;
        st->regions[b] = st->regions[--nr];
        merged = TRUE;
        b--;
      }
    }
  } while (merged);
  st->n_regions = nr;
}

/* One analysed frame. Returns TRUE when the frame has motion (>= 1 box). */
static gboolean
analyse (GstMotionDetect * self, State * st, const Settings * s, GstVideoFrame * frame)
{
  const gint n = st->aw * st->ah;
  const gfloat thr = (gfloat) s->threshold;
  guint changed = 0, moving = 0;
  gdouble a = 1.0, b = 0.0;
  gboolean rebaseline = FALSE;
  guint absorb_frames;
  gint i, it;

  downscale_luma (st, frame, s->downscale_rows);
  if (s->normalize_contrast)
    normalize_contrast (st);
  box_blur (st, s->blur_radius);

  st->n_regions = 0;
  st->score = 0.0;
  if (!st->have_bg) {
    memcpy (st->bg, st->cur, sizeof (gfloat) * n);
    memset (st->age, 0, sizeof (guint16) * n);
    st->have_bg = TRUE;
    return FALSE;
  }

  if (s->compensate_brightness)
    fit_brightness (st, thr, &a, &b);

  {
    const gfloat fa = (gfloat) a, fb = (gfloat) b;
    const gfloat *cur = st->cur, *bg = st->bg;
    const guint8 *act = st->active;
    guint8 *mot = st->motion;
    for (i = 0; i < n; i++) {
      guint8 m = (fabsf (cur[i] - (fa * bg[i] + fb)) > thr) & act[i];
      mot[i] = m;
      changed += m;
    }
  }

  if (st->n_active > 0 && (gdouble) changed / st->n_active > s->global_change)
    rebaseline = TRUE;
  if (fabs (a * 128.0 + b - 128.0) > thr)
    rebaseline = TRUE;
  if (rebaseline) {
    GST_DEBUG_OBJECT (self, "global change (%u of %u px, gain %.3f offset %.1f): "
        "re-baseline", changed, st->n_active, a, b);
    memcpy (st->bg, st->cur, sizeof (gfloat) * n);
    memset (st->age, 0, sizeof (guint16) * n);
    return FALSE;
  }

  /* background update and absorption */
  if (st->frame_interval > 0)
    absorb_frames = (guint) MIN (60000, gst_util_uint64_scale (s->absorb_time, 1,
            st->frame_interval));
  else
    absorb_frames = 300;
  absorb_frames = MAX (absorb_frames, 1);
  {
    const gfloat lr = (gfloat) s->learning_rate;
    const guint16 af = (guint16) MIN (absorb_frames, 65535);
    const gfloat *cur = st->cur;
    const guint8 *mot = st->motion;
    gfloat *bg = st->bg;
    guint16 *age = st->age;
    gboolean any_absorb = FALSE;
    for (i = 0; i < n; i++) {
      guint16 ag = (guint16) ((age[i] + 1) * mot[i]);
      any_absorb |= ag >= af;
      age[i] = ag;
    }
    for (i = 0; i < n; i++) {
      gfloat w = mot[i] ? 0.0f : lr;
      bg[i] += w * (cur[i] - bg[i]);
    }
    if (any_absorb) {
      for (i = 0; i < n; i++) {
        if (age[i] >= af) {
          bg[i] = cur[i];
          age[i] = 0;
        }
      }
    }
  }

  if (changed == 0)
    return FALSE;

  /* dilation */
  memcpy (st->dil, st->motion, n);
  for (it = 0; it < (gint) s->dilate; it++)
    dilate3 (st->dil, st->dil, st->dil2, st->aw, st->ah);

  find_regions (st, s);
  for (i = 0; i < (gint) st->n_regions; i++)
    moving += st->regions[i].motion_px;
  st->score = st->n_active ? (gdouble) moving / st->n_active : 0.0;
  return st->n_regions > 0;
}

/* ---- output ---- */

static GValue *
boxes_value (State * st, GValue * v)
{
  guint i;
  g_value_init (v, GST_TYPE_ARRAY);
  for (i = 0; i < st->n_regions; i++) {
    const Region *r = &st->regions[i];
    GValue bv = G_VALUE_INIT;
    gint x0 = st->xb[r->x0], x1 = st->xb[r->x1 + 1];
    gint y0 = (gint) ((gint64) r->y0 * st->height / st->ah);
    gint y1 = (gint) ((gint64) (r->y1 + 1) * st->height / st->ah);
    gdouble sc = (gdouble) r->motion_px / ((r->x1 - r->x0 + 1) * (r->y1 - r->y0 + 1));
    g_value_init (&bv, GST_TYPE_STRUCTURE);
    g_value_take_boxed (&bv, gst_structure_new ("box",
            "x", G_TYPE_UINT, (guint) x0, "y", G_TYPE_UINT, (guint) y0,
            "width", G_TYPE_UINT, (guint) (x1 - x0),
            "height", G_TYPE_UINT, (guint) (y1 - y0), "score", G_TYPE_DOUBLE, sc, NULL));
    gst_value_array_append_and_take_value (v, &bv);
  }
  return v;
}

static void
add_roi_metas (State * st, GstBuffer * buf, guint64 event_id)
{
  guint i;
  for (i = 0; i < st->n_regions; i++) {
    const Region *r = &st->regions[i];
    gint x0 = st->xb[r->x0], x1 = st->xb[r->x1 + 1];
    gint y0 = (gint) ((gint64) r->y0 * st->height / st->ah);
    gint y1 = (gint) ((gint64) (r->y1 + 1) * st->height / st->ah);
    gdouble sc = (gdouble) r->motion_px / ((r->x1 - r->x0 + 1) * (r->y1 - r->y0 + 1));
    GstVideoRegionOfInterestMeta *meta =
        gst_buffer_add_video_region_of_interest_meta (buf, "motion", x0, y0,
        x1 - x0, y1 - y0);
    gst_video_region_of_interest_meta_add_param (meta,
        gst_structure_new ("motion", "score", G_TYPE_DOUBLE, sc,
            "event-id", G_TYPE_UINT64, event_id, NULL));
  }
}

static void
post (GstMotionDetect * self, GstStructure * s)
{
  gst_element_post_message (GST_ELEMENT (self),
      gst_message_new_element (GST_OBJECT (self), s));
}

static gboolean
push_boundary_event (GstMotionDetect * self, const gchar * type, guint64 id,
    GstClockTime rt, GstClockTime duration)
{
  GstStructure *s = gst_structure_new (EDGEFAAS_MOTION_EVENT_NAME,
      "type", G_TYPE_STRING, type, "event-id", G_TYPE_UINT64, id,
      "running-time", G_TYPE_UINT64, (guint64) rt, NULL);
  if (duration != GST_CLOCK_TIME_NONE)
    gst_structure_set (s, "duration", G_TYPE_UINT64, (guint64) duration, NULL);
  return gst_pad_push_event (GST_BASE_TRANSFORM_SRC_PAD (self),
      gst_event_new_custom (GST_EVENT_CUSTOM_DOWNSTREAM, s));
}

static void
end_event (GstMotionDetect * self, State * st, GstMotionDetectMessages messages)
{
  guint64 id = st->event_id;
  GstClockTime dur = st->last_motion_rt >= st->event_start_rt ?
      st->last_motion_rt - st->event_start_rt : 0;

  st->in_event = FALSE;
  st->event_id = 0;
  GST_INFO_OBJECT (self, "motion event %" G_GUINT64_FORMAT " ended, duration %"
      GST_TIME_FORMAT, id, GST_TIME_ARGS (dur));
  if (messages != GST_MOTION_DETECT_MESSAGES_NONE)
    post (self, gst_structure_new ("motion-end", "event-id", G_TYPE_UINT64, id,
            "running-time", G_TYPE_UINT64, (guint64) st->last_motion_rt,
            "duration", G_TYPE_UINT64, (guint64) dur,
            "frames", G_TYPE_UINT, st->event_frames, NULL));
  push_boundary_event (self, "end", id, st->last_motion_rt, dur);
}

/* Gate mode: tell downstream that nothing will come for the time of a dropped
 * buffer, so sinks preroll (the pipeline reaches PLAYING in a quiet scene) and
 * elements further down see a continuous timeline. Like a decoder that skips a
 * frame, we send a GAP with the buffer's own timestamp and duration. */
static void
push_gap (GstMotionDetect * self, State * st, GstMotionDetectGaps gaps, GstBuffer * buf)
{
  GstClockTime pts = GST_BUFFER_PTS (buf), dur = GST_BUFFER_DURATION (buf);
  gint fn = GST_VIDEO_INFO_FPS_N (&self->info), fd = GST_VIDEO_INFO_FPS_D (&self->info);

  if (!GST_CLOCK_TIME_IS_VALID (pts))
    return;                     /* a GAP needs a timestamp; nothing to say */
  if (gaps == GST_MOTION_DETECT_GAPS_NONE
      || (gaps == GST_MOTION_DETECT_GAPS_FIRST && st->gap_sent))
    return;
  st->gap_sent = TRUE;
  if (!GST_CLOCK_TIME_IS_VALID (dur) && fn > 0 && fd > 0)
    dur = gst_util_uint64_scale_int (GST_SECOND, fd, fn);
  GST_LOG_OBJECT (self, "gap %" GST_TIME_FORMAT " + %" GST_TIME_FORMAT,
      GST_TIME_ARGS (pts), GST_TIME_ARGS (dur));
  gst_pad_push_event (GST_BASE_TRANSFORM_SRC_PAD (self), gst_event_new_gap (pts, dur));
}

/* max-rate: may a buffer at running time @rt pass? Updates the limiter when it
 * may. A buffer passes when it is no earlier than the next slot (less half a
 * frame, so that 30 fps timestamps rounded down still hit a 5 fps slot). Slots
 * follow a grid of 1/max-rate while the stream is continuous, so the average
 * rate is max-rate; after a hole longer than a slot the grid restarts at the
 * buffer instead of letting frames through until it catches up (which is what
 * videorate drop-only does after a gate). */
static gboolean
rate_allows (GstMotionDetect * self, State * st, gdouble max_rate, GstClockTime rt,
    GstBuffer * buf)
{
  GstClockTime period, tol = 0, dur = GST_BUFFER_DURATION (buf);
  gint fn = GST_VIDEO_INFO_FPS_N (&self->info), fd = GST_VIDEO_INFO_FPS_D (&self->info);

  if (max_rate <= 0.0 || !GST_CLOCK_TIME_IS_VALID (rt))
    return TRUE;
  period = (GstClockTime) (GST_SECOND / max_rate + 0.5);
  if (GST_CLOCK_TIME_IS_VALID (dur))
    tol = dur / 2;
  else if (fn > 0 && fd > 0)
    tol = gst_util_uint64_scale_int (GST_SECOND, fd, 2 * fn);
  else
    tol = st->frame_interval / 2;
  tol = MIN (tol, period / 2);

  if (GST_CLOCK_TIME_IS_VALID (st->next_pass_rt) && rt + tol < st->next_pass_rt) {
    GST_LOG_OBJECT (self, "max-rate: drop %" GST_TIME_FORMAT ", next slot %"
        GST_TIME_FORMAT, GST_TIME_ARGS (rt), GST_TIME_ARGS (st->next_pass_rt));
    return FALSE;
  }
  if (GST_CLOCK_TIME_IS_VALID (st->next_pass_rt) && rt < st->next_pass_rt + period)
    st->next_pass_rt += period;
  else
    st->next_pass_rt = rt + period;
  return TRUE;
}

static GstFlowReturn
gst_motion_detect_transform_ip (GstBaseTransform * trans, GstBuffer * buf)
{
  GstMotionDetect *self = GST_MOTION_DETECT (trans);
  State *st = self->state;
  Settings s;
  GstVideoFrame frame;
  GstClockTime rt, pts = GST_BUFFER_PTS (buf);
  gboolean analysed, motion = FALSE, started = FALSE;
  GstFlowReturn ret = GST_FLOW_OK;

  if (G_UNLIKELY (!self->have_info || st == NULL)) {
    GST_ELEMENT_ERROR (self, CORE, NEGOTIATION, (NULL), ("buffer before caps"));
    return GST_FLOW_NOT_NEGOTIATED;
  }

  GST_OBJECT_LOCK (self);
  s = self->settings;
  s.exclude = mask_set_ref (s.exclude);
  s.include = mask_set_ref (s.include);
  GST_OBJECT_UNLOCK (self);

  if (st->width != GST_VIDEO_INFO_WIDTH (&self->info)
      || st->height != GST_VIDEO_INFO_HEIGHT (&self->info)
      || st->ah != (gint) MIN (s.analysis_height,
          (guint) GST_VIDEO_INFO_HEIGHT (&self->info))) {
    state_setup (st, GST_VIDEO_INFO_WIDTH (&self->info),
        GST_VIDEO_INFO_HEIGHT (&self->info), s.analysis_height);
    state_build_active (st, s.exclude, s.include);
  } else if (st->mask_ex != s.exclude || st->mask_in != s.include) {
    state_build_active (st, s.exclude, s.include);
  }

  rt = gst_segment_to_running_time (&trans->segment, GST_FORMAT_TIME, pts);
  if (!GST_CLOCK_TIME_IS_VALID (rt)) {
    /* no timestamps: synthesise from the frame rate (or 30 fps) */
    gint fn = GST_VIDEO_INFO_FPS_N (&self->info), fd = GST_VIDEO_INFO_FPS_D (&self->info);
    rt = fn > 0 ? gst_util_uint64_scale (st->frame_count, fd * GST_SECOND, fn)
        : st->frame_count * (GST_SECOND / 30);
  }

  analysed = (st->frame_count % s.analyse_interval) == 0;
  st->frame_count++;

  if (analysed) {
    if (!gst_video_frame_map (&frame, &self->info, buf, GST_MAP_READ)) {
      GST_ELEMENT_ERROR (self, STREAM, FAILED, ("Could not map the video frame."),
          (NULL));
      ret = GST_FLOW_ERROR;
      goto out;
    }
    motion = analyse (self, st, &s, &frame);
    gst_video_frame_unmap (&frame);

    if (GST_CLOCK_TIME_IS_VALID (st->last_rt) && rt > st->last_rt) {
      GstClockTime d = rt - st->last_rt;
      st->frame_interval = st->frame_interval ? (st->frame_interval * 7 + d) / 8 : d;
    }
    st->last_rt = rt;

    if (motion) {
      if (st->consecutive == 0)
        st->first_motion_rt = rt;
      st->consecutive++;
      st->last_motion_rt = rt;
      if (st->in_event) {
        st->event_frames++;
      } else if (st->consecutive >= s.start_frames) {
        st->in_event = TRUE;
        started = TRUE;
        st->event_id = st->next_event_id++;
        st->event_start_rt = st->first_motion_rt;
        st->event_frames = st->consecutive;
      }
    } else {
      st->consecutive = 0;
      if (st->in_event && rt >= st->last_motion_rt + s.quiet_time)
        end_event (self, st, s.messages);
    }
  }

  gst_buffer_add_edgefaas_motion_meta (buf, st->event_id, st->score, analysed);
  if (analysed)
    add_roi_metas (st, buf, st->event_id);

  if (analysed && s.messages != GST_MOTION_DETECT_MESSAGES_NONE) {
    if (started) {
      GValue v = G_VALUE_INIT;
      GstStructure *m = gst_structure_new ("motion-start",
          "event-id", G_TYPE_UINT64, st->event_id,
          "running-time", G_TYPE_UINT64, (guint64) st->event_start_rt,
          "timestamp", G_TYPE_UINT64, (guint64) pts,
          "score", G_TYPE_DOUBLE, st->score, NULL);
      gst_structure_take_value (m, "boxes", boxes_value (st, &v));
      GST_INFO_OBJECT (self, "motion event %" G_GUINT64_FORMAT " started",
          st->event_id);
      post (self, m);
    }
    if (s.messages == GST_MOTION_DETECT_MESSAGES_FRAMES) {
      GValue v = G_VALUE_INIT;
      GstStructure *m = gst_structure_new ("motion",
          "event-id", G_TYPE_UINT64, st->event_id,
          "running-time", G_TYPE_UINT64, (guint64) rt,
          "timestamp", G_TYPE_UINT64, (guint64) pts,
          "score", G_TYPE_DOUBLE, st->score, NULL);
      gst_structure_take_value (m, "boxes", boxes_value (st, &v));
      post (self, m);
    }
  }

  if (started) {
    push_boundary_event (self, "start", st->event_id, st->event_start_rt,
        GST_CLOCK_TIME_NONE);
    if (s.gate) {
      GstBuffer *b;
      while ((b = g_queue_pop_head (&st->preroll))) {
        GstClockTime brt = gst_segment_to_running_time (&trans->segment,
            GST_FORMAT_TIME, GST_BUFFER_PTS (b));
        if (ret != GST_FLOW_OK) {
          gst_buffer_unref (b);
        } else if (rate_allows (self, st, s.max_rate, brt, b)) {
          st->gap_sent = FALSE;
          ret = gst_pad_push (GST_BASE_TRANSFORM_SRC_PAD (self), b);
        } else {
          push_gap (self, st, s.gaps, b);
          gst_buffer_unref (b);
        }
      }
      if (ret != GST_FLOW_OK)
        goto out;
    }
  }

  if (s.gate && !st->in_event) {
    /* A held pre-roll buffer may still be pushed: its GAP is sent when it
     * leaves the pre-roll, so downstream time never goes backwards. */
    if (s.preroll_frames > 0) {
      g_queue_push_tail (&st->preroll, gst_buffer_ref (buf));
      while (g_queue_get_length (&st->preroll) > s.preroll_frames) {
        GstBuffer *old = g_queue_pop_head (&st->preroll);
        push_gap (self, st, s.gaps, old);
        gst_buffer_unref (old);
      }
    } else {
      state_clear_preroll (st);
      push_gap (self, st, s.gaps, buf);
    }
    ret = GST_BASE_TRANSFORM_FLOW_DROPPED;
  } else {
    if (!s.gate)
      state_clear_preroll (st);
    if (!rate_allows (self, st, s.max_rate, rt, buf)) {
      push_gap (self, st, s.gaps, buf);
      ret = GST_BASE_TRANSFORM_FLOW_DROPPED;
    } else {
      st->gap_sent = FALSE;
    }
  }

out:
  mask_set_unref (s.exclude);
  mask_set_unref (s.include);
  return ret;
}

static gboolean
gst_motion_detect_set_caps (GstBaseTransform * trans, GstCaps * incaps, GstCaps * outcaps)
{
  GstMotionDetect *self = GST_MOTION_DETECT (trans);
  GstVideoInfo info;

  if (!gst_video_info_from_caps (&info, incaps)) {
    GST_ELEMENT_ERROR (self, CORE, NEGOTIATION, (NULL),
        ("invalid caps %" GST_PTR_FORMAT, incaps));
    return FALSE;
  }
  if (self->have_info && (GST_VIDEO_INFO_FORMAT (&info) !=
          GST_VIDEO_INFO_FORMAT (&self->info)
          || info.width != self->info.width || info.height != self->info.height)) {
    GST_INFO_OBJECT (self, "renegotiated to %" GST_PTR_FORMAT ": re-baseline", incaps);
    if (self->state) {
      GstMotionDetectGaps gaps;
      GstBuffer *b;

      GST_OBJECT_LOCK (self);
      gaps = self->settings.gaps;
      GST_OBJECT_UNLOCK (self);
      /* A new format or size: the background is no longer comparable and the
       * pre-roll frames cannot follow the new caps. Each held frame leaves as
       * the GAP it would have become (still under the old caps' frame rate), so
       * downstream time has no hole. */
      state_free_buffers (self->state);
      while ((b = g_queue_pop_head (&self->state->preroll))) {
        push_gap (self, self->state, gaps, b);
        gst_buffer_unref (b);
      }
      self->state->consecutive = 0;
    }
  }
  self->info = info;
  self->have_info = TRUE;
  return TRUE;
}

static gboolean
gst_motion_detect_sink_event (GstBaseTransform * trans, GstEvent * event)
{
  GstMotionDetect *self = GST_MOTION_DETECT (trans);
  State *st = self->state;

  switch (GST_EVENT_TYPE (event)) {
    case GST_EVENT_EOS:
      if (st && st->in_event) {
        GstMotionDetectMessages messages;
        GST_OBJECT_LOCK (self);
        messages = self->settings.messages;
        GST_OBJECT_UNLOCK (self);
        end_event (self, st, messages);
      }
      if (st)
        state_clear_preroll (st);
      break;
    case GST_EVENT_FLUSH_STOP:
      if (st) {
        state_clear_preroll (st);
        st->consecutive = 0;
        st->last_rt = GST_CLOCK_TIME_NONE;
        st->next_pass_rt = GST_CLOCK_TIME_NONE;
        st->gap_sent = FALSE;
      }
      break;
    default:
      break;
  }
  return GST_BASE_TRANSFORM_CLASS (parent_class)->sink_event (trans, event);
}

static gboolean
gst_motion_detect_start (GstBaseTransform * trans)
{
  GstMotionDetect *self = GST_MOTION_DETECT (trans);
  State *st = g_new0 (State, 1);

  g_queue_init (&st->preroll);
  st->next_event_id = 1;
  st->last_rt = GST_CLOCK_TIME_NONE;
  st->next_pass_rt = GST_CLOCK_TIME_NONE;
  self->state = st;
  self->have_info = FALSE;
  return TRUE;
}

static gboolean
gst_motion_detect_stop (GstBaseTransform * trans)
{
  GstMotionDetect *self = GST_MOTION_DETECT (trans);

  g_clear_pointer (&self->state, state_free);
  self->have_info = FALSE;
  return TRUE;
}

/* ---- properties ---- */

static void
set_mask (GstMotionDetect * self, MaskSet ** slot, const gchar * name,
    const GValue * value)
{
  const gchar *str = g_value_get_string (value);
  GError *err = NULL;
  MaskSet *m = mask_set_parse (str, &err), *old;

  if (err) {
    g_warning ("%s: invalid %s \"%s\": %s; keeping the previous value",
        GST_OBJECT_NAME (self), name, str, err->message);
    g_error_free (err);
    return;
  }
  GST_OBJECT_LOCK (self);
  old = *slot;
  *slot = m;
  GST_OBJECT_UNLOCK (self);
  mask_set_unref (old);
}

static void
gst_motion_detect_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec)
{
  GstMotionDetect *self = GST_MOTION_DETECT (object);
  Settings *s = &self->settings;

  switch (prop_id) {
    case PROP_EXCLUDE_MASK:
      set_mask (self, &s->exclude, "exclude-mask", value);
      return;
    case PROP_INCLUDE_MASK:
      set_mask (self, &s->include, "include-mask", value);
      return;
    default:
      break;
  }

  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_ANALYSIS_HEIGHT:
      s->analysis_height = g_value_get_uint (value);
      break;
    case PROP_DOWNSCALE_ROWS:
      s->downscale_rows = g_value_get_uint (value);
      break;
    case PROP_NORMALIZE_CONTRAST:
      s->normalize_contrast = g_value_get_boolean (value);
      break;
    case PROP_BLUR_RADIUS:
      s->blur_radius = g_value_get_uint (value);
      break;
    case PROP_LEARNING_RATE:
      s->learning_rate = g_value_get_double (value);
      break;
    case PROP_THRESHOLD:
      s->threshold = g_value_get_uint (value);
      break;
    case PROP_DILATE:
      s->dilate = g_value_get_uint (value);
      break;
    case PROP_MIN_AREA:
      s->min_area = g_value_get_uint (value);
      break;
    case PROP_MERGE_DISTANCE:
      s->merge_distance = g_value_get_uint (value);
      break;
    case PROP_GLOBAL_CHANGE:
      s->global_change = g_value_get_double (value);
      break;
    case PROP_COMPENSATE_BRIGHTNESS:
      s->compensate_brightness = g_value_get_boolean (value);
      break;
    case PROP_ABSORB_TIME:
      s->absorb_time = g_value_get_uint64 (value);
      break;
    case PROP_START_FRAMES:
      s->start_frames = g_value_get_uint (value);
      break;
    case PROP_QUIET_TIME:
      s->quiet_time = g_value_get_uint64 (value);
      break;
    case PROP_ANALYSE_INTERVAL:
      s->analyse_interval = g_value_get_uint (value);
      break;
    case PROP_GATE:
      s->gate = g_value_get_boolean (value);
      break;
    case PROP_PREROLL_FRAMES:
      s->preroll_frames = g_value_get_uint (value);
      break;
    case PROP_MAX_RATE:
      s->max_rate = g_value_get_double (value);
      break;
    case PROP_GAPS:
      s->gaps = g_value_get_enum (value);
      break;
    case PROP_MESSAGES:
      s->messages = g_value_get_enum (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

static void
gst_motion_detect_get_property (GObject * object, guint prop_id, GValue * value,
    GParamSpec * pspec)
{
  GstMotionDetect *self = GST_MOTION_DETECT (object);
  Settings *s = &self->settings;

  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_ANALYSIS_HEIGHT:
      g_value_set_uint (value, s->analysis_height);
      break;
    case PROP_DOWNSCALE_ROWS:
      g_value_set_uint (value, s->downscale_rows);
      break;
    case PROP_NORMALIZE_CONTRAST:
      g_value_set_boolean (value, s->normalize_contrast);
      break;
    case PROP_BLUR_RADIUS:
      g_value_set_uint (value, s->blur_radius);
      break;
    case PROP_LEARNING_RATE:
      g_value_set_double (value, s->learning_rate);
      break;
    case PROP_THRESHOLD:
      g_value_set_uint (value, s->threshold);
      break;
    case PROP_DILATE:
      g_value_set_uint (value, s->dilate);
      break;
    case PROP_MIN_AREA:
      g_value_set_uint (value, s->min_area);
      break;
    case PROP_MERGE_DISTANCE:
      g_value_set_uint (value, s->merge_distance);
      break;
    case PROP_GLOBAL_CHANGE:
      g_value_set_double (value, s->global_change);
      break;
    case PROP_COMPENSATE_BRIGHTNESS:
      g_value_set_boolean (value, s->compensate_brightness);
      break;
    case PROP_ABSORB_TIME:
      g_value_set_uint64 (value, s->absorb_time);
      break;
    case PROP_START_FRAMES:
      g_value_set_uint (value, s->start_frames);
      break;
    case PROP_QUIET_TIME:
      g_value_set_uint64 (value, s->quiet_time);
      break;
    case PROP_ANALYSE_INTERVAL:
      g_value_set_uint (value, s->analyse_interval);
      break;
    case PROP_EXCLUDE_MASK:
      g_value_set_string (value, s->exclude ? s->exclude->str : "");
      break;
    case PROP_INCLUDE_MASK:
      g_value_set_string (value, s->include ? s->include->str : "");
      break;
    case PROP_GATE:
      g_value_set_boolean (value, s->gate);
      break;
    case PROP_PREROLL_FRAMES:
      g_value_set_uint (value, s->preroll_frames);
      break;
    case PROP_MAX_RATE:
      g_value_set_double (value, s->max_rate);
      break;
    case PROP_GAPS:
      g_value_set_enum (value, s->gaps);
      break;
    case PROP_MESSAGES:
      g_value_set_enum (value, s->messages);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

static void
gst_motion_detect_finalize (GObject * object)
{
  GstMotionDetect *self = GST_MOTION_DETECT (object);

  g_clear_pointer (&self->state, state_free);
  mask_set_unref (self->settings.exclude);
  mask_set_unref (self->settings.include);
  G_OBJECT_CLASS (parent_class)->finalize (object);
}

#define RW_PLAYING (G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_PLAYING)

static void
gst_motion_detect_class_init (GstMotionDetectClass * klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);
  GstBaseTransformClass *trans_class = GST_BASE_TRANSFORM_CLASS (klass);

  gobject_class->set_property = gst_motion_detect_set_property;
  gobject_class->get_property = gst_motion_detect_get_property;
  gobject_class->finalize = gst_motion_detect_finalize;

  /**
   * GstMotionDetect:analysis-height:
   *
   * Height in rows the luma is area-averaged down to before analysis (width follows
   * the aspect ratio). Frames smaller than this are analysed at their own size.
   * Changing it re-baselines.
   */
  g_object_class_install_property (gobject_class, PROP_ANALYSIS_HEIGHT,
      g_param_spec_uint ("analysis-height", "Analysis height",
          "Rows of the downscaled luma image the analysis runs on", 16, 1080,
          DEFAULT_ANALYSIS_HEIGHT, RW_PLAYING));
  /**
   * GstMotionDetect:downscale-rows:
   *
   * At most this many evenly spaced source rows are averaged per analysis row
   * (0 = all rows, an exact area average). Skipping rows saves memory traffic.
   */
  g_object_class_install_property (gobject_class, PROP_DOWNSCALE_ROWS,
      g_param_spec_uint ("downscale-rows", "Downscale rows",
          "Source rows read per analysis row (0 = all)", 0, 64,
          DEFAULT_DOWNSCALE_ROWS, RW_PLAYING));
  /**
   * GstMotionDetect:normalize-contrast:
   *
   * Stretch the 4th..96th percentile of the analysis image (averaged over 50 frames)
   * to the full range before blurring, for low-contrast or night scenes.
   */
  g_object_class_install_property (gobject_class, PROP_NORMALIZE_CONTRAST,
      g_param_spec_boolean ("normalize-contrast", "Normalize contrast",
          "Stretch the 4th..96th luma percentiles to 0..255 before analysis",
          DEFAULT_NORMALIZE_CONTRAST, RW_PLAYING));
  /**
   * GstMotionDetect:blur-radius:
   *
   * Radius of the box blur applied at the analysis size (0 = none).
   */
  g_object_class_install_property (gobject_class, PROP_BLUR_RADIUS,
      g_param_spec_uint ("blur-radius", "Blur radius",
          "Box blur radius in analysis pixels (0 = no blur)", 0, 4,
          DEFAULT_BLUR_RADIUS, RW_PLAYING));
  /**
   * GstMotionDetect:learning-rate:
   *
   * Weight of the current frame in the running-average background, for pixels
   * without motion.
   */
  g_object_class_install_property (gobject_class, PROP_LEARNING_RATE,
      g_param_spec_double ("learning-rate", "Learning rate",
          "Running-average background weight of each new frame", 0.0001, 1.0,
          DEFAULT_LEARNING_RATE, RW_PLAYING | GST_PARAM_CONTROLLABLE));
  /**
   * GstMotionDetect:threshold:
   *
   * A pixel is in motion when it differs from the background by more than this many
   * grey levels (of 255).
   */
  g_object_class_install_property (gobject_class, PROP_THRESHOLD,
      g_param_spec_uint ("threshold", "Threshold",
          "Grey-level difference from the background that counts as motion", 1, 255,
          DEFAULT_THRESHOLD, RW_PLAYING | GST_PARAM_CONTROLLABLE));
  /**
   * GstMotionDetect:dilate:
   *
   * Number of 3x3 dilations of the motion mask before regions are found; joins
   * fragments of one object. Boxes are measured on the undilated pixels.
   */
  g_object_class_install_property (gobject_class, PROP_DILATE,
      g_param_spec_uint ("dilate", "Dilate",
          "3x3 dilation iterations applied to the motion mask", 0, 10,
          DEFAULT_DILATE, RW_PLAYING));
  /**
   * GstMotionDetect:min-area:
   *
   * Regions (found on the dilated mask) with fewer motion pixels than this, counted
   * on the undilated mask at the analysis size, are dropped: isolated noise pixels
   * joined by dilation do not pass.
   */
  g_object_class_install_property (gobject_class, PROP_MIN_AREA,
      g_param_spec_uint ("min-area", "Minimum area",
          "Smallest region kept, in undilated motion pixels at the analysis size",
          1, 1000000,
          DEFAULT_MIN_AREA, RW_PLAYING));
  /**
   * GstMotionDetect:merge-distance:
   *
   * Regions whose boxes are at most this many analysis pixels apart are merged into
   * one motion box.
   */
  g_object_class_install_property (gobject_class, PROP_MERGE_DISTANCE,
      g_param_spec_uint ("merge-distance", "Merge distance",
          "Gap in analysis pixels under which motion boxes are merged", 0, 1080,
          DEFAULT_MERGE_DISTANCE, RW_PLAYING));
  /**
   * GstMotionDetect:global-change:
   *
   * When more than this fraction of the unmasked area changes in one frame (lights,
   * IR mode, exposure), the background is re-baselined and no motion reported.
   */
  g_object_class_install_property (gobject_class, PROP_GLOBAL_CHANGE,
      g_param_spec_double ("global-change", "Global change",
          "Fraction of the frame changing at once that triggers a re-baseline",
          0.05, 1.0, DEFAULT_GLOBAL_CHANGE, RW_PLAYING));
  /**
   * GstMotionDetect:compensate-brightness:
   *
   * Match the background to each frame with a robust gain and offset fit before
   * differencing; a fitted brightness change larger than the threshold re-baselines.
   */
  g_object_class_install_property (gobject_class, PROP_COMPENSATE_BRIGHTNESS,
      g_param_spec_boolean ("compensate-brightness", "Compensate brightness",
          "Fit a global gain/offset between background and frame before differencing",
          DEFAULT_COMPENSATE_BRIGHTNESS, RW_PLAYING));
  /**
   * GstMotionDetect:absorb-time:
   *
   * A pixel continuously in motion for this long (running time) is taken into the
   * background, so an object that stopped (parked car) ends the event.
   */
  g_object_class_install_property (gobject_class, PROP_ABSORB_TIME,
      g_param_spec_uint64 ("absorb-time", "Absorb time",
          "Time (ns) after which persistent motion becomes background",
          100 * GST_MSECOND, 3600 * GST_SECOND, DEFAULT_ABSORB_TIME, RW_PLAYING));
  /**
   * GstMotionDetect:start-frames:
   *
   * Consecutive analysed frames with motion needed to start an event.
   */
  g_object_class_install_property (gobject_class, PROP_START_FRAMES,
      g_param_spec_uint ("start-frames", "Start frames",
          "Consecutive analysed frames with motion that start an event", 1, 1000,
          DEFAULT_START_FRAMES, RW_PLAYING));
  /**
   * GstMotionDetect:quiet-time:
   *
   * An event ends when no motion has been seen for this long (running time, ns).
   */
  g_object_class_install_property (gobject_class, PROP_QUIET_TIME,
      g_param_spec_uint64 ("quiet-time", "Quiet time",
          "Time (ns) without motion that ends an event", 0, 3600 * GST_SECOND,
          DEFAULT_QUIET_TIME, RW_PLAYING));
  /**
   * GstMotionDetect:analyse-interval:
   *
   * Analyse every Nth frame only; the others get a motion meta with analysed=FALSE
   * and the current event id, and no boxes.
   */
  g_object_class_install_property (gobject_class, PROP_ANALYSE_INTERVAL,
      g_param_spec_uint ("analyse-interval", "Analyse interval",
          "Analyse every Nth frame", 1, 1000, DEFAULT_ANALYSE_INTERVAL, RW_PLAYING));
  /**
   * GstMotionDetect:exclude-mask:
   *
   * Exclusion zones: polygons in normalised coordinates, points "x,y" separated by
   * spaces, polygons by ';', e.g. "0,0 0.3,0 0.3,0.2 0,0.2;0.8,0.8 1,0.8 1,1".
   * A malformed string is refused with a warning and the previous value kept.
   */
  g_object_class_install_property (gobject_class, PROP_EXCLUDE_MASK,
      g_param_spec_string ("exclude-mask", "Exclude mask",
          "Polygons (normalised 'x,y x,y x,y;...') where motion is ignored", "",
          RW_PLAYING));
  /**
   * GstMotionDetect:include-mask:
   *
   * When set, only motion inside these polygons counts (same syntax as exclude-mask;
   * exclusion wins where both apply).
   */
  g_object_class_install_property (gobject_class, PROP_INCLUDE_MASK,
      g_param_spec_string ("include-mask", "Include mask",
          "Polygons (normalised 'x,y x,y x,y;...') outside which motion is ignored", "",
          RW_PLAYING));
  /**
   * GstMotionDetect:gate:
   *
   * Drop buffers outside motion events.
   */
  g_object_class_install_property (gobject_class, PROP_GATE,
      g_param_spec_boolean ("gate", "Gate",
          "Only pass buffers that belong to a motion event", DEFAULT_GATE, RW_PLAYING));
  /**
   * GstMotionDetect:preroll-frames:
   *
   * In gate mode, the last N dropped buffers are kept and released when an event
   * starts.
   */
  g_object_class_install_property (gobject_class, PROP_PREROLL_FRAMES,
      g_param_spec_uint ("preroll-frames", "Pre-roll frames",
          "Gate mode: buffers before an event start that are released with it", 0, 300,
          DEFAULT_PREROLL_FRAMES, RW_PLAYING));
  /**
   * GstMotionDetect:max-rate:
   *
   * At most this many buffers per second of running time leave the element
   * (0: no limit). Buffers over the limit are dropped like gated ones, with a
   * GAP event. Unlike `videorate max-rate` after the gate, the limit holds for a
   * stream with holes: after a quiet stretch the next event is not let through
   * at full rate to "catch up" with a frame grid that started at the segment
   * start. Analysis still runs on every frame (see #GstMotionDetect:analyse-interval).
   */
  g_object_class_install_property (gobject_class, PROP_MAX_RATE,
      g_param_spec_double ("max-rate", "Maximum rate",
          "At most this many buffers per second of running time are passed "
          "downstream, the others are dropped with a GAP event (0 = no limit)",
          0.0, 1000.0, DEFAULT_MAX_RATE, RW_PLAYING));
  /**
   * GstMotionDetect:gaps:
   *
   * GAP events for the time of dropped buffers (gate and #GstMotionDetect:max-rate),
   * with the buffer's timestamp and duration, so that a sink prerolls and the
   * pipeline reaches PLAYING in a quiet scene, and elements further down see
   * time advance. `first` sends only the first GAP of each run of dropped buffers:
   * use it when an encoder follows, because GstVideoEncoder (jpegenc) in 1.22
   * keeps every serialized event until its next frame (about 0.5 kB per GAP for
   * the whole of a quiet stretch) and forwards none before it.
   */
  g_object_class_install_property (gobject_class, PROP_GAPS,
      g_param_spec_enum ("gaps", "GAP events",
          "GAP events sent downstream for the time of dropped buffers",
          GST_TYPE_MOTION_DETECT_GAPS, DEFAULT_GAPS, RW_PLAYING));
  /**
   * GstMotionDetect:messages:
   *
   * Which element messages to post on the bus.
   */
  g_object_class_install_property (gobject_class, PROP_MESSAGES,
      g_param_spec_enum ("messages", "Messages",
          "Element messages posted on the bus", GST_TYPE_MOTION_DETECT_MESSAGES,
          DEFAULT_MESSAGES, RW_PLAYING));

  gst_element_class_add_static_pad_template (element_class, &sink_template);
  gst_element_class_add_static_pad_template (element_class, &src_template);
  gst_element_class_set_static_metadata (element_class, "Motion detection",
      "Filter/Analyzer/Video",
      "Detects motion on the luma plane, attaches motion boxes, posts event "
      "messages and optionally gates frames to motion events", "edgefaas");

  trans_class->start = GST_DEBUG_FUNCPTR (gst_motion_detect_start);
  trans_class->stop = GST_DEBUG_FUNCPTR (gst_motion_detect_stop);
  trans_class->set_caps = GST_DEBUG_FUNCPTR (gst_motion_detect_set_caps);
  trans_class->sink_event = GST_DEBUG_FUNCPTR (gst_motion_detect_sink_event);
  trans_class->transform_ip = GST_DEBUG_FUNCPTR (gst_motion_detect_transform_ip);
  trans_class->transform_ip_on_passthrough = FALSE;

  gst_type_mark_as_plugin_api (GST_TYPE_MOTION_DETECT_MESSAGES, 0);
  gst_type_mark_as_plugin_api (GST_TYPE_MOTION_DETECT_GAPS, 0);
}

static void
gst_motion_detect_init (GstMotionDetect * self)
{
  Settings *s = &self->settings;

  s->analysis_height = DEFAULT_ANALYSIS_HEIGHT;
  s->downscale_rows = DEFAULT_DOWNSCALE_ROWS;
  s->normalize_contrast = DEFAULT_NORMALIZE_CONTRAST;
  s->blur_radius = DEFAULT_BLUR_RADIUS;
  s->learning_rate = DEFAULT_LEARNING_RATE;
  s->threshold = DEFAULT_THRESHOLD;
  s->dilate = DEFAULT_DILATE;
  s->min_area = DEFAULT_MIN_AREA;
  s->merge_distance = DEFAULT_MERGE_DISTANCE;
  s->global_change = DEFAULT_GLOBAL_CHANGE;
  s->compensate_brightness = DEFAULT_COMPENSATE_BRIGHTNESS;
  s->absorb_time = DEFAULT_ABSORB_TIME;
  s->start_frames = DEFAULT_START_FRAMES;
  s->quiet_time = DEFAULT_QUIET_TIME;
  s->analyse_interval = DEFAULT_ANALYSE_INTERVAL;
  s->gate = DEFAULT_GATE;
  s->preroll_frames = DEFAULT_PREROLL_FRAMES;
  s->max_rate = DEFAULT_MAX_RATE;
  s->gaps = DEFAULT_GAPS;
  s->messages = DEFAULT_MESSAGES;

  gst_base_transform_set_in_place (GST_BASE_TRANSFORM (self), TRUE);
  gst_base_transform_set_passthrough (GST_BASE_TRANSFORM (self), FALSE);
}
