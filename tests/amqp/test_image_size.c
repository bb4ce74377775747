/* image_size_parse (plugins/amqp/image-size.c): width and height of real
 * jpegenc/pngenc output (several sizes, progressive/restart markers are not
 * produced by jpegenc but EXIF/APPn and fill bytes before the frame header are
 * built by hand), and refusal of truncated, garbage and zero-size headers. */
#include <string.h>
#include <gst/gst.h>

#include "ef-test.h"
#include "amqp-test-util.h"
#include "image-size.h"

static void
test_real_encoders (void)
{
  const guint sizes[][2] = { {64, 48}, {320, 240}, {17, 9}, {1, 1} };
  for (guint i = 0; i < G_N_ELEMENTS (sizes); i++) {
    GPtrArray *jpg = at_encode_images (1, "jpegenc", sizes[i][0], sizes[i][1]);
    GPtrArray *png = at_encode_images (1, "pngenc", sizes[i][0], sizes[i][1]);
    gsize n;
    const guint8 *d;
    guint w = 0, h = 0;

    d = g_bytes_get_data (g_ptr_array_index (jpg, 0), &n);
    g_assert_true (image_size_parse ("image/jpeg", d, n, &w, &h));
    g_assert_cmpuint (w, ==, sizes[i][0]);
    g_assert_cmpuint (h, ==, sizes[i][1]);
    /* truncated anywhere inside the headers: refused, never a wrong size */
    for (gsize cut = 0; cut < 200 && cut < n; cut++) {
      guint tw = 0, th = 0;
      if (image_size_parse ("image/jpeg", d, cut, &tw, &th)) {
        g_assert_cmpuint (tw, ==, sizes[i][0]);
        g_assert_cmpuint (th, ==, sizes[i][1]);
      }
    }
    g_assert_false (image_size_parse ("image/png", d, n, &w, &h));      /* wrong type */

    d = g_bytes_get_data (g_ptr_array_index (png, 0), &n);
    w = h = 0;
    g_assert_true (image_size_parse ("image/png", d, n, &w, &h));
    g_assert_cmpuint (w, ==, sizes[i][0]);
    g_assert_cmpuint (h, ==, sizes[i][1]);
    g_assert_false (image_size_parse ("image/png", d, 23, &w, &h));
    g_ptr_array_unref (jpg);
    g_ptr_array_unref (png);
  }
}

static void
test_hand_built (void)
{
  /* SOI, APP1 (4 payload bytes), fill byte, DHT (must be skipped), SOF2 */
  const guint8 jpeg[] = { 0xFF, 0xD8,
    0xFF, 0xE1, 0x00, 0x06, 'E', 'x', 'i', 'f',
    0xFF,
    0xFF, 0xC4, 0x00, 0x07, 0, 0, 0, 0, 0,
    0xFF, 0xC2, 0x00, 0x0B, 0x08, 0x02, 0xD0, 0x05, 0x00, 0x03, 0x01, 0x22, 0x00
  };
  const guint8 zero[] = { 0xFF, 0xD8, 0xFF, 0xC0, 0x00, 0x0B, 0x08, 0x00, 0x00, 0x05, 0x00,
    0x03, 0x01, 0x22, 0x00
  };
  const guint8 sos_first[] = { 0xFF, 0xD8, 0xFF, 0xDA, 0x00, 0x02 };
  const guint8 garbage[] = "not an image at all, just text";
  guint w = 0, h = 0;

  g_assert_true (image_size_parse ("image/jpeg", jpeg, sizeof (jpeg), &w, &h));
  g_assert_cmpuint (w, ==, 1280);
  g_assert_cmpuint (h, ==, 720);
  g_assert_false (image_size_parse ("image/jpeg", zero, sizeof (zero), &w, &h));
  g_assert_false (image_size_parse ("image/jpeg", sos_first, sizeof (sos_first), &w, &h));
  g_assert_false (image_size_parse ("image/jpeg", garbage, sizeof (garbage), &w, &h));
  g_assert_false (image_size_parse ("image/png", garbage, sizeof (garbage), &w, &h));
  g_assert_false (image_size_parse ("video/x-raw", jpeg, sizeof (jpeg), &w, &h));
  g_assert_cmpuint (w, ==, 1280);       /* untouched on failure */
}

int
main (int argc, char **argv)
{
  ef_test_init (&argc, &argv);
  g_test_add_func ("/image-size/real-encoders", test_real_encoders);
  g_test_add_func ("/image-size/hand-built", test_hand_built);
  return g_test_run ();
}
