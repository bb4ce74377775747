/* edgefaas: width and height from a JPEG or PNG header.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "image-size.h"

#include <string.h>

static guint
be16 (const guint8 * p)
{
  return ((guint) p[0] << 8) | p[1];
}

static guint32
be32 (const guint8 * p)
{
  return ((guint32) p[0] << 24) | ((guint32) p[1] << 16) | ((guint32) p[2] << 8) | p[3];
}

/* Walk the marker segments from SOI to the first SOFn (ITU T.81 B.2.2):
 * FF Cn with n not 4 (DHT), 8 (JPG) or C (DAC); its payload is P(1) Y(2)
 * X(2). Stops at SOS (entropy-coded data follows) or on a malformed one. */
static gboolean
jpeg_size (const guint8 * d, gsize size, guint * w, guint * h)
{
  gsize i = 2;

  if (size < 4 || d[0] != 0xFF || d[1] != 0xD8)
    return FALSE;
  while (i + 4 <= size) {
    guint8 marker;
    guint len;

    if (d[i] != 0xFF)
      return FALSE;
    marker = d[i + 1];
    if (marker == 0xFF) {       /* fill byte */
      i++;
      continue;
    }
    if (marker == 0x01 || (marker >= 0xD0 && marker <= 0xD7)) {
      i += 2;                   /* TEM, RSTn: no length */
      continue;
    }
    if (marker == 0xD9 || marker == 0xDA)
      return FALSE;             /* EOI, SOS before any frame header */
    len = be16 (d + i + 2);
    if (len < 2 || i + 2 + len > size)
      return FALSE;
    if (marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8
        && marker != 0xCC) {
      if (len < 7)
        return FALSE;
      *h = be16 (d + i + 5);
      *w = be16 (d + i + 7);
      return *w > 0 && *h > 0;
    }
    i += 2 + len;
  }
  return FALSE;
}

static gboolean
png_size (const guint8 * d, gsize size, guint * w, guint * h)
{
  static const guint8 sig[8] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n' };

  if (size < 24 || memcmp (d, sig, 8) != 0 || memcmp (d + 12, "IHDR", 4) != 0)
    return FALSE;
  *w = be32 (d + 16);
  *h = be32 (d + 20);
  return *w > 0 && *h > 0 && *w <= G_MAXINT32 && *h <= G_MAXINT32;
}

gboolean
image_size_parse (const gchar * media_type, const guint8 * data, gsize size, guint * width,
    guint * height)
{
  guint w = 0, h = 0;
  gboolean ok;

  if (g_strcmp0 (media_type, "image/jpeg") == 0)
    ok = jpeg_size (data, size, &w, &h);
  else if (g_strcmp0 (media_type, "image/png") == 0)
    ok = png_size (data, size, &w, &h);
  else
    ok = FALSE;
  if (ok) {
    *width = w;
    *height = h;
  }
  return ok;
}
