/* Helper for check_schema.py: makes random valid events with the C writer, and
 * runs the C parser over documents, so the JSON Schema files in docs/schema are
 * checked against the real code.
 *   gen_events gen N    prints N frame and N detection events, "<kind>\t<json>" per line
 *   gen_events check    reads "<kind>\t<json>" lines, prints "1" (accepted) or
 *                       "0\t<error message>" per line */
#include "edgefaas.h"

#include <stdio.h>
#include <string.h>

static gint64
random_time (void)
{
  /* 1970 .. 9999, millisecond-aligned */
  return (gint64) (g_random_double () * 253402300799.0) * G_USEC_PER_SEC +
      g_random_int_range (0, 1000) * 1000;
}

static gchar *
random_text (guint max)
{
  static const gchar chars[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./ :";
  guint n = (guint) g_random_int_range (1, (gint) max + 1);
  gchar *s = g_malloc (n + 1);

  for (guint i = 0; i < n; i++)
    s[i] = chars[g_random_int_range (0, sizeof (chars) - 1)];
  s[n] = '\0';
  return s;
}

static EdgefaasFrameEvent *
random_frame (void)
{
  EdgefaasFrameEvent *ev = edgefaas_frame_event_new ();
  guint nboxes = (guint) g_random_int_range (0, 6);

  ev->camera_id = random_text (40);
  ev->event_id = (guint64) g_random_int ();
  ev->sequence = ((guint64) g_random_int () << 21) | g_random_int ();
  ev->capture_time_us = random_time ();
  ev->running_time = g_random_boolean () ? GST_CLOCK_TIME_NONE :
      (GstClockTime) g_random_int () * GST_MSECOND;
  ev->frame.is_inline = g_random_boolean ();
  if (!ev->frame.is_inline)
    ev->frame.uri = g_strdup_printf ("file:///frames/%u/%u.jpg", g_random_int (), g_random_int ());
  ev->frame.media_type = g_strdup (g_random_boolean ()? "image/jpeg" : "image/png");
  ev->frame.width = (guint) g_random_int_range (1, 32769);
  ev->frame.height = (guint) g_random_int_range (1, 32769);
  ev->frame.size = (guint64) g_random_int_range (1, 1 << 30);
  if (g_random_boolean ()) {
    gchar *seed = random_text (10);
    ev->frame.sha256 = g_compute_checksum_for_string (G_CHECKSUM_SHA256, seed, -1);
    g_free (seed);
  }
  ev->motion_score = g_random_double ();
  for (guint i = 0; i < nboxes; i++) {
    EdgefaasBox b;
    b.x = g_random_int_range (0, (gint) ev->frame.width);
    b.y = g_random_int_range (0, (gint) ev->frame.height);
    b.w = g_random_int_range (1, (gint) ev->frame.width - b.x + 1);
    b.h = g_random_int_range (1, (gint) ev->frame.height - b.y + 1);
    b.score = g_random_double ();
    g_array_append_val (ev->motion_boxes, b);
  }
  if (g_random_boolean ())
    ev->trace.captured_us = random_time ();
  if (g_random_boolean ())
    ev->trace.published_us = random_time ();
  if (g_random_boolean ())
    ev->trace.consumed_us = random_time ();
  if (g_random_boolean ())
    ev->trace.inferred_us = random_time ();
  return ev;
}

static EdgefaasDetectionEvent *
random_detection (void)
{
  EdgefaasDetectionEvent *ev = edgefaas_detection_event_new ();
  guint nd = (guint) g_random_int_range (0, 8), ns = (guint) g_random_int_range (0, 3);

  ev->camera_id = random_text (40);
  ev->event_id = (guint64) g_random_int ();
  ev->sequence = (guint64) g_random_int ();
  ev->source = g_random_boolean ()? random_frame () : NULL;
  ev->width = (guint) g_random_int_range (1, 32769);
  ev->height = (guint) g_random_int_range (1, 32769);
  ev->model = g_random_boolean ()? random_text (30) : NULL;
  for (guint i = 0; i < nd; i++) {
    EdgefaasDetection d;
    d.label = random_text (20);
    d.label_id = g_random_int_range (-1, 80);
    d.confidence = g_random_double ();
    d.x_min = g_random_double ();
    d.y_min = g_random_double ();
    d.x_max = g_random_double_range (d.x_min, 1.0);
    d.y_max = g_random_double_range (d.y_min, 1.0);
    g_array_append_val (ev->detections, d);
  }
  for (guint i = 0; i < ns; i++) {
    EdgefaasSituation s;
    s.name = random_text (20);
    s.confidence = g_random_double ();
    s.frames = g_random_int ();
    s.labels = g_random_boolean ()? random_text (50) : NULL;
    s.zone = g_random_boolean ()? random_text (20) : NULL;
    s.start_time_us = g_random_boolean ()? random_time () : 0;
    s.snapshot_uri = g_random_boolean ()? g_strdup ("file:///frames/cam/alert.jpg") : NULL;
    s.tracks = NULL;
    if (g_random_boolean ()) {
      s.tracks = g_array_new (FALSE, FALSE, sizeof (EdgefaasSituationTrack));
      for (guint k = g_random_int_range (0, 4); k > 0; k--) {
        EdgefaasSituationTrack t;
        t.track_id = g_random_int ();
        t.x_min = g_random_double ();
        t.y_min = g_random_double ();
        t.x_max = g_random_double_range (t.x_min, 1.0);
        t.y_max = g_random_double_range (t.y_min, 1.0);
        g_array_append_val (s.tracks, t);
      }
    }
    g_array_append_val (ev->situations, s);
  }
  if (g_random_boolean ())
    ev->trace.inferred_us = random_time ();
  return ev;
}

int
main (int argc, char **argv)
{
  if (argc == 3 && strcmp (argv[1], "gen") == 0) {
    gint n = atoi (argv[2]);
    for (gint i = 0; i < n; i++) {
      EdgefaasFrameEvent *f = random_frame ();
      EdgefaasDetectionEvent *d = random_detection ();
      gchar *fj = edgefaas_frame_event_to_json (f, NULL);
      gchar *dj = edgefaas_detection_event_to_json (d, NULL);
      printf ("frame\t%s\ndetection\t%s\n", fj, dj);
      g_free (fj);
      g_free (dj);
      edgefaas_frame_event_free (f);
      edgefaas_detection_event_free (d);
    }
    return 0;
  }
  if (argc == 2 && strcmp (argv[1], "check") == 0) {
    GIOChannel *in = g_io_channel_unix_new (0);
    gchar *line = NULL;
    gsize len, term;

    g_io_channel_set_encoding (in, NULL, NULL);
    while (g_io_channel_read_line (in, &line, &len, &term, NULL) == G_IO_STATUS_NORMAL) {
      gchar *tab = strchr (line, '\t');
      GError *error = NULL;
      gboolean ok = FALSE;

      if (term)
        line[term] = '\0';
      if (!tab) {
        fprintf (stderr, "bad input line\n");
        return 2;
      }
      *tab = '\0';
      if (strcmp (line, "frame") == 0) {
        EdgefaasFrameEvent *ev = edgefaas_frame_event_from_json (tab + 1, -1, &error);
        ok = ev != NULL;
        edgefaas_frame_event_free (ev);
      } else {
        EdgefaasDetectionEvent *ev = edgefaas_detection_event_from_json (tab + 1, -1, &error);
        ok = ev != NULL;
        edgefaas_detection_event_free (ev);
      }
      if (ok)
        printf ("1\n");
      else
        printf ("0\t%s\n", error->message);
      g_clear_error (&error);
      g_free (line);
    }
    g_io_channel_unref (in);
    return 0;
  }
  fprintf (stderr, "usage: %s gen N | check\n", argv[0]);
  return 2;
}
