/* edgefaas-makeclip: make a test/demo clip on the spot from images on the machine.
 *
 *   edgefaas-makeclip --out clip.mkv [--truth truth.json] [--fps 10] [--width 640 --height 360]
 *       (--schedule quiet:5,dog:3,quiet:6,person:3 | --duration 60 --motion-fraction 0.3)
 *       [--images /usr/share/darknet/data]
 *
 * A still synthetic background (sky, ground, two buildings) with quiet stretches; in a
 * motion stretch one photo (darknet's dog.jpg, person.jpg, horses.jpg) slides across the
 * frame, then disappears. Written as MJPEG in Matroska (plugins-good only). The ground
 * truth (intervals in seconds and frames, the COCO label expected in each) goes to
 * --truth as JSON. Nothing binary is committed: the clip is always made here.
 *
 *   edgefaas-makeclip --scenario NAME --out clip.mkv [--truth truth.json] [--duration S]
 *       [--seed N] [--fps 10] [--width 640 --height 360] [--images DIR]
 *   edgefaas-makeclip --list-scenarios
 *
 * Scenario clips (for tracking and situation scoring): objects cut from darknet's sample
 * photos (the car of dog.jpg, the person of person.jpg and of kite.jpg) move along
 * keyframed paths over the same background, with sensor noise. NAME is one of
 * collision, passing, parked, zone-intrusion, zone-pass, line-crossing, crowd, person-down,
 * person-stumble, quiet, crossing, crossing-3 (--list-scenarios prints what each shows). The truth JSON holds,
 * per frame, the box and identity of every object (for tracker scoring), the zones and
 * lines the scenario means (pixels), the events measured on the rendered geometry (zone
 * entries, line crossings, stationary intervals, pair overlaps) and the situations the
 * scenario is built to raise with their start times (empty for a negative). See
 * docs/scenarios.md for the schema. The same options give the same frames and truth (fixed
 * noise seed, --seed); only the Matroska header date differs.
 */
#include <math.h>
#include <string.h>

#include <gst/app/gstappsink.h>
#include <gst/app/gstappsrc.h>
#include <gst/video/video.h>
#include <gst/gst.h>
#include <json-glib/json-glib.h>

typedef struct {
  const gchar *name;    /* schedule word */
  const gchar *file;    /* image file */
  const gchar *label;   /* COCO label expected */
} Subject;

static const Subject subjects[] = {
  {"dog", "dog.jpg", "dog"},
  {"person", "person.jpg", "person"},
  {"horses", "horses.jpg", "horse"},
};

typedef struct {
  const Subject *subject;    /* NULL = quiet */
  gdouble seconds;
  guint start_frame, end_frame;  /* [start, end) */
} Segment;

typedef struct {
  guint8 *rgb;
  gint w, h;
} Image;

static gboolean
load_image (const gchar * path, gint w, gint h, Image * img, GError ** error)
{
  /* w, h <= 0: the image's own size */
  gchar *size = w > 0 ? g_strdup_printf (",width=%d,height=%d,pixel-aspect-ratio=1/1", w, h)
      : g_strdup ("");
  gchar *desc = g_strdup_printf ("filesrc location=\"%s\" ! decodebin ! videoconvert ! "
      "videoscale ! video/x-raw,format=RGB%s ! appsink name=out sync=false", path, size);
  g_free (size);
  GstElement *p = gst_parse_launch (desc, error);
  g_free (desc);
  if (!p)
    return FALSE;
  GstElement *sink = gst_bin_get_by_name (GST_BIN (p), "out");
  gst_element_set_state (p, GST_STATE_PLAYING);
  GstSample *s = gst_app_sink_try_pull_sample (GST_APP_SINK (sink), 20 * GST_SECOND);
  gboolean ok = FALSE;
  if (s) {
    GstVideoInfo vi;
    gst_video_info_from_caps (&vi, gst_sample_get_caps (s));
    GstVideoFrame f;
    w = GST_VIDEO_INFO_WIDTH (&vi);
    h = GST_VIDEO_INFO_HEIGHT (&vi);
    if (gst_video_frame_map (&f, &vi, gst_sample_get_buffer (s), GST_MAP_READ)) {
      img->w = w;
      img->h = h;
      img->rgb = g_malloc (w * h * 3);
      for (gint y = 0; y < h; y++)
        memcpy (img->rgb + y * w * 3, (guint8 *) GST_VIDEO_FRAME_PLANE_DATA (&f, 0)
            + y * GST_VIDEO_FRAME_PLANE_STRIDE (&f, 0), w * 3);
      gst_video_frame_unmap (&f);
      ok = TRUE;
    }
    gst_sample_unref (s);
  } else {
    g_set_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_READ, "cannot decode %s", path);
  }
  gst_element_set_state (p, GST_STATE_NULL);
  gst_object_unref (sink);
  gst_object_unref (p);
  return ok;
}

static void
draw_background (guint8 * rgb, gint w, gint h)
{
  for (gint y = 0; y < h; y++) {
    for (gint x = 0; x < w; x++) {
      guint8 *p = rgb + (y * w + x) * 3;
      if (y < h * 0.55) {       /* sky gradient */
        p[0] = 110 + 60 * y / h;
        p[1] = 150 + 50 * y / h;
        p[2] = 200;
      } else {                  /* ground */
        p[0] = 90;
        p[1] = 100 + 20 * (y - h * 0.55) / h;
        p[2] = 70;
      }
      /* two buildings */
      if ((x > w * 0.05 && x < w * 0.2 && y > h * 0.2 && y < h * 0.55)
          || (x > w * 0.75 && x < w * 0.92 && y > h * 0.3 && y < h * 0.55)) {
        p[0] = 120;
        p[1] = 110;
        p[2] = 105;
        if (((x / 12) % 2) && ((y / 16) % 2))
          p[0] = p[1] = p[2] = 60;  /* windows */
      }
    }
  }
}

static void
blit (guint8 * dst, gint w, gint h, const Image * img, gint x0, gint y0)
{
  for (gint y = 0; y < img->h; y++) {
    gint dy = y0 + y;
    if (dy < 0 || dy >= h)
      continue;
    for (gint x = 0; x < img->w; x++) {
      gint dx = x0 + x;
      if (dx < 0 || dx >= w)
        continue;
      memcpy (dst + (dy * w + dx) * 3, img->rgb + (y * img->w + x) * 3, 3);
    }
  }
}

static gchar *opt_out, *opt_truth, *opt_schedule, *opt_images, *opt_scenario;
static gboolean opt_list;
static gint opt_seed = 1;
static gint opt_fps = 10, opt_w = 640, opt_h = 360;
static gdouble opt_duration = 0, opt_fraction = -1, opt_burst = 3;

static GOptionEntry entries[] = {
  {"out", 'o', 0, G_OPTION_ARG_FILENAME, &opt_out, "Output .mkv file", "FILE"},
  {"truth", 't', 0, G_OPTION_ARG_FILENAME, &opt_truth, "Ground truth JSON file", "FILE"},
  {"schedule", 's', 0, G_OPTION_ARG_STRING, &opt_schedule,
      "Segments NAME:SECONDS, NAME = quiet, dog, person or horses", "LIST"},
  {"duration", 'd', 0, G_OPTION_ARG_DOUBLE, &opt_duration, "Clip length (with --motion-fraction)",
      "S"},
  {"motion-fraction", 'm', 0, G_OPTION_ARG_DOUBLE, &opt_fraction,
      "Fraction of the time with motion, in bursts of --burst seconds", "F"},
  {"burst", 0, 0, G_OPTION_ARG_DOUBLE, &opt_burst, "Motion burst length (default 3 s)", "S"},
  {"fps", 0, 0, G_OPTION_ARG_INT, &opt_fps, "Frame rate (default 10)", "N"},
  {"width", 0, 0, G_OPTION_ARG_INT, &opt_w, "Width (default 640)", "PX"},
  {"height", 0, 0, G_OPTION_ARG_INT, &opt_h, "Height (default 360)", "PX"},
  {"scenario", 0, 0, G_OPTION_ARG_STRING, &opt_scenario,
      "Make a scenario clip (collision, passing, parked, zone-intrusion, zone-pass, "
      "line-crossing, crowd, person-down, person-stumble, quiet, crossing, crossing-3); "
      "--duration overrides its length",
      "NAME"},
  {"list-scenarios", 0, 0, G_OPTION_ARG_NONE, &opt_list, "List the scenarios and exit", NULL},
  {"seed", 0, 0, G_OPTION_ARG_INT, &opt_seed, "Noise seed for scenario clips (default 1)", "N"},
  {"images", 0, 0, G_OPTION_ARG_FILENAME, &opt_images,
      "Directory with dog.jpg, person.jpg, horses.jpg (default /usr/share/darknet/data)", "DIR"},
  {NULL}
};

static GArray *
parse_schedule (const gchar * s, GError ** error)
{
  GArray *segs = g_array_new (FALSE, TRUE, sizeof (Segment));
  gchar **parts = g_strsplit (s, ",", -1);
  for (guint i = 0; parts[i]; i++) {
    gchar **kv = g_strsplit (g_strstrip (parts[i]), ":", 2);
    Segment seg = { 0 };
    gboolean known = g_str_equal (kv[0], "quiet");
    for (guint j = 0; j < G_N_ELEMENTS (subjects); j++)
      if (g_str_equal (kv[0], subjects[j].name)) {
        seg.subject = &subjects[j];
        known = TRUE;
      }
    seg.seconds = kv[1] ? g_ascii_strtod (kv[1], NULL) : 0;
    if (!known || seg.seconds <= 0) {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
          "bad schedule item '%s' (NAME:SECONDS, NAME = quiet, dog, person, horses)", parts[i]);
      g_strfreev (kv);
      g_strfreev (parts);
      g_array_unref (segs);
      return NULL;
    }
    g_array_append_val (segs, seg);
    g_strfreev (kv);
  }
  g_strfreev (parts);
  return segs;
}

/* Evenly spread bursts: n bursts of opt_burst s, quiet in between, quiet at both ends. */
static gchar *
schedule_for_fraction (gdouble duration, gdouble fraction, gdouble burst)
{
  guint n = MAX (1, (guint) round (duration * fraction / burst));
  gdouble motion = n * burst;
  gdouble quiet = (duration - motion) / (n + 1);
  GString *s = g_string_new (NULL);
  for (guint i = 0; i < n; i++)
    g_string_append_printf (s, "%squiet:%.3f,%s:%.3f", i ? "," : "", quiet,
        subjects[i % G_N_ELEMENTS (subjects)].name, burst);
  g_string_append_printf (s, ",quiet:%.3f", quiet);
  return g_string_free (s, FALSE);
}

/* ---------------------------------------------------------------------------------------
 * Scenario clips
 * ------------------------------------------------------------------------------------- */

/* An object cut from a sample photo. The object box is where Yolo-Fastest-XL finds the
 * object in the photo (threshold 0.25, full image); the crop adds a margin around it. */
typedef struct {
  const gchar *name;
  const gchar *file;
  gint x0, y0, x1, y1;          /* object box in the photo, px */
  gdouble margin;               /* crop margin, fraction of the object size */
  const gchar *klass;           /* truth class */
  const gchar *labels;          /* COCO labels that count as this class */
} SpriteDef;

enum { SPRITE_CAR, SPRITE_PERSON, SPRITE_PERSON2, SPRITE_PERSON_TIGHT, N_SPRITES };

static const SpriteDef sprite_defs[N_SPRITES] = {
  {"car", "dog.jpg", 447, 79, 685, 161, 0.04, "vehicle", "car,truck,bus"},
  {"person", "person.jpg", 186, 102, 272, 362, 0.04, "person", "person"},
  {"person2", "kite.jpg", 222, 691, 274, 861, 0.06, "person", "person"},
  /* the person of person.jpg without margin: turned over with the sand around it, it
   * looks like a kite to Yolo-Fastest-XL (docs/scenarios.md) */
  {"person-tight", "person.jpg", 186, 102, 272, 362, 0, "person", "person"},
};

#define MAX_KEYS 6
#define MAX_ACTORS 8

typedef struct {
  gdouble t, x, y;              /* foot point (bottom centre of the object box), fractions */
} Key;

typedef struct {
  guint sprite;
  gdouble height;               /* object box height, fraction of the frame height */
  gboolean mirror;
  Key keys[MAX_KEYS];           /* visible from keys[0].t to the last key's t */
  gdouble fall_t;               /* > 0: falls over (FALL_S) starting then, lies on */
  gdouble rise_t;               /* > 0: gets up again (FALL_S) starting then */
} ActorDef;

/* A fall (and getting up) turns the object 90 degrees about its centre in this time;
 * the box keeps its bottom centre on the foot point. */
#define FALL_S 0.8
/* situationdetect's person-down thresholds (pixels): upright h/w >= 1.3, lying w/h >= 1.2 */
#define LYING_RATIO 1.2

typedef struct {
  const gchar *name;
  gdouble pts[6][2];            /* polygon (zones) or 2 points (lines), fractions */
} ShapeDef;

typedef enum {
  EXPECT_NONE,
  EXPECT_COLLISION,             /* objects a, b overlap and both stay stationary */
  EXPECT_ZONE_DWELL,            /* object a's foot point inside zone 0 */
  EXPECT_LINE_CROSSING,         /* every crossing of line 0 by any object */
  EXPECT_CROWDING,              /* at least n objects' foot points inside zone 0 */
  EXPECT_PERSON_DOWN,           /* object a's box lying (w/h >= LYING_RATIO) after a fall */
} ExpectKind;

typedef struct {
  ExpectKind kind;
  guint a, b, n;                /* object ids (1-based) / count */
} ExpectDef;

typedef struct {
  const gchar *name;
  const gchar *description;
  gboolean positive;
  gdouble duration;
  gdouble noise;                /* sensor noise amplitude (luma levels) */
  gboolean lighting;            /* slow brightness drift and exposure jumps */
  ActorDef actors[MAX_ACTORS];
  ShapeDef zone;                /* name NULL = none */
  ShapeDef line;
  ExpectDef expect;
} ScenarioDef;

#define K(t,x,y) {t, x, y}
#define END {-1, 0, 0}

static const ScenarioDef scenarios[] = {
  {"collision", "two cars drive towards each other, collide (boxes overlap) at 7 s and "
        "both stay stopped", TRUE, 24, 3, FALSE,
      {{SPRITE_CAR, 0.16, FALSE, {K (1, -0.1, 0.78), K (7, 0.45, 0.78), K (24, 0.45, 0.78), END}},
        {SPRITE_CAR, 0.16, TRUE, {K (1, 1.1, 0.86), K (7, 0.58, 0.86), K (24, 0.58, 0.86), END}},
        {0}}, {NULL}, {NULL}, {EXPECT_COLLISION, 1, 2, 0}},
  {"passing", "two cars pass each other in two lanes (boxes overlap as much as in "
        "collision) and drive on: no collision", FALSE, 16, 3, FALSE,
      {{SPRITE_CAR, 0.16, FALSE, {K (1, -0.15, 0.76), K (13, 1.15, 0.76), END}},
        {SPRITE_CAR, 0.16, TRUE, {K (1, 1.15, 0.88), K (13, -0.15, 0.88), END}},
        {0}}, {NULL}, {NULL}, {EXPECT_NONE}},
  {"parked", "one parked car for the whole clip (Yolo-Fastest-XL sees car and truck on "
        "it): no collision", FALSE, 30, 3, FALSE,
      {{SPRITE_CAR, 0.18, FALSE, {K (0, 0.5, 0.8), K (30, 0.5, 0.8), END}}, {0}},
      {NULL}, {NULL}, {EXPECT_NONE}},
  {"zone-intrusion", "a person walks into zone 'danger' and stays there", TRUE, 30, 3, FALSE,
      {{SPRITE_PERSON, 0.40, FALSE, {K (1, -0.05, 0.85), K (9, 0.72, 0.82), K (30, 0.72, 0.82),
                  END}}, {0}},
      {"danger", {{0.58, 0.66}, {0.92, 0.66}, {0.98, 0.96}, {0.52, 0.96}, {-1, -1}}}, {NULL},
      {EXPECT_ZONE_DWELL, 1, 0, 0}},
  {"zone-pass", "a person walks past in front of zone 'danger' (the box overlaps the zone, "
        "the foot point never enters it): no intrusion", FALSE, 20, 3, FALSE,
      {{SPRITE_PERSON, 0.40, FALSE, {K (1, -0.05, 0.99), K (15, 1.05, 0.99), END}}, {0}},
      {"danger", {{0.58, 0.66}, {0.92, 0.66}, {0.98, 0.96}, {0.52, 0.96}, {-1, -1}}}, {NULL},
      {EXPECT_NONE}},
  {"line-crossing", "line 'gate': one person crosses it left to right, later another "
        "right to left", TRUE, 24, 3, FALSE,
      {{SPRITE_PERSON, 0.40, FALSE, {K (1, -0.05, 0.80), K (10, 1.05, 0.80), END}},
        {SPRITE_PERSON2, 0.38, TRUE, {K (12, 1.05, 0.90), K (21, -0.05, 0.90), END}},
        {0}}, {NULL}, {"gate", {{0.5, 0.58}, {0.5, 1.0}, {-1, -1}}},
      {EXPECT_LINE_CROSSING}},
  {"crowd", "six people arrive one by one (every 4 s) in zone 'plaza' and stay: crowding "
        "at 5 or more", TRUE, 40, 3, FALSE,
      {{SPRITE_PERSON, 0.36, FALSE, {K (1, -0.05, 0.75), K (4, 0.22, 0.75), K (40, 0.22, 0.75),
                  END}},
        {SPRITE_PERSON2, 0.34, TRUE, {K (5, 1.05, 0.90), K (8, 0.80, 0.90), K (40, 0.80, 0.90),
                  END}},
        {SPRITE_PERSON, 0.36, TRUE, {K (9, 1.05, 0.76), K (13, 0.70, 0.76), K (40, 0.70, 0.76),
                  END}},
        {SPRITE_PERSON2, 0.34, FALSE, {K (13, -0.05, 0.91), K (17, 0.34, 0.91),
                  K (40, 0.34, 0.91), END}},
        {SPRITE_PERSON, 0.36, FALSE, {K (17, -0.05, 0.77), K (22, 0.46, 0.77),
                  K (40, 0.46, 0.77), END}},
        {SPRITE_PERSON2, 0.34, TRUE, {K (21, 1.05, 0.92), K (26, 0.58, 0.92),
                  K (40, 0.58, 0.92), END}},
        {0}},
      {"plaza", {{0.12, 0.62}, {0.88, 0.62}, {0.88, 0.98}, {0.12, 0.98}, {-1, -1}}}, {NULL},
      {EXPECT_CROWDING, 0, 0, 5}},
  {"person-down", "a person walks in upright, falls over at 8 s and stays lying", TRUE, 24,
        3, FALSE,
      {{SPRITE_PERSON_TIGHT, 0.40, FALSE, {K (1, -0.05, 0.80), K (7, 0.45, 0.80), K (24, 0.45, 0.80),
                  END}, 8.0, 0}, {0}}, {NULL}, {NULL}, {EXPECT_PERSON_DOWN, 1, 0, 0}},
  {"person-stumble", "a person walks in upright, falls over at 8 s and gets up after 2 s "
        "(shorter than person_down's 4 s): no person down", FALSE, 20, 3, FALSE,
      {{SPRITE_PERSON_TIGHT, 0.40, FALSE, {K (1, -0.05, 0.80), K (7, 0.45, 0.80), K (20, 0.45, 0.80),
                  END}, 8.0, 10.0}, {0}}, {NULL}, {NULL}, {EXPECT_NONE}},
  {"quiet", "no objects: sensor noise, slow lighting drift, an exposure jump every 30 s",
        FALSE, 120, 8, TRUE, {{0}}, {NULL}, {NULL}, {EXPECT_NONE}},
  {"crossing", "two people cross paths in an X, one hides the other for a moment (tracker "
        "scoring)", FALSE, 16, 3, FALSE,
      {{SPRITE_PERSON, 0.42, FALSE, {K (1, -0.05, 0.70), K (13, 1.05, 0.92), END}},
        {SPRITE_PERSON2, 0.38, TRUE, {K (1, 1.05, 0.72), K (13, -0.05, 0.90), END}},
        {0}}, {NULL}, {NULL}, {EXPECT_NONE}},
  {"crossing-3", "three people on crossing paths at different speeds, one overtakes "
        "(tracker scoring)", FALSE, 20, 3, FALSE,
      {{SPRITE_PERSON, 0.42, FALSE, {K (1, -0.05, 0.74), K (11, 1.05, 0.86), END}},
        {SPRITE_PERSON2, 0.38, TRUE, {K (2, 1.05, 0.76), K (14, -0.05, 0.84), END}},
        {SPRITE_PERSON, 0.36, TRUE, {K (0, 0.30, 0.80), K (19, 1.05, 0.80), END}},
        {0}}, {NULL}, {NULL}, {EXPECT_NONE}},
};

#undef K
#undef END

static guint
actor_count (const ScenarioDef * sc)
{
  guint n = 0;
  while (n < MAX_ACTORS && sc->actors[n].height > 0)
    n++;
  return n;
}

static guint
key_count (const ActorDef * a)
{
  guint n = 0;
  while (n < MAX_KEYS && a->keys[n].t >= 0)
    n++;
  return n;
}

static guint
shape_count (const ShapeDef * s)
{
  guint n = 0;
  if (!s->name)
    return 0;
  while (n < 6 && s->pts[n][0] >= 0)
    n++;
  return n;
}

/* Foot point at time t (fractions); FALSE when the actor is not in the scene. Also says
 * whether it stands still (both neighbouring keys equal). */
static gboolean
actor_at (const ActorDef * a, gdouble t, gdouble * x, gdouble * y, gboolean * still)
{
  guint n = key_count (a);
  if (n < 2 || t < a->keys[0].t || t > a->keys[n - 1].t)
    return FALSE;
  for (guint i = 0; i + 1 < n; i++) {
    const Key *k0 = &a->keys[i], *k1 = &a->keys[i + 1];
    /* at a key's own time the segment that starts there applies (stopped at 7 s = still at 7 s) */
    if (t < k1->t || i + 2 == n) {
      gdouble f = k1->t > k0->t ? (t - k0->t) / (k1->t - k0->t) : 0;
      *x = k0->x + f * (k1->x - k0->x);
      *y = k0->y + f * (k1->y - k0->y);
      *still = k0->x == k1->x && k0->y == k1->y;
      return TRUE;
    }
  }
  return FALSE;
}

/* How far the actor has turned over at time t: 0 upright, G_PI / 2 lying. */
static gdouble
actor_angle (const ActorDef * a, gdouble t)
{
  gdouble down = a->fall_t > 0 ? CLAMP ((t - a->fall_t) / FALL_S, 0, 1) : 0;
  if (a->rise_t > 0)
    down = MIN (down, 1 - CLAMP ((t - a->rise_t) / FALL_S, 0, 1));
  return down * G_PI / 2;
}

/* A sprite scaled to one actor's size: the crop with its margin, and the object box
 * inside it. */
typedef struct {
  Image img;
  gint ox, oy, ow, oh;          /* object box inside img */
} Sprite;

static void
scale_crop (const Image * src, gint cx, gint cy, gint cw, gint ch, gboolean mirror, Image * dst)
{
  dst->rgb = g_malloc (dst->w * dst->h * 3);
  for (gint y = 0; y < dst->h; y++) {
    gdouble sy = cy + (y + 0.5) * ch / dst->h - 0.5;
    gint y0 = CLAMP ((gint) floor (sy), 0, src->h - 1), y1 = MIN (y0 + 1, src->h - 1);
    gdouble fy = CLAMP (sy - y0, 0, 1);
    for (gint x = 0; x < dst->w; x++) {
      gint xx = mirror ? dst->w - 1 - x : x;
      gdouble sx = cx + (xx + 0.5) * cw / dst->w - 0.5;
      gint x0 = CLAMP ((gint) floor (sx), 0, src->w - 1), x1 = MIN (x0 + 1, src->w - 1);
      gdouble fx = CLAMP (sx - x0, 0, 1);
      for (gint c = 0; c < 3; c++) {
        gdouble v = (1 - fy) * ((1 - fx) * src->rgb[(y0 * src->w + x0) * 3 + c]
            + fx * src->rgb[(y0 * src->w + x1) * 3 + c])
            + fy * ((1 - fx) * src->rgb[(y1 * src->w + x0) * 3 + c]
            + fx * src->rgb[(y1 * src->w + x1) * 3 + c]);
        dst->rgb[(y * dst->w + x) * 3 + c] = (guint8) CLAMP (v + 0.5, 0, 255);
      }
    }
  }
}

static void
make_sprite (const Image * photo, const SpriteDef * d, gint height_px, gboolean mirror,
    Sprite * s)
{
  gint ow = d->x1 - d->x0, oh = d->y1 - d->y0;
  gint mx = (gint) (ow * d->margin + 0.5), my = (gint) (oh * d->margin + 0.5);
  gint cx0 = MAX (0, d->x0 - mx), cy0 = MAX (0, d->y0 - my);
  gint cx1 = MIN (photo->w, d->x1 + mx), cy1 = MIN (photo->h, d->y1 + my);
  gdouble scale = (gdouble) height_px / oh;
  s->img.w = MAX (1, (gint) ((cx1 - cx0) * scale + 0.5));
  s->img.h = MAX (1, (gint) ((cy1 - cy0) * scale + 0.5));
  scale_crop (photo, cx0, cy0, cx1 - cx0, cy1 - cy0, mirror, &s->img);
  s->ow = (gint) (ow * scale + 0.5);
  s->oh = height_px;
  s->ox = (gint) ((d->x0 - cx0) * scale + 0.5);
  if (mirror)
    s->ox = s->img.w - s->ox - s->ow;
  s->oy = (gint) ((d->y0 - cy0) * scale + 0.5);
}

/* Where an actor is in one frame, in pixels. */
typedef struct {
  guint id;                     /* 1-based */
  gboolean present;
  gboolean still;
  gdouble fx, fy;               /* foot point */
  gint bx, by, bw, bh;          /* object box, unclipped */
  gint sx, sy, sw, sh;          /* sprite extent on the frame (rotated: its bounding box) */
  gdouble angle;                /* turned over by this much (clockwise on the image) */
} Placed;

static gboolean
point_in_polygon (gdouble x, gdouble y, const gdouble (*p)[2], guint n)
{
  gboolean in = FALSE;
  for (guint i = 0, j = n - 1; i < n; j = i++)
    if ((p[i][1] > y) != (p[j][1] > y)
        && x < (p[j][0] - p[i][0]) * (y - p[i][1]) / (p[j][1] - p[i][1]) + p[i][0])
      in = !in;
  return in;
}

static gdouble
box_iou (const Placed * a, const Placed * b)
{
  gint ix = MAX (0, MIN (a->bx + a->bw, b->bx + b->bw) - MAX (a->bx, b->bx));
  gint iy = MAX (0, MIN (a->by + a->bh, b->by + b->bh) - MAX (a->by, b->by));
  gdouble inter = (gdouble) ix * iy;
  gdouble uni = (gdouble) a->bw * a->bh + (gdouble) b->bw * b->bh - inter;
  return uni > 0 ? inter / uni : 0;
}

static guint32
xorshift (guint32 * s)
{
  guint32 x = *s;
  x ^= x << 13;
  x ^= x >> 17;
  x ^= x << 5;
  return *s = x;
}

/* Sensor noise (same on the three channels, so it is luma noise) and the lighting changes. */
static void
add_noise (guint8 * rgb, gint w, gint h, gdouble amp, gdouble gain, guint32 * seed)
{
  for (gint i = 0; i < w * h; i++) {
    guint32 r = xorshift (seed);
    /* triangular distribution in [-amp, amp] from two bytes */
    gdouble n = amp * (((gint) (r & 0xff) + (gint) ((r >> 8) & 0xff)) / 255.0 - 1.0);
    for (gint c = 0; c < 3; c++) {
      gdouble v = rgb[i * 3 + c] * gain + n;
      rgb[i * 3 + c] = (guint8) CLAMP (v + 0.5, 0, 255);
    }
  }
}

static gdouble
lighting_gain (gdouble t)
{
  gdouble g = 1.0 + 0.08 * sin (2 * G_PI * t / 90.0);   /* clouds */
  if (fmod (t, 30.0) >= 29.0)   /* auto-exposure jump for one second every 30 s */
    g *= 1.2;
  return g;
}

typedef struct {
  const ScenarioDef *def;
  guint n_actors;
  gint w, h, fps;
  guint frames;
  Sprite sprites[MAX_ACTORS];
  Placed *placed;               /* frames × n_actors */
  gdouble zone[6][2], line[2][2];       /* pixels */
  guint zone_n;
  gboolean has_line;
} Scene;

static Placed *
scene_at (Scene * s, guint frame, guint actor)
{
  return &s->placed[frame * s->n_actors + actor];
}

/* Side of the directed line p0→p1 a point is on: TRUE on the right-hand side of someone
 * walking from p0 to p1 on the image (y down), i.e. cross (p1 - p0, q - p0) >= 0; a point
 * exactly on the line counts as right, so a crossing is counted once. */
static gboolean
line_side (const gdouble (*p)[2], gdouble x, gdouble y)
{
  return (p[1][0] - p[0][0]) * (y - p[0][1]) - (p[1][1] - p[0][1]) * (x - p[0][0]) >= 0;
}

/* Actor i's foot point changes side between frame f-1 and f within the line's span. */
static gboolean
crossing_at (Scene * s, guint i, guint f, gboolean * positive)
{
  Placed *p0 = scene_at (s, f - 1, i), *p1 = scene_at (s, f, i);
  gdouble ymin = MIN (s->line[0][1], s->line[1][1]), ymax = MAX (s->line[0][1], s->line[1][1]);
  gdouble xmin = MIN (s->line[0][0], s->line[1][0]), xmax = MAX (s->line[0][0], s->line[1][0]);
  if (!p0->present || !p1->present)
    return FALSE;
  if (line_side (s->line, p0->fx, p0->fy) == line_side (s->line, p1->fx, p1->fy))
    return FALSE;
  /* within the segment's extent, not its infinite extension */
  if ((ymax - ymin >= xmax - xmin) ? (p1->fy < ymin || p1->fy > ymax)
      : (p1->fx < xmin || p1->fx > xmax))
    return FALSE;
  *positive = line_side (s->line, p1->fx, p1->fy);
  return TRUE;
}

/* The object turned by p->angle about its centre, standing on the foot point: its box
 * is the bounding box of the turned object box, the sprite's extent that of the turned
 * sprite. */
static void
place_turned (Placed * p, const Sprite * sp)
{
  gdouble c = fabs (cos (p->angle)), sn = fabs (sin (p->angle));
  gdouble bw = sp->ow * c + sp->oh * sn, bh = sp->ow * sn + sp->oh * c;
  gdouble cx = p->fx, cy = p->fy - bh / 2;
  gdouble scx = sp->ox + sp->ow / 2.0, scy = sp->oy + sp->oh / 2.0;
  gdouble hw = (sp->img.w / 2.0) * c + (sp->img.h / 2.0) * sn;
  gdouble hh = (sp->img.w / 2.0) * sn + (sp->img.h / 2.0) * c;
  /* the sprite's centre is not the object's: move it with the rotation */
  gdouble dx = sp->img.w / 2.0 - scx, dy = sp->img.h / 2.0 - scy;
  gdouble ca = cos (p->angle), sa = sin (p->angle);
  gdouble mx = cx + dx * ca - dy * sa, my = cy + dx * sa + dy * ca;
  p->bw = (gint) (bw + 0.5);
  p->bh = (gint) (bh + 0.5);
  p->bx = (gint) floor (cx - bw / 2 + 0.5);
  p->by = (gint) floor (p->fy - bh + 0.5);
  p->sx = (gint) floor (mx - hw);
  p->sy = (gint) floor (my - hh);
  p->sw = (gint) ceil (mx + hw) - p->sx;
  p->sh = (gint) ceil (my + hh) - p->sy;
}

/* The sprite turned by p->angle (clockwise) drawn over its extent p->sx.. (bilinear;
 * pixels that map outside the sprite are left as they are). */
static void
blit_turned (guint8 * dst, gint w, gint h, const Sprite * sp, const Placed * p)
{
  const Image *img = &sp->img;
  gdouble ca = cos (p->angle), sa = sin (p->angle);
  gdouble bh = sp->ow * fabs (sa) + sp->oh * fabs (ca);
  gdouble cx = p->fx, cy = p->fy - bh / 2;      /* object centre on the frame */
  gdouble scx = sp->ox + sp->ow / 2.0, scy = sp->oy + sp->oh / 2.0;
  for (gint dy = MAX (0, p->sy); dy < MIN (h, p->sy + p->sh); dy++)
    for (gint dx = MAX (0, p->sx); dx < MIN (w, p->sx + p->sw); dx++) {
      gdouble rx = dx + 0.5 - cx, ry = dy + 0.5 - cy;
      /* inverse rotation back into the sprite */
      gdouble sx = scx + rx * ca + ry * sa - 0.5, sy = scy - rx * sa + ry * ca - 0.5;
      if (sx < 0 || sy < 0 || sx > img->w - 1 || sy > img->h - 1)
        continue;
      gint x0 = (gint) sx, y0 = (gint) sy;
      gint x1 = MIN (x0 + 1, img->w - 1), y1 = MIN (y0 + 1, img->h - 1);
      gdouble fx = sx - x0, fy = sy - y0;
      for (gint c = 0; c < 3; c++) {
        gdouble v = (1 - fy) * ((1 - fx) * img->rgb[(y0 * img->w + x0) * 3 + c]
            + fx * img->rgb[(y0 * img->w + x1) * 3 + c])
            + fy * ((1 - fx) * img->rgb[(y1 * img->w + x0) * 3 + c]
            + fx * img->rgb[(y1 * img->w + x1) * 3 + c]);
        dst[(dy * w + dx) * 3 + c] = (guint8) CLAMP (v + 0.5, 0, 255);
      }
    }
}

static void
scene_layout (Scene * s)
{
  s->placed = g_new0 (Placed, (gsize) s->frames * MAX (1, s->n_actors));
  for (guint f = 0; f < s->frames; f++) {
    gdouble t = (gdouble) f / s->fps;
    for (guint i = 0; i < s->n_actors; i++) {
      Placed *p = scene_at (s, f, i);
      const Sprite *sp = &s->sprites[i];
      gdouble x, y;
      p->id = i + 1;
      p->present = actor_at (&s->def->actors[i], t, &x, &y, &p->still);
      if (!p->present)
        continue;
      p->fx = x * s->w;
      p->fy = y * s->h;
      p->angle = actor_angle (&s->def->actors[i], t);
      if (s->def->actors[i].mirror)
        p->angle = -p->angle;   /* falls the way it walks */
      if (p->angle != 0) {
        place_turned (p, sp);
        continue;
      }
      p->bw = sp->ow;
      p->bh = sp->oh;
      p->bx = (gint) floor (p->fx - sp->ow / 2.0 + 0.5);
      p->by = (gint) floor (p->fy - sp->oh + 0.5);
      p->sx = p->bx - sp->ox;
      p->sy = p->by - sp->oy;
      p->sw = sp->img.w;
      p->sh = sp->img.h;
    }
  }
  for (guint k = 0; k < shape_count (&s->def->zone); k++) {
    s->zone[k][0] = s->def->zone.pts[k][0] * s->w;
    s->zone[k][1] = s->def->zone.pts[k][1] * s->h;
  }
  s->zone_n = shape_count (&s->def->zone);
  s->has_line = shape_count (&s->def->line) == 2;
  for (guint k = 0; s->has_line && k < 2; k++) {
    s->line[k][0] = s->def->line.pts[k][0] * s->w;
    s->line[k][1] = s->def->line.pts[k][1] * s->h;
  }
}

/* Drawing order: farther (smaller foot y) first, then by id. */
static void
draw_order (Scene * s, guint frame, guint * order)
{
  for (guint i = 0; i < s->n_actors; i++)
    order[i] = i;
  for (guint i = 1; i < s->n_actors; i++)
    for (guint j = i; j > 0; j--) {
      Placed *a = scene_at (s, frame, order[j - 1]), *b = scene_at (s, frame, order[j]);
      if (a->fy > b->fy) {
        guint tmp = order[j];
        order[j] = order[j - 1];
        order[j - 1] = tmp;
      }
    }
}

/* Fraction of the object box (clipped to the frame) neither outside the frame nor
 * covered by a sprite drawn after it; sampled on a 16×16 grid. */
static gdouble
visibility (Scene * s, guint frame, const guint * order, guint pos, gdouble * in_frame)
{
  const Placed *p = scene_at (s, frame, order[pos]);
  guint seen = 0, inside = 0;
  for (gint gy = 0; gy < 16; gy++)
    for (gint gx = 0; gx < 16; gx++) {
      gdouble x = p->bx + (gx + 0.5) * p->bw / 16.0, y = p->by + (gy + 0.5) * p->bh / 16.0;
      if (x < 0 || y < 0 || x >= s->w || y >= s->h)
        continue;
      inside++;
      gboolean covered = FALSE;
      for (guint q = pos + 1; q < s->n_actors && !covered; q++) {
        const Placed *o = scene_at (s, frame, order[q]);
        covered = o->present && x >= o->sx && x < o->sx + o->sw && y >= o->sy
            && y < o->sy + o->sh;
      }
      seen += !covered;
    }
  *in_frame = inside / 256.0;
  return inside ? (gdouble) seen / 256.0 : 0;
}

static void
json_point_array (JsonBuilder * b, const gdouble (*p)[2], guint n)
{
  json_builder_begin_array (b);
  for (guint i = 0; i < n; i++) {
    json_builder_begin_array (b);
    json_builder_add_double_value (b, round (p[i][0] * 10) / 10);
    json_builder_add_double_value (b, round (p[i][1] * 10) / 10);
    json_builder_end_array (b);
  }
  json_builder_end_array (b);
}

static void
json_member_double (JsonBuilder * b, const gchar * name, gdouble v)
{
  json_builder_set_member_name (b, name);
  json_builder_add_double_value (b, round (v * 1000) / 1000);
}

static void
json_member_int (JsonBuilder * b, const gchar * name, gint64 v)
{
  json_builder_set_member_name (b, name);
  json_builder_add_int_value (b, v);
}

static void
json_member_string (JsonBuilder * b, const gchar * name, const gchar * v)
{
  json_builder_set_member_name (b, name);
  json_builder_add_string_value (b, v);
}

/* Frames during which the foot point of actor i is inside the zone: first entry and
 * how long it stays (continuously). Returns FALSE if it never enters. */
static gboolean
zone_entry (Scene * s, guint i, guint * enter, guint * leave)
{
  gboolean was = FALSE;
  for (guint f = 0; f < s->frames; f++) {
    Placed *p = scene_at (s, f, i);
    gboolean in = p->present && point_in_polygon (p->fx, p->fy, s->zone, s->zone_n);
    if (in && !was)
      *enter = f;
    if (!in && was) {
      *leave = f;
      return TRUE;
    }
    was = in;
  }
  *leave = s->frames;
  return was;
}

static gboolean
placed_lying (const Placed * p)
{
  return p->present && p->bh > 0 && (gdouble) p->bw / p->bh >= LYING_RATIO;
}

/* The next stretch, from frame *from on, during which actor i's box is lying: [down, up).
 * FALSE when it does not lie again. */
static gboolean
lying_next (Scene * s, guint i, guint * from, guint * down, guint * up)
{
  guint f = *from;
  while (f < s->frames && !placed_lying (scene_at (s, f, i)))
    f++;
  if (f >= s->frames)
    return FALSE;
  *down = f;
  while (f < s->frames && placed_lying (scene_at (s, f, i)))
    f++;
  *up = *from = f;
  return TRUE;
}

static void
write_events (Scene * s, JsonBuilder * b)
{
  json_builder_set_member_name (b, "lying");
  json_builder_begin_array (b);
  for (guint i = 0; i < s->n_actors; i++) {
    guint from = 0, down, up;
    while (lying_next (s, i, &from, &down, &up)) {
      json_builder_begin_object (b);
      json_member_int (b, "object", i + 1);
      json_member_double (b, "down_s", (gdouble) down / s->fps);
      json_member_double (b, "up_s", (gdouble) up / s->fps);
      json_builder_end_object (b);
    }
  }
  json_builder_end_array (b);

  json_builder_set_member_name (b, "zone_visits");
  json_builder_begin_array (b);
  for (guint i = 0; s->zone_n && i < s->n_actors; i++) {
    guint enter = 0, leave = 0;
    if (!zone_entry (s, i, &enter, &leave))
      continue;
    json_builder_begin_object (b);
    json_member_int (b, "object", i + 1);
    json_member_string (b, "zone", s->def->zone.name);
    json_member_double (b, "enter_s", (gdouble) enter / s->fps);
    json_member_double (b, "leave_s", (gdouble) leave / s->fps);
    json_builder_end_object (b);
  }
  json_builder_end_array (b);

  json_builder_set_member_name (b, "line_crossings");
  json_builder_begin_array (b);
  for (guint i = 0; s->has_line && i < s->n_actors; i++)
    for (guint f = 1; f < s->frames; f++) {
      gboolean positive;
      if (!crossing_at (s, i, f, &positive))
        continue;
      Placed *p0 = scene_at (s, f - 1, i), *p1 = scene_at (s, f, i);
      json_builder_begin_object (b);
      json_member_int (b, "object", i + 1);
      json_member_string (b, "line", s->def->line.name);
      json_member_double (b, "t_s", (gdouble) f / s->fps);
      json_member_string (b, "direction", positive ? "positive" : "negative");
      json_member_string (b, "moving", p1->fx > p0->fx ? "left-to-right" : "right-to-left");
      json_builder_end_object (b);
    }
  json_builder_end_array (b);

  json_builder_set_member_name (b, "pair_overlaps");
  json_builder_begin_array (b);
  for (guint i = 0; i < s->n_actors; i++)
    for (guint j = i + 1; j < s->n_actors; j++) {
      gdouble max_iou = 0;
      guint first = G_MAXUINT, last = 0;
      for (guint f = 0; f < s->frames; f++) {
        Placed *a = scene_at (s, f, i), *c = scene_at (s, f, j);
        gdouble iou = a->present && c->present ? box_iou (a, c) : 0;
        if (iou > 0) {
          first = MIN (first, f);
          last = f;
          max_iou = MAX (max_iou, iou);
        }
      }
      if (first == G_MAXUINT)
        continue;
      json_builder_begin_object (b);
      json_member_int (b, "a", i + 1);
      json_member_int (b, "b", j + 1);
      json_member_double (b, "first_s", (gdouble) first / s->fps);
      json_member_double (b, "last_s", (gdouble) last / s->fps);
      json_member_double (b, "max_iou", max_iou);
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
}

/* First frame from which both actors overlap and stand still until one leaves. */
static gboolean
collision_start (Scene * s, guint a, guint b, guint * start, guint * end)
{
  gboolean on = FALSE;
  for (guint f = 0; f < s->frames; f++) {
    Placed *p = scene_at (s, f, a), *q = scene_at (s, f, b);
    gboolean c = p->present && q->present && p->still && q->still && box_iou (p, q) > 0;
    if (c && !on)
      *start = f;
    on = c;
  }
  *end = s->frames;
  return on;
}

static void
write_expected (Scene * s, JsonBuilder * b)
{
  const ExpectDef *e = &s->def->expect;
  json_builder_set_member_name (b, "expected");
  json_builder_begin_array (b);
  if (e->kind == EXPECT_COLLISION) {
    guint start = 0, end = 0;
    if (collision_start (s, e->a - 1, e->b - 1, &start, &end)) {
      json_builder_begin_object (b);
      json_member_string (b, "situation", "collision");
      json_builder_set_member_name (b, "objects");
      json_builder_begin_array (b);
      json_builder_add_int_value (b, e->a);
      json_builder_add_int_value (b, e->b);
      json_builder_end_array (b);
      json_member_double (b, "start_s", (gdouble) start / s->fps);
      json_member_double (b, "held_s", (gdouble) (end - start) / s->fps);
      json_builder_end_object (b);
    }
  } else if (e->kind == EXPECT_ZONE_DWELL) {
    guint enter = 0, leave = 0;
    if (zone_entry (s, e->a - 1, &enter, &leave)) {
      json_builder_begin_object (b);
      json_member_string (b, "situation", "zone_dwell");
      json_builder_set_member_name (b, "objects");
      json_builder_begin_array (b);
      json_builder_add_int_value (b, e->a);
      json_builder_end_array (b);
      json_member_string (b, "zone", s->def->zone.name);
      json_member_double (b, "start_s", (gdouble) enter / s->fps);
      json_member_double (b, "held_s", (gdouble) (leave - enter) / s->fps);
      json_builder_end_object (b);
    }
  } else if (e->kind == EXPECT_LINE_CROSSING) {
    for (guint i = 0; i < s->n_actors; i++)
      for (guint f = 1; f < s->frames; f++) {
        gboolean positive;
        if (!crossing_at (s, i, f, &positive))
          continue;
        json_builder_begin_object (b);
        json_member_string (b, "situation", "line_crossing");
        json_builder_set_member_name (b, "objects");
        json_builder_begin_array (b);
        json_builder_add_int_value (b, i + 1);
        json_builder_end_array (b);
        json_member_string (b, "line", s->def->line.name);
        json_member_string (b, "direction", positive ? "positive" : "negative");
        json_member_double (b, "start_s", (gdouble) f / s->fps);
        json_member_double (b, "held_s", 0);
        json_builder_end_object (b);
      }
  } else if (e->kind == EXPECT_PERSON_DOWN) {
    guint from = 0, down, up;
    if (lying_next (s, e->a - 1, &from, &down, &up)) {
      json_builder_begin_object (b);
      json_member_string (b, "situation", "person_down");
      json_builder_set_member_name (b, "objects");
      json_builder_begin_array (b);
      json_builder_add_int_value (b, e->a);
      json_builder_end_array (b);
      json_member_double (b, "start_s", (gdouble) down / s->fps);
      json_member_double (b, "held_s", (gdouble) (up - down) / s->fps);
      json_builder_end_object (b);
    }
  } else if (e->kind == EXPECT_CROWDING) {
    guint start = G_MAXUINT, end = s->frames;
    for (guint f = 0; f < s->frames; f++) {
      guint n = 0;
      for (guint i = 0; i < s->n_actors; i++) {
        Placed *p = scene_at (s, f, i);
        n += p->present && point_in_polygon (p->fx, p->fy, s->zone, s->zone_n);
      }
      if (n >= e->n && start == G_MAXUINT)
        start = f;
      if (n < e->n && start != G_MAXUINT && end == s->frames)
        end = f;
    }
    if (start != G_MAXUINT) {
      json_builder_begin_object (b);
      json_member_string (b, "situation", "crowding");
      json_member_string (b, "zone", s->def->zone.name);
      json_member_int (b, "min_count", e->n);
      json_member_double (b, "start_s", (gdouble) start / s->fps);
      json_member_double (b, "held_s", (gdouble) (end - start) / s->fps);
      json_builder_end_object (b);
    }
  }
  json_builder_end_array (b);
}

/* Per frame: every object whose box is at least half inside the frame. */
static void
write_frames (Scene * s, JsonBuilder * b)
{
  guint order[MAX_ACTORS];
  json_builder_set_member_name (b, "frames_truth");
  json_builder_begin_array (b);
  for (guint f = 0; f < s->frames; f++) {
    draw_order (s, f, order);
    json_builder_begin_object (b);
    json_member_int (b, "frame", f);
    json_member_double (b, "t_s", (gdouble) f / s->fps);
    json_builder_set_member_name (b, "objects");
    json_builder_begin_array (b);
    for (guint k = 0; k < s->n_actors; k++) {
      Placed *p = scene_at (s, f, order[k]);
      gdouble in_frame;
      if (!p->present)
        continue;
      gdouble vis = visibility (s, f, order, k, &in_frame);
      if (in_frame < 0.5)
        continue;
      gint x0 = MAX (0, p->bx), y0 = MAX (0, p->by);
      gint x1 = MIN (s->w, p->bx + p->bw), y1 = MIN (s->h, p->by + p->bh);
      json_builder_begin_object (b);
      json_member_int (b, "id", p->id);
      json_builder_set_member_name (b, "box");
      json_builder_begin_array (b);
      json_builder_add_int_value (b, x0);
      json_builder_add_int_value (b, y0);
      json_builder_add_int_value (b, x1 - x0);
      json_builder_add_int_value (b, y1 - y0);
      json_builder_end_array (b);
      json_member_double (b, "visibility", vis);
      json_builder_set_member_name (b, "stationary");
      json_builder_add_boolean_value (b, p->still);
      json_builder_end_object (b);
    }
    json_builder_end_array (b);
    json_builder_end_object (b);
  }
  json_builder_end_array (b);
}

static gchar *
scenario_truth (Scene * s, const gchar * out)
{
  JsonBuilder *b = json_builder_new ();
  json_builder_begin_object (b);
  json_member_string (b, "clip", out);
  json_member_string (b, "scenario", s->def->name);
  json_member_string (b, "description", s->def->description);
  json_builder_set_member_name (b, "positive");
  json_builder_add_boolean_value (b, s->def->positive);
  json_member_int (b, "fps", s->fps);
  json_member_int (b, "width", s->w);
  json_member_int (b, "height", s->h);
  json_member_int (b, "frames", s->frames);
  json_member_double (b, "duration_s", (gdouble) s->frames / s->fps);

  json_builder_set_member_name (b, "objects");
  json_builder_begin_array (b);
  for (guint i = 0; i < s->n_actors; i++) {
    const SpriteDef *d = &sprite_defs[s->def->actors[i].sprite];
    json_builder_begin_object (b);
    json_member_int (b, "id", i + 1);
    json_member_string (b, "class", d->klass);
    json_builder_set_member_name (b, "labels");
    json_builder_begin_array (b);
    gchar **labels = g_strsplit (d->labels, ",", -1);
    for (guint k = 0; labels[k]; k++)
      json_builder_add_string_value (b, labels[k]);
    g_strfreev (labels);
    json_builder_end_array (b);
    json_member_string (b, "sprite", d->name);
    json_member_string (b, "image", d->file);
    json_builder_end_object (b);
  }
  json_builder_end_array (b);

  json_builder_set_member_name (b, "zones");
  json_builder_begin_array (b);
  if (s->zone_n) {
    json_builder_begin_object (b);
    json_member_string (b, "name", s->def->zone.name);
    json_builder_set_member_name (b, "points");
    json_point_array (b, (const gdouble (*)[2]) s->zone, s->zone_n);
    json_builder_end_object (b);
  }
  json_builder_end_array (b);
  json_builder_set_member_name (b, "lines");
  json_builder_begin_array (b);
  if (s->has_line) {
    json_builder_begin_object (b);
    json_member_string (b, "name", s->def->line.name);
    json_builder_set_member_name (b, "points");
    json_point_array (b, (const gdouble (*)[2]) s->line, 2);
    json_builder_end_object (b);
  }
  json_builder_end_array (b);

  write_expected (s, b);
  write_events (s, b);
  write_frames (s, b);
  json_builder_end_object (b);
  JsonNode *root = json_builder_get_root (b);
  gchar *json = json_to_string (root, TRUE);
  json_node_unref (root);
  g_object_unref (b);
  return json;
}

static const ScenarioDef *
find_scenario (const gchar * name)
{
  for (guint i = 0; i < G_N_ELEMENTS (scenarios); i++)
    if (g_str_equal (scenarios[i].name, name))
      return &scenarios[i];
  return NULL;
}

static void
list_scenarios (void)
{
  for (guint i = 0; i < G_N_ELEMENTS (scenarios); i++)
    g_print ("%-15s %s %4.0f s  %s\n", scenarios[i].name,
        scenarios[i].positive ? "positive" : "negative", scenarios[i].duration,
        scenarios[i].description);
}

static GstElement *writer_new (const gchar * out, gint w, gint h, gint fps, GstElement ** src,
    GError ** error);
static int writer_finish (GstElement * p, GstElement * src);

static int
run_scenario (const ScenarioDef * def, const gchar * dir, const gchar * out,
    const gchar * truth, gdouble duration, guint32 seed)
{
  GError *error = NULL;
  Scene s = { 0 };
  Image photos[N_SPRITES] = { 0 };
  int rc = 0;

  s.def = def;
  s.n_actors = actor_count (def);
  s.w = opt_w;
  s.h = opt_h;
  s.fps = opt_fps;
  s.frames = (guint) round ((duration > 0 ? duration : def->duration) * opt_fps);
  for (guint i = 0; i < s.n_actors; i++) {
    const ActorDef *a = &def->actors[i];
    const SpriteDef *d = &sprite_defs[a->sprite];
    if (!photos[a->sprite].rgb) {
      gchar *path = g_build_filename (dir, d->file, NULL);
      if (!g_file_test (path, G_FILE_TEST_IS_REGULAR)) {
        g_printerr ("edgefaas-makeclip: %s not found (apt-get install darknet, or --images "
            "DIR)\n", path);
        return 1;
      }
      if (!load_image (path, 0, 0, &photos[a->sprite], &error)) {
        g_printerr ("edgefaas-makeclip: %s: %s\n", path, error->message);
        return 1;
      }
      g_free (path);
    }
    make_sprite (&photos[a->sprite], d, (gint) (a->height * s.h + 0.5), a->mirror,
        &s.sprites[i]);
  }
  scene_layout (&s);

  GstElement *src = NULL;
  GstElement *p = writer_new (out, s.w, s.h, s.fps, &src, &error);
  if (!p) {
    g_printerr ("edgefaas-makeclip: %s\n", error->message);
    return 1;
  }
  guint8 *bg = g_malloc (s.w * s.h * 3);
  draw_background (bg, s.w, s.h);
  guint order[MAX_ACTORS];
  for (guint f = 0; f < s.frames; f++) {
    GstBuffer *buf = gst_buffer_new_allocate (NULL, s.w * s.h * 3, NULL);
    GstMapInfo m;
    gst_buffer_map (buf, &m, GST_MAP_WRITE);
    memcpy (m.data, bg, s.w * s.h * 3);
    draw_order (&s, f, order);
    for (guint k = 0; k < s.n_actors; k++) {
      Placed *pl = scene_at (&s, f, order[k]);
      if (pl->present && pl->angle != 0)
        blit_turned (m.data, s.w, s.h, &s.sprites[order[k]], pl);
      else if (pl->present)
        blit (m.data, s.w, s.h, &s.sprites[order[k]].img, pl->sx, pl->sy);
    }
    add_noise (m.data, s.w, s.h, def->noise,
        def->lighting ? lighting_gain ((gdouble) f / s.fps) : 1.0, &seed);
    gst_buffer_unmap (buf, &m);
    GST_BUFFER_PTS (buf) = gst_util_uint64_scale (f, GST_SECOND, s.fps);
    GST_BUFFER_DURATION (buf) = gst_util_uint64_scale (1, GST_SECOND, s.fps);
    if (gst_app_src_push_buffer (GST_APP_SRC (src), buf) != GST_FLOW_OK)
      break;
  }
  rc = writer_finish (p, src);
  g_free (bg);

  gchar *json = scenario_truth (&s, out);
  if (truth) {
    if (!g_file_set_contents (truth, json, -1, &error)) {
      g_printerr ("edgefaas-makeclip: %s\n", error->message);
      rc = 1;
    }
  } else {
    g_print ("%s\n", json);
  }
  g_free (json);
  for (guint i = 0; i < s.n_actors; i++)
    g_free (s.sprites[i].img.rgb);
  for (guint i = 0; i < N_SPRITES; i++)
    g_free (photos[i].rgb);
  g_free (s.placed);
  return rc;
}

/* The MJPEG/Matroska writer fed by an appsrc of RGB frames. */
static GstElement *
writer_new (const gchar * out, gint w, gint h, gint fps, GstElement ** src, GError ** error)
{
  gchar *desc = g_strdup_printf ("appsrc name=src format=time caps=video/x-raw,format=RGB,"
      "width=%d,height=%d,framerate=%d/1,pixel-aspect-ratio=1/1 ! videoconvert ! "
      "video/x-raw,format=I420 ! jpegenc quality=90 ! matroskamux ! filesink location=\"%s\"",
      w, h, fps, out);
  GstElement *p = gst_parse_launch (desc, error);
  g_free (desc);
  if (!p)
    return NULL;
  *src = gst_bin_get_by_name (GST_BIN (p), "src");
  gst_element_set_state (p, GST_STATE_PLAYING);
  return p;
}

/* EOS, wait for the file to be complete; 0 or 1 (error printed). */
static int
writer_finish (GstElement * p, GstElement * src)
{
  GError *error = NULL;
  gst_app_src_end_of_stream (GST_APP_SRC (src));
  GstBus *bus = gst_element_get_bus (p);
  GstMessage *msg = gst_bus_timed_pop_filtered (bus, GST_CLOCK_TIME_NONE,
      GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
  int rc = 0;
  if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ERROR) {
    gst_message_parse_error (msg, &error, NULL);
    g_printerr ("edgefaas-makeclip: %s\n", error->message);
    g_error_free (error);
    rc = 1;
  }
  gst_message_unref (msg);
  gst_object_unref (bus);
  gst_element_set_state (p, GST_STATE_NULL);
  gst_object_unref (src);
  gst_object_unref (p);
  return rc;
}

int
main (int argc, char **argv)
{
  GError *error = NULL;
  GOptionContext *ctx = g_option_context_new ("- make a demo/test clip with known motion");
  g_option_context_add_main_entries (ctx, entries, NULL);
  g_option_context_add_group (ctx, gst_init_get_option_group ());
  if (!g_option_context_parse (ctx, &argc, &argv, &error)) {
    g_printerr ("edgefaas-makeclip: %s\n", error->message);
    return 2;
  }
  if (opt_list) {
    list_scenarios ();
    return 0;
  }
  if (!opt_out) {
    g_printerr ("edgefaas-makeclip: --out is required\n");
    return 2;
  }
  if (opt_scenario) {
    const ScenarioDef *def = find_scenario (opt_scenario);
    if (!def) {
      g_printerr ("edgefaas-makeclip: unknown scenario '%s' (--list-scenarios)\n", opt_scenario);
      return 2;
    }
    if (opt_schedule || opt_fraction > 0) {
      g_printerr ("edgefaas-makeclip: --scenario excludes --schedule and --motion-fraction\n");
      return 2;
    }
    if (opt_fps <= 0 || opt_w < 64 || opt_h < 64) {
      g_printerr ("edgefaas-makeclip: bad --fps/--width/--height\n");
      return 2;
    }
    int rc = run_scenario (def, opt_images ? opt_images : "/usr/share/darknet/data", opt_out,
        opt_truth, opt_duration, (guint32) opt_seed * 2654435761u + 1);
    g_option_context_free (ctx);
    return rc;
  }
  if (!opt_schedule) {
    if (opt_duration <= 0 || opt_fraction <= 0 || opt_fraction >= 1) {
      g_printerr ("edgefaas-makeclip: give --schedule, or --duration and --motion-fraction "
          "(0 < F < 1)\n");
      return 2;
    }
    opt_schedule = schedule_for_fraction (opt_duration, opt_fraction, opt_burst);
  }
  GArray *segs = parse_schedule (opt_schedule, &error);
  if (!segs) {
    g_printerr ("edgefaas-makeclip: %s\n", error->message);
    return 2;
  }
  const gchar *dir = opt_images ? opt_images : "/usr/share/darknet/data";
  gint ow = opt_h * 0.6 * 4 / 3, oh = opt_h * 0.6;   /* subject size: 60 % of the height */
  Image imgs[G_N_ELEMENTS (subjects)] = { 0 };
  for (guint i = 0; i < segs->len; i++) {
    Segment *sg = &g_array_index (segs, Segment, i);
    if (!sg->subject)
      continue;
    guint k = sg->subject - subjects;
    if (imgs[k].rgb)
      continue;
    gchar *path = g_build_filename (dir, sg->subject->file, NULL);
    if (!g_file_test (path, G_FILE_TEST_IS_REGULAR)) {
      g_printerr ("edgefaas-makeclip: %s not found (apt-get install darknet, or --images DIR)\n",
          path);
      return 1;
    }
    if (!load_image (path, ow, oh, &imgs[k], &error)) {
      g_printerr ("edgefaas-makeclip: %s: %s\n", path, error->message);
      return 1;
    }
    g_free (path);
  }

  guint frame = 0;
  for (guint i = 0; i < segs->len; i++) {
    Segment *sg = &g_array_index (segs, Segment, i);
    sg->start_frame = frame;
    frame += (guint) round (sg->seconds * opt_fps);
    sg->end_frame = frame;
  }
  guint total = frame;

  GstElement *src = NULL;
  GstElement *p = writer_new (opt_out, opt_w, opt_h, opt_fps, &src, &error);
  if (!p) {
    g_printerr ("edgefaas-makeclip: %s\n", error->message);
    return 1;
  }
  guint8 *bg = g_malloc (opt_w * opt_h * 3);
  draw_background (bg, opt_w, opt_h);
  guint seg_i = 0;
  for (frame = 0; frame < total; frame++) {
    while (frame >= g_array_index (segs, Segment, seg_i).end_frame)
      seg_i++;
    Segment *sg = &g_array_index (segs, Segment, seg_i);
    GstBuffer *buf = gst_buffer_new_allocate (NULL, opt_w * opt_h * 3, NULL);
    GstMapInfo m;
    gst_buffer_map (buf, &m, GST_MAP_WRITE);
    memcpy (m.data, bg, opt_w * opt_h * 3);
    if (sg->subject) {
      const Image *img = &imgs[sg->subject - subjects];
      gdouble t = (gdouble) (frame - sg->start_frame) / MAX (1, sg->end_frame - sg->start_frame);
      /* slides from the left edge to the right edge, fully visible most of the time */
      gint x = (gint) (-img->w * 0.2 + t * (opt_w - img->w * 0.6));
      gint y = (gint) (opt_h * 0.35);
      blit (m.data, opt_w, opt_h, img, x, y);
    }
    gst_buffer_unmap (buf, &m);
    GST_BUFFER_PTS (buf) = gst_util_uint64_scale (frame, GST_SECOND, opt_fps);
    GST_BUFFER_DURATION (buf) = gst_util_uint64_scale (1, GST_SECOND, opt_fps);
    if (gst_app_src_push_buffer (GST_APP_SRC (src), buf) != GST_FLOW_OK)
      break;
  }
  int rc = writer_finish (p, src);

  JsonBuilder *b = json_builder_new ();
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "clip");
  json_builder_add_string_value (b, opt_out);
  json_builder_set_member_name (b, "fps");
  json_builder_add_int_value (b, opt_fps);
  json_builder_set_member_name (b, "width");
  json_builder_add_int_value (b, opt_w);
  json_builder_set_member_name (b, "height");
  json_builder_add_int_value (b, opt_h);
  json_builder_set_member_name (b, "frames");
  json_builder_add_int_value (b, total);
  json_builder_set_member_name (b, "duration_s");
  json_builder_add_double_value (b, (gdouble) total / opt_fps);
  json_builder_set_member_name (b, "schedule");
  json_builder_add_string_value (b, opt_schedule);
  guint motion_frames = 0;
  json_builder_set_member_name (b, "motion");
  json_builder_begin_array (b);
  for (guint i = 0; i < segs->len; i++) {
    Segment *sg = &g_array_index (segs, Segment, i);
    if (!sg->subject)
      continue;
    motion_frames += sg->end_frame - sg->start_frame;
    json_builder_begin_object (b);
    json_builder_set_member_name (b, "label");
    json_builder_add_string_value (b, sg->subject->label);
    json_builder_set_member_name (b, "image");
    json_builder_add_string_value (b, sg->subject->file);
    json_builder_set_member_name (b, "start_s");
    json_builder_add_double_value (b, (gdouble) sg->start_frame / opt_fps);
    json_builder_set_member_name (b, "end_s");
    json_builder_add_double_value (b, (gdouble) sg->end_frame / opt_fps);
    json_builder_set_member_name (b, "start_frame");
    json_builder_add_int_value (b, sg->start_frame);
    json_builder_set_member_name (b, "end_frame");
    json_builder_add_int_value (b, sg->end_frame);
    json_builder_end_object (b);
  }
  json_builder_end_array (b);
  json_builder_set_member_name (b, "motion_fraction");
  json_builder_add_double_value (b, total ? (gdouble) motion_frames / total : 0);
  json_builder_end_object (b);
  JsonNode *root = json_builder_get_root (b);
  gchar *json = json_to_string (root, TRUE);
  if (opt_truth)
    g_file_set_contents (opt_truth, json, -1, NULL);
  else
    g_print ("%s\n", json);
  /* everything freed, so the program runs clean under LeakSanitizer (the tests run it) */
  g_free (json);
  json_node_unref (root);
  g_object_unref (b);
  g_free (bg);
  for (guint i = 0; i < G_N_ELEMENTS (subjects); i++)
    g_free (imgs[i].rgb);
  g_array_unref (segs);
  g_option_context_free (ctx);
  return rc;
}
