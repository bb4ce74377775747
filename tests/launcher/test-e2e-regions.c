/* e2e: regions. Two regions' frame queues (frames-a, frames-b) and a central one, as
 * edgefaas-topology --regions declares them; one edgefaas-scale per region on its own
 * queue (the same ScaledObject file, queueName overridden per region); the edge pipeline
 * of a camera in one region on a generated clip; the real model.
 *  - motion in region A scales only A; B stays at zero; every frame inferred once;
 *  - region C without capacity (no scaler): its frames wait out the spill bound, the
 *    broker dead-letters them (expired) through edgefaas.spill to frames-central and the
 *    central region infers them: nothing lost, nothing duplicated;
 *  - a camera of an unknown region: the edge says its frames are unroutable. */
#include <signal.h>
#include <string.h>

#include "ef-test.h"
#include "ef-broker.h"
#include "ef-launcher-test.h"
#include "edgefaas-event.h"

static EfBroker *broker;
static gchar *dir, *clip;
static GPtrArray *base_env;

/* base_env plus up to four "NAME=VALUE" (later ones win), NULL-terminated. */
static GPtrArray *
env_with (const gchar * e1, const gchar * e2, const gchar * e3, const gchar * e4)
{
  GPtrArray *e = g_ptr_array_new_with_free_func (g_free);
  for (guint i = 0; i < base_env->len; i++)
    g_ptr_array_add (e, g_strdup (g_ptr_array_index (base_env, i)));
  const gchar *extra[] = { e1, e2, e3, e4 };
  for (guint i = 0; i < G_N_ELEMENTS (extra); i++)
    if (extra[i])
      g_ptr_array_add (e, g_strdup (extra[i]));
  g_ptr_array_add (e, NULL);
  return e;
}

static void
wait_queue_total (const gchar * queue, guint want, gdouble timeout_s)
{
  gint64 deadline = g_get_monotonic_time () + timeout_s * G_USEC_PER_SEC;
  while (ef_queue_total (broker, queue) != want && g_get_monotonic_time () < deadline)
    g_usleep (200000);
  g_assert_cmpuint (ef_queue_total (broker, queue), ==, want);
}

/* One scaler for @region's queue frames-<region>; its replicas serve that region. */
static EfProc *
start_region_scaler (const gchar * region, gboolean declare)
{
  g_autofree gchar *scale = ef_pipelines_program ("edgefaas-scale");
  g_autofree gchar *launch = ef_pipelines_program ("edgefaas-launch");
  g_autofree gchar *so = ef_source_file ("tests/launcher", "scaledobject-test.yaml");
  g_autofree gchar *inf = ef_source_file ("pipelines", "inference.pipeline");
  g_autofree gchar *queue = g_strdup_printf ("frames-%s", region);
  g_autofree gchar *e_region = g_strdup_printf ("REGION=%s", region);
  g_autofree gchar *e_queue = g_strdup_printf ("EDGEFAAS_FRAME_QUEUE=%s", queue);
  g_autofree gchar *e_binding = g_strdup_printf ("EDGEFAAS_FRAME_BINDING=frames.%s.#", region);
  g_autoptr (GPtrArray) env = env_with (e_region, e_queue, e_binding,
      declare ? NULL : "EDGEFAAS_DECLARE=false");
  const gchar *argv[] = { scale, "--scaledobject", so, "--queue", queue,
    "--max-replica-count", "1", "--", launch, "--drain-timeout", "30", inf, NULL
  };
  EfProc *p = ef_proc_start (argv, (const gchar * const *) env->pdata);
  g_assert_nonnull (ef_proc_wait_line (p, "scaler-start", NULL, NULL, 0, 10, NULL));
  return p;
}

/* The edge pipeline of camera @camera in @region over the whole clip; returns the number
 * of frames it sent (the edge process is returned in *edge_out if not NULL). */
static guint64
run_edge (const gchar * camera, const gchar * region, const gchar * extra, EfProc ** edge_out)
{
  g_autofree gchar *e_region = g_strdup_printf ("REGION=%s", region);
  g_autofree gchar *e_cam = g_strdup_printf ("CAMERA_ID=%s", camera);
  g_autofree gchar *e_queue = g_strdup_printf ("EDGEFAAS_FRAME_QUEUE=frames-%s", region);
  g_autoptr (GPtrArray) env = env_with (e_region, e_cam, e_queue, "EDGEFAAS_DECLARE=false");
  if (extra) {
    g_ptr_array_remove_index (env, env->len - 1);
    g_ptr_array_add (env, g_strdup (extra));
    g_ptr_array_add (env, NULL);
  }
  return ef_run_edge_to_end ((const gchar * const *) env->pdata, edge_out);
}

/* Drain the detections queue: every message must be of @camera; returns the number of
 * messages, and the number of distinct source frames in *distinct. */
static guint
drain_detections (const gchar * camera, guint * distinct)
{
  g_autoptr (GHashTable) seqs = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free,
      NULL);
  guint n = 0;
  for (;;) {
    GError *err = NULL;
    GBytes *b = ef_broker_get (broker, "detections", NULL, &err);
    g_assert_no_error (err);
    if (!b)
      break;
    gsize len;
    const gchar *data = g_bytes_get_data (b, &len);
    EdgefaasDetectionEvent *ev = edgefaas_detection_event_from_json (data, len, &err);
    g_assert_no_error (err);
    g_assert_cmpstr (ev->camera_id, ==, camera);
    g_assert_nonnull (ev->source);
    gint64 *k = g_new (gint64, 1);
    *k = ev->source->sequence;
    g_hash_table_add (seqs, k);
    n++;
    edgefaas_detection_event_free (ev);
    g_bytes_unref (b);
  }
  *distinct = g_hash_table_size (seqs);
  return n;
}

static void
stop_scaler (EfProc * s)
{
  ef_proc_signal (s, SIGTERM);
  g_assert_true (ef_proc_wait_exit (s, 60));
  g_assert_cmpint (ef_proc_exit_status (s), ==, 0);
}

static void
test_motion_scales_only_its_region (void)
{
  EfProc *sa = start_region_scaler ("a", FALSE);
  EfProc *sb = start_region_scaler ("b", FALSE);
  guint64 sent = run_edge ("cam-a", "a", NULL, NULL);
  g_test_message ("region a: %" G_GUINT64_FORMAT " frames sent", sent);
  g_assert_cmpuint (sent, >, 0);
  /* every frame gets one detection event (possibly empty) from region a's replica */
  wait_queue_total ("detections", sent, 90);
  wait_queue_total ("frames-a", 0, 10);
  g_assert_cmpuint (ef_proc_count (sa, "replica-start"), >=, 1);
  g_assert_cmpuint (ef_proc_count (sb, "replica-start"), ==, 0);
  stop_scaler (sa);
  stop_scaler (sb);
  g_assert_cmpuint (ef_proc_count (sb, "replica-start"), ==, 0);
  guint distinct = 0;
  g_assert_cmpuint (drain_detections ("cam-a", &distinct), ==, sent);
  g_assert_cmpuint (distinct, ==, sent);
  /* nothing spilled (the bound of a and b is 60 s), nothing dead */
  g_assert_cmpuint (ef_queue_total (broker, "frames-central"), ==, 0);
  g_assert_cmpuint (ef_queue_total (broker, "frames-a.dead"), ==, 0);
  ef_proc_free (sa);
  ef_proc_free (sb);
}

static void
test_region_without_capacity_spills_to_central (void)
{
  /* region c has no scaler at all (capacity 0); the central region has one, with
   * declare=true: its queue is declared exactly as the elements declare a queue. */
  EfProc *sc = start_region_scaler ("central", TRUE);
  gint64 t0 = g_get_monotonic_time ();
  gint64 wall0 = g_get_real_time ();
  guint64 sent = run_edge ("cam-c", "c", NULL, NULL);
  g_test_message ("region c: %" G_GUINT64_FORMAT " frames sent", sent);
  g_assert_cmpuint (sent, >, 0);
  /* within the bound (3 s) the frames wait in c's own queue */
  if ((g_get_monotonic_time () - t0) < 2 * G_USEC_PER_SEC)
    g_assert_cmpuint (ef_queue_total (broker, "frames-c"), >, 0);
  wait_queue_total ("detections", sent, 90);
  g_test_message ("region c's frames inferred by central %.1f s after the edge started",
      (g_get_monotonic_time () - t0) / 1e6);
  g_assert_cmpuint (ef_queue_total (broker, "frames-c"), ==, 0);
  /* the central region started only when the frames had waited out c's bound: they
   * came by the spill, not by a binding of the central queue to c's routing keys */
  JsonObject *rs = ef_proc_wait_line (sc, "replica-start", NULL, NULL, 0, 0, NULL);
  g_assert_nonnull (rs);
  GDateTime *d = g_date_time_new_from_iso8601 (json_object_get_string_member (rs, "ts"), NULL);
  gint64 start_us = g_date_time_to_unix (d) * G_USEC_PER_SEC + g_date_time_get_microsecond (d);
  g_date_time_unref (d);
  g_test_message ("central replica started %.1f s after the edge", (start_us - wall0) / 1e6);
  g_assert_cmpint (start_us - wall0, >=, 3 * G_USEC_PER_SEC);
  stop_scaler (sc);
  guint distinct = 0;
  g_assert_cmpuint (drain_detections ("cam-c", &distinct), ==, sent);
  g_assert_cmpuint (distinct, ==, sent);
  /* spilled frames are not poison: no dead letters anywhere, none for a redelivery */
  g_assert_cmpuint (ef_queue_total (broker, "frames-c.dead"), ==, 0);
  g_assert_cmpuint (ef_queue_total (broker, "frames-central.dead"), ==, 0);
  ef_proc_free (sc);
}

static void
test_unknown_region_is_unroutable (void)
{
  EfProc *edge = NULL;
  /* at the camera's rate: the broker's basic.return arrives while the pipeline runs */
  guint64 sent = run_edge ("cam-x", "nowhere", "EDGEFAAS_SYNC=true", &edge);
  g_assert_cmpuint (sent, >, 0);
  ef_proc_update (edge);
  gboolean warned = FALSE;
  for (guint i = 0; i < edge->lines->len; i++) {
    JsonObject *o = g_ptr_array_index (edge->lines, i);
    const gchar *m = json_object_get_string_member_with_default (o, "message", "");
    if (g_str_equal (json_object_get_string_member_with_default (o, "type", ""), "warning")
        && strstr (m, "unroutable") && strstr (m, "frames.nowhere."))
      warned = TRUE;
  }
  if (!warned) {
    g_autofree gchar *out = ef_proc_stdout (edge);
    g_test_message ("edge stdout: %s", out);
    g_autofree gchar *q = ef_broker_ctl (broker, NULL, "list_queues", "name", "messages", NULL);
    g_autofree gchar *b = ef_broker_ctl (broker, NULL, "list_bindings", NULL);
    g_test_message ("queues: %s\nbindings: %s", q, b);
  }
  g_assert_true (warned);
  ef_proc_free (edge);
  g_assert_cmpuint (ef_queue_total (broker, "frames-central"), ==, 0);
}

/* Bad region settings are refused before anything is declared. */
static void
test_topology_refuses_bad_regions (void)
{
  g_autofree gchar *topo = ef_pipelines_program ("edgefaas-topology");
  const struct { const gchar *regions, *central, *spill, *want; } cases[] = {
    {"a,b", "c", "1000", "must name one of the regions"},
    {"a,B_1", "a", "1000", "is not a DNS label"},
    {"a,central", "central", "0", "--spill-after must be > 0"},
  };
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
    const gchar *argv[] = { topo, "--regions", cases[i].regions, "--central", cases[i].central,
      "--spill-after", cases[i].spill, NULL
    };
    EfProc *p = ef_proc_start (argv, (const gchar * const *) base_env->pdata);
    g_assert_true (ef_proc_wait_exit (p, 30));
    g_assert_cmpint (ef_proc_exit_status (p), ==, 2);
    g_autofree gchar *err = ef_proc_stderr (p);
    g_assert_nonnull (strstr (err, cases[i].want));
    ef_proc_free (p);
  }
}

static void
declare_regions (const gchar * regions, const gchar * spill_ms)
{
  g_autofree gchar *topo = ef_pipelines_program ("edgefaas-topology");
  const gchar *argv[] = { topo, "--regions", regions, "--central", "central",
    "--spill-after", spill_ms, NULL
  };
  g_assert_true (ef_run_sync (argv, (const gchar * const *) base_env->pdata));
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
  g_autofree gchar *models = ef_test_shared_path ("models/yolo-fastest-1.1-coco");
  g_assert_nonnull (models);     /* fails loudly when the model is missing */
  g_autofree gchar *models_dir = g_path_get_dirname (models);
  dir = ef_test_mkdtemp ("ef-e2e-regions");
  clip = g_build_filename (dir, "clip.mkv", NULL);
  g_autofree gchar *truth = g_build_filename (dir, "truth.json", NULL);
  g_autofree gchar *frames = g_build_filename (dir, "frames", NULL);
  base_env = g_ptr_array_new_with_free_func (g_free);
  g_ptr_array_add (base_env, g_strdup_printf ("EDGEFAAS_AMQP_URL=%s", ef_broker_url (broker)));
  g_ptr_array_add (base_env, g_strdup_printf ("EDGEFAAS_AMQP_PASSWORD=%s",
          ef_broker_password (broker)));
  g_ptr_array_add (base_env, g_strdup_printf ("EF_BROKER_MGMT_PORT=%u",
          ef_broker_management_port (broker)));
  g_ptr_array_add (base_env, g_strdup_printf ("FRAME_STORE=%s", frames));
  g_ptr_array_add (base_env, g_strdup_printf ("MODELS_DIR=%s", models_dir));
  g_ptr_array_add (base_env, g_strdup_printf ("CAMERA_URI=file://%s", clip));
  g_ptr_array_add (base_env, g_strdup ("EDGEFAAS_SYNC=false"));
  g_autofree gchar *mk = ef_pipelines_program ("edgefaas-makeclip");
  const gchar *margv[] = { mk, "--out", clip, "--truth", truth, "--schedule",
    "quiet:2,dog:3,quiet:1", NULL
  };
  g_assert_true (ef_run_sync (margv, NULL));
  g_ptr_array_add (base_env, NULL);
  /* a and b wait up to 60 s (no spill while a's replica loads); c spills after 3 s */
  declare_regions ("a,b,central", "60000");
  declare_regions ("c,central", "3000");
  g_ptr_array_remove_index (base_env, base_env->len - 1);

  g_test_add_func ("/e2e-regions/motion-scales-only-its-region",
      test_motion_scales_only_its_region);
  g_test_add_func ("/e2e-regions/region-without-capacity-spills-to-central",
      test_region_without_capacity_spills_to_central);
  g_test_add_func ("/e2e-regions/topology-refuses-bad-regions",
      test_topology_refuses_bad_regions);
  g_test_add_func ("/e2e-regions/unknown-region-is-unroutable",
      test_unknown_region_is_unroutable);
  int rc = g_test_run ();
  ef_broker_free (broker);
  ef_test_rm_rf (dir);
  return rc;
}
