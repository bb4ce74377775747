/* edgefaas: amqpsink's spool record format (see spool.h). */
#include "spool.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#define N_STRS 5

static void
strings_of (const SpoolRecord *r, const gchar *strs[N_STRS])
{
  strs[0] = r->routing_key;
  strs[1] = r->content_type;
  strs[2] = r->event_header;
  strs[3] = r->alert;
  strs[4] = r->message_id;
}

gsize
spool_record_size (const SpoolRecord *r)
{
  const gchar *strs[N_STRS];
  gsize n = SPOOL_HDR + g_bytes_get_size (r->body);

  strings_of (r, strs);
  for (gint i = 0; i < N_STRS; i++)
    n += strs[i] ? strlen (strs[i]) : 0;
  return n;
}

GBytes *
spool_record_encode (const SpoolRecord *r)
{
  const gchar *strs[N_STRS];
  guint32 hdr[7];
  gsize sz;
  const guint8 *body = g_bytes_get_data (r->body, &sz);
  GByteArray *rec = g_byte_array_sized_new (spool_record_size (r));

  strings_of (r, strs);
  for (gint i = 0; i < N_STRS; i++)
    hdr[i] = strs[i] ? strlen (strs[i]) : 0;
  hdr[5] = sz;
  hdr[6] = r->persistent ? 1 : 0;
  g_byte_array_append (rec, (const guint8 *) SPOOL_MAGIC, 4);
  g_byte_array_append (rec, (const guint8 *) hdr, sizeof (hdr));
  for (gint i = 0; i < N_STRS; i++)
    if (hdr[i])
      g_byte_array_append (rec, (const guint8 *) strs[i], hdr[i]);
  if (sz)
    g_byte_array_append (rec, body, sz);
  return g_byte_array_free_to_bytes (rec);
}

/* The total length the header at @head announces, or 0 when it is invalid. */
static guint64
announced_size (const guint8 *head, guint32 hdr[7])
{
  guint64 need = 0;

  if (memcmp (head, SPOOL_MAGIC, 4) != 0)
    return 0;
  memcpy (hdr, head + 4, 7 * sizeof (guint32));
  for (gint i = 0; i < 6; i++)
    need += hdr[i];
  if (hdr[0] == 0 || hdr[1] == 0)
    return 0;
  return SPOOL_HDR + need;
}

gboolean
spool_record_decode (
    const guint8 *data, gsize len, SpoolRecord *out, gsize *used)
{
  gchar *strs[N_STRS] = {
    NULL,
  };
  guint32 hdr[7];
  guint64 total;
  gsize off = SPOOL_HDR;

  memset (out, 0, sizeof (*out));
  if (len < SPOOL_HDR)
    return FALSE;
  total = announced_size (data, hdr);
  if (total == 0 || total > len)
    return FALSE;
  for (gint i = 0; i < N_STRS; i++) {
    if (hdr[i] == 0)
      continue;
    /* A NUL inside would make the string shorter than its record: the
     * record could not be re-encoded the same way, refuse it. */
    if (memchr (data + off, '\0', hdr[i]) != NULL)
      goto bad;
    strs[i] = g_strndup ((const gchar *) data + off, hdr[i]);
    off += hdr[i];
  }
  out->body = g_bytes_new (data + off, hdr[5]);
  out->routing_key = strs[0];
  out->content_type = strs[1];
  out->event_header = strs[2];
  out->alert = strs[3];
  out->message_id = strs[4];
  out->persistent = hdr[6] & 1;
  *used = total;
  return TRUE;

bad:
  for (gint i = 0; i < N_STRS; i++)
    g_free (strs[i]);
  return FALSE;
}

void
spool_record_clear (SpoolRecord *r)
{
  g_free (r->routing_key);
  g_free (r->content_type);
  g_free (r->event_header);
  g_free (r->alert);
  g_free (r->message_id);
  if (r->body)
    g_bytes_unref (r->body);
  memset (r, 0, sizeof (*r));
}

static gboolean
write_all (gint fd, const guint8 *p, gsize len)
{
  while (len > 0) {
    gssize n = write (fd, p, len);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      return FALSE;
    }
    p += n;
    len -= n;
  }
  return TRUE;
}

static gboolean
read_all_at (gint fd, guint8 *p, gsize len, guint64 off)
{
  while (len > 0) {
    gssize n = pread (fd, p, len, (off_t) off);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      return FALSE;
    }
    if (n == 0)
      return FALSE;
    p += n;
    len -= n;
    off += n;
  }
  return TRUE;
}

gsize
spool_record_write (gint fd, const SpoolRecord *r)
{
  GBytes *rec = spool_record_encode (r);
  gsize len;
  const guint8 *data = g_bytes_get_data (rec, &len);
  gboolean ok = write_all (fd, data, len);

  g_bytes_unref (rec);
  return ok ? len : 0;
}

gboolean
spool_record_read (
    gint fd, guint64 off, guint64 limit, SpoolRecord *out, gsize *used)
{
  guint8 head[SPOOL_HDR];
  guint32 hdr[7];
  guint64 total;
  guint8 *buf;
  gboolean ok;

  memset (out, 0, sizeof (*out));
  if (off + SPOOL_HDR > limit || !read_all_at (fd, head, SPOOL_HDR, off))
    return FALSE;
  total = announced_size (head, hdr);
  if (total == 0 || off + total > limit)
    return FALSE;
  buf = g_try_malloc (total);
  if (buf == NULL)
    return FALSE;
  ok = read_all_at (fd, buf, total, off)
      && spool_record_decode (buf, total, out, used);
  g_free (buf);
  return ok;
}
