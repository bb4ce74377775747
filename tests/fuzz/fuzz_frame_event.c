/* libFuzzer target: the edgefaas.frame/v1 parser.
 * Property checked beyond "no crash / no leak / no UB": every document the
 * parser accepts is written back by to_json and parses again to an equal event,
 * times floored to the millisecond (the writer never produces something the
 * strict parser refuses, and loses nothing else). */
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
  EdgefaasFrameEvent *ev = edgefaas_frame_event_from_json ((const gchar *) data,
      (gssize) size, &error);

  if (!ev) {
    /* every refusal is a GError in our domain with a message */
    if (!error || error->domain != EDGEFAAS_EVENT_ERROR || !error->message[0])
      abort ();
    g_error_free (error);
    return 0;
  }
  if (error)
    abort ();
  {
    gsize len = 0;
    gchar *json = edgefaas_frame_event_to_json (ev, &len);
    EdgefaasFrameEvent *again = edgefaas_frame_event_from_json (json, (gssize) len, &error);

    if (!again) {
      fprintf (stderr, "re-parse failed: %s\n%s\n", error->message, json);
      abort ();
    }
    floor_frame (ev);
    if (!edgefaas_frame_event_equal (ev, again)) {
      fprintf (stderr, "round trip changed the event:\n%s\n", json);
      abort ();
    }
    edgefaas_frame_event_free (again);
    g_free (json);
  }
  edgefaas_frame_event_free (ev);
  return 0;
}
