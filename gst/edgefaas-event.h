/* edgefaas: versioned JSON events exchanged through RabbitMQ.
 *
 * Two schemas, documented in docs/events.md (JSON Schema files in docs/schema/):
 *   edgefaas.frame/v1      a frame with motion, by reference (file:// URI) or inline
 *   edgefaas.detection/v1  detections and situations found in such a frame
 *
 * Parsing is strict: an unknown schema, a missing or mistyped field or an oversize
 * document is a GError in EDGEFAAS_EVENT_ERROR whose message names the field.
 * Times are UTC microseconds since the Unix epoch in C and ISO 8601 with
 * milliseconds in JSON.
 */
#pragma once

#include <gst/gst.h>
#include "edgefaas-prelude.h"

G_BEGIN_DECLS

#define EDGEFAAS_FRAME_SCHEMA "edgefaas.frame/v1"
#define EDGEFAAS_DETECTION_SCHEMA "edgefaas.detection/v1"
/* Largest JSON document accepted by the parsers (inline frames travel as the
 * message body, not inside JSON, so 1 MiB is generous). */
#define EDGEFAAS_EVENT_MAX_JSON_BYTES (1024 * 1024)

#define EDGEFAAS_EVENT_ERROR (edgefaas_event_error_quark ())
typedef enum {
  EDGEFAAS_EVENT_ERROR_SYNTAX,        /* not JSON / not an object */
  EDGEFAAS_EVENT_ERROR_SCHEMA,        /* missing or unknown "schema" */
  EDGEFAAS_EVENT_ERROR_FIELD,         /* missing / mistyped / out-of-range field */
  EDGEFAAS_EVENT_ERROR_TOO_LARGE,     /* document over EDGEFAAS_EVENT_MAX_JSON_BYTES */
} EdgefaasEventError;
EDGEFAAS_API GQuark edgefaas_event_error_quark (void);

/* A motion box in full-frame pixel coordinates. */
typedef struct {
  gint x, y, w, h;
  gdouble score;
} EdgefaasBox;

/* Trace timestamps (UTC µs, 0 = not set) carried along for end-to-end latency. */
typedef struct {
  gint64 captured_us;
  gint64 published_us;
  gint64 consumed_us;
  gint64 inferred_us;
} EdgefaasTrace;

/* Where the frame's pixels are. Exactly one of: uri != NULL (by reference) or
 * is_inline (the image is the AMQP message body). */
typedef struct {
  gchar *uri;            /* file:///... ; NULL when inline */
  gboolean is_inline;
  gchar *media_type;     /* "image/jpeg", "image/png" */
  guint width, height;
  guint64 size;          /* bytes of the encoded image */
  gchar *sha256;         /* lowercase hex, 64 chars */
} EdgefaasFrameRef;

typedef struct {
  gchar *camera_id;
  guint64 event_id;          /* motion event id (motiondetect) */
  guint64 sequence;          /* per-camera message sequence number */
  gchar *run_id;             /* publisher run (amqpsink start) the sequence counts in; may be NULL */
  gint64 capture_time_us;    /* UTC capture time */
  GstClockTime running_time; /* stream running time, GST_CLOCK_TIME_NONE if unknown */
  EdgefaasFrameRef frame;
  GArray *motion_boxes;      /* of EdgefaasBox, never NULL */
  gdouble motion_score;
  EdgefaasTrace trace;
} EdgefaasFrameEvent;

/* One detection, DL Streamer convention: normalised [0,1] frame coordinates. */
typedef struct {
  gchar *label;
  gint label_id;
  gdouble confidence;
  gdouble x_min, y_min, x_max, y_max;
} EdgefaasDetection;

/* A tracked object a situation is about (situationdetect). */
typedef struct {
  guint64 track_id;
  gdouble x_min, y_min, x_max, y_max;   /* normalised box on the alert's frame */
} EdgefaasSituationTrack;

/* A situation raised from tracked detections over time. */
typedef struct {
  gchar *name;        /* "fire", "traffic_accident", "person_in_danger", ... */
  gdouble confidence;
  guint frames;       /* inferred frames seen while the condition held (0 = unknown) */
  gchar *labels;      /* comma-separated labels that triggered it */
  /* Optional, added for situationdetect (absent in JSON when unset): */
  gchar *zone;                  /* zone or tripwire name, NULL = none */
  gint64 start_time_us;         /* UTC time the condition started to hold, 0 = unknown */
  GArray *tracks;               /* of EdgefaasSituationTrack, NULL = none */
  gchar *snapshot_uri;          /* file:// annotated JPEG (frame store), NULL = none */
} EdgefaasSituation;

typedef struct {
  gchar *camera_id;
  guint64 event_id;
  guint64 sequence;
  gchar *run_id;                /* run the sequence counts in (the source's); may be NULL */
  EdgefaasFrameEvent *source;   /* the frame event this came from; may be NULL */
  guint width, height;          /* frame size the detections refer to */
  GArray *detections;           /* of EdgefaasDetection, never NULL */
  GArray *situations;           /* of EdgefaasSituation, never NULL */
  gchar *model;                 /* model name, may be NULL */
  EdgefaasTrace trace;
} EdgefaasDetectionEvent;

EDGEFAAS_API EdgefaasFrameEvent *edgefaas_frame_event_new (void);
EDGEFAAS_API EdgefaasFrameEvent *edgefaas_frame_event_copy (const EdgefaasFrameEvent * ev);
EDGEFAAS_API void edgefaas_frame_event_free (EdgefaasFrameEvent * ev);
EDGEFAAS_API gchar *edgefaas_frame_event_to_json (const EdgefaasFrameEvent * ev, gsize * length);
EDGEFAAS_API EdgefaasFrameEvent *edgefaas_frame_event_from_json (const gchar * data, gssize length,
    GError ** error);

EDGEFAAS_API EdgefaasDetectionEvent *edgefaas_detection_event_new (void);
EDGEFAAS_API void edgefaas_detection_event_free (EdgefaasDetectionEvent * ev);
EDGEFAAS_API gchar *edgefaas_detection_event_to_json (const EdgefaasDetectionEvent * ev,
    gsize * length);
EDGEFAAS_API EdgefaasDetectionEvent *edgefaas_detection_event_from_json (const gchar * data,
    gssize length, GError ** error);

/* Helpers for the array element types (clear functions set on the GArrays). */
EDGEFAAS_API void edgefaas_detection_clear (EdgefaasDetection * d);
EDGEFAAS_API void edgefaas_situation_clear (EdgefaasSituation * s);
/* Deep copy of @src into @dst (which is overwritten, not cleared). */
EDGEFAAS_API void edgefaas_situation_copy_into (const EdgefaasSituation * src,
    EdgefaasSituation * dst);

/* "2026-11-23T23:03:06.123Z" (milliseconds, truncated: JSON times have ms precision,
 * so a round trip floors every time to the millisecond). */
EDGEFAAS_API gchar *edgefaas_format_utc_us (gint64 utc_us);
EDGEFAAS_API gint64 edgefaas_now_utc_us (void);

/* Added: strict ISO 8601 UTC "YYYY-MM-DDTHH:MM:SS[.f{1,9}]Z", years 1970..9999. */
EDGEFAAS_API gboolean edgefaas_parse_utc_us (const gchar * iso, gint64 * out_utc_us);
/* Added: deep copies and field-by-field comparison (doubles compared exactly). */
EDGEFAAS_API gboolean edgefaas_frame_event_equal (const EdgefaasFrameEvent * a,
    const EdgefaasFrameEvent * b);
EDGEFAAS_API EdgefaasDetectionEvent *edgefaas_detection_event_copy (const EdgefaasDetectionEvent * ev);
EDGEFAAS_API gboolean edgefaas_detection_event_equal (const EdgefaasDetectionEvent * a,
    const EdgefaasDetectionEvent * b);
/* Added: would a consumer accept this event? Same GError as the parser's (the
 * event is written and read back). For producers, before publishing. */
EDGEFAAS_API gboolean edgefaas_frame_event_validate (const EdgefaasFrameEvent * ev,
    GError ** error);
EDGEFAAS_API gboolean edgefaas_detection_event_validate (const EdgefaasDetectionEvent * ev,
    GError ** error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (EdgefaasFrameEvent, edgefaas_frame_event_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (EdgefaasDetectionEvent, edgefaas_detection_event_free)

G_END_DECLS
