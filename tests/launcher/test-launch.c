/* Unit tests of edgefaas-launch as a real process, with videotestsrc/fakesink pipelines
 * (no broker): exit codes, JSON lines, drain on SIGTERM, drain timeout, second signal,
 * /healthz /readyz /metrics, credential redaction. */
#include <signal.h>
#include <string.h>

#include "ef-test.h"
#include "ef-launcher-test.h"

static gchar *launch_exe;
static gchar *tmpdir;

static gchar *
write_pipeline (const gchar * name, const gchar * text)
{
  gchar *path = g_build_filename (tmpdir, name, NULL);
  g_assert_true (g_file_set_contents (path, text, -1, NULL));
  return path;
}

static EfProc *
launch (const gchar * file, const gchar * const *extra, const gchar * const *env)
{
  GPtrArray *argv = g_ptr_array_new ();
  g_ptr_array_add (argv, launch_exe);
  for (guint i = 0; extra && extra[i]; i++)
    g_ptr_array_add (argv, (gpointer) extra[i]);
  g_ptr_array_add (argv, (gpointer) file);
  g_ptr_array_add (argv, NULL);
  EfProc *p = ef_proc_start ((const gchar * const *) argv->pdata, env);
  g_ptr_array_free (argv, TRUE);
  return p;
}

static void
test_eos_exit_zero (void)
{
  g_autofree gchar *f = write_pipeline ("eos.pipeline",
      "# twelve frames then EOS\n"
      "videotestsrc num-buffers=${N:-5} ! video/x-raw,width=64,height=48\n"
      "  ! motiondetect name=md ! fakesink\n");
  const gchar *extra[] = { "--set", "N=12", NULL };
  EfProc *p = launch (f, extra, NULL);
  g_assert_true (ef_proc_wait_exit (p, 30));
  g_assert_cmpint (ef_proc_exit_status (p), ==, 0);
  JsonObject *start = ef_proc_wait_line (p, "start", NULL, NULL, 0, 0, NULL);
  g_assert_nonnull (start);
  g_assert_nonnull (strstr (json_object_get_string_member (start, "pipeline"),
          "num-buffers=12"));
  g_assert_nonnull (ef_proc_wait_line (p, "state", "to", "PLAYING", 0, 0, NULL));
  g_assert_nonnull (ef_proc_wait_line (p, "eos", NULL, NULL, 0, 0, NULL));
  JsonObject *ex = ef_proc_wait_line (p, "exit", NULL, NULL, 0, 0, NULL);
  g_assert_nonnull (ex);
  g_assert_cmpint (json_object_get_int_member (ex, "code"), ==, 0);
  /* the frame counter is a probe on motiondetect's sink pad: every buffer counted */
  g_assert_cmpint (json_object_get_int_member (ex, "frames_in"), ==, 12);
  ef_proc_free (p);
}

static void
test_error_exit_nonzero_with_message (void)
{
  g_autofree gchar *missing = g_build_filename (tmpdir, "no-such-file.raw", NULL);
  g_autofree gchar *text = g_strdup_printf ("filesrc location=%s ! fakesink\n", missing);
  g_autofree gchar *f = write_pipeline ("err.pipeline", text);
  EfProc *p = launch (f, NULL, NULL);
  g_assert_true (ef_proc_wait_exit (p, 30));
  g_assert_cmpint (ef_proc_exit_status (p), ==, 1);
  g_autofree gchar *err = ef_proc_stderr (p);
  g_test_message ("stderr: %s", err);
  g_assert_nonnull (strstr (err, "ERROR from element filesrc0"));
  g_assert_nonnull (strstr (err, "no-such-file.raw"));
  JsonObject *e = ef_proc_wait_line (p, "error", NULL, NULL, 0, 0, NULL);
  g_assert_nonnull (e);
  g_assert_cmpstr (json_object_get_string_member (e, "source"), ==, "filesrc0");
  g_assert_cmpstr (json_object_get_string_member (e, "domain"), ==, "gst-resource-error-quark");
  ef_proc_free (p);
}

static void
test_missing_variable_exit_2 (void)
{
  g_autofree gchar *f = write_pipeline ("var.pipeline",
      "videotestsrc ! fakesink name=${CAMERA_ID}\n");
  const gchar *env[] = { "CAMERA_ID=", NULL };
  EfProc *p = launch (f, NULL, env);
  g_assert_true (ef_proc_wait_exit (p, 30));
  g_assert_cmpint (ef_proc_exit_status (p), ==, 2);
  g_autofree gchar *err = ef_proc_stderr (p);
  g_assert_nonnull (strstr (err, "required variable CAMERA_ID is not set"));
  g_assert_nonnull (strstr (err, "var.pipeline:1"));
  ef_proc_free (p);
}

static void
test_unknown_property_exit_2 (void)
{
  g_autofree gchar *f = write_pipeline ("prop.pipeline",
      "videotestsrc no-such-prop=1 ! fakesink\n");
  EfProc *p = launch (f, NULL, NULL);
  g_assert_true (ef_proc_wait_exit (p, 30));
  g_assert_cmpint (ef_proc_exit_status (p), ==, 2);
  g_autofree gchar *err = ef_proc_stderr (p);
  g_assert_nonnull (strstr (err, "no-such-prop"));
  ef_proc_free (p);
}

/* A live pipeline whose sink holds each buffer 8 s (ts-offset): EOS after SIGTERM can
 * only arrive once the held buffer is released. */
static const gchar *slow_sink =
    "videotestsrc is-live=true ! video/x-raw,width=32,height=24,framerate=5/1\n"
    "  ! fakesink sync=true ts-offset=8000000000\n";

static void
test_sigterm_drains_exit_zero (void)
{
  guint port = ef_test_free_port ();
  g_autofree gchar *ports = g_strdup_printf ("%u", port);
  g_autofree gchar *f = write_pipeline ("live.pipeline",
      "videotestsrc is-live=true ! video/x-raw,width=32,height=24,framerate=10/1 "
      "! motiondetect ! fakesink sync=true\n");
  const gchar *extra[] = { "--http-port", ports, "--drain-timeout", "10", NULL };
  EfProc *p = launch (f, extra, NULL);
  g_assert_nonnull (ef_proc_wait_line (p, "state", "to", "PLAYING", 0, 20, NULL));
  gchar *body = NULL;
  g_assert_cmpuint (ef_http_get (port, "/readyz", &body), ==, 200);
  g_free (body);
  g_usleep (G_USEC_PER_SEC);
  ef_proc_signal (p, SIGTERM);
  g_assert_true (ef_proc_wait_exit (p, 15));
  g_assert_cmpint (ef_proc_exit_status (p), ==, 0);
  JsonObject *s = ef_proc_wait_line (p, "signal", NULL, NULL, 0, 0, NULL);
  g_assert_nonnull (s);
  g_assert_cmpstr (json_object_get_string_member (s, "action"), ==, "drain");
  JsonObject *eos = ef_proc_wait_line (p, "eos", NULL, NULL, 0, 0, NULL);
  g_assert_nonnull (eos);
  g_assert_true (json_object_has_member (eos, "drain_s"));
  JsonObject *ex = ef_proc_wait_line (p, "exit", NULL, NULL, 0, 0, NULL);
  g_assert_cmpint (json_object_get_int_member (ex, "frames_in"), >=, 5);
  ef_proc_free (p);
}

static void
test_drain_timeout_exit_3 (void)
{
  g_autofree gchar *f = write_pipeline ("slow.pipeline", slow_sink);
  const gchar *extra[] = { "--drain-timeout", "1", NULL };
  EfProc *p = launch (f, extra, NULL);
  g_assert_nonnull (ef_proc_wait_line (p, "state", "to", "PLAYING", 0, 20, NULL));
  gint64 t0 = g_get_monotonic_time ();
  ef_proc_signal (p, SIGTERM);
  g_assert_true (ef_proc_wait_exit (p, 7));
  gdouble took = (g_get_monotonic_time () - t0) / 1e6;
  g_assert_cmpint (ef_proc_exit_status (p), ==, 3);
  g_assert_cmpfloat (took, >=, 0.9);
  g_assert_cmpfloat (took, <, 6.0);
  g_autofree gchar *err = ef_proc_stderr (p);
  g_assert_nonnull (strstr (err, "--drain-timeout"));
  ef_proc_free (p);
}

static void
test_second_signal_exits_at_once (void)
{
  g_autofree gchar *f = write_pipeline ("slow2.pipeline", slow_sink);
  const gchar *extra[] = { "--drain-timeout", "60", NULL };
  EfProc *p = launch (f, extra, NULL);
  g_assert_nonnull (ef_proc_wait_line (p, "state", "to", "PLAYING", 0, 20, NULL));
  ef_proc_signal (p, SIGTERM);
  g_assert_nonnull (ef_proc_wait_line (p, "signal", NULL, NULL, 0, 5, NULL));
  g_assert_false (ef_proc_wait_exit (p, 0.5));   /* still draining */
  gint64 t0 = g_get_monotonic_time ();
  ef_proc_signal (p, SIGINT);
  g_assert_true (ef_proc_wait_exit (p, 3));
  g_assert_cmpfloat ((g_get_monotonic_time () - t0) / 1e6, <, 2.0);
  g_assert_cmpint (ef_proc_exit_status (p), ==, 128 + SIGINT);
  ef_proc_free (p);
}

static void
test_http_ready_only_after_playing (void)
{
  guint port = ef_test_free_port ();
  g_autofree gchar *ports = g_strdup_printf ("%u", port);
  /* identity sleeps 6 s on the first buffer: preroll, hence PLAYING, waits for it
   * (like a model that takes time to load in start()). 6 s, not less: under ASan
   * on a loaded CI machine the launcher itself took over 2 s to serve /healthz. */
  g_autofree gchar *f = write_pipeline ("ready.pipeline",
      "videotestsrc num-buffers=600 ! video/x-raw,width=32,height=24,framerate=30/1\n"
      "  ! identity sleep-time=6000000 ! fakesink sync=true\n");
  const gchar *extra[] = { "--http-port", ports, NULL };
  EfProc *p = launch (f, extra, NULL);
  guint hz = 0, rz = 0;
  gchar *body = NULL;
  for (int i = 0; i < 1000 && hz != 200; i++) {      /* up to 20 s */
    hz = ef_http_get (port, "/healthz", NULL);
    if (hz != 200)
      g_usleep (20000);
  }
  g_assert_cmpuint (hz, ==, 200);
  g_assert_null (ef_proc_wait_line (p, "state", "to", "PLAYING", 0, 0, NULL));
  rz = ef_http_get (port, "/readyz", &body);
  g_assert_cmpuint (rz, ==, 503);
  g_assert_nonnull (strstr (body, "not PLAYING"));
  g_free (body);
  g_assert_nonnull (ef_proc_wait_line (p, "state", "to", "PLAYING", 0, 20, NULL));
  g_assert_cmpuint (ef_http_get (port, "/readyz", NULL), ==, 200);

  g_assert_cmpuint (ef_http_get (port, "/metrics", &body), ==, 200);
  g_test_message ("%s", body);
  const gchar *must[] = { "edgefaas_up 1", "edgefaas_ready 1",
    "# TYPE edgefaas_inference_seconds histogram",
    "edgefaas_frames_in_total ", "edgefaas_motion_events_total ",
    "edgefaas_frames_consumed_total ", "edgefaas_errors_total 0", "process_cpu_seconds_total ",
    "process_resident_memory_bytes "
  };
  for (guint i = 0; i < G_N_ELEMENTS (must); i++) {
    if (!strstr (body, must[i]))
      g_error ("/metrics lacks '%s'", must[i]);
  }
  const gchar *rss = strstr (body, "\nprocess_resident_memory_bytes ");
  g_assert_nonnull (rss);
  g_assert_cmpuint (g_ascii_strtoull (rss + 31, NULL, 10), >, 1000000);
  g_free (body);
  ef_proc_signal (p, SIGTERM);
  g_assert_true (ef_proc_wait_exit (p, 20));
  ef_proc_free (p);
}

/* Poll /healthz until it answers @want (or @timeout_s passes); the body in *body_out. */
static gboolean
wait_healthz (guint port, guint want, gdouble timeout_s, gchar ** body_out)
{
  gint64 end = g_get_monotonic_time () + (gint64) (timeout_s * G_USEC_PER_SEC);
  do {
    gchar *body = NULL;
    guint st = ef_http_get (port, "/healthz", &body);
    if (st == want) {
      if (body_out)
        *body_out = body;
      else
        g_free (body);
      return TRUE;
    }
    g_free (body);
    g_usleep (100000);
  } while (g_get_monotonic_time () < end);
  return FALSE;
}

/* A camera that stops delivering frames: RTP/JPEG over UDP from a second launcher
 * (the "camera"), received by udpsrc, which simply waits forever once the sender
 * stops, like an RTSP source whose camera hung. With --stall-timeout the receiver's
 * /healthz stays 200 while frames flow, turns 503 once none came for the timeout,
 * and recovers when the frames come back. */
static void
test_stall_timeout_unhealthy_when_source_stalls (void)
{
  guint port = ef_test_free_port (), udp = ef_test_free_port ();
  g_autofree gchar *ports = g_strdup_printf ("%u", port);
  g_autofree gchar *udps = g_strdup_printf ("UDP_PORT=%u", udp);
  g_autofree gchar *rx = write_pipeline ("stall-rx.pipeline",
      "udpsrc port=${UDP_PORT} address=127.0.0.1\n"
      "    caps=\"application/x-rtp,media=video,encoding-name=JPEG,payload=26,clock-rate=90000\"\n"
      "  ! rtpjpegdepay ! jpegdec ! videoconvert ! motiondetect name=md ! fakesink async=false\n");
  g_autofree gchar *tx = write_pipeline ("stall-tx.pipeline",
      "videotestsrc is-live=true num-buffers=${N}\n"
      "  ! video/x-raw,format=I420,width=64,height=48,framerate=10/1 ! jpegenc ! rtpjpegpay\n"
      "  ! udpsink host=127.0.0.1 port=${UDP_PORT}\n");
  const gchar *rx_args[] = { "--http-port", ports, "--stall-timeout", "3", "--set", udps, NULL };
  EfProc *r = launch (rx, rx_args, NULL);
  g_assert_nonnull (ef_proc_wait_line (r, "state", "to", "PLAYING", 0, 20, NULL));

  /* 8 s of frames at 10 fps: healthy for longer than the stall timeout */
  const gchar *tx_args[] = { "--set", udps, "--set", "N=80", NULL };
  EfProc *t = launch (tx, tx_args, NULL);
  g_autofree gchar *metrics = NULL;
  for (int i = 0; i < 50; i++) {       /* frames arrive: frames_in > 0 */
    g_free (metrics);
    metrics = NULL;
    ef_http_get (port, "/metrics", &metrics);
    if (metrics && !strstr (metrics, "edgefaas_frames_in_total 0\n"))
      break;
    g_usleep (100000);
  }
  g_assert_nonnull (metrics);
  g_assert_null (strstr (metrics, "edgefaas_frames_in_total 0\n"));
  for (int i = 0; i < 40; i++) {       /* 4 s > --stall-timeout 3 */
    g_assert_cmpuint (ef_http_get (port, "/healthz", NULL), ==, 200);
    g_usleep (100000);
  }
  g_assert_true (ef_proc_wait_exit (t, 30));
  g_assert_cmpint (ef_proc_exit_status (t), ==, 0);
  ef_proc_free (t);

  /* the camera is gone: unhealthy after the stall timeout, with a reason and a log line */
  gchar *body = NULL;
  g_assert_true (wait_healthz (port, 503, 20, &body));
  g_assert_nonnull (strstr (body, "stalled: no buffer for"));
  g_free (body);
  g_assert_nonnull (ef_proc_wait_line (r, "stall", NULL, NULL, 0, 5, NULL));
  g_free (metrics);
  metrics = NULL;
  g_assert_cmpuint (ef_http_get (port, "/metrics", &metrics), ==, 200);
  const gchar *age_key = "\nedgefaas_seconds_since_last_buffer ";
  const gchar *age = strstr (metrics, age_key);
  g_assert_nonnull (age);
  g_assert_cmpfloat (g_ascii_strtod (age + strlen (age_key), NULL), >=, 3.0);
  /* still ready (it is not draining): liveness restarts it, readiness is unchanged */
  g_assert_cmpuint (ef_http_get (port, "/readyz", NULL), ==, 200);

  /* frames come back: healthy again */
  const gchar *tx2_args[] = { "--set", udps, "--set", "N=100", NULL };
  t = launch (tx, tx2_args, NULL);
  g_assert_true (wait_healthz (port, 200, 20, NULL));
  ef_proc_signal (t, SIGTERM);
  g_assert_true (ef_proc_wait_exit (t, 20));
  ef_proc_free (t);

  ef_proc_signal (r, SIGTERM);
  g_assert_true (ef_proc_wait_exit (r, 20));
  g_assert_cmpint (ef_proc_exit_status (r), ==, 0);
  ef_proc_free (r);
}

/* Without --stall-timeout a silent source never makes /healthz fail (inference
 * pipelines idle legitimately while the queue is empty). */
static void
test_no_stall_timeout_stays_healthy (void)
{
  guint port = ef_test_free_port (), udp = ef_test_free_port ();
  g_autofree gchar *ports = g_strdup_printf ("%u", port);
  g_autofree gchar *udps = g_strdup_printf ("UDP_PORT=%u", udp);
  g_autofree gchar *rx = write_pipeline ("idle-rx.pipeline",
      "udpsrc port=${UDP_PORT} address=127.0.0.1\n"
      "    caps=\"application/x-rtp,media=video,encoding-name=JPEG,payload=26,clock-rate=90000\"\n"
      "  ! rtpjpegdepay ! jpegdec ! motiondetect ! fakesink async=false\n");
  const gchar *rx_args[] = { "--http-port", ports, "--set", udps, NULL };
  EfProc *r = launch (rx, rx_args, NULL);
  g_assert_nonnull (ef_proc_wait_line (r, "state", "to", "PLAYING", 0, 20, NULL));
  g_usleep (4 * G_USEC_PER_SEC);
  g_assert_cmpuint (ef_http_get (port, "/healthz", NULL), ==, 200);
  g_assert_cmpuint (ef_proc_count (r, "stall"), ==, 0);
  ef_proc_signal (r, SIGTERM);
  g_assert_true (ef_proc_wait_exit (r, 20));
  ef_proc_free (r);
}

static void
test_credentials_not_logged (void)
{
  g_autofree gchar *f = write_pipeline ("cred.pipeline",
      "videotestsrc num-buffers=2 ! fakesink name=${SINK_NAME}\n");
  const gchar *env[] = { "SINK_NAME=amqp://bob:s3cr3tpw@host/", NULL };
  EfProc *p = launch (f, NULL, env);
  g_assert_true (ef_proc_wait_exit (p, 20));
  g_assert_cmpint (ef_proc_exit_status (p), ==, 0);
  g_autofree gchar *out = ef_proc_stdout (p);
  g_autofree gchar *err = ef_proc_stderr (p);
  g_assert_nonnull (strstr (out, "amqp://bob:***@host/"));
  g_assert_null (strstr (out, "s3cr3tpw"));
  g_assert_null (strstr (err, "s3cr3tpw"));
  ef_proc_free (p);
}

/* gst_parse quotes the value of a property it could not set: a URL with a
 * password in a pipeline that does not build must not reach stdout or stderr,
 * and the exit is still the usage one with the property named. Also an element
 * error whose debug text quotes the location (filesrc). */
static void
test_credentials_not_in_errors (void)
{
  g_autofree gchar *f = write_pipeline ("cred-parse.pipeline",
      "videotestsrc pattern=${PATTERN} ! fakesink\n");
  const gchar *env[] = { "PATTERN=amqp://bob:s3cr3tpw@host/", NULL };
  EfProc *p = launch (f, NULL, env);
  g_assert_true (ef_proc_wait_exit (p, 20));
  g_assert_cmpint (ef_proc_exit_status (p), ==, 2);
  g_autofree gchar *out = ef_proc_stdout (p);
  g_autofree gchar *err = ef_proc_stderr (p);
  g_assert_nonnull (strstr (err, "could not set property"));
  g_assert_nonnull (strstr (err, "amqp://bob:***@host/"));
  g_assert_null (strstr (out, "s3cr3tpw"));
  g_assert_null (strstr (err, "s3cr3tpw"));
  ef_proc_free (p);

  g_autofree gchar *f2 = write_pipeline ("cred-element.pipeline",
      "filesrc location=${LOC} ! fakesink\n");
  g_autofree gchar *loc = g_strdup_printf ("LOC=%s/nonexist/amqp://bob:s3cr3tpw@host/",
      tmpdir);
  const gchar *env2[] = { loc, NULL };
  p = launch (f2, NULL, env2);
  g_assert_true (ef_proc_wait_exit (p, 20));
  g_assert_cmpint (ef_proc_exit_status (p), !=, 0);
  g_assert_cmpint (ef_proc_exit_status (p), !=, 2);
  g_autofree gchar *out2 = ef_proc_stdout (p);
  g_autofree gchar *err2 = ef_proc_stderr (p);
  g_assert_nonnull (strstr (err2, "amqp://bob:***@host/"));
  g_assert_null (strstr (out2, "s3cr3tpw"));
  g_assert_null (strstr (err2, "s3cr3tpw"));
  ef_proc_free (p);
}

/* With batch-size > 1 several buffers are inside yolov4infer at once: every
 * buffer leaving it still gets its own time in the element (inference_s >= 0 on
 * each detections line, and it includes the wait for the batch, so the first
 * frame of a batch waits longest). */
static void
test_inference_time_with_batching (void)
{
  g_autofree gchar *cfg = ef_test_shared_path ("models/yolo-fastest-1.1-coco/yolo-fastest-1.1.cfg");
  g_autofree gchar *weights =
      ef_test_shared_path ("models/yolo-fastest-1.1-coco/yolo-fastest-1.1.weights");
  g_autofree gchar *names = ef_test_shared_path ("models/yolo-fastest-1.1-coco/coco.names");
  const gchar *dog = "/usr/share/darknet/data/dog.jpg";
  if (!cfg || !weights || !names)
    return;
  if (!g_file_test (dog, G_FILE_TEST_EXISTS)) {
    g_test_message ("CANNOT RUN: %s missing (Debian package darknet)", dog);
    g_test_fail ();
    return;
  }
  g_autofree gchar *text = g_strdup_printf ("filesrc location=%s ! jpegdec\n"
      "  ! imagefreeze num-buffers=8 ! videoconvert\n"
      "  ! yolov4infer name=detect config=%s weights=%s labels=%s batch-size=4\n"
      "      post-messages=false\n"
      "  ! fakesink\n", dog, cfg, weights, names);
  g_autofree gchar *f = write_pipeline ("batch.pipeline", text);
  EfProc *p = launch (f, NULL, NULL);
  g_assert_true (ef_proc_wait_exit (p, 120));
  g_assert_cmpint (ef_proc_exit_status (p), ==, 0);
  g_autofree gchar *out = ef_proc_stdout (p);
  gchar **lines = g_strsplit (out, "\n", -1);
  guint timed = 0;
  for (gchar ** l = lines; *l; l++) {
    if (strstr (*l, "\"type\":\"detections\"") == NULL)
      continue;
    JsonParser *jp = json_parser_new ();
    g_assert_true (json_parser_load_from_data (jp, *l, -1, NULL));
    JsonObject *o = json_node_get_object (json_parser_get_root (jp));
    gdouble secs = json_object_get_double_member (o, "inference_s");
    g_assert_cmpfloat (secs, >=, 0.0);
    g_assert_cmpfloat (secs, <, 60.0);
    timed++;
    g_object_unref (jp);
  }
  g_strfreev (lines);
  g_assert_cmpuint (timed, ==, 8);
  ef_proc_free (p);
}

static void
test_print_matches_file (void)
{
  g_autofree gchar *f = write_pipeline ("print.pipeline",
      "# c\nvideotestsrc num-buffers=${N:-3}\n ! fakesink\n");
  const gchar *extra[] = { "--print", NULL };
  EfProc *p = launch (f, extra, NULL);
  g_assert_true (ef_proc_wait_exit (p, 10));
  g_assert_cmpint (ef_proc_exit_status (p), ==, 0);
  g_autofree gchar *out = ef_proc_stdout (p);
  g_assert_cmpstr (out, ==, "videotestsrc num-buffers=3 ! fakesink\n");
  ef_proc_free (p);
}

int
main (int argc, char **argv)
{
  ef_test_init (&argc, &argv);
  launch_exe = ef_built_program ("pipelines/edgefaas-launch");
  tmpdir = ef_test_mkdtemp ("ef-launch-test");
  g_test_add_func ("/launch/eos-exit-zero", test_eos_exit_zero);
  g_test_add_func ("/launch/error-exit-nonzero-with-message", test_error_exit_nonzero_with_message);
  g_test_add_func ("/launch/missing-variable-exit-2", test_missing_variable_exit_2);
  g_test_add_func ("/launch/unknown-property-exit-2", test_unknown_property_exit_2);
  g_test_add_func ("/launch/sigterm-drains-exit-zero", test_sigterm_drains_exit_zero);
  g_test_add_func ("/launch/drain-timeout-exit-3", test_drain_timeout_exit_3);
  g_test_add_func ("/launch/second-signal-exits-at-once", test_second_signal_exits_at_once);
  g_test_add_func ("/launch/http-ready-only-after-playing", test_http_ready_only_after_playing);
  g_test_add_func ("/launch/stall-timeout-unhealthy-when-source-stalls",
      test_stall_timeout_unhealthy_when_source_stalls);
  g_test_add_func ("/launch/no-stall-timeout-stays-healthy", test_no_stall_timeout_stays_healthy);
  g_test_add_func ("/launch/credentials-not-logged", test_credentials_not_logged);
  g_test_add_func ("/launch/credentials-not-in-errors", test_credentials_not_in_errors);
  g_test_add_func ("/launch/inference-time-with-batching", test_inference_time_with_batching);
  g_test_add_func ("/launch/print-matches-file", test_print_matches_file);
  int rc = g_test_run ();
  ef_test_rm_rf (tmpdir);
  return rc;
}
