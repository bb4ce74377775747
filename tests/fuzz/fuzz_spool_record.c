/* libFuzzer target: amqpsink's spool records (plugins/amqp/spool.c), read
 * back after a crash from a file that may be torn or corrupt. Every record
 * the decoder accepts must lie inside the input and re-encode to the same
 * bytes (the flags word up to its defined bit); decoding stops at the first
 * refused record, as amqpsink's replay does. */
#include <glib.h>
#include <string.h>
#include <stdint.h>

#include "spool.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  gsize off = 0;

  while (off < size) {
    SpoolRecord r;
    gsize used = 0, len;
    GBytes *enc;
    const guint8 *e;

    if (!spool_record_decode (data + off, size - off, &r, &used))
      break;
    if (used < SPOOL_HDR || used > size - off)
      __builtin_trap ();
    if (r.routing_key == NULL || *r.routing_key == '\0'
        || r.content_type == NULL || *r.content_type == '\0' || r.body == NULL)
      __builtin_trap ();
    enc = spool_record_encode (&r);
    e = g_bytes_get_data (enc, &len);
    if (len != used || len != spool_record_size (&r))
      __builtin_trap ();
    /* Same bytes except the flags word (only bit 0 is kept). */
    if (memcmp (e, data + off, 4 + 6 * 4) != 0
        || memcmp (e + SPOOL_HDR, data + off + SPOOL_HDR, used - SPOOL_HDR)
            != 0)
      __builtin_trap ();
    if ((e[4 + 6 * 4] & 1) != (data[off + 4 + 6 * 4] & 1))
      __builtin_trap ();
    g_bytes_unref (enc);
    spool_record_clear (&r);
    off += used;
  }
  return 0;
}
