/* Situations on the scenario clips, real pipeline end to end:
 *   edgefaas-makeclip --scenario NAME (truth JSON)
 *   filesrc ! matroskademux ! jpegdec ! videoconvert
 *   ! yolov4infer (Yolo-Fastest-1.1-XL, ../shared/models) ! objecttrack
 *   ! situationdetect rules=<shipped pipelines/situations/coco.conf + the clip's zone/line>
 * Every alert the clip should raise is raised exactly once, within
 * [-0.5 s, +1.5 s] of the truth's start_s + T; nothing else is raised, on the
 * positives and on the negatives (passing cars, a parked car for the accident
 * rule, a person walking past the zone, a person down for less than 4 s, two
 * minutes of noise). The two person-down clips run objecttrack with a lower
 * high-threshold (LYING_TRACK_OPTS). */
#include <string.h>
#include <json-glib/json-glib.h>
#include <gst/gst.h>

#include "ef-test.h"

#define XL "models/yolo-fastest-1.1-xl-coco"

/* the scenario zone/line rules (tests/analytics/scenario-extra.conf) split by clip */
static const gchar *gate_rules =
    "[line:gate]\ncamera=demo\npoints=0.5,0.58;0.5,1.0\n"
    "[situation:gate_positive]\ncondition=line-crossed\nline=gate\ndirection=left-to-right\n"
    "labels=person\n"
    "[situation:gate_negative]\ncondition=line-crossed\nline=gate\ndirection=right-to-left\n"
    "labels=person\n";
static const gchar *crowd_rules =
    "[zone:plaza]\ncamera=demo\npolygon=0.12,0.62;0.88,0.62;0.88,0.98;0.12,0.98\n"
    "[situation:crowding]\ncondition=crowd\nlabels=person\nzone=plaza\ncount=5\nseconds=3\n";
static const gchar *parked_rules =
    "[situation:parked_vehicle]\ncondition=stationary\nlabels=vehicle\nseconds=10\n";

typedef struct {
  const gchar *situation;
  gdouble at_s;                 /* truth start_s + T */
  gint n_tracks;                 /* exact; negative: at least -n_tracks */
} Want;

typedef struct {
  gchar *situation;
  gdouble t_s, start_s;
  gchar *ids;
} Got;

static void
got_clear (gpointer p)
{
  Got *g = p;
  g_free (g->situation);
  g_free (g->ids);
}

static gchar *
prog (const gchar * name)
{
  return g_build_filename (g_getenv ("EDGEFAAS_BUILD_ROOT"), "pipelines", name, NULL);
}

/* Makes the clip; returns the truth's expected[] start_s of @situation (or -1). */
static gdouble
make_clip (const gchar * dir, const gchar * scenario, gchar ** clip_out, gchar ** names)
{
  g_autofree gchar *mk = prog ("edgefaas-makeclip");
  gchar *clip = g_strdup_printf ("%s/%s.mkv", dir, scenario);
  g_autofree gchar *truth = g_strdup_printf ("%s/%s.json", dir, scenario);
  const gchar *argv[] = { mk, "--scenario", scenario, "--out", clip, "--truth", truth, NULL };
  gint status = 1;
  g_autofree gchar *err = NULL;
  g_assert_true (g_spawn_sync (NULL, (gchar **) argv, NULL, 0, NULL, NULL, NULL, &err,
          &status, NULL));
  if (!g_spawn_check_wait_status (status, NULL))
    g_error ("edgefaas-makeclip --scenario %s failed: %s", scenario, err);
  *clip_out = clip;
  JsonParser *p = json_parser_new ();
  g_assert_true (json_parser_load_from_file (p, truth, NULL));
  JsonArray *exp = json_object_get_array_member (json_node_get_object (json_parser_get_root
          (p)), "expected");
  gdouble start = -1;
  GString *s = g_string_new ("");
  for (guint i = 0; i < json_array_get_length (exp); i++) {
    JsonObject *o = json_array_get_object_element (exp, i);
    g_string_append_printf (s, "%s@%.1f ", json_object_get_string_member (o, "situation"),
        json_object_get_double_member (o, "start_s"));
    if (start < 0)
      start = json_object_get_double_member (o, "start_s");
  }
  *names = g_string_free (s, FALSE);
  g_object_unref (p);
  return start;
}

/* The shipped rules (with @shipped) or only the camera, plus @extra. */
static gchar *
rules_file (const gchar * dir, const gchar * scenario, gboolean shipped, const gchar * extra)
{
  g_autofree gchar *path_shipped = g_build_filename (ef_test_source_root (), "pipelines",
      "situations", "coco.conf", NULL);
  gchar *text = NULL;
  if (shipped)
    g_assert_true (g_file_get_contents (path_shipped, &text, NULL, NULL));
  else
    text = g_strdup ("[camera:demo]\n");
  gchar *path = g_strdup_printf ("%s/%s.conf", dir, scenario);
  gchar *all = g_strconcat (text, "\n", extra ? extra : "", NULL);
  g_assert_true (g_file_set_contents (path, all, -1, NULL));
  g_free (all);
  g_free (text);
  return path;
}

/* @track_opts: objecttrack properties ("" = its defaults) */
static GArray *
run_clip (const gchar * clip, const gchar * rules, const gchar * track_opts)
{
  g_autofree gchar *cfg = ef_test_shared_path (XL "/yolo-fastest-1.1-xl.cfg");
  g_autofree gchar *weights = ef_test_shared_path (XL "/yolo-fastest-1.1-xl.weights");
  g_autofree gchar *names = ef_test_shared_path (XL "/coco.names");
  g_assert_nonnull (cfg);
  g_assert_nonnull (weights);
  g_autofree gchar *desc = g_strdup_printf ("filesrc location=\"%s\" ! matroskademux ! "
      "jpegdec ! videoconvert ! yolov4infer config=\"%s\" weights=\"%s\" labels=\"%s\" "
      "post-messages=false ! objecttrack %s ! situationdetect name=sit rules=\"%s\" "
      "labels=\"%s\" camera-id=demo ! fakesink", clip, cfg, weights, names, track_opts, rules,
      names);
  GError *err = NULL;
  GstElement *pipe = gst_parse_launch (desc, &err);
  g_assert_no_error (err);
  GArray *got = g_array_new (FALSE, TRUE, sizeof (Got));
  g_array_set_clear_func (got, got_clear);
  GstBus *bus = gst_element_get_bus (pipe);
  g_assert_cmpint (gst_element_set_state (pipe, GST_STATE_PLAYING), !=,
      GST_STATE_CHANGE_FAILURE);
  for (;;) {
    GstMessage *m = gst_bus_timed_pop_filtered (bus, 600 * GST_SECOND,
        GST_MESSAGE_EOS | GST_MESSAGE_ERROR | GST_MESSAGE_ELEMENT);
    g_assert_nonnull (m);
    if (GST_MESSAGE_TYPE (m) == GST_MESSAGE_ERROR) {
      GError *e = NULL;
      gst_message_parse_error (m, &e, NULL);
      g_error ("pipeline error: %s", e->message);
    }
    if (GST_MESSAGE_TYPE (m) == GST_MESSAGE_EOS) {
      gst_message_unref (m);
      break;
    }
    const GstStructure *s = gst_message_get_structure (m);
    if (gst_structure_has_name (s, "situation")) {
      Got g = { 0 };
      gint64 t = 0, st = 0;
      g.situation = g_strdup (gst_structure_get_string (s, "name"));
      g.ids = g_strdup (gst_structure_get_string (s, "track-ids"));
      gst_structure_get_int64 (s, "time-us", &t);
      gst_structure_get_int64 (s, "start-time-us", &st);
      g.t_s = t / 1e6;
      g.start_s = st / 1e6;
      g_test_message ("  raised %s at %.1f s (condition since %.1f s), tracks %s",
          g.situation, g.t_s, g.start_s, g.ids);
      g_array_append_val (got, g);
    }
    gst_message_unref (m);
  }
  gst_element_set_state (pipe, GST_STATE_NULL);
  gst_object_unref (bus);
  gst_object_unref (pipe);
  return got;
}

static guint
n_ids (const gchar * ids)
{
  g_auto (GStrv) v = g_strsplit (ids, ",", -1);
  return g_strv_length (v);
}

/* @want: what must be raised (NULL-terminated by situation == NULL); the
 * truth's first start_s replaces a negative at_s as (start_s - at_s). */
static void
check_scenario_tracked (const gchar * scenario, gboolean shipped, const gchar * extra,
    const gchar * track_opts, const Want * want)
{
  g_autofree gchar *dir = ef_test_mkdtemp ("scenario");
  g_autofree gchar *clip = NULL, *truth_names = NULL;
  gdouble start = make_clip (dir, scenario, &clip, &truth_names);
  g_autofree gchar *rules = rules_file (dir, scenario, shipped, extra);
  g_test_message ("%s: truth expects [%s]", scenario, truth_names);
  GArray *got = run_clip (clip, rules, track_opts);
  gboolean *used = g_new0 (gboolean, got->len + 1);
  guint n_want = 0;
  for (const Want * w = want; w->situation; w++, n_want++) {
    gdouble at = w->at_s >= 0 ? w->at_s : start - w->at_s;
    gboolean found = FALSE;
    for (guint i = 0; i < got->len && !found; i++) {
      Got *g = &g_array_index (got, Got, i);
      if (used[i] || !g_str_equal (g->situation, w->situation))
        continue;
      g_test_message ("%s: %s expected at %.1f s, raised at %.1f s (delay %+.1f s)",
          scenario, w->situation, at, g->t_s, g->t_s - at);
      g_assert_cmpfloat (g->t_s, >=, at - 0.5);
      g_assert_cmpfloat (g->t_s, <=, at + 1.5);
      if (w->n_tracks >= 0)
        g_assert_cmpuint (n_ids (g->ids), ==, (guint) w->n_tracks);
      else
        g_assert_cmpuint (n_ids (g->ids), >=, (guint) - w->n_tracks);
      used[i] = found = TRUE;
    }
    if (!found)
      g_error ("%s: %s (expected at %.1f s) was not raised", scenario, w->situation, at);
  }
  for (guint i = 0; i < got->len; i++)
    if (!used[i])
      g_error ("%s: unexpected alert %s at %.1f s", scenario,
          g_array_index (got, Got, i).situation, g_array_index (got, Got, i).t_s);
  g_assert_cmpuint (got->len, ==, n_want);
  g_free (used);
  g_array_unref (got);
  ef_test_rm_rf (dir);
}

static void
check_scenario (const gchar * scenario, gboolean shipped, const gchar * extra,
    const Want * want)
{
  check_scenario_tracked (scenario, shipped, extra, "", want);
}

/* Yolo-Fastest-XL finds the lying person of the person-down clips on every
 * frame, but with confidence 0.39-0.55 (median 0.44; upright 0.97): below
 * objecttrack's default high-threshold (0.5) those boxes only continue a track
 * at IoU >= 0.5 with its prediction, which the fall's own motion overshoots, so
 * the track is lost a few frames after the fall (measured; docs/scenarios.md).
 * These clips run with a lower high-threshold; the shipped rule (min-score 0.4
 * on the track's median confidence) is unchanged. */
#define LYING_TRACK_OPTS "high-threshold=0.35"

/* at_s < 0: truth start_s + (-at_s) */
static void
test_collision (void)
{
  /* accident: overlap and both stopped at 7.0, seconds=3; both cars are also
   * stationary vehicles 10 s after they stopped */
  const Want w[] = { {"traffic_accident", -3.0, 2}, {"parked_vehicle", -10.0, 1},
  {"parked_vehicle", -10.0, 1}, {NULL}
  };
  check_scenario ("collision", TRUE, parked_rules, w);
}

static void
test_passing (void)
{
  const Want w[] = { {NULL} };
  check_scenario ("passing", TRUE, parked_rules, w);
}

static void
test_parked (void)
{
  /* one parked car: no accident (car and truck on it are one box); it is a
   * stationary vehicle from the first frame, so at 10 s */
  const Want w[] = { {"parked_vehicle", 10.0, 1}, {NULL} };
  check_scenario ("parked", TRUE, parked_rules, w);
}

static void
test_zone_intrusion (void)
{
  const Want w[] = { {"person_in_danger", -2.0, 1}, {NULL} };
  check_scenario ("zone-intrusion", TRUE, NULL, w);
}

static void
test_zone_pass (void)
{
  const Want w[] = { {NULL} };
  check_scenario ("zone-pass", TRUE, NULL, w);
}

static void
test_line_crossing (void)
{
  /* truth: object 1 crosses "negative" at 5.6, object 2 "positive" at 16.5 */
  const Want w[] = { {"gate_negative", 5.6, 1}, {"gate_positive", 16.5, 1}, {NULL} };
  /* the danger zone of coco.conf is not part of this scene (people walk
   * through where it would be): only the gate */
  check_scenario ("line-crossing", FALSE, gate_rules, w);
}

static void
test_crowd (void)
{
  const Want w[] = { {"crowding", -3.0, -5}, {NULL} };
  check_scenario ("crowd", FALSE, crowd_rules, w);
}

static void
test_person_down (void)
{
  /* truth: the box is lying (w/h >= 1.2) from start_s; coco.conf's person_down
   * has seconds=4 */
  const Want w[] = { {"person_down", -4.0, 1}, {NULL} };
  check_scenario_tracked ("person-down", TRUE, NULL, LYING_TRACK_OPTS, w);
}

static void
test_person_stumble (void)
{
  /* down for about 2 s, then up again: shorter than person_down's 4 s, so
   * only a 1 s rule raises (which shows the fall was seen and tracked) */
  static const gchar *short_rule =
      "[situation:person_down_1s]\ncondition=person-down\nlabels=person\nseconds=1\n"
      "min-score=0.4\n";
  /* truth: lying from 8.5 s to 10.4 s (a negative has no expected[]) */
  const Want w[] = { {"person_down_1s", 9.5, 1}, {NULL} };
  check_scenario_tracked ("person-stumble", TRUE, short_rule, LYING_TRACK_OPTS, w);
}

static void
test_quiet (void)
{
  const Want w[] = { {NULL} };
  g_autofree gchar *extra = g_strconcat (gate_rules, crowd_rules, parked_rules, NULL);
  check_scenario ("quiet", TRUE, extra, w);
}

int
main (int argc, char **argv)
{
  gst_init (&argc, &argv);
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/scenarios/collision", test_collision);
  g_test_add_func ("/scenarios/passing", test_passing);
  g_test_add_func ("/scenarios/parked", test_parked);
  g_test_add_func ("/scenarios/zone-intrusion", test_zone_intrusion);
  g_test_add_func ("/scenarios/zone-pass", test_zone_pass);
  g_test_add_func ("/scenarios/line-crossing", test_line_crossing);
  g_test_add_func ("/scenarios/crowd", test_crowd);
  g_test_add_func ("/scenarios/person-down", test_person_down);
  g_test_add_func ("/scenarios/person-stumble", test_person_stumble);
  g_test_add_func ("/scenarios/quiet", test_quiet);
  return g_test_run ();
}
