/* edgefaas: width and height from a JPEG or PNG header.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Width and height of the JPEG (first SOFn frame header) or PNG (IHDR) image
 * in @data. FALSE if @media_type is neither or the header is missing,
 * truncated or says 0. */
gboolean image_size_parse (const gchar * media_type, const guint8 * data, gsize size,
    guint * width, guint * height);

G_END_DECLS
