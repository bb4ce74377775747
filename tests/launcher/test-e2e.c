/* e2e: the whole system as real processes: a private RabbitMQ (management on), the
 * scaler running inference launchers, the edge launcher on a generated clip with known
 * quiet and motion intervals, the real model from ../shared/models. */
#include <signal.h>
#include <string.h>

#include "ef-test.h"
#include "ef-broker.h"
#include "ef-launcher-test.h"
#include "edgefaas-event.h"

static EfBroker *broker;

typedef struct {
  gchar *dir, *clip, *truth, *frames;
  GPtrArray *env;
} Run;

static Run *
run_new (const gchar * schedule)
{
  Run *r = g_new0 (Run, 1);
  g_autofree gchar *models = ef_test_shared_path ("models/yolo-fastest-1.1-coco");
  g_assert_nonnull (models);     /* fails loudly when the model is missing */
  r->dir = ef_test_mkdtemp ("ef-e2e");
  r->clip = g_build_filename (r->dir, "clip.mkv", NULL);
  r->truth = g_build_filename (r->dir, "truth.json", NULL);
  r->frames = g_build_filename (r->dir, "frames", NULL);
  r->env = g_ptr_array_new_with_free_func (g_free);
  g_autofree gchar *models_dir = g_path_get_dirname (models);
  g_ptr_array_add (r->env, g_strdup_printf ("EDGEFAAS_AMQP_URL=%s", ef_broker_url (broker)));
  g_ptr_array_add (r->env, g_strdup_printf ("EDGEFAAS_AMQP_PASSWORD=%s",
          ef_broker_password (broker)));
  g_ptr_array_add (r->env, g_strdup_printf ("EF_BROKER_MGMT_PORT=%u",
          ef_broker_management_port (broker)));
  g_ptr_array_add (r->env, g_strdup_printf ("FRAME_STORE=%s", r->frames));
  g_ptr_array_add (r->env, g_strdup_printf ("MODELS_DIR=%s", models_dir));
  g_ptr_array_add (r->env, g_strdup_printf ("CAMERA_URI=file://%s", r->clip));
  g_ptr_array_add (r->env, g_strdup ("CAMERA_ID=cam-e2e"));
  g_ptr_array_add (r->env, NULL);
  g_autofree gchar *mk = ef_pipelines_program ("edgefaas-makeclip");
  const gchar *argv[] = { mk, "--out", r->clip, "--truth", r->truth, "--schedule", schedule,
    NULL
  };
  g_assert_true (ef_run_sync (argv, NULL));
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
  g_free (r->clip);
  g_free (r->truth);
  g_free (r->frames);
  g_ptr_array_unref (r->env);
  g_free (r);
}

/* r->env plus @extra ("NAME=VALUE", later entries override earlier ones), NULL-terminated. */
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

/* Run the edge pipeline over the whole clip (as fast as it decodes) and return the
 * number of frame messages it sent. */
static guint64
run_edge_to_end (Run * r, const gchar * frame_store_setting)
{
  g_autoptr (GPtrArray) env = env_with (r, frame_store_setting, "EDGEFAAS_SYNC=false");
  return ef_run_edge_to_end ((const gchar * const *) env->pdata, NULL);
}

static EfProc *
start_inference (Run * r, const gchar * frame_store_setting)
{
  g_autoptr (GPtrArray) env = env_with (r, frame_store_setting, NULL);
  g_autofree gchar *launch = ef_pipelines_program ("edgefaas-launch");
  g_autofree gchar *inf = ef_source_file ("pipelines", "inference.pipeline");
  const gchar *argv[] = { launch, "--drain-timeout", "30", inf, NULL };
  return ef_proc_start (argv, (const gchar * const *) env->pdata);
}

/* Warning lines posted by element @source (the launcher logs every bus warning). */
static guint
count_warnings_from (EfProc * p, const gchar * source)
{
  ef_proc_update (p);
  guint n = 0;
  for (guint i = 0; i < p->lines->len; i++) {
    JsonObject *o = g_ptr_array_index (p->lines, i);
    if (g_str_equal (json_object_get_string_member_with_default (o, "type", ""), "warning")
        && g_str_equal (json_object_get_string_member_with_default (o, "source", ""), source))
      n++;
  }
  return n;
}

/* Body bytes of the messages in @queue (rabbitmqctl message_bytes: bodies only, not the
 * properties/headers). */
static guint64
queue_body_bytes (const gchar * queue)
{
  GError *err = NULL;
  g_autofree gchar *out = ef_broker_ctl (broker, &err, "list_queues", "-q",
      "--no-table-headers", "name", "message_bytes", NULL);
  g_assert_no_error (err);
  g_auto (GStrv) lines = g_strsplit (out, "\n", -1);
  for (gchar ** l = lines; *l; l++) {
    g_auto (GStrv) f = g_strsplit_set (*l, "\t ", -1);
    if (g_strv_length (f) >= 2 && g_str_equal (f[0], queue))
      return g_ascii_strtoull (f[1], NULL, 10);
  }
  g_error ("queue %s not listed by rabbitmqctl", queue);
  return 0;
}

/* Mean body size of a frame message, inline (set by the inline test, 0 if it did not run). */
static gdouble inline_mean_bytes;

static guint
queue_total (const gchar * queue)
{
  GError *err = NULL;
  guint ready = 0, unacked = 0;
  g_assert_true (ef_broker_queue_counts (broker, queue, &ready, &unacked, &err));
  g_assert_no_error (err);
  return ready + unacked;
}

static EfProc *
start_scaler (Run * r, const gchar * max_replicas)
{
  g_autofree gchar *scale = ef_pipelines_program ("edgefaas-scale");
  g_autofree gchar *launch = ef_pipelines_program ("edgefaas-launch");
  g_autofree gchar *so = ef_source_file ("tests/launcher", "scaledobject-test.yaml");
  g_autofree gchar *inf = ef_source_file ("pipelines", "inference.pipeline");
  const gchar *argv[] = { scale, "--scaledobject", so, "--max-replica-count", max_replicas,
    "--", launch, "--drain-timeout", "30", inf, NULL
  };
  return ef_proc_start (argv, (const gchar * const *) r->env->pdata);
}

static EfProc *
start_edge (Run * r)
{
  g_autofree gchar *launch = ef_pipelines_program ("edgefaas-launch");
  g_autofree gchar *edge = ef_source_file ("pipelines", "edge.pipeline");
  const gchar *argv[] = { launch, edge, NULL };
  return ef_proc_start (argv, (const gchar * const *) r->env->pdata);
}

static gint64
ts_us (JsonObject * o)
{
  GDateTime *d = g_date_time_new_from_iso8601 (json_object_get_string_member (o, "ts"), NULL);
  gint64 us = g_date_time_to_unix (d) * G_USEC_PER_SEC + g_date_time_get_microsecond (d);
  g_date_time_unref (d);
  return us;
}

static guint64
sum_member (EfProc * p, const gchar * type, const gchar * member)
{
  ef_proc_update (p);
  guint64 s = 0;
  for (guint i = 0; i < p->lines->len; i++) {
    JsonObject *o = g_ptr_array_index (p->lines, i);
    if (g_str_equal (json_object_get_string_member_with_default (o, "type", ""), type)
        && json_object_has_member (o, "replica"))
      s += json_object_get_int_member_with_default (o, member, 0);
  }
  return s;
}

/* Drain the detections queue; returns the set of source-frame sequences seen. */
static GHashTable *
drain_detections (const gchar * camera, guint * n_msgs)
{
  GHashTable *seqs = g_hash_table_new (g_int64_hash, g_int64_equal);
  *n_msgs = 0;
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
    if (ev->source) {
      gint64 *k = g_new (gint64, 1);
      *k = ev->source->sequence;
      g_hash_table_add (seqs, k);
    }
    (*n_msgs)++;
    edgefaas_detection_event_free (ev);
    g_bytes_unref (b);
  }
  return seqs;
}

static void
test_scale_from_zero_and_back (void)
{
  Run *r = run_new ("quiet:6,dog:3,quiet:4");
  EfProc *scaler = start_scaler (r, "2");
  g_assert_nonnull (ef_proc_wait_line (scaler, "scaler-start", NULL, NULL, 0, 10, NULL));
  EfProc *edge = start_edge (r);

  /* quiet stretch: no inference process exists before the first motion */
  guint mi = 0;
  JsonObject *motion = ef_proc_wait_line (edge, "motion-start", NULL, NULL, 0, 30, &mi);
  g_assert_nonnull (motion);
  gint64 motion_us = ts_us (motion);
  ef_proc_update (scaler);
  for (guint i = 0; i < scaler->lines->len; i++) {
    JsonObject *o = g_ptr_array_index (scaler->lines, i);
    if (g_str_equal (json_object_get_string_member (o, "type"), "replica-start"))
      g_assert_cmpint (ts_us (o), >=, motion_us);
  }
  /* truth: the dog enters at 6 s; the motion event is reported near there */
  gint64 rt = json_object_get_int_member (motion, "running-time");
  g_assert_cmpint (rt, >=, 5 * GST_SECOND);
  g_assert_cmpint (rt, <=, 7 * GST_SECOND);

  /* activation within pollingInterval (1 s) + management stats refresh (1 s) + slack */
  JsonObject *rs = ef_proc_wait_line (scaler, "replica-start", NULL, NULL, 0, 15, NULL);
  g_assert_nonnull (rs);
  gdouble activation_s = (ts_us (rs) - motion_us) / 1e6;
  g_test_message ("activation %.2f s after the first motion event", activation_s);
  g_assert_cmpfloat (activation_s, <, 1 + 1 + 3);
  JsonObject *playing = ef_proc_wait_line (scaler, "state", "to", "PLAYING", 0, 60, NULL);
  g_assert_nonnull (playing);

  /* the edge finishes the clip */
  g_assert_true (ef_proc_wait_exit (edge, 60));
  g_assert_cmpint (ef_proc_exit_status (edge), ==, 0);
  JsonObject *ex = ef_proc_wait_line (edge, "exit", NULL, NULL, 0, 0, NULL);
  guint64 sent = json_object_get_int_member (ex, "sink_buffers");
  guint64 seen = json_object_get_int_member (ex, "frames_in");
  g_test_message ("edge: %" G_GUINT64_FORMAT " frames, %" G_GUINT64_FORMAT " sent", seen, sent);
  g_assert_cmpuint (seen, ==, 130);
  g_assert_cmpuint (sent, >, 0);
  g_assert_cmpuint (sent, <, seen);   /* the quiet stretches were not sent */

  /* after the last motion + cooldown (4 s) the inference process is gone */
  guint xi = 0;
  JsonObject *rx = NULL;
  for (;;) {
    rx = ef_proc_wait_line (scaler, "replica-exit", NULL, NULL, xi, 60, &xi);
    g_assert_nonnull (rx);
    if (ef_proc_count (scaler, "replica-exit") == ef_proc_count (scaler, "replica-start"))
      break;
    xi++;
  }
  g_assert_cmpint (json_object_get_int_member (rx, "code"), ==, 0);
  g_assert_true (json_object_get_boolean_member (rx, "expected"));
  g_assert_nonnull (ef_proc_wait_line (scaler, "scale", "action", "deactivate", 0, 0, NULL));

  /* only motion frames reached inference, all of them */
  g_assert_cmpuint (sum_member (scaler, "exit", "frames_consumed"), ==, sent);
  /* detections of the animated object, with the right camera and event id */
  gboolean dog = FALSE;
  gint64 ev_id = json_object_get_int_member (motion, "event-id");
  for (guint i = 0; i < scaler->lines->len; i++) {
    JsonObject *o = g_ptr_array_index (scaler->lines, i);
    if (!g_str_equal (json_object_get_string_member (o, "type"), "detections"))
      continue;
    g_assert_cmpstr (json_object_get_string_member (o, "camera_id"), ==, "cam-e2e");
    g_assert_cmpint (json_object_get_int_member (o, "event_id"), ==, ev_id);
    JsonArray *a = json_object_get_array_member (o, "detections");
    for (guint j = 0; j < json_array_get_length (a); j++)
      dog |= g_str_equal (json_object_get_string_member (json_array_get_object_element (a,
                  j), "label"), "dog");
  }
  g_assert_true (dog);
  /* one detection event per frame sent, in the detections queue */
  guint n_msgs = 0;
  GHashTable *seqs = drain_detections ("cam-e2e", &n_msgs);
  g_assert_cmpuint (g_hash_table_size (seqs), ==, sent);
  g_hash_table_unref (seqs);
  /* nothing left behind (alerts are the analytics stage's job: test-analytics) */
  GError *err = NULL;
  guint ready = 99, unacked = 99;
  g_assert_true (ef_broker_queue_counts (broker, "frames", &ready, &unacked, &err));
  g_assert_cmpuint (ready, ==, 0);
  g_assert_cmpuint (unacked, ==, 0);

  ef_proc_signal (scaler, SIGTERM);
  g_assert_true (ef_proc_wait_exit (scaler, 30));
  g_assert_cmpint (ef_proc_exit_status (scaler), ==, 0);
  ef_proc_free (edge);
  ef_proc_free (scaler);
  while (ef_broker_get (broker, "alerts", NULL, NULL));
  run_free (r);
}

static void
test_sigterm_mid_burst_loses_nothing (void)
{
  Run *r = run_new ("quiet:2,horses:8,quiet:2");
  EfProc *scaler = start_scaler (r, "1");
  EfProc *edge = start_edge (r);
  /* wait until the replica is busy with the burst */
  guint di = 0;
  g_assert_nonnull (ef_proc_wait_line (scaler, "detections", NULL, NULL, 0, 60, &di));
  g_assert_nonnull (ef_proc_wait_line (scaler, "detections", NULL, NULL, di + 1, 30, &di));
  JsonObject *rs = ef_proc_wait_line (scaler, "replica-start", NULL, NULL, 0, 0, NULL);
  GPid pid = json_object_get_int_member (rs, "pid");
  kill (pid, SIGTERM);
  JsonObject *rx = ef_proc_wait_line (scaler, "replica-exit", "replica", "1", 0, 40, NULL);
  g_assert_nonnull (rx);
  g_assert_cmpint (json_object_get_int_member (rx, "code"), ==, 0);   /* drained */
  /* the rest is processed by the next replica */
  g_assert_nonnull (ef_proc_wait_line (scaler, "replica-start", "replica", "2", 0, 30, NULL));
  g_assert_true (ef_proc_wait_exit (edge, 60));
  g_assert_cmpint (ef_proc_exit_status (edge), ==, 0);
  JsonObject *ex = ef_proc_wait_line (edge, "exit", NULL, NULL, 0, 0, NULL);
  guint64 sent = json_object_get_int_member (ex, "sink_buffers");
  g_assert_nonnull (ef_proc_wait_line (scaler, "replica-exit", "replica", "2", 0, 60, NULL));
  guint n_msgs = 0;
  GHashTable *seqs = drain_detections ("cam-e2e", &n_msgs);
  g_test_message ("sent %" G_GUINT64_FORMAT ", detection events %u, distinct frames %u", sent,
      n_msgs, g_hash_table_size (seqs));
  g_assert_cmpuint (g_hash_table_size (seqs), ==, sent);   /* no frame lost */
  gint64 lo = G_MAXINT64;
  GHashTableIter it;
  gpointer k;
  g_hash_table_iter_init (&it, seqs);
  while (g_hash_table_iter_next (&it, &k, NULL))
    lo = MIN (lo, *(gint64 *) k);
  for (gint64 s = lo; s < lo + (gint64) sent; s++)   /* contiguous: no gap */
    g_assert_true (g_hash_table_contains (seqs, &s));
  g_hash_table_unref (seqs);
  GError *err = NULL;
  guint ready = 99, unacked = 99;
  g_assert_true (ef_broker_queue_counts (broker, "frames", &ready, &unacked, &err));
  g_assert_cmpuint (ready + unacked, ==, 0);
  ef_proc_signal (scaler, SIGTERM);
  g_assert_true (ef_proc_wait_exit (scaler, 30));
  ef_proc_free (edge);
  ef_proc_free (scaler);
  while (ef_broker_get (broker, "alerts", NULL, NULL));
  run_free (r);
}

/* Inline frames, the dev overlay's mode: FRAME_STORE unset on both sides. The edge sends
 * each JPEG as the message body (nothing written to disk), the inference pipeline (amqpsrc
 * without frame-root) turns every one of them into a detection event whose source frame
 * is marked inline, and nothing is dead-lettered. */
static void
test_inline_frames (void)
{
  Run *r = run_new ("quiet:2,dog:3,quiet:1");
  g_assert_cmpuint (queue_total ("frames"), ==, 0);
  g_assert_cmpuint (queue_total ("frames.dead"), ==, 0);
  /* empty counts as unset (and overrides a FRAME_STORE inherited from the test's env) */
  guint64 sent = run_edge_to_end (r, "FRAME_STORE=");
  g_test_message ("inline: edge sent %" G_GUINT64_FORMAT " frames", sent);
  g_assert_cmpuint (sent, >, 0);
  g_assert_false (g_file_test (r->frames, G_FILE_TEST_EXISTS));
  g_assert_cmpuint (queue_total ("frames"), ==, sent);
  inline_mean_bytes = (gdouble) queue_body_bytes ("frames") / sent;
  g_test_message ("inline: mean frame message body %.0f bytes", inline_mean_bytes);

  EfProc *inf = start_inference (r, "FRAME_STORE=");
  gint64 deadline = g_get_monotonic_time () + 90 * G_USEC_PER_SEC;
  while (queue_total ("detections") < sent && g_get_monotonic_time () < deadline)
    g_usleep (200000);
  g_assert_cmpuint (queue_total ("detections"), ==, sent);
  ef_proc_signal (inf, SIGTERM);
  g_assert_true (ef_proc_wait_exit (inf, 40));
  g_assert_cmpint (ef_proc_exit_status (inf), ==, 0);
  g_assert_cmpuint (count_warnings_from (inf, "consume"), ==, 0);   /* nothing refused */
  JsonObject *ex = ef_proc_wait_line (inf, "exit", NULL, NULL, 0, 0, NULL);
  g_assert_nonnull (ex);
  g_assert_cmpuint (json_object_get_int_member (ex, "frames_consumed"), ==, sent);
  /* the description really had the inline settings */
  JsonObject *st = ef_proc_wait_line (inf, "start", NULL, NULL, 0, 0, NULL);
  g_assert_nonnull (st);
  g_assert_nonnull (strstr (json_object_get_string_member (st, "pipeline"), "frame-root=NULL"));

  /* every detection event names an inline source frame; the dog was seen */
  gboolean dog = FALSE;
  guint n = 0;
  GHashTable *seqs = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, NULL);
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
    g_assert_cmpstr (ev->camera_id, ==, "cam-e2e");
    g_assert_nonnull (ev->source);
    g_assert_true (ev->source->frame.is_inline);
    g_assert_null (ev->source->frame.uri);
    gint64 *k = g_new (gint64, 1);
    *k = ev->source->sequence;
    g_hash_table_add (seqs, k);
    for (guint j = 0; j < ev->detections->len; j++)
      dog |= g_str_equal (g_array_index (ev->detections, EdgefaasDetection, j).label, "dog");
    edgefaas_detection_event_free (ev);
    g_bytes_unref (b);
    n++;
  }
  g_assert_cmpuint (n, ==, sent);
  g_assert_cmpuint (g_hash_table_size (seqs), ==, sent);
  g_assert_true (dog);
  g_hash_table_unref (seqs);
  g_assert_cmpuint (queue_total ("frames"), ==, 0);
  g_assert_cmpuint (queue_total ("frames.dead"), ==, 0);
  ef_proc_free (inf);
  while (ef_broker_get (broker, "alerts", NULL, NULL));
  run_free (r);
}

/* Mixed configuration: the edge stores frames (FRAME_STORE set) but the inference side
 * has no FRAME_STORE. amqpsrc refuses every by-reference event with a clear warning and
 * the broker dead-letters it to frames.dead: no detections, nothing silently lost. */
static void
test_reference_frames_without_frame_root_dead_letter (void)
{
  Run *r = run_new ("quiet:1,dog:1,quiet:1");
  g_assert_cmpuint (queue_total ("frames.dead"), ==, 0);
  guint64 sent = run_edge_to_end (r, NULL);      /* FRAME_STORE from run_new */
  g_assert_cmpuint (sent, >, 0);
  g_assert_true (g_file_test (r->frames, G_FILE_TEST_IS_DIR));
  g_assert_cmpuint (queue_total ("frames"), ==, sent);
  gdouble ref_mean = (gdouble) queue_body_bytes ("frames") / sent;
  g_test_message ("by reference: mean frame message body %.0f bytes", ref_mean);
  if (inline_mean_bytes > 0) {
    /* same clip generator, same JPEG settings: the reference event is far smaller */
    g_test_message ("inline / by-reference message size: %.1f", inline_mean_bytes / ref_mean);
    g_assert_cmpfloat (ref_mean, <, inline_mean_bytes);
  }

  EfProc *inf = start_inference (r, "FRAME_STORE=");
  gint64 deadline = g_get_monotonic_time () + 90 * G_USEC_PER_SEC;
  while (queue_total ("frames.dead") < sent && g_get_monotonic_time () < deadline)
    g_usleep (200000);
  g_assert_cmpuint (queue_total ("frames.dead"), ==, sent);
  g_assert_cmpuint (queue_total ("frames"), ==, 0);
  g_assert_cmpuint (queue_total ("detections"), ==, 0);
  /* one warning per refused message, naming the cause, never the password */
  deadline = g_get_monotonic_time () + 10 * G_USEC_PER_SEC;
  while (count_warnings_from (inf, "consume") < sent && g_get_monotonic_time () < deadline)
    g_usleep (100000);
  g_assert_cmpuint (count_warnings_from (inf, "consume"), ==, sent);
  for (guint i = 0; i < inf->lines->len; i++) {
    JsonObject *o = g_ptr_array_index (inf->lines, i);
    if (!g_str_equal (json_object_get_string_member_with_default (o, "type", ""), "warning")
        || !g_str_equal (json_object_get_string_member_with_default (o, "source", ""),
            "consume"))
      continue;
    const gchar *m = json_object_get_string_member (o, "message");
    g_assert_nonnull (strstr (m, "dead-lettered"));
    g_assert_nonnull (strstr (m, "no frame-root is configured"));
    g_assert_null (strstr (m, ef_broker_password (broker)));
  }
  ef_proc_signal (inf, SIGTERM);
  g_assert_true (ef_proc_wait_exit (inf, 40));
  g_assert_cmpint (ef_proc_exit_status (inf), ==, 0);
  g_assert_cmpuint (ef_proc_count (inf, "detections"), ==, 0);
  ef_proc_free (inf);
  while (ef_broker_get (broker, "frames.dead", NULL, NULL));
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
  g_test_add_func ("/e2e/scale-from-zero-and-back", test_scale_from_zero_and_back);
  g_test_add_func ("/e2e/sigterm-mid-burst-loses-nothing", test_sigterm_mid_burst_loses_nothing);
  g_test_add_func ("/e2e/inline-frames", test_inline_frames);
  g_test_add_func ("/e2e/reference-frames-without-frame-root-dead-letter",
      test_reference_frames_without_frame_root_dead_letter);
  int rc = g_test_run ();
  ef_broker_free (broker);
  return rc;
}
