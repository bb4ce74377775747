/* yolov4infer pre/post-processing: see yolopreproc.h. */
#include "yolopreproc.h"

#include <math.h>
#include <string.h>
#if defined (__SSE2__)
#include <emmintrin.h>
#endif

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

/* Separable bilinear resampling, vertical pass first.
 *
 * darknet's resize_image is separable (a horizontal pass over every source
 * row, then a vertical one); bilinear interpolation is linear in each axis, so
 * doing the vertical pass first gives the same values up to float rounding
 * (the tests assert < 1e-4 against libdarknet). Vertical first is cheaper for
 * the usual case of shrinking a frame: per output row one contiguous blend of
 * two source rows (bytes -> floats, 4 lanes at a time with GCC/Clang vector
 * extensions, which compile to SSE2/NEON), then one gather per output sample
 * from that float row. Only the source rows and columns the output needs are
 * touched. YUV frames are resampled per plane (chroma at chroma resolution)
 * and converted to RGB once per output pixel, 4 pixels at a time. */

typedef float v4f __attribute__ ((vector_size (16)));
typedef gint32 v4i __attribute__ ((vector_size (16)));
typedef guint8 v16u8 __attribute__ ((vector_size (16)));
typedef guint16 v8u16 __attribute__ ((vector_size (16)));

static inline v4f
v4f_splat (gfloat x)
{
  return (v4f) { x, x, x, x };
}

#if !defined (__SSE2__)
/* 16 bytes -> 4 x 4 floats, with byte/word interleaves against zero that
 * compilers turn into punpck{l,h}{bw,wd} + cvtdq2ps (SSE2) or their NEON
 * equivalents. */
static inline void
load_u8x16 (const guint8 * p, v4f * o0, v4f * o1, v4f * o2, v4f * o3)
{
  const v16u8 z8 = { 0 };
  const v8u16 z16 = { 0 };
  v16u8 b;
  memcpy (&b, p, sizeof b);
  v8u16 lo = (v8u16) __builtin_shuffle (b, z8,
      (v16u8) { 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23 });
  v8u16 hi = (v8u16) __builtin_shuffle (b, z8,
      (v16u8) { 8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31 });
  const v8u16 m_lo = { 0, 8, 1, 9, 2, 10, 3, 11 };
  const v8u16 m_hi = { 4, 12, 5, 13, 6, 14, 7, 15 };
  *o0 = __builtin_convertvector ((v4i) __builtin_shuffle (lo, z16, m_lo), v4f);
  *o1 = __builtin_convertvector ((v4i) __builtin_shuffle (lo, z16, m_hi), v4f);
  *o2 = __builtin_convertvector ((v4i) __builtin_shuffle (hi, z16, m_lo), v4f);
  *o3 = __builtin_convertvector ((v4i) __builtin_shuffle (hi, z16, m_hi), v4f);
}
#endif

static inline v4f
load_f4 (const gfloat * p)
{
  v4f v;
  memcpy (&v, p, sizeof v);
  return v;
}

static inline void
store_f4 (gfloat * p, v4f v)
{
  memcpy (p, &v, sizeof v);
}

/* min (max (v, 0), 1) with compares and masks (vector ?: is C++ only) */
static inline v4f
clamp01_f4 (v4f v)
{
  v4i pos = (v4i) (v > v4f_splat (0.0f));
  v4i lt1 = (v4i) (v < v4f_splat (1.0f));
  v4i one = (v4i) v4f_splat (1.0f);
  v4i x = (v4i) v & pos;
  return (v4f) ((x & lt1) | (one & ~lt1));
}

/* One axis: output i samples source coordinate s_i (darknet's resize_image:
 * i * (n_src - 1) / (n_dst - 1), corners aligned) between source samples
 * idx[i] and idx[i] + 1 with weight w[i] on the second; idx is kept at most
 * n_src - 2 so idx + 1 always exists (w = 1 then reaches the last sample). */
typedef struct {
  gint *idx;
  gfloat *w;
  gint lo, hi;                  /* first and last source sample used */
  gint next;                    /* 1, or 0 for a single source sample */
} Axis;

static void
axis_set (Axis * a, gint i, gdouble s, gint n_src)
{
  gint i0 = (gint) s;
  if (n_src < 2) {
    a->idx[i] = 0;
    a->w[i] = 0.0f;
    return;
  }
  if (i0 > n_src - 2)
    i0 = n_src - 2;
  gdouble w = s - i0;
  a->idx[i] = i0;
  a->w[i] = (gfloat) CLAMP (w, 0.0, 1.0);
}

static void
axis_init (Axis * a, gint n_dst)
{
  a->idx = g_new (gint, MAX (n_dst, 1));
  a->w = g_new (gfloat, MAX (n_dst, 1));
}

static void
axis_finish (Axis * a, gint n_dst, gint n_used, gint n_total)
{
  a->next = n_used > 1 ? 1 : 0;
  a->lo = a->idx[0];
  a->hi = MIN (a->idx[n_dst - 1] + a->next, n_total - 1);
}

static void
axis_clear (Axis * a)
{
  g_free (a->idx);
  g_free (a->w);
}

/* Luma (or RGB) axis over source samples src_off .. src_off + n_src - 1;
 * indices are absolute. */
static void
make_axis (Axis * a, gint src_off, gint n_src, gint n_dst)
{
  gdouble scale = n_dst > 1 ? (gdouble) (n_src - 1) / (n_dst - 1) : 0.0;
  axis_init (a, n_dst);
  for (gint i = 0; i < n_dst; i++) {
    axis_set (a, i, i * scale, n_src);
    a->idx[i] += src_off;
  }
  axis_finish (a, n_dst, n_src, src_off + n_src);
}

/* Chroma axis of a 2x subsampled plane: luma coordinate s maps to chroma
 * (s + 0.5) / 2 - 0.5 (MPEG-2/JPEG centre siting is close enough here),
 * clamped to the plane. */
static void
make_chroma_axis (Axis * a, gint src_off, gint n_src, gint n_dst, gint n_chroma)
{
  gdouble scale = n_dst > 1 ? (gdouble) (n_src - 1) / (n_dst - 1) : 0.0;
  axis_init (a, n_dst);
  for (gint i = 0; i < n_dst; i++) {
    gdouble c = (src_off + i * scale + 0.5) / 2.0 - 0.5;
    axis_set (a, i, CLAMP (c, 0.0, (gdouble) (n_chroma - 1)), n_chroma);
  }
  axis_finish (a, n_dst, n_chroma, n_chroma);
}

/* dst[k] = (r0[k] * (1 - w) + r1[k] * w) * scale for k < n: the vertical
 * pass over the bytes of one row (all channels, interleaved as in the frame).
 *
 * On SSE2 the weights are 15-bit integers (w1 = round (w * 32767),
 * w0 = 32767 - w1) and each pair r0[k], r1[k] costs one lane of pmaddwd,
 * exact in 32 bits; converting the sum to float and scaling by
 * scale / 32767 differs from the float blend by at most 255 * 0.5 / 32767
 * * scale, i.e. 1.5e-5 for scale 1/255 -- inside the 1e-4 to libdarknet that
 * the tests assert. Elsewhere the blend is done in floats, 16 bytes at a time
 * with vector extensions. */
#if defined (__SSE2__)
static void
blend_rows (const guint8 * r0, const guint8 * r1, gint n, gfloat w,
    gfloat scale, gfloat * dst)
{
  gint w1 = (gint) lrintf (w * 32767.0f);
  gint w0 = 32767 - w1;
  const __m128i wv = _mm_set1_epi32 ((gint32) ((guint32) w1 << 16 | (guint32) w0));
  const __m128i z = _mm_setzero_si128 ();
  const __m128 sv = _mm_set1_ps (scale / 32767.0f);
  gint k = 0;
  for (; k + 16 <= n; k += 16) {
    __m128i a = _mm_loadu_si128 ((const __m128i *) (r0 + k));
    __m128i b = _mm_loadu_si128 ((const __m128i *) (r1 + k));
    __m128i lo = _mm_unpacklo_epi8 (a, b), hi = _mm_unpackhi_epi8 (a, b);
    __m128i p0 = _mm_unpacklo_epi8 (lo, z), p1 = _mm_unpackhi_epi8 (lo, z);
    __m128i p2 = _mm_unpacklo_epi8 (hi, z), p3 = _mm_unpackhi_epi8 (hi, z);
    _mm_storeu_ps (dst + k, _mm_mul_ps (_mm_cvtepi32_ps (_mm_madd_epi16 (p0, wv)), sv));
    _mm_storeu_ps (dst + k + 4, _mm_mul_ps (_mm_cvtepi32_ps (_mm_madd_epi16 (p1, wv)), sv));
    _mm_storeu_ps (dst + k + 8, _mm_mul_ps (_mm_cvtepi32_ps (_mm_madd_epi16 (p2, wv)), sv));
    _mm_storeu_ps (dst + k + 12, _mm_mul_ps (_mm_cvtepi32_ps (_mm_madd_epi16 (p3, wv)), sv));
  }
  gfloat s = scale / 32767.0f;
  for (; k < n; k++)
    dst[k] = (gfloat) (r0[k] * w0 + r1[k] * w1) * s;
}
#else
static void
blend_rows (const guint8 * r0, const guint8 * r1, gint n, gfloat w,
    gfloat scale, gfloat * dst)
{
  gfloat a = (1.0f - w) * scale, b = w * scale;
  v4f va = v4f_splat (a), vb = v4f_splat (b);
  gint k = 0;
  for (; k + 16 <= n; k += 16) {
    v4f a0, a1, a2, a3, b0, b1, b2, b3;
    load_u8x16 (r0 + k, &a0, &a1, &a2, &a3);
    load_u8x16 (r1 + k, &b0, &b1, &b2, &b3);
    store_f4 (dst + k, a0 * va + b0 * vb);
    store_f4 (dst + k + 4, a1 * va + b1 * vb);
    store_f4 (dst + k + 8, a2 * va + b2 * vb);
    store_f4 (dst + k + 12, a3 * va + b3 * vb);
  }
  for (; k < n; k++)
    dst[k] = r0[k] * a + r1[k] * b;
}
#endif

/* The horizontal pass for one channel: out[i] = lerp of row[idx[i] * step]
 * and row[idx[i] * step + step] (idx relative to the row start). */
static inline void
gather1 (const gfloat * row, const gint * idx, const gfloat * w, gint n,
    gint step, gfloat * out)
{
  for (gint i = 0; i < n; i++) {
    const gfloat *p = row + idx[i];
    gfloat t0 = p[0], t1 = p[step];
    out[i] = t0 + (t1 - t0) * w[i];
  }
}

/* Two channels sharing the taps (U and V). */
static inline void
gather2 (const gfloat * row_a, const gfloat * row_b, const gint * idx,
    const gfloat * w, gint n, gint step, gfloat * out_a, gfloat * out_b)
{
  for (gint i = 0; i < n; i++) {
    gint o = idx[i];
    gfloat wi = w[i];
    gfloat a0 = row_a[o], a1 = row_a[o + step];
    gfloat b0 = row_b[o], b1 = row_b[o + step];
    out_a[i] = a0 + (a1 - a0) * wi;
    out_b[i] = b0 + (b1 - b0) * wi;
  }
}

/* Three channels of a packed RGB row. */
static inline void
gather3 (const gfloat * row, const gint * idx, const gfloat * w, gint n,
    gint step, gint ro, gint go, gint bo, gfloat * R, gfloat * G, gfloat * B)
{
  for (gint i = 0; i < n; i++) {
    const gfloat *p = row + idx[i];
    gfloat wi = w[i];
    gfloat r0 = p[ro], r1 = p[ro + step];
    gfloat g0 = p[go], g1 = p[go + step];
    gfloat b0 = p[bo], b1 = p[bo + step];
    R[i] = r0 + (r1 - r0) * wi;
    G[i] = g0 + (g1 - g0) * wi;
    B[i] = b0 + (b1 - b0) * wi;
  }
}

/* idx[i] -> (idx[i] - lo) * step: offsets into a row blended from lo on */
static gint *
row_offsets (const Axis * a, gint n, gint step)
{
  gint *o = g_new (gint, MAX (n, 1));
  for (gint i = 0; i < n; i++)
    o[i] = (a->idx[i] - a->lo) * step;
  return o;
}

static inline gint
next_row (const Axis * a, gint j)
{
  return a->idx[j] + a->next;
}

typedef struct {
  gfloat y_off, c_off;          /* offsets in units of the scaled samples */
  gfloat y_mul, c_mul;          /* 1 / scale, applied in the vertical pass */
  gfloat kr, kb;
  gfloat r_v, g_u, g_v, b_u;    /* R = Y + r_v Pr, G = Y - g_u Pb - g_v Pr, B = Y + b_u Pb */
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
  gdouble kg = 1.0 - kr - kb;
  k->y_mul = 1.0 / scale[0];
  k->c_mul = 1.0 / scale[1];
  k->y_off = off[0] * k->y_mul;
  k->c_off = off[1] * k->c_mul;
  k->kr = kr;
  k->kb = kb;
  k->r_v = 2.0 * (1.0 - kr);
  k->b_u = 2.0 * (1.0 - kb);
  k->g_u = kb * 2.0 * (1.0 - kb) / kg;
  k->g_v = kr * 2.0 * (1.0 - kr) / kg;
}

/* One output row from resampled (scaled, not yet offset) Y, U, V rows. */
static void
yuv_row_to_rgb (const YuvCoef * k, const gfloat * Y, const gfloat * U,
    const gfloat * V, gint n, gfloat * R, gfloat * G, gfloat * B)
{
  v4f yo = v4f_splat (k->y_off), co = v4f_splat (k->c_off);
  v4f rv = v4f_splat (k->r_v), gu = v4f_splat (k->g_u);
  v4f gv = v4f_splat (k->g_v), bu = v4f_splat (k->b_u);
  gint i = 0;
  for (; i + 4 <= n; i += 4) {
    v4f y = load_f4 (Y + i) - yo;
    v4f pb = load_f4 (U + i) - co;
    v4f pr = load_f4 (V + i) - co;
    store_f4 (R + i, clamp01_f4 (y + rv * pr));
    store_f4 (G + i, clamp01_f4 (y - gu * pb - gv * pr));
    store_f4 (B + i, clamp01_f4 (y + bu * pb));
  }
  for (; i < n; i++) {
    gfloat y = Y[i] - k->y_off, pb = U[i] - k->c_off, pr = V[i] - k->c_off;
    R[i] = CLAMP (y + k->r_v * pr, 0.0f, 1.0f);
    G[i] = CLAMP (y - k->g_u * pb - k->g_v * pr, 0.0f, 1.0f);
    B[i] = CLAMP (y + k->b_u * pb, 0.0f, 1.0f);
  }
}

static void
sample_yuv (const GstVideoFrame * frame, const YoloRect * src, gint img_w,
    gint img_h, gfloat * R, gfloat * G, gfloat * B, gint net_w)
{
  GstVideoFormat fmt = GST_VIDEO_FRAME_FORMAT (frame);
  gboolean nv12 = fmt == GST_VIDEO_FORMAT_NV12;
  YuvCoef k;
  yuv_coef (&frame->info, &k);
  gint cw = GST_VIDEO_FRAME_COMP_WIDTH (frame, 1);
  gint ch = GST_VIDEO_FRAME_COMP_HEIGHT (frame, 1);
  Axis tx, ty, cx, cy;
  make_axis (&tx, src->x, src->w, img_w);
  make_axis (&ty, src->y, src->h, img_h);
  make_chroma_axis (&cx, src->x, src->w, img_w, cw);
  make_chroma_axis (&cy, src->y, src->h, img_h, ch);
  gint cstep = nv12 ? 2 : 1;
  gint *xo = row_offsets (&tx, img_w, 1);
  gint *co = row_offsets (&cx, img_w, cstep);
  gint yn = tx.hi - tx.lo + 1, cn = (cx.hi - cx.lo + 1) * cstep;
  /* work rows: blended Y, U, V (NV12: interleaved UV), resampled Y, U, V */
  gfloat *ty_row = g_new (gfloat, yn + 2 * cn + 3 * img_w);
  gfloat *tu_row = ty_row + yn, *tv_row = tu_row + cn;
  gfloat *Yr = tv_row + cn, *Ur = Yr + img_w, *Vr = Ur + img_w;
  const guint8 *yp = GST_VIDEO_FRAME_PLANE_DATA (frame, 0);
  gint ys = GST_VIDEO_FRAME_PLANE_STRIDE (frame, 0);
  const guint8 *up = GST_VIDEO_FRAME_PLANE_DATA (frame, 1);
  gint us = GST_VIDEO_FRAME_PLANE_STRIDE (frame, 1);
  const guint8 *vp = nv12 ? NULL : GST_VIDEO_FRAME_PLANE_DATA (frame, 2);
  gint vs = nv12 ? 0 : GST_VIDEO_FRAME_PLANE_STRIDE (frame, 2);

  for (gint j = 0; j < img_h; j++) {
    gsize yoff = (gsize) tx.lo, coff = (gsize) cx.lo * cstep;
    gint y0 = ty.idx[j], y1 = next_row (&ty, j);
    gint c0 = cy.idx[j], c1 = next_row (&cy, j);
    gfloat wy = ty.w[j], wc = cy.w[j];
    blend_rows (yp + (gsize) y0 * ys + yoff, yp + (gsize) y1 * ys + yoff, yn,
        wy, k.y_mul, ty_row);
    blend_rows (up + (gsize) c0 * us + coff, up + (gsize) c1 * us + coff, cn,
        wc, k.c_mul, tu_row);
    if (!nv12)
      blend_rows (vp + (gsize) c0 * vs + coff, vp + (gsize) c1 * vs + coff, cn,
          wc, k.c_mul, tv_row);
    gather1 (ty_row, xo, tx.w, img_w, tx.next, Yr);
    if (nv12)
      gather2 (tu_row, tu_row + 1, co, cx.w, img_w, 2 * cx.next, Ur, Vr);
    else
      gather2 (tu_row, tv_row, co, cx.w, img_w, cx.next, Ur, Vr);
    gsize o = (gsize) j * net_w;
    yuv_row_to_rgb (&k, Yr, Ur, Vr, img_w, R + o, G + o, B + o);
  }
  g_free (ty_row);
  g_free (xo);
  g_free (co);
  axis_clear (&tx);
  axis_clear (&ty);
  axis_clear (&cx);
  axis_clear (&cy);
}

static void
sample_packed (const GstVideoFrame * frame, const YoloRect * src, gint img_w,
    gint img_h, gfloat * R, gfloat * G, gfloat * B, gint net_w)
{
  gint ps = GST_VIDEO_FRAME_COMP_PSTRIDE (frame, 0);
  gint ro = GST_VIDEO_FRAME_COMP_OFFSET (frame, GST_VIDEO_COMP_R);
  gint go = GST_VIDEO_FRAME_COMP_OFFSET (frame, GST_VIDEO_COMP_G);
  gint bo = GST_VIDEO_FRAME_COMP_OFFSET (frame, GST_VIDEO_COMP_B);
  const guint8 *p = GST_VIDEO_FRAME_PLANE_DATA (frame, 0);
  gint stride = GST_VIDEO_FRAME_PLANE_STRIDE (frame, 0);
  const gfloat inv = 1.0f / 255.0f;
  Axis tx, ty;
  make_axis (&tx, src->x, src->w, img_w);
  make_axis (&ty, src->y, src->h, img_h);
  gint *xo = row_offsets (&tx, img_w, ps);
  gint n = (tx.hi - tx.lo + 1) * ps;
  gint step = tx.next * ps;
  gfloat *row = g_new (gfloat, n);
  gsize xoff = (gsize) tx.lo * ps;

  for (gint j = 0; j < img_h; j++) {
    gint y0 = ty.idx[j], y1 = next_row (&ty, j);
    gfloat wy = ty.w[j];
    blend_rows (p + (gsize) y0 * stride + xoff, p + (gsize) y1 * stride + xoff, n,
        wy, inv, row);
    gsize o = (gsize) j * net_w;
    gather3 (row, xo, tx.w, img_w, step, ro, go, bo, R + o, G + o, B + o);
  }
  g_free (row);
  g_free (xo);
  axis_clear (&tx);
  axis_clear (&ty);
}

/* Sample @src of @frame into the img_w x img_h image at (ox, oy) of the
 * planar out tensor (net_w x net_h). */
static void
sample_into (const GstVideoFrame * frame, const YoloRect * src, gint img_w,
    gint img_h, gint ox, gint oy, gint net_w, gint net_h, gfloat * out)
{
  GstVideoFormat fmt = GST_VIDEO_FRAME_FORMAT (frame);
  gsize plane = (gsize) net_w * net_h, at = (gsize) oy * net_w + ox;
  gfloat *R = out + at, *G = out + plane + at, *B = out + 2 * plane + at;

  if (fmt == GST_VIDEO_FORMAT_I420 || fmt == GST_VIDEO_FORMAT_NV12)
    sample_yuv (frame, src, img_w, img_h, R, G, B, net_w);
  else
    sample_packed (frame, src, img_w, img_h, R, G, B, net_w);
}

/* Letterbox padding (0.5) around the img_w x img_h image at (ox, oy). */
static void
fill_padding (gfloat * out, gint net_w, gint net_h, gint img_w, gint img_h,
    gint ox, gint oy)
{
  for (gint c = 0; c < 3; c++) {
    gfloat *pl = out + (gsize) c * net_w * net_h;
    for (gint j = 0; j < net_h; j++) {
      gfloat *row = pl + (gsize) j * net_w;
      if (j < oy || j >= oy + img_h) {
        for (gint i = 0; i < net_w; i++)
          row[i] = 0.5f;
        continue;
      }
      for (gint i = 0; i < ox; i++)
        row[i] = 0.5f;
      for (gint i = ox + img_w; i < net_w; i++)
        row[i] = 0.5f;
    }
  }
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
    if (img_w != net_w || img_h != net_h)
      fill_padding (out, net_w, net_h, img_w, img_h, ox, oy);
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
