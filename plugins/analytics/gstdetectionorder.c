/* detectionorder: per-camera capture order and dedup for detection events.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
/**
 * SECTION:element-detectionorder
 * @title: detectionorder
 *
 * Puts each camera's frames back into capture order and drops duplicates,
 * between `amqpsrc kind=detection ! jpegdec` and `objecttrack`: with N
 * inference replicas a camera's detection events finish in any order, and
 * at-least-once delivery repeats some. A buffer is identified by its edgefaas
 * event meta (camera id, sequence, capture time).
 *
 * Each camera's buffers are held until they are #GstDetectionOrder:latency
 * older (capture time) than the newest buffer of that camera, or the camera
 * holds more than #GstDetectionOrder:max-held, or they have waited
 * #GstDetectionOrder:stale-timeout of wall time (a camera whose events stop),
 * or EOS; then they leave in (capture time, sequence) order. A buffer with
 * the same camera, sequence and capture time as one seen before is dropped
 * (duplicate); one older than a buffer already released is dropped (late:
 * the analytics after this element need capture order). Dropping releases
 * the buffer, so amqpsrc acknowledges its delivery. The counts are in
 * #GstDetectionOrder:stats and late ones are also logged as warnings.
 *
 * When the buffer carries a GstEdgefaasDetectionMeta (amqpsrc kind=detection)
 * and no detection ROI metas yet, its detections become
 * #GstVideoRegionOfInterestMeta with a `detection` param (label, label_id,
 * confidence, x_min, y_min, x_max, y_max), as yolov4infer writes them, so
 * objecttrack and situationdetect see the same input as in a single pipeline.
 *
 * ## Example launch line
 * |[
 * gst-launch-1.0 amqpsrc url=amqp://edgefaas@rabbitmq/ queue=analytics kind=detection \
 *   frame-root=/frames prefetch=16 ! jpegdec ! detectionorder latency=1000 ! \
 *   objecttrack ! situationdetect rules=coco.conf labels=coco.names ! fakesink
 * ]|
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <gst/gst.h>
#include <gst/video/video.h>

#include "edgefaas-meta.h"
#include "gstdetectionorder.h"
#include "reorder.h"

GST_DEBUG_CATEGORY_STATIC (gst_detection_order_debug);
#define GST_CAT_DEFAULT gst_detection_order_debug

#define DEFAULT_PROP_LATENCY 1000
#define DEFAULT_PROP_MAX_HELD 32
#define DEFAULT_PROP_DEDUP_MEMORY 4096
#define DEFAULT_PROP_STALE_TIMEOUT 2000

enum
{
  PROP_0,
  PROP_LATENCY,
  PROP_MAX_HELD,
  PROP_DEDUP_MEMORY,
  PROP_STALE_TIMEOUT,
  PROP_STATS,
};

static GstStaticPadTemplate sink_template = GST_STATIC_PAD_TEMPLATE ("sink",
    GST_PAD_SINK, GST_PAD_ALWAYS, GST_STATIC_CAPS ("video/x-raw"));
static GstStaticPadTemplate src_template = GST_STATIC_PAD_TEMPLATE ("src",
    GST_PAD_SRC, GST_PAD_ALWAYS, GST_STATIC_CAPS ("video/x-raw"));

/* Lock order: push_lock, then the object lock. push_lock serialises every
 * push on the src pad (streaming thread and the stale-release thread). */
struct _GstDetectionOrder
{
  GstElement parent;
  GstPad *sinkpad, *srcpad;

  /* properties, under the object lock */
  guint latency_ms, max_held, dedup_memory, stale_timeout_ms;

  GMutex push_lock;
  EfReorder *reorder;           /* under push_lock */
  GstVideoInfo vinfo;           /* under push_lock */
  gboolean have_info;
  GstFlowReturn last_flow;
  guint64 passed_untagged;

  GThread *stale_thread;
  GMutex stale_lock;
  GCond stale_cond;
  gboolean stale_stop;
};

#define gst_detection_order_parent_class parent_class
G_DEFINE_TYPE (GstDetectionOrder, gst_detection_order, GST_TYPE_ELEMENT);
GST_ELEMENT_REGISTER_DEFINE (detectionorder, "detectionorder", GST_RANK_NONE,
    GST_TYPE_DETECTION_ORDER);

static void
add_roi_metas (GstDetectionOrder * self, GstBuffer * buf)
{
  GstEdgefaasDetectionMeta *dm = gst_buffer_get_edgefaas_detection_meta (buf);
  gpointer it = NULL;
  GstMeta *m;
  if (!dm || !dm->event || !self->have_info)
    return;
  while ((m = gst_buffer_iterate_meta_filtered (buf, &it,
              GST_VIDEO_REGION_OF_INTEREST_META_API_TYPE)))
    if (gst_video_region_of_interest_meta_get_param ((GstVideoRegionOfInterestMeta *) m,
            "detection"))
      return;                   /* already has detections (a single pipeline) */
  gint fw = GST_VIDEO_INFO_WIDTH (&self->vinfo), fh = GST_VIDEO_INFO_HEIGHT (&self->vinfo);
  for (guint i = 0; i < dm->event->detections->len; i++) {
    const EdgefaasDetection *d = &g_array_index (dm->event->detections, EdgefaasDetection, i);
    guint x = (guint) (d->x_min * fw + 0.5), y = (guint) (d->y_min * fh + 0.5);
    guint x1 = (guint) (d->x_max * fw + 0.5), y1 = (guint) (d->y_max * fh + 0.5);
    GstVideoRegionOfInterestMeta *roi = gst_buffer_add_video_region_of_interest_meta (buf,
        d->label, x, y, x1 > x ? x1 - x : 0, y1 > y ? y1 - y : 0);
    gst_video_region_of_interest_meta_add_param (roi, gst_structure_new ("detection",
            "label", G_TYPE_STRING, d->label,
            "label_id", G_TYPE_INT, d->label_id,
            "confidence", G_TYPE_DOUBLE, d->confidence,
            "x_min", G_TYPE_DOUBLE, d->x_min, "y_min", G_TYPE_DOUBLE, d->y_min,
            "x_max", G_TYPE_DOUBLE, d->x_max, "y_max", G_TYPE_DOUBLE, d->y_max, NULL));
  }
}

/* With push_lock held. */
static GstFlowReturn
push_ready (GstDetectionOrder * self, GPtrArray * ready)
{
  GstFlowReturn ret = GST_FLOW_OK;
  for (guint i = 0; i < ready->len; i++) {
    GstBuffer *b = g_ptr_array_index (ready, i);
    if (ret != GST_FLOW_OK) {
      gst_buffer_unref (b);
      continue;
    }
    b = gst_buffer_make_writable (b);
    add_roi_metas (self, b);
    ret = gst_pad_push (self->srcpad, b);
  }
  g_ptr_array_set_size (ready, 0);
  if (ret != GST_FLOW_OK)
    self->last_flow = ret;
  return ret;
}

static GstFlowReturn
gst_detection_order_chain (GstPad * pad, GstObject * parent, GstBuffer * buf)
{
  GstDetectionOrder *self = GST_DETECTION_ORDER (parent);
  GstEdgefaasEventMeta *em = gst_buffer_get_edgefaas_event_meta (buf);
  GPtrArray *ready = g_ptr_array_new ();
  GstFlowReturn ret;

  g_mutex_lock (&self->push_lock);
  if (self->last_flow != GST_FLOW_OK && self->last_flow != GST_FLOW_NOT_LINKED) {
    ret = self->last_flow;
    g_mutex_unlock (&self->push_lock);
    gst_buffer_unref (buf);
    g_ptr_array_unref (ready);
    return ret;
  }
  if (!em || !em->event || !em->event->camera_id) {
    /* nothing to order by: pass it on */
    self->passed_untagged++;
    g_ptr_array_add (ready, buf);
  } else {
    const EdgefaasFrameEvent *ev = em->event;
    EfReorderVerdict v = ef_reorder_push (self->reorder, ev->camera_id, ev->sequence,
        ev->capture_time_us, buf, ready);
    if (v == EF_REORDER_DUPLICATE) {
      GST_DEBUG_OBJECT (self, "camera %s sequence %" G_GUINT64_FORMAT ": duplicate, dropped",
          ev->camera_id, ev->sequence);
      gst_buffer_unref (buf);
    } else if (v == EF_REORDER_LATE) {
      GST_ELEMENT_WARNING (self, STREAM, FAILED,
          ("camera %s: frame %" G_GUINT64_FORMAT " arrived after a later one was released; "
              "dropped (raise latency or max-held)", ev->camera_id, ev->sequence), (NULL));
      gst_buffer_unref (buf);
    }
  }
  ret = push_ready (self, ready);
  g_mutex_unlock (&self->push_lock);
  g_ptr_array_unref (ready);
  return ret == GST_FLOW_NOT_LINKED ? GST_FLOW_OK : ret;
}

static void
flush_all (GstDetectionOrder * self, gboolean push)
{
  GPtrArray *ready = g_ptr_array_new ();
  ef_reorder_flush (self->reorder, ready);
  if (push) {
    push_ready (self, ready);
  } else {
    g_ptr_array_set_free_func (ready, (GDestroyNotify) gst_buffer_unref);
  }
  g_ptr_array_unref (ready);
}

static gboolean
gst_detection_order_sink_event (GstPad * pad, GstObject * parent, GstEvent * event)
{
  GstDetectionOrder *self = GST_DETECTION_ORDER (parent);
  gboolean ret;

  switch (GST_EVENT_TYPE (event)) {
    case GST_EVENT_FLUSH_START:
      return gst_pad_push_event (self->srcpad, event);
    case GST_EVENT_FLUSH_STOP:
      g_mutex_lock (&self->push_lock);
      flush_all (self, FALSE);
      self->last_flow = GST_FLOW_OK;
      g_mutex_unlock (&self->push_lock);
      return gst_pad_push_event (self->srcpad, event);
    case GST_EVENT_CAPS:{
      GstCaps *caps;
      gst_event_parse_caps (event, &caps);
      g_mutex_lock (&self->push_lock);
      /* held buffers belong to the old caps: let them go first */
      flush_all (self, TRUE);
      self->have_info = gst_video_info_from_caps (&self->vinfo, caps);
      ret = gst_pad_push_event (self->srcpad, event);
      g_mutex_unlock (&self->push_lock);
      return ret;
    }
    default:
      if (GST_EVENT_IS_SERIALIZED (event)) {
        g_mutex_lock (&self->push_lock);
        if (GST_EVENT_TYPE (event) == GST_EVENT_EOS)
          flush_all (self, TRUE);
        ret = gst_pad_push_event (self->srcpad, event);
        g_mutex_unlock (&self->push_lock);
        return ret;
      }
      return gst_pad_event_default (pad, parent, event);
  }
}

/* Releases the buffers of cameras whose events stopped coming. */
static gpointer
stale_thread_func (gpointer data)
{
  GstDetectionOrder *self = data;
  GPtrArray *ready = g_ptr_array_new ();
  g_mutex_lock (&self->stale_lock);
  while (!self->stale_stop) {
    gint64 wake = g_get_monotonic_time () + 100 * G_TIME_SPAN_MILLISECOND;
    g_cond_wait_until (&self->stale_cond, &self->stale_lock, wake);
    if (self->stale_stop)
      break;
    g_mutex_unlock (&self->stale_lock);
    GST_OBJECT_LOCK (self);
    gint64 wait = (gint64) self->stale_timeout_ms * 1000;
    GST_OBJECT_UNLOCK (self);
    /* don't wait behind a push that blocks downstream (PAUSED): try later */
    if (g_mutex_trylock (&self->push_lock)) {
      if (self->reorder && wait > 0) {
        ef_reorder_release_stale (self->reorder, g_get_monotonic_time (), wait, ready);
        if (ready->len)
          GST_LOG_OBJECT (self, "releasing %u stale buffers", ready->len);
        push_ready (self, ready);
      }
      g_mutex_unlock (&self->push_lock);
    }
    g_mutex_lock (&self->stale_lock);
  }
  g_mutex_unlock (&self->stale_lock);
  g_ptr_array_unref (ready);
  return NULL;
}

static GstStateChangeReturn
gst_detection_order_change_state (GstElement * element, GstStateChange transition)
{
  GstDetectionOrder *self = GST_DETECTION_ORDER (element);
  GstStateChangeReturn ret;

  if (transition == GST_STATE_CHANGE_READY_TO_PAUSED) {
    GST_OBJECT_LOCK (self);
    guint latency = self->latency_ms, max_held = self->max_held, mem = self->dedup_memory;
    GST_OBJECT_UNLOCK (self);
    g_mutex_lock (&self->push_lock);
    self->reorder = ef_reorder_new ((gint64) latency * 1000, max_held, mem);
    self->last_flow = GST_FLOW_OK;
    self->have_info = FALSE;
    g_mutex_unlock (&self->push_lock);
    self->stale_stop = FALSE;
    self->stale_thread = g_thread_new ("detectionorder-stale", stale_thread_func, self);
  }
  ret = GST_ELEMENT_CLASS (parent_class)->change_state (element, transition);
  if (transition == GST_STATE_CHANGE_PAUSED_TO_READY) {
    g_mutex_lock (&self->stale_lock);
    self->stale_stop = TRUE;
    g_cond_signal (&self->stale_cond);
    g_mutex_unlock (&self->stale_lock);
    g_clear_pointer (&self->stale_thread, g_thread_join);
    g_mutex_lock (&self->push_lock);
    ef_reorder_free (self->reorder, (GDestroyNotify) gst_buffer_unref);
    self->reorder = NULL;
    g_mutex_unlock (&self->push_lock);
  }
  return ret;
}

static void
gst_detection_order_set_property (GObject * object, guint prop_id, const GValue * value,
    GParamSpec * pspec)
{
  GstDetectionOrder *self = GST_DETECTION_ORDER (object);
  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_LATENCY:
      self->latency_ms = g_value_get_uint (value);
      break;
    case PROP_MAX_HELD:
      self->max_held = g_value_get_uint (value);
      break;
    case PROP_DEDUP_MEMORY:
      self->dedup_memory = g_value_get_uint (value);
      break;
    case PROP_STALE_TIMEOUT:
      self->stale_timeout_ms = g_value_get_uint (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

static void
gst_detection_order_get_property (GObject * object, guint prop_id, GValue * value,
    GParamSpec * pspec)
{
  GstDetectionOrder *self = GST_DETECTION_ORDER (object);
  switch (prop_id) {
    case PROP_LATENCY:
      GST_OBJECT_LOCK (self);
      g_value_set_uint (value, self->latency_ms);
      GST_OBJECT_UNLOCK (self);
      break;
    case PROP_MAX_HELD:
      GST_OBJECT_LOCK (self);
      g_value_set_uint (value, self->max_held);
      GST_OBJECT_UNLOCK (self);
      break;
    case PROP_DEDUP_MEMORY:
      GST_OBJECT_LOCK (self);
      g_value_set_uint (value, self->dedup_memory);
      GST_OBJECT_UNLOCK (self);
      break;
    case PROP_STALE_TIMEOUT:
      GST_OBJECT_LOCK (self);
      g_value_set_uint (value, self->stale_timeout_ms);
      GST_OBJECT_UNLOCK (self);
      break;
    case PROP_STATS:{
      EfReorderStats st = { 0 };
      guint held = 0;
      g_mutex_lock (&self->push_lock);
      if (self->reorder) {
        ef_reorder_get_stats (self->reorder, &st);
        held = ef_reorder_n_held (self->reorder);
      }
      guint64 untagged = self->passed_untagged;
      g_mutex_unlock (&self->push_lock);
      g_value_take_boxed (value, gst_structure_new ("detectionorder-stats",
              "released", G_TYPE_UINT64, st.released,
              "duplicates", G_TYPE_UINT64, st.duplicates,
              "late", G_TYPE_UINT64, st.late,
              "forced", G_TYPE_UINT64, st.forced,
              "held", G_TYPE_UINT, held, "untagged", G_TYPE_UINT64, untagged, NULL));
      break;
    }
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
}

static void
gst_detection_order_finalize (GObject * object)
{
  GstDetectionOrder *self = GST_DETECTION_ORDER (object);
  ef_reorder_free (self->reorder, (GDestroyNotify) gst_buffer_unref);
  g_mutex_clear (&self->push_lock);
  g_mutex_clear (&self->stale_lock);
  g_cond_clear (&self->stale_cond);
  G_OBJECT_CLASS (parent_class)->finalize (object);
}

static void
gst_detection_order_class_init (GstDetectionOrderClass * klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);
  const GParamFlags rw = G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_READY;

  GST_DEBUG_CATEGORY_INIT (gst_detection_order_debug, "detectionorder", 0,
      "per-camera capture order and dedup of detection events");
  gobject_class->set_property = gst_detection_order_set_property;
  gobject_class->get_property = gst_detection_order_get_property;
  gobject_class->finalize = gst_detection_order_finalize;

  /**
   * GstDetectionOrder:latency:
   *
   * Milliseconds of capture time a buffer waits behind the newest buffer of
   * its camera (how far out of order replicas may finish).
   */
  g_object_class_install_property (gobject_class, PROP_LATENCY,
      g_param_spec_uint ("latency", "Latency", "Reorder window in ms of capture time", 0,
          600000, DEFAULT_PROP_LATENCY, rw));
  /**
   * GstDetectionOrder:max-held:
   *
   * Buffers held per camera at most (memory bound; keep amqpsrc prefetch
   * above it).
   */
  g_object_class_install_property (gobject_class, PROP_MAX_HELD,
      g_param_spec_uint ("max-held", "Max held", "Buffers held per camera at most", 1, 10000,
          DEFAULT_PROP_MAX_HELD, rw));
  /**
   * GstDetectionOrder:dedup-memory:
   *
   * Released (sequence, capture time) pairs remembered per camera to drop
   * redeliveries.
   */
  g_object_class_install_property (gobject_class, PROP_DEDUP_MEMORY,
      g_param_spec_uint ("dedup-memory", "Dedup memory", "Released events remembered per "
          "camera for duplicate detection", 1, 1000000, DEFAULT_PROP_DEDUP_MEMORY, rw));
  /**
   * GstDetectionOrder:stale-timeout:
   *
   * Milliseconds of wall time after which held buffers leave even if no
   * newer buffer of their camera came (0 = never).
   */
  g_object_class_install_property (gobject_class, PROP_STALE_TIMEOUT,
      g_param_spec_uint ("stale-timeout", "Stale timeout", "Wall-time ms after which held "
          "buffers leave anyway (0 = never)", 0, 600000, DEFAULT_PROP_STALE_TIMEOUT, rw));
  /**
   * GstDetectionOrder:stats:
   *
   * Read-only: released, duplicates, late, forced (released by max-held),
   * held, untagged (passed without an event meta).
   */
  g_object_class_install_property (gobject_class, PROP_STATS,
      g_param_spec_boxed ("stats", "Statistics", "Released, duplicate, late, forced, held",
          GST_TYPE_STRUCTURE, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));

  gst_element_class_set_static_metadata (element_class,
      "Detection event order", "Filter/Video",
      "Puts each camera's frames back into capture order within a window and drops "
      "duplicate deliveries; detection events become ROI metas",
      "edgefaas <edgefaas@users.noreply.github.com>");
  gst_element_class_add_static_pad_template (element_class, &sink_template);
  gst_element_class_add_static_pad_template (element_class, &src_template);
  element_class->change_state = GST_DEBUG_FUNCPTR (gst_detection_order_change_state);
}

static void
gst_detection_order_init (GstDetectionOrder * self)
{
  self->sinkpad = gst_pad_new_from_static_template (&sink_template, "sink");
  gst_pad_set_chain_function (self->sinkpad, GST_DEBUG_FUNCPTR (gst_detection_order_chain));
  gst_pad_set_event_function (self->sinkpad,
      GST_DEBUG_FUNCPTR (gst_detection_order_sink_event));
  GST_PAD_SET_PROXY_CAPS (self->sinkpad);
  GST_PAD_SET_PROXY_ALLOCATION (self->sinkpad);
  gst_element_add_pad (GST_ELEMENT (self), self->sinkpad);
  self->srcpad = gst_pad_new_from_static_template (&src_template, "src");
  GST_PAD_SET_PROXY_CAPS (self->srcpad);
  gst_element_add_pad (GST_ELEMENT (self), self->srcpad);

  self->latency_ms = DEFAULT_PROP_LATENCY;
  self->max_held = DEFAULT_PROP_MAX_HELD;
  self->dedup_memory = DEFAULT_PROP_DEDUP_MEMORY;
  self->stale_timeout_ms = DEFAULT_PROP_STALE_TIMEOUT;
  self->last_flow = GST_FLOW_OK;
  g_mutex_init (&self->push_lock);
  g_mutex_init (&self->stale_lock);
  g_cond_init (&self->stale_cond);
}
