/* Unit tests of the edgefaas.frame/v1 and edgefaas.detection/v1 JSON events:
 * round trips, time formatting against GDateTime, strict parsing with errors that
 * name the field, size/depth limits, and the committed examples in docs/. */
#include "ef-test.h"
#include "edgefaas.h"

#include <json-glib/json-glib.h>
#include <math.h>
#include <string.h>

/* ------------------------------------------------------------ fixtures */

static gint64
ms_aligned (gint64 us)
{
  return us - us % 1000;
}

static EdgefaasFrameEvent *
make_frame_event (gboolean is_inline, guint n_boxes)
{
  EdgefaasFrameEvent *ev = edgefaas_frame_event_new ();
  gint64 now = ms_aligned (edgefaas_now_utc_us ());

  ev->camera_id = g_strdup ("front-door.1");
  ev->event_id = (guint64) g_random_int_range (1, 1000000);
  ev->sequence = (guint64) g_random_int () * 1000ULL;
  ev->capture_time_us = now;
  ev->running_time = (GstClockTime) g_random_int () * GST_USECOND;
  if (!is_inline)
    ev->frame.uri = g_strdup_printf ("file:///var/lib/edgefaas/frames/front-door.1/2026-01-01/%"
        G_GUINT64_FORMAT ".jpg", ev->sequence);
  ev->frame.is_inline = is_inline;
  ev->frame.media_type = g_strdup (is_inline ? "image/png" : "image/jpeg");
  ev->frame.width = 1920;
  ev->frame.height = 1080;
  ev->frame.size = (guint64) g_random_int_range (1, 1 << 30);
  ev->frame.sha256 = g_compute_checksum_for_string (G_CHECKSUM_SHA256, ev->camera_id, -1);
  ev->motion_score = g_random_double ();
  for (guint i = 0; i < n_boxes; i++) {
    EdgefaasBox box;
    box.x = g_random_int_range (0, 1900);
    box.y = g_random_int_range (0, 1000);
    box.w = g_random_int_range (1, 1920 - box.x + 1);
    box.h = g_random_int_range (1, 1080 - box.y + 1);
    box.score = g_random_double ();
    g_array_append_val (ev->motion_boxes, box);
  }
  ev->trace.captured_us = now;
  ev->trace.published_us = now + 3000;
  ev->trace.consumed_us = now + 17000;
  ev->trace.inferred_us = 0;    /* not set yet */
  return ev;
}

static EdgefaasDetectionEvent *
make_detection_event (gboolean with_source)
{
  EdgefaasDetectionEvent *ev = edgefaas_detection_event_new ();
  const gchar *labels[] = { "person", "car", "fire" };

  ev->camera_id = g_strdup ("cam-7");
  ev->event_id = 12;
  ev->sequence = 3456;
  if (with_source)
    ev->source = make_frame_event (FALSE, 2);
  ev->width = 1280;
  ev->height = 720;
  ev->model = with_source ? g_strdup ("yolo-fastest-1.1") : NULL;
  for (guint i = 0; i < 3; i++) {
    EdgefaasDetection d;
    d.label = g_strdup (labels[i]);
    d.label_id = (gint) i;
    d.confidence = g_random_double ();
    d.x_min = g_random_double_range (0, 0.5);
    d.y_min = g_random_double_range (0, 0.5);
    d.x_max = g_random_double_range (d.x_min, 1.0);
    d.y_max = g_random_double_range (d.y_min, 1.0);
    g_array_append_val (ev->detections, d);
  }
  {
    EdgefaasSituation s = { g_strdup ("fire"), 0.875, 5, g_strdup ("fire,smoke") };
    EdgefaasSituation s2 = { g_strdup ("traffic_accident"), 0.5, 2, NULL };
    /* the situationdetect members: zone, start time, tracks, snapshot */
    EdgefaasSituationTrack t1 = { 3, 0.1, 0.2, 0.3, 0.4 }, t2 = { 9007199254740991, 0, 0, 1, 1 };
    s.zone = g_strdup ("loading-bay");
    s.start_time_us = ms_aligned (edgefaas_now_utc_us ()) - 4000000;
    s.tracks = g_array_new (FALSE, FALSE, sizeof (EdgefaasSituationTrack));
    g_array_append_val (s.tracks, t1);
    g_array_append_val (s.tracks, t2);
    s.snapshot_uri = g_strdup ("file:///var/lib/edgefaas/frames/cam/2026-11-23/alert.jpg");
    g_array_append_val (ev->situations, s);
    g_array_append_val (ev->situations, s2);
  }
  ev->trace.captured_us = ms_aligned (edgefaas_now_utc_us ());
  ev->trace.inferred_us = ev->trace.captured_us + 52000;
  return ev;
}

/* ------------------------------------------------------------ round trips */

static void
check_frame_round_trip (EdgefaasFrameEvent * ev)
{
  GError *error = NULL;
  gsize len = 0;
  gchar *json = edgefaas_frame_event_to_json (ev, &len);
  EdgefaasFrameEvent *back;

  g_assert_nonnull (json);
  g_assert_cmpuint (len, ==, strlen (json));
  back = edgefaas_frame_event_from_json (json, (gssize) len, &error);
  g_assert_no_error (error);
  g_assert_nonnull (back);
  if (!edgefaas_frame_event_equal (ev, back))
    g_error ("round trip changed the event: %s", json);
  /* also through the NUL-terminated entry */
  edgefaas_frame_event_free (back);
  back = edgefaas_frame_event_from_json (json, -1, &error);
  g_assert_no_error (error);
  g_assert_true (edgefaas_frame_event_equal (ev, back));
  edgefaas_frame_event_free (back);
  g_free (json);
}

static void
test_frame_round_trip_uri (void)
{
  for (guint i = 0; i < 50; i++) {
    EdgefaasFrameEvent *ev = make_frame_event (FALSE, i % 7);
    check_frame_round_trip (ev);
    edgefaas_frame_event_free (ev);
  }
}

static void
test_frame_round_trip_inline (void)
{
  EdgefaasFrameEvent *ev = make_frame_event (TRUE, 3);
  gchar *json = edgefaas_frame_event_to_json (ev, NULL);

  g_assert_null (ev->frame.uri);
  /* inline: no "uri" member at all */
  g_assert_null (strstr (json, "\"uri\""));
  g_assert_nonnull (strstr (json, "\"inline\":true"));
  check_frame_round_trip (ev);
  g_free (json);
  edgefaas_frame_event_free (ev);
}

static void
test_frame_round_trip_optional (void)
{
  EdgefaasFrameEvent *ev = make_frame_event (FALSE, 0);
  EdgefaasFrameEvent *copy;

  ev->running_time = GST_CLOCK_TIME_NONE;
  g_clear_pointer (&ev->frame.sha256, g_free);
  memset (&ev->trace, 0, sizeof (ev->trace));
  check_frame_round_trip (ev);
  copy = edgefaas_frame_event_copy (ev);
  g_assert_true (edgefaas_frame_event_equal (ev, copy));
  copy->trace.consumed_us = 1;
  g_assert_false (edgefaas_frame_event_equal (ev, copy));
  edgefaas_frame_event_free (copy);
  edgefaas_frame_event_free (ev);
}

static void
test_frame_time_truncated_to_ms (void)
{
  EdgefaasFrameEvent *ev = make_frame_event (FALSE, 1);
  GError *error = NULL;
  EdgefaasFrameEvent *back;
  gchar *json;

  ev->capture_time_us += 123;   /* sub-millisecond part */
  ev->trace.published_us += 999;
  json = edgefaas_frame_event_to_json (ev, NULL);
  back = edgefaas_frame_event_from_json (json, -1, &error);
  g_assert_no_error (error);
  g_assert_false (edgefaas_frame_event_equal (ev, back));
  g_assert_cmpint (back->capture_time_us, ==, ev->capture_time_us - 123);
  g_assert_cmpint (back->trace.published_us, ==, ev->trace.published_us - 999);
  g_free (json);
  edgefaas_frame_event_free (back);
  edgefaas_frame_event_free (ev);
}

static void
check_detection_round_trip (EdgefaasDetectionEvent * ev)
{
  GError *error = NULL;
  gsize len = 0;
  gchar *json = edgefaas_detection_event_to_json (ev, &len);
  EdgefaasDetectionEvent *back = edgefaas_detection_event_from_json (json, (gssize) len, &error);

  g_assert_no_error (error);
  g_assert_nonnull (back);
  if (!edgefaas_detection_event_equal (ev, back))
    g_error ("round trip changed the event: %s", json);
  g_free (json);
  edgefaas_detection_event_free (back);
}

static void
test_detection_round_trip (void)
{
  for (guint i = 0; i < 20; i++) {
    EdgefaasDetectionEvent *ev = make_detection_event (i % 2 == 0);
    EdgefaasDetectionEvent *copy = edgefaas_detection_event_copy (ev);

    check_detection_round_trip (ev);
    g_assert_true (edgefaas_detection_event_equal (ev, copy));
    g_array_index (copy->detections, EdgefaasDetection, 2).y_max = 0.0;
    g_assert_false (edgefaas_detection_event_equal (ev, copy));
    edgefaas_detection_event_free (copy);
    edgefaas_detection_event_free (ev);
  }
}

static void
test_detection_round_trip_empty (void)
{
  EdgefaasDetectionEvent *ev = edgefaas_detection_event_new ();

  ev->camera_id = g_strdup ("c");
  ev->width = 1;
  ev->height = 1;
  check_detection_round_trip (ev);
  edgefaas_detection_event_free (ev);
}

/* ------------------------------------------------------------ time */

static void
test_format_utc_matches_gdatetime (void)
{
  GRand *rand = g_rand_new ();

  for (guint i = 0; i < 2000; i++) {
    /* anywhere in 1970..9999 */
    gint64 us = (gint64) (g_rand_double (rand) * 253402300799.0) * G_USEC_PER_SEC +
        g_rand_int_range (rand, 0, G_USEC_PER_SEC);
    GDateTime *dt = g_date_time_new_from_unix_utc (us / G_USEC_PER_SEC);
    gchar *prefix = g_date_time_format (dt, "%Y-%m-%dT%H:%M:%S");
    gchar *want = g_strdup_printf ("%s.%03dZ", prefix, (gint) (us % G_USEC_PER_SEC / 1000));
    gchar *got = edgefaas_format_utc_us (us);
    gint64 back = -1;

    g_assert_cmpstr (got, ==, want);
    g_assert_true (edgefaas_parse_utc_us (got, &back));
    g_assert_cmpint (back, ==, us - us % 1000);
    g_free (got);
    g_free (want);
    g_free (prefix);
    g_date_time_unref (dt);
  }
  g_rand_free (rand);
}

static void
test_parse_utc (void)
{
  struct
  {
    const gchar *s;
    gboolean ok;
  } cases[] = {
    {"1970-01-01T00:00:00Z", TRUE},
    {"2024-02-29T12:00:00.5Z", TRUE},
    {"2026-11-23T23:03:06.123456789Z", TRUE},
    {"9999-12-31T23:59:59.999Z", TRUE},
    {"2026-02-29T12:00:00.000Z", FALSE},        /* not a leap year */
    {"1969-12-31T23:59:59.999Z", FALSE},
    {"2026-13-01T00:00:00.000Z", FALSE},
    {"2026-01-01T24:00:00.000Z", FALSE},
    {"2026-01-01T00:60:00.000Z", FALSE},
    {"2026-01-01T00:00:60.000Z", FALSE},
    {"2026-01-01T00:00:00.000", FALSE},         /* no zone */
    {"2026-01-01T00:00:00.000+01:00", FALSE},   /* not UTC */
    {"2026-01-01t00:00:00.000Z", FALSE},
    {"2026-01-01T00:00:00.Z", FALSE},
    {"2026-01-01T00:00:00.1234567890Z", FALSE},
    {"2026-01-01T00:00:00.000Zjunk", FALSE},
    {"2026-1-01T00:00:00.000Z", FALSE},
    {"", FALSE},
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
    gint64 us = 0;
    g_test_message ("%s", cases[i].s);
    g_assert_cmpint (edgefaas_parse_utc_us (cases[i].s, &us), ==, cases[i].ok);
    if (cases[i].ok) {
      GDateTime *dt = g_date_time_new_from_iso8601 (cases[i].s, NULL);
      g_assert_nonnull (dt);
      g_assert_cmpint (us, ==, g_date_time_to_unix (dt) * G_USEC_PER_SEC +
          g_date_time_get_microsecond (dt));
      g_date_time_unref (dt);
    }
  }
}

/* ------------------------------------------------------------ strict parsing */

/* Walks "frame.sha256" / "motion.boxes[1].w" and sets (value_json != NULL) or
 * removes the member. Returns the new document. */
static gchar *
mutate (const gchar * json, const gchar * path, const gchar * value_json)
{
  JsonParser *p = json_parser_new ();
  JsonNode *root;
  JsonObject *obj;
  gchar **parts = g_strsplit (path, ".", -1);
  guint n = g_strv_length (parts);
  JsonGenerator *gen;
  gchar *out;

  g_assert_true (json_parser_load_from_data (p, json, -1, NULL));
  root = json_parser_get_root (p);
  obj = json_node_get_object (root);
  for (guint i = 0; i < n; i++) {
    gchar *name = parts[i];
    gchar *bracket = strchr (name, '[');
    gint index = -1;
    gboolean last = i + 1 == n;

    if (bracket) {
      index = atoi (bracket + 1);
      *bracket = '\0';
    }
    if (last && index < 0) {
      if (value_json) {
        JsonNode *v = json_from_string (value_json, NULL);
        g_assert_nonnull (v);
        json_object_set_member (obj, name, v);
      } else {
        g_assert_true (json_object_has_member (obj, name));
        json_object_remove_member (obj, name);
      }
      break;
    }
    if (index >= 0) {
      JsonArray *a = json_object_get_array_member (obj, name);
      g_assert_nonnull (a);
      if (last) {
        JsonNode *v = json_from_string (value_json, NULL);
        g_assert_nonnull (v);
        json_array_remove_element (a, (guint) index);
        /* json-glib has no insert: rebuild the tail */
        {
          GList *tail = NULL;
          while (json_array_get_length (a) > (guint) index) {
            guint l = json_array_get_length (a) - 1;
            tail = g_list_prepend (tail, json_array_dup_element (a, l));
            json_array_remove_element (a, l);
          }
          json_array_add_element (a, v);
          for (GList * it = tail; it; it = it->next)
            json_array_add_element (a, it->data);
          g_list_free (tail);
        }
        break;
      }
      obj = json_array_get_object_element (a, (guint) index);
    } else {
      obj = json_object_get_object_member (obj, name);
    }
    g_assert_nonnull (obj);
  }
  gen = json_generator_new ();
  json_generator_set_root (gen, root);
  out = json_generator_to_data (gen, NULL);
  g_object_unref (gen);
  g_object_unref (p);
  g_strfreev (parts);
  return out;
}

typedef struct
{
  const gchar *path;
  const gchar *value;           /* JSON literal, NULL = remove */
  gint code;
  const gchar *message_start;
} BadCase;

static const BadCase frame_cases[] = {
  {"schema", NULL, EDGEFAAS_EVENT_ERROR_SCHEMA, "schema: missing"},
  {"schema", "\"edgefaas.frame/v2\"", EDGEFAAS_EVENT_ERROR_SCHEMA, "schema: unsupported version"},
  {"schema", "\"edgefaas.detection/v1\"", EDGEFAAS_EVENT_ERROR_SCHEMA, "schema: unknown schema"},
  {"schema", "1", EDGEFAAS_EVENT_ERROR_SCHEMA, "schema: expected a string"},
  {"camera_id", NULL, EDGEFAAS_EVENT_ERROR_FIELD, "camera_id: missing"},
  {"camera_id", "5", EDGEFAAS_EVENT_ERROR_FIELD, "camera_id: expected a string"},
  {"camera_id", "\"\"", EDGEFAAS_EVENT_ERROR_FIELD, "camera_id: expected a string of 1.."},
  {"camera_id", "\"a\\nb\"", EDGEFAAS_EVENT_ERROR_FIELD, "camera_id: control characters"},
  {"event_id", "-1", EDGEFAAS_EVENT_ERROR_FIELD, "event_id: -1 is out of range"},
  {"event_id", "1.5", EDGEFAAS_EVENT_ERROR_FIELD, "event_id: expected an integer"},
  {"event_id", "9007199254740992", EDGEFAAS_EVENT_ERROR_FIELD, "event_id: 9007199254740992 is out"},
  {"sequence", "\"7\"", EDGEFAAS_EVENT_ERROR_FIELD, "sequence: expected an integer"},
  {"sequence", "null", EDGEFAAS_EVENT_ERROR_FIELD, "sequence: must not be null"},
  {"capture_time", "\"2026-13-01T00:00:00.000Z\"", EDGEFAAS_EVENT_ERROR_FIELD, "capture_time: expected an ISO 8601"},
  {"capture_time", "1700000000", EDGEFAAS_EVENT_ERROR_FIELD, "capture_time: expected a string"},
  {"running_time_ns", "-5", EDGEFAAS_EVENT_ERROR_FIELD, "running_time_ns: -5 is out of range"},
  {"frame", "null", EDGEFAAS_EVENT_ERROR_FIELD, "frame: must not be null"},
  {"frame", "[]", EDGEFAAS_EVENT_ERROR_FIELD, "frame: expected an object"},
  {"frame.inline", "\"no\"", EDGEFAAS_EVENT_ERROR_FIELD, "frame.inline: expected a boolean"},
  {"frame.uri", NULL, EDGEFAAS_EVENT_ERROR_FIELD, "frame.uri: missing"},
  {"frame.uri", "\"http://evil.example/x.jpg\"", EDGEFAAS_EVENT_ERROR_FIELD, "frame.uri: only file:// URIs"},
  {"frame.inline", "true", EDGEFAAS_EVENT_ERROR_FIELD, "frame.uri: must be absent"},
  {"frame.media_type", "\"text/html\"", EDGEFAAS_EVENT_ERROR_FIELD, "frame.media_type: expected \"image/jpeg\""},
  {"frame.width", "0", EDGEFAAS_EVENT_ERROR_FIELD, "frame.width: 0 is out of range"},
  {"frame.height", "40000", EDGEFAAS_EVENT_ERROR_FIELD, "frame.height: 40000 is out of range"},
  {"frame.size", "0", EDGEFAAS_EVENT_ERROR_FIELD, "frame.size: 0 is out of range"},
  {"frame.sha256", "\"abc\"", EDGEFAAS_EVENT_ERROR_FIELD, "frame.sha256: expected 64 lowercase hex characters"},
  {"frame.sha256", "\"E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855\"",
      EDGEFAAS_EVENT_ERROR_FIELD, "frame.sha256: expected 64 lowercase hex characters"},
  {"frame.sha256", "\"g3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\"",
      EDGEFAAS_EVENT_ERROR_FIELD, "frame.sha256: expected 64 lowercase hex characters"},
  {"motion", NULL, EDGEFAAS_EVENT_ERROR_FIELD, "motion: missing"},
  {"motion.score", "1.5", EDGEFAAS_EVENT_ERROR_FIELD, "motion.score: 1.5 is out of range"},
  {"motion.score", "true", EDGEFAAS_EVENT_ERROR_FIELD, "motion.score: expected a number"},
  {"motion.boxes", "{}", EDGEFAAS_EVENT_ERROR_FIELD, "motion.boxes: expected an array"},
  {"motion.boxes[0]", "3", EDGEFAAS_EVENT_ERROR_FIELD, "motion.boxes[0]: expected an object"},
  {"motion.boxes[1].w", "1921", EDGEFAAS_EVENT_ERROR_FIELD, "motion.boxes[1].w: 1921 is out of range"},
  {"motion.boxes[1].x", "-1", EDGEFAAS_EVENT_ERROR_FIELD, "motion.boxes[1].x: -1 is out of range"},
  {"motion.boxes[2].h", NULL, EDGEFAAS_EVENT_ERROR_FIELD, "motion.boxes[2].h: missing"},
  {"trace", "7", EDGEFAAS_EVENT_ERROR_FIELD, "trace: expected an object"},
  {"trace.published", "\"yesterday\"", EDGEFAAS_EVENT_ERROR_FIELD, "trace.published: expected an ISO 8601"},
};

static void
check_bad (const BadCase * c, const gchar * json, gboolean frame)
{
  GError *error = NULL;
  gchar *bad = mutate (json, c->path, c->value);
  gpointer ev;

  g_test_message ("%s = %s", c->path, c->value ? c->value : "(removed)");
  if (frame)
    ev = edgefaas_frame_event_from_json (bad, -1, &error);
  else
    ev = edgefaas_detection_event_from_json (bad, -1, &error);
  g_assert_null (ev);
  g_assert_error (error, EDGEFAAS_EVENT_ERROR, c->code);
  if (!g_str_has_prefix (error->message, c->message_start))
    g_error ("message \"%s\" does not start with \"%s\"", error->message, c->message_start);
  g_error_free (error);
  g_free (bad);
}

static void
test_frame_strict (void)
{
  EdgefaasFrameEvent *ev = make_frame_event (FALSE, 3);
  gchar *json = edgefaas_frame_event_to_json (ev, NULL);

  /* boxes[1] must fit the frame exactly at the edge so w=1921 is surely out */
  g_array_index (ev->motion_boxes, EdgefaasBox, 1).x = 0;
  g_free (json);
  json = edgefaas_frame_event_to_json (ev, NULL);

  for (guint i = 0; i < G_N_ELEMENTS (frame_cases); i++)
    check_bad (&frame_cases[i], json, TRUE);
  g_free (json);
  edgefaas_frame_event_free (ev);
}

static const BadCase detection_cases[] = {
  {"schema", "\"edgefaas.frame/v1\"", EDGEFAAS_EVENT_ERROR_SCHEMA, "schema: unknown schema"},
  {"schema", "\"edgefaas.detection/v9\"", EDGEFAAS_EVENT_ERROR_SCHEMA, "schema: unsupported version"},
  {"width", "0", EDGEFAAS_EVENT_ERROR_FIELD, "width: 0 is out of range"},
  {"model", "\"\"", EDGEFAAS_EVENT_ERROR_FIELD, "model: expected a string of 1.."},
  {"source", "[]", EDGEFAAS_EVENT_ERROR_FIELD, "source: expected an object"},
  {"source.schema", "\"edgefaas.frame/v0\"", EDGEFAAS_EVENT_ERROR_SCHEMA, "source.schema: unsupported version"},
  {"source.frame.sha256", "\"00\"", EDGEFAAS_EVENT_ERROR_FIELD, "source.frame.sha256: expected 64"},
  {"source.motion.boxes[0].y", "1080", EDGEFAAS_EVENT_ERROR_FIELD, "source.motion.boxes[0].y: 1080 is out"},
  {"detections", NULL, EDGEFAAS_EVENT_ERROR_FIELD, "detections: missing"},
  {"detections", "{}", EDGEFAAS_EVENT_ERROR_FIELD, "detections: expected an array"},
  {"detections[1].confidence", "2", EDGEFAAS_EVENT_ERROR_FIELD, "detections[1].confidence: 2 is out of range"},
  {"detections[0].label", "null", EDGEFAAS_EVENT_ERROR_FIELD, "detections[0].label: must not be null"},
  {"detections[0].label_id", "-2", EDGEFAAS_EVENT_ERROR_FIELD, "detections[0].label_id: -2 is out of range"},
  {"detections[2].x_max", "-0.5", EDGEFAAS_EVENT_ERROR_FIELD, "detections[2].x_max: -0.5 is out of range"},
  {"situations[0].name", NULL, EDGEFAAS_EVENT_ERROR_FIELD, "situations[0].name: missing"},
  {"situations[1].frames", "-1", EDGEFAAS_EVENT_ERROR_FIELD, "situations[1].frames: -1 is out of range"},
  {"situations[1].labels", "[\"a\"]", EDGEFAAS_EVENT_ERROR_FIELD, "situations[1].labels: expected a string"},
  {"situations[0].zone", "\"\"", EDGEFAAS_EVENT_ERROR_FIELD, "situations[0].zone: expected a string of 1.."},
  {"situations[0].start_time", "\"yesterday\"", EDGEFAAS_EVENT_ERROR_FIELD, "situations[0].start_time: expected an ISO 8601"},
  {"situations[0].tracks", "{}", EDGEFAAS_EVENT_ERROR_FIELD, "situations[0].tracks: expected an array"},
  {"situations[0].tracks[1].id", "-1", EDGEFAAS_EVENT_ERROR_FIELD, "situations[0].tracks[1].id: -1 is out of range"},
  {"situations[0].tracks[0].x_max", "0.05", EDGEFAAS_EVENT_ERROR_FIELD, "situations[0].tracks[0].x_max: 0.05 is out of range"},
  {"situations[0].tracks[0].y_min", NULL, EDGEFAAS_EVENT_ERROR_FIELD, "situations[0].tracks[0].y_min: missing"},
  {"situations[0].snapshot", "\"http://x/y.jpg\"", EDGEFAAS_EVENT_ERROR_FIELD, "situations[0].snapshot: only file:// URIs"},
  {"trace.inferred", "\"2026-01-01T00:00:00.000+02:00\"", EDGEFAAS_EVENT_ERROR_FIELD, "trace.inferred: expected an ISO 8601"},
};

static void
test_detection_strict (void)
{
  EdgefaasDetectionEvent *ev = make_detection_event (TRUE);
  gchar *json = edgefaas_detection_event_to_json (ev, NULL);

  for (guint i = 0; i < G_N_ELEMENTS (detection_cases); i++)
    check_bad (&detection_cases[i], json, FALSE);
  g_free (json);
  edgefaas_detection_event_free (ev);
}

static void
test_detection_x_max_below_x_min (void)
{
  EdgefaasDetectionEvent *ev = make_detection_event (FALSE);
  EdgefaasDetection *d = &g_array_index (ev->detections, EdgefaasDetection, 0);
  GError *error = NULL;
  gchar *json;

  d->x_min = 0.6;
  d->x_max = 0.4;
  json = edgefaas_detection_event_to_json (ev, NULL);
  g_assert_null (edgefaas_detection_event_from_json (json, -1, &error));
  g_assert_error (error, EDGEFAAS_EVENT_ERROR, EDGEFAAS_EVENT_ERROR_FIELD);
  g_assert_true (g_str_has_prefix (error->message, "detections[0].x_max: 0.4 is out of range [0.6"));
  g_error_free (error);
  g_free (json);
  edgefaas_detection_event_free (ev);
}

static void
test_unknown_members_ignored (void)
{
  EdgefaasFrameEvent *ev = make_frame_event (FALSE, 2);
  gchar *json = edgefaas_frame_event_to_json (ev, NULL);
  gchar *extra = mutate (json, "frame.color_space", "\"bt709\"");
  gchar *extra2 = mutate (extra, "x_vendor", "{\"a\":[1,2,3]}");
  GError *error = NULL;
  EdgefaasFrameEvent *back = edgefaas_frame_event_from_json (extra2, -1, &error);

  g_assert_no_error (error);
  g_assert_true (edgefaas_frame_event_equal (ev, back));
  edgefaas_frame_event_free (back);
  g_free (extra2);
  g_free (extra);
  g_free (json);
  edgefaas_frame_event_free (ev);
}

static void
test_too_many_boxes (void)
{
  EdgefaasFrameEvent *ev = make_frame_event (FALSE, 1025);
  gchar *json = edgefaas_frame_event_to_json (ev, NULL);
  GError *error = NULL;

  g_assert_null (edgefaas_frame_event_from_json (json, -1, &error));
  g_assert_error (error, EDGEFAAS_EVENT_ERROR, EDGEFAAS_EVENT_ERROR_FIELD);
  g_assert_true (g_str_has_prefix (error->message, "motion.boxes: 1025 elements"));
  g_error_free (error);
  g_free (json);
  /* 1024 is fine */
  g_array_set_size (ev->motion_boxes, 1024);
  check_frame_round_trip (ev);
  edgefaas_frame_event_free (ev);
}

static void
expect_syntax (const gchar * data, gssize len, gint code, const gchar * start)
{
  GError *error = NULL;

  g_assert_null (edgefaas_frame_event_from_json (data, len, &error));
  g_assert_error (error, EDGEFAAS_EVENT_ERROR, code);
  if (!g_str_has_prefix (error->message, start))
    g_error ("message \"%s\" does not start with \"%s\"", error->message, start);
  g_clear_error (&error);
  g_assert_null (edgefaas_detection_event_from_json (data, len, &error));
  g_assert_error (error, EDGEFAAS_EVENT_ERROR, code);
  g_clear_error (&error);
}

static void
test_syntax_errors (void)
{
  EdgefaasFrameEvent *ev = make_frame_event (FALSE, 1);
  gchar *json = edgefaas_frame_event_to_json (ev, NULL);
  gsize len = strlen (json);
  gchar *with_nul = g_memdup2 (json, len + 1);
  gchar *bad_utf8 = g_strdup (json);
  GString *deep = g_string_new ("{\"a\":");
  gchar *truncated = g_strndup (json, len / 2);

  with_nul[len / 2] = '\0';
  *strstr (bad_utf8, "front") = (gchar) 0xff;
  for (guint i = 0; i < 100000; i++)
    g_string_append_c (deep, '[');

  expect_syntax ("not json", -1, EDGEFAAS_EVENT_ERROR_SYNTAX, "document: not valid JSON");
  expect_syntax (truncated, -1, EDGEFAAS_EVENT_ERROR_SYNTAX, "document: not valid JSON");
  expect_syntax ("[1,2]", -1, EDGEFAAS_EVENT_ERROR_SYNTAX, "document: expected a JSON object");
  expect_syntax ("\"x\"", -1, EDGEFAAS_EVENT_ERROR_SYNTAX, "document: expected a JSON object");
  expect_syntax ("", -1, EDGEFAAS_EVENT_ERROR_SYNTAX, "document: empty");
  expect_syntax (NULL, -1, EDGEFAAS_EVENT_ERROR_SYNTAX, "document: no data");
  expect_syntax (with_nul, (gssize) len, EDGEFAAS_EVENT_ERROR_SYNTAX, "document: contains a NUL");
  expect_syntax (bad_utf8, -1, EDGEFAAS_EVENT_ERROR_SYNTAX, "document: not valid UTF-8");
  expect_syntax (deep->str, -1, EDGEFAAS_EVENT_ERROR_SYNTAX, "document: nested deeper than");
  /* a length shorter than the string: only that prefix is parsed */
  expect_syntax (json, (gssize) len - 1, EDGEFAAS_EVENT_ERROR_SYNTAX, "document: not valid JSON");

  g_string_free (deep, TRUE);
  g_free (truncated);
  g_free (bad_utf8);
  g_free (with_nul);
  g_free (json);
  edgefaas_frame_event_free (ev);
}

static void
test_size_limit (void)
{
  EdgefaasFrameEvent *ev = make_frame_event (FALSE, 4);
  gchar *json = edgefaas_frame_event_to_json (ev, NULL);
  gsize len = strlen (json);
  /* the same document padded with whitespace to exactly the limit, then +1 */
  gchar *big = g_malloc (EDGEFAAS_EVENT_MAX_JSON_BYTES + 2);
  GError *error = NULL;
  EdgefaasFrameEvent *back;

  memset (big, ' ', EDGEFAAS_EVENT_MAX_JSON_BYTES + 1);
  memcpy (big, json, len);
  big[EDGEFAAS_EVENT_MAX_JSON_BYTES] = '\0';
  back = edgefaas_frame_event_from_json (big, EDGEFAAS_EVENT_MAX_JSON_BYTES, &error);
  g_assert_no_error (error);
  g_assert_true (edgefaas_frame_event_equal (ev, back));
  edgefaas_frame_event_free (back);

  big[EDGEFAAS_EVENT_MAX_JSON_BYTES] = ' ';
  big[EDGEFAAS_EVENT_MAX_JSON_BYTES + 1] = '\0';
  expect_syntax (big, EDGEFAAS_EVENT_MAX_JSON_BYTES + 1, EDGEFAAS_EVENT_ERROR_TOO_LARGE,
      "document: 1048577 bytes, at most 1048576");
  expect_syntax (big, -1, EDGEFAAS_EVENT_ERROR_TOO_LARGE, "document: over 1048576 bytes");

  g_free (big);
  g_free (json);
  edgefaas_frame_event_free (ev);
}


static void
test_non_finite_written_as_zero (void)
{
  EdgefaasFrameEvent *ev = make_frame_event (FALSE, 1);
  EdgefaasFrameEvent *back;
  GError *error = NULL;
  gchar *json;

  ev->motion_score = NAN;
  g_array_index (ev->motion_boxes, EdgefaasBox, 0).score = INFINITY;
  json = edgefaas_frame_event_to_json (ev, NULL);
  back = edgefaas_frame_event_from_json (json, -1, &error);
  g_assert_no_error (error);
  g_assert_cmpfloat (back->motion_score, ==, 0.0);
  g_assert_cmpfloat (g_array_index (back->motion_boxes, EdgefaasBox, 0).score, ==, 0.0);
  edgefaas_frame_event_free (back);
  g_free (json);
  edgefaas_frame_event_free (ev);
}


/* json-glib's extensions and lenient corners must not leak through. */
static void
test_strict_json_syntax (void)
{
  EdgefaasFrameEvent *ev = make_frame_event (FALSE, 1);
  gchar *json = edgefaas_frame_event_to_json (ev, NULL);
  gchar *body = g_strndup (json + 1, strlen (json) - 2);        /* without { } */
  struct
  {
    gchar *doc;
    const gchar *start;
  } cases[] = {
    {g_strdup_printf ("var x = %s;", json), "document: not valid JSON at byte 0"},
    {g_strdup_printf ("%s %s", json, json), "document: not valid JSON"},
    {g_strdup_printf ("%s x", json), "document: not valid JSON"},
    {g_strdup_printf ("/* c */ %s", json), "document: not valid JSON at byte 0"},
    {g_strdup_printf ("{/* c */%s}", body), "document: not valid JSON at byte 1"},
    {g_strdup_printf ("{%s,}", body), "document: not valid JSON"},
    {g_strdup_printf ("{%s,\"x\":'single'}", body), "document: not valid JSON"},
    {g_strdup_printf ("{%s,\"x\":0x1F}", body), "document: not valid JSON"},
    {g_strdup_printf ("{%s,\"x\":007}", body), "document: not valid JSON"},
    {g_strdup_printf ("{%s,\"x\":+1}", body), "document: not valid JSON"},
    {g_strdup_printf ("{%s,\"x\":NaN}", body), "document: not valid JSON"},
    {g_strdup_printf ("{%s,\"x\":1.}", body), "document: not valid JSON"},
    {g_strdup_printf ("{%s,\"x\":\"a\\qb\"}", body), "document: not valid JSON"},
    {g_strdup_printf ("{%s,\"x\":\"tab\there\"}", body), "document: not valid JSON"},
    {g_strdup_printf ("{%s,x:1}", body), "document: not valid JSON"},
    /* json-glib would truncate at the NUL / emit invalid UTF-8 and drop the rest */
    {g_strdup_printf ("{%s,\"x\":\"a\\u0000b\"}", body), "document: not valid JSON"},
    {g_strdup_printf ("{%s,\"x\":\"a\\ud800b\"}", body), "document: not valid JSON"},
    {g_strdup_printf ("{%s,\"x\":\"a\\ud800\\u0041\"}", body), "document: not valid JSON"},
    {g_strdup_printf ("{%s,\"x\":\"a\\udc00\"}", body), "document: not valid JSON"},
    /* json-glib would wrap these to 42 and -1 */
    {g_strdup_printf ("{%s,\"x\":18446744073709551658}", body), "document: not valid JSON"},
    {g_strdup_printf ("{%s,\"x\":9223372036854775808}", body), "document: not valid JSON"},
    {g_strdup_printf ("{%s,\"x\":-9223372036854775809}", body), "document: not valid JSON"},
    {g_strdup_printf ("{%s,\"x\":123456789012345678901234567890}", body), "document: not valid JSON"},
    {g_strdup_printf ("{%s,\"sequence\":1}", body), "document: duplicate member \"sequence\""},
    {g_strdup_printf ("{%s,\"\\u0073equence\":1}", body), "document: duplicate member \"sequence\""},
    {g_strdup_printf ("{%s,\"x\":{\"a\":1,\"a\":2}}", body), "document: duplicate member \"a\""},
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
    GError *error = NULL;
    g_test_message ("%s", cases[i].doc);
    g_assert_null (edgefaas_frame_event_from_json (cases[i].doc, -1, &error));
    g_assert_error (error, EDGEFAAS_EVENT_ERROR, EDGEFAAS_EVENT_ERROR_SYNTAX);
    if (!g_str_has_prefix (error->message, cases[i].start))
      g_error ("message \"%s\" does not start with \"%s\"", error->message, cases[i].start);
    g_error_free (error);
    g_free (cases[i].doc);
  }

  /* strict but complete: whitespace, escapes, exponents, unknown members are fine */
  {
    gchar *doc = g_strdup_printf (" \r\n\t{%s , \"x\" : [ 1e5 , -0.5E-3 , \"\\u00e9\\n\\/\\ud83d\\ude00\" , "
        "true , false , null , { } , [ ] ] } \n", body);
    GError *error = NULL;
    EdgefaasFrameEvent *back = edgefaas_frame_event_from_json (doc, -1, &error);
    g_assert_no_error (error);
    g_assert_true (edgefaas_frame_event_equal (ev, back));
    edgefaas_frame_event_free (back);
    g_free (doc);
  }
  g_free (body);
  g_free (json);
  edgefaas_frame_event_free (ev);
}


static void
test_integer_wrap_refused (void)
{
  EdgefaasFrameEvent *ev = make_frame_event (FALSE, 0);
  gchar *json = edgefaas_frame_event_to_json (ev, NULL);
  gchar *id = g_strdup_printf ("\"event_id\":%" G_GUINT64_FORMAT ",", ev->event_id);
  gchar *at = strstr (json, id);
  GError *error = NULL;
  GString *bad = g_string_new (NULL);

  g_assert_nonnull (at);
  g_string_append_len (bad, json, at - json);
  /* 2^64 + (event_id % 1000): json-glib alone would read a small valid id */
  g_string_append_printf (bad, "\"event_id\":1844674407370955%04" G_GUINT64_FORMAT ",",
      (guint64) 1616 + ev->event_id % 1000);
  g_string_append (bad, at + strlen (id));
  g_assert_null (edgefaas_frame_event_from_json (bad->str, -1, &error));
  g_assert_error (error, EDGEFAAS_EVENT_ERROR, EDGEFAAS_EVENT_ERROR_SYNTAX);
  g_assert_nonnull (strstr (error->message, "integer does not fit in 64 bits"));
  g_clear_error (&error);
  /* the largest int64 is still JSON, and refused as out of range for an id */
  g_string_truncate (bad, 0);
  g_string_append_len (bad, json, at - json);
  g_string_append (bad, "\"event_id\":9223372036854775807,");
  g_string_append (bad, at + strlen (id));
  g_assert_null (edgefaas_frame_event_from_json (bad->str, -1, &error));
  g_assert_error (error, EDGEFAAS_EVENT_ERROR, EDGEFAAS_EVENT_ERROR_FIELD);
  g_assert_true (g_str_has_prefix (error->message, "event_id: 9223372036854775807 is out of range"));
  g_error_free (error);
  g_string_free (bad, TRUE);
  g_free (id);
  g_free (json);
  edgefaas_frame_event_free (ev);
}


static void
test_validate (void)
{
  EdgefaasFrameEvent *ev = make_frame_event (FALSE, 2);
  EdgefaasDetectionEvent *det = make_detection_event (TRUE);
  GError *error = NULL;

  g_assert_true (edgefaas_frame_event_validate (ev, &error));
  g_assert_no_error (error);
  g_assert_true (edgefaas_detection_event_validate (det, &error));
  g_assert_no_error (error);

  /* a box sticking out of the frame: what every consumer would say */
  g_array_index (ev->motion_boxes, EdgefaasBox, 1).x = 1900;
  g_array_index (ev->motion_boxes, EdgefaasBox, 1).w = 100;
  g_assert_false (edgefaas_frame_event_validate (ev, &error));
  g_assert_error (error, EDGEFAAS_EVENT_ERROR, EDGEFAAS_EVENT_ERROR_FIELD);
  g_assert_true (g_str_has_prefix (error->message, "motion.boxes[1].w: 100 is out of range [1, 20]"));
  g_clear_error (&error);

  /* a running time beyond int64 (not NONE) is written as unknown */
  g_array_set_size (ev->motion_boxes, 0);
  ev->running_time = G_MAXUINT64 - 1;
  g_assert_true (edgefaas_frame_event_validate (ev, &error));

  /* the source event inside a detection is checked too */
  g_free (det->source->frame.sha256);
  det->source->frame.sha256 = g_strdup ("nothex");
  g_assert_false (edgefaas_detection_event_validate (det, &error));
  g_assert_true (g_str_has_prefix (error->message, "source.frame.sha256: expected 64"));
  g_clear_error (&error);
  g_free (det->source->frame.sha256);
  det->source->frame.sha256 = NULL;
  g_free (det->camera_id);
  det->camera_id = NULL;        /* written as "", refused */
  g_assert_false (edgefaas_detection_event_validate (det, &error));
  g_assert_true (g_str_has_prefix (error->message, "camera_id: expected a string of 1.."));
  g_clear_error (&error);

  edgefaas_detection_event_free (det);
  edgefaas_frame_event_free (ev);
}

/* ------------------------------------------------------------ docs/examples */

static void
test_doc_examples_parse (void)
{
  gchar *dir = g_build_filename (ef_test_source_root (), "docs", "examples", NULL);
  GDir *d = g_dir_open (dir, 0, NULL);
  const gchar *name;
  guint n_frame = 0, n_detection = 0;

  if (!d) {
    g_test_message ("CANNOT RUN: %s missing", dir);
    g_test_fail ();
    g_free (dir);
    return;
  }
  while ((name = g_dir_read_name (d))) {
    gchar *path = g_build_filename (dir, name, NULL);
    gchar *data = NULL;
    gsize len = 0;
    GError *error = NULL;

    if (!g_str_has_suffix (name, ".json")) {
      g_free (path);
      continue;
    }
    g_assert_true (g_file_get_contents (path, &data, &len, NULL));
    g_test_message ("%s", name);
    if (g_str_has_prefix (name, "frame")) {
      EdgefaasFrameEvent *ev = edgefaas_frame_event_from_json (data, (gssize) len, &error);
      g_assert_no_error (error);
      check_frame_round_trip (ev);
      edgefaas_frame_event_free (ev);
      n_frame++;
    } else if (g_str_has_prefix (name, "detection")) {
      EdgefaasDetectionEvent *ev = edgefaas_detection_event_from_json (data, (gssize) len, &error);
      g_assert_no_error (error);
      check_detection_round_trip (ev);
      edgefaas_detection_event_free (ev);
      n_detection++;
    } else if (g_str_has_prefix (name, "invalid-")) {
      /* invalid-<what>.json must be refused by the parser of its kind */
      EdgefaasFrameEvent *f = edgefaas_frame_event_from_json (data, (gssize) len, &error);
      g_assert_null (f);
      g_assert_nonnull (error);
      g_clear_error (&error);
    }
    g_free (data);
    g_free (path);
  }
  g_dir_close (d);
  g_assert_cmpuint (n_frame, >=, 2);
  g_assert_cmpuint (n_detection, >=, 1);
  g_free (dir);
}

int
main (int argc, char **argv)
{
  ef_test_init (&argc, &argv);

  g_test_add_func ("/event/frame/round-trip-uri", test_frame_round_trip_uri);
  g_test_add_func ("/event/frame/round-trip-inline", test_frame_round_trip_inline);
  g_test_add_func ("/event/frame/round-trip-optional", test_frame_round_trip_optional);
  g_test_add_func ("/event/frame/time-truncated-to-ms", test_frame_time_truncated_to_ms);
  g_test_add_func ("/event/detection/round-trip", test_detection_round_trip);
  g_test_add_func ("/event/detection/round-trip-empty", test_detection_round_trip_empty);
  g_test_add_func ("/event/time/format-matches-gdatetime", test_format_utc_matches_gdatetime);
  g_test_add_func ("/event/time/parse", test_parse_utc);
  g_test_add_func ("/event/frame/strict", test_frame_strict);
  g_test_add_func ("/event/detection/strict", test_detection_strict);
  g_test_add_func ("/event/detection/x-max-below-x-min", test_detection_x_max_below_x_min);
  g_test_add_func ("/event/unknown-members-ignored", test_unknown_members_ignored);
  g_test_add_func ("/event/frame/too-many-boxes", test_too_many_boxes);
  g_test_add_func ("/event/frame/non-finite-written-as-zero", test_non_finite_written_as_zero);
  g_test_add_func ("/event/syntax-errors", test_syntax_errors);
  g_test_add_func ("/event/strict-json-syntax", test_strict_json_syntax);
  g_test_add_func ("/event/integer-wrap-refused", test_integer_wrap_refused);
  g_test_add_func ("/event/validate", test_validate);
  g_test_add_func ("/event/size-limit", test_size_limit);
  g_test_add_func ("/event/doc-examples", test_doc_examples_parse);
  return g_test_run ();
}
