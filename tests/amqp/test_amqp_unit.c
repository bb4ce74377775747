/* amqp helpers and amqpsink without a broker: URL and credential handling, the
 * spool bounds, ack tokens held until a confirm, prompt shutdown when the broker
 * cannot be reached (a closed loopback port). */
#include <string.h>
#include <glib/gstdio.h>
#include <gst/app/app.h>

#include "ef-test.h"
#include "edgefaas-amqp.h"
#include "edgefaas-meta.h"
#include "amqp-test-util.h"

#define SECRET "s3cr3t-Pa55word-xyz"

static void
test_url_parse (void)
{
  EdgefaasAmqpParams p = { 0 };
  GError *err = NULL;

  g_assert_true (edgefaas_amqp_params_parse_url (&p, "amqp://alice@broker.example:5673/prod",
          &err));
  g_assert_no_error (err);
  g_assert_cmpstr (p.host, ==, "broker.example");
  g_assert_cmpuint (p.port, ==, 5673);
  g_assert_cmpstr (p.vhost, ==, "prod");
  g_assert_cmpstr (p.user, ==, "alice");
  g_assert_false (p.tls);
  g_assert_true (p.tls_verify);
  g_assert_cmpuint (p.heartbeat_s, ==, 30);
  g_assert_null (p.password);

  g_assert_true (edgefaas_amqp_params_parse_url (&p, "amqps://bob@h/%2f?heartbeat=5", &err));
  g_assert_no_error (err);
  g_assert_true (p.tls);
  g_assert_cmpuint (p.port, ==, 5671);
  g_assert_cmpstr (p.vhost, ==, "/");
  g_assert_cmpuint (p.heartbeat_s, ==, 5);

  g_assert_true (edgefaas_amqp_params_parse_url (&p, "amqp://localhost", &err));
  g_assert_cmpstr (p.vhost, ==, "/");
  g_assert_cmpstr (p.user, ==, "guest");
  g_assert_cmpuint (p.port, ==, 5672);

  g_assert_false (edgefaas_amqp_params_parse_url (&p, "http://h/", &err));
  g_assert_error (err, EDGEFAAS_AMQP_ERROR, EDGEFAAS_AMQP_ERROR_URL);
  g_clear_error (&err);
  g_assert_false (edgefaas_amqp_params_parse_url (&p, "amqp://h/?heartbeat=abc", &err));
  g_assert_error (err, EDGEFAAS_AMQP_ERROR, EDGEFAAS_AMQP_ERROR_URL);
  g_assert_nonnull (strstr (err->message, "heartbeat"));
  g_clear_error (&err);
  g_assert_false (edgefaas_amqp_params_parse_url (&p, "amqp://h/?frobnicate=1", &err));
  g_assert_error (err, EDGEFAAS_AMQP_ERROR, EDGEFAAS_AMQP_ERROR_URL);
  g_clear_error (&err);
  edgefaas_amqp_params_clear (&p);
}

static void
test_url_password_refused (void)
{
  EdgefaasAmqpParams p = { 0 };
  GError *err = NULL;

  g_assert_false (edgefaas_amqp_params_parse_url (&p,
          "amqp://alice:" SECRET "@localhost:5672/", &err));
  g_assert_error (err, EDGEFAAS_AMQP_ERROR, EDGEFAAS_AMQP_ERROR_URL);
  g_assert_null (strstr (err->message, SECRET));
  g_assert_nonnull (strstr (err->message, "password"));
  g_clear_error (&err);
  edgefaas_amqp_params_clear (&p);
}

static void
test_password_sources (void)
{
  EdgefaasAmqpParams p = { 0 };
  GError *err = NULL;
  gchar *dir = ef_test_mkdtemp ("amqp-cred");
  gchar *file = g_build_filename (dir, "pw", NULL);
  gchar *redacted;

  g_assert_true (edgefaas_amqp_params_parse_url (&p, "amqp://alice@localhost/", &err));
  g_unsetenv ("EDGEFAAS_AMQP_PASSWORD");
  g_unsetenv ("MY_PW");
  /* nothing set, user is not guest: a clear error naming the variable */
  g_assert_false (edgefaas_amqp_params_load_password (&p, NULL, NULL, &err));
  g_assert_error (err, EDGEFAAS_AMQP_ERROR, EDGEFAAS_AMQP_ERROR_CREDENTIALS);
  g_assert_nonnull (strstr (err->message, "EDGEFAAS_AMQP_PASSWORD"));
  g_clear_error (&err);

  g_setenv ("EDGEFAAS_AMQP_PASSWORD", "from-default-env", TRUE);
  g_assert_true (edgefaas_amqp_params_load_password (&p, NULL, NULL, &err));
  g_assert_cmpstr (p.password, ==, "from-default-env");

  g_setenv ("MY_PW", "from-my-env", TRUE);
  g_assert_true (edgefaas_amqp_params_load_password (&p, NULL, "MY_PW", &err));
  g_assert_cmpstr (p.password, ==, "from-my-env");

  g_assert_true (g_file_set_contents (file, SECRET "\nignored second line\n", -1, NULL));
  g_assert_true (edgefaas_amqp_params_load_password (&p, file, "MY_PW", &err));
  g_assert_cmpstr (p.password, ==, SECRET);

  redacted = edgefaas_amqp_params_redacted_url (&p);
  g_assert_null (strstr (redacted, SECRET));
  g_assert_nonnull (strstr (redacted, "alice@localhost:5672"));
  g_free (redacted);

  g_assert_false (edgefaas_amqp_params_load_password (&p, "/nonexistent/pw", NULL, &err));
  g_assert_error (err, EDGEFAAS_AMQP_ERROR, EDGEFAAS_AMQP_ERROR_CREDENTIALS);
  g_clear_error (&err);

  g_assert_true (g_file_set_contents (file, "", -1, NULL));
  g_assert_false (edgefaas_amqp_params_load_password (&p, file, NULL, &err));
  g_assert_error (err, EDGEFAAS_AMQP_ERROR, EDGEFAAS_AMQP_ERROR_CREDENTIALS);
  g_clear_error (&err);

  g_unsetenv ("MY_PW");
  g_setenv ("EDGEFAAS_AMQP_PASSWORD", SECRET, TRUE);
  edgefaas_amqp_params_clear (&p);
  ef_test_rm_rf (dir);
  g_free (dir);
  g_free (file);
}

/* Connecting to a closed port fails fast with a CONNECT error. */
static void
test_connect_refused (void)
{
  EdgefaasAmqpParams p = { 0 };
  GError *err = NULL;
  gchar *url = g_strdup_printf ("amqp://alice@127.0.0.1:%u/", ef_test_free_port ());
  gint64 t0;

  g_assert_true (edgefaas_amqp_params_parse_url (&p, url, &err));
  g_assert_true (edgefaas_amqp_params_load_password (&p, NULL, NULL, &err));
  t0 = g_get_monotonic_time ();
  g_assert_null (edgefaas_amqp_conn_open (&p, &err));
  g_assert_error (err, EDGEFAAS_AMQP_ERROR, EDGEFAAS_AMQP_ERROR_CONNECT);
  g_assert_null (strstr (err->message, SECRET));
  g_assert_cmpint (g_get_monotonic_time () - t0, <, 2 * G_USEC_PER_SEC);
  g_clear_error (&err);
  edgefaas_amqp_params_clear (&p);
  g_free (url);
}

static gchar *
closed_url (void)
{
  return g_strdup_printf ("amqp://edgefaas@127.0.0.1:%u/", ef_test_free_port ());
}

static void
test_sink_url_with_password (void)
{
  GstElement *sink = gst_element_factory_make ("amqpsink", NULL);
  GstElement *pipeline = gst_pipeline_new (NULL);
  GstElement *src = gst_element_factory_make ("fakesrc", NULL);
  GstMessage *msg;
  gchar *url = NULL, *dbg = NULL;
  GError *err = NULL;

  g_assert_nonnull (sink);
  g_object_set (sink, "url", "amqp://alice:" SECRET "@127.0.0.1:1/", NULL);
  g_object_get (sink, "url", &url, NULL);
  g_assert_true (url == NULL || strstr (url, SECRET) == NULL);
  g_free (url);

  gst_bin_add_many (GST_BIN (pipeline), src, sink, NULL);
  g_assert_true (gst_element_link (src, sink));
  gst_element_set_state (pipeline, GST_STATE_PLAYING);
  msg = gst_bus_timed_pop_filtered (GST_ELEMENT_BUS (pipeline), 5 * GST_SECOND,
      GST_MESSAGE_ERROR);
  g_assert_nonnull (msg);
  gst_message_parse_error (msg, &err, &dbg);
  g_assert_error (err, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS);
  g_assert_nonnull (strstr (err->message, "password"));
  g_assert_null (strstr (err->message, SECRET));
  g_assert_null (strstr (dbg ? dbg : "", SECRET));
  g_clear_error (&err);
  g_free (dbg);
  gst_message_unref (msg);
  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_object_unref (pipeline);
}

/* Broker unreachable, spool tiny, on-full=error: the pipeline errors out with
 * NO_SPACE_LEFT and the spool never exceeds its bound. */
static void
test_spool_full_error (void)
{
  gchar *dir = ef_test_mkdtemp ("amqp-spool");
  gchar *url = closed_url ();
  gchar *desc = g_strdup_printf ("videotestsrc num-buffers=200 ! "
      "video/x-raw,width=160,height=120 ! jpegenc ! amqpsink name=s url=%s spool-dir=%s "
      "spool-max-bytes=40000 on-full=error", url, dir);
  GstElement *p = gst_parse_launch (desc, NULL);
  GstElement *s = gst_bin_get_by_name (GST_BIN (p), "s");
  GstMessage *msg;
  GError *err = NULL;
  gchar *spool = g_build_filename (dir, "s.spool", NULL);
  GStatBuf st;

  msg = at_run_until_done (p, 30);
  g_assert_nonnull (msg);
  g_assert_cmpint (GST_MESSAGE_TYPE (msg), ==, GST_MESSAGE_ERROR);
  gst_message_parse_error (msg, &err, NULL);
  g_assert_error (err, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_NO_SPACE_LEFT);
  g_test_message ("error: %s", err->message);
  g_clear_error (&err);
  gst_message_unref (msg);
  g_assert_cmpuint (at_stat (s, "spooled"), >, 0);
  g_assert_cmpuint (at_stat (s, "spool-bytes"), <=, 40000);
  g_assert_cmpuint (g_stat (spool, &st), ==, 0);
  g_assert_cmpint (st.st_size, <=, 40000);
  gst_element_set_state (p, GST_STATE_NULL);
  gst_object_unref (s);
  gst_object_unref (p);
  ef_test_rm_rf (dir);
  g_free (dir);
  g_free (url);
  g_free (desc);
  g_free (spool);
}

/* on-full=drop: EOS still comes (after flush-timeout), every buffer is either
 * spooled or counted as dropped, and the spool is kept on disk after stop. */
static void
test_spool_full_drop_and_persist (void)
{
  gchar *dir = ef_test_mkdtemp ("amqp-spool");
  gchar *url = closed_url ();
  gchar *desc = g_strdup_printf ("videotestsrc num-buffers=100 ! "
      "video/x-raw,width=160,height=120 ! jpegenc ! amqpsink name=s url=%s spool-dir=%s "
      "spool-max-bytes=40000 on-full=drop flush-timeout=300", url, dir);
  GstElement *p = gst_parse_launch (desc, NULL);
  GstElement *s = gst_bin_get_by_name (GST_BIN (p), "s");
  GstMessage *msg;
  guint64 spooled, dropped, queued;
  gchar *spool = g_build_filename (dir, "s.spool", NULL);
  GStatBuf st;

  msg = at_run_until_done (p, 30);
  g_assert_nonnull (msg);
  g_assert_cmpint (GST_MESSAGE_TYPE (msg), ==, GST_MESSAGE_EOS);
  gst_message_unref (msg);
  spooled = at_stat (s, "spooled");
  dropped = at_stat (s, "dropped");
  queued = at_stat (s, "queued");
  g_test_message ("spooled %" G_GUINT64_FORMAT " dropped %" G_GUINT64_FORMAT " queued %"
      G_GUINT64_FORMAT, spooled, dropped, queued);
  g_assert_cmpuint (dropped, >, 0);
  g_assert_cmpuint (spooled + dropped + queued, ==, 100);
  g_assert_cmpuint (at_stat (s, "published"), ==, 0);
  gst_element_set_state (p, GST_STATE_NULL);
  /* stop() keeps the pending messages on disk */
  g_assert_cmpuint (g_stat (spool, &st), ==, 0);
  g_assert_cmpint (st.st_size, >, 0);
  g_assert_cmpint (st.st_size, <=, 40000);
  gst_object_unref (s);
  gst_object_unref (p);
  ef_test_rm_rf (dir);
  g_free (dir);
  g_free (url);
  g_free (desc);
  g_free (spool);
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

/* A buffer's ack token is held while the message is unconfirmed (broker down)
 * and rejected with requeue when the sink stops without a confirm; PLAYING →
 * NULL is prompt although the broker is unreachable. */
static void
test_token_held_and_prompt_stop (void)
{
  gchar *url = closed_url ();
  gchar *desc = g_strdup_printf ("appsrc name=a caps=application/json format=time ! "
      "amqpsink name=s url=%s", url);
  GstElement *p = gst_parse_launch (desc, NULL);
  GstElement *a = gst_bin_get_by_name (GST_BIN (p), "a");
  TokenState ts = { 0 };
  EdgefaasAckToken *token = edgefaas_ack_token_new (token_cb, &ts, NULL);
  EdgefaasFrameEvent *ev = edgefaas_frame_event_new ();
  const gchar *json = "{\"hello\":1}";
  GstBuffer *buf = gst_buffer_new_memdup (json, strlen (json));
  gint64 t0, dt;

  g_mutex_init (&ts.lock);
  ev->camera_id = g_strdup ("cam-t");
  gst_buffer_add_edgefaas_event_meta (buf, ev, token);
  edgefaas_ack_token_unref (token);     /* the buffer's meta holds it now */
  edgefaas_frame_event_free (ev);

  gst_element_set_state (p, GST_STATE_PLAYING);
  g_assert_cmpint (gst_app_src_push_buffer (GST_APP_SRC (a), buf), ==, GST_FLOW_OK);
  g_usleep (800 * 1000);
  g_mutex_lock (&ts.lock);
  g_assert_cmpint (ts.calls, ==, 0);    /* not confirmed: must not be acked */
  g_mutex_unlock (&ts.lock);

  t0 = g_get_monotonic_time ();
  gst_element_set_state (p, GST_STATE_NULL);
  dt = g_get_monotonic_time () - t0;
  g_test_message ("PLAYING->NULL with the broker unreachable took %" G_GINT64_FORMAT " ms",
      dt / 1000);
  g_assert_cmpint (dt, <, 2 * G_USEC_PER_SEC);
  g_mutex_lock (&ts.lock);
  g_assert_cmpint (ts.calls, ==, 1);
  g_assert_cmpint (ts.outcome, ==, EDGEFAAS_ACK_OUTCOME_REQUEUE);
  g_mutex_unlock (&ts.lock);
  gst_object_unref (a);
  gst_object_unref (p);
  g_free (url);
  g_free (desc);
}

/* docs/elements/amqpsink.txt is what gst-inspect-1.0 really says (except the
 * build-dependent Filename line). */
static void
test_inspect_doc (void)
{
  at_assert_inspect_matches_doc ("amqpsink");
}

/* The connection properties come from one definition (EdgefaasAmqpSettings):
 * both elements have them with the same type, flags, blurb and default. */
static void
test_shared_properties (void)
{
  const gchar *names[] = { "url", "password-env", "credentials-file", "tls-ca", "tls-cert",
    "tls-key", "tls-verify"
  };
  GstElement *sink = gst_element_factory_make ("amqpsink", NULL);
  GstElement *src = gst_element_factory_make ("amqpsrc", NULL);
  gchar *penv = NULL;

  g_assert_nonnull (sink);
  g_assert_nonnull (src);
  for (guint i = 0; i < G_N_ELEMENTS (names); i++) {
    GParamSpec *a = g_object_class_find_property (G_OBJECT_GET_CLASS (sink), names[i]);
    GParamSpec *b = g_object_class_find_property (G_OBJECT_GET_CLASS (src), names[i]);
    const GValue *da, *db;

    g_assert_nonnull (a);
    g_assert_nonnull (b);
    g_assert_true (G_PARAM_SPEC_VALUE_TYPE (a) == G_PARAM_SPEC_VALUE_TYPE (b));
    g_assert_cmpuint (a->flags, ==, b->flags);
    g_assert_true (a->flags & GST_PARAM_MUTABLE_READY);
    g_assert_cmpstr (g_param_spec_get_blurb (a), ==, g_param_spec_get_blurb (b));
    da = g_param_spec_get_default_value (a);
    db = g_param_spec_get_default_value (b);
    if (G_VALUE_HOLDS_STRING (da))
      g_assert_cmpstr (g_value_get_string (da), ==, g_value_get_string (db));
    else
      g_assert_cmpint (g_value_get_boolean (da), ==, g_value_get_boolean (db));
  }
  /* the documented default, on both */
  g_object_get (sink, "password-env", &penv, NULL);
  g_assert_cmpstr (penv, ==, EDGEFAAS_AMQP_DEFAULT_PASSWORD_ENV);
  g_free (penv);
  g_object_get (src, "password-env", &penv, NULL);
  g_assert_cmpstr (penv, ==, EDGEFAAS_AMQP_DEFAULT_PASSWORD_ENV);
  g_free (penv);
  gst_object_unref (sink);
  gst_object_unref (src);
}

/* Both elements forget a URL with a password at once (it is never read back),
 * keep a good one, and refuse to start with the SETTINGS error. */
static void
test_url_password_not_kept (void)
{
  const gchar *factories[] = { "amqpsink", "amqpsrc" };

  for (guint i = 0; i < G_N_ELEMENTS (factories); i++) {
    GstElement *e = gst_element_factory_make (factories[i], NULL);
    GstBus *bus = gst_bus_new ();
    GstMessage *msg;
    GError *err = NULL;
    gchar *url = NULL, *dbg = NULL;

    g_assert_nonnull (e);
    gst_element_set_bus (e, bus);
    g_object_set (e, "url", "amqp://alice@127.0.0.1:1/", NULL);
    g_object_get (e, "url", &url, NULL);
    g_assert_cmpstr (url, ==, "amqp://alice@127.0.0.1:1/");
    g_free (url);
    g_object_set (e, "url", "amqp://alice:" SECRET "@127.0.0.1:1/", "queue", "q", NULL);
    g_object_get (e, "url", &url, NULL);
    g_assert_null (url);
    g_assert_cmpint (gst_element_set_state (e, GST_STATE_PAUSED), ==,
        GST_STATE_CHANGE_FAILURE);
    msg = gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR);
    g_assert_nonnull (msg);
    gst_message_parse_error (msg, &err, &dbg);
    g_test_message ("%s: %s (%s)", factories[i], err->message, dbg);
    g_assert_error (err, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS);
    g_assert_nonnull (strstr (err->message, "password"));
    g_assert_null (strstr (err->message, SECRET));
    g_assert_null (strstr (dbg ? dbg : "", SECRET));
    g_clear_error (&err);
    g_free (dbg);
    gst_message_unref (msg);
    gst_element_set_state (e, GST_STATE_NULL);
    gst_element_set_bus (e, NULL);
    gst_object_unref (bus);
    gst_object_unref (e);
  }
}

/* frame-store="" is the same as unset (inline frames), like amqpsrc's frame-root:
 * a pipeline file can write frame-store="${FRAME_STORE:-}". A real directory
 * stays as given. */
static void
test_empty_frame_store_is_inline (void)
{
  GstElement *sink = gst_element_factory_make ("amqpsink", NULL);
  gchar *value = NULL;

  g_assert_nonnull (sink);
  g_object_set (sink, "frame-store", "/var/lib/edgefaas/frames", NULL);
  g_object_get (sink, "frame-store", &value, NULL);
  g_assert_cmpstr (value, ==, "/var/lib/edgefaas/frames");
  g_free (value);
  g_object_set (sink, "frame-store", "", NULL);
  g_object_get (sink, "frame-store", &value, NULL);
  g_assert_null (value);
  gst_object_unref (sink);
}

/* A start() that fails after the url and password were taken in (here: the
 * frame-store cannot be created) posts its one error and frees what it set up
 * (BaseSink calls no stop() then): the sanitizer build (scripts/test.sh, LSan)
 * fails this test if the parsed parameters, the password or the derived
 * strings leak. Twice, so the second start sees no left-over state. */
static void
test_sink_failed_start_frees_state (void)
{
  gchar *dir = ef_test_mkdtemp ("amqp-failstart");
  gchar *file = g_build_filename (dir, "not-a-dir", NULL);
  gchar *store = g_build_filename (file, "frames", NULL);
  gchar *url = closed_url ();

  g_assert_true (g_file_set_contents (file, "x", -1, NULL));
  for (guint round = 0; round < 2; round++) {
    GstElement *sink = gst_element_factory_make ("amqpsink", NULL);
    GstBus *bus = gst_bus_new ();
    GstMessage *msg;
    GError *err = NULL;
    gchar *dbg = NULL;

    g_assert_nonnull (sink);
    gst_element_set_bus (sink, bus);
    g_object_set (sink, "url", url, "frame-store", store, NULL);
    g_assert_cmpint (gst_element_set_state (sink, GST_STATE_READY), ==,
        GST_STATE_CHANGE_FAILURE);
    msg = gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR);
    g_assert_nonnull (msg);
    gst_message_parse_error (msg, &err, &dbg);
    g_assert_error (err, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_OPEN_WRITE);
    g_assert_nonnull (strstr (err->message, "frame-store"));
    g_assert_nonnull (strstr (dbg, store));
    g_assert_null (strstr (dbg, SECRET));
    g_clear_error (&err);
    g_free (dbg);
    gst_message_unref (msg);
    gst_element_set_state (sink, GST_STATE_NULL);
    gst_element_set_bus (sink, NULL);
    gst_object_unref (bus);
    gst_object_unref (sink);
  }
  ef_test_rm_rf (dir);
  g_free (dir);
  g_free (file);
  g_free (store);
  g_free (url);
}

/* Broker unreachable, no spool: the memory queue is bounded in bytes
 * (max-queue-bytes, default 64 MiB) as well as in messages; what does not
 * fit is dropped and counted. */
static void
check_queue_bytes_bound (const gchar * extra, guint n, gsize frame_size, guint64 bound)
{
  gchar *url = closed_url ();
  gchar *desc = g_strdup_printf ("appsrc name=a caps=image/jpeg,width=640,height=480 "
      "format=time max-bytes=0 ! amqpsink name=s url=%s on-full=drop %s", url, extra);
  GstElement *p = gst_parse_launch (desc, NULL);
  GstElement *a = gst_bin_get_by_name (GST_BIN (p), "a");
  GstElement *s = gst_bin_get_by_name (GST_BIN (p), "s");
  GBytes *frame = g_bytes_new_take (g_malloc0 (frame_size), frame_size);
  guint64 queued, dropped, bytes;
  gint64 until;

  gst_element_set_state (p, GST_STATE_PLAYING);
  for (guint i = 0; i < n; i++) {
    GstBuffer *b = gst_buffer_new_wrapped_bytes (g_bytes_ref (frame));
    GST_BUFFER_PTS (b) = i * GST_SECOND / 30;
    g_assert_cmpint (gst_app_src_push_buffer (GST_APP_SRC (a), b), ==, GST_FLOW_OK);
  }
  /* until the streaming thread handled them all */
  until = g_get_monotonic_time () + 30 * G_USEC_PER_SEC;
  while (at_stat (s, "queued") + at_stat (s, "dropped") < n && g_get_monotonic_time () < until)
    g_usleep (20 * 1000);
  queued = at_stat (s, "queued");
  dropped = at_stat (s, "dropped");
  g_test_message ("%u frames of %" G_GSIZE_FORMAT " bytes: %" G_GUINT64_FORMAT " queued (%"
      G_GUINT64_FORMAT " bytes), %" G_GUINT64_FORMAT " dropped", n, frame_size, queued,
      queued * frame_size, dropped);
  g_assert_cmpuint (queued + dropped, ==, n);
  g_assert_cmpuint (queued, >, 0);
  g_assert_cmpuint (queued * frame_size, <=, bound);
  /* queued-bytes counts the bodies and the inline event headers (< 2 KB) */
  bytes = at_stat (s, "queued-bytes");
  g_assert_cmpuint (bytes, >=, queued * frame_size);
  g_assert_cmpuint (bytes, <=, queued * (frame_size + 2048));
  g_assert_cmpuint (bytes, <=, bound);
  g_assert_cmpuint (bytes + bytes / queued, >, bound);  /* filled up to the bound */
  gst_element_set_state (p, GST_STATE_NULL);
  g_bytes_unref (frame);
  gst_object_unref (a);
  gst_object_unref (s);
  gst_object_unref (p);
  g_free (desc);
  g_free (url);
}

static void
test_queue_bytes_bound (void)
{
  check_queue_bytes_bound ("max-queue-bytes=1000000", 30, 100000, 1000000);
  /* the default: 256 frames of 2.7 MB would be 690 MB */
  check_queue_bytes_bound ("", 40, 2700000, 64 * 1024 * 1024);
}

int
main (int argc, char **argv)
{
  /* before any thread exists: setenv is not thread-safe */
  g_setenv ("EDGEFAAS_AMQP_PASSWORD", SECRET, TRUE);
  ef_test_init (&argc, &argv);
  g_test_add_func ("/amqp/url/parse", test_url_parse);
  g_test_add_func ("/amqp/url/password-refused", test_url_password_refused);
  g_test_add_func ("/amqp/password/sources", test_password_sources);
  g_test_add_func ("/amqp/connect/refused-fast", test_connect_refused);
  g_test_add_func ("/amqpsink/url-with-password", test_sink_url_with_password);
  g_test_add_func ("/amqpsink/spool/full-error", test_spool_full_error);
  g_test_add_func ("/amqpsink/spool/full-drop-persist", test_spool_full_drop_and_persist);
  g_test_add_func ("/amqpsink/token-held-and-prompt-stop", test_token_held_and_prompt_stop);
  g_test_add_func ("/amqpsink/queue-bytes-bound", test_queue_bytes_bound);
  g_test_add_func ("/amqpsink/inspect-doc", test_inspect_doc);
  g_test_add_func ("/amqp/settings/shared-properties", test_shared_properties);
  g_test_add_func ("/amqp/settings/url-password-not-kept", test_url_password_not_kept);
  g_test_add_func ("/amqpsink/frame-store-empty-is-inline", test_empty_frame_store_is_inline);
  g_test_add_func ("/amqpsink/failed-start-frees-state", test_sink_failed_start_frees_state);
  return g_test_run ();
}
