/* edgefaas amqpsink: publishes frame and detection events to RabbitMQ.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
/**
 * SECTION:element-amqpsink
 * @title: amqpsink
 *
 * Publishes one AMQP 0-9-1 message per buffer (plus one alert per situation)
 * with publisher confirms, without ever blocking the streaming thread on the
 * network.
 *
 * Input and what is published:
 * - `image/jpeg`, `image/png`: an `edgefaas.frame/v1` event. With `frame-store`
 *   the image is written atomically under `frame-store/<camera>/<date>/` and the
 *   message body is the JSON event (content-type `application/json`) carrying the
 *   `file://` URI, size and SHA-256. Without it the message body is the image
 *   itself (binary-safe, content-type `image/jpeg` or `image/png`) and the JSON
 *   event travels in the message header `edgefaas-event` (frame.inline = true,
 *   size and SHA-256 of the body). Motion boxes come from
 *   #GstVideoRegionOfInterestMeta of type "motion", the motion score and event id
 *   from #GstEdgefaasMotionMeta.
 * - `video/x-raw` with detection metas (#GstVideoRegionOfInterestMeta with a
 *   "detection" parameter structure, #GstEdgefaasSituationMeta, and the source
 *   #GstEdgefaasEventMeta): an `edgefaas.detection/v1` event, no pixels. Every
 *   situation is also published as an alert (same JSON body, header
 *   `edgefaas-alert` = situation name) with routing key
 *   `alerts.<situation>.<camera>`.
 * - `application/json`: published as is.
 *
 * Delivery: a publishing thread owns the connection (rabbitmq-c connections are
 * not thread-safe); the streaming thread only appends to a bounded in-memory
 * queue. Publishes are pipelined with publisher confirms (`confirm-window`
 * outstanding). While the broker is unreachable messages go to an on-disk spool
 * (`spool-dir`, file `<element name>.spool`, bounded by `spool-max-bytes`) and
 * are replayed in order after reconnecting, before newer messages. Messages not
 * confirmed when a connection drops are published again (at-least-once:
 * consumers may see duplicates, identified by the AMQP message-id). Reconnection
 * uses exponential backoff; each broker failure is a warning on the bus, never an
 * error, unless the spool (or, without a spool, the memory queue) is full and
 * `on-full=error`. A buffer carrying a #GstEdgefaasEventMeta with an ack token
 * keeps a reference on the token until the broker confirmed the publish; a nack
 * is published again with backoff (#GstAmqpSink:on-nack), a drop rejects the
 * token with requeue. A broker resource alarm (connection.blocked) is a
 * warning and pauses publishing; an event that would fail the schema is not
 * published (warning, `invalid` in stats). Optional frame-store retention:
 * #GstAmqpSink:frame-store-max-age, #GstAmqpSink:frame-store-max-bytes.
 *
 * Credentials: the URL must not contain a password. It is read from the
 * environment variable named by `password-env` (default
 * `EDGEFAAS_AMQP_PASSWORD`) or from the first line of `credentials-file`, and is
 * never logged nor posted on the bus.
 *
 * ## Example launch line
 * |[
 * EDGEFAAS_AMQP_PASSWORD=secret gst-launch-1.0 -e videotestsrc is-live=true ! jpegenc ! \
 *     amqpsink url=amqp://edgefaas@localhost:5672/ exchange=x routing-key=frames \
 *     queue=frames declare=true spool-dir=/var/spool/edgefaas
 * ]|
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <gst/gst.h>
#include <gst/base/gstbasesink.h>
#include <gst/video/video.h>

#include <amqp.h>
#include <amqp_framing.h>

#include "edgefaas-amqp.h"
#include "amqpclient.h"
#include "edgefaas-event.h"
#include "edgefaas-meta.h"
#include "edgefaas-frameref.h"
#include "framestore-retention.h"
#include "image-size.h"
#include "spool.h"

GST_DEBUG_CATEGORY_STATIC (gst_amqp_sink_debug);
#define GST_CAT_DEFAULT gst_amqp_sink_debug

typedef enum
{
  GST_AMQP_SINK_ON_FULL_DROP,
  GST_AMQP_SINK_ON_FULL_ERROR,
  GST_AMQP_SINK_ON_FULL_BLOCK,
} GstAmqpSinkOnFull;

typedef enum
{
  GST_AMQP_SINK_ON_NACK_RETRY,
  GST_AMQP_SINK_ON_NACK_DROP,
} GstAmqpSinkOnNack;

typedef enum
{
  GST_AMQP_SINK_EXCHANGE_DIRECT,
  GST_AMQP_SINK_EXCHANGE_TOPIC,
  GST_AMQP_SINK_EXCHANGE_FANOUT,
  GST_AMQP_SINK_EXCHANGE_HEADERS,
} GstAmqpSinkExchangeType;

#define DEFAULT_EXCHANGE ""
#define DEFAULT_EXCHANGE_TYPE GST_AMQP_SINK_EXCHANGE_DIRECT
#define DEFAULT_ROUTING_KEY "frames"
#define DEFAULT_QUEUE NULL
#define DEFAULT_DECLARE FALSE
#define DEFAULT_PERSISTENT TRUE
#define DEFAULT_CONFIRMS TRUE
#define DEFAULT_CONFIRM_WINDOW 256
#define DEFAULT_CAMERA_ID "camera0"
#define DEFAULT_FRAME_STORE NULL
#define DEFAULT_SPOOL_DIR NULL
#define DEFAULT_SPOOL_MAX_BYTES (256 * 1024 * 1024)
#define DEFAULT_ON_FULL GST_AMQP_SINK_ON_FULL_DROP
#define DEFAULT_FLUSH_TIMEOUT 10000
#define DEFAULT_MAX_QUEUE 256
#define DEFAULT_ON_NACK GST_AMQP_SINK_ON_NACK_RETRY
#define DEFAULT_MAX_QUEUE_BYTES (64 * 1024 * 1024)
#define DEFAULT_FRAME_STORE_MAX_AGE 0
#define DEFAULT_FRAME_STORE_MAX_BYTES 0

/* How often the publishing thread applies the frame-store retention, and how
 * recent a file may be to be left alone regardless (a frame just stored and
 * not yet in the set of unconfirmed frames). */
#define PRUNE_INTERVAL_US (10 * G_USEC_PER_SEC)
#define PRUNE_KEEP_RECENT_US (5 * G_USEC_PER_SEC)

/* At most one nack warning per this interval (a rejecting queue nacks every
 * publish: one warning per nack would flood the bus). */
#define NACK_WARN_INTERVAL_US (10 * G_USEC_PER_SEC)

/* How long stop() lets the publishing thread finish a blocking write before
 * shutting its socket down. */
#define STOP_GRACE_MS 1000

enum
{
  PROP_0,
  /* url, password-env, credentials-file, tls-*: EdgefaasAmqpSettings */
  PROP_AMQP_FIRST,
  PROP_EXCHANGE = PROP_AMQP_FIRST + EDGEFAAS_AMQP_SETTINGS_N_PROPS,
  PROP_EXCHANGE_TYPE,
  PROP_ROUTING_KEY,
  PROP_QUEUE,
  PROP_DECLARE,
  PROP_PERSISTENT,
  PROP_CONFIRMS,
  PROP_CONFIRM_WINDOW,
  PROP_CAMERA_ID,
  PROP_FRAME_STORE,
  PROP_SPOOL_DIR,
  PROP_SPOOL_MAX_BYTES,
  PROP_ON_FULL,
  PROP_FLUSH_TIMEOUT,
  PROP_MAX_QUEUE,
  PROP_ON_NACK,
  PROP_MAX_QUEUE_BYTES,
  PROP_FRAME_STORE_MAX_AGE,
  PROP_FRAME_STORE_MAX_BYTES,
  PROP_STATS,
};

#define GST_TYPE_AMQP_SINK_ON_FULL (gst_amqp_sink_on_full_get_type ())
static GType
gst_amqp_sink_on_full_get_type (void)
{
  static GType type = 0;
  static const GEnumValue values[] = {
    {GST_AMQP_SINK_ON_FULL_DROP, "Drop the new message (counted in stats, warning)",
        "drop"},
    {GST_AMQP_SINK_ON_FULL_ERROR, "Post an error and stop the pipeline", "error"},
    {GST_AMQP_SINK_ON_FULL_BLOCK, "Block the streaming thread until there is room",
        "block"},
    {0, NULL, NULL}
  };
  if (g_once_init_enter (&type)) {
    GType t = g_enum_register_static ("GstAmqpSinkOnFull", values);
    g_once_init_leave (&type, t);
  }
  return type;
}

#define GST_TYPE_AMQP_SINK_ON_NACK (gst_amqp_sink_on_nack_get_type ())
static GType
gst_amqp_sink_on_nack_get_type (void)
{
  static GType type = 0;
  static const GEnumValue values[] = {
    {GST_AMQP_SINK_ON_NACK_RETRY, "Publish a nacked message again, with exponential "
          "backoff, until the broker accepts it (counted in nacked)", "retry"},
    {GST_AMQP_SINK_ON_NACK_DROP, "Drop a nacked message (counted in nacked and dropped; "
          "its ack token is rejected with requeue)", "drop"},
    {0, NULL, NULL}
  };
  if (g_once_init_enter (&type)) {
    GType t = g_enum_register_static ("GstAmqpSinkOnNack", values);
    g_once_init_leave (&type, t);
  }
  return type;
}

#define GST_TYPE_AMQP_SINK_EXCHANGE_TYPE (gst_amqp_sink_exchange_type_get_type ())
static GType
gst_amqp_sink_exchange_type_get_type (void)
{
  static GType type = 0;
  static const GEnumValue values[] = {
    {GST_AMQP_SINK_EXCHANGE_DIRECT, "Direct exchange", "direct"},
    {GST_AMQP_SINK_EXCHANGE_TOPIC, "Topic exchange", "topic"},
    {GST_AMQP_SINK_EXCHANGE_FANOUT, "Fanout exchange", "fanout"},
    {GST_AMQP_SINK_EXCHANGE_HEADERS, "Headers exchange", "headers"},
    {0, NULL, NULL}
  };
  if (g_once_init_enter (&type)) {
    GType t = g_enum_register_static ("GstAmqpSinkExchangeType", values);
    g_once_init_leave (&type, t);
  }
  return type;
}

static const gchar *
exchange_type_name (GstAmqpSinkExchangeType t)
{
  switch (t) {
    case GST_AMQP_SINK_EXCHANGE_TOPIC:
      return "topic";
    case GST_AMQP_SINK_EXCHANGE_FANOUT:
      return "fanout";
    case GST_AMQP_SINK_EXCHANGE_HEADERS:
      return "headers";
    default:
      return "direct";
  }
}

/* Property values. Written under GST_OBJECT_LOCK; start() copies them. */
typedef struct
{
  EdgefaasAmqpSettings amqp;    /* connection: url, credentials, TLS */
  gchar *exchange;
  GstAmqpSinkExchangeType exchange_type;
  gchar *routing_key;
  gchar *queue;
  gboolean declare;
  gboolean persistent;
  gboolean confirms;
  guint confirm_window;
  gchar *camera_id;
  gchar *frame_store;
  gchar *spool_dir;
  guint64 spool_max_bytes;
  GstAmqpSinkOnFull on_full;
  guint flush_timeout_ms;
  guint max_queue;
  GstAmqpSinkOnNack on_nack;
  guint64 max_queue_bytes;
  guint frame_store_max_age;    /* seconds, 0 = no age bound */
  guint64 frame_store_max_bytes;        /* 0 = no size bound */
} Settings;

/* One AMQP message. */
typedef struct
{
  gchar *routing_key;
  gchar *content_type;
  gchar *event_header;          /* "edgefaas-event" header (inline frames) or NULL */
  gchar *alert;                 /* "edgefaas-alert" header or NULL */
  gchar *message_id;
  GBytes *body;
  gboolean persistent;
  EdgefaasAckToken *token;      /* owned ref or NULL */
  guint64 tag;                  /* delivery tag while in flight */
  gchar *frame_path;            /* frame-store file of this event, or NULL */
} Msg;

typedef enum
{
  INPUT_NONE,
  INPUT_IMAGE,
  INPUT_RAW,
  INPUT_JSON,
} InputKind;

/* What one run (start() .. stop()) owns: made in start(), freed in stop().
 * Lock order: GST_OBJECT_LOCK is never held together with qlock. qlock is
 * never held across a network call; it may be held across a local disk
 * write of the spool. */
typedef struct
{
  /* Copy of the settings for the running element; read by the streaming and
   * the publishing threads, never modified while running. */
  Settings run;
  EdgefaasAmqpParams params;
  gchar *redacted_url;
  gchar *bind_key;
  AmqpClient *client;           /* connect, backoff, policy (amqpclient.h) */

  /* Streaming thread only. */
  InputKind input;
  gchar *media_type;
  GstVideoInfo vinfo;
  guint width, height;
  guint64 sequence;
  /* Random id drawn at every start(): sequences restart at 1 per run, so
   * message-ids and frame-store names carry it to stay unique. */
  gchar *run_id;

  /* Under the element's qlock. */
  GQueue memq;                  /* of Msg*, newest at tail; all newer than the spool */
  guint64 memq_bytes;           /* sum of msg_mem_size() over memq */
  /* Frame-store files whose event is not confirmed yet (path -> count):
   * the retention never deletes them. Entries are added when a frame is
   * stored or a spool record from an earlier run is found, removed when
   * the broker confirms the event. */
  GHashTable *pending_frames;
  /* spool: one append-only file (record format: spool.h); records between
   * read_off and write_off are pending, in order. spool_tokens holds the
   * ack token (or NULL) of each pending record, aligned. */
  gchar *spool_path;
  gint spool_fd;
  guint64 spool_read_off, spool_write_off;
  guint spool_count;
  GQueue spool_tokens;
  /* errno of the last failed spool write (ENOSPC: the disk is full), 0 after
   * a successful one; spool_err_warned: that failure streak was reported. */
  gint spool_errno;
  gboolean spool_err_warned;
  guint drops_since_warn;

  /* Publishing thread only. */
  GThread *thread;
  EdgefaasAmqpConn *conn;
  GQueue inflight;              /* of Msg*, by delivery tag */
  GQueue retry;                 /* of Msg*, published first after reconnect/nack */
  guint64 next_tag;
  /* Nacked messages wait in retry until retry_not_before (monotonic us);
   * the wait doubles with every nack and resets on an ack. */
  guint nack_backoff_ms;
  gint64 retry_not_before;
  gint64 last_nack_warn_us;
  guint64 nacks_at_last_warn;
  gint64 last_prune_us;
} State;

struct _GstAmqpSink
{
  GstBaseSink parent;

  Settings settings;            /* under GST_OBJECT_LOCK */
  State *state;                 /* start() .. stop() */

  /* Shared between the streaming and publishing threads, under qlock; they
   * outlive a run (stats after stop). */
  GMutex qlock;
  GCond qcond;                  /* anything changed: new message, confirm, stop, flushing */
  gboolean flushing;
  gboolean stopping;
  gboolean connected;
  /* The broker sent connection.blocked (resource alarm) and no unblocked yet:
   * nothing is published meanwhile. Written by the publishing thread. */
  gboolean blocked;
  gboolean fatal;
  gint sockfd;                  /* of the current connection, -1 when none */
  /* Messages the publishing thread took from memq/spool and has not finished
   * (being published, in flight, waiting for a retry): EOS waits for 0. */
  guint n_owned;
  /* counters */
  guint64 st_published, st_confirmed, st_nacked, st_spooled, st_replayed, st_dropped,
      st_reconnects, st_republished, st_unroutable, st_blocked, st_frames_deleted, st_invalid;
};

#define GST_TYPE_AMQP_SINK (gst_amqp_sink_get_type ())
G_DECLARE_FINAL_TYPE (GstAmqpSink, gst_amqp_sink, GST, AMQP_SINK, GstBaseSink);

static GstStaticPadTemplate sink_template = GST_STATIC_PAD_TEMPLATE ("sink",
    GST_PAD_SINK, GST_PAD_ALWAYS,
    GST_STATIC_CAPS ("image/jpeg; image/png; video/x-raw(ANY); application/json"));

G_DEFINE_TYPE (GstAmqpSink, gst_amqp_sink, GST_TYPE_BASE_SINK);

static void
amqp_sink_element_init (GstPlugin * plugin)
{
  static gsize done = 0;
  if (g_once_init_enter (&done)) {
    GST_DEBUG_CATEGORY_INIT (gst_amqp_sink_debug, "amqpsink", 0, "AMQP event sink");
    gst_type_mark_as_plugin_api (GST_TYPE_AMQP_SINK_ON_FULL, 0);
    gst_type_mark_as_plugin_api (GST_TYPE_AMQP_SINK_ON_NACK, 0);
    gst_type_mark_as_plugin_api (GST_TYPE_AMQP_SINK_EXCHANGE_TYPE, 0);
    g_once_init_leave (&done, 1);
  }
}

GST_ELEMENT_REGISTER_DEFINE_WITH_CODE (amqpsink, "amqpsink", GST_RANK_NONE,
    GST_TYPE_AMQP_SINK, amqp_sink_element_init (plugin));

/* ------------------------------------------------------------ helpers ---- */

static void
settings_clear (Settings * s)
{
  edgefaas_amqp_settings_clear (&s->amqp);
  g_free (s->exchange);
  g_free (s->routing_key);
  g_free (s->queue);
  g_free (s->camera_id);
  g_free (s->frame_store);
  g_free (s->spool_dir);
  memset (s, 0, sizeof (*s));
}

static void
settings_copy (Settings * d, const Settings * s)
{
  settings_clear (d);
  *d = *s;
  memset (&d->amqp, 0, sizeof (d->amqp));
  edgefaas_amqp_settings_copy (&d->amqp, &s->amqp);
  d->exchange = g_strdup (s->exchange);
  d->routing_key = g_strdup (s->routing_key);
  d->queue = g_strdup (s->queue);
  d->camera_id = g_strdup (s->camera_id);
  d->frame_store = g_strdup (s->frame_store);
  d->spool_dir = g_strdup (s->spool_dir);
}

static void
msg_free (Msg * m)
{
  if (m == NULL)
    return;
  g_free (m->routing_key);
  g_free (m->content_type);
  g_free (m->event_header);
  g_free (m->alert);
  g_free (m->message_id);
  g_free (m->frame_path);
  if (m->body)
    g_bytes_unref (m->body);
  if (m->token)
    edgefaas_ack_token_unref (m->token);
  g_free (m);
}

/* The broker will never confirm @m: reject its token (requeue) and free it. */
static void
msg_fail (Msg * m, const gchar * reason)
{
  if (m->token)
    edgefaas_ack_token_reject (m->token, TRUE, reason);
  msg_free (m);
}

/* Bytes a queued message holds (body and the inline event header). */
static gsize
msg_mem_size (const Msg * m)
{
  return g_bytes_get_size (m->body) + (m->event_header ? strlen (m->event_header) : 0);
}

/* The frame-store file an event message refers to (spool records do not
 * keep it: read it back from the event), or NULL. */
static gchar *
frame_path_of_body (const Msg * m)
{
  EdgefaasFrameEvent *ev;
  gchar *path = NULL;
  gsize size;
  const gchar *body;

  if (m->event_header || g_strcmp0 (m->content_type, "application/json") != 0)
    return NULL;
  body = g_bytes_get_data (m->body, &size);
  ev = edgefaas_frame_event_from_json (body, size, NULL);
  if (ev && ev->frame.uri && !ev->frame.is_inline)
    path = g_filename_from_uri (ev->frame.uri, NULL, NULL);
  if (ev)
    edgefaas_frame_event_free (ev);
  return path;
}

/* qlock held. */
static void
pending_frame_add_locked (GstAmqpSink * self, const gchar * path)
{
  guint n = GPOINTER_TO_UINT (g_hash_table_lookup (self->state->pending_frames, path));
  g_hash_table_insert (self->state->pending_frames, g_strdup (path), GUINT_TO_POINTER (n + 1));
}

/* qlock held. */
static void
pending_frame_done_locked (GstAmqpSink * self, const gchar * path)
{
  guint n = GPOINTER_TO_UINT (g_hash_table_lookup (self->state->pending_frames, path));
  if (n <= 1)
    g_hash_table_remove (self->state->pending_frames, path);
  else
    g_hash_table_insert (self->state->pending_frames, g_strdup (path), GUINT_TO_POINTER (n - 1));
}

/* Substitute {camera} and {label}. */
static gchar *
expand_key (const gchar * tmpl, const gchar * camera, const gchar * label)
{
  GString *s = g_string_new (tmpl ? tmpl : "");
  g_string_replace (s, "{camera}", camera ? camera : "", 0);
  g_string_replace (s, "{label}", label ? label : "", 0);
  return g_string_free (s, FALSE);
}

/* The AMQP message-id: <camera>[:<run>]:<sequence>[:<suffix>]. */
static gchar *
make_message_id (const gchar * camera, const gchar * run_id, guint64 sequence,
    const gchar * suffix)
{
  GString *id = g_string_new (camera);
  if (run_id)
    g_string_append_printf (id, ":%s", run_id);
  g_string_append_printf (id, ":%" G_GUINT64_FORMAT, sequence);
  if (suffix)
    g_string_append_printf (id, ":%s", suffix);
  return g_string_free (id, FALSE);
}

/* ------------------------------------------------------------- spool ---- */

/* The record format and its I/O are spool.c's; these adapt a Msg (which
 * also carries the token, tag and frame path a record never holds). */

/* Borrows @m's fields: never clear the result. */
static SpoolRecord
record_view (const Msg * m)
{
  SpoolRecord r = { m->routing_key, m->content_type, m->event_header, m->alert,
    m->message_id, m->body, m->persistent
  };
  return r;
}

static gsize
spool_record_size_of (const Msg * m)
{
  SpoolRecord r = record_view (m);
  return spool_record_size (&r);
}

/* Append @m's record to @fd; returns bytes written or 0 on error. */
static gsize
spool_write_record (gint fd, const Msg * m)
{
  SpoolRecord r = record_view (m);
  return spool_record_write (fd, &r);
}

/* Read the record at @off; sets *size to its length. NULL if malformed. */
static Msg *
spool_read_record (gint fd, guint64 off, guint64 limit, gsize * size)
{
  SpoolRecord r;
  Msg *m;

  if (!spool_record_read (fd, off, limit, &r, size))
    return NULL;
  m = g_new0 (Msg, 1);
  /* Take the fields over. */
  m->routing_key = r.routing_key;
  m->content_type = r.content_type;
  m->event_header = r.event_header;
  m->alert = r.alert;
  m->message_id = r.message_id;
  m->body = r.body;
  m->persistent = r.persistent;
  return m;
}

/* qlock held. */
static gboolean
spool_append_locked (GstAmqpSink * self, Msg * m)
{
  gsize n = spool_write_record (self->state->spool_fd, m);
  if (n == 0) {
    self->state->spool_errno = errno ? errno : EIO;
    GST_WARNING_OBJECT (self, "spool write failed: %s", g_strerror (self->state->spool_errno));
    /* keep the file consistent: cut a partial record */
    if (ftruncate (self->state->spool_fd, (off_t) self->state->spool_write_off) != 0)
      GST_WARNING_OBJECT (self, "spool truncate failed: %s", g_strerror (errno));
    return FALSE;
  }
  self->state->spool_write_off += n;
  self->state->spool_count++;
  self->state->spool_errno = 0;
  self->state->spool_err_warned = FALSE;
  g_queue_push_tail (&self->state->spool_tokens, m->token);
  m->token = NULL;
  self->st_spooled++;
  msg_free (m);
  return TRUE;
}

static gboolean
spool_enabled (GstAmqpSink * self)
{
  return self->state->spool_fd >= 0;
}

/* The memory queue, bounded by max-queue messages and max-queue-bytes (one
 * message always fits, however large). qlock held. */
static gboolean
memq_has_room_locked (GstAmqpSink * self, const Msg * m)
{
  return g_queue_get_length (&self->state->memq) < self->state->run.max_queue &&
      (g_queue_is_empty (&self->state->memq) ||
      self->state->memq_bytes + msg_mem_size (m) <= self->state->run.max_queue_bytes);
}

static void
memq_push_locked (GstAmqpSink * self, Msg * m)
{
  self->state->memq_bytes += msg_mem_size (m);
  g_queue_push_tail (&self->state->memq, m);
}

static Msg *
memq_pop_locked (GstAmqpSink * self)
{
  Msg *m = g_queue_pop_head (&self->state->memq);
  if (m)
    self->state->memq_bytes -= msg_mem_size (m);
  return m;
}

static guint64
spool_pending_bytes (GstAmqpSink * self)
{
  return self->state->spool_write_off - self->state->spool_read_off;
}

/* Move the whole memory queue to the spool tail (order kept). qlock held. */
static gboolean
spool_take_memq_locked (GstAmqpSink * self)
{
  Msg *m;
  while ((m = g_queue_peek_head (&self->state->memq))) {
    if (spool_pending_bytes (self) + spool_record_size_of (m) > self->state->run.spool_max_bytes)
      return FALSE;
    memq_pop_locked (self);
    if (!spool_append_locked (self, m)) {
      /* not written: back to the head, where it was */
      self->state->memq_bytes += msg_mem_size (m);
      g_queue_push_head (&self->state->memq, m);
      return FALSE;
    }
  }
  return TRUE;
}

/* The spooled messages will never be confirmed: reject (requeue) the ack
 * tokens still held for them. */
static void
spool_reject_tokens (GstAmqpSink * self, const gchar * reason)
{
  while (!g_queue_is_empty (&self->state->spool_tokens)) {
    EdgefaasAckToken *t = g_queue_pop_head (&self->state->spool_tokens);
    if (t) {
      edgefaas_ack_token_reject (t, TRUE, reason);
      edgefaas_ack_token_unref (t);
    }
  }
}

/* Pop the oldest spooled record. qlock held. */
static Msg *
spool_pop_locked (GstAmqpSink * self)
{
  gsize size = 0;
  Msg *m;

  if (self->state->spool_count == 0)
    return NULL;
  m = spool_read_record (self->state->spool_fd, self->state->spool_read_off, self->state->spool_write_off, &size);
  if (m == NULL) {
    /* Corrupt from here on: count what is lost and start over. */
    GST_ERROR_OBJECT (self, "spool corrupt at offset %" G_GUINT64_FORMAT
        ", discarding %u records", self->state->spool_read_off, self->state->spool_count);
    self->st_dropped += self->state->spool_count;
    spool_reject_tokens (self, "amqpsink spool corrupt");
    self->state->spool_count = 0;
    self->state->spool_read_off = self->state->spool_write_off = 0;
    if (ftruncate (self->state->spool_fd, 0) != 0)
      GST_WARNING_OBJECT (self, "spool truncate failed: %s", g_strerror (errno));
    return NULL;
  }
  m->token = g_queue_pop_head (&self->state->spool_tokens);
  if (self->state->run.frame_store)
    m->frame_path = frame_path_of_body (m);
  self->state->spool_read_off += size;
  self->state->spool_count--;
  self->st_replayed++;
  if (self->state->spool_count == 0) {
    self->state->spool_read_off = self->state->spool_write_off = 0;
    if (ftruncate (self->state->spool_fd, 0) != 0)
      GST_WARNING_OBJECT (self, "spool truncate failed: %s", g_strerror (errno));
  }
  return m;
}

/* Open (or recover) the spool file. Records left by an earlier run are
 * replayed first; a torn last record is cut off. */
static gboolean
spool_open (GstAmqpSink * self, GError ** error)
{
  gchar *name = gst_object_get_name (GST_OBJECT (self));
  gchar *file = g_strdup_printf ("%s.spool", name);
  guint64 off = 0, size;
  struct stat st;

  g_free (name);
  if (g_mkdir_with_parents (self->state->run.spool_dir, 0700) != 0) {
    g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (errno),
        "cannot create spool-dir '%s': %s", self->state->run.spool_dir, g_strerror (errno));
    g_free (file);
    return FALSE;
  }
  self->state->spool_path = g_build_filename (self->state->run.spool_dir, file, NULL);
  g_free (file);
  self->state->spool_fd = open (self->state->spool_path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (self->state->spool_fd < 0) {
    g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (errno),
        "cannot open spool file '%s': %s", self->state->spool_path, g_strerror (errno));
    return FALSE;
  }
  if (fstat (self->state->spool_fd, &st) != 0)
    st.st_size = 0;
  size = st.st_size;
  self->state->spool_count = 0;
  while (off < size) {
    gsize rs = 0;
    Msg *m = spool_read_record (self->state->spool_fd, off, size, &rs);
    if (m == NULL) {
      GST_WARNING_OBJECT (self, "spool: cutting torn record at %" G_GUINT64_FORMAT, off);
      if (ftruncate (self->state->spool_fd, (off_t) off) != 0) {
        g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (errno),
            "cannot repair spool file '%s': %s", self->state->spool_path, g_strerror (errno));
        return FALSE;
      }
      break;
    }
    if (self->state->run.frame_store) {
      gchar *path = frame_path_of_body (m);
      if (path)
        pending_frame_add_locked (self, path);
      g_free (path);
    }
    msg_free (m);
    off += rs;
    self->state->spool_count++;
    g_queue_push_tail (&self->state->spool_tokens, NULL);
  }
  self->state->spool_read_off = 0;
  self->state->spool_write_off = off;
  if (self->state->spool_count)
    GST_INFO_OBJECT (self, "spool holds %u messages from an earlier run", self->state->spool_count);
  return TRUE;
}

/* --------------------------------------------------- publishing thread ---- */

/* Post a warning from any thread, without holding any lock. */
#define POST_WARNING(self, text, debug) \
  GST_ELEMENT_WARNING (self, RESOURCE, WRITE, text, debug)

static void
disconnect (GstAmqpSink * self, const gchar * reason)
{
  guint n_back;
  Msg *m;

  if (self->state->conn == NULL)
    return;
  GST_INFO_OBJECT (self, "disconnecting: %s", reason);
  g_mutex_lock (&self->qlock);
  self->sockfd = -1;
  self->connected = FALSE;
  self->blocked = FALSE;        /* a new connection starts unblocked */
  g_mutex_unlock (&self->qlock);
  edgefaas_amqp_conn_close (self->state->conn);
  self->state->conn = NULL;

  /* Unconfirmed messages are older than anything in retry: put them first. */
  n_back = g_queue_get_length (&self->state->inflight);
  while ((m = g_queue_pop_tail (&self->state->inflight)))
    g_queue_push_head (&self->state->retry, m);
  g_mutex_lock (&self->qlock);
  self->st_republished += n_back;
  g_cond_broadcast (&self->qcond);
  g_mutex_unlock (&self->qlock);
}

/* Runs inside amqp_client_connect(): a stop() can still interrupt it. */
static gboolean
setup_channel (EdgefaasAmqpConn * conn, gpointer user_data, GError ** error)
{
  GstAmqpSink *self = user_data;
  amqp_connection_state_t st = edgefaas_amqp_conn_get_state (conn);

  if (self->state->run.declare && !edgefaas_amqp_declare_topology (conn, self->state->run.exchange,
          exchange_type_name (self->state->run.exchange_type), self->state->run.queue, self->state->bind_key,
          self->state->params.queue_type, error))
    return FALSE;
  if (self->state->run.confirms) {
    amqp_confirm_select (st, edgefaas_amqp_conn_get_channel (conn));
    if (!edgefaas_amqp_check_reply (amqp_get_rpc_reply (st), "confirm.select", error))
      return FALSE;
  }
  return TRUE;
}

static gboolean
try_connect (GstAmqpSink * self, GError ** error)
{
  EdgefaasAmqpConn *conn = amqp_client_connect (self->state->client, setup_channel, self, error);
  amqp_connection_state_t st;

  if (conn == NULL)
    return FALSE;
  st = edgefaas_amqp_conn_get_state (conn);
  self->state->conn = conn;
  self->state->next_tag = 0;
  self->state->retry_not_before = 0;   /* a new connection: republish at once */
  g_mutex_lock (&self->qlock);
  self->sockfd = amqp_get_sockfd (st);
  self->connected = TRUE;
  g_mutex_unlock (&self->qlock);
  return TRUE;
}

static void
complete_ok (GstAmqpSink * self, Msg * m)
{
  if (m->frame_path) {
    g_mutex_lock (&self->qlock);
    pending_frame_done_locked (self, m->frame_path);
    g_mutex_unlock (&self->qlock);
  }
  msg_free (m);                 /* releases the token ref: the source may ack */
}

/* Frame-store retention (frame-store-max-age/-max-bytes), at most every
 * PRUNE_INTERVAL_US, from the publishing thread: never a frame whose event
 * is unconfirmed (pending_frames) or that was stored a moment ago. */
static void
maybe_prune_frame_store (GstAmqpSink * self)
{
  gint64 now = g_get_monotonic_time ();
  GHashTable *protect;
  GHashTableIter it;
  gpointer key;
  FramestorePruneResult r;
  GError *err = NULL;
  gint64 wall;

  if (self->state->run.frame_store == NULL || (self->state->run.frame_store_max_age == 0 &&
          self->state->run.frame_store_max_bytes == 0))
    return;
  if (self->state->last_prune_us != 0 && now - self->state->last_prune_us < PRUNE_INTERVAL_US)
    return;
  self->state->last_prune_us = now;
  protect = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_mutex_lock (&self->qlock);
  g_hash_table_iter_init (&it, self->state->pending_frames);
  while (g_hash_table_iter_next (&it, &key, NULL))
    g_hash_table_add (protect, g_strdup (key));
  g_mutex_unlock (&self->qlock);
  wall = g_get_real_time ();
  if (framestore_prune (self->state->run.frame_store, wall,
          (gint64) self->state->run.frame_store_max_age * G_USEC_PER_SEC,
          self->state->run.frame_store_max_bytes, protect, wall - PRUNE_KEEP_RECENT_US, &r, &err)) {
    GST_DEBUG_OBJECT (self, "frame-store retention: %u deleted (%" G_GUINT64_FORMAT
        " bytes), %u kept (%" G_GUINT64_FORMAT " bytes, %u unconfirmed or recent)",
        r.deleted, r.freed_bytes, r.kept, r.kept_bytes, r.protected_files);
    g_mutex_lock (&self->qlock);
    self->st_frames_deleted += r.deleted;
    g_mutex_unlock (&self->qlock);
  } else {
    GST_WARNING_OBJECT (self, "frame-store retention: %s", err->message);
    g_clear_error (&err);
  }
  g_hash_table_unref (protect);
}

/* A nacked message: back into the retry queue (published again after the
 * backoff), or dropped, per on-nack. The retry queue is in delivery order. */
static void
handle_nacked (GstAmqpSink * self, Msg * m, GQueue * nacked)
{
  GST_INFO_OBJECT (self, "broker nacked message %s", m->message_id);
  if (self->state->run.on_nack == GST_AMQP_SINK_ON_NACK_RETRY)
    g_queue_push_tail (nacked, m);
  else
    msg_fail (m, "broker nacked the publish (on-nack=drop)");
}

/* The broker refused messages: post a warning, at most one per
 * NACK_WARN_INTERVAL_US, saying how many so far. No lock held. */
static void
warn_nacked (GstAmqpSink * self, guint64 total)
{
  gint64 now = g_get_monotonic_time ();

  if (self->state->last_nack_warn_us != 0 && now - self->state->last_nack_warn_us < NACK_WARN_INTERVAL_US)
    return;
  POST_WARNING (self, ("The broker refused %" G_GUINT64_FORMAT " message(s) since the last "
          "warning (%" G_GUINT64_FORMAT " in all); %s", total - self->state->nacks_at_last_warn,
          total, self->state->run.on_nack == GST_AMQP_SINK_ON_NACK_RETRY ?
          "publishing them again with backoff" : "dropped (on-nack=drop)"),
      ("basic.nack (queue full with x-overflow=reject-publish, or a broker-side failure); "
          "next warning in %u s at the earliest",
          (guint) (NACK_WARN_INTERVAL_US / G_USEC_PER_SEC)));
  self->state->last_nack_warn_us = now;
  self->state->nacks_at_last_warn = total;
}

/* Handle a basic.ack / basic.nack. */
static void
handle_confirm (GstAmqpSink * self, guint64 tag, gboolean multiple, gboolean ack)
{
  GQueue nacked = G_QUEUE_INIT;
  guint n = 0, done;
  guint64 total_nacked;
  Msg *m;

  while ((m = g_queue_peek_head (&self->state->inflight))) {
    if (m->tag > tag || (!multiple && m->tag != tag))
      break;
    g_queue_pop_head (&self->state->inflight);
    n++;
    if (ack)
      complete_ok (self, m);
    else
      handle_nacked (self, m, &nacked);
  }
  if (!multiple && n == 0) {
    /* Not the head: find it in the window (confirms may come out of order). */
    for (GList * l = self->state->inflight.head; l; l = l->next) {
      m = l->data;
      if (m->tag == tag) {
        g_queue_delete_link (&self->state->inflight, l);
        n = 1;
        if (ack)
          complete_ok (self, m);
        else
          handle_nacked (self, m, &nacked);
        break;
      }
    }
  }
  if (n == 0)
    return;
  if (ack) {
    self->state->nack_backoff_ms = 0;
  } else if (!g_queue_is_empty (&nacked)) {
    gint64 now = g_get_monotonic_time ();
    /* The nacks of one burst of publishes come one by one: double the wait
     * once per burst, i.e. only for a nack after the last wait ended. */
    if (self->state->nack_backoff_ms == 0)
      self->state->nack_backoff_ms = EDGEFAAS_AMQP_BACKOFF_MIN_MS;
    else if (now >= self->state->retry_not_before)
      self->state->nack_backoff_ms = edgefaas_amqp_backoff_next (self->state->nack_backoff_ms);
    self->state->retry_not_before = now + (gint64) self->state->nack_backoff_ms * G_TIME_SPAN_MILLISECOND;
    while ((m = g_queue_pop_head (&nacked)))
      g_queue_push_tail (&self->state->retry, m);
  }
  /* Retried messages stay owned (EOS keeps waiting for them). */
  done = ack || self->state->run.on_nack == GST_AMQP_SINK_ON_NACK_DROP ? n : 0;
  g_mutex_lock (&self->qlock);
  self->n_owned -= done;
  if (ack) {
    self->st_confirmed += n;
  } else {
    self->st_nacked += n;
    if (self->state->run.on_nack == GST_AMQP_SINK_ON_NACK_DROP)
      self->st_dropped += n;
  }
  total_nacked = self->st_nacked;
  g_cond_broadcast (&self->qcond);
  g_mutex_unlock (&self->qlock);
  if (!ack)
    warn_nacked (self, total_nacked);
}

/* TRUE while nacked messages wait for their backoff to pass: nothing is
 * published then (newer messages would overtake them and be refused too). */
static gboolean
nack_backoff_active (GstAmqpSink * self)
{
  return !g_queue_is_empty (&self->state->retry) && self->state->retry_not_before != 0 &&
      g_get_monotonic_time () < self->state->retry_not_before;
}

/* Read frames for up to @timeout_ms (0 = only what is there). FALSE if the
 * connection is gone (already disconnected). */
static gboolean
read_frames (GstAmqpSink * self, guint timeout_ms)
{
  amqp_connection_state_t st = edgefaas_amqp_conn_get_state (self->state->conn);
  struct timeval tv = { timeout_ms / 1000, (timeout_ms % 1000) * 1000 };

  for (;;) {
    amqp_frame_t frame;
    gint rc;

    amqp_maybe_release_buffers (st);
    rc = amqp_simple_wait_frame_noblock (st, &frame, &tv);
    if (rc == AMQP_STATUS_TIMEOUT)
      return TRUE;
    if (rc != AMQP_STATUS_OK) {
      gchar *why = g_strdup_printf ("connection lost: %s", amqp_error_string2 (rc));
      disconnect (self, why);
      POST_WARNING (self, ("Lost the connection to the AMQP broker, reconnecting"), ("%s",
              why));
      g_free (why);
      return FALSE;
    }
    if (frame.frame_type == AMQP_FRAME_METHOD) {
      switch (frame.payload.method.id) {
        case AMQP_BASIC_ACK_METHOD:{
          amqp_basic_ack_t *a = frame.payload.method.decoded;
          handle_confirm (self, a->delivery_tag, a->multiple, TRUE);
          break;
        }
        case AMQP_BASIC_NACK_METHOD:{
          amqp_basic_nack_t *a = frame.payload.method.decoded;
          handle_confirm (self, a->delivery_tag, a->multiple, FALSE);
          break;
        }
        case AMQP_CONNECTION_BLOCKED_METHOD:{
          amqp_connection_blocked_t *b = frame.payload.method.decoded;
          guint64 n;
          g_mutex_lock (&self->qlock);
          self->blocked = TRUE;
          n = ++self->st_blocked;
          g_mutex_unlock (&self->qlock);
          POST_WARNING (self, ("The AMQP broker blocked publishing (resource alarm: %.*s); "
                  "messages are queued and spooled until it unblocks", (int) b->reason.len,
                  (const char *) b->reason.bytes), ("connection.blocked, %" G_GUINT64_FORMAT
                  " time(s) so far", n));
          break;
        }
        case AMQP_CONNECTION_UNBLOCKED_METHOD:{
          g_mutex_lock (&self->qlock);
          self->blocked = FALSE;
          g_cond_broadcast (&self->qcond);
          g_mutex_unlock (&self->qlock);
          GST_ELEMENT_INFO (self, RESOURCE, WRITE, ("The AMQP broker unblocked publishing "
                  "(resource alarm cleared)"), ("connection.unblocked"));
          break;
        }
        case AMQP_BASIC_RETURN_METHOD:{
          /* No queue is bound for this routing key: the broker drops the
           * message (and still confirms it). Its header and body frames
           * follow and are skipped below. */
          amqp_basic_return_t *r = frame.payload.method.decoded;
          guint64 n;
          g_mutex_lock (&self->qlock);
          n = ++self->st_unroutable;
          g_mutex_unlock (&self->qlock);
          if (n == 1 || n % 1000 == 0)
            POST_WARNING (self, ("Messages are unroutable: no queue is bound for routing "
                    "key '%.*s' (%" G_GUINT64_FORMAT " so far)", (int) r->routing_key.len,
                    (const char *) r->routing_key.bytes, n), ("basic.return %u %.*s",
                    r->reply_code, (int) r->reply_text.len, (const char *) r->reply_text.bytes));
          break;
        }
        default:{
          gchar *why = NULL;
          if (edgefaas_amqp_answer_close (st, &frame, &why)) {
            disconnect (self, why);
            POST_WARNING (self, ("The AMQP broker closed the %s, reconnecting",
                    frame.payload.method.id == AMQP_CHANNEL_CLOSE_METHOD ? "channel" :
                    "connection"), ("%s", why));
            g_free (why);
            return FALSE;
          }
          GST_DEBUG_OBJECT (self, "ignoring method 0x%08x", frame.payload.method.id);
          break;
        }
      }
    }
    /* Drain whatever else is already buffered, without waiting. */
    if (!amqp_frames_enqueued (st) && !amqp_data_in_buffer (st)) {
      tv.tv_sec = 0;
      tv.tv_usec = 0;
    }
  }
}

static gint
publish_one (GstAmqpSink * self, Msg * m)
{
  amqp_connection_state_t st = edgefaas_amqp_conn_get_state (self->state->conn);
  amqp_basic_properties_t props = { 0 };
  amqp_table_entry_t entries[2];
  gsize size;
  amqp_bytes_t body;

  props._flags = AMQP_BASIC_CONTENT_TYPE_FLAG | AMQP_BASIC_DELIVERY_MODE_FLAG
      | AMQP_BASIC_APP_ID_FLAG;
  props.content_type = amqp_cstring_bytes (m->content_type);
  props.delivery_mode = m->persistent ? 2 : 1;
  props.app_id = amqp_cstring_bytes ("edgefaas");
  if (m->message_id) {
    props._flags |= AMQP_BASIC_MESSAGE_ID_FLAG;
    props.message_id = amqp_cstring_bytes (m->message_id);
  }
  props.headers.num_entries = 0;
  props.headers.entries = entries;
  if (m->event_header) {
    entries[props.headers.num_entries].key = amqp_cstring_bytes ("edgefaas-event");
    entries[props.headers.num_entries].value.kind = AMQP_FIELD_KIND_UTF8;
    entries[props.headers.num_entries].value.value.bytes = amqp_cstring_bytes (m->event_header);
    props.headers.num_entries++;
  }
  if (m->alert) {
    entries[props.headers.num_entries].key = amqp_cstring_bytes ("edgefaas-alert");
    entries[props.headers.num_entries].value.kind = AMQP_FIELD_KIND_UTF8;
    entries[props.headers.num_entries].value.value.bytes = amqp_cstring_bytes (m->alert);
    props.headers.num_entries++;
  }
  if (props.headers.num_entries)
    props._flags |= AMQP_BASIC_HEADERS_FLAG;

  body.bytes = (void *) g_bytes_get_data (m->body, &size);
  body.len = size;
  return amqp_basic_publish (st, edgefaas_amqp_conn_get_channel (self->state->conn),
      amqp_cstring_bytes (self->state->run.exchange ? self->state->run.exchange : ""),
      amqp_cstring_bytes (m->routing_key), 1 /* mandatory: report unroutable */ , 0,
      &props, body);
}

/* Next message in order: retry, then spool, then memory. */
static Msg *
next_message (GstAmqpSink * self)
{
  Msg *m = g_queue_pop_head (&self->state->retry);
  if (m)
    return m;                   /* already counted in n_owned */
  g_mutex_lock (&self->qlock);
  if (self->state->spool_count > 0)
    m = spool_pop_locked (self);
  if (m == NULL)
    m = memq_pop_locked (self);
  if (m) {
    self->n_owned++;
    g_cond_broadcast (&self->qcond);    /* room for a blocked producer */
  }
  g_mutex_unlock (&self->qlock);
  return m;
}

static gboolean
have_work_locked (GstAmqpSink * self)
{
  return self->state->spool_count > 0 || !g_queue_is_empty (&self->state->memq);
}

static gpointer
publisher_thread (gpointer data)
{
  GstAmqpSink *self = data;
  for (;;) {
    gboolean stopping;

    g_mutex_lock (&self->qlock);
    stopping = self->stopping;
    g_mutex_unlock (&self->qlock);
    if (stopping)
      break;

    maybe_prune_frame_store (self);

    if (self->state->conn == NULL) {
      GError *err = NULL;

      guint delay_ms;
      gboolean warn;

      if (try_connect (self, &err)) {
        if (amqp_client_connected (self->state->client)) {
          g_mutex_lock (&self->qlock);
          self->st_reconnects++;
          g_mutex_unlock (&self->qlock);
          GST_ELEMENT_INFO (self, RESOURCE, WRITE, ("Reconnected to the AMQP broker"),
              ("%s", self->state->redacted_url));
        }
        continue;
      }

      /* Broker unreachable, or stop() interrupted the connect (the loop
       * then ends on stopping). The one rule of amqpclient.h decides what
       * retrying cannot fix. */
      if (amqp_client_error_is_fatal (self->state->client, err)) {
        /* Post the error first, then wake EOS/render waiters, so the error is
         * on the bus before anything they post. */
        amqp_client_post_error (self->state->client, err, NULL);
        g_error_free (err);
        g_mutex_lock (&self->qlock);
        self->fatal = TRUE;
        g_cond_broadcast (&self->qcond);
        g_mutex_unlock (&self->qlock);
        break;
      }

      g_mutex_lock (&self->qlock);
      if (spool_enabled (self) && !spool_take_memq_locked (self))
        GST_DEBUG_OBJECT (self, "spool full, messages stay in memory");
      g_mutex_unlock (&self->qlock);
      if (amqp_client_woken (self->state->client)) {
        g_error_free (err);
        continue;               /* stopping */
      }
      delay_ms = amqp_client_connect_failed (self->state->client, err, &warn);
      if (warn)
        POST_WARNING (self, ("The AMQP broker is unreachable (attempt %u); retrying",
                amqp_client_failed_attempts (self->state->client)), ("%s: %s", self->state->redacted_url,
                err->message));
      g_error_free (err);

      g_mutex_lock (&self->qlock);
      if (!self->stopping) {
        gint64 until = g_get_monotonic_time () + delay_ms * G_TIME_SPAN_MILLISECOND;
        while (!self->stopping && g_cond_wait_until (&self->qcond, &self->qlock, until));
      }
      g_mutex_unlock (&self->qlock);
      continue;
    }

    /* Connected: publish while the window has room. */
    {
      guint published = 0;
      gboolean lost = FALSE;

      while (g_queue_get_length (&self->state->inflight) < self->state->run.confirm_window
          && !self->blocked && !nack_backoff_active (self)) {
        Msg *m = next_message (self);
        gint rc;

        if (m == NULL)
          break;
        rc = publish_one (self, m);
        if (rc != AMQP_STATUS_OK) {
          gchar *why = g_strdup_printf ("publish failed: %s", amqp_error_string2 (rc));
          g_queue_push_head (&self->state->retry, m);
          disconnect (self, why);
          POST_WARNING (self, ("Lost the connection to the AMQP broker, reconnecting"),
              ("%s", why));
          g_free (why);
          lost = TRUE;
          break;
        }
        published++;
        if (self->state->run.confirms) {
          m->tag = ++self->state->next_tag;
          g_queue_push_tail (&self->state->inflight, m);
        } else {
          complete_ok (self, m);
        }
        /* Confirms that are already there keep the window moving. */
        if ((published & 15) == 0) {
          if (!read_frames (self, 0)) {
            lost = TRUE;
            break;
          }
        }
      }
      if (published) {
        g_mutex_lock (&self->qlock);
        self->st_published += published;
        if (!self->state->run.confirms)
          self->st_confirmed += published;
        if (!self->state->run.confirms)
          self->n_owned -= published;
        g_cond_broadcast (&self->qcond);
        g_mutex_unlock (&self->qlock);
      }
      if (lost)
        continue;
    }

    /* Wait for confirms, or for new work. */
    {
      gboolean window_full = g_queue_get_length (&self->state->inflight) >= self->state->run.confirm_window;
      gboolean work;

      g_mutex_lock (&self->qlock);
      work = have_work_locked (self) || !g_queue_is_empty (&self->state->retry);
      g_mutex_unlock (&self->qlock);
      if (self->blocked || nack_backoff_active (self)) {
        /* Only confirms, connection.unblocked and heartbeats to read until
         * the broker unblocks or the backoff ends. */
        read_frames (self, 20);
        continue;
      }

      if (!g_queue_is_empty (&self->state->inflight) && (window_full || !work)) {
        /* Short waits so new messages and stop requests are seen quickly. */
        if (!read_frames (self, 20))
          continue;
      } else {
        if (!read_frames (self, 0))     /* also services heartbeats */
          continue;
        if (!work) {
          g_mutex_lock (&self->qlock);
          if (!self->stopping && !have_work_locked (self)) {
            gint64 until = g_get_monotonic_time () + 200 * G_TIME_SPAN_MILLISECOND;
            g_cond_wait_until (&self->qcond, &self->qlock, until);
          }
          g_mutex_unlock (&self->qlock);
        }
      }
    }
  }

  if (self->state->conn) {
    /* Last chance for confirms that are on their way. */
    if (!g_queue_is_empty (&self->state->inflight))
      read_frames (self, 0);
    if (self->state->conn)
      disconnect (self, "stopping");
  }
  return NULL;
}

/* ------------------------------------------------------ streaming side ---- */

/* Why a message did not fit, for warnings and errors: the spool's disk
 * (ENOSPC, EIO, ...) or the configured bounds. */
static gchar *
full_reason (GstAmqpSink * self, gint spool_errno)
{
  if (spool_enabled (self) && spool_errno != 0)
    return g_strdup_printf ("cannot write the spool %s: %s, and the memory queue is full "
        "(max-queue=%u, max-queue-bytes=%" G_GUINT64_FORMAT ")", self->state->spool_path,
        g_strerror (spool_errno), self->state->run.max_queue, self->state->run.max_queue_bytes);
  if (spool_enabled (self))
    return g_strdup_printf ("the spool is full (spool-max-bytes=%" G_GUINT64_FORMAT
        ") and so is the memory queue (max-queue=%u, max-queue-bytes=%" G_GUINT64_FORMAT ")",
        self->state->run.spool_max_bytes, self->state->run.max_queue, self->state->run.max_queue_bytes);
  return g_strdup_printf ("the memory queue is full (max-queue=%u, max-queue-bytes=%"
      G_GUINT64_FORMAT ")", self->state->run.max_queue, self->state->run.max_queue_bytes);
}

/* Hand @m to the publishing thread. Takes ownership. */
static GstFlowReturn
enqueue (GstAmqpSink * self, Msg * m)
{
  GstFlowReturn ret = GST_FLOW_OK;
  gboolean warn_drop = FALSE, error_full = FALSE, warn_spool_err = FALSE;
  guint dropped_now = 0;
  gint spool_errno = 0;

  g_mutex_lock (&self->qlock);
  for (;;) {
    gboolean mem_room = memq_has_room_locked (self, m);

    if (self->flushing) {
      ret = GST_FLOW_FLUSHING;
      break;
    }
    if (self->fatal) {
      ret = GST_FLOW_ERROR;
      break;
    }
    if (spool_enabled (self) && (self->state->spool_count > 0 || !mem_room || !self->connected)) {
      /* Order: memory queue first, then this one, all behind the spool. */
      if (spool_take_memq_locked (self)
          && spool_pending_bytes (self) + spool_record_size_of (m) <= self->state->run.spool_max_bytes
          && spool_append_locked (self, m)) {
        m = NULL;
        break;
      }
      if (self->state->spool_errno != 0 && !self->state->spool_err_warned) {
        self->state->spool_err_warned = TRUE;
        warn_spool_err = TRUE;
        spool_errno = self->state->spool_errno;
      }
    }
    /* Without a spool, or when it cannot take it (its disk is full, or its
     * bound is reached while the broker is there to drain memory): the
     * memory queue, if it has room. Everything in memq is newer than the
     * spool, which is replayed first, so the order holds. */
    if (mem_room && (!spool_enabled (self) || self->state->spool_errno != 0 || self->connected)) {
      memq_push_locked (self, m);
      m = NULL;
      break;
    }
    /* Full. */
    if (self->state->run.on_full == GST_AMQP_SINK_ON_FULL_BLOCK) {
      g_cond_wait (&self->qcond, &self->qlock);
      continue;
    }
    spool_errno = self->state->spool_errno;
    if (self->state->run.on_full == GST_AMQP_SINK_ON_FULL_ERROR) {
      error_full = TRUE;
      ret = GST_FLOW_ERROR;
      break;
    }
    self->st_dropped++;
    dropped_now = ++self->state->drops_since_warn;
    warn_drop = dropped_now == 1 || dropped_now % 100 == 0;
    break;
  }
  if (ret == GST_FLOW_OK && m == NULL && !warn_drop)
    self->state->drops_since_warn = 0;
  g_cond_broadcast (&self->qcond);
  g_mutex_unlock (&self->qlock);

  if (warn_spool_err)
    POST_WARNING (self, ("Cannot write the AMQP spool: %s; messages are kept in memory "
            "(max-queue=%u)", g_strerror (spool_errno), self->state->run.max_queue), ("%s",
            self->state->spool_path));
  if (m) {
    gchar *why = full_reason (self, spool_errno);
    if (error_full) {
      GST_ELEMENT_ERROR (self, RESOURCE, NO_SPACE_LEFT,
          ("The AMQP sink cannot queue a message and on-full=error: %s", why),
          ("message %s not queued", m->message_id));
    } else if (warn_drop) {
      POST_WARNING (self, ("The AMQP sink is dropping messages: %s", why),
          ("%u dropped in a row, latest %s", dropped_now, m->message_id));
    }
    g_free (why);
    msg_fail (m, ret == GST_FLOW_FLUSHING ? "amqpsink flushing" :
        "amqpsink queue full, message dropped");
  }
  return ret;
}

static Msg *
msg_new (GstAmqpSink * self, gchar * routing_key, const gchar * content_type,
    GBytes * body, gchar * message_id, EdgefaasAckToken * token)
{
  Msg *m = g_new0 (Msg, 1);
  m->routing_key = routing_key;
  m->content_type = g_strdup (content_type);
  m->body = body;
  m->message_id = message_id;
  m->persistent = self->state->run.persistent;
  m->token = token ? edgefaas_ack_token_ref (token) : NULL;
  return m;
}

/* UTC capture time of @buf: the wall clock minus how long ago, on the
 * pipeline clock, the buffer's running time was. */
static gint64
capture_time_us (GstAmqpSink * self, GstBuffer * buf, GstClockTime * running_time)
{
  GstBaseSink *bs = GST_BASE_SINK (self);
  gint64 now = edgefaas_now_utc_us ();
  GstClockTime rt = GST_CLOCK_TIME_NONE;
  GstClock *clock;
  static GstCaps *unix_caps = NULL;
  GstReferenceTimestampMeta *ref;

  if (g_once_init_enter (&unix_caps)) {
    GstCaps *c = gst_caps_new_empty_simple ("timestamp/x-unix");
    GST_MINI_OBJECT_FLAG_SET (c, GST_MINI_OBJECT_FLAG_MAY_BE_LEAKED);
    g_once_init_leave (&unix_caps, c);
  }

  if (GST_BUFFER_PTS_IS_VALID (buf)) {
    GST_OBJECT_LOCK (self);
    rt = gst_segment_to_running_time (&bs->segment, GST_FORMAT_TIME, GST_BUFFER_PTS (buf));
    GST_OBJECT_UNLOCK (self);
  }
  *running_time = rt;

  ref = gst_buffer_get_reference_timestamp_meta (buf, unix_caps);
  if (ref && GST_CLOCK_TIME_IS_VALID (ref->timestamp))
    return (gint64) (ref->timestamp / 1000);

  clock = gst_element_get_clock (GST_ELEMENT (self));
  if (clock && GST_CLOCK_TIME_IS_VALID (rt)) {
    GstClockTime base = gst_element_get_base_time (GST_ELEMENT (self));
    GstClockTime cnow = gst_clock_get_time (clock);
    if (cnow >= base + rt)
      now -= (gint64) ((cnow - base - rt) / 1000);
  }
  if (clock)
    gst_object_unref (clock);
  return now;
}

/* An event this sink built fails the schema every consumer applies (it
 * would be dead-lettered): not published. Counted in `invalid`, a warning
 * at the 1st and every 100th, the source message (if any) rejected without
 * requeue: redelivering it would give the same event. */
static GstFlowReturn
refuse_invalid (GstAmqpSink * self, const gchar * what, GError * err,
    GstEdgefaasEventMeta * emeta)
{
  guint64 n;

  g_mutex_lock (&self->qlock);
  n = ++self->st_invalid;
  g_mutex_unlock (&self->qlock);
  if (n == 1 || n % 100 == 0)
    GST_ELEMENT_WARNING (self, STREAM, FORMAT, ("Not publishing an invalid %s event: %s",
            what, err->message), ("%" G_GUINT64_FORMAT " invalid so far", n));
  if (emeta && emeta->token)
    edgefaas_ack_token_reject (emeta->token, FALSE, err->message);
  g_error_free (err);
  return GST_FLOW_OK;
}

/* Parses @json back as every consumer will. */
static gboolean
frame_json_valid (const gchar * json, gsize len, GError ** error)
{
  EdgefaasFrameEvent *back = edgefaas_frame_event_from_json (json, (gssize) len, error);
  if (back == NULL)
    return FALSE;
  edgefaas_frame_event_free (back);
  return TRUE;
}

static GstFlowReturn
render_image (GstAmqpSink * self, GstBuffer * buf)
{
  GstEdgefaasEventMeta *emeta = gst_buffer_get_edgefaas_event_meta (buf);
  GstEdgefaasMotionMeta *mmeta = gst_buffer_get_edgefaas_motion_meta (buf);
  g_autoptr (EdgefaasFrameEvent) ev = edgefaas_frame_event_new ();
  GstMapInfo map;
  GBytes *image;
  gpointer state = NULL;
  GstMeta *meta;
  gchar *json;
  gsize json_len;
  Msg *m;
  const gchar *camera;

  if (!gst_buffer_map (buf, &map, GST_MAP_READ)) {
    GST_ELEMENT_ERROR (self, RESOURCE, READ, ("Could not map the input buffer"), (NULL));
    return GST_FLOW_ERROR;
  }
  image = g_bytes_new (map.data, map.size);
  gst_buffer_unmap (buf, &map);

  camera = emeta && emeta->event && emeta->event->camera_id ? emeta->event->camera_id :
      self->state->run.camera_id;
  ev->camera_id = g_strdup (camera);
  ev->sequence = ++self->state->sequence;
  ev->run_id = g_strdup (self->state->run_id);
  ev->capture_time_us = capture_time_us (self, buf, &ev->running_time);
  if (emeta && emeta->event) {
    ev->event_id = emeta->event->event_id;
    ev->trace = emeta->event->trace;
  }
  if (mmeta) {
    ev->event_id = mmeta->event_id;
    ev->motion_score = mmeta->score;
  }
  while ((meta = gst_buffer_iterate_meta_filtered (buf, &state,
              GST_VIDEO_REGION_OF_INTEREST_META_API_TYPE))) {
    GstVideoRegionOfInterestMeta *roi = (GstVideoRegionOfInterestMeta *) meta;
    GstStructure *p;
    EdgefaasBox b = { roi->x, roi->y, roi->w, roi->h, 0.0 };

    if (roi->roi_type != g_quark_from_static_string ("motion"))
      continue;
    p = gst_video_region_of_interest_meta_get_param (roi, "motion");
    if (p)
      gst_structure_get_double (p, "score", &b.score);
    g_array_append_val (ev->motion_boxes, b);
  }
  if (ev->trace.captured_us == 0)
    ev->trace.captured_us = ev->capture_time_us;
  ev->trace.published_us = edgefaas_now_utc_us ();

  ev->frame.media_type = g_strdup (self->state->media_type);
  ev->frame.width = self->state->width;
  ev->frame.height = self->state->height;
  ev->frame.size = g_bytes_get_size (image);
  if (ev->frame.width == 0 || ev->frame.height == 0) {
    /* Caps without width/height (multifilesrc caps=image/jpeg): the
     * image's own header says. */
    gsize sz;
    const guint8 *d = g_bytes_get_data (image, &sz);
    if (!image_size_parse (self->state->media_type, d, sz, &ev->frame.width, &ev->frame.height))
      GST_DEBUG_OBJECT (self, "no size in the caps nor in the image header");
  }
  {
    /* Refuse what consumers would dead-letter before storing anything. */
    GError *err = NULL;
    gsize len;
    gchar *probe;
    gboolean ok;
    if (ev->frame.width == 0 || ev->frame.height == 0) {
      g_set_error (&err, EDGEFAAS_EVENT_ERROR, EDGEFAAS_EVENT_ERROR_FIELD,
          "frame.width/height: unknown (not in the caps, no %s header in the buffer)",
          self->state->media_type);
      g_bytes_unref (image);
      return refuse_invalid (self, "frame", err, emeta);
    }
    ev->frame.is_inline = self->state->run.frame_store == NULL;
    if (ev->frame.is_inline) {
      gsize sz;
      const guint8 *d = g_bytes_get_data (image, &sz);
      ev->frame.sha256 = edgefaas_sha256_hex (d, sz);
    }
    probe = edgefaas_frame_event_to_json (ev, &len);
    if (!ev->frame.is_inline) {
      /* the URI is not known yet: check the rest with a stand-in */
      g_free (probe);
      ev->frame.uri = g_strdup ("file:///frame-store/stand-in.jpg");
      probe = edgefaas_frame_event_to_json (ev, &len);
      g_clear_pointer (&ev->frame.uri, g_free);
    }
    ok = frame_json_valid (probe, len, &err);
    g_free (probe);
    if (!ok) {
      g_bytes_unref (image);
      return refuse_invalid (self, "frame", err, emeta);
    }
  }

  if (self->state->run.frame_store) {
    GError *err = NULL;
    gchar *name = g_strdup_printf ("%" G_GUINT64_FORMAT "-%s-%" G_GUINT64_FORMAT,
        ev->event_id, self->state->run_id, ev->sequence);
    ev->frame.uri = edgefaas_frameref_store (self->state->run.frame_store, camera,
        ev->capture_time_us, name, strcmp (self->state->media_type, "image/png") == 0 ? "png" :
        "jpg", image, &ev->frame.sha256, &err);
    g_free (name);
    g_bytes_unref (image);
    if (ev->frame.uri == NULL) {
      GST_ELEMENT_ERROR (self, RESOURCE, WRITE, ("Could not store the frame in frame-store"),
          ("%s", err ? err->message : "unknown error"));
      g_clear_error (&err);
      return GST_FLOW_ERROR;
    }
    json = edgefaas_frame_event_to_json (ev, &json_len);
    m = msg_new (self, expand_key (self->state->run.routing_key, camera, "frame"),
        "application/json", g_bytes_new_take (json, json_len),
        make_message_id (camera, self->state->run_id, ev->sequence, NULL),
        emeta ? emeta->token : NULL);
    /* Unconfirmed: the retention must not delete it. */
    m->frame_path = g_filename_from_uri (ev->frame.uri, NULL, NULL);
    if (m->frame_path) {
      g_mutex_lock (&self->qlock);
      pending_frame_add_locked (self, m->frame_path);
      g_mutex_unlock (&self->qlock);
    }
  } else {
    json = edgefaas_frame_event_to_json (ev, &json_len);
    m = msg_new (self, expand_key (self->state->run.routing_key, camera, "frame"),
        self->state->media_type, image, make_message_id (camera, self->state->run_id, ev->sequence, NULL),
        emeta ? emeta->token : NULL);
    m->event_header = json;
  }
  GST_LOG_OBJECT (self, "frame event %s (%" G_GSIZE_FORMAT " bytes)", m->message_id,
      g_bytes_get_size (m->body));
  return enqueue (self, m);
}

static GstFlowReturn
render_detections (GstAmqpSink * self, GstBuffer * buf)
{
  GstEdgefaasEventMeta *emeta = gst_buffer_get_edgefaas_event_meta (buf);
  g_autoptr (EdgefaasDetectionEvent) det = edgefaas_detection_event_new ();
  gpointer state = NULL;
  GstMeta *meta;
  const gchar *camera, *top_label = "none";
  gdouble top_conf = -1.0;
  gchar *json;
  gsize json_len;
  GBytes *body;
  GstFlowReturn ret;
  GstClockTime rt;
  gint64 now = edgefaas_now_utc_us ();
  guint width = self->state->width ? self->state->width : 1, height = self->state->height ? self->state->height : 1;

  if (emeta && emeta->event) {
    det->source = edgefaas_frame_event_copy (emeta->event);
    det->camera_id = g_strdup (emeta->event->camera_id ? emeta->event->camera_id :
        self->state->run.camera_id);
    det->event_id = emeta->event->event_id;
    det->sequence = emeta->event->sequence;
    det->run_id = g_strdup (emeta->event->run_id);      /* the source's run */
    det->trace = emeta->event->trace;
    self->state->sequence++;
  } else {
    det->camera_id = g_strdup (self->state->run.camera_id);
    det->sequence = ++self->state->sequence;
    det->run_id = g_strdup (self->state->run_id);
    det->trace.captured_us = capture_time_us (self, buf, &rt);
  }
  camera = det->camera_id;
  det->width = self->state->width;
  det->height = self->state->height;
  if (det->trace.inferred_us == 0)
    det->trace.inferred_us = now;
  det->trace.published_us = now;

  while ((meta = gst_buffer_iterate_meta_filtered (buf, &state,
              GST_VIDEO_REGION_OF_INTEREST_META_API_TYPE))) {
    GstVideoRegionOfInterestMeta *roi = (GstVideoRegionOfInterestMeta *) meta;
    GstStructure *p = gst_video_region_of_interest_meta_get_param (roi, "detection");
    EdgefaasDetection d = { 0 };
    const gchar *label;

    if (roi->roi_type == g_quark_from_static_string ("motion"))
      continue;
    label = p ? gst_structure_get_string (p, "label") : NULL;
    d.label = g_strdup (label ? label : g_quark_to_string (roi->roi_type));
    d.label_id = -1;
    d.x_min = (gdouble) roi->x / width;
    d.y_min = (gdouble) roi->y / height;
    d.x_max = (gdouble) (roi->x + roi->w) / width;
    d.y_max = (gdouble) (roi->y + roi->h) / height;
    if (p) {
      gst_structure_get_int (p, "label_id", &d.label_id);
      gst_structure_get_double (p, "confidence", &d.confidence);
      gst_structure_get_double (p, "x_min", &d.x_min);
      gst_structure_get_double (p, "y_min", &d.y_min);
      gst_structure_get_double (p, "x_max", &d.x_max);
      gst_structure_get_double (p, "y_max", &d.y_max);
    }
    g_array_append_val (det->detections, d);
  }
  for (guint i = 0; i < det->detections->len; i++) {
    EdgefaasDetection *d = &g_array_index (det->detections, EdgefaasDetection, i);
    if (d->confidence > top_conf) {
      top_conf = d->confidence;
      top_label = d->label;
    }
  }
  state = NULL;
  while ((meta = gst_buffer_iterate_meta_filtered (buf, &state,
              GST_EDGEFAAS_SITUATION_META_API_TYPE))) {
    GstEdgefaasSituationMeta *sm = (GstEdgefaasSituationMeta *) meta;
    EdgefaasSituation s;
    edgefaas_situation_copy_into (&sm->situation, &s);
    g_array_append_val (det->situations, s);
  }

  json = edgefaas_detection_event_to_json (det, &json_len);
  {
    GError *err = NULL;
    EdgefaasDetectionEvent *back = edgefaas_detection_event_from_json (json,
        (gssize) json_len, &err);
    if (back == NULL) {
      g_free (json);
      return refuse_invalid (self, "detection", err, emeta);
    }
    edgefaas_detection_event_free (back);
  }
  body = g_bytes_new_take (json, json_len);

  ret = enqueue (self, msg_new (self, expand_key (self->state->run.routing_key, camera, top_label),
          "application/json", g_bytes_ref (body), make_message_id (camera, det->run_id,
              det->sequence, "detection"), emeta ? emeta->token : NULL));

  for (guint i = 0; ret == GST_FLOW_OK && i < det->situations->len; i++) {
    EdgefaasSituation *s = &g_array_index (det->situations, EdgefaasSituation, i);
    gchar *suffix = g_strdup_printf ("alert:%s", s->name);
    Msg *m = msg_new (self, g_strdup_printf ("alerts.%s.%s", s->name, camera),
        "application/json", g_bytes_ref (body), make_message_id (camera, det->run_id,
            det->sequence, suffix), emeta ? emeta->token : NULL);
    g_free (suffix);
    m->alert = g_strdup (s->name);
    ret = enqueue (self, m);
  }
  g_bytes_unref (body);
  return ret;
}

static GstFlowReturn
render_json (GstAmqpSink * self, GstBuffer * buf)
{
  GstEdgefaasEventMeta *emeta = gst_buffer_get_edgefaas_event_meta (buf);
  GstMapInfo map;
  GBytes *body;
  const gchar *camera = emeta && emeta->event && emeta->event->camera_id ?
      emeta->event->camera_id : self->state->run.camera_id;

  if (!gst_buffer_map (buf, &map, GST_MAP_READ)) {
    GST_ELEMENT_ERROR (self, RESOURCE, READ, ("Could not map the input buffer"), (NULL));
    return GST_FLOW_ERROR;
  }
  body = g_bytes_new (map.data, map.size);
  gst_buffer_unmap (buf, &map);
  self->state->sequence++;
  return enqueue (self, msg_new (self, expand_key (self->state->run.routing_key, camera, "json"),
          "application/json", body, make_message_id (camera, self->state->run_id, self->state->sequence,
              "json"), emeta ? emeta->token : NULL));
}

static GstFlowReturn
gst_amqp_sink_render (GstBaseSink * sink, GstBuffer * buf)
{
  GstAmqpSink *self = GST_AMQP_SINK (sink);

  switch (self->state->input) {
    case INPUT_IMAGE:
      return render_image (self, buf);
    case INPUT_RAW:
      return render_detections (self, buf);
    case INPUT_JSON:
      return render_json (self, buf);
    default:
      GST_ELEMENT_ERROR (self, CORE, NEGOTIATION, ("No caps set before data"), (NULL));
      return GST_FLOW_NOT_NEGOTIATED;
  }
}

static gboolean
gst_amqp_sink_set_caps (GstBaseSink * sink, GstCaps * caps)
{
  GstAmqpSink *self = GST_AMQP_SINK (sink);
  GstStructure *s = gst_caps_get_structure (caps, 0);
  const gchar *name = gst_structure_get_name (s);
  GstVideoInfo vinfo;
  InputKind input;
  gint w = 0, h = 0;

  /* Nothing changes until the caps are known to be good: refused caps
   * leave the previous media type and size in place. */
  gst_structure_get_int (s, "width", &w);
  gst_structure_get_int (s, "height", &h);
  if (g_str_equal (name, "image/jpeg") || g_str_equal (name, "image/png")) {
    input = INPUT_IMAGE;
  } else if (g_str_equal (name, "video/x-raw")) {
    input = INPUT_RAW;
    if (!gst_video_info_from_caps (&vinfo, caps)) {
      GST_ELEMENT_ERROR (self, CORE, NEGOTIATION, ("Invalid video caps"), ("%" GST_PTR_FORMAT,
              caps));
      return FALSE;
    }
    w = GST_VIDEO_INFO_WIDTH (&vinfo);
    h = GST_VIDEO_INFO_HEIGHT (&vinfo);
    self->state->vinfo = vinfo;
  } else if (g_str_equal (name, "application/json")) {
    input = INPUT_JSON;
  } else {
    GST_ELEMENT_ERROR (self, CORE, NEGOTIATION, ("Unsupported caps"), ("%" GST_PTR_FORMAT,
            caps));
    return FALSE;
  }
  self->state->input = input;
  g_free (self->state->media_type);
  self->state->media_type = g_strdup (name);
  self->state->width = w > 0 ? w : 0;
  self->state->height = h > 0 ? h : 0;
  return TRUE;
}

/* ------------------------------------------------ EOS, unlock, state ---- */

static gboolean
drained_locked (GstAmqpSink * self)
{
  return g_queue_is_empty (&self->state->memq) && self->state->spool_count == 0 && self->n_owned == 0;
}

/* EOS with messages left: move what is in memory to the spool now; what it
 * cannot take (disk full) would be lost at stop, when the bus may no longer
 * deliver a warning, so warn here. */
static void
warn_unspoolable_at_eos (GstAmqpSink * self)
{
  guint n_mem;
  gint err;

  g_mutex_lock (&self->qlock);
  spool_take_memq_locked (self);
  n_mem = g_queue_get_length (&self->state->memq);
  err = self->state->spool_errno;
  g_mutex_unlock (&self->qlock);
  if (n_mem > 0 && err != 0)
    POST_WARNING (self, ("EOS: %u message(s) could not be written to the spool (%s); they "
            "are lost unless the broker confirms them before the element stops", n_mem,
            g_strerror (err)), ("%s", self->state->spool_path));
}

static gboolean
gst_amqp_sink_event (GstBaseSink * sink, GstEvent * event)
{
  GstAmqpSink *self = GST_AMQP_SINK (sink);

  if (GST_EVENT_TYPE (event) == GST_EVENT_EOS) {
    gint64 start = g_get_monotonic_time ();
    gint64 until = start + (gint64) self->state->run.flush_timeout_ms * G_TIME_SPAN_MILLISECOND;
    gboolean drained, interrupted = FALSE, fatal;
    guint left = 0;

    g_mutex_lock (&self->qlock);
    while (!(drained = drained_locked (self)) && !self->flushing && !self->fatal) {
      if (!g_cond_wait_until (&self->qcond, &self->qlock, until))
        break;
    }
    drained = drained_locked (self);
    interrupted = self->flushing;
    fatal = self->fatal;
    if (!drained)
      left = g_queue_get_length (&self->state->memq) + self->state->spool_count + self->n_owned;
    g_mutex_unlock (&self->qlock);

    if (!drained && !interrupted && !fatal && spool_enabled (self))
      warn_unspoolable_at_eos (self);
    if (fatal) {
      /* The error is already posted: no EOS that would look like success. */
      gst_event_unref (event);
      return FALSE;
    }
    if (drained) {
      GST_DEBUG_OBJECT (self, "EOS: all confirmed after %" G_GINT64_FORMAT " ms",
          (g_get_monotonic_time () - start) / 1000);
    } else if (!interrupted) {
      POST_WARNING (self, ("EOS: %u message(s) not confirmed by the broker within "
              "flush-timeout", left), ("flush-timeout=%u ms; %s", self->state->run.flush_timeout_ms,
              spool_enabled (self) ? "they stay in the spool for the next run" :
              "they are lost"));
    }
  }
  return GST_BASE_SINK_CLASS (gst_amqp_sink_parent_class)->event (sink, event);
}

static gboolean
gst_amqp_sink_unlock (GstBaseSink * sink)
{
  GstAmqpSink *self = GST_AMQP_SINK (sink);
  g_mutex_lock (&self->qlock);
  self->flushing = TRUE;
  g_cond_broadcast (&self->qcond);
  g_mutex_unlock (&self->qlock);
  return TRUE;
}

static gboolean
gst_amqp_sink_unlock_stop (GstBaseSink * sink)
{
  GstAmqpSink *self = GST_AMQP_SINK (sink);
  g_mutex_lock (&self->qlock);
  self->flushing = FALSE;
  g_mutex_unlock (&self->qlock);
  return TRUE;
}

/* Free what start() set up for a run (spool file, parsed connection
 * parameters with the password, derived strings). stop() and a failed
 * start() both end here. */
static void
clear_run_state (GstAmqpSink * self)
{
  State *st = self->state;

  if (st == NULL)
    return;
  if (self->state->spool_fd >= 0) {
    close (self->state->spool_fd);
    self->state->spool_fd = -1;
  }
  spool_reject_tokens (self, "amqpsink stopped");
  self->state->spool_count = 0;
  self->state->spool_read_off = self->state->spool_write_off = 0;
  g_clear_pointer (&self->state->spool_path, g_free);
  g_clear_pointer (&self->state->redacted_url, g_free);
  g_clear_pointer (&self->state->bind_key, g_free);
  g_clear_pointer (&self->state->media_type, g_free);
  g_clear_pointer (&self->state->run_id, g_free);
  g_hash_table_unref (st->pending_frames);
  edgefaas_amqp_params_clear (&st->params);
  g_clear_pointer (&st->client, amqp_client_free);
  settings_clear (&st->run);
  /* stop() emptied them (a failed start() never filled them). */
  g_warn_if_fail (g_queue_is_empty (&st->memq) && g_queue_is_empty (&st->inflight)
      && g_queue_is_empty (&st->retry));
  /* make_stats() (any thread) reads the state under qlock. */
  g_mutex_lock (&self->qlock);
  self->state = NULL;
  g_mutex_unlock (&self->qlock);
  g_free (st);
}

static State *
state_new (void)
{
  State *st = g_new0 (State, 1);
  g_queue_init (&st->memq);
  st->pending_frames = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_queue_init (&st->spool_tokens);
  g_queue_init (&st->inflight);
  g_queue_init (&st->retry);
  st->spool_fd = -1;
  return st;
}

static gboolean
gst_amqp_sink_start (GstBaseSink * sink)
{
  GstAmqpSink *self = GST_AMQP_SINK (sink);
  GError *err = NULL;

  self->state = state_new ();
  GST_OBJECT_LOCK (self);
  settings_copy (&self->state->run, &self->settings);
  GST_OBJECT_UNLOCK (self);

  if (!edgefaas_amqp_settings_to_params (&self->state->run.amqp, &self->state->params, &err)) {
    edgefaas_amqp_settings_post_error (GST_ELEMENT (self), &self->state->run.amqp, &self->state->params, err);
    g_error_free (err);
    goto fail;
  }
  self->state->redacted_url = edgefaas_amqp_params_redacted_url (&self->state->params);
  self->state->client = amqp_client_new (GST_ELEMENT (self), &self->state->params, GST_RESOURCE_ERROR_WRITE);
  if (self->state->run.declare && (self->state->run.queue == NULL || *self->state->run.queue == '\0')
      && (self->state->run.exchange == NULL || *self->state->run.exchange == '\0')) {
    GST_ELEMENT_ERROR (self, RESOURCE, SETTINGS, ("declare=true needs an exchange or a queue"),
        (NULL));
    goto fail;
  }
  if (self->state->run.frame_store && g_mkdir_with_parents (self->state->run.frame_store, 0755) != 0) {
    GST_ELEMENT_ERROR (self, RESOURCE, OPEN_WRITE, ("Cannot create the frame-store directory"),
        ("%s: %s", self->state->run.frame_store, g_strerror (errno)));
    goto fail;
  }
  /* The binding key. On a topic exchange {camera} and {label} are wildcards
   * (the camera can come from the source event, the label varies); otherwise
   * camera-id and "frame". */
  if (self->state->run.exchange_type == GST_AMQP_SINK_EXCHANGE_TOPIC)
    self->state->bind_key = expand_key (self->state->run.routing_key, "*", "*");
  else
    self->state->bind_key = expand_key (self->state->run.routing_key, self->state->run.camera_id, "frame");

  self->state->spool_fd = -1;
  if (self->state->run.spool_dir && *self->state->run.spool_dir && !spool_open (self, &err)) {
    GST_ELEMENT_ERROR (self, RESOURCE, OPEN_WRITE, ("Cannot open the AMQP spool"), ("%s",
            err->message));
    g_error_free (err);
    goto fail;
  }

  self->state->sequence = 0;
  self->state->run_id = g_strdup_printf ("%08x%08x", g_random_int (), g_random_int ());
  self->state->input = INPUT_NONE;
  self->stopping = FALSE;
  self->fatal = FALSE;
  self->connected = FALSE;
  self->sockfd = -1;
  self->n_owned = 0;
  self->state->drops_since_warn = 0;
  self->state->memq_bytes = 0;
  self->st_published = self->st_confirmed = self->st_nacked = self->st_spooled =
      self->st_replayed = self->st_dropped = self->st_reconnects = self->st_republished = self->st_unroutable = self->st_blocked = 0;
  self->st_frames_deleted = 0;
  self->st_invalid = 0;
  self->state->last_prune_us = 0;
  self->blocked = FALSE;
  self->state->nack_backoff_ms = 0;
  self->state->retry_not_before = 0;
  self->state->last_nack_warn_us = 0;
  self->state->nacks_at_last_warn = 0;
  GST_INFO_OBJECT (self, "publishing to %s exchange '%s' key '%s'", self->state->redacted_url,
      self->state->run.exchange, self->state->run.routing_key);

  self->state->thread = g_thread_try_new ("amqpsink-pub", publisher_thread, self, &err);
  if (self->state->thread == NULL) {
    GST_ELEMENT_ERROR (self, RESOURCE, FAILED, ("Cannot start the publishing thread"), ("%s",
            err->message));
    g_error_free (err);
    goto fail;
  }
  return TRUE;

fail:
  /* BaseSink does not call stop() after a failed start(): free what start()
   * made so far (the password too) here. */
  clear_run_state (self);
  return FALSE;
}

/* Rewrite the spool as: @front (oldest), the pending spool, the memory queue.
 * Consumes @front and the memory queue. If the new file cannot be written
 * (disk full), the old spool file (with the pending records) stays and the
 * messages of @front and memory are lost: counted in `dropped` and reported. */
static void
spool_persist_leftovers (GstAmqpSink * self, GQueue * front)
{
  gchar *tmp = g_strdup_printf ("%s.tmp", self->state->spool_path);
  gint fd = open (tmp, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  guint n = 0, n_front = g_queue_get_length (front), n_mem = g_queue_get_length (&self->state->memq);
  guint64 off = self->state->spool_read_off;
  guint left = self->state->spool_count, pending = self->state->spool_count;
  gint err = fd >= 0 ? 0 : errno;
  Msg *m;

  for (GList * l = front->head; l && err == 0; l = l->next, n++)
    if (spool_write_record (fd, l->data) == 0)
      err = errno ? errno : EIO;
  while (err == 0 && left > 0) {
    gsize size = 0;
    Msg *r = spool_read_record (self->state->spool_fd, off, self->state->spool_write_off, &size);
    if (r == NULL)
      break;                    /* corrupt tail: what follows is lost anyway */
    off += size;
    left--;
    if (spool_write_record (fd, r) == 0)
      err = errno ? errno : EIO;
    n++;
    msg_free (r);
  }
  for (GList * l = self->state->memq.head; l && err == 0; l = l->next, n++)
    if (spool_write_record (fd, l->data) == 0)
      err = errno ? errno : EIO;
  if (err == 0 && fsync (fd) != 0)
    err = errno;
  if (err == 0 && rename (tmp, self->state->spool_path) != 0)
    err = errno;
  if (fd >= 0)
    close (fd);

  /* None of them will be confirmed in this run: requeue the sources. */
  while ((m = g_queue_pop_head (front)))
    msg_fail (m, "amqpsink stopped before the broker confirmed");
  while ((m = memq_pop_locked (self)))
    msg_fail (m, "amqpsink stopped before the broker confirmed");
  spool_reject_tokens (self, "amqpsink stopped before the broker confirmed");
  self->state->spool_count = 0;

  if (err == 0) {
    GST_INFO_OBJECT (self, "%u unconfirmed message(s) kept in %s for the next run", n,
        self->state->spool_path);
  } else {
    guint lost = n_front + n_mem;
    unlink (tmp);
    g_mutex_lock (&self->qlock);
    self->st_dropped += lost;
    g_mutex_unlock (&self->qlock);
    /* The bus may already be flushing (PAUSED->READY of a set_state(NULL));
     * EOS warned earlier if memory held messages the spool could not take. */
    GST_ERROR_OBJECT (self, "%u message(s) lost at stop: cannot write the spool %s: %s",
        lost, tmp, g_strerror (err));
    GST_ELEMENT_WARNING (self, RESOURCE, WRITE, ("%u unconfirmed message(s) are lost: cannot "
            "write the spool: %s", lost, g_strerror (err)), ("%s; the %u record(s) already "
            "in %s are kept", tmp, pending, self->state->spool_path));
  }
  g_free (tmp);
}

static gboolean
gst_amqp_sink_stop (GstBaseSink * sink)
{
  GstAmqpSink *self = GST_AMQP_SINK (sink);
  GQueue left = G_QUEUE_INIT;
  guint lost = 0;
  Msg *m;

  if (self->state == NULL)
    return TRUE;
  if (self->state->thread) {
    gint64 until;
    /* A connect in progress (a broker that accepts TCP and never answers)
     * ends at once. */
    amqp_client_wakeup (self->state->client);
    g_mutex_lock (&self->qlock);
    self->stopping = TRUE;
    g_cond_broadcast (&self->qcond);
    /* A publish blocked in a socket write (broker applying back-pressure)
     * would not see the flag: give it a moment, then cut the socket. */
    until = g_get_monotonic_time () + STOP_GRACE_MS * G_TIME_SPAN_MILLISECOND;
    while (self->sockfd >= 0 && g_get_monotonic_time () < until) {
      g_mutex_unlock (&self->qlock);
      g_usleep (10 * 1000);
      g_mutex_lock (&self->qlock);
    }
    if (self->sockfd >= 0)
      shutdown (self->sockfd, SHUT_RDWR);
    g_mutex_unlock (&self->qlock);
    g_thread_join (self->state->thread);
    self->state->thread = NULL;
  }
  if (self->state->conn) {
    edgefaas_amqp_conn_close (self->state->conn);
    self->state->conn = NULL;
  }

  /* What was never confirmed, oldest first. */
  while ((m = g_queue_pop_head (&self->state->inflight)))
    g_queue_push_tail (&left, m);
  while ((m = g_queue_pop_head (&self->state->retry)))
    g_queue_push_tail (&left, m);

  if (spool_enabled (self)) {
    if (!g_queue_is_empty (&left) || !g_queue_is_empty (&self->state->memq))
      spool_persist_leftovers (self, &left);
  } else {
    lost = g_queue_get_length (&left) + g_queue_get_length (&self->state->memq);
    while ((m = g_queue_pop_head (&left)))
      msg_fail (m, "amqpsink stopped before the broker confirmed");
    while ((m = memq_pop_locked (self)))
      msg_fail (m, "amqpsink stopped before the broker confirmed");
    if (lost) {
      g_mutex_lock (&self->qlock);
      self->st_dropped += lost;
      g_mutex_unlock (&self->qlock);
      GST_ELEMENT_WARNING (self, RESOURCE, WRITE, ("%u message(s) were not confirmed by the "
              "broker and are lost (set spool-dir to keep them)", lost), (NULL));
    }
  }
  clear_run_state (self);
  self->n_owned = 0;
  self->connected = FALSE;
  return TRUE;
}

static GstStructure *
make_stats (GstAmqpSink * self)
{
  GstStructure *s;
  State *st;
  g_mutex_lock (&self->qlock);
  st = self->state;             /* NULL outside start() .. stop() */
  s = gst_structure_new ("amqpsink-stats",
      "published", G_TYPE_UINT64, self->st_published,
      "confirmed", G_TYPE_UINT64, self->st_confirmed,
      "nacked", G_TYPE_UINT64, self->st_nacked,
      "republished", G_TYPE_UINT64, self->st_republished,
      "unroutable", G_TYPE_UINT64, self->st_unroutable,
      "spooled", G_TYPE_UINT64, self->st_spooled,
      "replayed", G_TYPE_UINT64, self->st_replayed,
      "dropped", G_TYPE_UINT64, self->st_dropped,
      "reconnects", G_TYPE_UINT64, self->st_reconnects,
      "frames-deleted", G_TYPE_UINT64, self->st_frames_deleted,
      "invalid", G_TYPE_UINT64, self->st_invalid,
      "blocked-count", G_TYPE_UINT64, self->st_blocked,
      "queued", G_TYPE_UINT, st ? g_queue_get_length (&st->memq) : 0,
      "queued-bytes", G_TYPE_UINT64, st ? st->memq_bytes : 0,
      "in-flight", G_TYPE_UINT, self->n_owned,
      "spool-messages", G_TYPE_UINT, st ? st->spool_count : 0,
      "spool-bytes", G_TYPE_UINT64, st && spool_enabled (self) ? spool_pending_bytes (self) : 0,
      "connected", G_TYPE_BOOLEAN, self->connected,
      "blocked", G_TYPE_BOOLEAN, self->blocked, NULL);
  g_mutex_unlock (&self->qlock);
  return s;
}

/* ---------------------------------------------------------- properties ---- */

static void
set_string (gchar ** field, const GValue * value)
{
  g_free (*field);
  *field = g_value_dup_string (value);
}

static void
gst_amqp_sink_set_property (GObject * object, guint prop_id, const GValue * value,
    GParamSpec * pspec)
{
  GstAmqpSink *self = GST_AMQP_SINK (object);
  Settings *s = &self->settings;

  GST_OBJECT_LOCK (self);
  if (GST_STATE (self) > GST_STATE_READY && prop_id != PROP_STATS) {
    GST_OBJECT_UNLOCK (self);
    GST_WARNING_OBJECT (self, "cannot change property '%s' while running", pspec->name);
    return;
  }
  if (edgefaas_amqp_settings_set_property (&s->amqp, object, PROP_AMQP_FIRST, prop_id, value)) {
    GST_OBJECT_UNLOCK (self);
    return;
  }
  switch (prop_id) {
    case PROP_EXCHANGE:
      g_free (s->exchange);
      s->exchange = g_strdup (g_value_get_string (value) ? g_value_get_string (value) : "");
      break;
    case PROP_EXCHANGE_TYPE:
      s->exchange_type = g_value_get_enum (value);
      break;
    case PROP_ROUTING_KEY:
      g_free (s->routing_key);
      s->routing_key = g_strdup (g_value_get_string (value) ? g_value_get_string (value) : "");
      break;
    case PROP_QUEUE:
      set_string (&s->queue, value);
      break;
    case PROP_DECLARE:
      s->declare = g_value_get_boolean (value);
      break;
    case PROP_PERSISTENT:
      s->persistent = g_value_get_boolean (value);
      break;
    case PROP_CONFIRMS:
      s->confirms = g_value_get_boolean (value);
      break;
    case PROP_CONFIRM_WINDOW:
      s->confirm_window = g_value_get_uint (value);
      break;
    case PROP_CAMERA_ID:
      g_free (s->camera_id);
      s->camera_id = g_strdup (g_value_get_string (value) ? g_value_get_string (value) :
          DEFAULT_CAMERA_ID);
      break;
    case PROP_FRAME_STORE:
      /* "" means unset (inline frames), as an empty frame-root does on amqpsrc:
       * lets pipeline files write frame-store="${FRAME_STORE:-}". */
      set_string (&s->frame_store, value);
      if (s->frame_store && *s->frame_store == '\0')
        g_clear_pointer (&s->frame_store, g_free);
      break;
    case PROP_SPOOL_DIR:
      set_string (&s->spool_dir, value);
      break;
    case PROP_SPOOL_MAX_BYTES:
      s->spool_max_bytes = g_value_get_uint64 (value);
      break;
    case PROP_ON_FULL:
      s->on_full = g_value_get_enum (value);
      break;
    case PROP_FLUSH_TIMEOUT:
      s->flush_timeout_ms = g_value_get_uint (value);
      break;
    case PROP_MAX_QUEUE:
      s->max_queue = g_value_get_uint (value);
      break;
    case PROP_ON_NACK:
      s->on_nack = g_value_get_enum (value);
      break;
    case PROP_MAX_QUEUE_BYTES:
      s->max_queue_bytes = g_value_get_uint64 (value);
      break;
    case PROP_FRAME_STORE_MAX_AGE:
      s->frame_store_max_age = g_value_get_uint (value);
      break;
    case PROP_FRAME_STORE_MAX_BYTES:
      s->frame_store_max_bytes = g_value_get_uint64 (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

static void
gst_amqp_sink_get_property (GObject * object, guint prop_id, GValue * value,
    GParamSpec * pspec)
{
  GstAmqpSink *self = GST_AMQP_SINK (object);
  Settings *s = &self->settings;

  if (prop_id == PROP_STATS) {
    g_value_take_boxed (value, make_stats (self));
    return;
  }
  GST_OBJECT_LOCK (self);
  if (edgefaas_amqp_settings_get_property (&s->amqp, PROP_AMQP_FIRST, prop_id, value)) {
    GST_OBJECT_UNLOCK (self);
    return;
  }
  switch (prop_id) {
    case PROP_EXCHANGE:
      g_value_set_string (value, s->exchange);
      break;
    case PROP_EXCHANGE_TYPE:
      g_value_set_enum (value, s->exchange_type);
      break;
    case PROP_ROUTING_KEY:
      g_value_set_string (value, s->routing_key);
      break;
    case PROP_QUEUE:
      g_value_set_string (value, s->queue);
      break;
    case PROP_DECLARE:
      g_value_set_boolean (value, s->declare);
      break;
    case PROP_PERSISTENT:
      g_value_set_boolean (value, s->persistent);
      break;
    case PROP_CONFIRMS:
      g_value_set_boolean (value, s->confirms);
      break;
    case PROP_CONFIRM_WINDOW:
      g_value_set_uint (value, s->confirm_window);
      break;
    case PROP_CAMERA_ID:
      g_value_set_string (value, s->camera_id);
      break;
    case PROP_FRAME_STORE:
      g_value_set_string (value, s->frame_store);
      break;
    case PROP_SPOOL_DIR:
      g_value_set_string (value, s->spool_dir);
      break;
    case PROP_SPOOL_MAX_BYTES:
      g_value_set_uint64 (value, s->spool_max_bytes);
      break;
    case PROP_ON_FULL:
      g_value_set_enum (value, s->on_full);
      break;
    case PROP_FLUSH_TIMEOUT:
      g_value_set_uint (value, s->flush_timeout_ms);
      break;
    case PROP_MAX_QUEUE:
      g_value_set_uint (value, s->max_queue);
      break;
    case PROP_ON_NACK:
      g_value_set_enum (value, s->on_nack);
      break;
    case PROP_MAX_QUEUE_BYTES:
      g_value_set_uint64 (value, s->max_queue_bytes);
      break;
    case PROP_FRAME_STORE_MAX_AGE:
      g_value_set_uint (value, s->frame_store_max_age);
      break;
    case PROP_FRAME_STORE_MAX_BYTES:
      g_value_set_uint64 (value, s->frame_store_max_bytes);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

static void
gst_amqp_sink_finalize (GObject * object)
{
  GstAmqpSink *self = GST_AMQP_SINK (object);
  settings_clear (&self->settings);
  g_mutex_clear (&self->qlock);
  g_cond_clear (&self->qcond);
  G_OBJECT_CLASS (gst_amqp_sink_parent_class)->finalize (object);
}

#define PARAM_READY (G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_READY)

static void
gst_amqp_sink_class_init (GstAmqpSinkClass * klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);
  GstBaseSinkClass *bs_class = GST_BASE_SINK_CLASS (klass);

  gobject_class->set_property = gst_amqp_sink_set_property;
  gobject_class->get_property = gst_amqp_sink_get_property;
  gobject_class->finalize = gst_amqp_sink_finalize;

  /* url, password-env, credentials-file, tls-ca, tls-cert, tls-key, tls-verify */
  edgefaas_amqp_settings_install_properties (gobject_class, PROP_AMQP_FIRST);
  /**
   * GstAmqpSink:exchange:
   *
   * Exchange to publish to; "" is the default exchange (routing key = queue).
   */
  g_object_class_install_property (gobject_class, PROP_EXCHANGE,
      g_param_spec_string ("exchange", "Exchange",
          "Exchange to publish to (\"\" = the default exchange)", DEFAULT_EXCHANGE,
          PARAM_READY));
  /**
   * GstAmqpSink:exchange-type:
   *
   * Type of the exchange declared when #GstAmqpSink:declare is true.
   */
  g_object_class_install_property (gobject_class, PROP_EXCHANGE_TYPE,
      g_param_spec_enum ("exchange-type", "Exchange type",
          "Type of the exchange declared with declare=true", GST_TYPE_AMQP_SINK_EXCHANGE_TYPE,
          DEFAULT_EXCHANGE_TYPE, PARAM_READY));
  /**
   * GstAmqpSink:routing-key:
   *
   * Routing key; `{camera}` becomes the camera id and `{label}` the
   * most confident detection label ("none" without detections, "frame" for
   * frames, "json" for JSON input). Alerts always use
   * `alerts.<situation>.<camera>`.
   */
  g_object_class_install_property (gobject_class, PROP_ROUTING_KEY,
      g_param_spec_string ("routing-key", "Routing key",
          "Routing key; {camera} and {label} are substituted", DEFAULT_ROUTING_KEY,
          PARAM_READY));
  /**
   * GstAmqpSink:queue:
   *
   * Queue declared and bound (with #GstAmqpSink:declare), with its dead-letter
   * exchange `<queue>.dlx` and queue `<queue>.dead`.
   */
  g_object_class_install_property (gobject_class, PROP_QUEUE,
      g_param_spec_string ("queue", "Queue",
          "Queue to declare and bind to the exchange with the routing key (declare=true)",
          DEFAULT_QUEUE, PARAM_READY));
  /**
   * GstAmqpSink:declare:
   *
   * Declare the durable exchange, the queue (bound with the routing key, where
   * `{label}` is `*` on a topic exchange) and its dead-letter exchange/queue on
   * every (re)connection.
   */
  g_object_class_install_property (gobject_class, PROP_DECLARE,
      g_param_spec_boolean ("declare", "Declare",
          "Declare exchange, queue, binding and dead-letter exchange/queue on connect",
          DEFAULT_DECLARE, PARAM_READY));
  /**
   * GstAmqpSink:persistent:
   *
   * Publish with delivery-mode 2 (persistent).
   */
  g_object_class_install_property (gobject_class, PROP_PERSISTENT,
      g_param_spec_boolean ("persistent", "Persistent",
          "Publish persistent messages (delivery-mode 2)", DEFAULT_PERSISTENT, PARAM_READY));
  /**
   * GstAmqpSink:confirms:
   *
   * Use publisher confirms; a message counts as delivered only once the broker
   * acknowledged it.
   */
  g_object_class_install_property (gobject_class, PROP_CONFIRMS,
      g_param_spec_boolean ("confirms", "Publisher confirms",
          "Wait for publisher confirms (a message is delivered once the broker acked it)",
          DEFAULT_CONFIRMS, PARAM_READY));
  /**
   * GstAmqpSink:confirm-window:
   *
   * Maximum number of published messages awaiting a confirm.
   */
  g_object_class_install_property (gobject_class, PROP_CONFIRM_WINDOW,
      g_param_spec_uint ("confirm-window", "Confirm window",
          "Maximum number of published messages awaiting a confirm", 1, 65535,
          DEFAULT_CONFIRM_WINDOW, PARAM_READY));
  /**
   * GstAmqpSink:camera-id:
   *
   * Camera id put in events (unless the buffer carries a source event).
   */
  g_object_class_install_property (gobject_class, PROP_CAMERA_ID,
      g_param_spec_string ("camera-id", "Camera id",
          "Camera id for events and {camera} in routing keys", DEFAULT_CAMERA_ID,
          PARAM_READY));
  /**
   * GstAmqpSink:frame-store:
   *
   * Directory where frames are stored (then published by reference); unset or
   * empty = frames travel inline in the message body.
   */
  g_object_class_install_property (gobject_class, PROP_FRAME_STORE,
      g_param_spec_string ("frame-store", "Frame store",
          "Directory to store frames in, published as file:// references (unset = inline)",
          DEFAULT_FRAME_STORE, PARAM_READY));
  /**
   * GstAmqpSink:frame-store-max-age:
   *
   * Retention of #GstAmqpSink:frame-store: frame files older than this many
   * seconds (by mtime) are deleted, checked every 10 s. 0 (default) = kept
   * forever. A frame whose event the broker has not confirmed yet (in memory,
   * in the spool, in flight; also records spooled by an earlier run) is never
   * deleted, nor one stored in the last 5 s. Once confirmed, a frame may still
   * be waiting in a queue for its consumer: choose an age well above the
   * longest expected backlog.
   */
  g_object_class_install_property (gobject_class, PROP_FRAME_STORE_MAX_AGE,
      g_param_spec_uint ("frame-store-max-age", "Frame store max age",
          "Delete frame-store files older than this many seconds whose event is confirmed "
          "(0 = keep forever)", 0, G_MAXUINT, DEFAULT_FRAME_STORE_MAX_AGE, PARAM_READY));
  /**
   * GstAmqpSink:frame-store-max-bytes:
   *
   * Retention of #GstAmqpSink:frame-store: while its frame files total more
   * than this, the oldest are deleted (same rules as
   * #GstAmqpSink:frame-store-max-age: never an unconfirmed or very recent
   * frame). 0 (default) = no size bound.
   */
  g_object_class_install_property (gobject_class, PROP_FRAME_STORE_MAX_BYTES,
      g_param_spec_uint64 ("frame-store-max-bytes", "Frame store max bytes",
          "Delete the oldest confirmed frame-store files while they total more than this "
          "(0 = no bound)", 0, G_MAXUINT64, DEFAULT_FRAME_STORE_MAX_BYTES, PARAM_READY));
  /**
   * GstAmqpSink:spool-dir:
   *
   * Directory for the on-disk spool used while the broker is unreachable
   * (file `<element name>.spool`); unset = no spool.
   */
  g_object_class_install_property (gobject_class, PROP_SPOOL_DIR,
      g_param_spec_string ("spool-dir", "Spool directory",
          "Directory for the on-disk spool used while the broker is unreachable (unset = none)",
          DEFAULT_SPOOL_DIR, PARAM_READY));
  /**
   * GstAmqpSink:spool-max-bytes:
   *
   * Bound of the pending spool contents.
   */
  g_object_class_install_property (gobject_class, PROP_SPOOL_MAX_BYTES,
      g_param_spec_uint64 ("spool-max-bytes", "Spool max bytes",
          "Largest amount of pending data in the spool", 1, G_MAXUINT64,
          DEFAULT_SPOOL_MAX_BYTES, PARAM_READY));
  /**
   * GstAmqpSink:on-full:
   *
   * What to do when the spool (or, without spool, the memory queue) is full.
   */
  g_object_class_install_property (gobject_class, PROP_ON_FULL,
      g_param_spec_enum ("on-full", "On full",
          "What to do with a new message when the spool (or memory queue) is full",
          GST_TYPE_AMQP_SINK_ON_FULL, DEFAULT_ON_FULL, PARAM_READY));
  /**
   * GstAmqpSink:flush-timeout:
   *
   * At EOS, how long to wait for outstanding confirms, in milliseconds.
   */
  g_object_class_install_property (gobject_class, PROP_FLUSH_TIMEOUT,
      g_param_spec_uint ("flush-timeout", "Flush timeout",
          "At EOS, wait at most this many milliseconds for outstanding confirms", 0,
          G_MAXUINT, DEFAULT_FLUSH_TIMEOUT, PARAM_READY));
  /**
   * GstAmqpSink:max-queue:
   *
   * Messages held in memory for the publishing thread.
   */
  g_object_class_install_property (gobject_class, PROP_MAX_QUEUE,
      g_param_spec_uint ("max-queue", "Max queue",
          "Messages held in memory for the publishing thread", 1, 1000000,
          DEFAULT_MAX_QUEUE, PARAM_READY));
  /**
   * GstAmqpSink:max-queue-bytes:
   *
   * Bytes (message bodies and inline event headers) held in memory for the
   * publishing thread; with #GstAmqpSink:max-queue the memory queue is full
   * at whichever bound comes first (a single larger message still fits).
   * Unconfirmed in-flight messages are bounded by #GstAmqpSink:confirm-window.
   */
  g_object_class_install_property (gobject_class, PROP_MAX_QUEUE_BYTES,
      g_param_spec_uint64 ("max-queue-bytes", "Max queue bytes",
          "Bytes held in memory for the publishing thread (with max-queue: whichever "
          "bound comes first)", 1, G_MAXUINT64, DEFAULT_MAX_QUEUE_BYTES, PARAM_READY));
  /**
   * GstAmqpSink:on-nack:
   *
   * What to do with a message the broker refused (basic.nack, e.g. a queue
   * with `x-max-length` and `x-overflow=reject-publish`). `retry` publishes
   * it again after an exponential backoff (100 ms doubling to 5 s, reset by
   * the next ack; nothing newer is published meanwhile) until it is accepted
   * or the element stops (then it is kept in the spool like any unconfirmed
   * message); its ack token is not rejected, so a source message's
   * redelivery budget is not spent. `drop` discards it: counted in `nacked`
   * and `dropped`, its ack token rejected with requeue. Either way the
   * warnings are rate-limited (at most one per 10 s).
   */
  g_object_class_install_property (gobject_class, PROP_ON_NACK,
      g_param_spec_enum ("on-nack", "On nack",
          "What to do with a message the broker refused (basic.nack)",
          GST_TYPE_AMQP_SINK_ON_NACK, DEFAULT_ON_NACK, PARAM_READY));
  /**
   * GstAmqpSink:stats:
   *
   * Counters: published, confirmed, nacked, republished (sent again after a
   * connection loss), unroutable (returned by the broker: no queue bound for
   * the routing key), spooled, replayed, dropped, reconnects (guint64);
   * blocked-count (connection.blocked notifications received), frames-deleted
   * (by the frame-store retention), invalid (events not published because
   * they fail the schema, e.g. a JPEG without a size) (guint64);
   * queued, in-flight, spool-messages (guint); queued-bytes, spool-bytes
   * (guint64);
   * connected, blocked (the broker blocked publishing: resource alarm)
   * (boolean).
   */
  g_object_class_install_property (gobject_class, PROP_STATS,
      g_param_spec_boxed ("stats", "Statistics",
          "Counters: published, confirmed, nacked, republished, unroutable, spooled, replayed, dropped, "
          "reconnects, blocked-count, frames-deleted, invalid, queued, queued-bytes, in-flight, spool-messages, spool-bytes, connected, "
          "blocked",
          GST_TYPE_STRUCTURE, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));

  gst_element_class_add_static_pad_template (element_class, &sink_template);
  gst_element_class_set_static_metadata (element_class, "AMQP event sink",
      "Sink/Network",
      "Publishes frame and detection events to an AMQP 0-9-1 broker (RabbitMQ) with "
      "publisher confirms and an on-disk spool", "edgefaas");

  bs_class->start = GST_DEBUG_FUNCPTR (gst_amqp_sink_start);
  bs_class->stop = GST_DEBUG_FUNCPTR (gst_amqp_sink_stop);
  bs_class->set_caps = GST_DEBUG_FUNCPTR (gst_amqp_sink_set_caps);
  bs_class->render = GST_DEBUG_FUNCPTR (gst_amqp_sink_render);
  bs_class->event = GST_DEBUG_FUNCPTR (gst_amqp_sink_event);
  bs_class->unlock = GST_DEBUG_FUNCPTR (gst_amqp_sink_unlock);
  bs_class->unlock_stop = GST_DEBUG_FUNCPTR (gst_amqp_sink_unlock_stop);
}

static void
gst_amqp_sink_init (GstAmqpSink * self)
{
  Settings *s = &self->settings;

  edgefaas_amqp_settings_init (&s->amqp);
  s->exchange = g_strdup (DEFAULT_EXCHANGE);
  s->exchange_type = DEFAULT_EXCHANGE_TYPE;
  s->routing_key = g_strdup (DEFAULT_ROUTING_KEY);
  s->declare = DEFAULT_DECLARE;
  s->persistent = DEFAULT_PERSISTENT;
  s->confirms = DEFAULT_CONFIRMS;
  s->confirm_window = DEFAULT_CONFIRM_WINDOW;
  s->camera_id = g_strdup (DEFAULT_CAMERA_ID);
  s->spool_max_bytes = DEFAULT_SPOOL_MAX_BYTES;
  s->on_full = DEFAULT_ON_FULL;
  s->flush_timeout_ms = DEFAULT_FLUSH_TIMEOUT;
  s->max_queue = DEFAULT_MAX_QUEUE;
  s->on_nack = DEFAULT_ON_NACK;
  s->max_queue_bytes = DEFAULT_MAX_QUEUE_BYTES;
  s->frame_store_max_age = DEFAULT_FRAME_STORE_MAX_AGE;
  s->frame_store_max_bytes = DEFAULT_FRAME_STORE_MAX_BYTES;
  self->sockfd = -1;
  g_mutex_init (&self->qlock);
  g_cond_init (&self->qcond);
  /* Render must not wait on the clock: events go out as soon as they come. */
  gst_base_sink_set_sync (GST_BASE_SINK (self), FALSE);
  /* The last sample would keep the last buffer (and its source ack token)
   * alive after its publish was confirmed, delaying amqpsrc's ack. */
  gst_base_sink_set_last_sample_enabled (GST_BASE_SINK (self), FALSE);
}
