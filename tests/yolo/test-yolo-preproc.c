/* Unit tests of yolov4infer's pre/post-processing (yolopreproc.c compiled in):
 * resize and letterbox against libdarknet's own resize_image/letterbox_image,
 * every input format against RGB, crops, box mapping, regions, NMS. */
#include <math.h>
#include <string.h>
#include <gst/video/video.h>

#include "ef-test.h"
#include "yolo-test-util.h"
#include "yolopreproc.h"

#ifdef HAVE_DARKNET
#include <darknet.h>
#endif

static gfloat *
preproc_sample (GstSample * s, const YoloRect * roi, gint nw, gint nh,
    gboolean letterbox, YoloTransform * xf)
{
  GstVideoInfo info;
  GstVideoFrame f;
  gfloat *out = g_new0 (gfloat, (gsize) 3 * nw * nh);
  g_assert_true (gst_video_info_from_caps (&info, gst_sample_get_caps (s)));
  g_assert_true (gst_video_frame_map (&f, &info, gst_sample_get_buffer (s), GST_MAP_READ));
  yolo_preproc_frame (&f, roi, nw, nh, letterbox, out, xf);
  gst_video_frame_unmap (&f);
  return out;
}

static void
diff_stats (const gfloat * a, const gfloat * b, gsize n, gdouble * max, gdouble * mean)
{
  gdouble m = 0, s = 0;
  for (gsize i = 0; i < n; i++) {
    gdouble d = fabs ((gdouble) a[i] - b[i]);
    m = MAX (m, d);
    s += d;
  }
  *max = m;
  *mean = s / n;
}

#ifdef HAVE_DARKNET
/* Our RGB frame as a darknet image (CHW, [0,1]), the way load_image_color
 * lays it out. */
static image
sample_to_darknet (GstSample * s)
{
  GstVideoInfo info;
  GstVideoFrame f;
  g_assert_true (gst_video_info_from_caps (&info, gst_sample_get_caps (s)));
  g_assert_cmpint (GST_VIDEO_INFO_FORMAT (&info), ==, GST_VIDEO_FORMAT_RGB);
  g_assert_true (gst_video_frame_map (&f, &info, gst_sample_get_buffer (s), GST_MAP_READ));
  gint w = GST_VIDEO_INFO_WIDTH (&info), h = GST_VIDEO_INFO_HEIGHT (&info);
  image im = make_image (w, h, 3);
  const guint8 *d = GST_VIDEO_FRAME_PLANE_DATA (&f, 0);
  gint stride = GST_VIDEO_FRAME_PLANE_STRIDE (&f, 0);
  for (gint c = 0; c < 3; c++)
    for (gint j = 0; j < h; j++)
      for (gint i = 0; i < w; i++)
        im.data[(gsize) c * w * h + (gsize) j * w + i] = d[(gsize) j * stride + i * 3 + c] / 255.0f;
  gst_video_frame_unmap (&f);
  return im;
}
#endif

/* Plain resize and letterbox equal darknet's own functions on the same pixels,
 * for a square and a non-square network, shrinking and enlarging. */
static void
test_resize_matches_darknet (void)
{
#ifndef HAVE_DARKNET
  g_test_message ("libdarknet not found at configure time: the reference "
      "(darknet's resize_image/letterbox_image) cannot be computed");
  g_test_fail ();
#else
  g_autofree gchar *path = yt_darknet_image ("dog.jpg");
  if (!path)
    return;
  GstSample *s = yt_decode_image (path, "RGB", 0, 0);
  g_assert_nonnull (s);
  image im = sample_to_darknet (s);
  const gint sizes[][2] = { {320, 320}, {416, 256}, {1024, 800} };

  for (guint k = 0; k < G_N_ELEMENTS (sizes); k++) {
    gint nw = sizes[k][0], nh = sizes[k][1];
    for (gint lb = 0; lb < 2; lb++) {
      image ref = lb ? letterbox_image (im, nw, nh) : resize_image (im, nw, nh);
      g_assert_cmpint (ref.w, ==, nw);
      g_assert_cmpint (ref.h, ==, nh);
      gfloat *ours = preproc_sample (s, NULL, nw, nh, lb, NULL);
      gdouble max, mean;
      diff_stats (ours, ref.data, (gsize) 3 * nw * nh, &max, &mean);
      g_test_message ("%dx%d letterbox=%d: max |ours - darknet| = %g, mean %g",
          nw, nh, lb, max, mean);
      g_assert_cmpfloat (max, <, 1e-4);
      g_free (ours);
      free_image (ref);
    }
  }
  /* crops (shrunk and enlarged, odd offsets, touching the last column/row)
   * equal darknet's crop_image followed by resize_image */
  const YoloRect crops[] = { {101, 53, 333, 211}, {700, 500, 67, 75}, {0, 575, 768, 1},
    {767, 0, 1, 576}, {5, 7, 2, 2} };
  for (guint k = 0; k < G_N_ELEMENTS (crops); k++) {
    const YoloRect *c = &crops[k];
    image part = crop_image (im, c->x, c->y, c->w, c->h);
    image ref = resize_image (part, 320, 256);
    gfloat *ours = preproc_sample (s, c, 320, 256, FALSE, NULL);
    gdouble max, mean;
    diff_stats (ours, ref.data, (gsize) 3 * 320 * 256, &max, &mean);
    g_test_message ("crop %d,%d %dx%d: max |ours - darknet| = %g, mean %g",
        c->x, c->y, c->w, c->h, max, mean);
    g_assert_cmpfloat (max, <, 1e-4);
    g_free (ours);
    free_image (ref);
    free_image (part);
  }
  free_image (im);
  gst_sample_unref (s);
#endif
}

/* One-pixel-wide and one-pixel-tall rectangles of a YUV frame, at the last
 * row/column: every output pixel is that column/row resampled, nothing is
 * read outside the frame (ASan), and I420 and NV12 agree. */
static void
test_yuv_thin_crops (void)
{
  g_autofree gchar *path = yt_darknet_image ("dog.jpg");
  if (!path)
    return;
  GstSample *i420 = yt_decode_image (path, "I420", 0, 0);
  g_assert_nonnull (i420);
  GstSample *nv12 = yt_convert_sample (i420, "NV12");
  g_assert_nonnull (nv12);
  const YoloRect thin[] = { {767, 0, 1, 576}, {0, 575, 768, 1}, {767, 575, 1, 1} };
  for (guint k = 0; k < G_N_ELEMENTS (thin); k++) {
    gfloat *a = preproc_sample (i420, &thin[k], 64, 48, FALSE, NULL);
    gfloat *b = preproc_sample (nv12, &thin[k], 64, 48, FALSE, NULL);
    gdouble max, mean;
    diff_stats (a, b, (gsize) 3 * 64 * 48, &max, &mean);
    g_assert_cmpfloat (max, <, 1e-6);
    /* a one-pixel-wide source: every row is constant */
    for (gint c = 0; c < 3; c++)
      for (gint j = 0; j < 48; j++)
        for (gint i = 1; i < 64; i++) {
          gsize row = (gsize) c * 64 * 48 + (gsize) j * 64;
          if (thin[k].w == 1)
            g_assert_cmpfloat (a[row + i], ==, a[row]);
          if (thin[k].h == 1)
            g_assert_cmpfloat (a[(gsize) c * 64 * 48 + (gsize) (j ? j : 1) * 64 + i], ==,
                a[(gsize) c * 64 * 48 + i]);
        }
    g_free (a);
    g_free (b);
  }
  gst_sample_unref (nv12);
  gst_sample_unref (i420);
}

/* Every packed RGB layout gives exactly the RGB result; I420 and NV12 give
 * the same as each other and the same as RGB converted from them by
 * videoconvert (up to chroma siting and rounding). */
static void
test_formats_agree (void)
{
  g_autofree gchar *path = yt_darknet_image ("dog.jpg");
  if (!path)
    return;
  const gint nw = 320, nh = 256;
  gsize n = (gsize) 3 * nw * nh;
  GstSample *i420 = yt_decode_image (path, "I420", 0, 0);
  g_assert_nonnull (i420);
  GstSample *rgb = yt_convert_sample (i420, "RGB");
  g_assert_nonnull (rgb);
  gfloat *ref = preproc_sample (rgb, NULL, nw, nh, FALSE, NULL);

  const gchar *packed[] = { "BGR", "RGBx", "BGRx", "xRGB", "xBGR", "RGBA", "BGRA" };
  for (guint i = 0; i < G_N_ELEMENTS (packed); i++) {
    GstSample *s = yt_convert_sample (rgb, packed[i]);
    g_assert_nonnull (s);
    gfloat *t = preproc_sample (s, NULL, nw, nh, FALSE, NULL);
    gdouble max, mean;
    diff_stats (t, ref, n, &max, &mean);
    g_test_message ("%s vs RGB: max %g", packed[i], max);
    g_assert_cmpfloat (max, <, 1e-6);
    g_free (t);
    gst_sample_unref (s);
  }

  GstSample *nv12 = yt_convert_sample (i420, "NV12");
  g_assert_nonnull (nv12);
  gfloat *ti = preproc_sample (i420, NULL, nw, nh, FALSE, NULL);
  gfloat *tn = preproc_sample (nv12, NULL, nw, nh, FALSE, NULL);
  gdouble max, mean;
  diff_stats (ti, tn, n, &max, &mean);
  g_test_message ("NV12 vs I420: max %g", max);
  g_assert_cmpfloat (max, <, 1e-6);
  diff_stats (ti, ref, n, &max, &mean);
  g_test_message ("I420 vs RGB (videoconvert): max %g mean %g", max, mean);
  g_assert_cmpfloat (mean, <, 0.01);
  g_assert_cmpfloat (max, <, 0.2);
  /* and the image is not flat: a wrong plane would not be caught otherwise */
  gdouble var = 0, avg = 0;
  for (gsize i = 0; i < n; i++)
    avg += ti[i];
  avg /= n;
  for (gsize i = 0; i < n; i++)
    var += (ti[i] - avg) * (ti[i] - avg);
  g_assert_cmpfloat (var / n, >, 0.01);

  g_free (ti);
  g_free (tn);
  g_free (ref);
  gst_sample_unref (nv12);
  gst_sample_unref (rgb);
  gst_sample_unref (i420);
}

/* A crop at 1:1 scale copies the pixels of that rectangle, channel by channel. */
static void
test_crop_one_to_one (void)
{
  g_autofree gchar *path = yt_darknet_image ("dog.jpg");
  if (!path)
    return;
  GstSample *s = yt_decode_image (path, "BGRx", 0, 0);
  g_assert_nonnull (s);
  YoloRect roi = { 101, 53, 320, 256 };
  YoloTransform xf;
  gfloat *t = preproc_sample (s, &roi, 320, 256, FALSE, &xf);
  GstVideoInfo info;
  GstVideoFrame f;
  g_assert_true (gst_video_info_from_caps (&info, gst_sample_get_caps (s)));
  g_assert_true (gst_video_frame_map (&f, &info, gst_sample_get_buffer (s), GST_MAP_READ));
  const guint8 *d = GST_VIDEO_FRAME_PLANE_DATA (&f, 0);
  gint stride = GST_VIDEO_FRAME_PLANE_STRIDE (&f, 0);
  for (gint j = 0; j < 256; j += 7)
    for (gint i = 0; i < 320; i += 5) {
      const guint8 *p = d + (gsize) (roi.y + j) * stride + (roi.x + i) * 4;
      gsize o = (gsize) j * 320 + i;
      g_assert_cmpfloat (fabs (t[o] - p[2] / 255.0f), <, 1e-6);                /* R */
      g_assert_cmpfloat (fabs (t[320 * 256 + o] - p[1] / 255.0f), <, 1e-6);     /* G */
      g_assert_cmpfloat (fabs (t[2 * 320 * 256 + o] - p[0] / 255.0f), <, 1e-6); /* B */
    }
  gst_video_frame_unmap (&f);
  g_assert_cmpint (xf.src.x, ==, roi.x);
  g_assert_cmpint (xf.src.w, ==, roi.w);
  g_free (t);
  gst_sample_unref (s);
}

/* A white square drawn in a black frame, preprocessed through a crop and a
 * letterbox, is found in the tensor; mapping that tensor box back gives the
 * square's frame position. */
static void
test_box_maps_back (void)
{
  const gint fw = 1920, fh = 1080;
  const YoloRect sq = { 700, 400, 120, 90 };
  const YoloRect roi = { 600, 300, 500, 420 };
  GstVideoInfo info;
  gst_video_info_set_format (&info, GST_VIDEO_FORMAT_RGB, fw, fh);
  GstBuffer *buf = gst_buffer_new_allocate (NULL, GST_VIDEO_INFO_SIZE (&info), NULL);
  GstVideoFrame f;
  g_assert_true (gst_video_frame_map (&f, &info, buf, GST_MAP_WRITE));
  guint8 *d = GST_VIDEO_FRAME_PLANE_DATA (&f, 0);
  gint stride = GST_VIDEO_FRAME_PLANE_STRIDE (&f, 0);
  for (gint j = 0; j < fh; j++)
    memset (d + (gsize) j * stride, 0, (gsize) fw * 3);
  for (gint j = sq.y; j < sq.y + sq.h; j++)
    memset (d + (gsize) j * stride + sq.x * 3, 255, (gsize) sq.w * 3);

  for (gint lb = 0; lb < 2; lb++) {
    const gint nw = 320, nh = 256;
    gfloat *t = g_new (gfloat, (gsize) 3 * nw * nh);
    YoloTransform xf;
    yolo_preproc_frame (&f, &roi, nw, nh, lb, t, &xf);
    /* bounding box of bright pixels in the R plane */
    gint x0 = nw, y0 = nh, x1 = -1, y1 = -1;
    for (gint j = 0; j < nh; j++)
      for (gint i = 0; i < nw; i++)
        if (t[(gsize) j * nw + i] > 0.5f) {
          x0 = MIN (x0, i);
          y0 = MIN (y0, j);
          x1 = MAX (x1, i);
          y1 = MAX (y1, j);
        }
    g_assert_cmpint (x1, >, x0);
    /* letterbox padding is 0.5: only the square is bright */
    YoloCandidate c = { 3, 0.9f, (gfloat) x0 / nw, (gfloat) y0 / nh,
      (gfloat) (x1 + 1) / nw, (gfloat) (y1 + 1) / nh };
    YoloDetection det;
    yolo_transform_candidate (&xf, &c, &det);
    g_test_message ("letterbox=%d: square at %.1f,%.1f-%.1f,%.1f (truth %d,%d-%d,%d)", lb,
        det.x_min * fw, det.y_min * fh, det.x_max * fw, det.y_max * fh,
        sq.x, sq.y, sq.x + sq.w, sq.y + sq.h);
    /* one network pixel is ~1.6-2 frame pixels here */
    g_assert_cmpfloat (fabs (det.x_min * fw - sq.x), <, 4);
    g_assert_cmpfloat (fabs (det.y_min * fh - sq.y), <, 4);
    g_assert_cmpfloat (fabs (det.x_max * fw - (sq.x + sq.w)), <, 4);
    g_assert_cmpfloat (fabs (det.y_max * fh - (sq.y + sq.h)), <, 4);
    g_assert_cmpint (det.class_id, ==, 3);
    g_free (t);
  }
  gst_video_frame_unmap (&f);
  gst_buffer_unref (buf);
}

static void
test_region_for_box (void)
{
  YoloRect r;
  /* small box in a big frame: square of the network size, centred */
  yolo_region_for_box (1920, 1080, &(YoloRect) { 900, 500, 40, 60 }, 320, 1.35, &r);
  g_assert_cmpint (r.w, ==, 320);
  g_assert_cmpint (r.h, ==, 320);
  g_assert_cmpint (r.x, <=, 900);
  g_assert_cmpint (r.x + r.w, >=, 940);
  g_assert_cmpint (abs ((r.x + r.w / 2) - 920), <=, 1);
  g_assert_cmpint (abs ((r.y + r.h / 2) - 530), <=, 1);
  /* big box: side = ceil (max (w,h) * 1.35) */
  yolo_region_for_box (1920, 1080, &(YoloRect) { 800, 300, 400, 300 }, 320, 1.35, &r);
  g_assert_cmpint (r.w, ==, (gint) ceil (400 * 1.35));
  g_assert_cmpint (r.h, ==, r.w);
  /* at the corner: moved inside the frame, still containing the box */
  yolo_region_for_box (1920, 1080, &(YoloRect) { 1900, 1070, 20, 10 }, 320, 1.35, &r);
  g_assert_cmpint (r.x + r.w, ==, 1920);
  g_assert_cmpint (r.y + r.h, ==, 1080);
  g_assert_cmpint (r.w, ==, 320);
  yolo_region_for_box (1920, 1080, &(YoloRect) { 0, 0, 10, 10 }, 320, 1.35, &r);
  g_assert_cmpint (r.x, ==, 0);
  g_assert_cmpint (r.y, ==, 0);
  /* frame smaller than the square: cut to the frame */
  yolo_region_for_box (300, 200, &(YoloRect) { 100, 50, 50, 50 }, 320, 1.35, &r);
  g_assert_cmpint (r.x, ==, 0);
  g_assert_cmpint (r.y, ==, 0);
  g_assert_cmpint (r.w, ==, 300);
  g_assert_cmpint (r.h, ==, 200);
}

static void
test_nms_per_class (void)
{
  GArray *a = g_array_new (FALSE, FALSE, sizeof (YoloDetection));
  YoloDetection d[] = {
    {1, 0.6f, 0.10, 0.10, 0.30, 0.30},   /* overlaps the 0.9 box of class 1: gone */
    {1, 0.9f, 0.11, 0.11, 0.31, 0.31},
    {2, 0.5f, 0.11, 0.11, 0.31, 0.31},   /* same place, other class: kept */
    {1, 0.4f, 0.60, 0.60, 0.80, 0.80},   /* class 1 elsewhere: kept */
    {1, 0.3f, 0.20, 0.20, 0.40, 0.40},   /* IoU with the 0.9 box ~0.18: kept at 0.45 */
  };
  g_array_append_vals (a, d, G_N_ELEMENTS (d));
  YoloDetection x = d[1], y = d[4];
  gdouble iou = yolo_detection_iou (&x, &y, 100, 100);
  g_assert_cmpfloat (iou, >, 0.15);
  g_assert_cmpfloat (iou, <, 0.45);
  g_assert_cmpfloat (yolo_detection_iou (&x, &x, 640, 480), >, 0.9999);

  yolo_nms_per_class (a, 640, 480, 0.45);
  g_assert_cmpuint (a->len, ==, 4);
  /* sorted by confidence */
  g_assert_cmpfloat (g_array_index (a, YoloDetection, 0).confidence, ==, 0.9f);
  for (guint i = 0; i < a->len; i++)
    g_assert_cmpfloat (g_array_index (a, YoloDetection, i).confidence, !=, 0.6f);
  /* a lower threshold removes the partly overlapping one too */
  yolo_nms_per_class (a, 640, 480, 0.15);
  g_assert_cmpuint (a->len, ==, 3);
  g_array_unref (a);

  /* many candidates: capped to the most confident, then NMS per class gives
   * the same as NMS without the cap when the cap is not reached */
  GArray *many = g_array_new (FALSE, FALSE, sizeof (YoloDetection));
  for (guint i = 0; i < 3000; i++) {
    YoloDetection d = { i % 7, (gfloat) ((i * 7919) % 3001) / 3001.0f,
      (i % 50) / 60.0, (i / 50 % 50) / 60.0, (i % 50) / 60.0 + 0.05, (i / 50 % 50) / 60.0 + 0.05 };
    g_array_append_val (many, d);
  }
  GArray *copy = g_array_copy (many);
  yolo_keep_top (many, 1000);
  g_assert_cmpuint (many->len, ==, 1000);
  gfloat lowest_kept = 1.0f;
  for (guint i = 0; i < many->len; i++)
    lowest_kept = MIN (lowest_kept, g_array_index (many, YoloDetection, i).confidence);
  guint above = 0;
  for (guint i = 0; i < copy->len; i++)
    above += g_array_index (copy, YoloDetection, i).confidence > lowest_kept;
  g_assert_cmpuint (above, <, 1000);
  yolo_keep_top (copy, 5000);
  g_assert_cmpuint (copy->len, ==, 3000);
  yolo_nms_per_class (copy, 640, 480, 0.45);
  g_assert_cmpuint (copy->len, <, 3000);
  for (guint i = 1; i < copy->len; i++)
    g_assert_cmpfloat (g_array_index (copy, YoloDetection, i - 1).confidence, >=,
        g_array_index (copy, YoloDetection, i).confidence);
  g_array_unref (many);
  g_array_unref (copy);
}

int
main (int argc, char **argv)
{
  ef_test_init (&argc, &argv);
  g_test_add_func ("/yolo/preproc/resize-matches-darknet", test_resize_matches_darknet);
  g_test_add_func ("/yolo/preproc/formats-agree", test_formats_agree);
  g_test_add_func ("/yolo/preproc/yuv-thin-crops", test_yuv_thin_crops);
  g_test_add_func ("/yolo/preproc/crop-one-to-one", test_crop_one_to_one);
  g_test_add_func ("/yolo/preproc/box-maps-back", test_box_maps_back);
  g_test_add_func ("/yolo/preproc/region-for-box", test_region_for_box);
  g_test_add_func ("/yolo/preproc/nms-per-class", test_nms_per_class);
  return g_test_run ();
}
