/* edgefaas amqpsrc: consume frame events from RabbitMQ with manual acknowledgement.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
/**
 * SECTION:element-amqpsrc
 * @title: amqpsrc
 *
 * Consumes `edgefaas.frame/v1` events from an AMQP 0-9-1 queue (RabbitMQ) and
 * outputs the frame they describe as `image/jpeg` (or the stored media type),
 * with a #GstEdgefaasEventMeta attached that carries the parsed event and an
 * #EdgefaasAckToken for the delivery.
 *
 * Two message forms are accepted:
 *  - by reference: the body is the JSON event (content type `application/json`),
 *    whose `frame.uri` is a `file://` URI confined to #GstAmqpSrc:frame-root; the
 *    file is loaded and its size and SHA-256 are checked;
 *  - inline: the body is the image itself (content type `image/jpeg` or
 *    `image/png`, binary-safe) and the JSON event travels in the message header
 *    `edgefaas-event` (a long string); size and SHA-256 are checked when given.
 *
 * Acknowledgement (#GstAmqpSrc:ack-mode): with `after-processing` (default) the
 * delivery is acked only when the last reference to its ack token goes, i.e.
 * when every buffer carrying the event meta (including copies made by decoders)
 * has been released and any sink that holds the token (amqpsink, until its
 * publish is confirmed) let it go. Downstream may call
 * edgefaas_ack_token_reject() to dead-letter or requeue instead. rabbitmq-c
 * connections are not thread-safe, so the token callback only queues the
 * request; the streaming thread, which owns the connection, sends it.
 *
 * Bad messages (not JSON, wrong schema, missing file, path outside the root,
 * symlink escape, a frame file with more than one hard link, size or hash
 * mismatch, larger than #GstAmqpSrc:max-bytes,
 * redelivered more than #GstAmqpSrc:max-redeliveries times) are dead-lettered
 * with their reason: a copy with the headers `x-edgefaas-reason-code`,
 * `x-edgefaas-reason` ("code: text") and `x-edgefaas-queue` is published to
 * the dead-letter exchange `<queue>.dlx` in a transaction and the original is
 * acked after the commit (declare=true gives the queue that exchange and the
 * queue `<queue>.dead`). Without that exchange they are rejected without
 * requeue, so the queue's own dead-lettering takes them (no headers). A
 * warning naming the reason is posted and the pipeline keeps running. A
 * delivery downstream dead-letters (edgefaas_ack_token_reject()) gets the
 * same copy, reason code `downstream-rejected`.
 *
 * Drain: an EOS sent to the element (gst-launch-1.0 -e on Ctrl-C, the
 * edgefaas launcher on SIGTERM) cancels the consumer (basic.cancel), requeues
 * deliveries that were still arriving, waits until every in-flight buffer is
 * released and acked (bounded by #GstAmqpSrc:drain-timeout), then pushes EOS.
 * #GstAmqpSrc:idle-timeout and #GstAmqpSrc:max-messages drain the same way.
 *
 * Timestamps: the buffer PTS is the pipeline running time at which the message
 * arrived (clock time minus base time); DTS and duration are unset. The
 * running time of the original capture is in the event meta.
 *
 * A redelivery (the broker's redelivered flag, x-delivery-count, an x-death
 * count for this queue, or the x-edgefaas-redeliveries header of the copy
 * republished on classic queues) is marked GST_BUFFER_FLAG_DISCONT.
 *
 * If the broker goes away the element posts a warning and reconnects with
 * exponential backoff (connection, channel, topology, qos, consumer); what was
 * unacked is redelivered by the broker. unlock() interrupts every wait, so
 * state changes stay prompt while the broker is down.
 *
 * Queue deleted while consuming: the login advertises consumer_cancel_notify,
 * so the broker sends basic.cancel. amqpsrc never goes on consuming nothing:
 * it posts a warning (details reason-code `consumer-cancelled`), drops the
 * connection and re-establishes the consumer. With #GstAmqpSrc:declare the
 * topology is declared again at once; without it, consuming is retried with
 * the reconnect backoff (100 ms doubling to 5 s) until the queue exists again,
 * with a warning (reason-code `consumer-waiting`) on the first attempt and
 * every 20th. Messages that were in the deleted queue are gone with it.
 *
 * Credentials never appear in the URL: the password comes from the environment
 * variable named by #GstAmqpSrc:password-env or from #GstAmqpSrc:credentials-file.
 *
 * ## Example launch line
 * |[
 * EDGEFAAS_AMQP_PASSWORD=... gst-launch-1.0 -e amqpsrc url=amqp://edgefaas@rabbitmq:5672/ \
 *     queue=frames declare=true frame-root=/var/lib/edgefaas/frames prefetch=2 ! \
 *     jpegdec ! videoconvert ! fakesink
 * ]|
 */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>
#include <sys/eventfd.h>

#include <gst/gst.h>
#include <gst/base/gstpushsrc.h>
#include <gst/base/gstbasesink.h>
#include <amqp.h>

#include "edgefaas.h"
#include "edgefaas-amqp.h"
#include "amqpclient.h"

GST_DEBUG_CATEGORY_STATIC (gst_amqp_src_debug);
#define GST_CAT_DEFAULT gst_amqp_src_debug

#define EVENT_HEADER "edgefaas-event"
#define REDELIVERY_HEADER "x-edgefaas-redeliveries"
/* On the copies amqpsrc dead-letters (see dead_letter()). */
#define REASON_CODE_HEADER "x-edgefaas-reason-code"
#define REASON_HEADER "x-edgefaas-reason"
#define REASON_QUEUE_HEADER "x-edgefaas-queue"

typedef enum
{
  GST_AMQP_SRC_ACK_AFTER_PROCESSING,
  GST_AMQP_SRC_ACK_IMMEDIATE,
} GstAmqpSrcAckMode;

#define GST_TYPE_AMQP_SRC_ACK_MODE (gst_amqp_src_ack_mode_get_type ())
static GType
gst_amqp_src_ack_mode_get_type (void)
{
  static GType type = 0;
  static const GEnumValue values[] = {
    {GST_AMQP_SRC_ACK_AFTER_PROCESSING,
        "Ack when the last buffer carrying the delivery is released", "after-processing"},
    {GST_AMQP_SRC_ACK_IMMEDIATE, "Ack as soon as the message is received (at-most-once)",
        "immediate"},
    {0, NULL, NULL}
  };
  if (g_once_init_enter (&type)) {
    GType t = g_enum_register_static ("GstAmqpSrcAckMode", values);
    g_once_init_leave (&type, t);
  }
  return type;
}

/* What the queue carries (kind=detection: the analytics stage). */
typedef enum
{
  GST_AMQP_SRC_KIND_FRAME,
  GST_AMQP_SRC_KIND_DETECTION,
} GstAmqpSrcKind;

#define GST_TYPE_AMQP_SRC_KIND (gst_amqp_src_kind_get_type ())
static GType
gst_amqp_src_kind_get_type (void)
{
  static GType type = 0;
  static const GEnumValue values[] = {
    {GST_AMQP_SRC_KIND_FRAME, "edgefaas.frame/v1 events (by reference or inline)", "frame"},
    {GST_AMQP_SRC_KIND_DETECTION, "edgefaas.detection/v1 events; the source frame is loaded "
          "from its reference and the event attached as GstEdgefaasDetectionMeta",
        "detection"},
    {0, NULL, NULL}
  };
  if (g_once_init_enter (&type)) {
    GType t = g_enum_register_static ("GstAmqpSrcKind", values);
    g_once_init_leave (&type, t);
  }
  return type;
}

#define DEFAULT_KIND GST_AMQP_SRC_KIND_FRAME
#define DEFAULT_QUEUE NULL
#define DEFAULT_PREFETCH 1
#define DEFAULT_DECLARE FALSE
#define DEFAULT_EXCHANGE ""
#define DEFAULT_EXCHANGE_TYPE "direct"
#define DEFAULT_ROUTING_KEY NULL
#define DEFAULT_FRAME_ROOT NULL
#define DEFAULT_MAX_BYTES (32 * 1024 * 1024)
#define DEFAULT_MAX_REDELIVERIES 5
#define DEFAULT_ACK_MODE GST_AMQP_SRC_ACK_AFTER_PROCESSING
#define DEFAULT_IDLE_TIMEOUT 0
#define DEFAULT_MAX_MESSAGES 0
#define DEFAULT_IS_LIVE TRUE
#define DEFAULT_DRAIN_TIMEOUT 30
#define DEFAULT_DELETE_AFTER_ACK FALSE

#define POLL_INTERVAL_MS 100

enum
{
  PROP_0,
  /* url, password-env, credentials-file, tls-*: EdgefaasAmqpSettings */
  PROP_AMQP_FIRST,
  PROP_QUEUE = PROP_AMQP_FIRST + EDGEFAAS_AMQP_SETTINGS_N_PROPS,
  PROP_PREFETCH,
  PROP_DECLARE,
  PROP_EXCHANGE,
  PROP_EXCHANGE_TYPE,
  PROP_ROUTING_KEY,
  PROP_FRAME_ROOT,
  PROP_MAX_BYTES,
  PROP_MAX_REDELIVERIES,
  PROP_ACK_MODE,
  PROP_IDLE_TIMEOUT,
  PROP_MAX_MESSAGES,
  PROP_IS_LIVE,
  PROP_DRAIN_TIMEOUT,
  PROP_KIND,
  PROP_STATS,
  PROP_DELETE_AFTER_ACK,
};

typedef struct
{
  EdgefaasAmqpSettings amqp;    /* connection: url, credentials, TLS */
  gchar *queue;
  guint prefetch;
  gboolean declare;
  gchar *exchange;
  gchar *exchange_type;
  gchar *routing_key;
  gchar *frame_root;
  guint64 max_bytes;
  gint max_redeliveries;
  GstAmqpSrcAckMode ack_mode;
  guint idle_timeout;
  guint64 max_messages;
  gboolean is_live;
  guint drain_timeout;
  gboolean delete_after_ack;
  GstAmqpSrcKind kind;
} Settings;

/* Counters; written by the streaming thread and token callbacks under hub->lock. */
typedef struct
{
  guint64 received, pushed, acked, rejected, requeued, republished, dropped_acks, reconnects;
  guint64 cancels;              /* basic.cancel from the broker (queue deleted) */
  guint64 frames_deleted, delete_failures;      /* delete-after-ack */
} Stats;

/* The ack hub outlives the element's started state: buffers (and so tokens) can
 * be released after stop(). Token callbacks only queue requests here and wake
 * the connection-owning streaming thread through an eventfd. */
typedef struct
{
  gint refcount;
  GMutex lock;
  GQueue pending;               /* of PendingAck* */
  guint generation;             /* connection generation; tags are per connection */
  gboolean closed;              /* stop() ran: nobody will send acks any more */
  guint inflight;               /* live tokens */
  Stats stats;
  gint wake_fd;
} AckHub;

/* What it takes to dead-letter an in-flight delivery with a reason header
 * when downstream rejects it: its properties (cloned into @pool) and body
 * (for an inline frame the GBytes the buffer wraps, no copy). */
typedef struct
{
  amqp_pool_t pool;
  amqp_basic_properties_t props;
  GBytes *body;
} SavedMessage;

typedef struct
{
  guint64 tag;
  guint generation;
  EdgefaasAckOutcome outcome;
  gchar *reason;
  gchar *frame_uri;             /* delete-after-ack: the frame file to delete once acked */
  SavedMessage *saved;
} PendingAck;

typedef struct
{
  AckHub *hub;
  guint64 tag;
  guint generation;
  gchar *frame_uri;
  SavedMessage *saved;
} TokenData;

/* Only exists between start() and stop(); touched by the streaming thread
 * (create) and by start/stop, never concurrently. */
typedef struct
{
  Settings s;
  EdgefaasAmqpParams params;
  gchar *redacted_url;
  EdgefaasAmqpConn *conn;
  gchar *consumer_tag;
  gboolean cancel_sent;
  gboolean draining;
  gboolean drain_query_sent;
  gboolean sinks_released;
  gboolean republish_open;      /* REPUBLISH_CHANNEL open in tx mode on this connection */
  gboolean dlx_missing;         /* publishing to <queue>.dlx failed on this connection */
  const gchar *drain_reason;
  gint64 drain_deadline;        /* monotonic µs */
  gint64 last_activity;         /* monotonic µs of last delivery (or start) */
  AmqpClient *client;           /* connect, backoff, policy (amqpclient.h) */
  gint64 next_connect;          /* monotonic µs */
  gboolean cancelled;           /* the broker cancelled our consumer: re-establishing it */
  GPtrArray *acked_frames;      /* delete-after-ack: uris whose ack was sent, not yet deleted */
  gchar *current_media_type;
  guint64 offset;
} State;

struct _GstAmqpSrc
{
  GstPushSrc parent;

  Settings settings;            /* under GST_OBJECT_LOCK */
  gboolean started;             /* under GST_OBJECT_LOCK */
  AckHub *hub;                  /* set in start(), reset in stop(); lifetime via refcount */
  AmqpClient *client;           /* == state->client, under GST_OBJECT_LOCK for unlock() */
  State *state;

  gint flushing;                /* atomic */
  gint drain_requested;         /* atomic */
};

#define GST_TYPE_AMQP_SRC (gst_amqp_src_get_type ())
G_DECLARE_FINAL_TYPE (GstAmqpSrc, gst_amqp_src, GST, AMQP_SRC, GstPushSrc);
G_DEFINE_TYPE (GstAmqpSrc, gst_amqp_src, GST_TYPE_PUSH_SRC);
GST_ELEMENT_REGISTER_DEFINE_WITH_CODE (amqpsrc, "amqpsrc", GST_RANK_NONE,
    GST_TYPE_AMQP_SRC, GST_DEBUG_CATEGORY_INIT (gst_amqp_src_debug, "amqpsrc", 0,
        "AMQP frame event source"));

static GstStaticPadTemplate src_template = GST_STATIC_PAD_TEMPLATE ("src",
    GST_PAD_SRC, GST_PAD_ALWAYS, GST_STATIC_CAPS ("image/jpeg; image/png"));

/* ------------------------------------------------------------ ack hub ---- */

static void
saved_message_free (SavedMessage * m)
{
  if (m == NULL)
    return;
  empty_amqp_pool (&m->pool);
  g_bytes_unref (m->body);
  g_free (m);
}

static amqp_bytes_t
pool_dup (amqp_pool_t * pool, amqp_bytes_t b)
{
  amqp_bytes_t out = amqp_empty_bytes;
  if (b.len == 0)
    return out;
  amqp_pool_alloc_bytes (pool, b.len, &out);
  if (out.bytes)
    memcpy (out.bytes, b.bytes, b.len);
  return out;
}

/* NULL if the properties cannot be cloned (out of memory): the delivery is
 * then rejected the plain way if downstream rejects it. */
static SavedMessage *
saved_message_new (const amqp_basic_properties_t * props, GBytes * body)
{
  SavedMessage *m = g_new0 (SavedMessage, 1);
  amqp_basic_properties_t *c = &m->props;

  init_amqp_pool (&m->pool, 4096);
  *c = *props;
  c->content_type = pool_dup (&m->pool, props->content_type);
  c->content_encoding = pool_dup (&m->pool, props->content_encoding);
  c->correlation_id = pool_dup (&m->pool, props->correlation_id);
  c->reply_to = pool_dup (&m->pool, props->reply_to);
  c->expiration = pool_dup (&m->pool, props->expiration);
  c->message_id = pool_dup (&m->pool, props->message_id);
  c->type = pool_dup (&m->pool, props->type);
  c->user_id = pool_dup (&m->pool, props->user_id);
  c->app_id = pool_dup (&m->pool, props->app_id);
  c->cluster_id = pool_dup (&m->pool, props->cluster_id);
  c->headers = amqp_empty_table;
  if ((props->_flags & AMQP_BASIC_HEADERS_FLAG)
      && amqp_table_clone (&props->headers, &c->headers, &m->pool) != AMQP_STATUS_OK) {
    empty_amqp_pool (&m->pool);
    g_free (m);
    return NULL;
  }
  m->body = g_bytes_ref (body);
  return m;
}

static AckHub *
ack_hub_new (void)
{
  AckHub *hub = g_new0 (AckHub, 1);
  hub->refcount = 1;
  g_mutex_init (&hub->lock);
  g_queue_init (&hub->pending);
  hub->wake_fd = eventfd (0, EFD_NONBLOCK | EFD_CLOEXEC);
  return hub;
}

static AckHub *
ack_hub_ref (AckHub * hub)
{
  g_atomic_int_inc (&hub->refcount);
  return hub;
}

static void
pending_ack_free (PendingAck * p)
{
  g_free (p->reason);
  g_free (p->frame_uri);
  saved_message_free (p->saved);
  g_free (p);
}

static void
ack_hub_unref (AckHub * hub)
{
  if (!g_atomic_int_dec_and_test (&hub->refcount))
    return;
  g_queue_clear_full (&hub->pending, (GDestroyNotify) pending_ack_free);
  if (hub->wake_fd >= 0)
    close (hub->wake_fd);
  g_mutex_clear (&hub->lock);
  g_free (hub);
}

static void
ack_hub_wake (AckHub * hub)
{
  guint64 one = 1;
  if (hub->wake_fd >= 0 && write (hub->wake_fd, &one, sizeof (one)) < 0 && errno != EAGAIN)
    GST_WARNING ("eventfd write failed: %s", g_strerror (errno));
}

static void
ack_hub_clear_wake (AckHub * hub)
{
  guint64 v;
  if (hub->wake_fd >= 0 && read (hub->wake_fd, &v, sizeof (v)) < 0 && errno != EAGAIN)
    GST_WARNING ("eventfd read failed: %s", g_strerror (errno));
}

/* Runs on whatever thread dropped the last reference to the token. */
static void
token_func (gpointer user_data, EdgefaasAckOutcome outcome, const gchar * reason)
{
  TokenData *td = user_data;
  AckHub *hub = td->hub;
  gboolean queued = FALSE;

  g_mutex_lock (&hub->lock);
  if (hub->inflight > 0)
    hub->inflight--;
  if (!hub->closed) {
    PendingAck *p = g_new0 (PendingAck, 1);
    p->tag = td->tag;
    p->generation = td->generation;
    p->outcome = outcome;
    p->reason = g_strdup (reason);
    p->frame_uri = g_strdup (td->frame_uri);
    p->saved = g_steal_pointer (&td->saved);
    g_queue_push_tail (&hub->pending, p);
    queued = TRUE;
  } else {
    hub->stats.dropped_acks++;
  }
  g_mutex_unlock (&hub->lock);

  if (queued)
    ack_hub_wake (hub);
  else
    GST_DEBUG ("delivery %" G_GUINT64_FORMAT " released after stop: the broker "
        "requeued it when the connection closed", td->tag);
}

static void
token_data_free (gpointer user_data)
{
  TokenData *td = user_data;
  ack_hub_unref (td->hub);
  g_free (td->frame_uri);
  saved_message_free (td->saved);
  g_free (td);
}

/* ------------------------------------------------------------ settings ---- */

static void
settings_clear (Settings * s)
{
  edgefaas_amqp_settings_clear (&s->amqp);
  g_free (s->queue);
  g_free (s->exchange);
  g_free (s->exchange_type);
  g_free (s->routing_key);
  g_free (s->frame_root);
  memset (s, 0, sizeof (*s));
}

static void
settings_copy (Settings * dst, const Settings * src)
{
  *dst = *src;
  memset (&dst->amqp, 0, sizeof (dst->amqp));
  edgefaas_amqp_settings_copy (&dst->amqp, &src->amqp);
  dst->queue = g_strdup (src->queue);
  dst->exchange = g_strdup (src->exchange);
  dst->exchange_type = g_strdup (src->exchange_type);
  dst->routing_key = g_strdup (src->routing_key);
  dst->frame_root = g_strdup (src->frame_root);
}

static void
gst_amqp_src_set_property (GObject * object, guint prop_id, const GValue * value,
    GParamSpec * pspec)
{
  GstAmqpSrc *self = GST_AMQP_SRC (object);
  Settings *s = &self->settings;

  GST_OBJECT_LOCK (self);
  if (self->started) {
    GST_OBJECT_UNLOCK (self);
    g_warning ("amqpsrc: property '%s' cannot be changed while the element is running",
        pspec->name);
    return;
  }
  if (edgefaas_amqp_settings_set_property (&s->amqp, object, PROP_AMQP_FIRST, prop_id, value)) {
    GST_OBJECT_UNLOCK (self);
    return;
  }
  switch (prop_id) {
    case PROP_QUEUE:
      g_free (s->queue);
      s->queue = g_value_dup_string (value);
      break;
    case PROP_PREFETCH:
      s->prefetch = g_value_get_uint (value);
      break;
    case PROP_DECLARE:
      s->declare = g_value_get_boolean (value);
      break;
    case PROP_EXCHANGE:
      g_free (s->exchange);
      s->exchange = g_value_dup_string (value);
      break;
    case PROP_EXCHANGE_TYPE:
      g_free (s->exchange_type);
      s->exchange_type = g_value_dup_string (value);
      break;
    case PROP_ROUTING_KEY:
      g_free (s->routing_key);
      s->routing_key = g_value_dup_string (value);
      break;
    case PROP_FRAME_ROOT:
      g_free (s->frame_root);
      s->frame_root = g_value_dup_string (value);
      break;
    case PROP_MAX_BYTES:
      s->max_bytes = g_value_get_uint64 (value);
      break;
    case PROP_MAX_REDELIVERIES:
      s->max_redeliveries = g_value_get_int (value);
      break;
    case PROP_KIND:
      s->kind = g_value_get_enum (value);
      break;
    case PROP_ACK_MODE:
      s->ack_mode = g_value_get_enum (value);
      break;
    case PROP_IDLE_TIMEOUT:
      s->idle_timeout = g_value_get_uint (value);
      break;
    case PROP_MAX_MESSAGES:
      s->max_messages = g_value_get_uint64 (value);
      break;
    case PROP_IS_LIVE:
      s->is_live = g_value_get_boolean (value);
      break;
    case PROP_DRAIN_TIMEOUT:
      s->drain_timeout = g_value_get_uint (value);
      break;
    case PROP_DELETE_AFTER_ACK:
      s->delete_after_ack = g_value_get_boolean (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);

  if (prop_id == PROP_IS_LIVE)
    gst_base_src_set_live (GST_BASE_SRC (self), g_value_get_boolean (value));
}

static GstStructure *
gst_amqp_src_get_stats (GstAmqpSrc * self)
{
  Stats st = { 0 };
  guint inflight = 0;
  AckHub *hub = NULL;

  GST_OBJECT_LOCK (self);
  if (self->hub)
    hub = ack_hub_ref (self->hub);
  GST_OBJECT_UNLOCK (self);
  if (hub) {
    g_mutex_lock (&hub->lock);
    st = hub->stats;
    inflight = hub->inflight;
    g_mutex_unlock (&hub->lock);
    ack_hub_unref (hub);
  }
  return gst_structure_new ("amqpsrc-stats",
      "received", G_TYPE_UINT64, st.received,
      "pushed", G_TYPE_UINT64, st.pushed,
      "acked", G_TYPE_UINT64, st.acked,
      "rejected", G_TYPE_UINT64, st.rejected,
      "requeued", G_TYPE_UINT64, st.requeued,
      "republished", G_TYPE_UINT64, st.republished,
      "reconnects", G_TYPE_UINT64, st.reconnects,
      "cancels", G_TYPE_UINT64, st.cancels,
      "frames-deleted", G_TYPE_UINT64, st.frames_deleted,
      "delete-failures", G_TYPE_UINT64, st.delete_failures,
      "dropped-acks", G_TYPE_UINT64, st.dropped_acks,
      "in-flight", G_TYPE_UINT, inflight, NULL);
}

static void
gst_amqp_src_get_property (GObject * object, guint prop_id, GValue * value,
    GParamSpec * pspec)
{
  GstAmqpSrc *self = GST_AMQP_SRC (object);
  Settings *s = &self->settings;

  if (prop_id == PROP_STATS) {
    g_value_take_boxed (value, gst_amqp_src_get_stats (self));
    return;
  }

  GST_OBJECT_LOCK (self);
  if (edgefaas_amqp_settings_get_property (&s->amqp, PROP_AMQP_FIRST, prop_id, value)) {
    GST_OBJECT_UNLOCK (self);
    return;
  }
  switch (prop_id) {
    case PROP_QUEUE:
      g_value_set_string (value, s->queue);
      break;
    case PROP_PREFETCH:
      g_value_set_uint (value, s->prefetch);
      break;
    case PROP_DECLARE:
      g_value_set_boolean (value, s->declare);
      break;
    case PROP_EXCHANGE:
      g_value_set_string (value, s->exchange);
      break;
    case PROP_EXCHANGE_TYPE:
      g_value_set_string (value, s->exchange_type);
      break;
    case PROP_ROUTING_KEY:
      g_value_set_string (value, s->routing_key);
      break;
    case PROP_FRAME_ROOT:
      g_value_set_string (value, s->frame_root);
      break;
    case PROP_MAX_BYTES:
      g_value_set_uint64 (value, s->max_bytes);
      break;
    case PROP_MAX_REDELIVERIES:
      g_value_set_int (value, s->max_redeliveries);
      break;
    case PROP_KIND:
      g_value_set_enum (value, s->kind);
      break;
    case PROP_ACK_MODE:
      g_value_set_enum (value, s->ack_mode);
      break;
    case PROP_IDLE_TIMEOUT:
      g_value_set_uint (value, s->idle_timeout);
      break;
    case PROP_MAX_MESSAGES:
      g_value_set_uint64 (value, s->max_messages);
      break;
    case PROP_IS_LIVE:
      g_value_set_boolean (value, s->is_live);
      break;
    case PROP_DRAIN_TIMEOUT:
      g_value_set_uint (value, s->drain_timeout);
      break;
    case PROP_DELETE_AFTER_ACK:
      g_value_set_boolean (value, s->delete_after_ack);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

/* ---------------------------------------------------------- connection ---- */

/* Topology → qos → consumer, inside amqp_client_connect() (an unlock()
 * can still interrupt it). */
static gboolean
setup_consumer (EdgefaasAmqpConn * conn, gpointer user_data, GError ** error)
{
  State *st = user_data;
  amqp_connection_state_t cs = edgefaas_amqp_conn_get_state (conn);
  amqp_channel_t ch = edgefaas_amqp_conn_get_channel (conn);
  amqp_basic_consume_ok_t *ok;

  if (st->s.declare) {
    const gchar *rk = st->s.routing_key && *st->s.routing_key ? st->s.routing_key : st->s.queue;
    if (!edgefaas_amqp_declare_topology (conn, st->s.exchange ? st->s.exchange : "",
            st->s.exchange_type, st->s.queue, rk, st->params.queue_type, error))
      return FALSE;
    ch = edgefaas_amqp_conn_get_channel (conn);
  }

  amqp_basic_qos (cs, ch, 0, (uint16_t) MIN (st->s.prefetch, G_MAXUINT16), 0);
  if (!edgefaas_amqp_check_reply (amqp_get_rpc_reply (cs), "basic.qos", error))
    return FALSE;

  ok = amqp_basic_consume (cs, ch, amqp_cstring_bytes (st->s.queue), amqp_empty_bytes,
      0 /* no_local */ , 0 /* no_ack: manual acks */ , 0 /* exclusive */ ,
      amqp_empty_table);
  if (!edgefaas_amqp_check_reply (amqp_get_rpc_reply (cs), "basic.consume", error))
    return FALSE;
  g_free (st->consumer_tag);
  st->consumer_tag = g_strndup (ok->consumer_tag.bytes, ok->consumer_tag.len);
  return TRUE;
}

/* Connection → channel → topology → qos → consumer (rabbitmq-c has no automatic
 * recovery; this is the order RabbitMQ documents). */
static gboolean
connect_and_consume (GstAmqpSrc * self, GError ** error)
{
  State *st = self->state;
  EdgefaasAmqpConn *conn;

  conn = amqp_client_connect (st->client, setup_consumer, st, error);
  if (conn == NULL)
    return FALSE;

  st->conn = conn;
  st->cancel_sent = FALSE;
  st->republish_open = FALSE;
  st->dlx_missing = FALSE;
  g_mutex_lock (&self->hub->lock);
  self->hub->generation++;
  g_mutex_unlock (&self->hub->lock);
  GST_INFO_OBJECT (self, "consuming from queue '%s' on %s (prefetch %u, consumer %s)",
      st->s.queue, st->redacted_url, st->s.prefetch, st->consumer_tag);
  return TRUE;
}

static void
drop_connection (GstAmqpSrc * self)
{
  State *st = self->state;
  if (st->conn) {
    edgefaas_amqp_conn_close (st->conn);
    st->conn = NULL;
  }
  /* Acks not known to have reached the broker: keep those files (a
   * redelivery must find them). */
  if (st->acked_frames)
    g_ptr_array_set_size (st->acked_frames, 0);
  /* Tags from that connection are meaningless now: the broker requeued them. */
  g_mutex_lock (&self->hub->lock);
  self->hub->generation++;
  g_mutex_unlock (&self->hub->lock);
}

static void
connection_lost (GstAmqpSrc * self, const gchar * why)
{
  State *st = self->state;

  GST_ELEMENT_WARNING (self, RESOURCE, READ,
      ("Lost the connection to the AMQP broker; reconnecting"),
      ("%s: %s; unacknowledged deliveries will be redelivered by the broker",
          st->redacted_url, why));
  drop_connection (self);
  amqp_client_connection_lost (st->client);
  st->next_connect = g_get_monotonic_time ();
}

static gboolean publish_dead_letter_copy (GstAmqpSrc * self,
    const amqp_basic_properties_t * props, amqp_bytes_t body, const gchar * code,
    const gchar * reason);

/* delete-after-ack: remove the frame files whose acks were sent, once the
 * broker has processed those acks. basic.ack has no reply, but the broker
 * handles a channel's methods in order, so the reply to a synchronous method
 * on the consumer channel sent after them (basic.qos with the same prefetch,
 * a no-op) proves it. Without that reply (connection lost) the files stay:
 * the broker may redeliver and the redelivery must find its file. Returns
 * FALSE if the connection broke. */
static gboolean
delete_acked_frames (GstAmqpSrc * self)
{
  State *st = self->state;
  amqp_connection_state_t cs = edgefaas_amqp_conn_get_state (st->conn);
  guint64 deleted = 0, failed = 0;

  amqp_basic_qos (cs, edgefaas_amqp_conn_get_channel (st->conn), 0,
      (uint16_t) MIN (st->s.prefetch, G_MAXUINT16), 0);
  if (amqp_get_rpc_reply (cs).reply_type != AMQP_RESPONSE_NORMAL) {
    g_ptr_array_set_size (st->acked_frames, 0);
    return FALSE;
  }
  for (guint i = 0; i < st->acked_frames->len; i++) {
    const gchar *uri = g_ptr_array_index (st->acked_frames, i);
    GError *err = NULL;
    if (edgefaas_frameref_delete (uri, st->s.frame_root, &err)) {
      GST_LOG_OBJECT (self, "deleted acked frame %s", uri);
      deleted++;
    } else {
      GST_WARNING_OBJECT (self, "cannot delete acked frame: %s", err->message);
      g_clear_error (&err);
      failed++;
    }
  }
  g_ptr_array_set_size (st->acked_frames, 0);
  g_mutex_lock (&self->hub->lock);
  self->hub->stats.frames_deleted += deleted;
  self->hub->stats.delete_failures += failed;
  g_mutex_unlock (&self->hub->lock);
  return TRUE;
}

/* Send the acks queued by token callbacks. Returns FALSE if the connection broke. */
static gboolean
service_acks (GstAmqpSrc * self)
{
  State *st = self->state;
  AckHub *hub = self->hub;
  GQueue todo = G_QUEUE_INIT;
  guint gen;
  PendingAck *p;
  gboolean ok = TRUE;
  guint64 acked = 0, rejected = 0, requeued = 0, dropped = 0;

  g_mutex_lock (&hub->lock);
  todo = hub->pending;
  g_queue_init (&hub->pending);
  gen = hub->generation;
  g_mutex_unlock (&hub->lock);

  while ((p = g_queue_pop_head (&todo))) {
    int r = AMQP_STATUS_OK;

    if (!ok || st->conn == NULL || p->generation != gen) {
      GST_DEBUG_OBJECT (self, "dropping %s for delivery %" G_GUINT64_FORMAT
          " of an old connection (the broker requeued it)",
          p->outcome == EDGEFAAS_ACK_OUTCOME_ACK ? "ack" : "reject", p->tag);
      dropped++;
    } else {
      amqp_connection_state_t cs = edgefaas_amqp_conn_get_state (st->conn);
      amqp_channel_t ch = edgefaas_amqp_conn_get_channel (st->conn);
      switch (p->outcome) {
        case EDGEFAAS_ACK_OUTCOME_ACK:
          r = amqp_basic_ack (cs, ch, p->tag, 0);
          acked++;
          if (r == AMQP_STATUS_OK && p->frame_uri)
            g_ptr_array_add (st->acked_frames, g_steal_pointer (&p->frame_uri));
          break;
        case EDGEFAAS_ACK_OUTCOME_REJECT:{
          amqp_bytes_t body = amqp_empty_bytes;
          if (p->saved) {
            body.bytes = (void *) g_bytes_get_data (p->saved->body, &body.len);
          }
          if (p->saved && publish_dead_letter_copy (self, &p->saved->props, body,
                  "downstream-rejected", p->reason ? p->reason : "no reason given"))
            r = amqp_basic_ack (cs, ch, p->tag, 0);
          else
            r = amqp_basic_reject (cs, ch, p->tag, 0);
          rejected++;
          break;
        }
        case EDGEFAAS_ACK_OUTCOME_REQUEUE:
          r = amqp_basic_nack (cs, ch, p->tag, 0, 1);
          requeued++;
          break;
      }
      if (r != AMQP_STATUS_OK) {
        ok = FALSE;
        GST_DEBUG_OBJECT (self, "sending ack failed: %s", amqp_error_string2 (r));
      } else if (p->outcome != EDGEFAAS_ACK_OUTCOME_ACK) {
        GST_ELEMENT_WARNING (self, STREAM, FAILED,
            ("Delivery %s by downstream: %s", p->outcome == EDGEFAAS_ACK_OUTCOME_REJECT ?
                "dead-lettered" : "requeued", p->reason ? p->reason : "no reason given"),
            ("queue '%s', delivery tag %" G_GUINT64_FORMAT, st->s.queue, p->tag));
      }
    }
    pending_ack_free (p);
  }

  g_mutex_lock (&hub->lock);
  hub->stats.acked += acked;
  hub->stats.rejected += rejected;
  hub->stats.requeued += requeued;
  hub->stats.dropped_acks += dropped;
  g_mutex_unlock (&hub->lock);
  if (ok && st->conn && st->acked_frames->len > 0)
    ok = delete_acked_frames (self);
  return ok;
}

/* ------------------------------------------------------------- lifecycle ---- */

static gboolean
gst_amqp_src_start (GstBaseSrc * bsrc)
{
  GstAmqpSrc *self = GST_AMQP_SRC (bsrc);
  State *st = g_new0 (State, 1);
  GError *err = NULL;

  GST_OBJECT_LOCK (self);
  settings_copy (&st->s, &self->settings);
  GST_OBJECT_UNLOCK (self);

  if (!st->s.amqp.url_has_password && (st->s.amqp.url == NULL || *st->s.amqp.url == '\0')) {
    GST_ELEMENT_ERROR (self, RESOURCE, SETTINGS, ("No AMQP url set"),
        ("set url=amqp://user@host:5672/vhost"));
    goto fail;
  }
  if (st->s.queue == NULL || *st->s.queue == '\0') {
    GST_ELEMENT_ERROR (self, RESOURCE, SETTINGS, ("No queue set"), ("set queue=NAME"));
    goto fail;
  }
  if (!edgefaas_amqp_settings_to_params (&st->s.amqp, &st->params, &err)) {
    edgefaas_amqp_settings_post_error (GST_ELEMENT (self), &st->s.amqp, &st->params, err);
    goto fail;
  }
  st->redacted_url = edgefaas_amqp_params_redacted_url (&st->params);

  st->last_activity = g_get_monotonic_time ();
  st->client = amqp_client_new (GST_ELEMENT (self), &st->params, GST_RESOURCE_ERROR_READ);
  st->acked_frames = g_ptr_array_new_with_free_func (g_free);
  /* No connect here: start() runs under the state lock, where nothing could
   * interrupt a broker that never answers. The streaming thread connects
   * (create()), and unlock() interrupts it. */
  st->next_connect = g_get_monotonic_time ();
  self->state = st;

  GST_OBJECT_LOCK (self);
  self->hub = ack_hub_new ();
  self->client = st->client;
  self->started = TRUE;
  GST_OBJECT_UNLOCK (self);
  g_atomic_int_set (&self->drain_requested, 0);
  return TRUE;

fail:
  g_clear_error (&err);
  edgefaas_amqp_params_clear (&st->params);
  settings_clear (&st->s);
  g_free (st->redacted_url);
  g_clear_pointer (&st->acked_frames, g_ptr_array_unref);
  g_free (st);
  return FALSE;
}

static gboolean
gst_amqp_src_stop (GstBaseSrc * bsrc)
{
  GstAmqpSrc *self = GST_AMQP_SRC (bsrc);
  State *st = self->state;
  AckHub *hub;

  if (st == NULL)
    return TRUE;

  /* Whatever was released already gets acked; the rest is requeued by the
   * broker when the connection closes. */
  if (st->conn)
    service_acks (self);

  GST_OBJECT_LOCK (self);
  hub = self->hub;
  self->hub = NULL;
  self->client = NULL;
  self->started = FALSE;
  GST_OBJECT_UNLOCK (self);

  g_mutex_lock (&hub->lock);
  hub->closed = TRUE;
  g_mutex_unlock (&hub->lock);

  if (st->conn) {
    edgefaas_amqp_conn_close (st->conn);
    st->conn = NULL;
  }
  ack_hub_unref (hub);

  self->state = NULL;
  edgefaas_amqp_params_clear (&st->params);
  settings_clear (&st->s);
  g_free (st->redacted_url);
  g_free (st->consumer_tag);
  g_free (st->current_media_type);
  g_ptr_array_unref (st->acked_frames);
  amqp_client_free (st->client);
  g_free (st);
  return TRUE;
}

static gboolean
gst_amqp_src_unlock (GstBaseSrc * bsrc)
{
  GstAmqpSrc *self = GST_AMQP_SRC (bsrc);
  AckHub *hub = NULL;

  g_atomic_int_set (&self->flushing, 1);
  GST_OBJECT_LOCK (self);
  if (self->hub)
    hub = ack_hub_ref (self->hub);
  /* A connect in progress ends at once (stop() frees the client only after
   * taking it away under this lock). */
  if (self->client)
    amqp_client_wakeup (self->client);
  GST_OBJECT_UNLOCK (self);
  if (hub) {
    ack_hub_wake (hub);
    ack_hub_unref (hub);
  }
  return TRUE;
}

static gboolean
gst_amqp_src_unlock_stop (GstBaseSrc * bsrc)
{
  GstAmqpSrc *self = GST_AMQP_SRC (bsrc);
  g_atomic_int_set (&self->flushing, 0);
  GST_OBJECT_LOCK (self);
  if (self->client)
    amqp_client_reset (self->client);
  GST_OBJECT_UNLOCK (self);
  return TRUE;
}

static gboolean
gst_amqp_src_send_event (GstElement * element, GstEvent * event)
{
  GstAmqpSrc *self = GST_AMQP_SRC (element);
  gboolean started;

  GST_OBJECT_LOCK (self);
  started = self->started;
  GST_OBJECT_UNLOCK (self);

  if (GST_EVENT_TYPE (event) == GST_EVENT_EOS && started
      && GST_PAD_MODE (GST_BASE_SRC_PAD (self)) == GST_PAD_MODE_PUSH) {
    /* Graceful drain instead of BaseSrc's immediate EOS: create() cancels the
     * consumer, waits for in-flight deliveries to be acked and returns EOS. */
    GST_INFO_OBJECT (self, "EOS requested: draining");
    g_atomic_int_set (&self->drain_requested, 1);
    /* Only wake create(): an EOS arriving while a state change flushes must not
     * clear that flushing (unlock_stop), or create() would drain instead of
     * returning FLUSHING and the state change could wait for every delivery. */
    GST_OBJECT_LOCK (self);
    if (self->hub)
      ack_hub_wake (self->hub);
    GST_OBJECT_UNLOCK (self);
    gst_event_unref (event);
    return TRUE;
  }
  return GST_ELEMENT_CLASS (gst_amqp_src_parent_class)->send_event (element, event);
}

static gboolean
gst_amqp_src_negotiate (GstBaseSrc * bsrc)
{
  /* Caps come from each message (image/jpeg or the stored media type) and are
   * set in create() before the first buffer. */
  return TRUE;
}

/* ------------------------------------------------------------- messages ---- */

static const amqp_field_value_t *
table_get (const amqp_table_t * table, const gchar * key)
{
  gsize klen = strlen (key);
  for (int i = 0; i < table->num_entries; i++) {
    const amqp_table_entry_t *e = &table->entries[i];
    if (e->key.len == klen && memcmp (e->key.bytes, key, klen) == 0)
      return &e->value;
  }
  return NULL;
}

static gboolean
field_to_int64 (const amqp_field_value_t * v, gint64 * out)
{
  switch (v->kind) {
    case AMQP_FIELD_KIND_I8:
      *out = v->value.i8;
      return TRUE;
    case AMQP_FIELD_KIND_U8:
      *out = v->value.u8;
      return TRUE;
    case AMQP_FIELD_KIND_I16:
      *out = v->value.i16;
      return TRUE;
    case AMQP_FIELD_KIND_U16:
      *out = v->value.u16;
      return TRUE;
    case AMQP_FIELD_KIND_I32:
      *out = v->value.i32;
      return TRUE;
    case AMQP_FIELD_KIND_U32:
      *out = v->value.u32;
      return TRUE;
    case AMQP_FIELD_KIND_I64:
      *out = v->value.i64;
      return TRUE;
    case AMQP_FIELD_KIND_U64:
      *out = (gint64) MIN (v->value.u64, (guint64) G_MAXINT64);
      return TRUE;
    default:
      return FALSE;
  }
}

/* Redelivery accounting. Quorum queues count in x-delivery-count; x-death
 * counts dead-letter cycles through our queue. A classic queue only has the
 * redelivered flag, so amqpsrc keeps its own count in REDELIVERY_HEADER: a
 * redelivered message without a broker count is republished (in a transaction,
 * to the back of the queue) with the count + 1 and the original acked; the copy
 * is processed when it comes round. */
typedef struct
{
  gboolean broker_count;        /* x-delivery-count present */
  gint64 count;                 /* best known number of earlier deliveries */
  gint64 own;                   /* REDELIVERY_HEADER value, 0 if absent */
} Redeliveries;

static void
redelivery_count (const amqp_envelope_t * env, const gchar * queue, Redeliveries * r)
{
  const amqp_basic_properties_t *props = &env->message.properties;
  gint64 v;

  memset (r, 0, sizeof (*r));
  if (props->_flags & AMQP_BASIC_HEADERS_FLAG) {
    const amqp_field_value_t *f = table_get (&props->headers, "x-delivery-count");
    if (f && field_to_int64 (f, &v)) {
      r->broker_count = TRUE;
      r->count = MAX (r->count, v);
    }
    f = table_get (&props->headers, REDELIVERY_HEADER);
    if (f && field_to_int64 (f, &v)) {
      r->own = MAX (v, 0);
      r->count = MAX (r->count, v);
    }
    f = table_get (&props->headers, "x-death");
    if (f && f->kind == AMQP_FIELD_KIND_ARRAY) {
      gint64 deaths = 0;
      for (int i = 0; i < f->value.array.num_entries; i++) {
        const amqp_field_value_t *d = &f->value.array.entries[i];
        const amqp_field_value_t *q, *c;
        if (d->kind != AMQP_FIELD_KIND_TABLE)
          continue;
        q = table_get (&d->value.table, "queue");
        c = table_get (&d->value.table, "count");
        if (q && (q->kind == AMQP_FIELD_KIND_UTF8 || q->kind == AMQP_FIELD_KIND_BYTES)
            && q->value.bytes.len == strlen (queue)
            && memcmp (q->value.bytes.bytes, queue, q->value.bytes.len) == 0
            && c && field_to_int64 (c, &v))
          deaths += v;
      }
      r->count = MAX (r->count, deaths);
    }
  }
  if (env->redelivered && !r->broker_count)
    r->count = MAX (r->count, r->own + 1);
}

/* A delivery that may have been seen downstream before: the broker's
 * redelivered flag, or any redelivery count. On a classic queue the
 * redelivered original is republished with REDELIVERY_HEADER and acked, and
 * the copy arrives with redelivered=false: the header is what marks it. */
static gboolean
is_redelivery (const amqp_envelope_t * env, const gchar * queue)
{
  Redeliveries r;

  if (env->redelivered)
    return TRUE;
  redelivery_count (env, queue, &r);
  return r.count > 0;
}

#define REPUBLISH_CHANNEL 1000

/* The broker closed REPUBLISH_CHANNEL (e.g. 404 for a missing exchange):
 * answer with close-ok so the connection stays usable; the channel is
 * opened again on the next use. */
static void
republish_channel_failed (GstAmqpSrc * self, amqp_rpc_reply_t reply)
{
  State *st = self->state;

  st->republish_open = FALSE;
  if (reply.reply_type == AMQP_RESPONSE_SERVER_EXCEPTION
      && reply.reply.id == AMQP_CHANNEL_CLOSE_METHOD) {
    amqp_channel_close_ok_t ok = { 0 };
    amqp_send_method (edgefaas_amqp_conn_get_state (st->conn), REPUBLISH_CHANNEL,
        AMQP_CHANNEL_CLOSE_OK_METHOD, &ok);
  }
}

static gboolean
republish_rpc_ok (GstAmqpSrc * self, const gchar * what, GError ** error)
{
  amqp_rpc_reply_t r = amqp_get_rpc_reply (edgefaas_amqp_conn_get_state (self->state->conn));

  if (edgefaas_amqp_check_reply (r, what, error))
    return TRUE;
  republish_channel_failed (self, r);
  return FALSE;
}

/* Publish a copy of a message (@orig, @body) to @exchange/@routing_key inside a transaction on
 * REPUBLISH_CHANNEL: its headers without any of @extra's keys, plus @extra.
 * TRUE once the broker committed it (tx.commit-ok: routed and, for a durable
 * queue and a persistent message, written), so the caller may then ack the
 * original: a crash in between gives a duplicate, never a loss. */
static gboolean
publish_copy (GstAmqpSrc * self, const amqp_basic_properties_t * orig, amqp_bytes_t body,
    const gchar * exchange, const gchar * routing_key, const amqp_table_entry_t * extra,
    gint n_extra, GError ** error)
{
  State *st = self->state;
  amqp_connection_state_t cs = edgefaas_amqp_conn_get_state (st->conn);
  amqp_basic_properties_t props = *orig;
  const amqp_table_t *old = (props._flags & AMQP_BASIC_HEADERS_FLAG) ? &orig->headers : NULL;
  amqp_table_entry_t *entries;
  int n = 0, r;

  if (!st->republish_open) {
    amqp_channel_open (cs, REPUBLISH_CHANNEL);
    if (!edgefaas_amqp_check_reply (amqp_get_rpc_reply (cs), "channel.open (republish)", error))
      return FALSE;
    amqp_tx_select (cs, REPUBLISH_CHANNEL);
    if (!republish_rpc_ok (self, "tx.select", error))
      return FALSE;
    st->republish_open = TRUE;
  }

  entries = g_new0 (amqp_table_entry_t, (old ? old->num_entries : 0) + n_extra);
  for (int i = 0; old && i < old->num_entries; i++) {
    const amqp_bytes_t k = old->entries[i].key;
    gboolean replaced = FALSE;
    for (int e = 0; e < n_extra && !replaced; e++)
      replaced = k.len == extra[e].key.len && memcmp (k.bytes, extra[e].key.bytes, k.len) == 0;
    if (!replaced)
      entries[n++] = old->entries[i];
  }
  for (int e = 0; e < n_extra; e++)
    entries[n++] = extra[e];
  props._flags |= AMQP_BASIC_HEADERS_FLAG;
  props.headers.num_entries = n;
  props.headers.entries = entries;

  r = amqp_basic_publish (cs, REPUBLISH_CHANNEL, amqp_cstring_bytes (exchange),
      amqp_cstring_bytes (routing_key), 0, 0, &props, body);
  g_free (entries);
  if (r != AMQP_STATUS_OK) {
    g_set_error (error, EDGEFAAS_AMQP_ERROR, EDGEFAAS_AMQP_ERROR_PROTOCOL,
        "publish to '%s' failed: %s", exchange, amqp_error_string2 (r));
    st->republish_open = FALSE;
    return FALSE;
  }
  amqp_tx_commit (cs, REPUBLISH_CHANNEL);
  return republish_rpc_ok (self, "tx.commit", error);
}

/* Republish @env to our queue with REDELIVERY_HEADER = @count. */
static gboolean
republish_counted (GstAmqpSrc * self, const amqp_envelope_t * env, gint64 count, GError ** error)
{
  amqp_table_entry_t e;

  e.key = amqp_cstring_bytes (REDELIVERY_HEADER);
  e.value.kind = AMQP_FIELD_KIND_I64;
  e.value.value.i64 = count;
  return publish_copy (self, &env->message.properties, env->message.body, "",
      self->state->s.queue, &e, 1, error);
}

static gchar *
bytes_to_str (amqp_bytes_t b)
{
  return g_strndup (b.bytes, b.len);
}

static const gchar *
frameref_code (const GError * err)
{
  if (err->domain != EDGEFAAS_FRAMEREF_ERROR)
    return "frameref-io";
  switch (err->code) {
    case EDGEFAAS_FRAMEREF_ERROR_BAD_URI:
      return "frameref-bad-uri";
    case EDGEFAAS_FRAMEREF_ERROR_OUTSIDE_ROOT:
      return "frameref-outside-root";
    case EDGEFAAS_FRAMEREF_ERROR_NOT_FOUND:
      return "frameref-not-found";
    case EDGEFAAS_FRAMEREF_ERROR_NOT_REGULAR:
      return "frameref-not-regular";
    case EDGEFAAS_FRAMEREF_ERROR_TOO_LARGE:
      return "frameref-too-large";
    case EDGEFAAS_FRAMEREF_ERROR_SIZE_MISMATCH:
      return "frameref-size-mismatch";
    case EDGEFAAS_FRAMEREF_ERROR_HASH_MISMATCH:
      return "frameref-hash-mismatch";
    case EDGEFAAS_FRAMEREF_ERROR_HARDLINK:
      return "frameref-hardlink";
    default:
      return "frameref-io";
  }
}

/* Turn one delivery into an event + image bytes, or a reason to dead-letter it. */
static gboolean
decode_delivery (GstAmqpSrc * self, const amqp_envelope_t * env,
    EdgefaasFrameEvent ** out_event, EdgefaasDetectionEvent ** out_detection,
    GBytes ** out_bytes, gchar ** out_media_type, const gchar ** code, gchar ** reason)
{
  State *st = self->state;
  const amqp_basic_properties_t *props = &env->message.properties;
  g_autofree gchar *ctype = NULL;
  g_autoptr (EdgefaasFrameEvent) ev = NULL;
  GError *err = NULL;
  gsize len = env->message.body.len;
  Redeliveries redeliveries;

  if (props->_flags & AMQP_BASIC_CONTENT_TYPE_FLAG)
    ctype = bytes_to_str (props->content_type);

  redelivery_count (env, st->s.queue, &redeliveries);
  if (st->s.max_redeliveries >= 0 && redeliveries.count > st->s.max_redeliveries) {
    *code = "redelivered";
    *reason = g_strdup_printf ("redelivered %" G_GINT64_FORMAT " times (max-redeliveries=%d)",
        redeliveries.count, st->s.max_redeliveries);
    return FALSE;
  }
  if (st->s.max_bytes > 0 && len > st->s.max_bytes) {
    *code = "too-large";
    *reason = g_strdup_printf ("message body of %" G_GSIZE_FORMAT " bytes is larger than "
        "max-bytes=%" G_GUINT64_FORMAT, len, st->s.max_bytes);
    return FALSE;
  }

  if (st->s.kind == GST_AMQP_SRC_KIND_DETECTION) {
    /* A detection event: its source frame event says where the pixels are. */
    g_autoptr (EdgefaasDetectionEvent) det =
        edgefaas_detection_event_from_json (env->message.body.bytes, len, &err);
    if (det == NULL)
      goto parse_error;
    if (det->source == NULL || det->source->frame.uri == NULL) {
      *code = "no-source-frame";
      *reason = g_strdup ("detection event without a by-reference source frame "
          "(source.frame.uri): nothing to analyse the pixels of");
      return FALSE;
    }
    ev = edgefaas_frame_event_copy (det->source);
    *out_detection = g_steal_pointer (&det);
  }

  if (st->s.kind == GST_AMQP_SRC_KIND_FRAME && ctype && g_str_has_prefix (ctype, "image/")) {
    /* Inline: the body is the image, the event is in a header. */
    const amqp_field_value_t *h = NULL;
    g_autofree gchar *json = NULL;
    g_autofree gchar *hash = NULL;

    if (props->_flags & AMQP_BASIC_HEADERS_FLAG)
      h = table_get (&props->headers, EVENT_HEADER);
    if (h == NULL || !(h->kind == AMQP_FIELD_KIND_UTF8 || h->kind == AMQP_FIELD_KIND_BYTES)) {
      *code = "no-event-header";
      *reason = g_strdup_printf ("inline %s message without a string '" EVENT_HEADER
          "' header", ctype);
      return FALSE;
    }
    json = bytes_to_str (h->value.bytes);
    ev = edgefaas_frame_event_from_json (json, h->value.bytes.len, &err);
    if (ev == NULL)
      goto parse_error;
    if (ev->frame.size != 0 && ev->frame.size != len) {
      *code = "size-mismatch";
      *reason = g_strdup_printf ("inline frame is %" G_GSIZE_FORMAT " bytes, the event says %"
          G_GUINT64_FORMAT, len, ev->frame.size);
      return FALSE;
    }
    if (ev->frame.sha256 && *ev->frame.sha256) {
      hash = g_compute_checksum_for_data (G_CHECKSUM_SHA256, env->message.body.bytes, len);
      if (g_ascii_strcasecmp (hash, ev->frame.sha256) != 0) {
        *code = "hash-mismatch";
        *reason = g_strdup_printf ("inline frame SHA-256 %s does not match the event's %s",
            hash, ev->frame.sha256);
        return FALSE;
      }
    }
    *out_bytes = g_bytes_new (env->message.body.bytes, len);
    *out_media_type = g_strdup (ev->frame.media_type && *ev->frame.media_type ?
        ev->frame.media_type : ctype);
  } else {
    /* By reference: the body is the JSON event. */
    if (ev == NULL)
      ev = edgefaas_frame_event_from_json (env->message.body.bytes, len, &err);
    if (ev == NULL)
      goto parse_error;
    if (ev->frame.uri == NULL) {
      *code = "inline-without-image";
      *reason = g_strdup ("event marks the frame inline but the message body is not an "
          "image (content type missing or not image/*)");
      return FALSE;
    }
    if (st->s.frame_root == NULL || *st->s.frame_root == '\0') {
      *code = "no-frame-root";
      *reason = g_strdup_printf ("frame reference %s but no frame-root is configured",
          ev->frame.uri);
      return FALSE;
    }
    *out_bytes = edgefaas_frameref_load (ev->frame.uri, st->s.frame_root, st->s.max_bytes,
        ev->frame.size, ev->frame.sha256, &err);
    if (*out_bytes == NULL) {
      *code = frameref_code (err);
      *reason = g_strdup_printf ("frame reference rejected: %s", err->message);
      g_clear_error (&err);
      return FALSE;
    }
    *out_media_type = g_strdup (ev->frame.media_type && *ev->frame.media_type ?
        ev->frame.media_type : "image/jpeg");
  }
  *out_event = g_steal_pointer (&ev);
  return TRUE;

parse_error:
  *code = err->code == EDGEFAAS_EVENT_ERROR_SYNTAX ? "not-json" :
      err->code == EDGEFAAS_EVENT_ERROR_SCHEMA ? "wrong-schema" :
      err->code == EDGEFAAS_EVENT_ERROR_TOO_LARGE ? "too-large" : "invalid-field";
  *reason = g_strdup_printf ("invalid %s event: %s",
      st->s.kind == GST_AMQP_SRC_KIND_DETECTION ? "detection" : "frame", err->message);
  g_clear_error (&err);
  return FALSE;
}

/* Dead-letter a message amqpsrc refuses, carrying the reason: a copy with
 * REASON_CODE_HEADER / REASON_HEADER / REASON_QUEUE_HEADER is published to
 * the dead-letter exchange "<queue>.dlx" (the topology of declare=true, also
 * amqpsink's) in a transaction, then the original is acked. basic.reject
 * cannot add headers. If that exchange is missing or the publish fails, the
 * original is rejected without requeue instead, so the queue's own
 * dead-lettering still takes it (without the headers): nothing is lost. */
/* The copy with the reason headers to "<queue>.dlx"; TRUE once committed.
 * A failure is said once per connection, after which the plain reject is
 * used (dlx_missing). */
static gboolean
publish_dead_letter_copy (GstAmqpSrc * self, const amqp_basic_properties_t * props,
    amqp_bytes_t body, const gchar * code, const gchar * reason)
{
  State *st = self->state;
  g_autofree gchar *dlx = g_strdup_printf ("%s.dlx", st->s.queue);
  g_autofree gchar *text = g_strdup_printf ("%s: %.200s", code, reason);
  amqp_table_entry_t extra[3];
  GError *err = NULL;

  if (st->dlx_missing)
    return FALSE;
  extra[0].key = amqp_cstring_bytes (REASON_CODE_HEADER);
  extra[0].value.kind = AMQP_FIELD_KIND_UTF8;
  extra[0].value.value.bytes = amqp_cstring_bytes (code);
  extra[1].key = amqp_cstring_bytes (REASON_HEADER);
  extra[1].value.kind = AMQP_FIELD_KIND_UTF8;
  extra[1].value.value.bytes = amqp_cstring_bytes (text);
  extra[2].key = amqp_cstring_bytes (REASON_QUEUE_HEADER);
  extra[2].value.kind = AMQP_FIELD_KIND_UTF8;
  extra[2].value.value.bytes = amqp_cstring_bytes (st->s.queue);
  if (publish_copy (self, props, body, dlx, st->s.queue, extra, G_N_ELEMENTS (extra), &err))
    return TRUE;
  st->dlx_missing = TRUE;
  GST_ELEMENT_WARNING (self, RESOURCE, WRITE,
      ("Cannot publish dead-lettered messages with their reason to '%s'; rejecting "
          "them to the queue's own dead-letter exchange without it", dlx),
      ("%s (declare=true creates the exchange)", err->message));
  g_clear_error (&err);
  return FALSE;
}

/* Dead-letter a message amqpsrc refuses, carrying the reason: a copy with
 * REASON_CODE_HEADER / REASON_HEADER / REASON_QUEUE_HEADER is published to
 * the dead-letter exchange "<queue>.dlx" (the topology of declare=true, also
 * amqpsink's) in a transaction, then the original is acked. basic.reject
 * cannot add headers. If that exchange is missing or the publish fails, the
 * original is rejected without requeue instead, so the queue's own
 * dead-lettering still takes it (without the headers): nothing is lost. */
static void
dead_letter (GstAmqpSrc * self, const amqp_envelope_t * env, const gchar * code,
    const gchar * reason)
{
  State *st = self->state;
  amqp_connection_state_t cs = edgefaas_amqp_conn_get_state (st->conn);
  amqp_channel_t ch = edgefaas_amqp_conn_get_channel (st->conn);
  gboolean with_reason;
  int r;

  with_reason = publish_dead_letter_copy (self, &env->message.properties, env->message.body,
      code, reason);
  if (with_reason)
    r = amqp_basic_ack (cs, ch, env->delivery_tag, 0);
  else
    r = amqp_basic_reject (cs, ch, env->delivery_tag, 0);

  g_mutex_lock (&self->hub->lock);
  self->hub->stats.rejected++;
  g_mutex_unlock (&self->hub->lock);

  /* The details let applications (and tests) tell the reasons apart. */
  GST_ELEMENT_WARNING_WITH_DETAILS (self, STREAM, FORMAT,
      ("Rejected a message from queue '%s' (dead-lettered): %s", st->s.queue, reason),
      ("delivery tag %" G_GUINT64_FORMAT "%s, %s%s", env->delivery_tag,
          env->redelivered ? ", redelivered" : "",
          with_reason ? "copy with " REASON_HEADER " published to <queue>.dlx" :
          "rejected to the queue's dead-letter exchange",
          r == AMQP_STATUS_OK ? "" : ", ack/reject could not be sent (connection lost)"),
      ("reason-code", G_TYPE_STRING, code, "reason", G_TYPE_STRING, reason,
          "queue", G_TYPE_STRING, st->s.queue, "delivery-tag", G_TYPE_UINT64,
          env->delivery_tag, "reason-header", G_TYPE_BOOLEAN, with_reason, NULL));
}

static gboolean
set_media_type (GstAmqpSrc * self, const gchar * media_type)
{
  State *st = self->state;
  GstCaps *caps;
  gboolean ok;

  if (g_strcmp0 (st->current_media_type, media_type) == 0)
    return TRUE;
  caps = gst_caps_new_empty_simple (media_type);
  ok = gst_base_src_set_caps (GST_BASE_SRC (self), caps);
  gst_caps_unref (caps);
  if (ok) {
    g_free (st->current_media_type);
    st->current_media_type = g_strdup (media_type);
  }
  return ok;
}

/* Returns a buffer for a good delivery, NULL after rejecting a bad one. */
static GstBuffer *
handle_delivery (GstAmqpSrc * self, amqp_envelope_t * env, GstFlowReturn * ret)
{
  State *st = self->state;
  amqp_connection_state_t cs = edgefaas_amqp_conn_get_state (st->conn);
  amqp_channel_t ch = edgefaas_amqp_conn_get_channel (st->conn);
  EdgefaasFrameEvent *ev = NULL;
  EdgefaasDetectionEvent *det = NULL;
  GBytes *bytes = NULL;
  gchar *media_type = NULL, *reason = NULL;
  const gchar *code = NULL;
  GstBuffer *buf;
  EdgefaasAckToken *token = NULL;
  const gchar *delete_uri;
  GBytes *saved_body = NULL;
  GstClock *clock;

  *ret = GST_FLOW_OK;
  g_mutex_lock (&self->hub->lock);
  self->hub->stats.received++;
  g_mutex_unlock (&self->hub->lock);
  st->last_activity = g_get_monotonic_time ();

  if (env->redelivered && st->s.max_redeliveries >= 0) {
    Redeliveries rd;
    redelivery_count (env, st->s.queue, &rd);
    if (!rd.broker_count && rd.count <= st->s.max_redeliveries) {
      GError *err = NULL;
      if (republish_counted (self, env, rd.count, &err)) {
        amqp_basic_ack (cs, ch, env->delivery_tag, 0);
        g_mutex_lock (&self->hub->lock);
        self->hub->stats.republished++;
        g_mutex_unlock (&self->hub->lock);
        GST_DEBUG_OBJECT (self, "redelivered message requeued with %s=%" G_GINT64_FORMAT,
            REDELIVERY_HEADER, rd.count);
        return NULL;
      }
      /* Could not keep a count: process it anyway (at-least-once), say so. */
      GST_ELEMENT_WARNING (self, RESOURCE, WRITE,
          ("Could not republish a redelivered message with its redelivery count"),
          ("%s", err->message));
      g_clear_error (&err);
    }
  }

  if (!decode_delivery (self, env, &ev, &det, &bytes, &media_type, &code, &reason)) {
    dead_letter (self, env, code, reason);
    g_free (reason);
    if (det)
      edgefaas_detection_event_free (det);
    return NULL;
  }

  if (!set_media_type (self, media_type)) {
    /* Not the message's fault: give it back to the queue and stop. */
    amqp_basic_nack (cs, ch, env->delivery_tag, 0, 1);
    GST_ELEMENT_ERROR (self, CORE, NEGOTIATION, ("Downstream does not accept %s", media_type),
        ("message requeued"));
    *ret = GST_FLOW_NOT_NEGOTIATED;
    goto out;
  }

  ev->trace.consumed_us = edgefaas_now_utc_us ();
  buf = gst_buffer_new_wrapped_bytes (bytes);
  saved_body = g_steal_pointer (&bytes);        /* unreffed below */

  /* Only a frame file this delivery loaded from inside frame-root. */
  delete_uri = st->s.delete_after_ack && !ev->frame.is_inline ? ev->frame.uri : NULL;
  if (st->s.ack_mode == GST_AMQP_SRC_ACK_IMMEDIATE) {
    int r = amqp_basic_ack (cs, ch, env->delivery_tag, 0);
    if (r == AMQP_STATUS_OK) {
      g_mutex_lock (&self->hub->lock);
      self->hub->stats.acked++;
      g_mutex_unlock (&self->hub->lock);
      if (delete_uri)
        g_ptr_array_add (st->acked_frames, g_strdup (delete_uri));
    }
  } else {
    TokenData *td = g_new0 (TokenData, 1);
    td->hub = ack_hub_ref (self->hub);
    td->tag = env->delivery_tag;
    td->frame_uri = g_strdup (delete_uri);
    /* For a downstream reject with the reason header: inline, the body is
     * the image the buffer already holds; by reference, the small JSON. */
    if (ev->frame.is_inline) {
      td->saved = saved_message_new (&env->message.properties, saved_body);
    } else {
      GBytes *json = g_bytes_new (env->message.body.bytes, env->message.body.len);
      td->saved = saved_message_new (&env->message.properties, json);
      g_bytes_unref (json);
    }
    g_mutex_lock (&self->hub->lock);
    td->generation = self->hub->generation;
    self->hub->inflight++;
    g_mutex_unlock (&self->hub->lock);
    token = edgefaas_ack_token_new (token_func, td, token_data_free);
  }
  gst_buffer_add_edgefaas_event_meta (buf, ev, token);
  if (det) {
    gst_buffer_add_edgefaas_detection_meta (buf, det);
    edgefaas_detection_event_free (det);
    det = NULL;
  }
  if (token)
    edgefaas_ack_token_unref (token);

  clock = gst_element_get_clock (GST_ELEMENT (self));
  if (clock) {
    GstClockTime now = gst_clock_get_time (clock);
    GstClockTime base = gst_element_get_base_time (GST_ELEMENT (self));
    GST_BUFFER_PTS (buf) = now > base ? now - base : 0;
    gst_object_unref (clock);
  }
  GST_BUFFER_OFFSET (buf) = st->offset++;
  if (is_redelivery (env, st->s.queue))
    GST_BUFFER_FLAG_SET (buf, GST_BUFFER_FLAG_DISCONT);

  g_mutex_lock (&self->hub->lock);
  self->hub->stats.pushed++;
  g_mutex_unlock (&self->hub->lock);

  GST_LOG_OBJECT (self, "delivery %" G_GUINT64_FORMAT ": camera %s event %" G_GUINT64_FORMAT
      " seq %" G_GUINT64_FORMAT ", %" G_GSIZE_FORMAT " bytes %s", env->delivery_tag,
      ev->camera_id, ev->event_id, ev->sequence, gst_buffer_get_size (buf), media_type);
  edgefaas_frame_event_free (ev);
  g_free (media_type);
  /* gst_buffer_new_wrapped_bytes() took its own reference (transfer none):
   * without this unref every frame body stayed allocated (issue 15.1). */
  g_bytes_unref (saved_body);
  return buf;

out:
  if (ev)
    edgefaas_frame_event_free (ev);
  if (det)
    edgefaas_detection_event_free (det);
  if (bytes)
    g_bytes_unref (bytes);
  g_free (media_type);
  return NULL;
}

/* The broker cancelled our consumer (consumer_cancel_notify): the queue was
 * deleted (or, on a cluster, its node went away). Never go on consuming
 * nothing: say so, drop the connection (its delivery tags are void) and
 * re-establish the consumer through the reconnect path, which re-declares
 * the topology when declare=true and otherwise retries with backoff until
 * the queue exists again. */
static void
consumer_cancelled (GstAmqpSrc * self, const amqp_basic_cancel_t * cancel)
{
  State *st = self->state;

  g_mutex_lock (&self->hub->lock);
  self->hub->stats.cancels++;
  g_mutex_unlock (&self->hub->lock);
  GST_ELEMENT_WARNING_WITH_DETAILS (self, RESOURCE, READ,
      ("The broker cancelled the consumer of queue '%s' (queue deleted?); %s", st->s.queue,
          st->s.declare ? "declaring the queue again and resuming" :
          "resuming when the queue exists again"),
      ("%s: consumer %.*s; unacknowledged deliveries of that queue are void",
          st->redacted_url, (int) cancel->consumer_tag.len,
          (const char *) cancel->consumer_tag.bytes),
      ("reason-code", G_TYPE_STRING, "consumer-cancelled", "queue", G_TYPE_STRING,
          st->s.queue, NULL));
  drop_connection (self);
  st->cancelled = TRUE;
  amqp_client_connection_lost (st->client);
  st->next_connect = g_get_monotonic_time ();
}

/* A frame that is not a delivery arrived (amqp_consume_message said
 * UNEXPECTED_STATE). Returns FALSE when the connection must be dropped. */
static gboolean
handle_other_frame (GstAmqpSrc * self, gchar ** why)
{
  State *st = self->state;
  amqp_connection_state_t cs = edgefaas_amqp_conn_get_state (st->conn);
  amqp_frame_t frame;
  struct timeval zero = { 0, 0 };
  int r = amqp_simple_wait_frame_noblock (cs, &frame, &zero);

  if (r == AMQP_STATUS_TIMEOUT)
    return TRUE;
  if (r != AMQP_STATUS_OK) {
    *why = g_strdup_printf ("reading a frame failed: %s", amqp_error_string2 (r));
    return FALSE;
  }
  if (frame.frame_type != AMQP_FRAME_METHOD)
    return TRUE;

  switch (frame.payload.method.id) {
    case AMQP_BASIC_CANCEL_OK_METHOD:
      return TRUE;
    case AMQP_BASIC_CANCEL_METHOD:
      consumer_cancelled (self, frame.payload.method.decoded);
      return TRUE;
    default:
      if (edgefaas_amqp_answer_close (cs, &frame, why))
        return FALSE;
      GST_DEBUG_OBJECT (self, "ignoring method 0x%08x", frame.payload.method.id);
      return TRUE;
  }
}

/* A GstBaseSink keeps its last buffer (enable-last-sample=true, the default),
 * so with ack-after-processing the last delivery would stay unacked until the
 * next one arrives: an idle consumer would hold one message forever (and KEDA
 * http mode would count it). Walk downstream and turn that off on every sink. */
static void
release_last_samples (GstAmqpSrc * self, GstPad * sinkpad, guint depth)
{
  GstObject *parent;

  if (sinkpad == NULL || depth > 64)
    return;
  if (GST_IS_GHOST_PAD (sinkpad)) {
    GstPad *target = gst_ghost_pad_get_target (GST_GHOST_PAD (sinkpad));
    if (target) {
      release_last_samples (self, target, depth + 1);
      gst_object_unref (target);
    }
    return;
  }
  parent = gst_pad_get_parent (sinkpad);
  if (parent == NULL)
    return;
  if (GST_IS_PAD (parent)) {
    /* The internal pad of a src ghost pad: continue after the bin. */
    GstPad *peer = gst_pad_get_peer (GST_PAD (parent));
    release_last_samples (self, peer, depth + 1);
    if (peer)
      gst_object_unref (peer);
  } else if (GST_IS_BASE_SINK (parent)) {
    if (gst_base_sink_is_last_sample_enabled (GST_BASE_SINK (parent))) {
      GST_INFO_OBJECT (self, "disabling last-sample on %" GST_PTR_FORMAT
          " so the last delivery can be acked", parent);
      gst_base_sink_set_last_sample_enabled (GST_BASE_SINK (parent), FALSE);
    }
  } else if (GST_IS_ELEMENT (parent)) {
    GstIterator *it = gst_element_iterate_src_pads (GST_ELEMENT (parent));
    GValue v = G_VALUE_INIT;
    while (gst_iterator_next (it, &v) == GST_ITERATOR_OK) {
      GstPad *peer = gst_pad_get_peer (g_value_get_object (&v));
      release_last_samples (self, peer, depth + 1);
      if (peer)
        gst_object_unref (peer);
      g_value_reset (&v);
    }
    g_value_unset (&v);
    gst_iterator_free (it);
  }
  gst_object_unref (parent);
}

static void
release_downstream_last_samples (GstAmqpSrc * self)
{
  GstPad *peer;

  if (self->state->s.ack_mode != GST_AMQP_SRC_ACK_AFTER_PROCESSING)
    return;
  peer = gst_pad_get_peer (GST_BASE_SRC_PAD (self));
  release_last_samples (self, peer, 0);
  if (peer)
    gst_object_unref (peer);
}

static void
start_drain (GstAmqpSrc * self, const gchar * reason)
{
  State *st = self->state;
  if (st->draining)
    return;
  st->draining = TRUE;
  st->drain_reason = reason;
  st->drain_deadline = st->s.drain_timeout ?
      g_get_monotonic_time () + (gint64) st->s.drain_timeout * G_USEC_PER_SEC : G_MAXINT64;
  GST_INFO_OBJECT (self, "draining (%s)", reason);
}

/* Wait until the socket is readable, the hub is woken or @timeout_ms passed. */
static void
wait_io (GstAmqpSrc * self, gint timeout_ms)
{
  State *st = self->state;
  struct pollfd fds[2];
  int n = 0;

  fds[n].fd = self->hub->wake_fd;
  fds[n].events = POLLIN;
  n++;
  if (st->conn) {
    amqp_connection_state_t cs = edgefaas_amqp_conn_get_state (st->conn);
    if (amqp_frames_enqueued (cs) || amqp_data_in_buffer (cs))
      return;
    fds[n].fd = amqp_get_sockfd (cs);
    fds[n].events = POLLIN;
    n++;
  }
  if (poll (fds, n, timeout_ms) > 0 && (fds[0].revents & POLLIN))
    ack_hub_clear_wake (self->hub);
}

static GstFlowReturn
gst_amqp_src_create (GstPushSrc * psrc, GstBuffer ** outbuf)
{
  GstAmqpSrc *self = GST_AMQP_SRC (psrc);
  State *st = self->state;

  for (;;) {
    amqp_connection_state_t cs;
    amqp_envelope_t env;
    amqp_rpc_reply_t res;
    struct timeval zero = { 0, 0 };
    gint64 now;
    guint inflight, npending;

    if (g_atomic_int_get (&self->flushing))
      return GST_FLOW_FLUSHING;

    if (st->conn && !service_acks (self))
      connection_lost (self, "sending acknowledgements failed");

    now = g_get_monotonic_time ();
    if (g_atomic_int_get (&self->drain_requested))
      start_drain (self, "EOS requested");
    {
      guint64 received;
      g_mutex_lock (&self->hub->lock);
      received = self->hub->stats.received;
      g_mutex_unlock (&self->hub->lock);
      if (st->s.max_messages && received >= st->s.max_messages)
        start_drain (self, "max-messages reached");
    }
    if (st->s.idle_timeout && !st->draining
        && now - st->last_activity >= (gint64) st->s.idle_timeout * G_USEC_PER_SEC)
      start_drain (self, "idle-timeout expired");

    if (st->draining) {
      g_mutex_lock (&self->hub->lock);
      inflight = self->hub->inflight;
      npending = self->hub->pending.length;
      g_mutex_unlock (&self->hub->lock);
      if (st->conn && !st->cancel_sent && st->consumer_tag) {
        cs = edgefaas_amqp_conn_get_state (st->conn);
        amqp_basic_cancel (cs, edgefaas_amqp_conn_get_channel (st->conn),
            amqp_cstring_bytes (st->consumer_tag));
        st->cancel_sent = TRUE;
        if (amqp_get_rpc_reply (cs).reply_type != AMQP_RESPONSE_NORMAL) {
          connection_lost (self, "basic.cancel failed");
          continue;
        }
      }
      if (!st->drain_query_sent) {
        /* Serialized: passes queues after their data, and asks elements that
         * keep buffers (decoders, a sink's last-sample) to release them. */
        GstQuery *q = gst_query_new_drain ();
        st->drain_query_sent = TRUE;
        release_downstream_last_samples (self);
        if (!gst_pad_peer_query (GST_BASE_SRC_PAD (self), q))
          GST_DEBUG_OBJECT (self, "drain query not answered");
        gst_query_unref (q);
        continue;
      }
      if (st->conn == NULL) {
        GST_INFO_OBJECT (self, "drained (%s) without a connection: %u in-flight "
            "deliveries will be redelivered", st->drain_reason, inflight);
        return GST_FLOW_EOS;
      }
      cs = edgefaas_amqp_conn_get_state (st->conn);
      /* Deliveries that arrived before cancel-ok sit in rabbitmq-c's frame
       * queue: read and requeue them first, or they stay unacked until close. */
      if (inflight == 0 && npending == 0 && !amqp_frames_enqueued (cs)
          && !amqp_data_in_buffer (cs)) {
        GST_INFO_OBJECT (self, "drained (%s): every in-flight delivery acked",
            st->drain_reason);
        return GST_FLOW_EOS;
      }
      if (now >= st->drain_deadline) {
        GST_ELEMENT_WARNING (self, RESOURCE, READ,
            ("Drain timed out with %u deliveries still in flight", inflight),
            ("they are acked if released before the element stops, else requeued"));
        return GST_FLOW_EOS;
      }
    }

    if (st->conn == NULL) {
      GError *err = NULL;
      if (now < st->next_connect) {
        wait_io (self, (gint) MIN ((st->next_connect - now) / 1000 + 1, POLL_INTERVAL_MS));
        continue;
      }
      if (connect_and_consume (self, &err)) {
        if (amqp_client_connected (st->client)) {
          g_mutex_lock (&self->hub->lock);
          self->hub->stats.reconnects++;
          g_mutex_unlock (&self->hub->lock);
          if (st->cancelled)
            GST_ELEMENT_INFO (self, RESOURCE, READ, ("Consuming from queue '%s' again",
                    st->s.queue), ("%s: the consumer the broker cancelled is re-established",
                    st->redacted_url));
          else
            GST_ELEMENT_INFO (self, RESOURCE, READ, ("Reconnected to the AMQP broker"),
                ("%s", st->redacted_url));
        }
        st->cancelled = FALSE;
        continue;
      }
      if (amqp_client_woken (st->client)) {
        /* unlock(): the top of the loop returns FLUSHING. */
        g_clear_error (&err);
        continue;
      }
      if (amqp_client_error_is_fatal (st->client, err)) {
        gchar *what = g_strdup_printf ("for queue '%s'", st->s.queue);
        amqp_client_post_error (st->client, err, what);
        g_free (what);
        g_clear_error (&err);
        return GST_FLOW_ERROR;
      }
      {
        gboolean warn;
        guint delay_ms = amqp_client_connect_failed (st->client, err, &warn);
        guint attempt = amqp_client_failed_attempts (st->client);
        if (warn && st->cancelled)
          GST_ELEMENT_WARNING_WITH_DETAILS (self, RESOURCE, OPEN_READ,
              ("Queue '%s' cannot be consumed yet (attempt %u); retrying", st->s.queue,
                  attempt), ("%s: %s", st->redacted_url, err->message),
              ("reason-code", G_TYPE_STRING, "consumer-waiting", "queue", G_TYPE_STRING,
                  st->s.queue, "attempt", G_TYPE_UINT, attempt, NULL));
        else if (warn)
          GST_ELEMENT_WARNING (self, RESOURCE, OPEN_READ,
              ("Cannot connect to the AMQP broker (attempt %u); retrying", attempt),
              ("%s: %s", st->redacted_url, err->message));
        g_clear_error (&err);
        st->next_connect = g_get_monotonic_time () + (gint64) delay_ms * 1000;
      }
      continue;
    }

    wait_io (self, st->draining ? 20 : POLL_INTERVAL_MS);
    if (g_atomic_int_get (&self->flushing))
      return GST_FLOW_FLUSHING;

    cs = edgefaas_amqp_conn_get_state (st->conn);
    amqp_maybe_release_buffers (cs);
    /* A zero timeout: never blocks, and lets rabbitmq-c send heartbeats. */
    res = amqp_consume_message (cs, &env, &zero, 0);
    if (res.reply_type == AMQP_RESPONSE_NORMAL) {
      GstFlowReturn ret;
      GstBuffer *buf;

      if (st->draining) {
        /* Arrived before our basic.cancel took effect: give it back. */
        amqp_basic_nack (cs, edgefaas_amqp_conn_get_channel (st->conn), env.delivery_tag, 0,
            1);
        g_mutex_lock (&self->hub->lock);
        self->hub->stats.requeued++;
        g_mutex_unlock (&self->hub->lock);
        amqp_destroy_envelope (&env);
        continue;
      }
      if (!st->sinks_released) {
        release_downstream_last_samples (self);
        st->sinks_released = TRUE;
      }
      buf = handle_delivery (self, &env, &ret);
      amqp_destroy_envelope (&env);
      if (ret != GST_FLOW_OK)
        return ret;
      if (buf) {
        *outbuf = buf;
        return GST_FLOW_OK;
      }
      continue;
    }
    if (res.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION
        && res.library_error == AMQP_STATUS_TIMEOUT)
      continue;
    if (res.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION
        && res.library_error == AMQP_STATUS_UNEXPECTED_STATE) {
      gchar *why = NULL;
      if (!handle_other_frame (self, &why)) {
        connection_lost (self, why);
        g_free (why);
      }
      continue;
    }
    {
      gchar *why = g_strdup_printf ("consume failed: %s",
          res.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION ?
          amqp_error_string2 (res.library_error) : "server exception");
      connection_lost (self, why);
      g_free (why);
    }
  }
}

/* ---------------------------------------------------------------- class ---- */

static void
gst_amqp_src_finalize (GObject * object)
{
  GstAmqpSrc *self = GST_AMQP_SRC (object);
  settings_clear (&self->settings);
  G_OBJECT_CLASS (gst_amqp_src_parent_class)->finalize (object);
}

static void
gst_amqp_src_class_init (GstAmqpSrcClass * klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);
  GstBaseSrcClass *basesrc_class = GST_BASE_SRC_CLASS (klass);
  GstPushSrcClass *pushsrc_class = GST_PUSH_SRC_CLASS (klass);
  const GParamFlags rw = G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_READY;

  gobject_class->set_property = gst_amqp_src_set_property;
  gobject_class->get_property = gst_amqp_src_get_property;
  gobject_class->finalize = gst_amqp_src_finalize;

  /* url, password-env, credentials-file, tls-ca, tls-cert, tls-key, tls-verify */
  edgefaas_amqp_settings_install_properties (gobject_class, PROP_AMQP_FIRST);
  /**
   * GstAmqpSrc:queue:
   *
   * The queue to consume from (required).
   */
  g_object_class_install_property (gobject_class, PROP_QUEUE,
      g_param_spec_string ("queue", "Queue", "Queue to consume from", DEFAULT_QUEUE, rw));
  /**
   * GstAmqpSrc:prefetch:
   *
   * basic.qos prefetch count: deliveries the broker sends before acks. Keep it
   * at or below the KEDA trigger's value. 0 means unlimited (not recommended).
   */
  g_object_class_install_property (gobject_class, PROP_PREFETCH,
      g_param_spec_uint ("prefetch", "Prefetch", "basic.qos prefetch count (0 = unlimited)",
          0, G_MAXUINT16, DEFAULT_PREFETCH, rw));
  /**
   * GstAmqpSrc:declare:
   *
   * Declare the topology with the same helper as amqpsink: durable queue with
   * dead-letter exchange `<queue>.dlx` and dead-letter queue `<queue>.dead`, and
   * (when #GstAmqpSrc:exchange is set) the durable exchange and binding.
   */
  g_object_class_install_property (gobject_class, PROP_DECLARE,
      g_param_spec_boolean ("declare", "Declare",
          "Declare queue, dead-letter exchange/queue and (if exchange is set) the exchange "
          "and binding", DEFAULT_DECLARE, rw));
  g_object_class_install_property (gobject_class, PROP_EXCHANGE,
      g_param_spec_string ("exchange", "Exchange",
          "Exchange to declare and bind the queue to when declare=true (\"\" = none)",
          DEFAULT_EXCHANGE, rw));
  g_object_class_install_property (gobject_class, PROP_EXCHANGE_TYPE,
      g_param_spec_string ("exchange-type", "Exchange type",
          "Type of the declared exchange (direct, topic, fanout)", DEFAULT_EXCHANGE_TYPE, rw));
  g_object_class_install_property (gobject_class, PROP_ROUTING_KEY,
      g_param_spec_string ("routing-key", "Routing key",
          "Binding key used when declaring (default: the queue name)", DEFAULT_ROUTING_KEY, rw));
  /**
   * GstAmqpSrc:frame-root:
   *
   * Directory that `file://` frame references must resolve into (after
   * canonicalisation); anything else is rejected.
   */
  g_object_class_install_property (gobject_class, PROP_FRAME_ROOT,
      g_param_spec_string ("frame-root", "Frame root",
          "Directory file:// frame references are confined to", DEFAULT_FRAME_ROOT, rw));
  g_object_class_install_property (gobject_class, PROP_MAX_BYTES,
      g_param_spec_uint64 ("max-bytes", "Max bytes",
          "Largest message body or referenced frame accepted (0 = no limit)", 0, G_MAXUINT64,
          DEFAULT_MAX_BYTES, rw));
  /**
   * GstAmqpSrc:max-redeliveries:
   *
   * Dead-letter a message delivered more than this many times before. The count
   * is x-delivery-count (quorum queues), the x-death count for this queue, or
   * the `x-edgefaas-redeliveries` header amqpsrc keeps on classic queues: a
   * redelivered message without a broker count is republished to the back of
   * the queue with the count + 1 (in a transaction, then the original is
   * acked) and processed when the copy arrives. -1 disables the check (and the
   * republishing).
   */
  g_object_class_install_property (gobject_class, PROP_MAX_REDELIVERIES,
      g_param_spec_int ("max-redeliveries", "Max redeliveries",
          "Dead-letter messages redelivered more often than this (-1 = never)", -1, G_MAXINT,
          DEFAULT_MAX_REDELIVERIES, rw));
  g_object_class_install_property (gobject_class, PROP_ACK_MODE,
      g_param_spec_enum ("ack-mode", "Ack mode", "When deliveries are acknowledged",
          GST_TYPE_AMQP_SRC_ACK_MODE, DEFAULT_ACK_MODE, rw));
  g_object_class_install_property (gobject_class, PROP_IDLE_TIMEOUT,
      g_param_spec_uint ("idle-timeout", "Idle timeout",
          "Drain and push EOS after this many seconds without a message (0 = never)", 0,
          G_MAXUINT, DEFAULT_IDLE_TIMEOUT, rw));
  g_object_class_install_property (gobject_class, PROP_MAX_MESSAGES,
      g_param_spec_uint64 ("max-messages", "Max messages",
          "Drain and push EOS after this many messages (0 = unlimited)", 0, G_MAXUINT64,
          DEFAULT_MAX_MESSAGES, rw));
  g_object_class_install_property (gobject_class, PROP_IS_LIVE,
      g_param_spec_boolean ("is-live", "Is live",
          "Act as a live source (no preroll; buffers only produced in PLAYING)",
          DEFAULT_IS_LIVE, rw));
  g_object_class_install_property (gobject_class, PROP_DRAIN_TIMEOUT,
      g_param_spec_uint ("drain-timeout", "Drain timeout",
          "Longest wait, in seconds, for in-flight deliveries to be released on drain "
          "(0 = forever)", 0, G_MAXUINT, DEFAULT_DRAIN_TIMEOUT, rw));
  /**
   * GstAmqpSrc:delete-after-ack:
   *
   * Delete the frame file of a by-reference delivery once its ack reached the
   * broker (a basic.qos round trip after the acks proves it), through
   * edgefaas_frameref_delete(): only inside #GstAmqpSrc:frame-root, never
   * following a link, never a file with more than one hard link. Never on
   * reject, requeue, or an ack that could not be sent, so a redelivery still
   * finds its file. For the last consumer of a frame only: a file that other
   * messages or consumers still reference must not be deleted. Inline frames
   * have no file. Counted in stats frames-deleted / delete-failures.
   */
  g_object_class_install_property (gobject_class, PROP_DELETE_AFTER_ACK,
      g_param_spec_boolean ("delete-after-ack", "Delete after ack",
          "Delete a by-reference frame file (inside frame-root) once its delivery has been "
          "acked; never on reject or requeue", DEFAULT_DELETE_AFTER_ACK, rw));

  /**
   * GstAmqpSrc:kind:
   *
   * `frame` (default): frame events. `detection`: detection events (the
   * analytics stage): the body is an edgefaas.detection/v1 event whose
   * `source` frame reference is loaded from #GstAmqpSrc:frame-root like a
   * frame event's; the buffer carries the source frame event (event meta) and
   * the detection event (GstEdgefaasDetectionMeta). A detection event
   * without a by-reference source frame is dead-lettered (reason-code
   * `no-source-frame`).
   */
  g_object_class_install_property (gobject_class, PROP_KIND,
      g_param_spec_enum ("kind", "Kind", "Which events the queue carries",
          GST_TYPE_AMQP_SRC_KIND, DEFAULT_KIND, rw));
  /**
   * GstAmqpSrc:stats:
   *
   * Counters: received, pushed, acked, rejected (dead-lettered), requeued,
   * republished (redelivered messages requeued with a redelivery count),
   * reconnects, cancels (consumer cancelled by the broker: queue deleted),
   * frames-deleted / delete-failures (#GstAmqpSrc:delete-after-ack),
   * dropped-acks (released after their connection was gone) and in-flight
   * (deliveries whose buffers are still alive).
   */
  g_object_class_install_property (gobject_class, PROP_STATS,
      g_param_spec_boxed ("stats", "Statistics", "Consumer counters", GST_TYPE_STRUCTURE,
          G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));

  gst_element_class_add_static_pad_template (element_class, &src_template);
  gst_element_class_set_static_metadata (element_class, "AMQP frame event source",
      "Source/Network",
      "Consumes edgefaas frame events from an AMQP 0-9-1 queue (RabbitMQ) with "
      "acknowledgement after processing", "edgefaas");

  element_class->send_event = GST_DEBUG_FUNCPTR (gst_amqp_src_send_event);
  basesrc_class->start = GST_DEBUG_FUNCPTR (gst_amqp_src_start);
  basesrc_class->stop = GST_DEBUG_FUNCPTR (gst_amqp_src_stop);
  basesrc_class->unlock = GST_DEBUG_FUNCPTR (gst_amqp_src_unlock);
  basesrc_class->unlock_stop = GST_DEBUG_FUNCPTR (gst_amqp_src_unlock_stop);
  basesrc_class->negotiate = GST_DEBUG_FUNCPTR (gst_amqp_src_negotiate);
  pushsrc_class->create = GST_DEBUG_FUNCPTR (gst_amqp_src_create);

  gst_type_mark_as_plugin_api (GST_TYPE_AMQP_SRC_ACK_MODE, 0);
  gst_type_mark_as_plugin_api (GST_TYPE_AMQP_SRC_KIND, 0);
}

static void
gst_amqp_src_init (GstAmqpSrc * self)
{
  Settings *s = &self->settings;

  edgefaas_amqp_settings_init (&s->amqp);
  s->prefetch = DEFAULT_PREFETCH;
  s->declare = DEFAULT_DECLARE;
  s->exchange = g_strdup (DEFAULT_EXCHANGE);
  s->exchange_type = g_strdup (DEFAULT_EXCHANGE_TYPE);
  s->max_bytes = DEFAULT_MAX_BYTES;
  s->max_redeliveries = DEFAULT_MAX_REDELIVERIES;
  s->ack_mode = DEFAULT_ACK_MODE;
  s->kind = DEFAULT_KIND;
  s->idle_timeout = DEFAULT_IDLE_TIMEOUT;
  s->max_messages = DEFAULT_MAX_MESSAGES;
  s->is_live = DEFAULT_IS_LIVE;
  s->drain_timeout = DEFAULT_DRAIN_TIMEOUT;
  s->delete_after_ack = DEFAULT_DELETE_AFTER_ACK;

  gst_base_src_set_live (GST_BASE_SRC (self), DEFAULT_IS_LIVE);
  gst_base_src_set_format (GST_BASE_SRC (self), GST_FORMAT_TIME);
}
