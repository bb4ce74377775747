/* edgefaas-event.c: the edgefaas.frame/v1 and edgefaas.detection/v1 JSON events
 * (see edgefaas-event.h and docs/events.md).
 *
 * Writing uses JsonBuilder/JsonGenerator. Reading is strict and defensive, since
 * the bytes come from the network:
 *   1. size, NUL bytes, UTF-8 and nesting depth are checked before json-glib sees
 *      the document (json-glib's parser recurses, so a deeply nested document
 *      could otherwise exhaust the stack);
 *   2. the schema string is checked first (unknown version = SCHEMA error);
 *   3. every field is looked up with a typed getter that names the field path
 *      ("frame.sha256", "motion.boxes[3].w") in the GError message.
 * Unknown members are ignored, so v1 producers may add optional members (see the
 * versioning rules in docs/events.md).
 */
#include "edgefaas-event.h"

#include <json-glib/json-glib.h>
#include <math.h>
#include <stdarg.h>
#include <string.h>
#include <time.h>

G_DEFINE_QUARK (edgefaas-event-error-quark, edgefaas_event_error)

/* Limits (documented in docs/events.md and docs/schema/). */
#define MAX_DEPTH 16
#define MAX_CAMERA_ID 128
#define MAX_RUN_ID 64
#define MAX_URI 4096
#define MAX_LABEL 128
#define MAX_NAME 128
#define MAX_LABELS 1024
#define MAX_MODEL 256
#define MAX_DIMENSION 32768
#define MAX_BOXES 1024
#define MAX_DETECTIONS 4096
#define MAX_SITUATIONS 256
#define MAX_SITUATION_TRACKS 1024
#define MAX_LABEL_ID 1000000
/* Largest encoded frame a v1 event may describe: 1 GiB. */
#define MAX_FRAME_SIZE (G_GUINT64_CONSTANT (1) << 30)
/* Largest JSON integer we write or accept for ids/counters: 2^53 - 1, the
 * largest integer every JSON implementation (JavaScript, Python float) keeps
 * exactly. */
#define MAX_JSON_INT G_GINT64_CONSTANT (9007199254740991)
/* 1970-01-01T00:00:00.000Z .. 9999-12-31T23:59:59.999999Z */
#define MIN_TIME_US G_GINT64_CONSTANT (0)
#define MAX_TIME_US G_GINT64_CONSTANT (253402300799999999)

/* ------------------------------------------------------------------------- */
/* Construction, copy, free                                                   */
/* ------------------------------------------------------------------------- */

void
edgefaas_detection_clear (EdgefaasDetection * d)
{
  if (!d)
    return;
  g_clear_pointer (&d->label, g_free);
}

void
edgefaas_situation_clear (EdgefaasSituation * s)
{
  if (!s)
    return;
  g_clear_pointer (&s->name, g_free);
  g_clear_pointer (&s->labels, g_free);
  g_clear_pointer (&s->zone, g_free);
  g_clear_pointer (&s->tracks, g_array_unref);
  g_clear_pointer (&s->snapshot_uri, g_free);
}

void
edgefaas_situation_copy_into (const EdgefaasSituation * src, EdgefaasSituation * dst)
{
  *dst = *src;
  dst->name = g_strdup (src->name);
  dst->labels = g_strdup (src->labels);
  dst->zone = g_strdup (src->zone);
  dst->snapshot_uri = g_strdup (src->snapshot_uri);
  dst->tracks = NULL;
  if (src->tracks) {
    dst->tracks = g_array_sized_new (FALSE, FALSE, sizeof (EdgefaasSituationTrack),
        src->tracks->len);
    g_array_append_vals (dst->tracks, src->tracks->data, src->tracks->len);
  }
}

static gboolean
situation_tracks_equal (const GArray * a, const GArray * b)
{
  guint na = a ? a->len : 0, nb = b ? b->len : 0;
  if ((a == NULL) != (b == NULL) || na != nb)
    return FALSE;
  for (guint i = 0; i < na; i++) {
    const EdgefaasSituationTrack *x = &g_array_index (a, EdgefaasSituationTrack, i);
    const EdgefaasSituationTrack *y = &g_array_index (b, EdgefaasSituationTrack, i);
    if (x->track_id != y->track_id || x->x_min != y->x_min || x->y_min != y->y_min
        || x->x_max != y->x_max || x->y_max != y->y_max)
      return FALSE;
  }
  return TRUE;
}

static void
frame_event_init (EdgefaasFrameEvent * ev)
{
  memset (ev, 0, sizeof (*ev));
  ev->running_time = GST_CLOCK_TIME_NONE;
  ev->motion_boxes = g_array_new (FALSE, TRUE, sizeof (EdgefaasBox));
}

EdgefaasFrameEvent *
edgefaas_frame_event_new (void)
{
  EdgefaasFrameEvent *ev = g_new (EdgefaasFrameEvent, 1);

  frame_event_init (ev);
  return ev;
}

void
edgefaas_frame_event_free (EdgefaasFrameEvent * ev)
{
  if (!ev)
    return;
  g_free (ev->camera_id);
  g_free (ev->run_id);
  g_free (ev->frame.uri);
  g_free (ev->frame.media_type);
  g_free (ev->frame.sha256);
  if (ev->motion_boxes)
    g_array_unref (ev->motion_boxes);
  g_free (ev);
}

EdgefaasFrameEvent *
edgefaas_frame_event_copy (const EdgefaasFrameEvent * ev)
{
  EdgefaasFrameEvent *c;

  g_return_val_if_fail (ev != NULL, NULL);

  c = edgefaas_frame_event_new ();
  c->camera_id = g_strdup (ev->camera_id);
  c->run_id = g_strdup (ev->run_id);
  c->event_id = ev->event_id;
  c->sequence = ev->sequence;
  c->capture_time_us = ev->capture_time_us;
  c->running_time = ev->running_time;
  c->frame.uri = g_strdup (ev->frame.uri);
  c->frame.is_inline = ev->frame.is_inline;
  c->frame.media_type = g_strdup (ev->frame.media_type);
  c->frame.width = ev->frame.width;
  c->frame.height = ev->frame.height;
  c->frame.size = ev->frame.size;
  c->frame.sha256 = g_strdup (ev->frame.sha256);
  if (ev->motion_boxes && ev->motion_boxes->len > 0)
    g_array_append_vals (c->motion_boxes, ev->motion_boxes->data, ev->motion_boxes->len);
  c->motion_score = ev->motion_score;
  c->trace = ev->trace;
  return c;
}

static gboolean
trace_equal (const EdgefaasTrace * a, const EdgefaasTrace * b)
{
  return a->captured_us == b->captured_us && a->published_us == b->published_us &&
      a->consumed_us == b->consumed_us && a->inferred_us == b->inferred_us;
}

gboolean
edgefaas_frame_event_equal (const EdgefaasFrameEvent * a, const EdgefaasFrameEvent * b)
{
  guint i, na, nb;

  if (a == b)
    return TRUE;
  if (!a || !b)
    return FALSE;
  if (g_strcmp0 (a->camera_id, b->camera_id) != 0 || a->event_id != b->event_id ||
      g_strcmp0 (a->run_id, b->run_id) != 0 ||
      a->sequence != b->sequence || a->capture_time_us != b->capture_time_us ||
      a->running_time != b->running_time || a->motion_score != b->motion_score ||
      !trace_equal (&a->trace, &b->trace))
    return FALSE;
  if (g_strcmp0 (a->frame.uri, b->frame.uri) != 0 ||
      (!a->frame.is_inline) != (!b->frame.is_inline) ||
      g_strcmp0 (a->frame.media_type, b->frame.media_type) != 0 ||
      a->frame.width != b->frame.width || a->frame.height != b->frame.height ||
      a->frame.size != b->frame.size || g_strcmp0 (a->frame.sha256, b->frame.sha256) != 0)
    return FALSE;
  na = a->motion_boxes ? a->motion_boxes->len : 0;
  nb = b->motion_boxes ? b->motion_boxes->len : 0;
  if (na != nb)
    return FALSE;
  for (i = 0; i < na; i++) {
    const EdgefaasBox *x = &g_array_index (a->motion_boxes, EdgefaasBox, i);
    const EdgefaasBox *y = &g_array_index (b->motion_boxes, EdgefaasBox, i);
    if (x->x != y->x || x->y != y->y || x->w != y->w || x->h != y->h || x->score != y->score)
      return FALSE;
  }
  return TRUE;
}

EdgefaasDetectionEvent *
edgefaas_detection_event_new (void)
{
  EdgefaasDetectionEvent *ev = g_new0 (EdgefaasDetectionEvent, 1);

  ev->detections = g_array_new (FALSE, TRUE, sizeof (EdgefaasDetection));
  g_array_set_clear_func (ev->detections, (GDestroyNotify) edgefaas_detection_clear);
  ev->situations = g_array_new (FALSE, TRUE, sizeof (EdgefaasSituation));
  g_array_set_clear_func (ev->situations, (GDestroyNotify) edgefaas_situation_clear);
  return ev;
}

void
edgefaas_detection_event_free (EdgefaasDetectionEvent * ev)
{
  if (!ev)
    return;
  g_free (ev->camera_id);
  g_free (ev->run_id);
  edgefaas_frame_event_free (ev->source);
  if (ev->detections)
    g_array_unref (ev->detections);
  if (ev->situations)
    g_array_unref (ev->situations);
  g_free (ev->model);
  g_free (ev);
}

EdgefaasDetectionEvent *
edgefaas_detection_event_copy (const EdgefaasDetectionEvent * ev)
{
  EdgefaasDetectionEvent *c;
  guint i;

  g_return_val_if_fail (ev != NULL, NULL);

  c = edgefaas_detection_event_new ();
  c->camera_id = g_strdup (ev->camera_id);
  c->run_id = g_strdup (ev->run_id);
  c->event_id = ev->event_id;
  c->sequence = ev->sequence;
  c->source = ev->source ? edgefaas_frame_event_copy (ev->source) : NULL;
  c->width = ev->width;
  c->height = ev->height;
  for (i = 0; ev->detections && i < ev->detections->len; i++) {
    EdgefaasDetection d = g_array_index (ev->detections, EdgefaasDetection, i);
    d.label = g_strdup (d.label);
    g_array_append_val (c->detections, d);
  }
  for (i = 0; ev->situations && i < ev->situations->len; i++) {
    EdgefaasSituation s;
    edgefaas_situation_copy_into (&g_array_index (ev->situations, EdgefaasSituation, i), &s);
    g_array_append_val (c->situations, s);
  }
  c->model = g_strdup (ev->model);
  c->trace = ev->trace;
  return c;
}

gboolean
edgefaas_detection_event_equal (const EdgefaasDetectionEvent * a, const EdgefaasDetectionEvent * b)
{
  guint i, na, nb;

  if (a == b)
    return TRUE;
  if (!a || !b)
    return FALSE;
  if (g_strcmp0 (a->camera_id, b->camera_id) != 0 || a->event_id != b->event_id ||
      g_strcmp0 (a->run_id, b->run_id) != 0 ||
      a->sequence != b->sequence || a->width != b->width || a->height != b->height ||
      g_strcmp0 (a->model, b->model) != 0 || !trace_equal (&a->trace, &b->trace) ||
      !edgefaas_frame_event_equal (a->source, b->source))
    return FALSE;

  na = a->detections ? a->detections->len : 0;
  nb = b->detections ? b->detections->len : 0;
  if (na != nb)
    return FALSE;
  for (i = 0; i < na; i++) {
    const EdgefaasDetection *x = &g_array_index (a->detections, EdgefaasDetection, i);
    const EdgefaasDetection *y = &g_array_index (b->detections, EdgefaasDetection, i);
    if (g_strcmp0 (x->label, y->label) != 0 || x->label_id != y->label_id ||
        x->confidence != y->confidence || x->x_min != y->x_min || x->y_min != y->y_min ||
        x->x_max != y->x_max || x->y_max != y->y_max)
      return FALSE;
  }

  na = a->situations ? a->situations->len : 0;
  nb = b->situations ? b->situations->len : 0;
  if (na != nb)
    return FALSE;
  for (i = 0; i < na; i++) {
    const EdgefaasSituation *x = &g_array_index (a->situations, EdgefaasSituation, i);
    const EdgefaasSituation *y = &g_array_index (b->situations, EdgefaasSituation, i);
    if (g_strcmp0 (x->name, y->name) != 0 || x->confidence != y->confidence ||
        x->frames != y->frames || g_strcmp0 (x->labels, y->labels) != 0 ||
        g_strcmp0 (x->zone, y->zone) != 0 || x->start_time_us != y->start_time_us ||
        g_strcmp0 (x->snapshot_uri, y->snapshot_uri) != 0 ||
        !situation_tracks_equal (x->tracks, y->tracks))
      return FALSE;
  }
  return TRUE;
}

/* ------------------------------------------------------------------------- */
/* Time                                                                       */
/* ------------------------------------------------------------------------- */

gint64
edgefaas_now_utc_us (void)
{
  return g_get_real_time ();
}

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm);
 * pure arithmetic, no libc time zone state. */
static gint64
days_from_civil (gint64 y, guint m, guint d)
{
  gint64 era, yoe, doy, doe;

  y -= m <= 2;
  era = (y >= 0 ? y : y - 399) / 400;
  yoe = y - era * 400;
  doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

static void
civil_from_days (gint64 z, gint64 * y, guint * m, guint * d)
{
  gint64 era, doe, yoe, doy, mp;

  z += 719468;
  era = (z >= 0 ? z : z - 146096) / 146097;
  doe = z - era * 146097;
  yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  *y = yoe + era * 400;
  doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  mp = (5 * doy + 2) / 153;
  *d = (guint) (doy - (153 * mp + 2) / 5 + 1);
  *m = (guint) (mp < 10 ? mp + 3 : mp - 9);
  *y += *m <= 2;
}

/* "2026-11-23T23:03:06.123Z": milliseconds, truncated (floor) from µs. */
gchar *
edgefaas_format_utc_us (gint64 utc_us)
{
  gint64 days, secs, y;
  gint64 rem_us;
  guint m, d;

  secs = utc_us / G_USEC_PER_SEC;
  rem_us = utc_us % G_USEC_PER_SEC;
  if (rem_us < 0) {
    rem_us += G_USEC_PER_SEC;
    secs--;
  }
  days = secs / 86400;
  secs %= 86400;
  if (secs < 0) {
    secs += 86400;
    days--;
  }
  civil_from_days (days, &y, &m, &d);
  return g_strdup_printf ("%04" G_GINT64_FORMAT "-%02u-%02uT%02d:%02d:%02d.%03dZ", y, m, d,
      (gint) (secs / 3600), (gint) (secs / 60 % 60), (gint) (secs % 60), (gint) (rem_us / 1000));
}

static gboolean
parse_digits (const gchar ** p, guint n, guint * out)
{
  guint v = 0, i;

  for (i = 0; i < n; i++) {
    if (!g_ascii_isdigit ((*p)[i]))
      return FALSE;
    v = v * 10 + (guint) ((*p)[i] - '0');
  }
  *p += n;
  *out = v;
  return TRUE;
}

/* Strict ISO 8601 UTC: YYYY-MM-DDTHH:MM:SS[.f{1,9}]Z, year 1970..9999.
 * Fractions beyond microseconds are truncated. */
gboolean
edgefaas_parse_utc_us (const gchar * s, gint64 * out_us)
{
  const gchar *p = s;
  guint year, mon, day, hh, mm, ss, frac_us = 0, ndig = 0;
  gint64 days;

  g_return_val_if_fail (out_us != NULL, FALSE);
  if (!s)
    return FALSE;

  if (!parse_digits (&p, 4, &year) || *p++ != '-' || !parse_digits (&p, 2, &mon) ||
      *p++ != '-' || !parse_digits (&p, 2, &day) || *p++ != 'T' ||
      !parse_digits (&p, 2, &hh) || *p++ != ':' || !parse_digits (&p, 2, &mm) ||
      *p++ != ':' || !parse_digits (&p, 2, &ss))
    return FALSE;
  if (*p == '.') {
    p++;
    while (g_ascii_isdigit (*p)) {
      if (ndig < 6)
        frac_us = frac_us * 10 + (guint) (*p - '0');
      ndig++;
      p++;
      if (ndig > 9)
        return FALSE;
    }
    if (ndig == 0)
      return FALSE;
    for (guint i = ndig; i < 6; i++)
      frac_us *= 10;
  }
  if (*p++ != 'Z' || *p != '\0')
    return FALSE;

  if (year < 1970 || year > 9999 || mon < 1 || mon > 12 || hh > 23 || mm > 59 || ss > 59)
    return FALSE;
  if (!g_date_valid_dmy ((GDateDay) day, (GDateMonth) mon, (GDateYear) year))
    return FALSE;

  days = days_from_civil (year, mon, day);
  *out_us = ((days * 86400 + hh * 3600 + mm * 60 + ss) * G_USEC_PER_SEC) + frac_us;
  return TRUE;
}

/* ------------------------------------------------------------------------- */
/* Writing                                                                    */
/* ------------------------------------------------------------------------- */

static void
add_time (JsonBuilder * b, const gchar * name, gint64 us)
{
  gchar *s = edgefaas_format_utc_us (us);

  json_builder_set_member_name (b, name);
  json_builder_add_string_value (b, s);
  g_free (s);
}

static void
add_int (JsonBuilder * b, const gchar * name, gint64 v)
{
  json_builder_set_member_name (b, name);
  json_builder_add_int_value (b, v);
}

static void
add_double (JsonBuilder * b, const gchar * name, gdouble v)
{
  json_builder_set_member_name (b, name);
  /* JSON has no NaN/Infinity: json-glib would write "nan", which no parser
   * reads. Write 0 so the document stays valid JSON. */
  json_builder_add_double_value (b, isfinite (v) ? v : 0.0);
}

static void
add_string (JsonBuilder * b, const gchar * name, const gchar * v)
{
  json_builder_set_member_name (b, name);
  json_builder_add_string_value (b, v ? v : "");
}

static void
add_trace (JsonBuilder * b, const EdgefaasTrace * t)
{
  json_builder_set_member_name (b, "trace");
  json_builder_begin_object (b);
  if (t->captured_us)
    add_time (b, "captured", t->captured_us);
  if (t->published_us)
    add_time (b, "published", t->published_us);
  if (t->consumed_us)
    add_time (b, "consumed", t->consumed_us);
  if (t->inferred_us)
    add_time (b, "inferred", t->inferred_us);
  json_builder_end_object (b);
}

/* Opens the event object with the members both schemas start with. */
static void
begin_event (JsonBuilder * b, const gchar * schema, const gchar * camera_id, guint64 event_id,
    guint64 sequence, const gchar * run_id)
{
  json_builder_begin_object (b);
  add_string (b, "schema", schema);
  add_string (b, "camera_id", camera_id);
  add_int (b, "event_id", (gint64) event_id);
  add_int (b, "sequence", (gint64) sequence);
  if (run_id)
    add_string (b, "run_id", run_id);
}

static void
build_frame_event (JsonBuilder * b, const EdgefaasFrameEvent * ev)
{
  guint i;

  begin_event (b, EDGEFAAS_FRAME_SCHEMA, ev->camera_id, ev->event_id, ev->sequence,
      ev->run_id);
  add_time (b, "capture_time", ev->capture_time_us);
  json_builder_set_member_name (b, "running_time_ns");
  if (GST_CLOCK_TIME_IS_VALID (ev->running_time) && ev->running_time <= (GstClockTime) G_MAXINT64)
    json_builder_add_int_value (b, (gint64) ev->running_time);
  else
    json_builder_add_null_value (b);

  json_builder_set_member_name (b, "frame");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "inline");
  json_builder_add_boolean_value (b, ev->frame.is_inline);
  if (!ev->frame.is_inline)
    add_string (b, "uri", ev->frame.uri);
  add_string (b, "media_type", ev->frame.media_type);
  add_int (b, "width", ev->frame.width);
  add_int (b, "height", ev->frame.height);
  add_int (b, "size", (gint64) ev->frame.size);
  if (ev->frame.sha256)
    add_string (b, "sha256", ev->frame.sha256);
  json_builder_end_object (b);

  json_builder_set_member_name (b, "motion");
  json_builder_begin_object (b);
  add_double (b, "score", ev->motion_score);
  json_builder_set_member_name (b, "boxes");
  json_builder_begin_array (b);
  for (i = 0; ev->motion_boxes && i < ev->motion_boxes->len; i++) {
    const EdgefaasBox *box = &g_array_index (ev->motion_boxes, EdgefaasBox, i);
    json_builder_begin_object (b);
    add_int (b, "x", box->x);
    add_int (b, "y", box->y);
    add_int (b, "w", box->w);
    add_int (b, "h", box->h);
    add_double (b, "score", box->score);
    json_builder_end_object (b);
  }
  json_builder_end_array (b);
  json_builder_end_object (b);

  add_trace (b, &ev->trace);
  json_builder_end_object (b);
}

static gchar *
generate (JsonBuilder * b, gsize * length)
{
  JsonGenerator *gen = json_generator_new ();
  JsonNode *root = json_builder_get_root (b);
  gchar *out;

  json_generator_set_root (gen, root);
  out = json_generator_to_data (gen, length);
  json_node_unref (root);
  g_object_unref (gen);
  return out;
}

gchar *
edgefaas_frame_event_to_json (const EdgefaasFrameEvent * ev, gsize * length)
{
  JsonBuilder *b;
  gchar *out;

  g_return_val_if_fail (ev != NULL, NULL);

  b = json_builder_new ();
  build_frame_event (b, ev);
  out = generate (b, length);
  g_object_unref (b);
  return out;
}

gchar *
edgefaas_detection_event_to_json (const EdgefaasDetectionEvent * ev, gsize * length)
{
  JsonBuilder *b;
  gchar *out;
  guint i;

  g_return_val_if_fail (ev != NULL, NULL);

  b = json_builder_new ();
  begin_event (b, EDGEFAAS_DETECTION_SCHEMA, ev->camera_id, ev->event_id, ev->sequence,
      ev->run_id);
  add_int (b, "width", ev->width);
  add_int (b, "height", ev->height);
  if (ev->model)
    add_string (b, "model", ev->model);
  json_builder_set_member_name (b, "source");
  if (ev->source)
    build_frame_event (b, ev->source);
  else
    json_builder_add_null_value (b);

  json_builder_set_member_name (b, "detections");
  json_builder_begin_array (b);
  for (i = 0; ev->detections && i < ev->detections->len; i++) {
    const EdgefaasDetection *d = &g_array_index (ev->detections, EdgefaasDetection, i);
    json_builder_begin_object (b);
    add_string (b, "label", d->label);
    add_int (b, "label_id", d->label_id);
    add_double (b, "confidence", d->confidence);
    add_double (b, "x_min", d->x_min);
    add_double (b, "y_min", d->y_min);
    add_double (b, "x_max", d->x_max);
    add_double (b, "y_max", d->y_max);
    json_builder_end_object (b);
  }
  json_builder_end_array (b);

  json_builder_set_member_name (b, "situations");
  json_builder_begin_array (b);
  for (i = 0; ev->situations && i < ev->situations->len; i++) {
    const EdgefaasSituation *s = &g_array_index (ev->situations, EdgefaasSituation, i);
    json_builder_begin_object (b);
    add_string (b, "name", s->name);
    add_double (b, "confidence", s->confidence);
    add_int (b, "frames", s->frames);
    if (s->labels)
      add_string (b, "labels", s->labels);
    if (s->zone)
      add_string (b, "zone", s->zone);
    if (s->start_time_us)
      add_time (b, "start_time", s->start_time_us);
    if (s->tracks) {
      json_builder_set_member_name (b, "tracks");
      json_builder_begin_array (b);
      for (guint k = 0; k < s->tracks->len; k++) {
        const EdgefaasSituationTrack *t = &g_array_index (s->tracks, EdgefaasSituationTrack, k);
        json_builder_begin_object (b);
        add_int (b, "id", (gint64) t->track_id);
        add_double (b, "x_min", t->x_min);
        add_double (b, "y_min", t->y_min);
        add_double (b, "x_max", t->x_max);
        add_double (b, "y_max", t->y_max);
        json_builder_end_object (b);
      }
      json_builder_end_array (b);
    }
    if (s->snapshot_uri)
      add_string (b, "snapshot", s->snapshot_uri);
    json_builder_end_object (b);
  }
  json_builder_end_array (b);

  add_trace (b, &ev->trace);
  json_builder_end_object (b);

  out = generate (b, length);
  g_object_unref (b);
  return out;
}

/* ------------------------------------------------------------------------- */
/* Reading                                                                    */
/* ------------------------------------------------------------------------- */

/* A field path for messages: "frame.sha256", "motion.boxes[3].w". */
static gchar *
field_path (const gchar * prefix, const gchar * name)
{
  if (!prefix || !*prefix)
    return g_strdup (name);
  return g_strconcat (prefix, ".", name, NULL);
}

G_GNUC_PRINTF (4, 5)
static gboolean
fail (GError ** error, gint code, const gchar * path, const gchar * format, ...)
{
  va_list args;
  gchar *detail;

  va_start (args, format);
  detail = g_strdup_vprintf (format, args);
  va_end (args);
  g_set_error (error, EDGEFAAS_EVENT_ERROR, code, "%s: %s", path, detail);
  g_free (detail);
  return FALSE;
}

typedef struct
{
  JsonObject *obj;
  const gchar *prefix;
} Ctx;

/* Looks @name up. Absent or null: error if @required, else *node = NULL. */
static gboolean
get_node (const Ctx * c, const gchar * name, gboolean required, JsonNode ** node, GError ** error)
{
  JsonNode *n = json_object_get_member (c->obj, name);

  *node = NULL;
  if (!n || JSON_NODE_HOLDS_NULL (n)) {
    if (required) {
      gchar *path = field_path (c->prefix, name);
      fail (error, EDGEFAAS_EVENT_ERROR_FIELD, path, n ? "must not be null" : "missing");
      g_free (path);
      return FALSE;
    }
    return TRUE;
  }
  *node = n;
  return TRUE;
}

static gboolean
mistyped (const Ctx * c, const gchar * name, const gchar * expected, GError ** error)
{
  gchar *path = field_path (c->prefix, name);

  fail (error, EDGEFAAS_EVENT_ERROR_FIELD, path, "expected %s", expected);
  g_free (path);
  return FALSE;
}

static gboolean
out_of_range (const Ctx * c, const gchar * name, GError ** error, const gchar * format, ...)
    G_GNUC_PRINTF (4, 5);

static gboolean
out_of_range (const Ctx * c, const gchar * name, GError ** error, const gchar * format, ...)
{
  gchar *path = field_path (c->prefix, name);
  va_list args;
  gchar *detail;

  va_start (args, format);
  detail = g_strdup_vprintf (format, args);
  va_end (args);
  fail (error, EDGEFAAS_EVENT_ERROR_FIELD, path, "%s", detail);
  g_free (detail);
  g_free (path);
  return FALSE;
}

static gboolean
has_control_chars (const gchar * s)
{
  for (; *s; s++)
    if ((guchar) * s < 0x20 || (guchar) * s == 0x7f)
      return TRUE;
  return FALSE;
}

/* *out is a pointer into the document (valid while the parser lives), or NULL
 * when optional and absent. */
static gboolean
get_string (const Ctx * c, const gchar * name, gboolean required, gsize min_len, gsize max_len,
    const gchar ** out, GError ** error)
{
  JsonNode *n;
  const gchar *s;
  gsize len;

  *out = NULL;
  if (!get_node (c, name, required, &n, error))
    return FALSE;
  if (!n)
    return TRUE;
  if (!JSON_NODE_HOLDS_VALUE (n) || json_node_get_value_type (n) != G_TYPE_STRING)
    return mistyped (c, name, "a string", error);
  s = json_node_get_string (n);
  len = strlen (s);
  if (len < min_len || len > max_len)
    return out_of_range (c, name, error, "expected a string of %" G_GSIZE_FORMAT "..%"
        G_GSIZE_FORMAT " bytes, got %" G_GSIZE_FORMAT, min_len, max_len, len);
  if (has_control_chars (s))
    return out_of_range (c, name, error, "control characters are not allowed");
  *out = s;
  return TRUE;
}

/* Integer (a JSON number without fraction or exponent) in [min, max].
 * Returns TRUE with *present = FALSE when optional and absent. */
static gboolean
get_int (const Ctx * c, const gchar * name, gboolean required, gint64 min, gint64 max,
    gint64 * out, gboolean * present, GError ** error)
{
  JsonNode *n;
  gint64 v;

  if (present)
    *present = FALSE;
  if (!get_node (c, name, required, &n, error))
    return FALSE;
  if (!n)
    return TRUE;
  if (!JSON_NODE_HOLDS_VALUE (n) || json_node_get_value_type (n) != G_TYPE_INT64)
    return mistyped (c, name, "an integer", error);
  v = json_node_get_int (n);
  if (v < min || v > max)
    return out_of_range (c, name, error, "%" G_GINT64_FORMAT " is out of range [%"
        G_GINT64_FORMAT ", %" G_GINT64_FORMAT "]", v, min, max);
  *out = v;
  if (present)
    *present = TRUE;
  return TRUE;
}

static gboolean
get_double (const Ctx * c, const gchar * name, gdouble min, gdouble max, gdouble * out,
    GError ** error)
{
  JsonNode *n;
  gdouble v;

  if (!get_node (c, name, TRUE, &n, error))
    return FALSE;
  if (!JSON_NODE_HOLDS_VALUE (n))
    return mistyped (c, name, "a number", error);
  if (json_node_get_value_type (n) == G_TYPE_DOUBLE)
    v = json_node_get_double (n);
  else if (json_node_get_value_type (n) == G_TYPE_INT64)
    v = (gdouble) json_node_get_int (n);
  else
    return mistyped (c, name, "a number", error);
  if (!isfinite (v) || v < min || v > max)
    return out_of_range (c, name, error, "%g is out of range [%g, %g]", v, min, max);
  *out = v;
  return TRUE;
}

static gboolean
get_bool (const Ctx * c, const gchar * name, gboolean * out, GError ** error)
{
  JsonNode *n;

  if (!get_node (c, name, TRUE, &n, error))
    return FALSE;
  if (!JSON_NODE_HOLDS_VALUE (n) || json_node_get_value_type (n) != G_TYPE_BOOLEAN)
    return mistyped (c, name, "a boolean", error);
  *out = json_node_get_boolean (n);
  return TRUE;
}

static gboolean
get_object (const Ctx * c, const gchar * name, gboolean required, JsonObject ** out,
    GError ** error)
{
  JsonNode *n;

  *out = NULL;
  if (!get_node (c, name, required, &n, error))
    return FALSE;
  if (!n)
    return TRUE;
  if (!JSON_NODE_HOLDS_OBJECT (n))
    return mistyped (c, name, "an object", error);
  *out = json_node_get_object (n);
  return TRUE;
}

static gboolean
get_array (const Ctx * c, const gchar * name, guint max_len, JsonArray ** out, GError ** error)
{
  JsonNode *n;
  JsonArray *a;

  *out = NULL;
  if (!get_node (c, name, TRUE, &n, error))
    return FALSE;
  if (!JSON_NODE_HOLDS_ARRAY (n))
    return mistyped (c, name, "an array", error);
  a = json_node_get_array (n);
  if (json_array_get_length (a) > max_len)
    return out_of_range (c, name, error, "%u elements, at most %u allowed",
        json_array_get_length (a), max_len);
  *out = a;
  return TRUE;
}

/* Optional ISO 8601 time; *out stays 0 when absent. */
static gboolean
get_time (const Ctx * c, const gchar * name, gboolean required, gint64 * out, GError ** error)
{
  const gchar *s;

  if (!get_string (c, name, required, 0, 64, &s, error))
    return FALSE;
  if (!s)
    return TRUE;
  if (!edgefaas_parse_utc_us (s, out))
    return out_of_range (c, name, error,
        "expected an ISO 8601 UTC time like 2026-01-31T23:59:59.123Z (years 1970..9999)");
  return TRUE;
}

/* Element @i of @array as an object; the context prefix is "<prefix>.<name>[i]". */
static gboolean
array_object (const Ctx * c, const gchar * name, JsonArray * array, guint i, Ctx * elem,
    gchar ** elem_prefix, GError ** error)
{
  JsonNode *n = json_array_get_element (array, i);
  gchar *base = field_path (c->prefix, name);

  *elem_prefix = g_strdup_printf ("%s[%u]", base, i);
  g_free (base);
  if (!JSON_NODE_HOLDS_OBJECT (n)) {
    fail (error, EDGEFAAS_EVENT_ERROR_FIELD, *elem_prefix, "expected an object");
    return FALSE;
  }
  elem->obj = json_node_get_object (n);
  elem->prefix = *elem_prefix;
  return TRUE;
}

static gboolean
is_lower_hex (const gchar * s, gsize len)
{
  gsize i;

  if (strlen (s) != len)
    return FALSE;
  for (i = 0; i < len; i++)
    if (!g_ascii_isdigit (s[i]) && !(s[i] >= 'a' && s[i] <= 'f'))
      return FALSE;
  return TRUE;
}

static gboolean
parse_trace (const Ctx * c, EdgefaasTrace * t, GError ** error)
{
  JsonObject *o;
  Ctx tc;
  gchar *prefix;
  gboolean ok;

  if (!get_object (c, "trace", FALSE, &o, error))
    return FALSE;
  if (!o)
    return TRUE;
  prefix = field_path (c->prefix, "trace");
  tc.obj = o;
  tc.prefix = prefix;
  ok = get_time (&tc, "captured", FALSE, &t->captured_us, error) &&
      get_time (&tc, "published", FALSE, &t->published_us, error) &&
      get_time (&tc, "consumed", FALSE, &t->consumed_us, error) &&
      get_time (&tc, "inferred", FALSE, &t->inferred_us, error);
  g_free (prefix);
  return ok;
}

/* Checks "schema" against @expected (e.g. "edgefaas.frame/v1"). */
static gboolean
check_schema (const Ctx * c, const gchar * expected, GError ** error)
{
  JsonNode *n = json_object_get_member (c->obj, "schema");
  gchar *path = field_path (c->prefix, "schema");
  const gchar *s;
  gsize family_len = strchr (expected, '/') - expected + 1;
  gboolean ok = FALSE;

  if (!n || JSON_NODE_HOLDS_NULL (n))
    fail (error, EDGEFAAS_EVENT_ERROR_SCHEMA, path, "missing (expected \"%s\")", expected);
  else if (!JSON_NODE_HOLDS_VALUE (n) || json_node_get_value_type (n) != G_TYPE_STRING)
    fail (error, EDGEFAAS_EVENT_ERROR_SCHEMA, path, "expected a string");
  else if (g_strcmp0 ((s = json_node_get_string (n)), expected) == 0)
    ok = TRUE;
  else if (strlen (s) > 64 || has_control_chars (s))
    fail (error, EDGEFAAS_EVENT_ERROR_SCHEMA, path, "unknown schema (expected \"%s\")", expected);
  else if (strncmp (s, expected, family_len) == 0)
    fail (error, EDGEFAAS_EVENT_ERROR_SCHEMA, path,
        "unsupported version \"%s\" (this build reads \"%s\")", s, expected);
  else
    fail (error, EDGEFAAS_EVENT_ERROR_SCHEMA, path, "unknown schema \"%s\" (expected \"%s\")",
        s, expected);
  g_free (path);
  return ok;
}

static gboolean
parse_frame_ref (const Ctx * c, EdgefaasFrameRef * f, GError ** error)
{
  JsonObject *o;
  Ctx fc;
  gchar *prefix;
  const gchar *uri, *media_type, *sha;
  gint64 v;
  gboolean ok = FALSE;

  if (!get_object (c, "frame", TRUE, &o, error))
    return FALSE;
  prefix = field_path (c->prefix, "frame");
  fc.obj = o;
  fc.prefix = prefix;

  if (!get_bool (&fc, "inline", &f->is_inline, error))
    goto out;
  if (!get_string (&fc, "uri", !f->is_inline, 8, MAX_URI, &uri, error))
    goto out;
  if (f->is_inline && uri) {
    out_of_range (&fc, "uri", error, "must be absent when %s.inline is true", prefix);
    goto out;
  }
  if (uri) {
    if (g_ascii_strncasecmp (uri, "file://", 7) != 0) {
      out_of_range (&fc, "uri", error, "only file:// URIs are supported");
      goto out;
    }
    f->uri = g_strdup (uri);
  }

  if (!get_string (&fc, "media_type", TRUE, 1, 64, &media_type, error))
    goto out;
  if (strcmp (media_type, "image/jpeg") != 0 && strcmp (media_type, "image/png") != 0) {
    out_of_range (&fc, "media_type", error, "expected \"image/jpeg\" or \"image/png\"");
    goto out;
  }
  f->media_type = g_strdup (media_type);

  if (!get_int (&fc, "width", TRUE, 1, MAX_DIMENSION, &v, NULL, error))
    goto out;
  f->width = (guint) v;
  if (!get_int (&fc, "height", TRUE, 1, MAX_DIMENSION, &v, NULL, error))
    goto out;
  f->height = (guint) v;
  if (!get_int (&fc, "size", TRUE, 1, (gint64) MAX_FRAME_SIZE, &v, NULL, error))
    goto out;
  f->size = (guint64) v;

  if (!get_string (&fc, "sha256", FALSE, 0, 64, &sha, error))
    goto out;
  if (sha) {
    if (!is_lower_hex (sha, 64)) {
      out_of_range (&fc, "sha256", error, "expected 64 lowercase hex characters");
      goto out;
    }
    f->sha256 = g_strdup (sha);
  }
  ok = TRUE;

out:
  g_free (prefix);
  return ok;
}

static gboolean
parse_motion (const Ctx * c, EdgefaasFrameEvent * ev, GError ** error)
{
  JsonObject *o;
  JsonArray *boxes;
  Ctx mc;
  gchar *prefix;
  guint i;
  gboolean ok = FALSE;

  if (!get_object (c, "motion", TRUE, &o, error))
    return FALSE;
  prefix = field_path (c->prefix, "motion");
  mc.obj = o;
  mc.prefix = prefix;

  if (!get_double (&mc, "score", 0.0, 1.0, &ev->motion_score, error) ||
      !get_array (&mc, "boxes", MAX_BOXES, &boxes, error))
    goto out;

  for (i = 0; i < json_array_get_length (boxes); i++) {
    EdgefaasBox box;
    Ctx bc;
    gchar *bp = NULL;
    gint64 x, y, w, h;
    gboolean bok;

    bok = array_object (&mc, "boxes", boxes, i, &bc, &bp, error) &&
        get_int (&bc, "x", TRUE, 0, ev->frame.width - 1, &x, NULL, error) &&
        get_int (&bc, "y", TRUE, 0, ev->frame.height - 1, &y, NULL, error) &&
        get_int (&bc, "w", TRUE, 1, ev->frame.width - x, &w, NULL, error) &&
        get_int (&bc, "h", TRUE, 1, ev->frame.height - y, &h, NULL, error) &&
        get_double (&bc, "score", 0.0, 1.0, &box.score, error);
    g_free (bp);
    if (!bok)
      goto out;
    box.x = (gint) x;
    box.y = (gint) y;
    box.w = (gint) w;
    box.h = (gint) h;
    g_array_append_val (ev->motion_boxes, box);
  }
  ok = TRUE;

out:
  g_free (prefix);
  return ok;
}

/* The members both schemas start with: schema, camera_id, event_id, sequence,
 * run_id (optional). */
static gboolean
parse_event_head (const Ctx * c, const gchar * schema, gchar ** camera_id, guint64 * event_id,
    guint64 * sequence, gchar ** run_id, GError ** error)
{
  const gchar *camera, *run;
  gint64 v;

  if (!check_schema (c, schema, error))
    return FALSE;
  if (!get_string (c, "camera_id", TRUE, 1, MAX_CAMERA_ID, &camera, error))
    return FALSE;
  *camera_id = g_strdup (camera);
  if (!get_int (c, "event_id", TRUE, 0, MAX_JSON_INT, &v, NULL, error))
    return FALSE;
  *event_id = (guint64) v;
  if (!get_int (c, "sequence", TRUE, 0, MAX_JSON_INT, &v, NULL, error))
    return FALSE;
  *sequence = (guint64) v;
  if (!get_string (c, "run_id", FALSE, 1, MAX_RUN_ID, &run, error))
    return FALSE;
  *run_id = g_strdup (run);
  return TRUE;
}

/* Fills @ev (initialised) from a frame event object. @prefix "" or "source". */
static gboolean
parse_frame_object (JsonObject * obj, const gchar * prefix, EdgefaasFrameEvent * ev,
    GError ** error)
{
  Ctx c = { obj, prefix };
  gint64 v;
  gboolean present;

  if (!parse_event_head (&c, EDGEFAAS_FRAME_SCHEMA, &ev->camera_id, &ev->event_id,
          &ev->sequence, &ev->run_id, error))
    return FALSE;
  if (!get_time (&c, "capture_time", TRUE, &ev->capture_time_us, error))
    return FALSE;
  if (!get_int (&c, "running_time_ns", FALSE, 0, G_MAXINT64, &v, &present, error))
    return FALSE;
  ev->running_time = present ? (GstClockTime) v : GST_CLOCK_TIME_NONE;
  /* frame before motion: the boxes are checked against the frame size. */
  if (!parse_frame_ref (&c, &ev->frame, error))
    return FALSE;
  if (!parse_motion (&c, ev, error))
    return FALSE;
  return parse_trace (&c, &ev->trace, error);
}

/* Strict RFC 8259 syntax check, iterative (no recursion), depth-limited.
 * json-glib accepts extensions (C comments, "var x = ..." assignments, several
 * top-level values, GScanner number forms) that other JSON parsers refuse; a
 * document another consumer would read differently must not pass here. */
static gboolean
json_ws (guchar c)
{
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static const gchar *
lex_string (const guchar ** pp, const guchar * end)
{
  const guchar *p = *pp + 1;    /* after the opening quote */

  while (p < end) {
    guchar c = *p++;
    if (c == '"') {
      *pp = p;
      return NULL;
    }
    if (c < 0x20)
      return "control character in a string";
    if (c == '\\') {
      if (p >= end)
        break;
      c = *p++;
      if (c == 'u') {
        guint cp = 0;
        for (gint i = 0; i < 4; i++, p++) {
          if (p >= end || !g_ascii_isxdigit (*p))
            return "bad \\u escape";
          cp = cp * 16 + (guint) g_ascii_xdigit_value (*p);
        }
        /* json-glib truncates at \u0000 and turns lone surrogates into
         * invalid UTF-8 (dropping what follows): refuse both. */
        if (cp == 0)
          return "\\u0000 is not allowed";
        if (cp >= 0xdc00 && cp <= 0xdfff)
          return "lone low surrogate";
        if (cp >= 0xd800 && cp <= 0xdbff) {
          guint lo = 0;
          if (end - p < 6 || p[0] != '\\' || p[1] != 'u')
            return "lone high surrogate";
          for (gint i = 2; i < 6; i++) {
            if (!g_ascii_isxdigit (p[i]))
              return "bad \\u escape";
            lo = lo * 16 + (guint) g_ascii_xdigit_value (p[i]);
          }
          if (lo < 0xdc00 || lo > 0xdfff)
            return "lone high surrogate";
          p += 6;
        }
      } else if (!strchr ("\"\\/bfnrt", c) || c == '\0') {
        return "bad escape";
      }
    }
  }
  return "unterminated string";
}

static const gchar *
lex_number (const guchar ** pp, const guchar * end)
{
  const guchar *p = *pp;
  gboolean negative = FALSE, integer = TRUE;
  guint64 value = 0, limit;
  gboolean overflow = FALSE;

  if (p < end && *p == '-') {
    negative = TRUE;
    p++;
  }
  if (p < end && *p == '0')
    p++;
  else if (p < end && *p >= '1' && *p <= '9')
    while (p < end && g_ascii_isdigit (*p)) {
      guint d = (guint) (*p - '0');
      if (value > (G_MAXUINT64 - d) / 10)
        overflow = TRUE;
      else
        value = value * 10 + d;
      p++;
    }
  else
    return "bad number";
  if (p < end && (*p == '.' || *p == 'e' || *p == 'E'))
    integer = FALSE;
  /* json-glib silently wraps integers beyond 64 bits (2^64 + 42 reads as 42):
   * refuse them here. */
  limit = negative ? (guint64) G_MAXINT64 + 1 : (guint64) G_MAXINT64;
  if (integer && (overflow || value > limit))
    return "integer does not fit in 64 bits";
  if (p < end && *p == '.') {
    p++;
    if (p >= end || !g_ascii_isdigit (*p))
      return "bad number";
    while (p < end && g_ascii_isdigit (*p))
      p++;
  }
  if (p < end && (*p == 'e' || *p == 'E')) {
    p++;
    if (p < end && (*p == '+' || *p == '-'))
      p++;
    if (p >= end || !g_ascii_isdigit (*p))
      return "bad number";
    while (p < end && g_ascii_isdigit (*p))
      p++;
  }
  *pp = p;
  return NULL;
}

static gboolean
strict_syntax (const gchar * data, gsize len, GError ** error)
{
  const guchar *start = (const guchar *) data, *p = start, *end = start + len;
  gchar stack[MAX_DEPTH];
  guint depth = 0;
  enum
  { VALUE, KEY, AFTER } state = VALUE;
  const gchar *why = NULL;

  for (;;) {
    while (p < end && json_ws (*p))
      p++;
    if (state == AFTER && depth == 0)
      break;
    if (p >= end) {
      why = "unexpected end";
      goto bad;
    }
    if (state == VALUE) {
      if (*p == '{' || *p == '[') {
        if (depth == MAX_DEPTH) {
          g_set_error (error, EDGEFAAS_EVENT_ERROR, EDGEFAAS_EVENT_ERROR_SYNTAX,
              "document: nested deeper than %d levels", MAX_DEPTH);
          return FALSE;
        }
        stack[depth++] = (gchar) * p++;
        while (p < end && json_ws (*p))
          p++;
        if (p < end && ((stack[depth - 1] == '{' && *p == '}') ||
                (stack[depth - 1] == '[' && *p == ']'))) {
          p++;
          depth--;
          state = AFTER;
        } else {
          state = stack[depth - 1] == '{' ? KEY : VALUE;
        }
      } else if (*p == '"') {
        if ((why = lex_string (&p, end)))
          goto bad;
        state = AFTER;
      } else if (*p == '-' || g_ascii_isdigit (*p)) {
        if ((why = lex_number (&p, end)))
          goto bad;
        state = AFTER;
      } else if ((gsize) (end - p) >= 4 && memcmp (p, "true", 4) == 0) {
        p += 4;
        state = AFTER;
      } else if ((gsize) (end - p) >= 5 && memcmp (p, "false", 5) == 0) {
        p += 5;
        state = AFTER;
      } else if ((gsize) (end - p) >= 4 && memcmp (p, "null", 4) == 0) {
        p += 4;
        state = AFTER;
      } else {
        why = "unexpected character";
        goto bad;
      }
    } else if (state == KEY) {
      if (*p != '"') {
        why = "expected a member name";
        goto bad;
      }
      if ((why = lex_string (&p, end)))
        goto bad;
      while (p < end && json_ws (*p))
        p++;
      if (p >= end || *p != ':') {
        why = "expected ':'";
        goto bad;
      }
      p++;
      state = VALUE;
    } else {                    /* AFTER, inside a container */
      gchar top = stack[depth - 1];
      if (*p == ',') {
        p++;
        state = top == '{' ? KEY : VALUE;
      } else if ((top == '{' && *p == '}') || (top == '[' && *p == ']')) {
        p++;
        depth--;
        state = AFTER;
      } else {
        why = top == '{' ? "expected ',' or '}'" : "expected ',' or ']'";
        goto bad;
      }
    }
  }
  if (p != end) {
    why = "data after the JSON value";
    goto bad;
  }
  return TRUE;

bad:
  g_set_error (error, EDGEFAAS_EVENT_ERROR, EDGEFAAS_EVENT_ERROR_SYNTAX,
      "document: not valid JSON at byte %" G_GSIZE_FORMAT ": %s", (gsize) (p - start), why);
  return FALSE;
}

/* Checks before json-glib sees the bytes: size, NUL, UTF-8, strict syntax, depth. */
static gboolean
precheck (const gchar * data, gssize length, gsize * out_len, GError ** error)
{
  gsize len;

  if (!data) {
    g_set_error (error, EDGEFAAS_EVENT_ERROR, EDGEFAAS_EVENT_ERROR_SYNTAX,
        "document: no data");
    return FALSE;
  }
  len = length < 0 ? strnlen (data, EDGEFAAS_EVENT_MAX_JSON_BYTES + 1) : (gsize) length;
  if (len > EDGEFAAS_EVENT_MAX_JSON_BYTES) {
    if (length < 0)
      g_set_error (error, EDGEFAAS_EVENT_ERROR, EDGEFAAS_EVENT_ERROR_TOO_LARGE,
          "document: over %d bytes, the most allowed", EDGEFAAS_EVENT_MAX_JSON_BYTES);
    else
      g_set_error (error, EDGEFAAS_EVENT_ERROR, EDGEFAAS_EVENT_ERROR_TOO_LARGE,
          "document: %" G_GSIZE_FORMAT " bytes, at most %d allowed", len,
          EDGEFAAS_EVENT_MAX_JSON_BYTES);
    return FALSE;
  }
  if (len == 0) {
    g_set_error (error, EDGEFAAS_EVENT_ERROR, EDGEFAAS_EVENT_ERROR_SYNTAX,
        "document: empty");
    return FALSE;
  }
  if (memchr (data, '\0', len)) {
    g_set_error (error, EDGEFAAS_EVENT_ERROR, EDGEFAAS_EVENT_ERROR_SYNTAX,
        "document: contains a NUL byte");
    return FALSE;
  }
  if (!g_utf8_validate_len (data, len, NULL)) {
    g_set_error (error, EDGEFAAS_EVENT_ERROR, EDGEFAAS_EVENT_ERROR_SYNTAX,
        "document: not valid UTF-8");
    return FALSE;
  }
  if (!strict_syntax (data, len, error))
    return FALSE;
  *out_len = len;
  return TRUE;
}

/* Duplicate member names: json-glib keeps the last one silently, another
 * parser may keep the first. Refuse them. */
typedef struct
{
  GHashTable *seen;             /* JsonObject* → GHashTable of names */
  gchar *duplicate;
} DupCheck;

static void
on_object_member (JsonParser * parser, JsonObject * object, const gchar * name, DupCheck * dc)
{
  GHashTable *names;

  if (dc->duplicate)
    return;
  names = g_hash_table_lookup (dc->seen, object);
  if (!names) {
    names = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
    g_hash_table_insert (dc->seen, object, names);
  }
  if (g_hash_table_contains (names, name))
    dc->duplicate = g_strdup (name);
  else
    g_hash_table_add (names, g_strdup (name));
}

/* Parses into a root object; the parser owns it (unref the parser after use). */
static JsonParser *
parse_document (const gchar * data, gssize length, JsonObject ** root, GError ** error)
{
  JsonParser *parser;
  GError *err = NULL;
  gsize len;
  gchar *copy;
  gboolean loaded;
  DupCheck dc = { NULL, NULL };

  if (!precheck (data, length, &len, error))
    return NULL;

  parser = json_parser_new_immutable ();
  dc.seen = g_hash_table_new_full (g_direct_hash, g_direct_equal, NULL,
      (GDestroyNotify) g_hash_table_unref);
  g_signal_connect (parser, "object-member", G_CALLBACK (on_object_member), &dc);
  /* json-glib wants a NUL-terminated buffer in some paths; hand it one. */
  copy = g_strndup (data, len);
  loaded = json_parser_load_from_data (parser, copy, (gssize) len, &err);
  g_free (copy);
  g_signal_handlers_disconnect_by_func (parser, on_object_member, &dc);
  g_hash_table_unref (dc.seen);
  if (!loaded) {
    g_set_error (error, EDGEFAAS_EVENT_ERROR, EDGEFAAS_EVENT_ERROR_SYNTAX,
        "document: not valid JSON: %s", err ? err->message : "unknown error");
    g_clear_error (&err);
    g_free (dc.duplicate);
    g_object_unref (parser);
    return NULL;
  }
  if (dc.duplicate) {
    gchar *p = g_strescape (dc.duplicate, NULL);
    if (strlen (p) > 64)
      p[64] = '\0';
    g_set_error (error, EDGEFAAS_EVENT_ERROR, EDGEFAAS_EVENT_ERROR_SYNTAX,
        "document: duplicate member \"%s\"", p);
    g_free (p);
    g_free (dc.duplicate);
    g_object_unref (parser);
    return NULL;
  }
  if (!json_parser_get_root (parser) || !JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser))) {
    g_set_error (error, EDGEFAAS_EVENT_ERROR, EDGEFAAS_EVENT_ERROR_SYNTAX,
        "document: expected a JSON object");
    g_object_unref (parser);
    return NULL;
  }
  *root = json_node_get_object (json_parser_get_root (parser));
  return parser;
}

EdgefaasFrameEvent *
edgefaas_frame_event_from_json (const gchar * data, gssize length, GError ** error)
{
  JsonParser *parser;
  JsonObject *root;
  EdgefaasFrameEvent *ev;

  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  parser = parse_document (data, length, &root, error);
  if (!parser)
    return NULL;
  ev = edgefaas_frame_event_new ();
  if (!parse_frame_object (root, "", ev, error))
    g_clear_pointer (&ev, edgefaas_frame_event_free);
  g_object_unref (parser);
  return ev;
}

static gboolean
fail_snapshot (const Ctx * c, GError ** error)
{
  return out_of_range (c, "snapshot", error, "only file:// URIs are supported");
}

/* situations[i].tracks: optional array of {id, x_min, y_min, x_max, y_max}. */
static gboolean
parse_situation_tracks (const Ctx * c, GArray ** out, GError ** error)
{
  JsonNode *n;
  JsonArray *a;

  *out = NULL;
  if (!get_node (c, "tracks", FALSE, &n, error))
    return FALSE;
  if (!n)
    return TRUE;
  if (!get_array (c, "tracks", MAX_SITUATION_TRACKS, &a, error))
    return FALSE;
  *out = g_array_new (FALSE, FALSE, sizeof (EdgefaasSituationTrack));
  for (guint i = 0; i < json_array_get_length (a); i++) {
    EdgefaasSituationTrack t = { 0 };
    gint64 id = 0;
    Ctx tc;
    gchar *tp = NULL;
    gboolean ok = array_object (c, "tracks", a, i, &tc, &tp, error) &&
        get_int (&tc, "id", TRUE, 0, MAX_JSON_INT, &id, NULL, error) &&
        get_double (&tc, "x_min", 0.0, 1.0, &t.x_min, error) &&
        get_double (&tc, "y_min", 0.0, 1.0, &t.y_min, error) &&
        get_double (&tc, "x_max", t.x_min, 1.0, &t.x_max, error) &&
        get_double (&tc, "y_max", t.y_min, 1.0, &t.y_max, error);
    g_free (tp);
    if (!ok)
      return FALSE;
    t.track_id = (guint64) id;
    g_array_append_val (*out, t);
  }
  return TRUE;
}

static gboolean
parse_detection_object (JsonObject * obj, EdgefaasDetectionEvent * ev, GError ** error)
{
  Ctx c = { obj, "" };
  const gchar *model;
  JsonObject *source;
  JsonArray *dets, *sits;
  gint64 v;
  guint i;

  if (!parse_event_head (&c, EDGEFAAS_DETECTION_SCHEMA, &ev->camera_id, &ev->event_id,
          &ev->sequence, &ev->run_id, error))
    return FALSE;
  if (!get_int (&c, "width", TRUE, 1, MAX_DIMENSION, &v, NULL, error))
    return FALSE;
  ev->width = (guint) v;
  if (!get_int (&c, "height", TRUE, 1, MAX_DIMENSION, &v, NULL, error))
    return FALSE;
  ev->height = (guint) v;
  if (!get_string (&c, "model", FALSE, 1, MAX_MODEL, &model, error))
    return FALSE;
  ev->model = g_strdup (model);

  if (!get_object (&c, "source", FALSE, &source, error))
    return FALSE;
  if (source) {
    ev->source = edgefaas_frame_event_new ();
    if (!parse_frame_object (source, "source", ev->source, error))
      return FALSE;
  }

  if (!get_array (&c, "detections", MAX_DETECTIONS, &dets, error))
    return FALSE;
  for (i = 0; i < json_array_get_length (dets); i++) {
    EdgefaasDetection d = { 0 };
    const gchar *label;
    Ctx dc;
    gchar *dp = NULL;
    gboolean ok;

    ok = array_object (&c, "detections", dets, i, &dc, &dp, error) &&
        get_string (&dc, "label", TRUE, 0, MAX_LABEL, &label, error) &&
        get_int (&dc, "label_id", TRUE, -1, MAX_LABEL_ID, &v, NULL, error) &&
        get_double (&dc, "confidence", 0.0, 1.0, &d.confidence, error) &&
        get_double (&dc, "x_min", 0.0, 1.0, &d.x_min, error) &&
        get_double (&dc, "y_min", 0.0, 1.0, &d.y_min, error) &&
        get_double (&dc, "x_max", d.x_min, 1.0, &d.x_max, error) &&
        get_double (&dc, "y_max", d.y_min, 1.0, &d.y_max, error);
    g_free (dp);
    if (!ok)
      return FALSE;
    d.label_id = (gint) v;
    d.label = g_strdup (label);
    g_array_append_val (ev->detections, d);
  }

  if (!get_array (&c, "situations", MAX_SITUATIONS, &sits, error))
    return FALSE;
  for (i = 0; i < json_array_get_length (sits); i++) {
    EdgefaasSituation s = { 0 };
    const gchar *name, *labels;
    Ctx sc;
    gchar *sp = NULL;
    gboolean ok;

    const gchar *zone, *snapshot;
    ok = array_object (&c, "situations", sits, i, &sc, &sp, error) &&
        get_string (&sc, "name", TRUE, 1, MAX_NAME, &name, error) &&
        get_double (&sc, "confidence", 0.0, 1.0, &s.confidence, error) &&
        get_int (&sc, "frames", TRUE, 0, G_MAXUINT32, &v, NULL, error) &&
        get_string (&sc, "labels", FALSE, 0, MAX_LABELS, &labels, error) &&
        get_string (&sc, "zone", FALSE, 1, MAX_NAME, &zone, error) &&
        get_time (&sc, "start_time", FALSE, &s.start_time_us, error) &&
        get_string (&sc, "snapshot", FALSE, 8, MAX_URI, &snapshot, error) &&
        (!snapshot || g_str_has_prefix (snapshot, "file://")
        || fail_snapshot (&sc, error)) &&
        parse_situation_tracks (&sc, &s.tracks, error);
    g_free (sp);
    if (!ok) {
      g_clear_pointer (&s.tracks, g_array_unref);
      return FALSE;
    }
    s.frames = (guint) v;
    s.name = g_strdup (name);
    s.labels = g_strdup (labels);
    s.zone = g_strdup (zone);
    s.snapshot_uri = g_strdup (snapshot);
    g_array_append_val (ev->situations, s);
  }

  return parse_trace (&c, &ev->trace, error);
}

EdgefaasDetectionEvent *
edgefaas_detection_event_from_json (const gchar * data, gssize length, GError ** error)
{
  JsonParser *parser;
  JsonObject *root;
  EdgefaasDetectionEvent *ev;

  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  parser = parse_document (data, length, &root, error);
  if (!parser)
    return NULL;
  ev = edgefaas_detection_event_new ();
  if (!parse_detection_object (root, ev, error))
    g_clear_pointer (&ev, edgefaas_detection_event_free);
  g_object_unref (parser);
  return ev;
}

/* Checks an event against every rule the parser applies, by writing and reading
 * it back: a producer can refuse (and report) what every consumer would refuse. */
gboolean
edgefaas_frame_event_validate (const EdgefaasFrameEvent * ev, GError ** error)
{
  gsize len = 0;
  gchar *json;
  EdgefaasFrameEvent *back;

  g_return_val_if_fail (ev != NULL, FALSE);
  json = edgefaas_frame_event_to_json (ev, &len);
  back = edgefaas_frame_event_from_json (json, (gssize) len, error);
  g_free (json);
  edgefaas_frame_event_free (back);
  return back != NULL;
}

gboolean
edgefaas_detection_event_validate (const EdgefaasDetectionEvent * ev, GError ** error)
{
  gsize len = 0;
  gchar *json;
  EdgefaasDetectionEvent *back;

  g_return_val_if_fail (ev != NULL, FALSE);
  json = edgefaas_detection_event_to_json (ev, &len);
  back = edgefaas_detection_event_from_json (json, (gssize) len, error);
  g_free (json);
  edgefaas_detection_event_free (back);
  return back != NULL;
}
