/* amqpsink against a real private RabbitMQ (tests/fixture): a fresh broker with
 * declare=true, inline and by-reference frames byte-identical, detections and
 * alerts with their routing keys and the ack token released on confirm,
 * credentials absent from a GST_DEBUG=*:6 log, a 10 s broker outage under a
 * 30 fps live stream (real time kept, every frame delivered, duplicates
 * counted, PLAYING->NULL bounded while down), and TLS with right and wrong CA. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <glib/gstdio.h>
#include <gst/app/app.h>
#include <gst/check/gstharness.h>
#include <gst/video/video.h>

#include "ef-test.h"
#include "ef-broker.h"
#include "edgefaas-amqp.h"
#include "edgefaas-event.h"
#include "edgefaas-meta.h"
#include "edgefaas-frameref.h"
#include "amqp-test-util.h"

static EfBroker *broker;

static GPtrArray *
drain (const gchar * url, const gchar * queue)
{
  GError *err = NULL;
  GPtrArray *msgs = at_drain_queue (url, queue, 500, &err);
  g_assert_no_error (err);
  g_assert_nonnull (msgs);
  return msgs;
}

static void
assert_queue_counts (EfBroker * b, const gchar * queue, guint want_ready)
{
  guint ready = 0, unacked = 0;
  GError *err = NULL;
  g_assert_true (ef_broker_queue_counts (b, queue, &ready, &unacked, &err));
  g_assert_no_error (err);
  g_assert_cmpuint (ready, ==, want_ready);
  g_assert_cmpuint (unacked, ==, 0);
}

/* Only url exchange routing-key queue declare=true on a fresh vhost state. */
static void
test_fresh_broker_declare (void)
{
  gchar *desc = g_strdup_printf ("videotestsrc num-buffers=12 ! video/x-raw,width=160,"
      "height=120 ! jpegenc ! amqpsink name=s url=%s exchange=x routing-key=frames "
      "queue=frames declare=true", ef_broker_url (broker));
  GstElement *p = gst_parse_launch (desc, NULL);
  GstElement *s = gst_bin_get_by_name (GST_BIN (p), "s");
  GstMessage *msg = at_run_until_done (p, 60);
  GPtrArray *msgs;

  g_assert_nonnull (msg);
  g_assert_cmpint (GST_MESSAGE_TYPE (msg), ==, GST_MESSAGE_EOS);
  gst_message_unref (msg);
  g_assert_cmpuint (at_stat (s, "confirmed"), ==, 12);
  g_assert_cmpuint (at_stat (s, "in-flight"), ==, 0);
  g_assert_cmpuint (at_stat (s, "unroutable"), ==, 0);
  gst_element_set_state (p, GST_STATE_NULL);

  assert_queue_counts (broker, "frames", 12);
  assert_queue_counts (broker, "frames.dead", 0);       /* DLX queue declared too */
  msgs = drain (ef_broker_url (broker), "frames");
  g_assert_cmpuint (msgs->len, ==, 12);
  for (guint i = 0; i < msgs->len; i++) {
    AtMsg *m = g_ptr_array_index (msgs, i);
    const gchar *hdr = g_hash_table_lookup (m->headers, "edgefaas-event");
    GError *err = NULL;
    EdgefaasFrameEvent *ev;
    gsize sz;
    const guint8 *d = g_bytes_get_data (m->body, &sz);
    gchar *sha = edgefaas_sha256_hex (d, sz);

    g_assert_cmpstr (m->content_type, ==, "image/jpeg");
    g_assert_cmpstr (m->routing_key, ==, "frames");
    g_assert_nonnull (hdr);
    ev = edgefaas_frame_event_from_json (hdr, -1, &err);
    g_assert_no_error (err);
    g_assert_true (ev->frame.is_inline);
    g_assert_cmpuint (ev->sequence, ==, i + 1);         /* in order */
    g_assert_cmpuint (ev->frame.size, ==, sz);
    g_assert_cmpstr (ev->frame.sha256, ==, sha);
    g_assert_cmpuint (ev->frame.width, ==, 160);
    g_assert_cmpstr (ev->camera_id, ==, "camera0");
    edgefaas_frame_event_free (ev);
    g_free (sha);
  }
  g_ptr_array_unref (msgs);
  gst_object_unref (s);
  gst_object_unref (p);
  g_free (desc);
}

/* Push @images through appsrc ! amqpsink (@extra props); motion metas on
 * every third buffer. */
static void
publish_images (GPtrArray * images, const gchar * caps, const gchar * extra)
{
  gchar *desc = g_strdup_printf ("appsrc name=a caps=%s format=time ! amqpsink name=s url=%s "
      "camera-id=cam7 %s", caps, ef_broker_url (broker), extra);
  GstElement *p = gst_parse_launch (desc, NULL);
  GstElement *a = gst_bin_get_by_name (GST_BIN (p), "a");
  GstMessage *msg;

  gst_element_set_state (p, GST_STATE_PLAYING);
  for (guint i = 0; i < images->len; i++) {
    GBytes *img = g_ptr_array_index (images, i);
    GstBuffer *b = gst_buffer_new_wrapped_bytes (img);
    GST_BUFFER_PTS (b) = i * GST_SECOND / 30;
    if (i % 3 == 0) {
      GstVideoRegionOfInterestMeta *roi;
      gst_buffer_add_edgefaas_motion_meta (b, 100 + i, 0.25, TRUE);
      roi = gst_buffer_add_video_region_of_interest_meta (b, "motion", 4, 5, 20, 10);
      gst_video_region_of_interest_meta_add_param (roi, gst_structure_new ("motion",
              "score", G_TYPE_DOUBLE, 0.5, "event-id", G_TYPE_UINT64, (guint64) (100 + i),
              NULL));
    }
    g_assert_cmpint (gst_app_src_push_buffer (GST_APP_SRC (a), b), ==, GST_FLOW_OK);
  }
  gst_app_src_end_of_stream (GST_APP_SRC (a));
  msg = gst_bus_timed_pop_filtered (GST_ELEMENT_BUS (p), 60 * GST_SECOND,
      GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
  g_assert_nonnull (msg);
  g_assert_cmpint (GST_MESSAGE_TYPE (msg), ==, GST_MESSAGE_EOS);
  gst_message_unref (msg);
  gst_element_set_state (p, GST_STATE_NULL);
  gst_object_unref (a);
  gst_object_unref (p);
  g_free (desc);
}

static void
check_motion (const EdgefaasFrameEvent * ev, guint i)
{
  if (i % 3 == 0) {
    g_assert_cmpuint (ev->event_id, ==, 100 + i);
    g_assert_cmpfloat_with_epsilon (ev->motion_score, 0.25, 1e-9);
    g_assert_cmpuint (ev->motion_boxes->len, ==, 1);
    g_assert_cmpint (g_array_index (ev->motion_boxes, EdgefaasBox, 0).x, ==, 4);
    g_assert_cmpint (g_array_index (ev->motion_boxes, EdgefaasBox, 0).w, ==, 20);
  } else {
    g_assert_cmpuint (ev->motion_boxes->len, ==, 0);
  }
}

static void
test_inline_and_reference (void)
{
  GPtrArray *jpegs = at_encode_images (20, "jpegenc", 320, 240);
  GPtrArray *pngs = at_encode_images (3, "pngenc", 64, 48);
  gchar *store = ef_test_mkdtemp ("amqp-store");
  gchar *extra;
  GError *err = NULL;
  GPtrArray *msgs;

  g_assert_true (ef_broker_declare_queue (broker, "inline", &err));
  g_assert_no_error (err);
  g_assert_true (ef_broker_declare_queue (broker, "byref", &err));

  /* inline: the body is the image, byte for byte */
  publish_images (jpegs, "image/jpeg,width=320,height=240", "routing-key=inline");
  msgs = drain (ef_broker_url (broker), "inline");
  g_assert_cmpuint (msgs->len, ==, jpegs->len);
  for (guint i = 0; i < msgs->len; i++) {
    AtMsg *m = g_ptr_array_index (msgs, i);
    GBytes *orig = g_ptr_array_index (jpegs, i);
    EdgefaasFrameEvent *ev = edgefaas_frame_event_from_json (g_hash_table_lookup (m->headers,
            "edgefaas-event"), -1, &err);
    gsize sz;
    const guint8 *d = g_bytes_get_data (orig, &sz);
    gchar *sha = edgefaas_sha256_hex (d, sz);

    g_assert_no_error (err);
    g_assert_true (g_bytes_equal (m->body, orig));
    g_assert_nonnull (memchr (g_bytes_get_data (m->body, NULL), 0, sz));  /* has NULs */
    g_assert_cmpstr (ev->frame.sha256, ==, sha);
    g_assert_cmpstr (ev->camera_id, ==, "cam7");
    g_assert_cmpstr (ev->frame.media_type, ==, "image/jpeg");
    g_assert_nonnull (m->message_id);
    check_motion (ev, i);
    edgefaas_frame_event_free (ev);
    g_free (sha);
  }
  g_ptr_array_unref (msgs);

  /* by reference: JSON body, file under frame-store, same bytes and hash */
  extra = g_strdup_printf ("routing-key=byref frame-store=%s", store);
  publish_images (jpegs, "image/jpeg,width=320,height=240", extra);
  publish_images (pngs, "image/png,width=64,height=48", extra);
  msgs = drain (ef_broker_url (broker), "byref");
  g_assert_cmpuint (msgs->len, ==, jpegs->len + pngs->len);
  for (guint i = 0; i < msgs->len; i++) {
    AtMsg *m = g_ptr_array_index (msgs, i);
    gboolean is_png = i >= jpegs->len;
    guint idx = is_png ? i - jpegs->len : i;
    GBytes *orig = g_ptr_array_index (is_png ? pngs : jpegs, idx);
    EdgefaasFrameEvent *ev = edgefaas_frame_event_from_json (g_bytes_get_data (m->body, NULL),
        g_bytes_get_size (m->body), &err);
    GBytes *loaded;
    gsize sz;
    const guint8 *d = g_bytes_get_data (orig, &sz);
    gchar *sha = edgefaas_sha256_hex (d, sz);

    g_assert_no_error (err);
    g_assert_cmpstr (m->content_type, ==, "application/json");
    g_assert_false (ev->frame.is_inline);
    g_assert_true (g_str_has_prefix (ev->frame.uri, "file://"));
    g_assert_cmpstr (ev->frame.sha256, ==, sha);
    g_assert_cmpstr (ev->frame.media_type, ==, is_png ? "image/png" : "image/jpeg");
    loaded = edgefaas_frameref_load (ev->frame.uri, store, 0, ev->frame.size,
        ev->frame.sha256, &err);
    g_assert_no_error (err);
    g_assert_true (g_bytes_equal (loaded, orig));
    if (!is_png)
      check_motion (ev, idx);
    g_bytes_unref (loaded);
    edgefaas_frame_event_free (ev);
    g_free (sha);
  }
  g_ptr_array_unref (msgs);
  g_free (extra);
  ef_test_rm_rf (store);
  g_free (store);
  /* the images were wrapped into buffers: the arrays still own refs */
  g_ptr_array_unref (jpegs);
  g_ptr_array_unref (pngs);
}

typedef struct {
  GMutex lock;
  gint calls;
  EdgefaasAckOutcome outcome;
} TokenState;

static void
token_cb (gpointer user_data, EdgefaasAckOutcome outcome, const gchar * reason)
{
  TokenState *ts = user_data;
  g_mutex_lock (&ts->lock);
  ts->calls++;
  ts->outcome = outcome;
  g_mutex_unlock (&ts->lock);
}

/* video/x-raw with detection ROI metas, situations and a source event: one
 * detection event (routing key with {camera}/{label}) and one alert per
 * situation (alerts.<situation>.<camera>); the token is acked after confirm. */
static void
test_detections_and_alerts (void)
{
  gchar *desc = g_strdup_printf ("appsrc name=a format=time caps=video/x-raw,format=RGB,"
      "width=64,height=48,framerate=30/1 ! amqpsink name=s url=%s exchange=det "
      "exchange-type=topic routing-key=detections.{camera}.{label} queue=detections "
      "declare=true", ef_broker_url (broker));
  GstElement *p = gst_parse_launch (desc, NULL);
  GstElement *a = gst_bin_get_by_name (GST_BIN (p), "a");
  GstBuffer *b = gst_buffer_new_allocate (NULL, 64 * 48 * 3, NULL);
  GstVideoRegionOfInterestMeta *roi;
  EdgefaasFrameEvent *src = edgefaas_frame_event_new ();
  EdgefaasSituation sit = { (gchar *) "fire", 0.9, 3, (gchar *) "fire,smoke" };
  TokenState ts = { 0 };
  EdgefaasAckToken *token = edgefaas_ack_token_new (token_cb, &ts, NULL);
  EdgefaasAmqpParams params = { 0 };
  EdgefaasAmqpConn *conn;
  GError *err = NULL;
  GstMessage *msg;
  GPtrArray *msgs;
  EdgefaasDetectionEvent *det;
  AtMsg *m;

  g_mutex_init (&ts.lock);
  /* an alerts queue bound to the topic exchange, declared with our helpers */
  g_assert_true (edgefaas_amqp_params_parse_url (&params, ef_broker_url (broker), &err));
  g_assert_true (edgefaas_amqp_params_load_password (&params, NULL, NULL, &err));
  conn = edgefaas_amqp_conn_open (&params, &err);
  g_assert_no_error (err);
  g_assert_true (edgefaas_amqp_declare_topology (conn, "det", "topic", "alerts",
          "alerts.#", "classic", &err));
  g_assert_no_error (err);
  edgefaas_amqp_conn_close (conn);
  edgefaas_amqp_params_clear (&params);

  src->camera_id = g_strdup ("cam3");
  src->event_id = 42;
  src->sequence = 7;
  src->trace.captured_us = edgefaas_now_utc_us () - 1000;
  src->capture_time_us = src->trace.captured_us;
  src->frame.is_inline = TRUE;
  src->frame.media_type = g_strdup ("image/jpeg");
  src->frame.width = 64;
  src->frame.height = 48;
  src->frame.size = 5;
  src->frame.sha256 = edgefaas_sha256_hex ((const guint8 *) "hello", 5);
  gst_buffer_add_edgefaas_event_meta (b, src, token);
  edgefaas_ack_token_unref (token);
  edgefaas_frame_event_free (src);
  roi = gst_buffer_add_video_region_of_interest_meta (b, "person", 8, 12, 16, 24);
  gst_video_region_of_interest_meta_add_param (roi, gst_structure_new ("detection",
          "label", G_TYPE_STRING, "person", "label_id", G_TYPE_INT, 0,
          "confidence", G_TYPE_DOUBLE, 0.8, "x_min", G_TYPE_DOUBLE, 0.125,
          "y_min", G_TYPE_DOUBLE, 0.25, "x_max", G_TYPE_DOUBLE, 0.375,
          "y_max", G_TYPE_DOUBLE, 0.75, NULL));
  roi = gst_buffer_add_video_region_of_interest_meta (b, "fire", 0, 0, 32, 24);
  gst_video_region_of_interest_meta_add_param (roi, gst_structure_new ("detection",
          "label", G_TYPE_STRING, "fire", "label_id", G_TYPE_INT, 80,
          "confidence", G_TYPE_DOUBLE, 0.95, "x_min", G_TYPE_DOUBLE, 0.0,
          "y_min", G_TYPE_DOUBLE, 0.0, "x_max", G_TYPE_DOUBLE, 0.5,
          "y_max", G_TYPE_DOUBLE, 0.5, NULL));
  gst_buffer_add_edgefaas_situation_meta (b, &sit);

  gst_element_set_state (p, GST_STATE_PLAYING);
  g_assert_cmpint (gst_app_src_push_buffer (GST_APP_SRC (a), b), ==, GST_FLOW_OK);
  gst_app_src_end_of_stream (GST_APP_SRC (a));
  msg = gst_bus_timed_pop_filtered (GST_ELEMENT_BUS (p), 30 * GST_SECOND,
      GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
  g_assert_nonnull (msg);
  g_assert_cmpint (GST_MESSAGE_TYPE (msg), ==, GST_MESSAGE_EOS);
  gst_message_unref (msg);
  /* EOS waited for the confirms: the token was released with ACK */
  g_mutex_lock (&ts.lock);
  g_assert_cmpint (ts.calls, ==, 1);
  g_assert_cmpint (ts.outcome, ==, EDGEFAAS_ACK_OUTCOME_ACK);
  g_mutex_unlock (&ts.lock);
  gst_element_set_state (p, GST_STATE_NULL);

  msgs = drain (ef_broker_url (broker), "detections");
  g_assert_cmpuint (msgs->len, ==, 1);
  m = g_ptr_array_index (msgs, 0);
  g_assert_cmpstr (m->routing_key, ==, "detections.cam3.fire");  /* top label */
  det = edgefaas_detection_event_from_json (g_bytes_get_data (m->body, NULL),
      g_bytes_get_size (m->body), &err);
  g_assert_no_error (err);
  g_assert_cmpstr (det->camera_id, ==, "cam3");
  g_assert_cmpuint (det->event_id, ==, 42);
  g_assert_cmpuint (det->detections->len, ==, 2);
  g_assert_cmpstr (g_array_index (det->detections, EdgefaasDetection, 0).label, ==, "person");
  g_assert_cmpfloat_with_epsilon (g_array_index (det->detections, EdgefaasDetection,
          0).y_max, 0.75, 1e-6);
  g_assert_cmpuint (det->situations->len, ==, 1);
  g_assert_cmpstr (g_array_index (det->situations, EdgefaasSituation, 0).name, ==, "fire");
  g_assert_nonnull (det->source);
  g_assert_cmpuint (det->source->sequence, ==, 7);
  g_assert_cmpint (det->trace.inferred_us, >, 0);
  g_assert_cmpint (det->trace.published_us, >=, det->trace.captured_us);
  edgefaas_detection_event_free (det);
  g_ptr_array_unref (msgs);

  msgs = drain (ef_broker_url (broker), "alerts");
  g_assert_cmpuint (msgs->len, ==, 1);
  m = g_ptr_array_index (msgs, 0);
  g_assert_cmpstr (m->routing_key, ==, "alerts.fire.cam3");
  g_assert_cmpstr (g_hash_table_lookup (m->headers, "edgefaas-alert"), ==, "fire");
  g_ptr_array_unref (msgs);

  gst_object_unref (a);
  gst_object_unref (p);
  g_free (desc);
}

/* A child gst-launch-1.0 at GST_DEBUG=*:6 publishes with the password in its
 * environment; neither its log nor gst-inspect output contain the password. */
static void
test_credentials_not_logged (void)
{
  gchar *desc = g_strdup_printf ("videotestsrc num-buffers=5 ! video/x-raw,width=64,height=48 "
      "! jpegenc ! amqpsink url=%s routing-key=creds queue=creds declare=true",
      ef_broker_url (broker));
  gchar *cmd = g_strdup_printf ("gst-launch-1.0 -e %s", desc);
  gchar **argv = NULL;
  gchar **envp = g_get_environ ();
  gchar *out = NULL, *errout = NULL;
  gint status = 0;
  GError *err = NULL;
  const gchar *pw = ef_broker_password (broker);

  g_assert_nonnull (pw);
  g_assert_cmpuint (strlen (pw), >=, 8);
  g_assert_true (g_shell_parse_argv (cmd, NULL, &argv, &err));
  envp = g_environ_setenv (envp, "GST_DEBUG", "*:6", TRUE);
  envp = g_environ_setenv (envp, "GST_DEBUG_NO_COLOR", "1", TRUE);
  envp = g_environ_setenv (envp, "EDGEFAAS_AMQP_PASSWORD", pw, TRUE);
  g_assert_true (g_spawn_sync (NULL, argv, envp, G_SPAWN_SEARCH_PATH, NULL, NULL, &out,
          &errout, &status, &err));
  g_assert_no_error (err);
  g_assert_true (g_spawn_check_wait_status (status, NULL));
  g_test_message ("child log: %" G_GSIZE_FORMAT " bytes of stderr", strlen (errout));
  /* the log is real: it shows our element working */
  g_assert_nonnull (strstr (errout, "amqpsink"));
  g_assert_nonnull (strstr (errout, "publishing to amqp://edgefaas@"));
  g_assert_null (strstr (errout, pw));
  g_assert_null (strstr (out, pw));
  assert_queue_counts (broker, "creds", 5);
  g_free (out);
  g_free (errout);
  g_strfreev (argv);

  /* gst-inspect of the element */
  {
    const gchar *iargv[] = { "gst-inspect-1.0", "amqpsink", NULL };
    g_assert_true (g_spawn_sync (NULL, (gchar **) iargv, envp, G_SPAWN_SEARCH_PATH, NULL,
            NULL, &out, &errout, &status, &err));
    g_assert_true (g_spawn_check_wait_status (status, NULL));
    g_assert_nonnull (strstr (out, "credentials-file"));
    g_assert_null (strstr (out, pw));
    g_free (out);
    g_free (errout);
  }
  g_strfreev (envp);
  g_free (cmd);
  g_free (desc);
}

/* --------------------------------------------------------- outage ---- */

typedef struct {
  GMutex lock;
  guint count;
  gint64 last_us, max_gap_us;
  guint late;                   /* gaps over 100 ms */
} Arrivals;

static GstPadProbeReturn
arrival_probe (GstPad * pad, GstPadProbeInfo * info, gpointer data)
{
  Arrivals *ar = data;
  gint64 now = g_get_monotonic_time ();
  g_mutex_lock (&ar->lock);
  if (ar->last_us && now - ar->last_us > ar->max_gap_us)
    ar->max_gap_us = now - ar->last_us;
  if (ar->last_us && now - ar->last_us > 100 * 1000)
    ar->late++;
  ar->last_us = now;
  ar->count++;
  g_mutex_unlock (&ar->lock);
  return GST_PAD_PROBE_OK;
}

static void
test_broker_outage_live (void)
{
  gchar *spool = ef_test_mkdtemp ("amqp-outage-spool");
  gchar *desc = g_strdup_printf ("videotestsrc is-live=true ! video/x-raw,width=160,height=120,"
      "framerate=30/1 ! jpegenc ! amqpsink name=s url=%s routing-key=outage queue=outage "
      "declare=true spool-dir=%s flush-timeout=60000", ef_broker_url (broker), spool);
  GstElement *p = gst_parse_launch (desc, NULL);
  GstElement *s = gst_bin_get_by_name (GST_BIN (p), "s");
  GstPad *pad = gst_element_get_static_pad (s, "sink");
  Arrivals ar = { 0 };
  GError *err = NULL;
  GstMessage *msg;
  GPtrArray *msgs;
  GHashTable *seen;
  guint dups = 0, max_seq = 0;
  gint64 t_down, t_up, t0;
  guint64 reconnects, spooled;

  g_mutex_init (&ar.lock);
  gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER, arrival_probe, &ar, NULL);
  gst_element_set_state (p, GST_STATE_PLAYING);
  g_usleep (3 * G_USEC_PER_SEC);

  t0 = g_get_monotonic_time ();
  g_assert_true (ef_broker_stop (broker, &err));
  g_assert_no_error (err);
  t_down = g_get_monotonic_time ();
  g_test_message ("broker stop took %" G_GINT64_FORMAT " ms", (t_down - t0) / 1000);

  /* While down: a second sink to the dead broker goes PLAYING -> NULL promptly. */
  {
    gchar *d2 = g_strdup_printf ("videotestsrc is-live=true ! video/x-raw,width=64,height=48 ! "
        "jpegenc ! amqpsink url=%s routing-key=outage2", ef_broker_url (broker));
    GstElement *p2 = gst_parse_launch (d2, NULL);
    gint64 a, dt;
    gst_element_set_state (p2, GST_STATE_PLAYING);
    g_usleep (1500 * 1000);
    a = g_get_monotonic_time ();
    gst_element_set_state (p2, GST_STATE_NULL);
    dt = g_get_monotonic_time () - a;
    g_test_message ("PLAYING->NULL with the broker down: %" G_GINT64_FORMAT " ms", dt / 1000);
    g_assert_cmpint (dt, <, 2 * G_USEC_PER_SEC);
    gst_object_unref (p2);
    g_free (d2);
  }

  while (g_get_monotonic_time () - t_down < 10 * G_USEC_PER_SEC)
    g_usleep (100 * 1000);
  g_assert_true (at_stat (s, "spooled") > 0);
  g_assert_false (at_stat (s, "connected"));
  t0 = g_get_monotonic_time ();
  g_assert_true (ef_broker_restart (broker, &err));
  g_assert_no_error (err);
  t_up = g_get_monotonic_time ();
  g_test_message ("broker down for %.1f s (restart took %" G_GINT64_FORMAT " ms)",
      (t_up - t_down) / 1e6, (t_up - t0) / 1000);
  g_usleep (4 * G_USEC_PER_SEC);

  gst_element_send_event (p, gst_event_new_eos ());
  msg = gst_bus_timed_pop_filtered (GST_ELEMENT_BUS (p), 90 * GST_SECOND,
      GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
  g_assert_nonnull (msg);
  g_assert_cmpint (GST_MESSAGE_TYPE (msg), ==, GST_MESSAGE_EOS);
  gst_message_unref (msg);
  reconnects = at_stat (s, "reconnects");
  spooled = at_stat (s, "spooled");
  g_test_message ("frames %u, max gap between frames at the sink %" G_GINT64_FORMAT
      " ms, gaps over 100 ms: %u; spooled %" G_GUINT64_FORMAT ", replayed %" G_GUINT64_FORMAT
      ", republished %" G_GUINT64_FORMAT ", reconnects %" G_GUINT64_FORMAT ", confirmed %"
      G_GUINT64_FORMAT, ar.count, ar.max_gap_us / 1000, ar.late, spooled,
      at_stat (s, "replayed"), at_stat (s, "republished"), reconnects,
      at_stat (s, "confirmed"));
  g_assert_cmpuint (reconnects, >=, 1);
  g_assert_cmpuint (at_stat (s, "dropped"), ==, 0);
  gst_element_set_state (p, GST_STATE_NULL);

  /* real time: ~30 fps over the whole run, no long stall at the sink */
  g_assert_cmpint (ar.max_gap_us, <, 500 * 1000);
  g_assert_cmpuint (ar.count, >, 30 * ((t_up - t_down) / G_USEC_PER_SEC + 3 + 4) * 8 / 10);

  msgs = drain (ef_broker_url (broker), "outage");
  seen = g_hash_table_new (g_direct_hash, g_direct_equal);
  for (guint i = 0; i < msgs->len; i++) {
    AtMsg *m = g_ptr_array_index (msgs, i);
    EdgefaasFrameEvent *ev = edgefaas_frame_event_from_json (g_hash_table_lookup (m->headers,
            "edgefaas-event"), -1, &err);
    gsize sz;
    gchar *sha = edgefaas_sha256_hex (g_bytes_get_data (m->body, &sz),
        g_bytes_get_size (m->body));
    g_assert_no_error (err);
    g_assert_cmpstr (sha, ==, ev->frame.sha256);        /* intact */
    if (g_hash_table_contains (seen, GUINT_TO_POINTER ((guint) ev->sequence)))
      dups++;
    g_hash_table_add (seen, GUINT_TO_POINTER ((guint) ev->sequence));
    max_seq = MAX (max_seq, (guint) ev->sequence);
    edgefaas_frame_event_free (ev);
    g_free (sha);
  }
  g_test_message ("received %u messages: %u distinct frames, %u duplicates (sent %u)",
      msgs->len, g_hash_table_size (seen), dups, ar.count);
  g_assert_cmpuint (g_hash_table_size (seen), ==, ar.count);    /* every frame, exactly */
  g_assert_cmpuint (max_seq, ==, ar.count);
  g_assert_cmpuint (msgs->len, ==, ar.count + dups);
  g_hash_table_unref (seen);
  g_ptr_array_unref (msgs);

  gst_object_unref (pad);
  gst_object_unref (s);
  gst_object_unref (p);
  ef_test_rm_rf (spool);
  g_free (spool);
  g_free (desc);
}

/* ----------------------------------------------------------- 4K JPEGs ---- */

/* 4K noise (what a camera sends of rain, foliage, a high-ISO night): JPEGs
 * of 1-3 MB. */
static GPtrArray *
encode_4k_noise (void)
{
  const guint qualities[] = { 12, 20, 30 };
  GPtrArray *out = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  for (guint i = 0; i < G_N_ELEMENTS (qualities); i++) {
    gchar *enc = g_strdup_printf ("jpegenc quality=%u", qualities[i]);
    gchar *desc = g_strdup_printf ("videotestsrc pattern=snow num-buffers=1 ! "
        "video/x-raw,width=3840,height=2160 ! %s ! appsink name=s sync=false", enc);
    GstElement *p = gst_parse_launch (desc, NULL);
    GstElement *sink = gst_bin_get_by_name (GST_BIN (p), "s");
    GstSample *sample;
    GstMapInfo map;
    gst_element_set_state (p, GST_STATE_PLAYING);
    sample = gst_app_sink_pull_sample (GST_APP_SINK (sink));
    g_assert_nonnull (sample);
    gst_buffer_map (gst_sample_get_buffer (sample), &map, GST_MAP_READ);
    g_test_message ("4K JPEG quality %u: %" G_GSIZE_FORMAT " bytes", qualities[i], map.size);
    g_assert_cmpuint (map.size, >=, 1000 * 1000);
    g_assert_cmpuint (map.size, <=, 3 * 1024 * 1024);
    g_ptr_array_add (out, g_bytes_new (map.data, map.size));
    gst_buffer_unmap (gst_sample_get_buffer (sample), &map);
    gst_sample_unref (sample);
    gst_element_set_state (p, GST_STATE_NULL);
    gst_object_unref (sink);
    gst_object_unref (p);
    g_free (desc);
    g_free (enc);
  }
  return out;
}

typedef struct
{
  GMutex lock;
  GPtrArray *shas;
} ShaList;

static void
on_handoff_sha (GstElement * sink, GstBuffer * buf, GstPad * pad, gpointer data)
{
  ShaList *l = data;
  GstMapInfo map;
  gst_buffer_map (buf, &map, GST_MAP_READ);
  g_mutex_lock (&l->lock);
  g_ptr_array_add (l->shas, edgefaas_sha256_hex (map.data, map.size));
  g_mutex_unlock (&l->lock);
  gst_buffer_unmap (buf, &map);
}

/* Consume the messages of @queue with amqpsrc (@extra) until max-messages
 * and its drain (EOS once every delivery is acked); each buffer must be the
 * original image, byte for byte (SHA-256), in order. */
static void
consume_and_compare (const gchar * queue, const gchar * extra, GPtrArray * images)
{
  gchar *desc = g_strdup_printf ("amqpsrc url=%s queue=%s max-messages=%u prefetch=2 %s ! "
      "fakesink name=k sync=false signal-handoffs=true", ef_broker_url (broker), queue,
      images->len, extra);
  GstElement *p = gst_parse_launch (desc, NULL);
  GstElement *k = gst_bin_get_by_name (GST_BIN (p), "k");
  ShaList l;
  GstMessage *m;

  g_mutex_init (&l.lock);
  l.shas = g_ptr_array_new_with_free_func (g_free);
  g_signal_connect (k, "handoff", G_CALLBACK (on_handoff_sha), &l);
  gst_element_set_state (p, GST_STATE_PLAYING);
  m = gst_bus_timed_pop_filtered (GST_ELEMENT_BUS (p), 60 * GST_SECOND,
      GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
  g_assert_nonnull (m);
  g_assert_cmpint (GST_MESSAGE_TYPE (m), ==, GST_MESSAGE_EOS);
  gst_message_unref (m);
  gst_element_set_state (p, GST_STATE_NULL);
  g_assert_cmpuint (l.shas->len, ==, images->len);
  for (guint i = 0; i < images->len; i++) {
    gsize sz;
    const guint8 *d = g_bytes_get_data (g_ptr_array_index (images, i), &sz);
    gchar *sha = edgefaas_sha256_hex (d, sz);
    g_assert_cmpstr (g_ptr_array_index (l.shas, i), ==, sha);
    g_free (sha);
  }
  g_ptr_array_unref (l.shas);
  g_mutex_clear (&l.lock);
  gst_object_unref (k);
  gst_object_unref (p);
  g_free (desc);
}

/* 4K JPEGs of 1-3 MB through amqpsink and back out of amqpsrc, inline (the
 * body is the image: over RabbitMQ's 128 KB frame_max, several body frames)
 * and by reference (frame store): every byte arrives. */
static void
test_4k_jpegs (void)
{
  GPtrArray *imgs = encode_4k_noise ();
  gchar *store = ef_test_mkdtemp ("amqp-4k-store");
  gchar *extra, *root;
  GError *err = NULL;

  g_assert_true (ef_broker_declare_queue (broker, "k4inline", &err));
  g_assert_no_error (err);
  g_assert_true (ef_broker_declare_queue (broker, "k4ref", &err));
  g_assert_no_error (err);

  publish_images (imgs, "image/jpeg,width=3840,height=2160", "routing-key=k4inline");
  assert_queue_counts (broker, "k4inline", imgs->len);
  consume_and_compare ("k4inline", "", imgs);
  assert_queue_counts (broker, "k4inline", 0);

  extra = g_strdup_printf ("routing-key=k4ref frame-store=%s", store);
  publish_images (imgs, "image/jpeg,width=3840,height=2160", extra);
  assert_queue_counts (broker, "k4ref", imgs->len);
  root = g_strdup_printf ("frame-root=%s", store);
  consume_and_compare ("k4ref", root, imgs);
  assert_queue_counts (broker, "k4ref", 0);

  g_ptr_array_unref (imgs);
  ef_test_rm_rf (store);
  g_free (store);
  g_free (extra);
  g_free (root);
}

/* ------------------------------------------------------------ TLS ---- */

static void
test_tls (void)
{
  gchar *dir = ef_test_mkdtemp ("amqp-tls");
  AtTlsBed bed;
  const gchar *ca, *wrong, *credfile;
  EfBroker *tb;
  GError *err = NULL;
  GstMessage *msg;
  gchar *dbg = NULL;

  at_tls_bed_start (&bed, dir);
  tb = bed.broker;
  ca = bed.ca;
  wrong = bed.wrong_ca;
  credfile = bed.credentials_file;

  /* right CA: published and confirmed over TLS */
  {
    gchar *desc = g_strdup_printf ("videotestsrc num-buffers=8 ! video/x-raw,width=64,"
        "height=48 ! jpegenc ! amqpsink url=%s tls-ca=%s credentials-file=%s "
        "routing-key=tlsq queue=tlsq declare=true", ef_broker_tls_url (tb), ca, credfile);
    GstElement *p = gst_parse_launch (desc, NULL);
    msg = at_run_until_done (p, 60);
    g_assert_nonnull (msg);
    if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ERROR) {
      gst_message_parse_error (msg, &err, &dbg);
      g_test_message ("TLS error: %s (%s)", err->message, dbg);
    }
    g_assert_cmpint (GST_MESSAGE_TYPE (msg), ==, GST_MESSAGE_EOS);
    gst_message_unref (msg);
    gst_element_set_state (p, GST_STATE_NULL);
    gst_object_unref (p);
    g_free (desc);
    assert_queue_counts (tb, "tlsq", 8);
  }
  /* wrong CA: a clear error naming TLS, nothing published */
  {
    gchar *desc = g_strdup_printf ("videotestsrc num-buffers=8 ! video/x-raw,width=64,"
        "height=48 ! jpegenc ! amqpsink url=%s tls-ca=%s credentials-file=%s "
        "routing-key=tlsq queue=tlsq declare=true", ef_broker_tls_url (tb), wrong, credfile);
    GstElement *p = gst_parse_launch (desc, NULL);
    gint64 t0 = g_get_monotonic_time ();
    msg = at_run_until_done (p, 60);
    g_assert_nonnull (msg);
    g_assert_cmpint (GST_MESSAGE_TYPE (msg), ==, GST_MESSAGE_ERROR);
    gst_message_parse_error (msg, &err, &dbg);
    g_test_message ("wrong CA -> %s (%s) after %" G_GINT64_FORMAT " ms", err->message, dbg,
        (g_get_monotonic_time () - t0) / 1000);
    g_assert_true (err->domain == GST_RESOURCE_ERROR);
    g_assert_nonnull (strstr (err->message, "TLS"));
    g_assert_null (strstr (dbg, ef_broker_password (tb)));
    g_clear_error (&err);
    g_free (dbg);
    gst_message_unref (msg);
    gst_element_set_state (p, GST_STATE_NULL);
    gst_object_unref (p);
    g_free (desc);
    assert_queue_counts (tb, "tlsq", 8);
  }
  at_tls_bed_stop (&bed);
  ef_test_rm_rf (dir);
  g_free (dir);
}

/* A routing key no queue is bound to: the broker returns the messages; the
 * sink counts them and warns (instead of losing them silently). */
static void
test_unroutable_reported (void)
{
  gchar *desc = g_strdup_printf ("videotestsrc num-buffers=3 ! video/x-raw,width=64,height=48 "
      "! jpegenc ! amqpsink name=s url=%s routing-key=no-such-queue", ef_broker_url (broker));
  GstElement *p = gst_parse_launch (desc, NULL);
  GstElement *s = gst_bin_get_by_name (GST_BIN (p), "s");
  GstBus *bus = gst_element_get_bus (p);
  GstMessage *msg;
  gboolean warned = FALSE;

  gst_element_set_state (p, GST_STATE_PLAYING);
  while ((msg = gst_bus_timed_pop_filtered (bus, 30 * GST_SECOND, GST_MESSAGE_EOS |
              GST_MESSAGE_ERROR | GST_MESSAGE_WARNING))) {
    GstMessageType t = GST_MESSAGE_TYPE (msg);
    if (t == GST_MESSAGE_WARNING) {
      GError *err = NULL;
      gst_message_parse_warning (msg, &err, NULL);
      if (strstr (err->message, "unroutable"))
        warned = TRUE;
      g_clear_error (&err);
    }
    gst_message_unref (msg);
    g_assert_cmpint (t, !=, GST_MESSAGE_ERROR);
    if (t == GST_MESSAGE_EOS)
      break;
  }
  g_assert_true (warned);
  g_assert_cmpuint (at_stat (s, "unroutable"), ==, 3);
  g_assert_cmpuint (at_stat (s, "confirmed"), ==, 3);
  gst_element_set_state (p, GST_STATE_NULL);
  gst_object_unref (bus);
  gst_object_unref (s);
  gst_object_unref (p);
  g_free (desc);
}

/* A wrong password is a clear NOT_AUTHORIZED error (retrying cannot fix it),
 * and neither the wrong nor the right password shows up in it. */
static void
test_wrong_password (void)
{
  gchar *dir = ef_test_mkdtemp ("amqp-wrongpw");
  gchar *file = g_build_filename (dir, "pw", NULL);
  gchar *desc = g_strdup_printf ("videotestsrc num-buffers=3 ! video/x-raw,width=64,height=48 "
      "! jpegenc ! amqpsink url=%s credentials-file=%s routing-key=wrongpw",
      ef_broker_url (broker), file);
  GstElement *p;
  GstMessage *msg;
  GError *err = NULL;
  gchar *dbg = NULL;

  g_assert_true (g_file_set_contents (file, "Wr0ngPassw0rd-abc\n", -1, NULL));
  p = gst_parse_launch (desc, NULL);
  msg = at_run_until_done (p, 30);
  g_assert_nonnull (msg);
  g_assert_cmpint (GST_MESSAGE_TYPE (msg), ==, GST_MESSAGE_ERROR);
  gst_message_parse_error (msg, &err, &dbg);
  g_test_message ("wrong password -> %s (%s)", err->message, dbg);
  g_assert_error (err, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_NOT_AUTHORIZED);
  g_assert_null (strstr (dbg, "Wr0ngPassw0rd-abc"));
  g_assert_null (strstr (dbg, ef_broker_password (broker)));
  g_clear_error (&err);
  g_free (dbg);
  gst_message_unref (msg);
  gst_element_set_state (p, GST_STATE_NULL);
  gst_object_unref (p);
  ef_test_rm_rf (dir);
  g_free (dir);
  g_free (file);
  g_free (desc);
}

/* Messages spooled while no broker was reachable survive the element's stop
 * and are replayed, in order, by the next run with the same name and spool. */
static void
test_spool_replayed_next_run (void)
{
  gchar *spool = ef_test_mkdtemp ("amqp-replay-spool");
  gchar *d1 = g_strdup_printf ("videotestsrc num-buffers=20 ! video/x-raw,width=64,height=48 "
      "! jpegenc ! amqpsink name=edge url=amqp://edgefaas@127.0.0.1:%u/ routing-key=replayq "
      "spool-dir=%s flush-timeout=200", ef_test_free_port (), spool);
  gchar *d2 = g_strdup_printf ("appsrc name=a caps=application/json ! amqpsink name=edge "
      "url=%s routing-key=replayq queue=replayq declare=true spool-dir=%s",
      ef_broker_url (broker), spool);
  GstElement *p = gst_parse_launch (d1, NULL);
  GstElement *s, *a;
  GstMessage *msg = at_run_until_done (p, 30);
  GPtrArray *msgs;
  GError *err = NULL;

  g_assert_nonnull (msg);
  g_assert_cmpint (GST_MESSAGE_TYPE (msg), ==, GST_MESSAGE_EOS);
  gst_message_unref (msg);
  gst_element_set_state (p, GST_STATE_NULL);
  gst_object_unref (p);

  p = gst_parse_launch (d2, NULL);
  s = gst_bin_get_by_name (GST_BIN (p), "edge");
  a = gst_bin_get_by_name (GST_BIN (p), "a");
  gst_element_set_state (p, GST_STATE_PLAYING);
  gst_app_src_end_of_stream (GST_APP_SRC (a));
  msg = gst_bus_timed_pop_filtered (GST_ELEMENT_BUS (p), 60 * GST_SECOND,
      GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
  g_assert_nonnull (msg);
  g_assert_cmpint (GST_MESSAGE_TYPE (msg), ==, GST_MESSAGE_EOS);
  gst_message_unref (msg);
  g_assert_cmpuint (at_stat (s, "replayed"), ==, 20);
  g_assert_cmpuint (at_stat (s, "confirmed"), ==, 20);
  gst_element_set_state (p, GST_STATE_NULL);

  msgs = drain (ef_broker_url (broker), "replayq");
  g_assert_cmpuint (msgs->len, ==, 20);
  for (guint i = 0; i < msgs->len; i++) {
    AtMsg *m = g_ptr_array_index (msgs, i);
    EdgefaasFrameEvent *ev = edgefaas_frame_event_from_json (g_hash_table_lookup (m->headers,
            "edgefaas-event"), -1, &err);
    gchar *sha = edgefaas_sha256_hex (g_bytes_get_data (m->body, NULL),
        g_bytes_get_size (m->body));
    g_assert_no_error (err);
    g_assert_cmpuint (ev->sequence, ==, i + 1);         /* in order */
    g_assert_cmpstr (ev->frame.sha256, ==, sha);        /* intact */
    g_assert_cmpstr (m->content_type, ==, "image/jpeg");
    edgefaas_frame_event_free (ev);
    g_free (sha);
  }
  g_ptr_array_unref (msgs);
  gst_object_unref (a);
  gst_object_unref (s);
  gst_object_unref (p);
  ef_test_rm_rf (spool);
  g_free (spool);
  g_free (d1);
  g_free (d2);
}

/* ------------------------------------------------------ nacks ---- */

/* Push @images through appsrc ! amqpsink (@extra); returns the final bus
 * message type and counts the warnings whose text contains @warn_substr. */
static GstMessageType
push_and_count_warnings (GPtrArray * images, const gchar * extra, const gchar * warn_substr,
    guint * n_warnings, GstElement ** sink_out, GstElement ** pipeline_out)
{
  gchar *desc = g_strdup_printf ("appsrc name=a caps=image/jpeg,width=64,height=48 "
      "format=time ! amqpsink name=s url=%s camera-id=nackcam %s", ef_broker_url (broker),
      extra);
  GstElement *p = gst_parse_launch (desc, NULL);
  GstElement *a = gst_bin_get_by_name (GST_BIN (p), "a");
  GstBus *bus = gst_element_get_bus (p);
  GstMessageType last = GST_MESSAGE_UNKNOWN;
  GstMessage *msg;

  *n_warnings = 0;
  gst_element_set_state (p, GST_STATE_PLAYING);
  for (guint i = 0; i < images->len; i++) {
    GstBuffer *b = gst_buffer_new_wrapped_bytes (g_bytes_ref (g_ptr_array_index (images, i)));
    GST_BUFFER_PTS (b) = i * GST_SECOND / 30;
    g_assert_cmpint (gst_app_src_push_buffer (GST_APP_SRC (a), b), ==, GST_FLOW_OK);
  }
  gst_app_src_end_of_stream (GST_APP_SRC (a));
  while ((msg = gst_bus_timed_pop_filtered (bus, 120 * GST_SECOND, GST_MESSAGE_EOS |
              GST_MESSAGE_ERROR | GST_MESSAGE_WARNING))) {
    last = GST_MESSAGE_TYPE (msg);
    if (last == GST_MESSAGE_WARNING) {
      GError *err = NULL;
      gst_message_parse_warning (msg, &err, NULL);
      g_test_message ("warning: %s", err->message);
      if (strstr (err->message, warn_substr))
        (*n_warnings)++;
      g_clear_error (&err);
    }
    gst_message_unref (msg);
    if (last != GST_MESSAGE_WARNING)
      break;
  }
  gst_object_unref (bus);
  gst_object_unref (a);
  *sink_out = gst_bin_get_by_name (GST_BIN (p), "s");
  *pipeline_out = p;
  g_free (desc);
  return last;
}

static GHashTable *
image_hashes_of_bytes (GPtrArray * images)
{
  GHashTable *set = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  for (guint i = 0; i < images->len; i++) {
    GBytes *b = g_ptr_array_index (images, i);
    g_hash_table_add (set, edgefaas_sha256_hex (g_bytes_get_data (b, NULL),
            g_bytes_get_size (b)));
  }
  return set;
}

/* Sequences of frame events in @msgs (inline: header); asserts intact. */
static GHashTable *
frame_sequences (GPtrArray * msgs)
{
  GHashTable *seen = g_hash_table_new (g_direct_hash, g_direct_equal);
  for (guint i = 0; i < msgs->len; i++) {
    AtMsg *m = g_ptr_array_index (msgs, i);
    GError *err = NULL;
    EdgefaasFrameEvent *ev = edgefaas_frame_event_from_json (g_hash_table_lookup (m->headers,
            "edgefaas-event"), -1, &err);
    g_assert_no_error (err);
    g_hash_table_add (seen, GUINT_TO_POINTER ((guint) ev->sequence));
    edgefaas_frame_event_free (ev);
  }
  return seen;
}

/* A queue with x-max-length=20 and x-overflow=reject-publish, drained by a
 * slow consumer (about 100 msg/s) that starts 2 s late, so the queue is full
 * whatever the publisher's speed: the broker nacks most publishes. With the
 * default on-nack=retry every frame arrives, the nacks are counted and the
 * warnings are few; with on-nack=drop the nacked frames are counted as
 * dropped and the rest arrive. */
static void
test_nack_retry_and_drop (void)
{
  const guint n = 300;
  GPtrArray *images = at_encode_images (n, "jpegenc", 64, 48);
  GError *err = NULL;
  AtSlowDrain *drain;
  GPtrArray *msgs;
  GHashTable *seen;
  GstElement *p, *s;
  guint warnings;
  gint64 t0;
  guint64 nacked, dropped;

  g_assert_true (at_declare_bounded_queue (ef_broker_url (broker), "nackq", 20, &err));
  g_assert_no_error (err);

  /* retry (default) */
  drain = at_slow_drain_start (ef_broker_url (broker), "nackq", 10, 2000);
  t0 = g_get_monotonic_time ();
  g_assert_cmpint (push_and_count_warnings (images, "routing-key=nackq max-queue=1000 "
          "flush-timeout=120000", "refused", &warnings, &s, &p), ==, GST_MESSAGE_EOS);
  msgs = at_slow_drain_finish (drain, 2000);
  nacked = at_stat (s, "nacked");
  g_test_message ("retry: %u received, %" G_GUINT64_FORMAT " nacked, %" G_GUINT64_FORMAT
      " published, %u nack warnings in %.1f s", msgs->len, nacked, at_stat (s, "published"),
      warnings, (g_get_monotonic_time () - t0) / 1e6);
  seen = frame_sequences (msgs);
  g_assert_cmpuint (g_hash_table_size (seen), ==, n);   /* every frame */
  g_assert_cmpuint (msgs->len, ==, n);                  /* each once */
  g_assert_cmpuint (nacked, >, 0);
  g_assert_cmpuint (at_stat (s, "confirmed"), ==, n);
  g_assert_cmpuint (at_stat (s, "dropped"), ==, 0);
  g_assert_cmpuint (at_stat (s, "published"), ==, n + nacked);
  g_assert_cmpuint (warnings, >=, 1);
  g_assert_cmpuint (warnings, <=, 1 + (g_get_monotonic_time () - t0) / (10 * G_USEC_PER_SEC));
  g_hash_table_unref (seen);
  g_ptr_array_unref (msgs);
  gst_element_set_state (p, GST_STATE_NULL);
  gst_object_unref (s);
  gst_object_unref (p);

  /* drop: counted, not lost silently */
  drain = at_slow_drain_start (ef_broker_url (broker), "nackq", 10, 2000);
  t0 = g_get_monotonic_time ();
  g_assert_cmpint (push_and_count_warnings (images, "routing-key=nackq max-queue=1000 "
          "on-nack=drop", "refused", &warnings, &s, &p), ==, GST_MESSAGE_EOS);
  msgs = at_slow_drain_finish (drain, 2000);
  nacked = at_stat (s, "nacked");
  dropped = at_stat (s, "dropped");
  g_test_message ("drop: %u received, %" G_GUINT64_FORMAT " nacked, %" G_GUINT64_FORMAT
      " dropped, %u nack warnings", msgs->len, nacked, dropped, warnings);
  g_assert_cmpuint (nacked, >, 0);
  g_assert_cmpuint (dropped, ==, nacked);
  g_assert_cmpuint (msgs->len + dropped, ==, n);
  g_assert_cmpuint (at_stat (s, "confirmed") + dropped, ==, n);
  g_assert_cmpuint (warnings, >=, 1);
  g_assert_cmpuint (warnings, <=, 1 + (g_get_monotonic_time () - t0) / (10 * G_USEC_PER_SEC));
  g_ptr_array_unref (msgs);
  gst_element_set_state (p, GST_STATE_NULL);
  gst_object_unref (s);
  gst_object_unref (p);
  g_ptr_array_unref (images);
}

/* SHA-256 of the image of each frame message (inline or by reference). */
static GHashTable *
image_hashes (GPtrArray * msgs)
{
  GHashTable *set = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  for (guint i = 0; i < msgs->len; i++) {
    AtMsg *m = g_ptr_array_index (msgs, i);
    g_hash_table_add (set, edgefaas_sha256_hex (g_bytes_get_data (m->body, NULL),
            g_bytes_get_size (m->body)));
  }
  return set;
}

/* amqpsrc -> amqpsink where the output queue refuses publishes (x-max-length
 * 10, reject-publish) for the first seconds, then is drained: back-pressure,
 * not poison. No input message may be dead-lettered as "redelivered"; every
 * input frame arrives at the output. */
static void
test_chain_backpressure_not_poison (void)
{
  const guint n = 100;
  GPtrArray *images = at_encode_images (n, "jpegenc", 64, 48);
  GHashTable *in_set = image_hashes_of_bytes (images);
  gchar *d1 = g_strdup_printf ("appsrc name=a caps=image/jpeg,width=64,height=48 format=time "
      "! amqpsink url=%s routing-key=chainin queue=chainin declare=true", ef_broker_url (broker));
  gchar *d2 = g_strdup_printf ("amqpsrc name=src url=%s queue=chainin prefetch=10 "
      "max-messages=%u drain-timeout=0 ! amqpsink name=out url=%s routing-key=chainout "
      "flush-timeout=120000", ef_broker_url (broker), n, ef_broker_url (broker));
  GstElement *p = gst_parse_launch (d1, NULL), *a, *out, *src;
  GError *err = NULL;
  GstMessage *msg;
  AtSlowDrain *drain;
  GPtrArray *msgs;
  GHashTable *out_set;
  guint ready = 0, unacked = 0, dead = 0;
  GHashTableIter it;
  gpointer key;

  /* n distinct frames into the input queue */
  a = gst_bin_get_by_name (GST_BIN (p), "a");
  gst_element_set_state (p, GST_STATE_PLAYING);
  for (guint i = 0; i < n; i++) {
    GstBuffer *b = gst_buffer_new_wrapped_bytes (g_bytes_ref (g_ptr_array_index (images, i)));
    GST_BUFFER_PTS (b) = i * GST_SECOND / 30;
    g_assert_cmpint (gst_app_src_push_buffer (GST_APP_SRC (a), b), ==, GST_FLOW_OK);
  }
  gst_app_src_end_of_stream (GST_APP_SRC (a));
  msg = gst_bus_timed_pop_filtered (GST_ELEMENT_BUS (p), 60 * GST_SECOND,
      GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
  g_assert_nonnull (msg);
  g_assert_cmpint (GST_MESSAGE_TYPE (msg), ==, GST_MESSAGE_EOS);
  gst_message_unref (msg);
  gst_element_set_state (p, GST_STATE_NULL);
  gst_object_unref (a);
  gst_object_unref (p);
  assert_queue_counts (broker, "chainin", n);

  g_assert_true (at_declare_bounded_queue (ef_broker_url (broker), "chainout", 10, &err));
  g_assert_no_error (err);

  /* the chain; the output queue is full (nobody reads it) for 4 s */
  p = gst_parse_launch (d2, &err);
  g_assert_no_error (err);
  out = gst_bin_get_by_name (GST_BIN (p), "out");
  src = gst_bin_get_by_name (GST_BIN (p), "src");
  gst_element_set_state (p, GST_STATE_PLAYING);
  g_usleep (4 * G_USEC_PER_SEC);
  g_test_message ("after 4 s of a full output queue: out nacked %" G_GUINT64_FORMAT
      ", src rejected %" G_GUINT64_FORMAT ", src requeued %" G_GUINT64_FORMAT,
      at_stat (out, "nacked"), at_stat (src, "rejected"), at_stat (src, "requeued"));
  drain = at_slow_drain_start (ef_broker_url (broker), "chainout", 5, 0);
  msg = gst_bus_timed_pop_filtered (GST_ELEMENT_BUS (p), 180 * GST_SECOND,
      GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
  msgs = at_slow_drain_finish (drain, 2000);
  g_assert_nonnull (msg);
  g_assert_cmpint (GST_MESSAGE_TYPE (msg), ==, GST_MESSAGE_EOS);
  gst_message_unref (msg);
  g_test_message ("chain: %u at the output, out nacked %" G_GUINT64_FORMAT ", confirmed %"
      G_GUINT64_FORMAT "; src acked %" G_GUINT64_FORMAT ", rejected %" G_GUINT64_FORMAT
      ", requeued %" G_GUINT64_FORMAT, msgs->len, at_stat (out, "nacked"),
      at_stat (out, "confirmed"), at_stat (src, "acked"), at_stat (src, "rejected"),
      at_stat (src, "requeued"));
  g_assert_cmpuint (at_stat (out, "nacked"), >, 0);     /* there was back-pressure */
  g_assert_cmpuint (at_stat (src, "rejected"), ==, 0);
  gst_element_set_state (p, GST_STATE_NULL);

  g_assert_true (ef_broker_queue_counts (broker, "chainin.dead", &dead, &unacked, &err));
  g_assert_cmpuint (dead, ==, 0);                       /* nothing dead-lettered */
  g_assert_true (ef_broker_queue_counts (broker, "chainin", &ready, &unacked, &err));
  g_assert_cmpuint (ready + unacked, ==, 0);
  out_set = image_hashes (msgs);
  g_hash_table_iter_init (&it, in_set);
  while (g_hash_table_iter_next (&it, &key, NULL))
    g_assert_true (g_hash_table_contains (out_set, key));       /* every input frame */
  g_assert_cmpuint (msgs->len, ==, n);

  g_hash_table_unref (out_set);
  g_hash_table_unref (in_set);
  g_ptr_array_unref (msgs);
  g_ptr_array_unref (images);
  gst_object_unref (out);
  gst_object_unref (src);
  gst_object_unref (p);
  g_free (d1);
  g_free (d2);
}

/* ------------------------------------------------- resource alarm ---- */

typedef struct {
  GstElement *appsrc;
  GPtrArray *images;
  guint pushed;
  gint stop;
  GstFlowReturn last;
} Pusher;

/* ~30 fps until told to stop (or out of images). */
static gpointer
pusher_thread (gpointer data)
{
  Pusher *pu = data;
  while (!g_atomic_int_get (&pu->stop) && pu->pushed < pu->images->len) {
    GstBuffer *b = gst_buffer_new_wrapped_bytes (g_bytes_ref (g_ptr_array_index (pu->images,
                pu->pushed)));
    GST_BUFFER_PTS (b) = pu->pushed * GST_SECOND / 30;
    pu->last = gst_app_src_push_buffer (GST_APP_SRC (pu->appsrc), b);
    if (pu->last != GST_FLOW_OK)
      break;
    pu->pushed++;
    g_usleep (G_USEC_PER_SEC / 30);
  }
  return NULL;
}

/* Wait up to @timeout_ms for a WARNING/INFO whose text contains @substr;
 * returns the monotonic time it was popped, 0 if none. Errors fail. */
static gint64
wait_bus_text (GstBus * bus, const gchar * substr, guint timeout_ms)
{
  gint64 until = g_get_monotonic_time () + timeout_ms * 1000;
  while (g_get_monotonic_time () < until) {
    GstMessage *msg = gst_bus_timed_pop_filtered (bus, 50 * GST_MSECOND, GST_MESSAGE_WARNING |
        GST_MESSAGE_INFO | GST_MESSAGE_ERROR);
    GError *err = NULL;
    gboolean hit;
    if (msg == NULL)
      continue;
    g_assert_cmpint (GST_MESSAGE_TYPE (msg), !=, GST_MESSAGE_ERROR);
    if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_WARNING)
      gst_message_parse_warning (msg, &err, NULL);
    else
      gst_message_parse_info (msg, &err, NULL);
    g_test_message ("bus: %s", err->message);
    hit = strstr (err->message, substr) != NULL;
    g_clear_error (&err);
    gst_message_unref (msg);
    if (hit)
      return g_get_monotonic_time ();
  }
  return 0;
}

static gboolean
stat_bool (GstElement * sink, const gchar * field)
{
  GstStructure *st = NULL;
  gboolean v = FALSE;
  g_object_get (sink, "stats", &st, NULL);
  if (!gst_structure_get_boolean (st, field, &v))
    g_test_message ("stats have no boolean '%s'", field);       /* counts as FALSE */
  gst_structure_free (st);
  return v;
}

/* A memory alarm (vm_memory_high_watermark 0.00001) held for 20 s under a
 * 30 fps stream: connection.blocked is a warning and in stats within a
 * second, connection.unblocked a message and stats likewise; the pipeline
 * keeps running meanwhile (frames queued, then spooled) and every frame
 * arrives exactly once after the alarm clears. */
static void
test_resource_alarm_blocked (void)
{
  gchar *spool = ef_test_mkdtemp ("amqp-blocked-spool");
  gchar *desc = g_strdup_printf ("appsrc name=a caps=image/jpeg,width=64,height=48 "
      "format=time is-live=true max-bytes=0 ! amqpsink name=s url=%s routing-key=blockq "
      "queue=blockq declare=true spool-dir=%s flush-timeout=60000", ef_broker_url (broker),
      spool);
  GstElement *p = gst_parse_launch (desc, NULL);
  GstElement *s = gst_bin_get_by_name (GST_BIN (p), "s");
  GstBus *bus = gst_element_get_bus (p);
  Pusher pu = { 0 };
  GThread *th;
  GError *err = NULL;
  gchar *out;
  gint64 t_alarm, t_warn, t_clear, t_unblock;
  guint64 confirmed_at_block;
  GPtrArray *msgs;
  GHashTable *seen;
  GstMessage *msg;

  pu.images = at_encode_images (30 * 40, "jpegenc", 64, 48);
  pu.appsrc = gst_bin_get_by_name (GST_BIN (p), "a");
  gst_element_set_state (p, GST_STATE_PLAYING);
  th = g_thread_new ("pusher", pusher_thread, &pu);
  g_usleep (2 * G_USEC_PER_SEC);
  g_assert_cmpuint (at_stat (s, "confirmed"), >, 0);
  g_assert_false (stat_bool (s, "blocked"));

  out = ef_broker_ctl (broker, &err, "set_vm_memory_high_watermark", "0.00001", NULL);
  g_assert_no_error (err);
  g_free (out);
  t_alarm = g_get_monotonic_time ();
  t_warn = wait_bus_text (bus, "blocked publishing", 10000);
  g_assert_cmpint (t_warn, >, 0);
  g_assert_true (stat_bool (s, "blocked"));
  g_assert_cmpuint (at_stat (s, "blocked-count"), ==, 1);
  g_test_message ("blocked warning %" G_GINT64_FORMAT " ms after rabbitmqctl returned",
      (t_warn - t_alarm) / 1000);
  /* the broker raises the alarm at its next memory check (<= 1 s) */
  g_assert_cmpint (t_warn - t_alarm, <, 3 * G_USEC_PER_SEC);

  /* hold it ~20 s: nothing confirmed, the pipeline keeps taking frames */
  g_usleep (G_USEC_PER_SEC);
  confirmed_at_block = at_stat (s, "confirmed");
  {
    guint before = pu.pushed;
    g_usleep (19 * G_USEC_PER_SEC);
    g_assert_cmpuint (pu.pushed, >, before + 19 * 30 / 2);      /* not stalled */
  }
  g_assert_cmpuint (at_stat (s, "confirmed"), ==, confirmed_at_block);
  g_assert_true (stat_bool (s, "blocked"));
  g_assert_cmpuint (at_stat (s, "spooled"), >, 0);      /* beyond max-queue: spool */
  g_assert_cmpuint (at_stat (s, "dropped"), ==, 0);

  out = ef_broker_ctl (broker, &err, "set_vm_memory_high_watermark", "0.4", NULL);
  g_assert_no_error (err);
  g_free (out);
  t_clear = g_get_monotonic_time ();
  t_unblock = wait_bus_text (bus, "unblocked publishing", 10000);
  g_assert_cmpint (t_unblock, >, 0);
  g_assert_false (stat_bool (s, "blocked"));
  g_test_message ("unblocked message %" G_GINT64_FORMAT " ms after rabbitmqctl returned",
      (t_unblock - t_clear) / 1000);
  g_assert_cmpint (t_unblock - t_clear, <, 3 * G_USEC_PER_SEC);

  g_usleep (3 * G_USEC_PER_SEC);
  g_atomic_int_set (&pu.stop, 1);
  g_thread_join (th);
  g_assert_cmpint (pu.last, ==, GST_FLOW_OK);
  gst_app_src_end_of_stream (GST_APP_SRC (pu.appsrc));
  msg = gst_bus_timed_pop_filtered (bus, 90 * GST_SECOND, GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
  g_assert_nonnull (msg);
  g_assert_cmpint (GST_MESSAGE_TYPE (msg), ==, GST_MESSAGE_EOS);
  gst_message_unref (msg);
  g_test_message ("pushed %u; confirmed %" G_GUINT64_FORMAT ", spooled %" G_GUINT64_FORMAT
      ", replayed %" G_GUINT64_FORMAT, pu.pushed, at_stat (s, "confirmed"),
      at_stat (s, "spooled"), at_stat (s, "replayed"));
  g_assert_cmpuint (at_stat (s, "confirmed"), ==, pu.pushed);
  g_assert_cmpuint (at_stat (s, "dropped"), ==, 0);
  gst_element_set_state (p, GST_STATE_NULL);

  msgs = drain (ef_broker_url (broker), "blockq");
  seen = frame_sequences (msgs);
  g_assert_cmpuint (g_hash_table_size (seen), ==, pu.pushed);   /* every frame */
  g_assert_cmpuint (msgs->len, ==, pu.pushed);                  /* exactly once */
  g_hash_table_unref (seen);
  g_ptr_array_unref (msgs);
  g_ptr_array_unref (pu.images);
  gst_object_unref (pu.appsrc);
  gst_object_unref (bus);
  gst_object_unref (s);
  gst_object_unref (p);
  ef_test_rm_rf (spool);
  g_free (spool);
  g_free (desc);
}

/* -------------------------------------------------- unique ids ---- */

static void
run_camera (const gchar * url, const gchar * spool, const gchar * store, const gchar * pattern)
{
  gchar *desc = g_strdup_printf ("videotestsrc num-buffers=10 pattern=%s ! video/x-raw,"
      "width=64,height=48 ! jpegenc ! amqpsink name=edge url=%s camera-id=dupcam "
      "routing-key=dupq queue=dupq declare=true spool-dir=%s frame-store=%s flush-timeout=300",
      pattern, url, spool, store);
  GstElement *p = gst_parse_launch (desc, NULL);
  GstMessage *msg = at_run_until_done (p, 60);
  g_assert_nonnull (msg);
  g_assert_cmpint (GST_MESSAGE_TYPE (msg), ==, GST_MESSAGE_EOS);
  gst_message_unref (msg);
  gst_element_set_state (p, GST_STATE_NULL);
  gst_object_unref (p);
  g_free (desc);
}

/* Four runs of the same camera (same element name, camera-id, spool and
 * frame store): two to the broker, one while it is unreachable (spooled),
 * one that replays that spool and publishes 10 more. No message-id, no
 * (camera, run, sequence) and no frame file collides; every reference still
 * loads with its hash (no run overwrote another's frames). */
static void
test_ids_unique_across_runs (void)
{
  gchar *spool = ef_test_mkdtemp ("amqp-dup-spool");
  gchar *store = ef_test_mkdtemp ("amqp-dup-store");
  gchar *dead_url = g_strdup_printf ("amqp://edgefaas@127.0.0.1:%u/", ef_test_free_port ());
  GHashTable *ids = g_hash_table_new (g_str_hash, g_str_equal);
  GHashTable *keys = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  GHashTable *uris = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  GPtrArray *msgs;
  guint no_run = 0, bad_frames = 0;

  run_camera (ef_broker_url (broker), spool, store, "ball");
  run_camera (ef_broker_url (broker), spool, store, "snow");
  run_camera (dead_url, spool, store, "smpte");
  run_camera (ef_broker_url (broker), spool, store, "checkers-1");
  msgs = drain (ef_broker_url (broker), "dupq");
  g_assert_cmpuint (msgs->len, ==, 40);
  for (guint i = 0; i < msgs->len; i++) {
    AtMsg *m = g_ptr_array_index (msgs, i);
    GError *err = NULL;
    EdgefaasFrameEvent *ev = edgefaas_frame_event_from_json (g_bytes_get_data (m->body, NULL),
        g_bytes_get_size (m->body), &err);
    GBytes *img;

    g_assert_no_error (err);
    g_assert_nonnull (m->message_id);
    g_hash_table_add (ids, m->message_id);
    if (ev->run_id == NULL)
      no_run++;
    g_hash_table_add (keys, g_strdup_printf ("%s/%s/%" G_GUINT64_FORMAT, ev->camera_id,
            ev->run_id ? ev->run_id : "-", ev->sequence));
    g_hash_table_add (uris, g_strdup (ev->frame.uri));
    img = edgefaas_frameref_load (ev->frame.uri, store, 0, ev->frame.size, ev->frame.sha256,
        &err);
    if (img == NULL) {
      g_test_message ("frame %s: %s", ev->frame.uri, err->message);
      bad_frames++;
    }
    g_clear_error (&err);
    if (img)
      g_bytes_unref (img);
    edgefaas_frame_event_free (ev);
  }
  g_test_message ("40 messages: %u distinct message-ids, %u distinct (camera, run, sequence), "
      "%u distinct frame files, %u frames that do not load with their hash, %u events "
      "without run_id", g_hash_table_size (ids), g_hash_table_size (keys),
      g_hash_table_size (uris), bad_frames, no_run);
  g_assert_cmpuint (g_hash_table_size (ids), ==, 40);
  g_assert_cmpuint (g_hash_table_size (keys), ==, 40);
  g_assert_cmpuint (g_hash_table_size (uris), ==, 40);
  g_assert_cmpuint (bad_frames, ==, 0);
  g_assert_cmpuint (no_run, ==, 0);
  g_hash_table_unref (ids);
  g_hash_table_unref (keys);
  g_hash_table_unref (uris);
  g_ptr_array_unref (msgs);
  ef_test_rm_rf (spool);
  ef_test_rm_rf (store);
  g_free (spool);
  g_free (store);
  g_free (dead_url);
}

/* ------------------------------------------------- full disk ---- */

/* A tmpfs of @size_kb mounted on a fresh directory (the tests run as root in
 * CI); fails loudly if it cannot be mounted. */
static gchar *
mount_small_fs (guint size_kb)
{
  gchar *dir = ef_test_mkdtemp ("amqp-fulldisk");
  gchar *opt = g_strdup_printf ("size=%uk", size_kb);
  const gchar *argv[] = { "mount", "-t", "tmpfs", "-o", opt, "tmpfs", dir, NULL };
  gchar *errout = NULL;
  gint status = 0;
  GError *err = NULL;

  g_assert_true (g_spawn_sync (NULL, (gchar **) argv, NULL, G_SPAWN_SEARCH_PATH |
          G_SPAWN_STDOUT_TO_DEV_NULL, NULL, NULL, NULL, &errout, &status, &err));
  g_assert_no_error (err);
  if (!g_spawn_check_wait_status (status, NULL))
    g_error ("CANNOT RUN: mount -t tmpfs -o %s on %s failed (needs root): %s", opt, dir, errout);
  g_free (errout);
  g_free (opt);
  return dir;
}

static void
umount_small_fs (gchar * dir)
{
  const gchar *argv[] = { "umount", dir, NULL };
  gint status = 0;
  g_assert_true (g_spawn_sync (NULL, (gchar **) argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL,
          NULL, NULL, &status, NULL));
  g_assert_true (g_spawn_check_wait_status (status, NULL));
  g_rmdir (dir);
  g_free (dir);
}

/* Fill the file system of @dir to the last byte. */
static void
fill_fs (const gchar * dir)
{
  gchar *path = g_build_filename (dir, "filler", NULL);
  FILE *f = fopen (path, "ab");
  gchar block[4096] = { 0 };
  gsize n = 0;

  g_assert_nonnull (f);
  setvbuf (f, NULL, _IONBF, 0);
  while (fwrite (block, 1, sizeof (block), f) == sizeof (block))
    n++;
  while (fwrite (block, 1, 1, f) == 1)
    n++;
  fclose (f);
  g_test_message ("filled %s (%" G_GSIZE_FORMAT " blocks)", dir, n);
  g_free (path);
}

/* Push @n images into a fresh appsrc ! amqpsink (@extra) and send EOS;
 * returns the pipeline (PLAYING, EOS pending) with its sink. */
static GstElement *
start_push (GPtrArray * images, guint n, const gchar * url, const gchar * extra,
    GstElement ** sink)
{
  gchar *desc = g_strdup_printf ("appsrc name=a caps=image/jpeg,width=64,height=48 "
      "format=time max-bytes=0 ! amqpsink name=edge url=%s camera-id=diskcam %s", url, extra);
  GstElement *p = gst_parse_launch (desc, NULL);
  GstElement *a = gst_bin_get_by_name (GST_BIN (p), "a");

  *sink = gst_bin_get_by_name (GST_BIN (p), "edge");
  gst_element_set_state (p, GST_STATE_PLAYING);
  for (guint i = 0; i < n; i++) {
    GstBuffer *b = gst_buffer_new_wrapped_bytes (g_bytes_ref (g_ptr_array_index (images,
                i % images->len)));
    GST_BUFFER_PTS (b) = i * GST_SECOND / 30;
    gst_app_src_push_buffer (GST_APP_SRC (a), b);
  }
  gst_app_src_end_of_stream (GST_APP_SRC (a));
  gst_object_unref (a);
  g_free (desc);
  return p;
}

/* Pop bus messages until EOS or ERROR; collects warning texts into @warnings. */
static GstMessage *
pop_until_done (GstElement * p, GString * warnings)
{
  GstBus *bus = gst_element_get_bus (p);
  GstMessage *msg;
  while ((msg = gst_bus_timed_pop_filtered (bus, 60 * GST_SECOND, GST_MESSAGE_EOS |
              GST_MESSAGE_ERROR | GST_MESSAGE_WARNING))) {
    if (GST_MESSAGE_TYPE (msg) != GST_MESSAGE_WARNING)
      break;
    {
      GError *err = NULL;
      gst_message_parse_warning (msg, &err, NULL);
      g_test_message ("warning: %s", err->message);
      g_string_append_printf (warnings, "%s\n", err->message);
      g_clear_error (&err);
    }
    gst_message_unref (msg);
  }
  gst_object_unref (bus);
  return msg;
}

/* The spool on a full file system (tmpfs):
 * 1. broker down, on-full=error: the error names the disk (No space left on
 *    device), not spool-max-bytes;
 * 2. broker down, on-full=drop: at EOS the messages memory holds but the
 *    spool cannot are reported while the bus still delivers, and counted as
 *    dropped when the element stops;
 * 3. spool holding records from an earlier run, disk full, broker back: new
 *    frames go to memory instead of being dropped behind the spool; all
 *    arrive. */
static void
test_spool_full_disk_error_text (void)
{
  gchar *fs = mount_small_fs (1024);
  gchar *spool = g_build_filename (fs, "spool", NULL);
  gchar *dead_url = g_strdup_printf ("amqp://edgefaas@127.0.0.1:%u/", ef_test_free_port ());
  GPtrArray *images = at_encode_images (20, "jpegenc", 64, 48);
  GString *warnings = g_string_new (NULL);
  GstElement *p, *s;
  GstMessage *msg;
  gchar *extra;

  g_assert_cmpint (g_mkdir (spool, 0700), ==, 0);
  GError *err = NULL;
  gchar *dbg = NULL;

  fill_fs (fs);
  /* 1: on-full=error names the real cause */
  extra = g_strdup_printf ("spool-dir=%s max-queue=5 on-full=error", spool);
  p = start_push (images, 20, dead_url, extra, &s);
  msg = pop_until_done (p, warnings);
  g_assert_nonnull (msg);
  g_assert_cmpint (GST_MESSAGE_TYPE (msg), ==, GST_MESSAGE_ERROR);
  gst_message_parse_error (msg, &err, &dbg);
  g_test_message ("error: %s (%s)", err->message, dbg);
  g_assert_error (err, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_NO_SPACE_LEFT);
  g_assert_nonnull (strstr (err->message, g_strerror (ENOSPC)));
  g_assert_null (strstr (err->message, "spool-max-bytes"));
  g_clear_error (&err);
  g_free (dbg);
  gst_message_unref (msg);
  gst_element_set_state (p, GST_STATE_NULL);
  gst_object_unref (s);
  gst_object_unref (p);
  

  g_free (extra);
  g_string_free (warnings, TRUE);
  g_ptr_array_unref (images);
  g_free (dead_url);
  g_free (spool);
  umount_small_fs (fs);
}

static void
test_spool_full_disk_loss_at_stop (void)
{
  gchar *fs = mount_small_fs (1024);
  gchar *spool = g_build_filename (fs, "spool", NULL);
  gchar *dead_url = g_strdup_printf ("amqp://edgefaas@127.0.0.1:%u/", ef_test_free_port ());
  GPtrArray *images = at_encode_images (20, "jpegenc", 64, 48);
  GString *warnings = g_string_new (NULL);
  GstElement *p, *s;
  GstMessage *msg;
  gchar *extra;

  g_assert_cmpint (g_mkdir (spool, 0700), ==, 0);

  fill_fs (fs);
  /* 2: lost at stop: reported at EOS, counted */
  extra = g_strdup_printf ("spool-dir=%s max-queue=50 on-full=drop flush-timeout=300", spool);
  p = start_push (images, 10, dead_url, extra, &s);
  msg = pop_until_done (p, warnings);
  g_assert_nonnull (msg);
  g_assert_cmpint (GST_MESSAGE_TYPE (msg), ==, GST_MESSAGE_EOS);
  gst_message_unref (msg);
  g_assert_nonnull (strstr (warnings->str, "could not be written to the spool"));
  g_assert_cmpuint (at_stat (s, "dropped"), ==, 0);
  gst_element_set_state (p, GST_STATE_NULL);
  g_test_message ("after stop: dropped %" G_GUINT64_FORMAT, at_stat (s, "dropped"));
  g_assert_cmpuint (at_stat (s, "dropped"), ==, 10);    /* the loss is counted */
  gst_object_unref (s);
  gst_object_unref (p);
  

  g_free (extra);
  g_string_free (warnings, TRUE);
  g_ptr_array_unref (images);
  g_free (dead_url);
  g_free (spool);
  umount_small_fs (fs);
}

static void
test_spool_full_disk_memory_fallback (void)
{
  gchar *fs = mount_small_fs (1024);
  gchar *spool = g_build_filename (fs, "spool", NULL);
  gchar *dead_url = g_strdup_printf ("amqp://edgefaas@127.0.0.1:%u/", ef_test_free_port ());
  GPtrArray *images = at_encode_images (20, "jpegenc", 64, 48);
  GString *warnings = g_string_new (NULL);
  GstElement *p, *s;
  GstMessage *msg;
  gchar *extra;

  g_assert_cmpint (g_mkdir (spool, 0700), ==, 0);
  GPtrArray *msgs;
  GHashTable *seen;

  /* 3: records in the spool, disk full, broker back */
  extra = g_strdup_printf ("routing-key=diskq spool-dir=%s flush-timeout=300", spool);
  p = start_push (images, 200, dead_url, extra, &s);
  msg = pop_until_done (p, warnings);
  gst_message_unref (msg);
  gst_element_set_state (p, GST_STATE_NULL);
  g_assert_cmpuint (at_stat (s, "spooled"), ==, 200);
  gst_object_unref (s);
  gst_object_unref (p);
  fill_fs (fs);
  g_free (extra);
  extra = g_strdup_printf ("routing-key=diskq queue=diskq declare=true spool-dir=%s "
      "flush-timeout=30000", spool);
  p = start_push (images, 20, ef_broker_url (broker), extra, &s);
  msg = pop_until_done (p, warnings);
  g_assert_nonnull (msg);
  g_assert_cmpint (GST_MESSAGE_TYPE (msg), ==, GST_MESSAGE_EOS);
  gst_message_unref (msg);
  g_test_message ("broker back, disk full: replayed %" G_GUINT64_FORMAT ", dropped %"
      G_GUINT64_FORMAT ", confirmed %" G_GUINT64_FORMAT, at_stat (s, "replayed"),
      at_stat (s, "dropped"), at_stat (s, "confirmed"));
  g_assert_cmpuint (at_stat (s, "replayed"), ==, 200);
  g_assert_cmpuint (at_stat (s, "dropped"), ==, 0);
  g_assert_cmpuint (at_stat (s, "confirmed"), ==, 220);
  gst_element_set_state (p, GST_STATE_NULL);
  gst_object_unref (s);
  gst_object_unref (p);
  msgs = drain (ef_broker_url (broker), "diskq");
  g_assert_cmpuint (msgs->len, ==, 220);
  seen = g_hash_table_new (g_str_hash, g_str_equal);
  for (guint i = 0; i < msgs->len; i++)
    g_hash_table_add (seen, ((AtMsg *) g_ptr_array_index (msgs, i))->message_id);
  g_assert_cmpuint (g_hash_table_size (seen), ==, 220);
  g_hash_table_unref (seen);
  g_ptr_array_unref (msgs);

  g_free (extra);
  g_string_free (warnings, TRUE);
  g_ptr_array_unref (images);
  g_free (dead_url);
  g_free (spool);
  umount_small_fs (fs);
}

/* ----------------------------------------------- frame-store retention ---- */

static guint
count_frames (const gchar * dir)
{
  gchar *cmd = g_strdup_printf ("find %s -type f -name '*.jpg' -not -name '.*'", dir);
  gchar *out = NULL;
  guint n = 0;
  g_assert_true (g_spawn_command_line_sync (cmd, &out, NULL, NULL, NULL));
  for (const gchar * p = out; p && *p; p++)
    n += *p == '\n';
  g_free (out);
  g_free (cmd);
  return n;
}

/* frame-store-max-age and -max-bytes on amqpsink: a 10-day-old frame is
 * deleted; frames whose events sit unconfirmed in the spool (broker down)
 * survive a 1-byte size bound, also across a restart; once the next run has
 * replayed and the broker confirmed them, they go. */
static void
test_frame_store_retention (void)
{
  gchar *store = ef_test_mkdtemp ("amqp-retention-store");
  gchar *spool = ef_test_mkdtemp ("amqp-retention-spool");
  gchar *dead_url = g_strdup_printf ("amqp://edgefaas@127.0.0.1:%u/", ef_test_free_port ());
  gchar *olddir = g_build_filename (store, "retcam", "2020-01-01", NULL);
  gchar *oldframe = g_build_filename (olddir, "0-x-1.jpg", NULL);
  gchar *retain = g_strdup_printf ("frame-store=%s spool-dir=%s frame-store-max-age=86400 "
      "frame-store-max-bytes=1 routing-key=retq", store, spool);
  gchar *d1 = g_strdup_printf ("videotestsrc num-buffers=10 ! video/x-raw,width=64,height=48 "
      "! jpegenc ! amqpsink name=edge camera-id=retcam url=%s %s flush-timeout=100",
      dead_url, retain);
  gchar *d2 = g_strdup_printf ("appsrc name=a caps=image/jpeg format=time ! amqpsink "
      "name=edge camera-id=retcam url=%s queue=retq declare=true %s", ef_broker_url (broker),
      retain);
  GstElement *p, *s;
  GstMessage *msg;
  gint64 until;
  struct timeval tv[2] = { {0,}, };

  g_assert_cmpint (g_mkdir_with_parents (olddir, 0755), ==, 0);
  g_assert_true (g_file_set_contents (oldframe, "old", 3, NULL));
  tv[0].tv_sec = tv[1].tv_sec = time (NULL) - 10 * 86400;
  g_assert_cmpint (utimes (oldframe, tv), ==, 0);

  /* run 1, broker down: 10 frames stored, their events spooled */
  p = gst_parse_launch (d1, NULL);
  s = gst_bin_get_by_name (GST_BIN (p), "edge");
  msg = at_run_until_done (p, 30);
  g_assert_nonnull (msg);
  gst_message_unref (msg);
  g_usleep (11 * G_USEC_PER_SEC);       /* a retention pass on frames > 5 s old */
  g_test_message ("run 1: spooled %" G_GUINT64_FORMAT ", frames deleted %" G_GUINT64_FORMAT
      ", frames on disk %u", at_stat (s, "spooled"), at_stat (s, "frames-deleted"),
      count_frames (store));
  g_assert_false (g_file_test (oldframe, G_FILE_TEST_EXISTS));  /* age */
  g_assert_cmpuint (count_frames (store), ==, 10);      /* unconfirmed: kept */
  gst_element_set_state (p, GST_STATE_NULL);
  gst_object_unref (s);
  gst_object_unref (p);

  /* run 2, broker back: the spool is replayed; confirmed frames may go */
  p = gst_parse_launch (d2, NULL);
  s = gst_bin_get_by_name (GST_BIN (p), "edge");
  gst_element_set_state (p, GST_STATE_PLAYING);
  until = g_get_monotonic_time () + 30 * G_USEC_PER_SEC;
  while (at_stat (s, "confirmed") < 10 && g_get_monotonic_time () < until)
    g_usleep (100 * 1000);
  g_assert_cmpuint (at_stat (s, "confirmed"), ==, 10);
  /* the first pass ran at start, before the confirms: all 10 kept */
  g_assert_cmpuint (count_frames (store), ==, 10);
  until = g_get_monotonic_time () + 20 * G_USEC_PER_SEC;
  while (count_frames (store) > 0 && g_get_monotonic_time () < until)
    g_usleep (200 * 1000);
  g_test_message ("run 2: confirmed %" G_GUINT64_FORMAT ", frames deleted %" G_GUINT64_FORMAT,
      at_stat (s, "confirmed"), at_stat (s, "frames-deleted"));
  g_assert_cmpuint (count_frames (store), ==, 0);
  g_assert_cmpuint (at_stat (s, "frames-deleted"), ==, 10);
  gst_element_set_state (p, GST_STATE_NULL);
  gst_object_unref (s);
  gst_object_unref (p);
  g_ptr_array_unref (drain (ef_broker_url (broker), "retq"));

  ef_test_rm_rf (store);
  ef_test_rm_rf (spool);
  g_free (store);
  g_free (spool);
  g_free (dead_url);
  g_free (olddir);
  g_free (oldframe);
  g_free (retain);
  g_free (d1);
  g_free (d2);
}

/* ------------------------------------------- caps without a size ---- */

/* multifilesrc caps=image/jpeg ! amqpsink (no width/height in the caps): the
 * size comes from each JPEG's header and every published event is valid (what
 * amqpsrc accepts); a buffer that is no JPEG is not published but counted in
 * `invalid` with a warning. */
static void
test_jpeg_caps_without_size (void)
{
  gchar *dir = ef_test_mkdtemp ("amqp-multifile");
  GPtrArray *jpegs = at_encode_images (6, "jpegenc", 96, 72);
  gchar *desc;
  GstElement *p, *s;
  GstMessage *msg;
  GPtrArray *msgs;
  GString *warnings = g_string_new (NULL);

  for (guint i = 0; i < jpegs->len; i++) {
    gchar *f = g_strdup_printf ("%s/f%03u.jpg", dir, i);
    gsize n;
    const gchar *d = g_bytes_get_data (g_ptr_array_index (jpegs, i), &n);
    /* the 4th file is not a JPEG */
    if (i == 3)
      g_assert_true (g_file_set_contents (f, "this is not a jpeg", -1, NULL));
    else
      g_assert_true (g_file_set_contents (f, d, n, NULL));
    g_free (f);
  }
  desc = g_strdup_printf ("multifilesrc location=%s/f%%03d.jpg stop-index=5 caps=image/jpeg ! "
      "amqpsink name=edge url=%s routing-key=nosizeq queue=nosizeq declare=true", dir,
      ef_broker_url (broker));
  p = gst_parse_launch (desc, NULL);
  s = gst_bin_get_by_name (GST_BIN (p), "edge");
  gst_element_set_state (p, GST_STATE_PLAYING);
  msg = pop_until_done (p, warnings);
  g_assert_nonnull (msg);
  g_assert_cmpint (GST_MESSAGE_TYPE (msg), ==, GST_MESSAGE_EOS);
  gst_message_unref (msg);
  g_test_message ("confirmed %" G_GUINT64_FORMAT, at_stat (s, "confirmed"));
  gst_element_set_state (p, GST_STATE_NULL);

  msgs = drain (ef_broker_url (broker), "nosizeq");
  for (guint i = 0; i < msgs->len; i++) {
    AtMsg *m = g_ptr_array_index (msgs, i);
    GError *err = NULL;
    EdgefaasFrameEvent *ev = edgefaas_frame_event_from_json (g_hash_table_lookup (m->headers,
            "edgefaas-event"), -1, &err);
    g_assert_no_error (err);                    /* what amqpsrc accepts */
    g_assert_cmpuint (ev->frame.width, ==, 96);
    g_assert_cmpuint (ev->frame.height, ==, 72);
    edgefaas_frame_event_free (ev);
  }
  g_assert_cmpuint (msgs->len, ==, 5);
  g_assert_cmpuint (at_stat (s, "confirmed"), ==, 5);
  g_assert_cmpuint (at_stat (s, "invalid"), ==, 1);
  g_assert_nonnull (strstr (warnings->str, "invalid frame event"));
  g_ptr_array_unref (msgs);
  g_string_free (warnings, TRUE);
  g_ptr_array_unref (jpegs);
  gst_object_unref (s);
  gst_object_unref (p);
  ef_test_rm_rf (dir);
  g_free (dir);
  g_free (desc);
}

/* Refused caps change nothing: after image/jpeg caps, invalid video/x-raw
 * caps are refused (CORE/NEGOTIATION error) and the next JPEG is still
 * published as a 64x48 JPEG frame (the old set_caps switched the media type
 * and size before refusing). */
static void
test_refused_caps_keep_media_type (void)
{
  GstElement *sink = gst_element_factory_make ("amqpsink", NULL);
  GstHarness *h;
  GPtrArray *jpegs = at_encode_images (2, "jpegenc", 64, 48);
  GstCaps *bad = gst_caps_from_string ("video/x-raw,width=64,height=48");       /* no format */
  GPtrArray *msgs;

  g_object_set (sink, "url", ef_broker_url (broker), "routing-key", "capsq",
      "queue", "capsq", "declare", TRUE, NULL);
  h = gst_harness_new_with_element (sink, "sink", NULL);
  gst_object_unref (sink);
  gst_harness_set_src_caps_str (h, "image/jpeg,width=64,height=48");
  g_assert_cmpint (gst_harness_push (h, gst_buffer_new_wrapped_bytes (g_bytes_ref
              (g_ptr_array_index (jpegs, 0)))), ==, GST_FLOW_OK);
  {
    GstPad *sinkpad = gst_element_get_static_pad (h->element, "sink");
    g_assert_false (gst_pad_send_event (sinkpad, gst_event_new_caps (bad)));   /* refused */
    gst_object_unref (sinkpad);
  }
  gst_caps_unref (bad);
  g_assert_cmpint (gst_harness_push (h, gst_buffer_new_wrapped_bytes (g_bytes_ref
              (g_ptr_array_index (jpegs, 1)))), ==, GST_FLOW_OK);
  g_assert_true (gst_harness_push_event (h, gst_event_new_eos ()));
  gst_harness_teardown (h);

  msgs = drain (ef_broker_url (broker), "capsq");
  g_assert_cmpuint (msgs->len, ==, 2);
  for (guint i = 0; i < msgs->len; i++) {
    AtMsg *m = g_ptr_array_index (msgs, i);
    GError *err = NULL;
    EdgefaasFrameEvent *ev;
    g_assert_cmpstr (m->content_type, ==, "image/jpeg");
    ev = edgefaas_frame_event_from_json (g_hash_table_lookup (m->headers, "edgefaas-event"),
        -1, &err);
    g_assert_no_error (err);
    g_assert_cmpuint (ev->frame.width, ==, 64);
    g_assert_cmpuint (ev->frame.height, ==, 48);
    edgefaas_frame_event_free (ev);
  }
  g_ptr_array_unref (msgs);
  g_ptr_array_unref (jpegs);
}

int
main (int argc, char **argv)
{
  GError *err = NULL;
  int ret;

  ef_test_init (&argc, &argv);
  broker = ef_broker_start (NULL, &err);
  if (broker == NULL) {
    /* cannot run: fail loudly */
    g_printerr ("CANNOT RUN: the RabbitMQ fixture did not start: %s\n",
        err ? err->message : "?");
    return 1;
  }
  ef_broker_export_env (broker);

  g_test_add_func ("/amqpsink/fresh-broker-declare", test_fresh_broker_declare);
  g_test_add_func ("/amqpsink/inline-and-reference", test_inline_and_reference);
  g_test_add_func ("/amqpsink/detections-and-alerts", test_detections_and_alerts);
  g_test_add_func ("/amqpsink/unroutable-reported", test_unroutable_reported);
  g_test_add_func ("/amqpsink/credentials-not-logged", test_credentials_not_logged);
  g_test_add_func ("/amqpsink/wrong-password", test_wrong_password);
  g_test_add_func ("/amqpsink/spool-replayed-next-run", test_spool_replayed_next_run);
  g_test_add_func ("/amqpsink/4k-jpegs", test_4k_jpegs);
  g_test_add_func ("/amqpsink/tls", test_tls);
  g_test_add_func ("/amqpsink/nack-retry-and-drop", test_nack_retry_and_drop);
  g_test_add_func ("/amqpsink/chain-backpressure-not-poison",
      test_chain_backpressure_not_poison);
  g_test_add_func ("/amqpsink/resource-alarm-blocked", test_resource_alarm_blocked);
  g_test_add_func ("/amqpsink/ids-unique-across-runs", test_ids_unique_across_runs);
  g_test_add_func ("/amqpsink/spool-full-disk/error-text", test_spool_full_disk_error_text);
  g_test_add_func ("/amqpsink/spool-full-disk/loss-at-stop",
      test_spool_full_disk_loss_at_stop);
  g_test_add_func ("/amqpsink/spool-full-disk/memory-fallback",
      test_spool_full_disk_memory_fallback);
  g_test_add_func ("/amqpsink/frame-store-retention", test_frame_store_retention);
  g_test_add_func ("/amqpsink/jpeg-caps-without-size", test_jpeg_caps_without_size);
  g_test_add_func ("/amqpsink/refused-caps-keep-media-type",
      test_refused_caps_keep_media_type);
  g_test_add_func ("/amqpsink/broker-outage-live", test_broker_outage_live);
  ret = g_test_run ();
  ef_broker_free (broker);
  return ret;
}
