/* libFuzzer target: the edgefaas.detection/v1 parser (including the embedded
 * source frame event). Accepted documents must round-trip exactly. */
#include "edgefaas-event.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput (const uint8_t * data, size_t size);

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
