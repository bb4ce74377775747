/* libFuzzer target: the edgefaas.detection/v1 parser (including the embedded
 * source frame event). Accepted documents must round-trip exactly. */
#include "edgefaas-event.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput (const uint8_t * data, size_t size);

/* JSON times have millisecond precision (docs/events.md): a reader keeps up to
 * microseconds, the writer floors them to the millisecond. */
static gint64
floor_ms (gint64 us)
{
  return us - us % 1000;
}

static void
floor_trace (EdgefaasTrace * t)
{
  t->captured_us = floor_ms (t->captured_us);
  t->published_us = floor_ms (t->published_us);
  t->consumed_us = floor_ms (t->consumed_us);
  t->inferred_us = floor_ms (t->inferred_us);
}

static void
floor_frame (EdgefaasFrameEvent * ev)
{
  ev->capture_time_us = floor_ms (ev->capture_time_us);
  floor_trace (&ev->trace);
}

int
LLVMFuzzerTestOneInput (const uint8_t * data, size_t size)
{
  GError *error = NULL;
  EdgefaasDetectionEvent *ev = edgefaas_detection_event_from_json ((const gchar *) data,
      (gssize) size, &error);

  if (!ev) {
    if (!error || error->domain != EDGEFAAS_EVENT_ERROR || !error->message[0])
      abort ();
    g_error_free (error);
    return 0;
  }
  {
    gsize len = 0;
    gchar *json = edgefaas_detection_event_to_json (ev, &len);
    EdgefaasDetectionEvent *again = edgefaas_detection_event_from_json (json, (gssize) len,
        &error);

    if (!again) {
      fprintf (stderr, "re-parse failed: %s\n%s\n", error->message, json);
      abort ();
    }
    floor_trace (&ev->trace);
    if (ev->source)
      floor_frame (ev->source);
    for (guint i = 0; i < ev->situations->len; i++) {
      EdgefaasSituation *st = &g_array_index (ev->situations, EdgefaasSituation, i);
      st->start_time_us = floor_ms (st->start_time_us);
    }
    if (!edgefaas_detection_event_equal (ev, again)) {
      fprintf (stderr, "round trip changed the event:\n%s\n", json);
      abort ();
    }
    /* a deep copy is equal too */
    {
      EdgefaasDetectionEvent *copy = edgefaas_detection_event_copy (ev);
      if (!edgefaas_detection_event_equal (ev, copy))
        abort ();
      edgefaas_detection_event_free (copy);
    }
    edgefaas_detection_event_free (again);
    g_free (json);
  }
  edgefaas_detection_event_free (ev);
  return 0;
}
