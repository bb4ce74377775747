/* e2e: situations with N inference replicas, as real processes on a private RabbitMQ:
 *   3 edges (edge.pipeline) on scenario clips: cam-a collision, cam-b zone intrusion,
 *   cam-c two cars passing (negative);
 *   3 inference launchers (inference.pipeline, Yolo-Fastest-1.1-XL) on one frame queue,
 *   so every camera's frames are spread over the replicas and finish out of order;
 *   1 analytics launcher (analytics.pipeline: amqpsrc kind=detection ! jpegdec !
 *   detectionorder ! objecttrack ! situationdetect ! amqpsink) with the shipped
 *   pipelines/situations/coco.conf.
 * Exactly one alert per true situation lands in the alerts queue (no duplicate, none for
 * the negative), with tracks, zone, start time and a snapshot JPEG on disk. A second test
 * kills the analytics stage (SIGKILL) before the collision and starts a new one: the
 * alert its input still allows is raised, once. */
#include <signal.h>
#include <string.h>
#include <glib/gstdio.h>

#include "ef-test.h"
#include "ef-broker.h"
#include "ef-launcher-test.h"
#include "edgefaas-event.h"

static EfBroker *broker;

typedef struct {
  gchar *dir, *frames;
  GPtrArray *env;
} Run;

static gchar *
make_clip (Run * r, const gchar * scenario)
{
  g_autofree gchar *mk = ef_pipelines_program ("edgefaas-makeclip");
  gchar *clip = g_strdup_printf ("%s/%s.mkv", r->dir, scenario);
  g_autofree gchar *truth = g_strdup_printf ("%s/%s.json", r->dir, scenario);
  const gchar *argv[] = { mk, "--scenario", scenario, "--out", clip, "--truth", truth, NULL };
  g_assert_true (ef_run_sync (argv, NULL));
  return clip;
}

static gchar *
replace (const gchar * text, const gchar * what, const gchar * with)
{
  g_auto (GStrv) parts = g_strsplit (text, what, -1);
  return g_strjoinv (with, parts);
}

/* The shipped rules, with the scenario cameras instead of "demo": the danger zone
 * is on cam-b, the accident rule applies to every camera. */
static gchar *
rules_for_cameras (Run * r)
{
  g_autofree gchar *shipped = ef_source_file ("pipelines", "situations/coco.conf");
  g_autofree gchar *text = NULL;
  g_assert_true (g_file_get_contents (shipped, &text, NULL, NULL));
  g_assert_nonnull (strstr (text, "[camera:demo]"));
  g_autofree gchar *a = replace (text, "[camera:demo]",
      "[camera:cam-a]\n[camera:cam-b]\n[camera:cam-c]");
  g_autofree gchar *b = replace (a, "camera=demo", "camera=cam-b");
  gchar *path = g_build_filename (r->dir, "rules.conf", NULL);
  g_assert_true (g_file_set_contents (path, b, -1, NULL));
  return path;
}

static Run *
run_new (void)
{
  Run *r = g_new0 (Run, 1);
  g_autofree gchar *xl = ef_test_shared_path ("models/yolo-fastest-1.1-xl-coco");
  g_assert_nonnull (xl);
  r->dir = ef_test_mkdtemp ("ef-e2e-analytics");
  r->frames = g_build_filename (r->dir, "frames", NULL);
  g_mkdir (r->frames, 0755);
  g_autofree gchar *rules = rules_for_cameras (r);
  r->env = g_ptr_array_new_with_free_func (g_free);
  g_ptr_array_add (r->env, g_strdup_printf ("EDGEFAAS_AMQP_URL=%s", ef_broker_url (broker)));
  g_ptr_array_add (r->env, g_strdup_printf ("EDGEFAAS_AMQP_PASSWORD=%s",
          ef_broker_password (broker)));
  g_ptr_array_add (r->env, g_strdup_printf ("FRAME_STORE=%s", r->frames));
  g_ptr_array_add (r->env, g_strdup_printf ("MODELS_DIR=%s/..", xl));
  g_ptr_array_add (r->env, g_strdup_printf ("MODEL_CFG=%s/yolo-fastest-1.1-xl.cfg", xl));
  g_ptr_array_add (r->env, g_strdup_printf ("MODEL_WEIGHTS=%s/yolo-fastest-1.1-xl.weights",
          xl));
  g_ptr_array_add (r->env, g_strdup_printf ("MODEL_LABELS=%s/coco.names", xl));
  g_ptr_array_add (r->env, g_strdup_printf ("SITUATION_RULES=%s", rules));
  /* frames keep coming while the cars stand still after the crash */
  g_ptr_array_add (r->env, g_strdup ("MOTION_QUIET_TIME=6000000000"));
  g_ptr_array_add (r->env, NULL);
  g_autofree gchar *topo = ef_pipelines_program ("edgefaas-topology");
  const gchar *targv[] = { topo, NULL };
  g_assert_true (ef_run_sync (targv, (const gchar * const *) r->env->pdata));
  return r;
}

static void
run_free (Run * r)
{
  ef_test_rm_rf (r->dir);
  g_free (r->dir);
  g_free (r->frames);
  g_ptr_array_unref (r->env);
  g_free (r);
}

static GPtrArray *
env_with (Run * r, const gchar * extra1, const gchar * extra2)
{
  GPtrArray *e = g_ptr_array_new_with_free_func (g_free);
  for (guint i = 0; i < r->env->len && g_ptr_array_index (r->env, i); i++)
    g_ptr_array_add (e, g_strdup (g_ptr_array_index (r->env, i)));
  if (extra1)
    g_ptr_array_add (e, g_strdup (extra1));
  if (extra2)
    g_ptr_array_add (e, g_strdup (extra2));
  g_ptr_array_add (e, NULL);
  return e;
}

static EfProc *
start_launcher (Run * r, const gchar * pipeline, gboolean wait_playing)
{
  const gchar *e1 = NULL, *e2 = NULL;
  g_autoptr (GPtrArray) env = env_with (r, e1, e2);
  g_autofree gchar *launch = ef_pipelines_program ("edgefaas-launch");
  g_autofree gchar *file = ef_source_file ("pipelines", pipeline);
  const gchar *argv[] = { launch, "--drain-timeout", "30", file, NULL };
  EfProc *p = ef_proc_start (argv, (const gchar * const *) env->pdata);
  /* the inference pipeline prerolls on its first frame; the analytics one
   * (async=false) is PLAYING as soon as it consumes */
  if (!ef_proc_wait_line (p, "state", "to", wait_playing ? "PLAYING" : "PAUSED", 0, 90,
          NULL)) {
    g_autofree gchar *e = ef_proc_stderr (p);
    g_autofree gchar *o = ef_proc_stdout (p);
    g_error ("%s did not reach PLAYING: %s\n%s", pipeline, e, o);
  }
  return p;
}

static EfProc *
start_edge (Run * r, const gchar * camera, const gchar * clip)
{
  g_autofree gchar *id = g_strdup_printf ("CAMERA_ID=%s", camera);
  g_autofree gchar *uri = g_strdup_printf ("CAMERA_URI=file://%s", clip);
  g_autoptr (GPtrArray) env = env_with (r, id, uri);
  g_autofree gchar *launch = ef_pipelines_program ("edgefaas-launch");
  g_autofree gchar *file = ef_source_file ("pipelines", "edge.pipeline");
  const gchar *argv[] = { launch, file, NULL };
  return ef_proc_start (argv, (const gchar * const *) env->pdata);
}

/* Wait until the frame and analytics queues are empty (everything inferred and
 * analysed), then a little longer than detectionorder's stale timeout. */
static void
wait_drained (void)
{
  gint64 end = g_get_monotonic_time () + 120 * G_USEC_PER_SEC;
  while (g_get_monotonic_time () < end && (ef_queue_total (broker, "frames") > 0
          || ef_queue_total (broker, "analytics") > 0))
    g_usleep (200 * 1000);
  g_assert_cmpuint (ef_queue_total (broker, "frames"), ==, 0);
  g_assert_cmpuint (ef_queue_total (broker, "analytics"), ==, 0);
  g_usleep (4 * G_USEC_PER_SEC);
}

static void
stop (EfProc * p)
{
  ef_proc_signal (p, SIGTERM);
  g_assert_true (ef_proc_wait_exit (p, 60));
  g_assert_cmpint (ef_proc_exit_status (p), ==, 0);
}

typedef struct {
  gchar *key;                   /* situation@camera */
  EdgefaasDetectionEvent *ev;
} Alert;

/* Drain the alerts queue: "situation@camera" -> count; checks every alert. */
static GHashTable *
drain_alerts (Run * r)
{
  GHashTable *counts = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  for (;;) {
    GError *err = NULL;
    GBytes *b = ef_broker_get (broker, "alerts", NULL, &err);
    g_assert_no_error (err);
    if (!b)
      break;
    gsize len;
    const gchar *data = g_bytes_get_data (b, &len);
    EdgefaasDetectionEvent *ev = edgefaas_detection_event_from_json (data, len, &err);
    g_assert_no_error (err);
    g_assert_cmpuint (ev->situations->len, >=, 1);
    for (guint i = 0; i < ev->situations->len; i++) {
      EdgefaasSituation *s = &g_array_index (ev->situations, EdgefaasSituation, i);
      gchar *key = g_strdup_printf ("%s@%s", s->name, ev->camera_id);
      g_test_message ("alert %s: zone %s, %u tracks, started %.1f s before, snapshot %s", key,
          s->zone ? s->zone : "-", s->tracks ? s->tracks->len : 0,
          (ev->source->capture_time_us - s->start_time_us) / 1e6, s->snapshot_uri);
      g_assert_nonnull (s->tracks);
      g_assert_cmpint (s->start_time_us, >, 0);
      g_assert_cmpint (s->start_time_us, <=, ev->source->capture_time_us);
      g_assert_nonnull (s->snapshot_uri);
      g_autofree gchar *path = g_filename_from_uri (s->snapshot_uri, NULL, NULL);
      g_assert_nonnull (path);
      g_assert_true (g_str_has_prefix (path, r->frames) || strstr (path, "frames"));
      g_assert_true (g_file_test (path, G_FILE_TEST_IS_REGULAR));
      if (g_str_equal (s->name, "traffic_accident"))
        g_assert_cmpuint (s->tracks->len, ==, 2);
      if (g_str_equal (s->name, "person_in_danger"))
        g_assert_cmpstr (s->zone, ==, "danger");
      g_hash_table_insert (counts, key, GUINT_TO_POINTER (GPOINTER_TO_UINT
              (g_hash_table_lookup (counts, key)) + 1));
    }
    edgefaas_detection_event_free (ev);
    g_bytes_unref (b);
  }
  return counts;
}

static guint64
exit_member (EfProc * p, const gchar * member)
{
  JsonObject *ex = ef_proc_wait_line (p, "exit", NULL, NULL, 0, 5, NULL);
  g_assert_nonnull (ex);
  return json_object_get_int_member_with_default (ex, member, 0);
}

static void
test_three_replicas_one_alert_each (void)
{
  Run *r = run_new ();
  g_autofree gchar *collision = make_clip (r, "collision");
  g_autofree gchar *zone = make_clip (r, "zone-intrusion");
  g_autofree gchar *passing = make_clip (r, "passing");
  EfProc *analytics = start_launcher (r, "analytics.pipeline", TRUE);
  EfProc *inf[3];
  for (guint i = 0; i < 3; i++)
    inf[i] = start_launcher (r, "inference.pipeline", FALSE);
  EfProc *edges[3] = { start_edge (r, "cam-a", collision), start_edge (r, "cam-b", zone),
    start_edge (r, "cam-c", passing)
  };
  for (guint i = 0; i < 3; i++) {
    g_assert_true (ef_proc_wait_exit (edges[i], 120));
    g_assert_cmpint (ef_proc_exit_status (edges[i]), ==, 0);
  }
  wait_drained ();
  for (guint i = 0; i < 3; i++)
    stop (inf[i]);
  stop (analytics);
  /* the replicas really shared the cameras' frames */
  guint64 total = 0;
  for (guint i = 0; i < 3; i++) {
    guint64 n = exit_member (inf[i], "frames_consumed");
    g_test_message ("replica %u inferred %" G_GUINT64_FORMAT " frames", i, n);
    g_assert_cmpuint (n, >, 0);
    total += n;
  }
  g_assert_cmpuint (exit_member (analytics, "frames_consumed"), ==, total);

  GHashTable *alerts = drain_alerts (r);
  g_assert_cmpuint (GPOINTER_TO_UINT (g_hash_table_lookup (alerts, "traffic_accident@cam-a")),
      ==, 1);
  g_assert_cmpuint (GPOINTER_TO_UINT (g_hash_table_lookup (alerts, "person_in_danger@cam-b")),
      ==, 1);
  g_assert_cmpuint (g_hash_table_size (alerts), ==, 2);
  g_hash_table_unref (alerts);
  for (guint i = 0; i < 3; i++) {
    ef_proc_free (edges[i]);
    ef_proc_free (inf[i]);
  }
  ef_proc_free (analytics);
  run_free (r);
}

static void
test_analytics_restart_mid_clip (void)
{
  Run *r = run_new ();
  g_autofree gchar *collision = make_clip (r, "collision");
  EfProc *analytics = start_launcher (r, "analytics.pipeline", TRUE);
  EfProc *inf[3];
  for (guint i = 0; i < 3; i++)
    inf[i] = start_launcher (r, "inference.pipeline", FALSE);
  EfProc *edge = start_edge (r, "cam-a", collision);
  /* the cars start moving at once; they touch at ~6.5 s of the clip: crash the
   * analytics stage at 3.5 s, a new one takes over at ~4.5 s */
  g_assert_nonnull (ef_proc_wait_line (edge, "motion-start", NULL, NULL, 0, 30, NULL));
  g_usleep (3500 * 1000);
  ef_proc_signal (analytics, SIGKILL);
  g_assert_true (ef_proc_wait_exit (analytics, 10));
  ef_proc_free (analytics);
  g_usleep (1000 * 1000);
  analytics = start_launcher (r, "analytics.pipeline", TRUE);
  g_assert_true (ef_proc_wait_exit (edge, 120));
  wait_drained ();
  for (guint i = 0; i < 3; i++)
    stop (inf[i]);
  stop (analytics);
  GHashTable *alerts = drain_alerts (r);
  g_assert_cmpuint (GPOINTER_TO_UINT (g_hash_table_lookup (alerts, "traffic_accident@cam-a")),
      ==, 1);
  g_assert_cmpuint (g_hash_table_size (alerts), ==, 1);
  g_hash_table_unref (alerts);
  for (guint i = 0; i < 3; i++)
    ef_proc_free (inf[i]);
  ef_proc_free (edge);
  ef_proc_free (analytics);
  run_free (r);
}

int
main (int argc, char **argv)
{
  ef_test_init (&argc, &argv);
  EfBrokerOptions opts = { .management = TRUE };
  GError *err = NULL;
  broker = ef_broker_start (&opts, &err);
  if (!broker)
    g_error ("cannot start the RabbitMQ fixture: %s", err->message);
  g_test_add_func ("/e2e-analytics/three-replicas-one-alert-each",
      test_three_replicas_one_alert_each);
  g_test_add_func ("/e2e-analytics/analytics-restart-mid-clip",
      test_analytics_restart_mid_clip);
  int rc = g_test_run ();
  ef_broker_free (broker);
  return rc;
}
