/* edgefaas: metas that travel on buffers between our elements.
 *
 * GstEdgefaasEventMeta: the parsed source frame event (camera, event, frame) that
 *   amqpsrc attaches, plus an ack token. The meta has no tags, so decoders such as
 *   jpegdec copy it to their output; every copy holds a reference on the token.
 *
 * EdgefaasAckToken: a thread-safe refcounted handle for one AMQP delivery. When
 *   the last reference goes (every buffer copy carrying it released, and any sink
 *   that still had to confirm a publish done), its callback runs once with the
 *   outcome: ACK unless someone called edgefaas_ack_token_reject() before.
 *
 * GstEdgefaasSituationMeta: a situation raised by yolov4infer on this buffer.
 *
 * GstEdgefaasMotionMeta: motiondetect's per-buffer verdict (score, event id). The
 *   motion boxes themselves are GstVideoRegionOfInterestMeta with roi type
 *   "motion" and a param structure "motion" {score: double, event-id: guint64}.
 *   No tags, so encoders (jpegenc) carry it to amqpsink.
 */
#pragma once

#include <gst/gst.h>
#include "edgefaas-prelude.h"
#include "edgefaas-event.h"

G_BEGIN_DECLS

typedef enum {
  EDGEFAAS_ACK_OUTCOME_ACK,
  EDGEFAAS_ACK_OUTCOME_REJECT,    /* reject, no requeue: dead-letter */
  EDGEFAAS_ACK_OUTCOME_REQUEUE,   /* nack with requeue: someone else retries */
} EdgefaasAckOutcome;

typedef struct _EdgefaasAckToken EdgefaasAckToken;
typedef void (*EdgefaasAckFunc) (gpointer user_data, EdgefaasAckOutcome outcome,
    const gchar * reason);

EDGEFAAS_API EdgefaasAckToken *edgefaas_ack_token_new (EdgefaasAckFunc func, gpointer user_data,
    GDestroyNotify notify);
EDGEFAAS_API EdgefaasAckToken *edgefaas_ack_token_ref (EdgefaasAckToken * token);
EDGEFAAS_API void edgefaas_ack_token_unref (EdgefaasAckToken * token);
/* Sticky: the final outcome becomes REJECT/REQUEUE (REJECT wins over REQUEUE). */
EDGEFAAS_API void edgefaas_ack_token_reject (EdgefaasAckToken * token, gboolean requeue,
    const gchar * reason);
/* The outcome the callback would get if the last reference went now (added). */
EDGEFAAS_API EdgefaasAckOutcome edgefaas_ack_token_get_outcome (EdgefaasAckToken * token);

typedef struct {
  GstMeta meta;
  EdgefaasFrameEvent *event;   /* owned */
  EdgefaasAckToken *token;     /* owned reference, may be NULL */
} GstEdgefaasEventMeta;

EDGEFAAS_API GType gst_edgefaas_event_meta_api_get_type (void);
EDGEFAAS_API const GstMetaInfo *gst_edgefaas_event_meta_get_info (void);
#define GST_EDGEFAAS_EVENT_META_API_TYPE (gst_edgefaas_event_meta_api_get_type ())
#define GST_EDGEFAAS_EVENT_META_INFO (gst_edgefaas_event_meta_get_info ())
#define gst_buffer_get_edgefaas_event_meta(b) \
  ((GstEdgefaasEventMeta *) gst_buffer_get_meta ((b), GST_EDGEFAAS_EVENT_META_API_TYPE))
/* Copies @event, takes a new reference on @token (may be NULL). */
EDGEFAAS_API GstEdgefaasEventMeta *gst_buffer_add_edgefaas_event_meta (GstBuffer * buffer,
    const EdgefaasFrameEvent * event, EdgefaasAckToken * token);

typedef struct {
  GstMeta meta;
  EdgefaasSituation situation;   /* owned strings */
} GstEdgefaasSituationMeta;

EDGEFAAS_API GType gst_edgefaas_situation_meta_api_get_type (void);
EDGEFAAS_API const GstMetaInfo *gst_edgefaas_situation_meta_get_info (void);
#define GST_EDGEFAAS_SITUATION_META_API_TYPE (gst_edgefaas_situation_meta_api_get_type ())
#define GST_EDGEFAAS_SITUATION_META_INFO (gst_edgefaas_situation_meta_get_info ())
EDGEFAAS_API GstEdgefaasSituationMeta *gst_buffer_add_edgefaas_situation_meta (GstBuffer * buffer,
    const EdgefaasSituation * situation);
/* Iterate with gst_buffer_iterate_meta_filtered (buf, &state, GST_EDGEFAAS_SITUATION_META_API_TYPE). */

/* GstEdgefaasDetectionMeta: the detection event a buffer's frame came with
 * (amqpsrc kind=detection, in the analytics stage). Untagged like the others,
 * so it survives jpegdec; detectionorder turns it into ROI metas. */
typedef struct {
  GstMeta meta;
  EdgefaasDetectionEvent *event;   /* owned */
} GstEdgefaasDetectionMeta;

EDGEFAAS_API GType gst_edgefaas_detection_meta_api_get_type (void);
EDGEFAAS_API const GstMetaInfo *gst_edgefaas_detection_meta_get_info (void);
#define GST_EDGEFAAS_DETECTION_META_API_TYPE (gst_edgefaas_detection_meta_api_get_type ())
#define GST_EDGEFAAS_DETECTION_META_INFO (gst_edgefaas_detection_meta_get_info ())
#define gst_buffer_get_edgefaas_detection_meta(b) \
  ((GstEdgefaasDetectionMeta *) gst_buffer_get_meta ((b), GST_EDGEFAAS_DETECTION_META_API_TYPE))
/* Copies @event. */
EDGEFAAS_API GstEdgefaasDetectionMeta *gst_buffer_add_edgefaas_detection_meta (GstBuffer *
    buffer, const EdgefaasDetectionEvent * event);

typedef struct {
  GstMeta meta;
  guint64 event_id;      /* 0 = not inside a motion event */
  gdouble score;         /* fraction of the analysed (unmasked) area in motion, [0,1] */
  gboolean analysed;     /* FALSE on frames skipped by analyse-interval */
} GstEdgefaasMotionMeta;

EDGEFAAS_API GType gst_edgefaas_motion_meta_api_get_type (void);
EDGEFAAS_API const GstMetaInfo *gst_edgefaas_motion_meta_get_info (void);
#define GST_EDGEFAAS_MOTION_META_API_TYPE (gst_edgefaas_motion_meta_api_get_type ())
#define GST_EDGEFAAS_MOTION_META_INFO (gst_edgefaas_motion_meta_get_info ())
#define gst_buffer_get_edgefaas_motion_meta(b) \
  ((GstEdgefaasMotionMeta *) gst_buffer_get_meta ((b), GST_EDGEFAAS_MOTION_META_API_TYPE))
EDGEFAAS_API GstEdgefaasMotionMeta *gst_buffer_add_edgefaas_motion_meta (GstBuffer * buffer,
    guint64 event_id, gdouble score, gboolean analysed);

/* Custom downstream event motiondetect sends at event boundaries (serialized):
 * structure name EDGEFAAS_MOTION_EVENT_NAME, fields
 *   "type" (string "start" | "end"), "event-id" (guint64), "running-time" (guint64),
 *   "duration" (guint64, end only). */
#define EDGEFAAS_MOTION_EVENT_NAME "edgefaas-motion"

G_END_DECLS
