/* edgefaas-meta.c: ack token and the metas that travel on buffers between our
 * elements (see edgefaas-meta.h).
 *
 * All three metas are registered with NO tags. GstVideoDecoder, GstVideoEncoder
 * and GstBaseTransform copy an untagged meta to their output buffers by calling
 * its transform_func with GST_META_TRANSFORM_COPY; our transform functions copy
 * for EVERY transform type (copy, video scale, ...), because none of the data we
 * carry depends on the buffer's memory layout or geometry:
 *  - GstEdgefaasEventMeta: the source event and the ack token describe which
 *    AMQP delivery the pixels came from, whatever happened to the pixels;
 *  - GstEdgefaasSituationMeta, GstEdgefaasMotionMeta: per-frame verdicts.
 * Motion boxes and detections live in GstVideoRegionOfInterestMeta, whose own
 * transform handles scaling.
 */
#include "edgefaas-meta.h"

#include <string.h>

/* ------------------------------------------------------------------------- */
/* Ack token                                                                  */
/* ------------------------------------------------------------------------- */

struct _EdgefaasAckToken
{
  gint refcount;                /* atomic */
  GMutex lock;                  /* protects outcome and reason */
  EdgefaasAckOutcome outcome;
  gchar *reason;
  EdgefaasAckFunc func;
  gpointer user_data;
  GDestroyNotify notify;
};

/**
 * edgefaas_ack_token_new:
 * @func: (nullable): called exactly once, from the thread that drops the last
 *   reference, with the final outcome
 * @user_data: passed to @func
 * @notify: (nullable): frees @user_data after @func ran
 *
 * Returns: (transfer full): a token with one reference.
 */
EdgefaasAckToken *
edgefaas_ack_token_new (EdgefaasAckFunc func, gpointer user_data, GDestroyNotify notify)
{
  EdgefaasAckToken *token = g_new0 (EdgefaasAckToken, 1);

  token->refcount = 1;
  g_mutex_init (&token->lock);
  token->outcome = EDGEFAAS_ACK_OUTCOME_ACK;
  token->func = func;
  token->user_data = user_data;
  token->notify = notify;
  return token;
}

EdgefaasAckToken *
edgefaas_ack_token_ref (EdgefaasAckToken * token)
{
  g_return_val_if_fail (token != NULL, NULL);
  g_return_val_if_fail (g_atomic_int_get (&token->refcount) > 0, NULL);

  g_atomic_int_inc (&token->refcount);
  return token;
}

void
edgefaas_ack_token_unref (EdgefaasAckToken * token)
{
  EdgefaasAckOutcome outcome;
  gchar *reason;

  g_return_if_fail (token != NULL);
  g_return_if_fail (g_atomic_int_get (&token->refcount) > 0);

  if (!g_atomic_int_dec_and_test (&token->refcount))
    return;

  /* Last reference: nobody else can touch the token any more, but take the
   * lock anyway so the reads pair with the writes in _reject(). */
  g_mutex_lock (&token->lock);
  outcome = token->outcome;
  reason = token->reason;
  token->reason = NULL;
  g_mutex_unlock (&token->lock);

  if (token->func)
    token->func (token->user_data, outcome, reason);
  if (token->notify)
    token->notify (token->user_data);

  g_free (reason);
  g_mutex_clear (&token->lock);
  g_free (token);
}

void
edgefaas_ack_token_reject (EdgefaasAckToken * token, gboolean requeue, const gchar * reason)
{
  EdgefaasAckOutcome wanted = requeue ? EDGEFAAS_ACK_OUTCOME_REQUEUE : EDGEFAAS_ACK_OUTCOME_REJECT;

  g_return_if_fail (token != NULL);

  g_mutex_lock (&token->lock);
  /* ACK < REQUEUE < REJECT: the strongest outcome wins; its first reason stays. */
  if (token->outcome == EDGEFAAS_ACK_OUTCOME_ACK ||
      (token->outcome == EDGEFAAS_ACK_OUTCOME_REQUEUE && wanted == EDGEFAAS_ACK_OUTCOME_REJECT)) {
    token->outcome = wanted;
    g_free (token->reason);
    token->reason = g_strdup (reason);
  }
  g_mutex_unlock (&token->lock);
}

EdgefaasAckOutcome
edgefaas_ack_token_get_outcome (EdgefaasAckToken * token)
{
  EdgefaasAckOutcome outcome;

  g_return_val_if_fail (token != NULL, EDGEFAAS_ACK_OUTCOME_ACK);

  g_mutex_lock (&token->lock);
  outcome = token->outcome;
  g_mutex_unlock (&token->lock);
  return outcome;
}

/* ------------------------------------------------------------------------- */
/* Common                                                                     */
/* ------------------------------------------------------------------------- */

static GType
register_api (const gchar * name, gsize * once)
{
  if (g_once_init_enter (once)) {
    /* No tags: every element that copies "untagged" metas keeps ours. */
    static const gchar *tags[] = { NULL };
    GType type = gst_meta_api_type_register (name, tags);
    g_once_init_leave (once, type);
  }
  return (GType) * once;
}

/* ------------------------------------------------------------------------- */
/* GstEdgefaasEventMeta                                                       */
/* ------------------------------------------------------------------------- */

GType
gst_edgefaas_event_meta_api_get_type (void)
{
  static gsize type = 0;
  return register_api ("GstEdgefaasEventMetaAPI", &type);
}

static gboolean
event_meta_init (GstMeta * meta, gpointer params, GstBuffer * buffer)
{
  GstEdgefaasEventMeta *m = (GstEdgefaasEventMeta *) meta;

  m->event = NULL;
  m->token = NULL;
  return TRUE;
}

static void
event_meta_free (GstMeta * meta, GstBuffer * buffer)
{
  GstEdgefaasEventMeta *m = (GstEdgefaasEventMeta *) meta;

  g_clear_pointer (&m->event, edgefaas_frame_event_free);
  g_clear_pointer (&m->token, edgefaas_ack_token_unref);
}

static gboolean
event_meta_transform (GstBuffer * dest, GstMeta * meta, GstBuffer * buffer, GQuark type,
    gpointer data)
{
  GstEdgefaasEventMeta *m = (GstEdgefaasEventMeta *) meta;

  /* Every transform type: the event is about the delivery, not the pixels. */
  return gst_buffer_add_edgefaas_event_meta (dest, m->event, m->token) != NULL;
}

const GstMetaInfo *
gst_edgefaas_event_meta_get_info (void)
{
  static const GstMetaInfo *info = NULL;

  if (g_once_init_enter ((GstMetaInfo **) & info)) {
    const GstMetaInfo *mi = gst_meta_register (GST_EDGEFAAS_EVENT_META_API_TYPE,
        "GstEdgefaasEventMeta", sizeof (GstEdgefaasEventMeta),
        event_meta_init, event_meta_free, event_meta_transform);
    g_once_init_leave ((GstMetaInfo **) & info, (GstMetaInfo *) mi);
  }
  return info;
}

GstEdgefaasEventMeta *
gst_buffer_add_edgefaas_event_meta (GstBuffer * buffer, const EdgefaasFrameEvent * event,
    EdgefaasAckToken * token)
{
  GstEdgefaasEventMeta *m;

  g_return_val_if_fail (GST_IS_BUFFER (buffer), NULL);
  g_return_val_if_fail (gst_buffer_is_writable (buffer), NULL);

  m = (GstEdgefaasEventMeta *) gst_buffer_add_meta (buffer, GST_EDGEFAAS_EVENT_META_INFO, NULL);
  if (!m)
    return NULL;
  m->event = event ? edgefaas_frame_event_copy (event) : NULL;
  m->token = token ? edgefaas_ack_token_ref (token) : NULL;
  return m;
}

/* ------------------------------------------------------------------------- */
/* GstEdgefaasSituationMeta                                                   */
/* ------------------------------------------------------------------------- */

GType
gst_edgefaas_situation_meta_api_get_type (void)
{
  static gsize type = 0;
  return register_api ("GstEdgefaasSituationMetaAPI", &type);
}

static gboolean
situation_meta_init (GstMeta * meta, gpointer params, GstBuffer * buffer)
{
  GstEdgefaasSituationMeta *m = (GstEdgefaasSituationMeta *) meta;

  memset (&m->situation, 0, sizeof (m->situation));
  return TRUE;
}

static void
situation_meta_free (GstMeta * meta, GstBuffer * buffer)
{
  GstEdgefaasSituationMeta *m = (GstEdgefaasSituationMeta *) meta;

  edgefaas_situation_clear (&m->situation);
}

static gboolean
situation_meta_transform (GstBuffer * dest, GstMeta * meta, GstBuffer * buffer, GQuark type,
    gpointer data)
{
  GstEdgefaasSituationMeta *m = (GstEdgefaasSituationMeta *) meta;

  return gst_buffer_add_edgefaas_situation_meta (dest, &m->situation) != NULL;
}

const GstMetaInfo *
gst_edgefaas_situation_meta_get_info (void)
{
  static const GstMetaInfo *info = NULL;

  if (g_once_init_enter ((GstMetaInfo **) & info)) {
    const GstMetaInfo *mi = gst_meta_register (GST_EDGEFAAS_SITUATION_META_API_TYPE,
        "GstEdgefaasSituationMeta", sizeof (GstEdgefaasSituationMeta),
        situation_meta_init, situation_meta_free, situation_meta_transform);
    g_once_init_leave ((GstMetaInfo **) & info, (GstMetaInfo *) mi);
  }
  return info;
}

GstEdgefaasSituationMeta *
gst_buffer_add_edgefaas_situation_meta (GstBuffer * buffer, const EdgefaasSituation * situation)
{
  GstEdgefaasSituationMeta *m;

  g_return_val_if_fail (GST_IS_BUFFER (buffer), NULL);
  g_return_val_if_fail (gst_buffer_is_writable (buffer), NULL);
  g_return_val_if_fail (situation != NULL, NULL);

  m = (GstEdgefaasSituationMeta *) gst_buffer_add_meta (buffer,
      GST_EDGEFAAS_SITUATION_META_INFO, NULL);
  if (!m)
    return NULL;
  edgefaas_situation_copy_into (situation, &m->situation);
  return m;
}

/* ------------------------------------------------------------------------- */
/* GstEdgefaasDetectionMeta                                                   */
/* ------------------------------------------------------------------------- */

GType
gst_edgefaas_detection_meta_api_get_type (void)
{
  static gsize type = 0;
  return register_api ("GstEdgefaasDetectionMetaAPI", &type);
}

static gboolean
detection_meta_init (GstMeta * meta, gpointer params, GstBuffer * buffer)
{
  ((GstEdgefaasDetectionMeta *) meta)->event = NULL;
  return TRUE;
}

static void
detection_meta_free (GstMeta * meta, GstBuffer * buffer)
{
  GstEdgefaasDetectionMeta *m = (GstEdgefaasDetectionMeta *) meta;
  g_clear_pointer (&m->event, edgefaas_detection_event_free);
}

static gboolean
detection_meta_transform (GstBuffer * dest, GstMeta * meta, GstBuffer * buffer, GQuark type,
    gpointer data)
{
  GstEdgefaasDetectionMeta *m = (GstEdgefaasDetectionMeta *) meta;
  /* Normalised boxes: valid whatever the transform did to the size. */
  return gst_buffer_add_edgefaas_detection_meta (dest, m->event) != NULL;
}

const GstMetaInfo *
gst_edgefaas_detection_meta_get_info (void)
{
  static const GstMetaInfo *info = NULL;

  if (g_once_init_enter ((GstMetaInfo **) & info)) {
    const GstMetaInfo *mi = gst_meta_register (GST_EDGEFAAS_DETECTION_META_API_TYPE,
        "GstEdgefaasDetectionMeta", sizeof (GstEdgefaasDetectionMeta),
        detection_meta_init, detection_meta_free, detection_meta_transform);
    g_once_init_leave ((GstMetaInfo **) & info, (GstMetaInfo *) mi);
  }
  return info;
}

GstEdgefaasDetectionMeta *
gst_buffer_add_edgefaas_detection_meta (GstBuffer * buffer, const EdgefaasDetectionEvent * event)
{
  GstEdgefaasDetectionMeta *m;

  g_return_val_if_fail (GST_IS_BUFFER (buffer), NULL);
  g_return_val_if_fail (gst_buffer_is_writable (buffer), NULL);

  m = (GstEdgefaasDetectionMeta *) gst_buffer_add_meta (buffer,
      GST_EDGEFAAS_DETECTION_META_INFO, NULL);
  if (!m)
    return NULL;
  m->event = event ? edgefaas_detection_event_copy (event) : NULL;
  return m;
}

/* ------------------------------------------------------------------------- */
/* GstEdgefaasMotionMeta                                                      */
/* ------------------------------------------------------------------------- */

GType
gst_edgefaas_motion_meta_api_get_type (void)
{
  static gsize type = 0;
  return register_api ("GstEdgefaasMotionMetaAPI", &type);
}

static gboolean
motion_meta_init (GstMeta * meta, gpointer params, GstBuffer * buffer)
{
  GstEdgefaasMotionMeta *m = (GstEdgefaasMotionMeta *) meta;

  m->event_id = 0;
  m->score = 0.0;
  m->analysed = FALSE;
  return TRUE;
}

static gboolean
motion_meta_transform (GstBuffer * dest, GstMeta * meta, GstBuffer * buffer, GQuark type,
    gpointer data)
{
  GstEdgefaasMotionMeta *m = (GstEdgefaasMotionMeta *) meta;

  return gst_buffer_add_edgefaas_motion_meta (dest, m->event_id, m->score, m->analysed) != NULL;
}

const GstMetaInfo *
gst_edgefaas_motion_meta_get_info (void)
{
  static const GstMetaInfo *info = NULL;

  if (g_once_init_enter ((GstMetaInfo **) & info)) {
    const GstMetaInfo *mi = gst_meta_register (GST_EDGEFAAS_MOTION_META_API_TYPE,
        "GstEdgefaasMotionMeta", sizeof (GstEdgefaasMotionMeta),
        motion_meta_init, NULL, motion_meta_transform);
    g_once_init_leave ((GstMetaInfo **) & info, (GstMetaInfo *) mi);
  }
  return info;
}

GstEdgefaasMotionMeta *
gst_buffer_add_edgefaas_motion_meta (GstBuffer * buffer, guint64 event_id, gdouble score,
    gboolean analysed)
{
  GstEdgefaasMotionMeta *m;

  g_return_val_if_fail (GST_IS_BUFFER (buffer), NULL);
  g_return_val_if_fail (gst_buffer_is_writable (buffer), NULL);

  m = (GstEdgefaasMotionMeta *) gst_buffer_add_meta (buffer, GST_EDGEFAAS_MOTION_META_INFO, NULL);
  if (!m)
    return NULL;
  m->event_id = event_id;
  m->score = score;
  m->analysed = analysed;
  return m;
}
