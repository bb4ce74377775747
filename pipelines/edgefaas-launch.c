/* edgefaas-launch: run an edgefaas pipeline file as a well-behaved service process.
 *
 *   edgefaas-launch [--http-port N] [--drain-timeout S] [--stall-timeout S]
 *                   [--set VAR=VALUE]... FILE
 *   edgefaas-launch --print FILE        the substituted gst-launch description, then exit
 *   edgefaas-launch --list-vars FILE    the variables FILE refers to
 *
 * - FILE is gst-launch syntax with '#' comment lines and ${VAR} / ${VAR:-default}
 *   substitution from the environment (ef-pipeline-file.h; docs/pipelines.md).
 * - SIGTERM/SIGINT: EOS is sent and the pipeline drains (amqpsrc stops consuming,
 *   in-flight frames are finished and acknowledged); exit 0 once EOS reached the sinks,
 *   exit 3 if that takes longer than --drain-timeout. A second signal exits at once
 *   (128 + signal number); unacknowledged deliveries are then requeued by the broker.
 * - An error message from an element: exit 1 with the element's message on stderr.
 * - Every bus message of interest is one JSON line on stdout: state, element messages
 *   (motion-start/end, detections, situations/alerts, ...), warnings, errors, eos, exit.
 * - --http-port N: /healthz (process alive and no error), /readyz (200 only after the
 *   pipeline reached PLAYING, i.e. after the model was loaded, while every amqpsink is
 *   connected to its broker, and before draining),
 *   /metrics (Prometheus text format, see docs/pipelines.md).
 * - --stall-timeout S (0 = off): once PLAYING, /healthz answers 503 when no buffer has
 *   passed the pipeline's instrumented pads (motiondetect's sink, amqpsrc's src,
 *   amqpsink's sink) for S seconds: a camera that stops delivering frames makes the
 *   process unhealthy (a liveness probe restarts it) although nothing errored. For
 *   the edge only: an idle inference pipeline legitimately sees no buffers.
 *
 * Exit codes: 0 EOS, 1 pipeline error, 2 usage / pipeline file / parse error,
 * 3 drain timeout, 128+N killed by a second signal N.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <glib-unix.h>
#include <gst/gst.h>
#include <gst/video/video.h>
#include <libsoup/soup.h>

#include "edgefaas-meta.h"
#include "ef-json-log.h"
#include "ef-pipeline-file.h"

#define EXIT_PIPELINE_ERROR 1
#define EXIT_USAGE 2
#define EXIT_DRAIN_TIMEOUT 3

static const gdouble infer_buckets[] = { 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
  0.25, 0.5, 1.0, 2.5
};

#define N_BUCKETS G_N_ELEMENTS (infer_buckets)

/* Sink-pad entry times of the buffers inside one yolov4infer, oldest first.
 * With batch-size > 1 several buffers are inside at once; the element releases
 * them in order, so each leaving buffer is matched to its entry by PTS. */
#define INFER_PENDING_MAX 256
typedef struct {
  GstClockTime pts;
  gint64 entered_us;
} InferEntry;

typedef struct {
  GstElement *element;
  GMutex lock;
  GQueue pending;              /* InferEntry*, oldest first */
} InferProbe;

static void
infer_probe_free (gpointer data)
{
  InferProbe *p = data;
  g_queue_clear_full (&p->pending, g_free);
  g_mutex_clear (&p->lock);
  g_free (p);
}

/* Seconds since @pts entered, or -1 when its entry is unknown (flushed, or
 * older than INFER_PENDING_MAX buffers). Entries before it were dropped inside
 * the element and are discarded. */
static gdouble
infer_probe_take (InferProbe * p, GstClockTime pts, gint64 now)
{
  gdouble secs = -1;
  InferEntry *e;

  g_mutex_lock (&p->lock);
  while ((e = g_queue_pop_head (&p->pending))) {
    gboolean match = e->pts == pts;
    if (match)
      secs = (now - e->entered_us) / 1e6;
    g_free (e);
    if (match)
      break;
  }
  g_mutex_unlock (&p->lock);
  return secs;
}

typedef struct {
  GstElement *pipeline;
  GMainLoop *loop;
  SoupServer *server;
  gchar *origin;
  guint drain_timeout_s;
  gint exit_code;

  /* main-thread state */
  gboolean reached_playing;
  gboolean draining;
  gboolean failed;
  gint64 drain_started_us;
  gint64 started_us;
  gint64 playing_us;           /* when PLAYING was reached (stall clock before a buffer) */
  guint stall_timeout_s;       /* 0: no stall detection */
  gboolean stall_logged;       /* one "stall" JSON line per stall */

  /* metrics: updated from streaming threads, read by /metrics; under lock */
  GMutex lock;
  guint64 frames_in;           /* buffers entering motiondetect (edge) */
  guint64 motion_frames;       /* buffers motiondetect let through */
  guint64 frames_consumed;     /* buffers out of amqpsrc */
  guint64 frames_inferred;     /* buffers out of yolov4infer */
  guint64 sink_buffers;        /* buffers into amqpsink (messages handed over) */
  gint64 last_buffer_us;       /* monotonic time of the last counted buffer (0: none) */
  guint64 motion_events;
  guint64 errors, warnings;
  guint64 detections;
  GHashTable *detections_by_label;   /* label → guint64* */
  GHashTable *alerts_by_situation;   /* name → guint64* */
  guint64 infer_hist[N_BUCKETS];
  guint64 infer_count;
  gdouble infer_sum;
  GPtrArray *infer_probes;     /* InferProbe* */
  GPtrArray *amqpsinks;        /* GstElement* with a "stats" property */
} App;

static App app;
static int signal_pipe[2] = { -1, -1 };
static volatile sig_atomic_t signals_seen = 0;

/* ---------- signals ---------- */

static void
on_signal (int sig)
{
  if (signals_seen++ > 0)
    _exit (128 + sig);
  unsigned char c = (unsigned char) sig;
  ssize_t r = write (signal_pipe[1], &c, 1);
  (void) r;
}

static gboolean drain_timeout_cb (gpointer data);

static gpointer
send_eos_thread (gpointer data)
{
  GstElement *pipeline = data;
  gst_element_send_event (pipeline, gst_event_new_eos ());
  gst_object_unref (pipeline);
  return NULL;
}

/* Teardown after a drain timeout or an error must not hang: elements are supposed
 * to honour unlock(), but a stuck library call must not keep a pod alive. */
static gpointer
watchdog_thread (gpointer data)
{
  g_usleep (GPOINTER_TO_UINT (data) * G_USEC_PER_SEC);
  g_printerr ("edgefaas-launch: teardown did not finish in %u s, exiting\n",
      GPOINTER_TO_UINT (data));
  _exit (app.exit_code ? app.exit_code : EXIT_PIPELINE_ERROR);
  return NULL;
}

static gboolean
signal_fd_cb (gint fd, GIOCondition cond, gpointer data)
{
  unsigned char c = 0;
  if (read (fd, &c, 1) != 1)
    return G_SOURCE_CONTINUE;
  JsonBuilder *b = ef_json_log_begin ("signal");
  json_builder_set_member_name (b, "signal");
  json_builder_add_string_value (b, c == SIGTERM ? "SIGTERM" : c == SIGINT ? "SIGINT" : "?");
  json_builder_set_member_name (b, "action");
  if (!app.reached_playing) {
    /* Nothing flows yet (still loading/prerolling): nothing to drain. Deliveries
     * prefetched but not processed are requeued when the connection closes. */
    json_builder_add_string_value (b, "stop (not playing yet, nothing to drain)");
    ef_json_log_emit (b);
    app.exit_code = 0;
    g_main_loop_quit (app.loop);
    return G_SOURCE_REMOVE;
  }
  json_builder_add_string_value (b, "drain");
  json_builder_set_member_name (b, "drain_timeout_s");
  json_builder_add_int_value (b, app.drain_timeout_s);
  ef_json_log_emit (b);
  app.draining = TRUE;
  app.drain_started_us = g_get_monotonic_time ();
  /* send_event(EOS) can block while a streaming thread is busy downstream (a sink
   * waiting on the clock, a long inference): do it off the main loop so that the
   * drain timeout, HTTP and a second signal keep working. */
  g_thread_unref (g_thread_new ("eos", send_eos_thread, gst_object_ref (app.pipeline)));
  g_timeout_add_seconds (app.drain_timeout_s, drain_timeout_cb, NULL);
  return G_SOURCE_REMOVE;
}

static gboolean
drain_timeout_cb (gpointer data)
{
  JsonBuilder *b = ef_json_log_begin ("error");
  json_builder_set_member_name (b, "message");
  json_builder_add_string_value (b, "drain timeout: EOS did not reach the sinks in time");
  json_builder_set_member_name (b, "drain_timeout_s");
  json_builder_add_int_value (b, app.drain_timeout_s);
  ef_json_log_emit (b);
  g_printerr ("edgefaas-launch: drain did not finish within %u s (--drain-timeout)\n",
      app.drain_timeout_s);
  app.exit_code = EXIT_DRAIN_TIMEOUT;
  g_main_loop_quit (app.loop);
  return G_SOURCE_REMOVE;
}

/* ---------- metrics helpers ---------- */

static void
count_in (GHashTable * table, const gchar * key, guint64 n)
{
  guint64 *c = g_hash_table_lookup (table, key);
  if (!c) {
    c = g_new0 (guint64, 1);
    g_hash_table_insert (table, g_strdup (key), c);
  }
  *c += n;
}

static GstPadProbeReturn
count_probe (GstPad * pad, GstPadProbeInfo * info, gpointer counter)
{
  g_mutex_lock (&app.lock);
  (*(guint64 *) counter)++;
  app.last_buffer_us = g_get_monotonic_time ();
  g_mutex_unlock (&app.lock);
  return GST_PAD_PROBE_OK;
}

static GstPadProbeReturn
infer_sink_probe (GstPad * pad, GstPadProbeInfo * info, gpointer data)
{
  InferProbe *p = data;
  InferEntry *e = g_new (InferEntry, 1);

  e->pts = GST_BUFFER_PTS (GST_PAD_PROBE_INFO_BUFFER (info));
  e->entered_us = g_get_monotonic_time ();
  g_mutex_lock (&p->lock);
  g_queue_push_tail (&p->pending, e);
  if (p->pending.length > INFER_PENDING_MAX)
    g_free (g_queue_pop_head (&p->pending));
  g_mutex_unlock (&p->lock);
  return GST_PAD_PROBE_OK;
}

/* Buffers leaving yolov4infer: time inside the element (sink entry → src exit of
 * the same buffer; with batching this includes waiting for the batch), detections (GstVideoRegionOfInterestMeta other than "motion"). */
static GstPadProbeReturn
infer_src_probe (GstPad * pad, GstPadProbeInfo * info, gpointer data)
{
  InferProbe *p = data;
  GstBuffer *buf = GST_PAD_PROBE_INFO_BUFFER (info);
  gdouble secs = infer_probe_take (p, GST_BUFFER_PTS (buf), g_get_monotonic_time ());

  JsonBuilder *b = NULL;
  guint n = 0;
  gpointer state = NULL;
  GstMeta *meta;
  g_mutex_lock (&app.lock);
  app.frames_inferred++;
  if (secs >= 0) {
    for (guint i = 0; i < N_BUCKETS; i++)
      if (secs <= infer_buckets[i])
        app.infer_hist[i]++;
    app.infer_count++;
    app.infer_sum += secs;
  }
  while ((meta = gst_buffer_iterate_meta_filtered (buf, &state,
              GST_VIDEO_REGION_OF_INTEREST_META_API_TYPE))) {
    GstVideoRegionOfInterestMeta *roi = (GstVideoRegionOfInterestMeta *) meta;
    const gchar *label = g_quark_to_string (roi->roi_type);
    if (!label || g_str_equal (label, "motion"))
      continue;
    if (!b) {
      b = ef_json_log_begin ("detections");
      json_builder_set_member_name (b, "element");
      json_builder_add_string_value (b, GST_ELEMENT_NAME (p->element));
      GstEdgefaasEventMeta *em = gst_buffer_get_edgefaas_event_meta (buf);
      if (em && em->event) {
        json_builder_set_member_name (b, "camera_id");
        json_builder_add_string_value (b, em->event->camera_id);
        json_builder_set_member_name (b, "event_id");
        json_builder_add_int_value (b, em->event->event_id);
        json_builder_set_member_name (b, "sequence");
        json_builder_add_int_value (b, em->event->sequence);
        gint64 captured = em->event->trace.captured_us ? em->event->trace.captured_us :
            em->event->capture_time_us;
        if (captured) {
          /* end-to-end: camera capture -> detection available here */
          json_builder_set_member_name (b, "latency_ms");
          json_builder_add_double_value (b, (g_get_real_time () - captured) / 1000.0);
        }
      }
      json_builder_set_member_name (b, "pts");
      if (GST_BUFFER_PTS_IS_VALID (buf))
        json_builder_add_int_value (b, GST_BUFFER_PTS (buf));
      else
        json_builder_add_null_value (b);
      json_builder_set_member_name (b, "detections");
      json_builder_begin_array (b);
    }
    json_builder_begin_object (b);
    json_builder_set_member_name (b, "label");
    json_builder_add_string_value (b, label);
    GstStructure *s = gst_video_region_of_interest_meta_get_param (roi, "detection");
    gdouble conf;
    if (s && gst_structure_get_double (s, "confidence", &conf)) {
      json_builder_set_member_name (b, "confidence");
      json_builder_add_double_value (b, conf);
    }
    json_builder_set_member_name (b, "box");
    json_builder_begin_array (b);
    json_builder_add_int_value (b, roi->x);
    json_builder_add_int_value (b, roi->y);
    json_builder_add_int_value (b, roi->w);
    json_builder_add_int_value (b, roi->h);
    json_builder_end_array (b);
    json_builder_end_object (b);
    count_in (app.detections_by_label, label, 1);
    app.detections++;
    n++;
  }
  g_mutex_unlock (&app.lock);
  if (b) {
    json_builder_end_array (b);
    json_builder_set_member_name (b, "inference_s");
    json_builder_add_double_value (b, secs);
    ef_json_log_emit (b);
  }
  return GST_PAD_PROBE_OK;
}

static const gchar *
factory_name (GstElement * e)
{
  GstElementFactory *f = gst_element_get_factory (e);
  return f ? GST_OBJECT_NAME (f) : "";
}

static void
add_probe (GstElement * e, const gchar * pad_name, GstPadProbeCallback cb, gpointer data)
{
  GstPad *pad = gst_element_get_static_pad (e, pad_name);
  if (pad) {
    gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER, cb, data, NULL);
    gst_object_unref (pad);
  }
}

static void
instrument (GstElement * pipeline)
{
  GstIterator *it = gst_bin_iterate_recurse (GST_BIN (pipeline));
  GValue v = G_VALUE_INIT;
  while (gst_iterator_next (it, &v) == GST_ITERATOR_OK) {
    GstElement *e = g_value_get_object (&v);
    const gchar *f = factory_name (e);
    if (g_str_equal (f, "motiondetect")) {
      add_probe (e, "sink", count_probe, &app.frames_in);
      add_probe (e, "src", count_probe, &app.motion_frames);
    } else if (g_str_equal (f, "amqpsrc")) {
      add_probe (e, "src", count_probe, &app.frames_consumed);
    } else if (g_str_equal (f, "yolov4infer")) {
      InferProbe *p = g_new0 (InferProbe, 1);
      p->element = e;
      g_mutex_init (&p->lock);
      g_ptr_array_add (app.infer_probes, p);
      add_probe (e, "sink", infer_sink_probe, p);
      add_probe (e, "src", infer_src_probe, p);
    }
    if (g_str_equal (f, "amqpsink"))
      add_probe (e, "sink", count_probe, &app.sink_buffers);
    GParamSpec *ps = g_object_class_find_property (G_OBJECT_GET_CLASS (e), "stats");
    if (ps && ps->value_type == GST_TYPE_STRUCTURE && g_str_equal (f, "amqpsink"))
      g_ptr_array_add (app.amqpsinks, gst_object_ref (e));
    g_value_reset (&v);
  }
  g_value_unset (&v);
  gst_iterator_free (it);
}

/* ---------- bus ---------- */

static void
log_gerror_message (GstMessage * msg, const gchar * type)
{
  GError *err = NULL;
  gchar *dbg = NULL;
  if (type[0] == 'e')
    gst_message_parse_error (msg, &err, &dbg);
  else
    gst_message_parse_warning (msg, &err, &dbg);
  /* The user message may quote a location as well as the debug text does. */
  gchar *message = ef_redact_credentials (err->message);
  gchar *debug = dbg ? ef_redact_credentials (dbg) : NULL;
  JsonBuilder *b = ef_json_log_begin (type);
  json_builder_set_member_name (b, "source");
  json_builder_add_string_value (b, GST_MESSAGE_SRC_NAME (msg));
  json_builder_set_member_name (b, "domain");
  json_builder_add_string_value (b, g_quark_to_string (err->domain));
  json_builder_set_member_name (b, "code");
  json_builder_add_int_value (b, err->code);
  json_builder_set_member_name (b, "message");
  json_builder_add_string_value (b, message);
  if (debug) {
    json_builder_set_member_name (b, "debug");
    json_builder_add_string_value (b, debug);
  }
  ef_json_log_emit (b);
  if (type[0] == 'e') {
    g_printerr ("edgefaas-launch: ERROR from element %s: %s\n", GST_MESSAGE_SRC_NAME (msg),
        message);
    if (debug)
      g_printerr ("  debug: %s\n", debug);
  }
  g_free (message);
  g_free (debug);
  g_clear_error (&err);
  g_free (dbg);
}

static gboolean
name_is (const gchar * name, const gchar * a, const gchar * b)
{
  return g_str_equal (name, a) || (b && g_str_equal (name, b));
}

static void
log_element_message (GstMessage * msg)
{
  const GstStructure *s = gst_message_get_structure (msg);
  if (!s)
    return;
  const gchar *name = gst_structure_get_name (s);
  /* Internal chatter we don't need on stdout. */
  if (g_str_has_prefix (name, "GstBin") || g_str_equal (name, "redirect"))
    return;
  g_mutex_lock (&app.lock);
  if (name_is (name, "motion-start", "motion-begin"))
    app.motion_events++;
  if (name_is (name, "situation", "alert")) {
    const gchar *sit = gst_structure_get_string (s, "situation");
    if (!sit)
      sit = gst_structure_get_string (s, "name");
    count_in (app.alerts_by_situation, sit ? sit : "unknown", 1);
  }
  g_mutex_unlock (&app.lock);
  JsonBuilder *b = ef_json_log_begin (name);
  json_builder_set_member_name (b, "source");
  json_builder_add_string_value (b, GST_MESSAGE_SRC_NAME (msg));
  ef_json_add_structure_fields (b, s);
  ef_json_log_emit (b);
}

static gboolean
bus_cb (GstBus * bus, GstMessage * msg, gpointer data)
{
  switch (GST_MESSAGE_TYPE (msg)) {
    case GST_MESSAGE_ERROR:
      g_mutex_lock (&app.lock);
      app.errors++;
      g_mutex_unlock (&app.lock);
      log_gerror_message (msg, "error");
      app.failed = TRUE;
      app.exit_code = EXIT_PIPELINE_ERROR;
      g_main_loop_quit (app.loop);
      break;
    case GST_MESSAGE_WARNING:
      g_mutex_lock (&app.lock);
      app.warnings++;
      g_mutex_unlock (&app.lock);
      log_gerror_message (msg, "warning");
      break;
    case GST_MESSAGE_EOS:{
      JsonBuilder *b = ef_json_log_begin ("eos");
      if (app.draining) {
        json_builder_set_member_name (b, "drain_s");
        json_builder_add_double_value (b,
            (g_get_monotonic_time () - app.drain_started_us) / 1e6);
      }
      ef_json_log_emit (b);
      app.exit_code = 0;
      g_main_loop_quit (app.loop);
      break;
    }
    case GST_MESSAGE_STATE_CHANGED:
      if (GST_MESSAGE_SRC (msg) == GST_OBJECT (app.pipeline)) {
        GstState old, new_state;
        gst_message_parse_state_changed (msg, &old, &new_state, NULL);
        JsonBuilder *b = ef_json_log_begin ("state");
        json_builder_set_member_name (b, "from");
        json_builder_add_string_value (b, gst_element_state_get_name (old));
        json_builder_set_member_name (b, "to");
        json_builder_add_string_value (b, gst_element_state_get_name (new_state));
        json_builder_set_member_name (b, "since_start_s");
        json_builder_add_double_value (b, (g_get_monotonic_time () - app.started_us) / 1e6);
        ef_json_log_emit (b);
        if (new_state == GST_STATE_PLAYING && !app.reached_playing) {
          app.reached_playing = TRUE;
          app.playing_us = g_get_monotonic_time ();
        }
      }
      break;
    case GST_MESSAGE_ELEMENT:
      log_element_message (msg);
      break;
    case GST_MESSAGE_APPLICATION:
      log_element_message (msg);
      break;
    default:
      break;
  }
  return G_SOURCE_CONTINUE;
}

/* ---------- HTTP ---------- */

static void
respond (SoupServerMessage * msg, guint status, const gchar * type, const gchar * body)
{
  soup_server_message_set_status (msg, status, NULL);
  soup_server_message_set_response (msg, type, SOUP_MEMORY_COPY, body, strlen (body));
}

/* Seconds since the last buffer passed an instrumented pad, counted from PLAYING
 * while none has; -1 before PLAYING. */
static gdouble
seconds_since_last_buffer (void)
{
  if (!app.reached_playing)
    return -1;
  g_mutex_lock (&app.lock);
  gint64 last = MAX (app.last_buffer_us, app.playing_us);
  g_mutex_unlock (&app.lock);
  return (g_get_monotonic_time () - last) / 1e6;
}

/* TRUE while stalled; logs one "stall" line when a stall starts. Main thread. */
static gboolean
stalled (gdouble * age_out)
{
  gdouble age = seconds_since_last_buffer ();
  *age_out = age;
  if (app.stall_timeout_s == 0 || app.draining || age < app.stall_timeout_s) {
    app.stall_logged = FALSE;
    return FALSE;
  }
  if (!app.stall_logged) {
    JsonBuilder *b = ef_json_log_begin ("stall");
    json_builder_set_member_name (b, "seconds_since_last_buffer");
    json_builder_add_double_value (b, age);
    json_builder_set_member_name (b, "stall_timeout_s");
    json_builder_add_int_value (b, app.stall_timeout_s);
    ef_json_log_emit (b);
    app.stall_logged = TRUE;
  }
  return TRUE;
}

static void
healthz_cb (SoupServer * server, SoupServerMessage * msg, const char *path,
    GHashTable * query, gpointer data)
{
  gdouble age;
  if (app.failed)
    respond (msg, 503, "text/plain", "pipeline error\n");
  else if (stalled (&age)) {
    gchar *body = g_strdup_printf ("stalled: no buffer for %.1f s (--stall-timeout %u)\n",
        age, app.stall_timeout_s);
    respond (msg, 503, "text/plain", body);
    g_free (body);
  } else
    respond (msg, 200, "text/plain", "ok\n");
}

/* The first amqpsink whose broker connection is down (its "stats" field
 * "connected"), or NULL. An edge pipeline reaches PLAYING without the broker
 * (amqpsink async=false), so PLAYING alone would report ready while every frame
 * waits in memory for a broker that may never come. */
static GstElement *
disconnected_amqpsink (void)
{
  for (guint i = 0; i < app.amqpsinks->len; i++) {
    GstElement *e = g_ptr_array_index (app.amqpsinks, i);
    GstStructure *st = NULL;
    gboolean connected = TRUE;
    g_object_get (e, "stats", &st, NULL);
    if (st) {
      if (!gst_structure_get_boolean (st, "connected", &connected))
        connected = TRUE;
      gst_structure_free (st);
    }
    if (!connected)
      return e;
  }
  return NULL;
}

static void
readyz_cb (SoupServer * server, SoupServerMessage * msg, const char *path,
    GHashTable * query, gpointer data)
{
  GstElement *down;

  if (app.failed)
    respond (msg, 503, "text/plain", "pipeline error\n");
  else if (app.draining)
    respond (msg, 503, "text/plain", "draining\n");
  else if (!app.reached_playing)
    respond (msg, 503, "text/plain", "starting (pipeline not PLAYING yet)\n");
  else if ((down = disconnected_amqpsink ())) {
    gchar *text = g_strdup_printf ("broker not connected (%s)\n", GST_OBJECT_NAME (down));
    respond (msg, 503, "text/plain", text);
    g_free (text);
  } else
    respond (msg, 200, "text/plain", "ready\n");
}

static void
metric (GString * out, const gchar * name, const gchar * type, const gchar * help)
{
  g_string_append_printf (out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static gchar *
label_escape (const gchar * s)
{
  GString *o = g_string_new (NULL);
  for (; *s; s++) {
    if (*s == '\\' || *s == '"')
      g_string_append_c (o, '\\');
    if (*s == '\n')
      g_string_append (o, "\\n");
    else
      g_string_append_c (o, *s);
  }
  return g_string_free (o, FALSE);
}

static void
labelled (GString * out, const gchar * name, const gchar * label, GHashTable * table)
{
  GHashTableIter it;
  gpointer k, v;
  g_hash_table_iter_init (&it, table);
  while (g_hash_table_iter_next (&it, &k, &v)) {
    gchar *e = label_escape (k);
    g_string_append_printf (out, "%s{%s=\"%s\"} %" G_GUINT64_FORMAT "\n", name, label, e,
        *(guint64 *) v);
    g_free (e);
  }
}

static void
process_stats (gdouble * cpu_s, guint64 * rss_bytes)
{
  *cpu_s = 0;
  *rss_bytes = 0;
  gchar *stat = NULL;
  if (g_file_get_contents ("/proc/self/stat", &stat, NULL, NULL)) {
    const gchar *p = strrchr (stat, ')');
    if (p) {
      gchar **f = g_strsplit (p + 2, " ", -1);
      /* fields after ")": state(0) ... utime(11) stime(12) ... rss(21) */
      if (g_strv_length (f) > 21) {
        long tck = sysconf (_SC_CLK_TCK);
        *cpu_s = (g_ascii_strtod (f[11], NULL) + g_ascii_strtod (f[12], NULL)) / tck;
        *rss_bytes = g_ascii_strtoull (f[21], NULL, 10) * sysconf (_SC_PAGESIZE);
      }
      g_strfreev (f);
    }
    g_free (stat);
  }
}

static gchar *
prom_name (const gchar * s)
{
  gchar *n = g_strdup (s);
  for (gchar * c = n; *c; c++)
    if (!g_ascii_isalnum (*c))
      *c = '_';
  return n;
}

static void
metrics_cb (SoupServer * server, SoupServerMessage * smsg, const char *path,
    GHashTable * query, gpointer data)
{
  GString *o = g_string_new (NULL);
  gboolean sinks_connected = disconnected_amqpsink () == NULL;
  g_mutex_lock (&app.lock);
  metric (o, "edgefaas_up", "gauge", "1 while the launcher runs and no error occurred");
  g_string_append_printf (o, "edgefaas_up %d\n", app.failed ? 0 : 1);
  metric (o, "edgefaas_ready", "gauge",
      "1 once the pipeline reached PLAYING with its amqpsinks connected, until draining");
  g_string_append_printf (o, "edgefaas_ready %d\n", app.reached_playing && !app.draining
      && !app.failed && sinks_connected);
  g_mutex_unlock (&app.lock);
  gdouble age = seconds_since_last_buffer ();
  g_mutex_lock (&app.lock);
  metric (o, "edgefaas_seconds_since_last_buffer", "gauge",
      "Seconds since a buffer last passed motiondetect, amqpsrc or amqpsink (from PLAYING; -1 before)");
  g_string_append_printf (o, "edgefaas_seconds_since_last_buffer %.3f\n", age);
  metric (o, "edgefaas_frames_in_total", "counter", "Frames entering motiondetect");
  g_string_append_printf (o, "edgefaas_frames_in_total %" G_GUINT64_FORMAT "\n", app.frames_in);
  metric (o, "edgefaas_motion_frames_total", "counter",
      "Frames motiondetect let through (inside motion events)");
  g_string_append_printf (o, "edgefaas_motion_frames_total %" G_GUINT64_FORMAT "\n",
      app.motion_frames);
  metric (o, "edgefaas_motion_events_total", "counter", "Motion events started");
  g_string_append_printf (o, "edgefaas_motion_events_total %" G_GUINT64_FORMAT "\n",
      app.motion_events);
  metric (o, "edgefaas_sink_buffers_total", "counter", "Buffers handed to amqpsink");
  g_string_append_printf (o, "edgefaas_sink_buffers_total %" G_GUINT64_FORMAT "\n",
      app.sink_buffers);
  metric (o, "edgefaas_frames_consumed_total", "counter", "Frames received from amqpsrc");
  g_string_append_printf (o, "edgefaas_frames_consumed_total %" G_GUINT64_FORMAT "\n",
      app.frames_consumed);
  metric (o, "edgefaas_frames_inferred_total", "counter", "Frames through yolov4infer");
  g_string_append_printf (o, "edgefaas_frames_inferred_total %" G_GUINT64_FORMAT "\n",
      app.frames_inferred);
  metric (o, "edgefaas_inference_seconds", "histogram",
      "Time a frame spends inside yolov4infer");
  for (guint i = 0; i < N_BUCKETS; i++)
    g_string_append_printf (o, "edgefaas_inference_seconds_bucket{le=\"%g\"} %"
        G_GUINT64_FORMAT "\n", infer_buckets[i], app.infer_hist[i]);
  g_string_append_printf (o, "edgefaas_inference_seconds_bucket{le=\"+Inf\"} %"
      G_GUINT64_FORMAT "\n", app.infer_count);
  g_string_append_printf (o, "edgefaas_inference_seconds_sum %.6f\n", app.infer_sum);
  g_string_append_printf (o, "edgefaas_inference_seconds_count %" G_GUINT64_FORMAT "\n",
      app.infer_count);
  metric (o, "edgefaas_detections_total", "counter", "Objects detected, by label");
  labelled (o, "edgefaas_detections_total", "label", app.detections_by_label);
  metric (o, "edgefaas_alerts_total", "counter", "Situations (alerts) raised, by situation");
  labelled (o, "edgefaas_alerts_total", "situation", app.alerts_by_situation);
  metric (o, "edgefaas_errors_total", "counter", "Error messages on the pipeline bus");
  g_string_append_printf (o, "edgefaas_errors_total %" G_GUINT64_FORMAT "\n", app.errors);
  metric (o, "edgefaas_warnings_total", "counter", "Warning messages on the pipeline bus");
  g_string_append_printf (o, "edgefaas_warnings_total %" G_GUINT64_FORMAT "\n", app.warnings);
  g_mutex_unlock (&app.lock);

  /* amqpsink "stats": every numeric field as edgefaas_amqpsink_<field>{element=...} */
  GHashTable *seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  for (guint i = 0; i < app.amqpsinks->len; i++) {
    GstElement *e = g_ptr_array_index (app.amqpsinks, i);
    GstStructure *st = NULL;
    g_object_get (e, "stats", &st, NULL);
    if (!st)
      continue;
    for (gint f = 0; f < gst_structure_n_fields (st); f++) {
      const gchar *fname = gst_structure_nth_field_name (st, f);
      const GValue *v = gst_structure_get_value (st, fname);
      GValue d = G_VALUE_INIT;
      g_value_init (&d, G_TYPE_DOUBLE);
      if (!g_value_type_transformable (G_VALUE_TYPE (v), G_TYPE_DOUBLE)
          || !g_value_transform (v, &d)) {
        g_value_unset (&d);
        continue;
      }
      gchar *pn = prom_name (fname);
      gchar *mname = g_strdup_printf ("edgefaas_amqpsink_%s", pn);
      if (!g_hash_table_contains (seen, mname)) {
        gchar *help = g_strdup_printf ("amqpsink stats field '%s'", fname);
        metric (o, mname, "gauge", help);
        g_free (help);
        g_hash_table_add (seen, g_strdup (mname));
      }
      g_string_append_printf (o, "%s{element=\"%s\"} %.17g\n", mname,
          GST_ELEMENT_NAME (e), g_value_get_double (&d));
      g_free (mname);
      g_free (pn);
      g_value_unset (&d);
    }
    gst_structure_free (st);
  }
  g_hash_table_unref (seen);

  gdouble cpu;
  guint64 rss;
  process_stats (&cpu, &rss);
  metric (o, "process_cpu_seconds_total", "counter", "User and system CPU time");
  g_string_append_printf (o, "process_cpu_seconds_total %.2f\n", cpu);
  metric (o, "process_resident_memory_bytes", "gauge", "Resident memory");
  g_string_append_printf (o, "process_resident_memory_bytes %" G_GUINT64_FORMAT "\n", rss);

  respond (smsg, 200, "text/plain; version=0.0.4; charset=utf-8", o->str);
  g_string_free (o, TRUE);
}

static gboolean
start_http (guint port, GError ** error)
{
  app.server = soup_server_new ("server-header", "edgefaas-launch", NULL);
  soup_server_add_handler (app.server, "/healthz", healthz_cb, NULL, NULL);
  soup_server_add_handler (app.server, "/readyz", readyz_cb, NULL, NULL);
  soup_server_add_handler (app.server, "/metrics", metrics_cb, NULL, NULL);
  return soup_server_listen_all (app.server, port, 0, error);
}

/* ---------- main ---------- */

/* set_state(PLAYING) failed and no element posted an error within 2 s. */
static gboolean
state_failure_cb (gpointer data)
{
  if (!app.failed) {
    g_printerr ("edgefaas-launch: the pipeline refused to start (state change failed, "
        "no element gave a reason)\n");
    JsonBuilder *b = ef_json_log_begin ("error");
    json_builder_set_member_name (b, "message");
    json_builder_add_string_value (b, "state change to PLAYING failed");
    ef_json_log_emit (b);
    app.failed = TRUE;
    app.exit_code = EXIT_PIPELINE_ERROR;
    g_main_loop_quit (app.loop);
  }
  return G_SOURCE_REMOVE;
}

static gchar **opt_set;
static gint opt_http_port = -1;
static gint opt_drain_timeout = 30;
static gint opt_stall_timeout = 0;
static gboolean opt_print, opt_list_vars;
static gchar **opt_files;

static GOptionEntry entries[] = {
  {"http-port", 0, 0, G_OPTION_ARG_INT, &opt_http_port,
      "Serve /healthz, /readyz and /metrics on this TCP port (0 or absent: no HTTP; "
        "default $EDGEFAAS_HTTP_PORT)", "PORT"},
  {"drain-timeout", 0, 0, G_OPTION_ARG_INT, &opt_drain_timeout,
      "Seconds to wait for the drain after SIGTERM/SIGINT (default 30)", "S"},
  {"stall-timeout", 0, 0, G_OPTION_ARG_INT, &opt_stall_timeout,
      "/healthz answers 503 when no buffer passed for S seconds once PLAYING "
        "(a stalled camera; 0 = off, the default)", "S"},
  {"set", 0, 0, G_OPTION_ARG_STRING_ARRAY, &opt_set,
      "Set a pipeline variable (overrides the environment); repeatable", "VAR=VALUE"},
  {"print", 0, 0, G_OPTION_ARG_NONE, &opt_print,
      "Print the substituted gst-launch description and exit", NULL},
  {"list-vars", 0, 0, G_OPTION_ARG_NONE, &opt_list_vars,
      "Print the variables the file uses and exit", NULL},
  {G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &opt_files, NULL, "FILE"},
  {NULL}
};

int
main (int argc, char **argv)
{
  GError *error = NULL;
  GOptionContext *ctx = g_option_context_new ("FILE - run an edgefaas pipeline file");
  g_option_context_add_main_entries (ctx, entries, NULL);
  g_option_context_add_group (ctx, gst_init_get_option_group ());
  if (!g_option_context_parse (ctx, &argc, &argv, &error)) {
    g_printerr ("edgefaas-launch: %s\n", error->message);
    return EXIT_USAGE;
  }
  g_option_context_free (ctx);
  if (!opt_files || !opt_files[0] || opt_files[1]) {
    g_printerr ("edgefaas-launch: exactly one pipeline FILE is needed (see --help)\n");
    return EXIT_USAGE;
  }
  if (opt_drain_timeout <= 0) {
    g_printerr ("edgefaas-launch: --drain-timeout must be > 0\n");
    return EXIT_USAGE;
  }
  if (opt_stall_timeout < 0) {
    g_printerr ("edgefaas-launch: --stall-timeout must be >= 0\n");
    return EXIT_USAGE;
  }
  if (opt_http_port < 0) {
    const gchar *env = g_getenv ("EDGEFAAS_HTTP_PORT");
    opt_http_port = env ? atoi (env) : 0;
  }
  if (opt_http_port > 65535) {
    g_printerr ("edgefaas-launch: --http-port %d is not a TCP port\n", opt_http_port);
    return EXIT_USAGE;
  }

  GHashTable *overrides = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  for (guint i = 0; opt_set && opt_set[i]; i++) {
    const gchar *eq = strchr (opt_set[i], '=');
    if (!eq || eq == opt_set[i]) {
      g_printerr ("edgefaas-launch: --set needs VAR=VALUE, got '%s'\n", opt_set[i]);
      return EXIT_USAGE;
    }
    g_hash_table_insert (overrides, g_strndup (opt_set[i], eq - opt_set[i]), g_strdup (eq + 1));
  }

  const gchar *file = opt_files[0];
  if (opt_list_vars) {
    gchar *text = NULL;
    if (!g_file_get_contents (file, &text, NULL, &error)) {
      g_printerr ("edgefaas-launch: %s\n", error->message);
      return EXIT_USAGE;
    }
    GPtrArray *names = ef_pipeline_variables (text);
    for (guint i = 0; i < names->len; i++)
      g_print ("%s\n", (gchar *) g_ptr_array_index (names, i));
    return 0;
  }

  gchar *desc = ef_pipeline_load (file, ef_pipeline_env_lookup, overrides, &error);
  if (!desc) {
    g_printerr ("edgefaas-launch: %s\n", error->message);
    JsonBuilder *b = ef_json_log_begin ("error");
    json_builder_set_member_name (b, "message");
    json_builder_add_string_value (b, error->message);
    if (!opt_print)
      ef_json_log_emit (b);
    else
      g_object_unref (b);
    return EXIT_USAGE;
  }
  if (opt_print) {
    g_print ("%s\n", desc);
    g_free (desc);
    return 0;
  }

  gst_init (&argc, &argv);
  g_mutex_init (&app.lock);
  app.detections_by_label = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  app.alerts_by_situation = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  app.infer_probes = g_ptr_array_new_with_free_func (infer_probe_free);
  app.amqpsinks = g_ptr_array_new_with_free_func (gst_object_unref);
  app.drain_timeout_s = opt_drain_timeout;
  app.stall_timeout_s = opt_stall_timeout;
  app.started_us = g_get_monotonic_time ();
  app.loop = g_main_loop_new (NULL, FALSE);

  gchar *redacted = ef_redact_credentials (desc);
  JsonBuilder *b = ef_json_log_begin ("start");
  json_builder_set_member_name (b, "file");
  json_builder_add_string_value (b, file);
  json_builder_set_member_name (b, "pid");
  json_builder_add_int_value (b, getpid ());
  json_builder_set_member_name (b, "pipeline");
  json_builder_add_string_value (b, redacted);
  ef_json_log_emit (b);
  g_free (redacted);

  GstParseContext *pctx = gst_parse_context_new ();
  app.pipeline = gst_parse_launch_full (desc, pctx, GST_PARSE_FLAG_FATAL_ERRORS, &error);
  if (!app.pipeline || error) {
    gchar **missing = gst_parse_context_get_missing_elements (pctx);
    /* gst_parse quotes property values in its errors ("could not set property
     * ... to \"amqp://user:password@...\""): redact before printing. */
    gchar *why = ef_redact_credentials (error ? error->message : "unknown error");
    g_printerr ("edgefaas-launch: %s: cannot build the pipeline: %s\n", file, why);
    if (missing && missing[0]) {
      gchar *list = g_strjoinv (", ", missing);
      g_printerr ("  missing elements: %s (check GST_PLUGIN_PATH and gst-inspect-1.0)\n", list);
      g_free (list);
    }
    b = ef_json_log_begin ("error");
    json_builder_set_member_name (b, "message");
    json_builder_add_string_value (b, error ? why : "cannot build the pipeline");
    ef_json_log_emit (b);
    g_free (why);
    g_strfreev (missing);
    gst_parse_context_free (pctx);
    g_clear_error (&error);
    gst_clear_object (&app.pipeline);
    g_free (desc);
    return EXIT_USAGE;
  }
  gst_parse_context_free (pctx);
  if (!GST_IS_PIPELINE (app.pipeline)) {
    GstElement *p = gst_pipeline_new (NULL);
    gst_bin_add (GST_BIN (p), app.pipeline);
    app.pipeline = p;
  }
  instrument (app.pipeline);

  if (pipe (signal_pipe) != 0) {
    g_printerr ("edgefaas-launch: pipe: %s\n", g_strerror (errno));
    return EXIT_USAGE;
  }
  struct sigaction sa = { 0 };
  sa.sa_handler = on_signal;
  sigemptyset (&sa.sa_mask);
  sigaction (SIGTERM, &sa, NULL);
  sigaction (SIGINT, &sa, NULL);
  g_unix_fd_add (signal_pipe[0], G_IO_IN, signal_fd_cb, NULL);

  if (opt_http_port > 0 && !start_http (opt_http_port, &error)) {
    g_printerr ("edgefaas-launch: cannot serve HTTP on port %d: %s\n", opt_http_port,
        error->message);
    return EXIT_USAGE;
  }

  GstBus *bus = gst_element_get_bus (app.pipeline);
  gst_bus_add_watch (bus, bus_cb, NULL);
  gst_object_unref (bus);

  if (gst_element_set_state (app.pipeline, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE) {
    /* The element posted its error on the bus; the loop picks it up. If none
     * comes, report the failure ourselves. */
    app.exit_code = EXIT_PIPELINE_ERROR;
    g_timeout_add_seconds (2, state_failure_cb, NULL);
  }
  g_main_loop_run (app.loop);

  /* A bounded teardown: elements must honour unlock(), but never hang forever. */
  g_thread_unref (g_thread_new ("watchdog", watchdog_thread,
          GUINT_TO_POINTER (app.exit_code == EXIT_DRAIN_TIMEOUT ? 2 : 10)));
  gst_element_set_state (app.pipeline, GST_STATE_NULL);
  b = ef_json_log_begin ("exit");
  json_builder_set_member_name (b, "code");
  json_builder_add_int_value (b, app.exit_code);
  json_builder_set_member_name (b, "uptime_s");
  json_builder_add_double_value (b, (g_get_monotonic_time () - app.started_us) / 1e6);
  json_builder_set_member_name (b, "frames_in");
  json_builder_add_int_value (b, app.frames_in);
  json_builder_set_member_name (b, "motion_frames");
  json_builder_add_int_value (b, app.motion_frames);
  json_builder_set_member_name (b, "frames_consumed");
  json_builder_add_int_value (b, app.frames_consumed);
  json_builder_set_member_name (b, "frames_inferred");
  json_builder_add_int_value (b, app.frames_inferred);
  json_builder_set_member_name (b, "detections");
  json_builder_add_int_value (b, app.detections);
  json_builder_set_member_name (b, "sink_buffers");
  json_builder_add_int_value (b, app.sink_buffers);
  ef_json_log_emit (b);

  if (app.server)
    g_object_unref (app.server);
  gst_object_unref (app.pipeline);
  g_ptr_array_unref (app.amqpsinks);
  g_ptr_array_unref (app.infer_probes);
  g_hash_table_unref (app.detections_by_label);
  g_hash_table_unref (app.alerts_by_situation);
  g_hash_table_unref (overrides);
  g_free (desc);
  return app.exit_code;
}
