/* situationdetect rules: the key-file validation (every refusal names file,
 * group and key) and the engine, condition by condition, on synthetic tracks
 * moving in time (positives and the negatives that look like them). */
#include <string.h>
#include "ef-test.h"
#include "situationrules.h"

static const gchar *coco[] = { "person", "bicycle", "car", "motorbike", "bus", "truck",
  "dog", NULL
};

static const gchar *
src_root (void)
{
  const gchar *r = g_getenv ("EDGEFAAS_SOURCE_ROOT");
  g_assert_nonnull (r);
  return r;
}

static SrRules *
load_ok (const gchar * text)
{
  GError *err = NULL;
  SrRules *r = sr_rules_load_data (text, strlen (text), "test.conf", coco, &err);
  g_assert_no_error (err);
  g_assert_nonnull (r);
  return r;
}

static void
expect_error (const gchar * text, const gchar * needle)
{
  GError *err = NULL;
  SrRules *r = sr_rules_load_data (text, strlen (text), "test.conf", coco, &err);
  g_assert_null (r);
  g_assert_nonnull (err);
  g_test_message ("-> %s", err->message);
  g_assert_true (g_str_has_prefix (err->message, "test.conf"));
  if (!strstr (err->message, needle))
    g_error ("expected \"%s\" in \"%s\"", needle, err->message);
  g_error_free (err);
}

#define CAM "[camera:cam1]\n"
#define ZONE "[zone:danger]\ncamera=cam1\npolygon=0.5,0.5;0.9,0.5;0.9,0.9;0.5,0.9\n"

static void
test_load_errors (void)
{
  expect_error (CAM "[zone:z]\ncamera=cam1\npolygon=0.1,0.1;0.9,0.9;0.9,0.1;0.1,0.9\n"
      "[situation:s]\ncondition=in-zone\nzone=z\nseconds=1\n",
      "[zone:z] polygon: self-intersecting (edge 1 crosses edge 3)");
  expect_error (CAM "[zone:z]\ncamera=cam1\npolygon=0.1,0.1;1.2,0.1;0.9,0.9\n"
      "[situation:s]\ncondition=in-zone\nzone=z\nseconds=1\n",
      "[zone:z] polygon: point 2 (1.2,0.1) is outside the frame");
  expect_error (CAM "[zone:z]\ncamera=cam1\npolygon=0.1,0.1;0.2,0.1\n"
      "[situation:s]\ncondition=in-zone\nzone=z\nseconds=1\n", "at least 3");
  expect_error (CAM "[situation:s]\ncondition=label\nlabels=fire\nseconds=1\n",
      "[situation:s] labels: \"fire\" is neither a label of the model's names file");
  expect_error (CAM "[labels]\nvehicle=car;tank\n[situation:s]\ncondition=stationary\n"
      "seconds=1\n", "[labels] vehicle: \"tank\" is not a label");
  expect_error (CAM "[situation:s]\nlabels=person\nseconds=3\n",
      "[situation:s] condition: missing");
  expect_error (CAM "[situation:s]\ncondition=teleport\nseconds=3\n",
      "condition: \"teleport\" is not one of");
  expect_error ("[camera:cam1]\n[zone:z]\ncamera=cam9\npolygon=0.1,0.1;0.9,0.1;0.9,0.9\n"
      "[situation:s]\ncondition=in-zone\nzone=z\nseconds=1\n",
      "[zone:z] camera: \"cam9\" is not a declared camera");
  expect_error (CAM "[situation:s]\ncondition=stationary\ncameras=cam2\nseconds=1\n",
      "[situation:s] camera: \"cam2\" is not a declared camera");
  expect_error (CAM "[situation:a.b]\ncondition=stationary\nseconds=1\n",
      "\"a.b\" becomes a routing key");
  expect_error (CAM "[situation:fire#]\ncondition=stationary\nseconds=1\n", "routing key");
  expect_error (CAM "[situation:*]\ncondition=stationary\nseconds=1\n", "routing key");
  expect_error (CAM "[situation:s]\ncondition=stationary\nseconds=1\n"
      "[situation:s]\ncondition=stationary\nseconds=2\n", "[situation:s] appears twice");
  expect_error (CAM "[situation:s]\ncondition=stationary\nseconds=1\nmin-frames=3\n",
      "[situation:s] min-frames: unknown key");
  expect_error (CAM "[situation:s]\ncondition=in-zone\nseconds=1\n", "in-zone needs zone=");
  expect_error (CAM "[situation:s]\ncondition=crowd\nseconds=1\n", "crowd needs count=");
  expect_error (CAM "[situation:s]\ncondition=stationary\n", "seconds: missing");
  expect_error (CAM "[situation:s]\ncondition=stationary\nseconds=-1\n", "out of range");
  expect_error (CAM "[situation:s]\ncondition=in-zone\nzone=nowhere\nseconds=1\n",
      "zone: \"nowhere\" is not a [zone:nowhere]");
  expect_error (CAM ZONE "[camera:cam2]\n[situation:s]\ncondition=in-zone\nzone=danger\n"
      "cameras=cam2\nseconds=1\n", "not the camera of zone");
  expect_error (CAM "[zones]\n", "[zones] unknown group");
  expect_error (CAM, "no [situation:NAME] group");
  expect_error ("[camera:cam1\n", "test.conf");
}

static void
test_shipped_rules_load (void)
{
  /* the rules the repository ships load against COCO (the shipped fire
   * rules need a fire/smoke names file: see test-situationdetect) */
  g_autofree gchar *path = g_build_filename (src_root (), "pipelines", "situations",
      "coco.conf", NULL);
  g_autofree gchar *names = ef_test_shared_path ("models/yolo-fastest-1.1-coco/coco.names");
  gchar *text = NULL;
  GError *err = NULL;
  g_assert_nonnull (names);
  if (!g_file_get_contents (names, &text, NULL, &err))
    g_error ("%s", err->message);
  gchar **labels = g_strsplit (g_strchomp (text), "\n", -1);
  SrRules *r = sr_rules_load (path, (const gchar * const *) labels, &err);
  g_assert_no_error (err);
  g_assert_cmpuint (r->rules->len, >=, 3);
  sr_rules_free (r);
  g_strfreev (labels);
  g_free (text);
}

/* ---------------- engine ---------------- */

#define FPS 5
#define T0 1700000000000000LL   /* some UTC time in µs */
#define FW 1280
#define FH 720

typedef void (*SceneFunc) (gdouble t, GArray * objs, gpointer data);

typedef struct {
  GPtrArray *raised, *cleared;
} Result;

static void
result_clear (Result * r)
{
  g_ptr_array_unref (r->raised);
  g_ptr_array_unref (r->cleared);
}

static SrObject
obj (guint64 id, const gchar * label, gdouble score, gdouble x0, gdouble y0, gdouble x1,
    gdouble y1)
{
  SrObject o = { id, label, score, {x0, y0, x1, y1} };
  return o;
}

/* Run @scene for @seconds at FPS on camera cam1. */
static Result
run_scene (SrEngine * e, gdouble seconds, SceneFunc scene, gpointer data)
{
  Result r = { g_ptr_array_new_with_free_func ((GDestroyNotify) sr_alert_free),
    g_ptr_array_new_with_free_func ((GDestroyNotify) sr_alert_free)
  };
  GArray *objs = g_array_new (FALSE, FALSE, sizeof (SrObject));
  for (guint f = 0; f <= seconds * FPS; f++) {
    gdouble t = (gdouble) f / FPS;
    g_array_set_size (objs, 0);
    scene (t, objs, data);
    GPtrArray *out = sr_engine_update (e, "cam1", T0 + (gint64) (t * G_USEC_PER_SEC), FW,
        FH, (SrObject *) objs->data, objs->len);
    for (guint i = 0; i < out->len; i++) {
      SrAlert *a = g_ptr_array_index (out, i);
      g_ptr_array_add (a->cleared ? r.cleared : r.raised, a);
      g_test_message ("t=%.1f %s %s zone=%s objects=%u start=%.1f", t,
          a->cleared ? "cleared" : "RAISED", a->situation, a->zone ? a->zone : "-",
          a->objects->len, (a->start_us - T0) / 1e6);
    }
    g_ptr_array_set_free_func (out, NULL);
    g_ptr_array_unref (out);
  }
  g_array_unref (objs);
  return r;
}

static gdouble
alert_t (const SrAlert * a)
{
  return (a->time_us - T0) / 1e6;
}

static gdouble
start_t (const SrAlert * a)
{
  return (a->start_us - T0) / 1e6;
}

/* A person (upright box 0.04 x 0.2) whose bottom-centre moves from (x0,0.7)
 * to (x1,0.7) between t=0 and t=move_s, then stays. */
typedef struct {
  gdouble x0, x1, move_s, leave_at;
  gboolean flicker;
} Walk;

static void
walker (gdouble t, GArray * objs, gpointer data)
{
  Walk *w = data;
  if (w->leave_at > 0 && t >= w->leave_at)
    return;
  if (w->flicker && ((gint) (t * FPS)) % 7 == 3)
    return;                     /* missed by the detector now and then */
  gdouble x = t >= w->move_s ? w->x1 : w->x0 + (w->x1 - w->x0) * t / w->move_s;
  SrObject o = obj (7, "person", 0.8, x - 0.02, 0.5, x + 0.02, 0.7);
  g_array_append_val (objs, o);
}

static const gchar *zone_rules = CAM ZONE
    "[situation:person_in_danger]\ncondition=in-zone\nlabels=person\nzone=danger\n"
    "seconds=3\nclear-seconds=2\n";

static void
test_in_zone (void)
{
  SrRules *rules = load_ok (zone_rules);
  /* walks from x=0.1 into the zone (enters at x=0.5: t=4/0.8*... ) and stays */
  Walk in = { 0.1, 0.7, 6.0, 0, TRUE };
  SrEngine *e = sr_engine_new (rules, 0, 5.0);
  Result r = run_scene (e, 20, walker, &in);
  g_assert_cmpuint (r.raised->len, ==, 1);
  SrAlert *a = g_ptr_array_index (r.raised, 0);
  g_assert_cmpstr (a->situation, ==, "person_in_danger");
  g_assert_cmpstr (a->camera, ==, "cam1");
  g_assert_cmpstr (a->zone, ==, "danger");
  g_assert_cmpuint (a->objects->len, ==, 1);
  g_assert_cmpuint (g_array_index (a->objects, SrAlertObject, 0).track_id, ==, 7);
  g_assert_cmpstr (a->labels, ==, "person");
  /* enters when x >= 0.5: t = 0.4/0.6*6 = 4.0; raised 3 s later despite flicker */
  g_assert_cmpfloat_with_epsilon (start_t (a), 4.0, 0.21);
  g_assert_cmpfloat_with_epsilon (alert_t (a), 7.0, 0.21);
  g_assert_cmpuint (r.cleared->len, ==, 0);
  result_clear (&r);
  sr_engine_free (e);

  /* walks past outside the zone: nothing */
  Walk past = { 0.05, 0.45, 10.0, 0, FALSE };
  e = sr_engine_new (rules, 0, 5.0);
  r = run_scene (e, 20, walker, &past);
  g_assert_cmpuint (r.raised->len, ==, 0);
  result_clear (&r);
  sr_engine_free (e);

  /* enters, stays 2 s (< 3 s) and leaves: nothing */
  Walk brief = { 0.6, 0.6, 1.0, 2.0, FALSE };
  e = sr_engine_new (rules, 0, 5.0);
  r = run_scene (e, 10, walker, &brief);
  g_assert_cmpuint (r.raised->len, ==, 0);
  result_clear (&r);
  sr_engine_free (e);

  /* stays 5 s then leaves: one alert and one clear, 2 s after it left
   * (clear-seconds) or when the track is forgotten, whichever comes first */
  Walk stay = { 0.6, 0.6, 1.0, 5.0, FALSE };
  e = sr_engine_new (rules, 0, 5.0);
  r = run_scene (e, 12, walker, &stay);
  g_assert_cmpuint (r.raised->len, ==, 1);
  g_assert_cmpuint (r.cleared->len, ==, 1);
  g_assert_cmpfloat_with_epsilon (alert_t (g_ptr_array_index (r.cleared, 0)), 6.8, 0.21);
  result_clear (&r);
  sr_engine_free (e);
  sr_rules_free (rules);
}

static void
test_filters (void)
{
  /* min-area excludes the small person; a dog is not a person */
  SrRules *rules = load_ok (CAM ZONE "[situation:big]\ncondition=in-zone\nlabels=person\n"
      "zone=danger\nseconds=1\nmin-area=0.05\n[situation:tall]\ncondition=in-zone\n"
      "zone=danger\nseconds=1\nmax-aspect=0.5\nlabels=person\n"
      "[situation:sure]\ncondition=in-zone\nzone=danger\nseconds=1\nmin-score=0.9\n");
  Walk in = { 0.6, 0.6, 1.0, 0, FALSE };
  SrEngine *e = sr_engine_new (rules, 0, 5.0);
  Result r = run_scene (e, 5, walker, &in);
  /* the person box is 0.04 x 0.2 of the frame (area 0.008, aspect 51/144 = 0.36):
   * only "tall" fires; "sure" needs a median score of 0.9, the track has 0.8 */
  g_assert_cmpuint (r.raised->len, ==, 1);
  g_assert_cmpstr (((SrAlert *) g_ptr_array_index (r.raised, 0))->situation, ==, "tall");
  result_clear (&r);
  sr_engine_free (e);
  sr_rules_free (rules);
}

static const gchar *line_rules = CAM "[line:gate]\ncamera=cam1\npoints=0.4,0.0;0.4,1.0\n"
    "[situation:entering]\ncondition=line-crossed\nline=gate\ndirection=left-to-right\n"
    "labels=person\n[situation:any_crossing]\ncondition=line-crossed\nline=gate\n";

static void
test_line_crossed (void)
{
  SrRules *rules = load_ok (line_rules);
  /* the line is drawn top to bottom: walking a->b (down), your left is +x
   * (screen right)... so moving right to left on screen is left-to-right */
  Walk rtl = { 0.8, 0.1, 5.0, 0, FALSE }, ltr = { 0.1, 0.8, 5.0, 0, FALSE };
  SrEngine *e = sr_engine_new (rules, 0, 5.0);
  Result r = run_scene (e, 8, walker, &rtl);
  g_assert_cmpuint (r.raised->len, ==, 2);
  result_clear (&r);
  sr_engine_free (e);
  e = sr_engine_new (rules, 0, 5.0);
  r = run_scene (e, 8, walker, &ltr);
  g_assert_cmpuint (r.raised->len, ==, 1);
  SrAlert *a = g_ptr_array_index (r.raised, 0);
  g_assert_cmpstr (a->situation, ==, "any_crossing");
  g_assert_cmpstr (a->zone, ==, "gate");
  /* crosses x=0.4 at t = 0.3/0.7*5 = 2.14 s: the first frame past it */
  g_assert_cmpfloat_with_epsilon (alert_t (a), 2.2, 0.01);
  result_clear (&r);
  sr_engine_free (e);
  sr_rules_free (rules);
}

/* Two cars on a road: @mode 0 = they collide at t=4 and stop (positive),
 * 1 = one passes the other, overlapping in the image (negative),
 * 2 = both parked, touching, from the start (negative). */
static void
two_cars (gdouble t, GArray * objs, gpointer data)
{
  gint mode = GPOINTER_TO_INT (data);
  gdouble xa, xb;
  if (mode == 0) {
    gdouble tt = MIN (t, 4.0);
    xa = 0.1 + 0.08 * tt;       /* -> 0.42 */
    xb = 0.8 - 0.08 * tt;       /* -> 0.48 (boxes 0.12 wide overlap) */
  } else if (mode == 1) {
    xa = 0.1 + 0.1 * t;
    xb = 0.9 - 0.1 * t;
  } else {
    xa = 0.40;
    xb = 0.48;
  }
  SrObject a = obj (1, "car", 0.85, xa - 0.06, 0.5, xa + 0.06, 0.6);
  SrObject b = obj (2, mode == 1 ? "truck" : "car", 0.8, xb - 0.06, 0.52, xb + 0.06, 0.62);
  if (mode == 1 && (xa < 0 || xa > 1 || xb < 0 || xb > 1))
    return;
  g_array_append_val (objs, a);
  g_array_append_val (objs, b);
}

static const gchar *collision_rules = CAM "[labels]\nvehicle=car;truck;bus;motorbike\n"
    "[situation:traffic_accident]\ncondition=collision\nlabels=vehicle\nseconds=3\n";

static void
test_collision (void)
{
  SrRules *rules = load_ok (collision_rules);
  SrEngine *e = sr_engine_new (rules, 0, 5.0);
  Result r = run_scene (e, 15, two_cars, GINT_TO_POINTER (0));
  g_assert_cmpuint (r.raised->len, ==, 1);
  SrAlert *a = g_ptr_array_index (r.raised, 0);
  g_assert_cmpuint (a->objects->len, ==, 2);
  /* stopped at t=4, raised 3 s later */
  g_assert_cmpfloat_with_epsilon (alert_t (a), 7.0, 0.21);
  g_assert_cmpfloat (start_t (a), <=, 4.0);
  result_clear (&r);
  sr_engine_free (e);

  for (gint mode = 1; mode <= 2; mode++) {
    e = sr_engine_new (rules, 0, 5.0);
    r = run_scene (e, 15, two_cars, GINT_TO_POINTER (mode));
    g_assert_cmpuint (r.raised->len, ==, 0);
    result_clear (&r);
    sr_engine_free (e);
  }
  sr_rules_free (rules);
}

static void
test_stationary (void)
{
  SrRules *rules = load_ok (CAM "[situation:parked]\ncondition=stationary\nlabels=car\n"
      "seconds=5\n");
  SrEngine *e = sr_engine_new (rules, 0, 5.0);
  /* mode 2: two parked cars -> two alerts (one per track), at t=5 */
  Result r = run_scene (e, 12, two_cars, GINT_TO_POINTER (2));
  g_assert_cmpuint (r.raised->len, ==, 2);
  g_assert_cmpfloat_with_epsilon (alert_t (g_ptr_array_index (r.raised, 0)), 5.0, 0.01);
  g_assert_cmpfloat_with_epsilon (start_t (g_ptr_array_index (r.raised, 0)), 0.0, 0.01);
  result_clear (&r);
  sr_engine_free (e);
  /* mode 1: moving cars never */
  e = sr_engine_new (rules, 0, 5.0);
  r = run_scene (e, 12, two_cars, GINT_TO_POINTER (1));
  g_assert_cmpuint (r.raised->len, ==, 0);
  result_clear (&r);
  sr_engine_free (e);
  sr_rules_free (rules);
}

/* People arrive in the zone one per second, up to @data of them. */
static void
crowd (gdouble t, GArray * objs, gpointer data)
{
  guint max = GPOINTER_TO_UINT (data);
  for (guint i = 0; i < max && i <= t; i++) {
    gdouble x = 0.55 + 0.04 * i;
    SrObject o = obj (100 + i, "person", 0.7, x - 0.015, 0.6, x + 0.015, 0.8);
    g_array_append_val (objs, o);
  }
}

static void
test_crowd (void)
{
  SrRules *rules = load_ok (CAM ZONE "[situation:crowding]\ncondition=crowd\nlabels=person\n"
      "zone=danger\ncount=5\nseconds=2\n");
  SrEngine *e = sr_engine_new (rules, 0, 5.0);
  Result r = run_scene (e, 15, crowd, GUINT_TO_POINTER (8));
  g_assert_cmpuint (r.raised->len, ==, 1);
  SrAlert *a = g_ptr_array_index (r.raised, 0);
  /* the 5th person arrives at t=4; 2 s later */
  g_assert_cmpfloat_with_epsilon (start_t (a), 4.0, 0.01);
  g_assert_cmpfloat_with_epsilon (alert_t (a), 6.0, 0.01);
  g_assert_cmpuint (a->objects->len, ==, 7);
  result_clear (&r);
  sr_engine_free (e);
  e = sr_engine_new (rules, 0, 5.0);
  r = run_scene (e, 15, crowd, GUINT_TO_POINTER (4));
  g_assert_cmpuint (r.raised->len, ==, 0);
  result_clear (&r);
  sr_engine_free (e);
  sr_rules_free (rules);
}

/* A person walks (upright), then falls at t=3 (box turns wide) and lies;
 * @data = 1: a person who is lying from the start (e.g. on a bench) */
static void
faller (gdouble t, GArray * objs, gpointer data)
{
  gboolean always_lying = GPOINTER_TO_INT (data);
  SrObject o;
  if (!always_lying && t < 3.0)
    o = obj (9, "person", 0.8, 0.3 + 0.01 * t, 0.4, 0.34 + 0.01 * t, 0.7);
  else
    o = obj (9, "person", 0.8, 0.3, 0.62, 0.42, 0.7);
  g_array_append_val (objs, o);
}

static void
test_person_down (void)
{
  SrRules *rules = load_ok (CAM "[situation:person_down]\ncondition=person-down\n"
      "seconds=4\n");
  SrEngine *e = sr_engine_new (rules, 0, 5.0);
  Result r = run_scene (e, 12, faller, GINT_TO_POINTER (0));
  g_assert_cmpuint (r.raised->len, ==, 1);
  g_assert_cmpfloat_with_epsilon (alert_t (g_ptr_array_index (r.raised, 0)), 7.0, 0.01);
  result_clear (&r);
  sr_engine_free (e);
  e = sr_engine_new (rules, 0, 5.0);
  r = run_scene (e, 12, faller, GINT_TO_POINTER (1));
  g_assert_cmpuint (r.raised->len, ==, 0);
  result_clear (&r);
  sr_engine_free (e);
  sr_rules_free (rules);
}

/* fire boxes from an untracked detector (id 0), flickering */
static void
fire (gdouble t, GArray * objs, gpointer data)
{
  if (t < 2.0 || ((gint) (t * FPS)) % 4 == 0)
    return;
  SrObject o = obj (0, "dog", 0.6, 0.2, 0.2, 0.4, 0.4);
  g_array_append_val (objs, o);
}

static void
test_label (void)
{
  SrRules *rules = load_ok (CAM "[situation:fire]\ncondition=label\nlabels=dog\nseconds=2\n");
  SrEngine *e = sr_engine_new (rules, 0, 5.0);
  Result r = run_scene (e, 10, fire, NULL);
  g_assert_cmpuint (r.raised->len, ==, 1);
  SrAlert *a = g_ptr_array_index (r.raised, 0);
  /* present from t=2.0, missing on every 4th frame (bridged by the 1 s
   * inertia): raised on the first frame with fire 2 s later (t=4.0 is a
   * missing frame), once */
  g_assert_cmpfloat_with_epsilon (start_t (a), 2.0, 0.01);
  g_assert_cmpfloat_with_epsilon (alert_t (a), 4.2, 0.01);
  g_assert_cmpuint (a->objects->len, ==, 1);
  result_clear (&r);
  sr_engine_free (e);
  sr_rules_free (rules);
}

/* Out-of-order frames are not evaluated; a flood of boxes is bounded. */
static void
test_bad_input (void)
{
  SrRules *rules = load_ok (collision_rules);
  SrEngine *e = sr_engine_new (rules, 200, 5.0);
  SrEngineStats st;
  SrObject o = obj (1, "car", 0.9, 0.1, 0.1, 0.2, 0.2);
  GPtrArray *out = sr_engine_update (e, "cam1", T0 + 1000000, FW, FH, &o, 1);
  g_ptr_array_unref (out);
  out = sr_engine_update (e, "cam1", T0, FW, FH, &o, 1);
  g_assert_cmpuint (out->len, ==, 0);
  g_ptr_array_unref (out);
  sr_engine_get_stats (e, &st);
  g_assert_cmpuint (st.out_of_order, ==, 1);
  g_assert_cmpuint (st.frames, ==, 1);

  /* 500 overlapping moving cars per frame for 10 s: no crash, bounded work;
   * they never stop, so no alert */
  GArray *many = g_array_new (FALSE, FALSE, sizeof (SrObject));
  gint64 t0 = g_get_monotonic_time ();
  for (guint f = 0; f < 50; f++) {
    g_array_set_size (many, 0);
    for (guint i = 0; i < 500; i++) {
      gdouble x = (i % 50) / 60.0 + f * 0.002, y = (i / 50) / 12.0;
      SrObject c = obj (10 + i, "car", 0.9, x, y, x + 0.05, y + 0.1);
      g_array_append_val (many, c);
    }
    out = sr_engine_update (e, "cam1", T0 + 2000000 + f * 200000, FW, FH,
        (SrObject *) many->data, many->len);
    g_assert_cmpuint (out->len, ==, 0);
    g_ptr_array_unref (out);
  }
  g_test_message ("50 frames of 500 boxes: %.1f ms", (g_get_monotonic_time () - t0) / 1e3);
  sr_engine_get_stats (e, &st);
  g_assert_cmpuint (st.objects_dropped, ==, 50 * 300);
  g_array_unref (many);
  sr_engine_free (e);
  sr_rules_free (rules);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/situationrules/load-errors", test_load_errors);
  g_test_add_func ("/situationrules/shipped-rules-load", test_shipped_rules_load);
  g_test_add_func ("/situationrules/in-zone", test_in_zone);
  g_test_add_func ("/situationrules/filters", test_filters);
  g_test_add_func ("/situationrules/line-crossed", test_line_crossed);
  g_test_add_func ("/situationrules/collision", test_collision);
  g_test_add_func ("/situationrules/stationary", test_stationary);
  g_test_add_func ("/situationrules/crowd", test_crowd);
  g_test_add_func ("/situationrules/person-down", test_person_down);
  g_test_add_func ("/situationrules/label", test_label);
  g_test_add_func ("/situationrules/bad-input", test_bad_input);
  return g_test_run ();
}
