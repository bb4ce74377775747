/* situationdetect rules: the key-file (zones, tripwires, object filters,
 * conditions over time) and the engine that evaluates them over the tracked
 * objects of each camera, frame by frame in capture order.
 *
 * File format: docs/situationdetect.md. Everything is validated at load time;
 * a GError in SR_RULES_ERROR names the file, the group and the key. */
#pragma once

#include <glib.h>
#include "geometry.h"

G_BEGIN_DECLS

#define SR_RULES_ERROR (sr_rules_error_quark ())
typedef enum {
  SR_RULES_ERROR_READ,          /* the file cannot be read or is not a key-file */
  SR_RULES_ERROR_INVALID,       /* a group or key is wrong */
} SrRulesError;
GQuark sr_rules_error_quark (void);

typedef enum {
  SR_COND_IN_ZONE,              /* bottom-centre in a zone for >= seconds (loitering, danger zone) */
  SR_COND_LINE_CROSSED,         /* bottom-centre crossed a tripwire (direction) */
  SR_COND_STATIONARY,           /* has not moved for >= seconds (optionally in a zone) */
  SR_COND_CROWD,                /* >= count objects (in a zone) for >= seconds */
  SR_COND_COLLISION,            /* two tracks overlapped while moving, then both stationary >= seconds */
  SR_COND_PERSON_DOWN,          /* a track seen upright is lying for >= seconds */
  SR_COND_LABEL,                /* an object with one of the labels present for >= seconds (fire, smoke) */
} SrCondition;

typedef enum {
  SR_DIR_BOTH,
  SR_DIR_LEFT_TO_RIGHT,
  SR_DIR_RIGHT_TO_LEFT,
} SrDirection;

typedef struct {
  gchar *name, *camera;
  AnPoint *points;
  guint n_points;
} SrZone;

typedef struct {
  gchar *name, *camera;
  AnPoint a, b;
} SrLine;

typedef struct {
  gchar *name;                  /* [situation:NAME]: the alert's name, [A-Za-z0-9_-] */
  SrCondition condition;
  gchar **cameras;              /* NULL = every camera */
  GHashTable *labels;           /* set of model labels (groups expanded); NULL = any */
  gdouble min_area, max_area;   /* fraction of the frame */
  gdouble min_aspect, max_aspect;       /* width / height in pixels */
  gdouble min_score;            /* median score over the track */
  const SrZone *zone;           /* may be NULL */
  const SrLine *line;
  SrDirection direction;
  gdouble seconds, inertia, clear_seconds, min_iou;
  guint count;
} SrRule;

typedef struct {
  gchar *path;                  /* for messages */
  GPtrArray *cameras;           /* gchar*, declared cameras */
  GPtrArray *zones, *lines;     /* SrZone*, SrLine* */
  GPtrArray *rules;             /* SrRule* */
} SrRules;

/* @model_labels: the model's names (NULL-terminated); every label a rule
 * names must be one of them. */
SrRules *sr_rules_load (const gchar * path, const gchar * const *model_labels,
    GError ** error);
SrRules *sr_rules_load_data (const gchar * data, gsize length, const gchar * origin,
    const gchar * const *model_labels, GError ** error);
void sr_rules_free (SrRules * rules);
const gchar *sr_condition_name (SrCondition c);

/* ---- engine ---- */

/* One object of a frame, as the tracker left it. */
typedef struct {
  guint64 track_id;             /* 0 = not tracked */
  const gchar *label;
  gdouble score;
  AnBox box;                    /* normalised */
} SrObject;

typedef struct {
  guint64 track_id;
  const gchar *label;           /* interned */
  gdouble score;                /* median score over the track */
  AnBox box;
} SrAlertObject;

typedef struct {
  gboolean cleared;             /* FALSE: raised; TRUE: the situation ended */
  gchar *situation, *camera;
  gchar *zone;                  /* zone or line name, NULL = none */
  SrCondition condition;
  gint64 start_us;              /* when the condition started to hold */
  gint64 time_us;               /* when it was raised (or cleared) */
  GArray *objects;              /* of SrAlertObject */
  gdouble confidence;           /* lowest median score of the objects */
  gchar *labels;                /* distinct labels, comma-separated */
} SrAlert;

void sr_alert_free (SrAlert * a);

typedef struct _SrEngine SrEngine;

typedef struct {
  guint64 frames, out_of_order, objects_dropped;
} SrEngineStats;

/* @max_objects: objects per frame considered (more are dropped, counted);
 * @track_timeout_s: a track not seen for this long is forgotten. */
SrEngine *sr_engine_new (const SrRules * rules, guint max_objects, gdouble track_timeout_s);
void sr_engine_free (SrEngine * e);
/* Evaluate one frame of @camera at capture time @time_us (UTC µs), frame
 * size @fw x @fh. Returns the alerts raised and cleared on this frame (never
 * NULL; SrAlert*, owned by the caller). A frame older than the camera's
 * last frame is not evaluated (stats.out_of_order). */
GPtrArray *sr_engine_update (SrEngine * e, const gchar * camera, gint64 time_us,
    guint fw, guint fh, const SrObject * objects, guint n_objects);
void sr_engine_get_stats (const SrEngine * e, SrEngineStats * stats);

G_END_DECLS
