/* yolov4infer pre/post-processing: see yolopreproc.h. */
#include "yolopreproc.h"

#include <math.h>
#include <string.h>

gboolean
yolo_preproc_format_supported (GstVideoFormat format)
{
  switch (format) {
    case GST_VIDEO_FORMAT_RGB:
    case GST_VIDEO_FORMAT_BGR:
    case GST_VIDEO_FORMAT_RGBx:
    case GST_VIDEO_FORMAT_BGRx:
    case GST_VIDEO_FORMAT_xRGB:
    case GST_VIDEO_FORMAT_xBGR:
    case GST_VIDEO_FORMAT_RGBA:
    case GST_VIDEO_FORMAT_BGRA:
    case GST_VIDEO_FORMAT_I420:
    case GST_VIDEO_FORMAT_NV12:
      return TRUE;
    default:
      return FALSE;
  }
}

/* One axis of darknet's resize_image: output i samples source coordinate
 * i * (n_src - 1) / (n_dst - 1) (corners aligned), bilinear. */
typedef struct {
  gint i0, i1;
  gfloat w1;    /* weight of i1 */
} Tap;

static Tap *
make_taps (gint src_off, gint n_src, gint n_dst)
{
  Tap *t = g_new (Tap, MAX (n_dst, 1));
  gdouble scale = n_dst > 1 ? (gdouble) (n_src - 1) / (n_dst - 1) : 0.0;

  for (gint i = 0; i < n_dst; i++) {
    gdouble s = i * scale;
    gint i0 = (gint) s;
    if (i0 > n_src - 1)
      i0 = n_src - 1;
    gint i1 = MIN (i0 + 1, n_src - 1);
    t[i].i0 = src_off + i0;
    t[i].i1 = src_off + i1;
    t[i].w1 = (gfloat) (s - i0);
    if (i1 == i0)
      t[i].w1 = 0.0f;
  }
  return t;
}

/* Chroma taps for a subsampled plane: the luma coordinate s maps to chroma
 * (s + 0.5) / 2 - 0.5 (MPEG-2/JPEG centre siting is close enough here). */
static Tap *
make_chroma_taps (gint src_off, gint n_src, gint n_dst, gint n_chroma)
{
  Tap *t = g_new (Tap, MAX (n_dst, 1));
  gdouble scale = n_dst > 1 ? (gdouble) (n_src - 1) / (n_dst - 1) : 0.0;

  for (gint i = 0; i < n_dst; i++) {
    gdouble s = src_off + i * scale;
    gdouble c = (s + 0.5) / 2.0 - 0.5;
    if (c < 0)
      c = 0;
    if (c > n_chroma - 1)
      c = n_chroma - 1;
    gint c0 = (gint) c;
    gint c1 = MIN (c0 + 1, n_chroma - 1);
    t[i].i0 = c0;
    t[i].i1 = c1;
    t[i].w1 = c1 == c0 ? 0.0f : (gfloat) (c - c0);
  }
  return t;
}

static inline gfloat
clamp01 (gfloat v)
{
  return v < 0.0f ? 0.0f : (v > 1.0f ? 1.0f : v);
}

static inline gfloat
bilerp (guint8 a, guint8 b, guint8 c, guint8 d, gfloat wx, gfloat wy)
{
  gfloat top = a + (b - a) * wx;
  gfloat bot = c + (d - c) * wx;
  return top + (bot - top) * wy;
}

typedef struct {
  gfloat y_off, y_scale, c_off, c_scale;
  gfloat kr, kb;
} YuvCoef;

static void
yuv_coef (const GstVideoInfo * info, YuvCoef * k)
{
  gdouble kr = 0.299, kb = 0.114;
  GstVideoColorMatrix m = info->colorimetry.matrix;
  if (m == GST_VIDEO_COLOR_MATRIX_UNKNOWN || m == GST_VIDEO_COLOR_MATRIX_RGB
      || !gst_video_color_matrix_get_Kr_Kb (m, &kr, &kb)) {
    kr = 0.299;
    kb = 0.114;
  }
  gint off[4], scale[4];
  GstVideoColorRange range = info->colorimetry.range;
  if (range == GST_VIDEO_COLOR_RANGE_UNKNOWN)
    range = GST_VIDEO_COLOR_RANGE_0_255;        /* decoded JPEG */
  gst_video_color_range_offsets (range, info->finfo, off, scale);
  k->y_off = off[0];
  k->y_scale = scale[0];
  k->c_off = off[1];
  k->c_scale = scale[1];
  k->kr = kr;
  k->kb = kb;
}

static inline void
yuv_to_rgb (const YuvCoef * k, gfloat y, gfloat u, gfloat v, gfloat * r,
    gfloat * g, gfloat * b)
{
  gfloat yy = (y - k->y_off) / k->y_scale;
  gfloat pb = (u - k->c_off) / k->c_scale;
  gfloat pr = (v - k->c_off) / k->c_scale;
  gfloat rr = yy + 2.0f * (1.0f - k->kr) * pr;
  gfloat bb = yy + 2.0f * (1.0f - k->kb) * pb;
  gfloat gg = (yy - k->kr * rr - k->kb * bb) / (1.0f - k->kr - k->kb);
  *r = clamp01 (rr);
  *g = clamp01 (gg);
  *b = clamp01 (bb);
}

/* Sample @src of @frame into the img_w x img_h image at (ox, oy) of the
 * planar out tensor (net_w x net_h). */
static void
sample_into (const GstVideoFrame * frame, const YoloRect * src, gint img_w,
    gint img_h, gint ox, gint oy, gint net_w, gint net_h, gfloat * out)
{
  const GstVideoInfo *info = &frame->info;
  GstVideoFormat fmt = GST_VIDEO_INFO_FORMAT (info);
  gsize plane = (gsize) net_w * net_h;
  gfloat *R = out, *G = out + plane, *B = out + 2 * plane;
  Tap *tx = make_taps (src->x, src->w, img_w);
  Tap *ty = make_taps (src->y, src->h, img_h);
  const gfloat inv = 1.0f / 255.0f;

  if (fmt == GST_VIDEO_FORMAT_I420 || fmt == GST_VIDEO_FORMAT_NV12) {
    YuvCoef k;
    yuv_coef (info, &k);
    gint cw = GST_VIDEO_FRAME_COMP_WIDTH (frame, 1);
    gint ch = GST_VIDEO_FRAME_COMP_HEIGHT (frame, 1);
    Tap *cx = make_chroma_taps (src->x, src->w, img_w, cw);
    Tap *cy = make_chroma_taps (src->y, src->h, img_h, ch);
    const guint8 *yp = GST_VIDEO_FRAME_PLANE_DATA (frame, 0);
    gint ys = GST_VIDEO_FRAME_PLANE_STRIDE (frame, 0);
    gboolean nv12 = fmt == GST_VIDEO_FORMAT_NV12;
    const guint8 *up = GST_VIDEO_FRAME_PLANE_DATA (frame, 1);
    gint us = GST_VIDEO_FRAME_PLANE_STRIDE (frame, 1);
    const guint8 *vp = nv12 ? up + 1 : GST_VIDEO_FRAME_PLANE_DATA (frame, 2);
    gint vs = nv12 ? us : GST_VIDEO_FRAME_PLANE_STRIDE (frame, 2);
    gint cstep = nv12 ? 2 : 1;

    for (gint j = 0; j < img_h; j++) {
      const guint8 *y0 = yp + (gsize) ty[j].i0 * ys, *y1 = yp + (gsize) ty[j].i1 * ys;
      const guint8 *u0 = up + (gsize) cy[j].i0 * us, *u1 = up + (gsize) cy[j].i1 * us;
      const guint8 *v0 = vp + (gsize) cy[j].i0 * vs, *v1 = vp + (gsize) cy[j].i1 * vs;
      gsize o = (gsize) (oy + j) * net_w + ox;
      for (gint i = 0; i < img_w; i++, o++) {
        gfloat yv = bilerp (y0[tx[i].i0], y0[tx[i].i1], y1[tx[i].i0],
            y1[tx[i].i1], tx[i].w1, ty[j].w1);
        gint a = cx[i].i0 * cstep, b = cx[i].i1 * cstep;
        gfloat uv = bilerp (u0[a], u0[b], u1[a], u1[b], cx[i].w1, cy[j].w1);
        gfloat vv = bilerp (v0[a], v0[b], v1[a], v1[b], cx[i].w1, cy[j].w1);
        yuv_to_rgb (&k, yv, uv, vv, &R[o], &G[o], &B[o]);
      }
    }
    g_free (cx);
    g_free (cy);
  } else {
    gint ps = GST_VIDEO_FRAME_COMP_PSTRIDE (frame, 0);
    gint ro = GST_VIDEO_FRAME_COMP_OFFSET (frame, GST_VIDEO_COMP_R);
    gint go = GST_VIDEO_FRAME_COMP_OFFSET (frame, GST_VIDEO_COMP_G);
    gint bo = GST_VIDEO_FRAME_COMP_OFFSET (frame, GST_VIDEO_COMP_B);
    const guint8 *p = GST_VIDEO_FRAME_PLANE_DATA (frame, 0);
    gint stride = GST_VIDEO_FRAME_PLANE_STRIDE (frame, 0);
    gint *x0 = g_new (gint, MAX (img_w, 1)), *x1 = g_new (gint, MAX (img_w, 1));
    for (gint i = 0; i < img_w; i++) {
      x0[i] = tx[i].i0 * ps;
      x1[i] = tx[i].i1 * ps;
    }
    for (gint j = 0; j < img_h; j++) {
      const guint8 *r0 = p + (gsize) ty[j].i0 * stride, *r1 = p + (gsize) ty[j].i1 * stride;
      gfloat wy = ty[j].w1;
      gsize o = (gsize) (oy + j) * net_w + ox;
      for (gint i = 0; i < img_w; i++, o++) {
        const guint8 *a = r0 + x0[i], *b = r0 + x1[i], *c = r1 + x0[i], *d = r1 + x1[i];
        gfloat wx = tx[i].w1;
        R[o] = bilerp (a[ro], b[ro], c[ro], d[ro], wx, wy) * inv;
        G[o] = bilerp (a[go], b[go], c[go], d[go], wx, wy) * inv;
        B[o] = bilerp (a[bo], b[bo], c[bo], d[bo], wx, wy) * inv;
      }
    }
    g_free (x0);
    g_free (x1);
  }
  g_free (tx);
  g_free (ty);
}

void
yolo_preproc_frame (const GstVideoFrame * frame, const YoloRect * roi,
    gint net_w, gint net_h, gboolean letterbox, gfloat * out, YoloTransform * xf)
{
  gint fw = GST_VIDEO_FRAME_WIDTH (frame), fh = GST_VIDEO_FRAME_HEIGHT (frame);
  YoloRect src = { 0, 0, fw, fh };
  gint img_w = net_w, img_h = net_h, ox = 0, oy = 0;

  if (roi) {
    /* clip to the frame; an empty rectangle samples one pixel */
    gint x0 = CLAMP (roi->x, 0, fw - 1), y0 = CLAMP (roi->y, 0, fh - 1);
    gint x1 = CLAMP (roi->x + roi->w, x0 + 1, fw), y1 = CLAMP (roi->y + roi->h, y0 + 1, fh);
    src.x = x0;
    src.y = y0;
    src.w = x1 - x0;
    src.h = y1 - y0;
  }

  if (letterbox) {
    /* darknet letterbox_image: integer sizes, centred, padding 0.5 */
    if ((gdouble) net_w / src.w < (gdouble) net_h / src.h) {
      img_w = net_w;
      img_h = MAX (1, (gint) ((gint64) src.h * net_w / src.w));
    } else {
      img_h = net_h;
      img_w = MAX (1, (gint) ((gint64) src.w * net_h / src.h));
    }
    ox = (net_w - img_w) / 2;
    oy = (net_h - img_h) / 2;
    if (img_w != net_w || img_h != net_h) {
      for (gsize i = 0; i < (gsize) 3 * net_w * net_h; i++)
        out[i] = 0.5f;
    }
  }

  sample_into (frame, &src, img_w, img_h, ox, oy, net_w, net_h, out);

  if (xf) {
    xf->frame_w = fw;
    xf->frame_h = fh;
    xf->src = src;
    xf->net_w = net_w;
    xf->net_h = net_h;
    xf->off_x = ox;
    xf->off_y = oy;
    xf->img_w = img_w;
    xf->img_h = img_h;
  }
}

static inline gdouble
clampd01 (gdouble v)
{
  return v < 0.0 ? 0.0 : (v > 1.0 ? 1.0 : v);
}

void
yolo_transform_candidate (const YoloTransform * xf, const YoloCandidate * c,
    YoloDetection * out)
{
  /* network-normalised -> pixels inside the sampled image -> frame pixels */
  gdouble sx = (gdouble) xf->src.w / xf->img_w;
  gdouble sy = (gdouble) xf->src.h / xf->img_h;
  gdouble x0 = (c->x_min * xf->net_w - xf->off_x) * sx + xf->src.x;
  gdouble x1 = (c->x_max * xf->net_w - xf->off_x) * sx + xf->src.x;
  gdouble y0 = (c->y_min * xf->net_h - xf->off_y) * sy + xf->src.y;
  gdouble y1 = (c->y_max * xf->net_h - xf->off_y) * sy + xf->src.y;

  out->class_id = c->class_id;
  out->confidence = c->confidence;
  out->x_min = clampd01 (x0 / xf->frame_w);
  out->x_max = clampd01 (x1 / xf->frame_w);
  out->y_min = clampd01 (y0 / xf->frame_h);
  out->y_max = clampd01 (y1 / xf->frame_h);
}

static void
place_axis (gint frame_len, gint box_pos, gint box_len, gint side, gint * pos,
    gint * len)
{
  if (side >= frame_len) {
    *pos = 0;
    *len = frame_len;
    return;
  }
  gint p = box_pos + box_len / 2 - side / 2;
  p = CLAMP (p, 0, frame_len - side);
  *pos = p;
  *len = side;
}

void
yolo_region_for_box (gint frame_w, gint frame_h, const YoloRect * box,
    gint min_side, gdouble factor, YoloRect * out)
{
  gint side = (gint) ceil (MAX (box->w, box->h) * factor);
  side = MAX (side, min_side);
  place_axis (frame_w, box->x, box->w, side, &out->x, &out->w);
  place_axis (frame_h, box->y, box->h, side, &out->y, &out->h);
}

gdouble
yolo_detection_iou (const YoloDetection * a, const YoloDetection * b,
    gint frame_w, gint frame_h)
{
  gdouble ix0 = MAX (a->x_min, b->x_min) * frame_w;
  gdouble iy0 = MAX (a->y_min, b->y_min) * frame_h;
  gdouble ix1 = MIN (a->x_max, b->x_max) * frame_w;
  gdouble iy1 = MIN (a->y_max, b->y_max) * frame_h;
  gdouble iw = ix1 - ix0, ih = iy1 - iy0;
  if (iw <= 0 || ih <= 0)
    return 0.0;
  gdouble inter = iw * ih;
  gdouble aa = (a->x_max - a->x_min) * frame_w * (a->y_max - a->y_min) * frame_h;
  gdouble ab = (b->x_max - b->x_min) * frame_w * (b->y_max - b->y_min) * frame_h;
  gdouble uni = aa + ab - inter;
  return uni > 0 ? inter / uni : 0.0;
}

static gint
by_confidence_desc (gconstpointer pa, gconstpointer pb)
{
  const YoloDetection *a = pa, *b = pb;
  if (a->confidence != b->confidence)
    return a->confidence > b->confidence ? -1 : 1;
  if (a->class_id != b->class_id)
    return a->class_id - b->class_id;
  return 0;
}

static gint
by_class_then_confidence (gconstpointer pa, gconstpointer pb)
{
  const YoloDetection *a = pa, *b = pb;
  if (a->class_id != b->class_id)
    return a->class_id - b->class_id;
  return by_confidence_desc (pa, pb);
}

void
yolo_nms_per_class (GArray * dets, gint frame_w, gint frame_h,
    gdouble iou_threshold)
{
  /* Group by class (each group sorted by confidence), greedy NMS inside each
   * group only: sum of n_class^2 instead of n^2 over all candidates, which
   * matters for untrained/random weights where thousands of candidates pass
   * the threshold. Then the survivors are sorted by confidence. */
  g_array_sort (dets, by_class_then_confidence);
  guint n = dets->len;
  gboolean *gone = g_new0 (gboolean, MAX (n, 1));
  for (guint start = 0; start < n;) {
    gint cls = g_array_index (dets, YoloDetection, start).class_id;
    guint end = start;
    while (end < n && g_array_index (dets, YoloDetection, end).class_id == cls)
      end++;
    for (guint i = start; i < end; i++) {
      if (gone[i])
        continue;
      const YoloDetection *a = &g_array_index (dets, YoloDetection, i);
      for (guint j = i + 1; j < end; j++) {
        if (!gone[j] && yolo_detection_iou (a, &g_array_index (dets, YoloDetection, j),
                frame_w, frame_h) > iou_threshold)
          gone[j] = TRUE;
      }
    }
    start = end;
  }
  guint w = 0;
  for (guint i = 0; i < n; i++) {
    if (gone[i])
      continue;
    if (w != i)
      g_array_index (dets, YoloDetection, w) = g_array_index (dets, YoloDetection, i);
    w++;
  }
  g_array_set_size (dets, w);
  g_array_sort (dets, by_confidence_desc);
  g_free (gone);
}

void
yolo_keep_top (GArray * dets, guint max)
{
  if (dets->len <= max)
    return;
  g_array_sort (dets, by_confidence_desc);
  g_array_set_size (dets, max);
}
