/* Per-frame CPU cost of motiondetect vs gst-plugins-bad motioncells vs H.264 decoding
 * of the same frames, measured in one process and one run.
 *
 *   bench_motiondetect [--frames N] [--runs R] [--sizes 768x576,1280x720,1920x1080]
 *
 * Frames are drawn in C (textured static background, two moving squares, sensor
 * noise), kept in memory as I420 (and RGB for motioncells, which takes only RGB;
 * the conversion is done beforehand and not timed), and encoded once with x264enc
 * (veryfast, no B-frames, ~camera bitrate) for the decode figure.
 *
 * Each element runs in a GstHarness; only gst_harness_push() (the element's chain
 * function, synchronous) is timed with CLOCK_PROCESS_CPUTIME_ID, so the figure is CPU
 * time, not wall time. The same loop through `identity` gives the harness overhead,
 * which is subtracted. avdec_h264 runs with max-threads=1 so its decode work happens
 * in the timed thread. Each run re-creates the element (fresh state); the figure is
 * the median over runs of the per-frame mean.
 *
 * Output: a Markdown table on stdout.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <gst/gst.h>
#include <gst/check/gstharness.h>
#include <gst/video/video.h>

static gdouble
cpu_now (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_PROCESS_CPUTIME_ID, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int
cmp_double (const void *a, const void *b)
{
  gdouble x = *(const gdouble *) a, y = *(const gdouble *) b;
  return x < y ? -1 : x > y;
}

static gdouble
median (gdouble * v, guint n)
{
  qsort (v, n, sizeof (gdouble), cmp_double);
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/* Draw @n I420 frames of @w x @h. */
static GPtrArray *
make_frames (gint w, gint h, guint n, GstCaps ** caps)
{
  GPtrArray *frames = g_ptr_array_new_with_free_func ((GDestroyNotify) gst_buffer_unref);
  GstVideoInfo info;
  guint8 *noise;
  guint nn = 1 << 20, i;
  GRand *rnd = g_rand_new_with_seed (42);
  guint8 *bgp = g_malloc ((gsize) w * h);
  gint x, y;

  gst_video_info_set_format (&info, GST_VIDEO_FORMAT_I420, w, h);
  GST_VIDEO_INFO_FPS_N (&info) = 25;
  GST_VIDEO_INFO_FPS_D (&info) = 1;
  *caps = gst_video_info_to_caps (&info);
  /* noise table: approx. Gaussian, sigma ~2 grey levels (sum of 4 uniforms) */
  noise = g_malloc (nn);
  for (i = 0; i < nn; i++) {
    gint s = 0, k;
    for (k = 0; k < 4; k++)
      s += g_rand_int_range (rnd, -3, 4);
    noise[i] = (guint8) (s + 8);
  }
  for (y = 0; y < h; y++)
    for (x = 0; x < w; x++) {
      gdouble nx = (gdouble) x / w, ny = (gdouble) y / h;
      gdouble g = 110 + 45 * sin (nx * 31) * cos (ny * 17) + 25 * sin ((nx + 2 * ny) * 97)
          + 15 * ((x / 8 + y / 8) % 2);
      bgp[y * w + x] = (guint8) CLAMP (g, 16, 235);
    }

  for (i = 0; i < n; i++) {
    GstBuffer *buf = gst_buffer_new_allocate (NULL, info.size, NULL);
    GstVideoFrame f;
    gint sq = h / 6, ax = (gint) ((i * 7) % (w - sq)), ay = h / 3;
    gint bx = w - sq - (gint) ((i * 4) % (w - sq)), by = h / 2 + h / 8;
    guint off = g_rand_int_range (rnd, 0, nn - w - 1);

    gst_video_frame_map (&f, &info, buf, GST_MAP_WRITE);
    for (y = 0; y < h; y++) {
      guint8 *row = GST_VIDEO_FRAME_PLANE_DATA (&f, 0) + y * GST_VIDEO_FRAME_PLANE_STRIDE (&f, 0);
      const guint8 *nz = noise + ((off + (guint) y * 7919u) % (nn - w));
      for (x = 0; x < w; x++) {
        gint v = bgp[y * w + x];
        if (x >= ax && x < ax + sq && y >= ay && y < ay + sq)
          v = 220;
        else if (x >= bx && x < bx + sq && y >= by && y < by + sq)
          v = 40;
        v += nz[x] - 8;
        row[x] = (guint8) CLAMP (v, 16, 235);
      }
    }
    for (y = 0; y < h / 2; y++) {
      memset (GST_VIDEO_FRAME_PLANE_DATA (&f, 1) + y * GST_VIDEO_FRAME_PLANE_STRIDE (&f, 1),
          128, w / 2);
      memset (GST_VIDEO_FRAME_PLANE_DATA (&f, 2) + y * GST_VIDEO_FRAME_PLANE_STRIDE (&f, 2),
          128, w / 2);
    }
    gst_video_frame_unmap (&f);
    GST_BUFFER_PTS (buf) = gst_util_uint64_scale (i, GST_SECOND, 25);
    GST_BUFFER_DURATION (buf) = GST_SECOND / 25;
    g_ptr_array_add (frames, buf);
  }
  g_free (noise);
  g_free (bgp);
  g_rand_free (rnd);
  return frames;
}

/* Pass @in through a parse-launch bin in a harness, collect all output buffers. */
static GPtrArray *
transcode (const gchar * desc, GstCaps * caps, GPtrArray * in, GstCaps ** out_caps)
{
  GstHarness *h = gst_harness_new_parse (desc);
  GPtrArray *out = g_ptr_array_new_with_free_func ((GDestroyNotify) gst_buffer_unref);
  GstBuffer *b;
  guint i;

  gst_harness_set_src_caps (h, gst_caps_ref (caps));
  for (i = 0; i < in->len; i++) {
    gst_harness_push (h, gst_buffer_ref (g_ptr_array_index (in, i)));
    while ((b = gst_harness_try_pull (h)))
      g_ptr_array_add (out, b);
  }
  gst_harness_push_event (h, gst_event_new_eos ());
  while ((b = gst_harness_try_pull (h)))
    g_ptr_array_add (out, b);
  *out_caps = gst_pad_get_current_caps (h->sinkpad);
  gst_harness_teardown (h);
  return out;
}

/* CPU seconds per input buffer for pushing @in through @desc (timed pushes only). */
static gdouble
time_element (const gchar * desc, GstCaps * caps, GPtrArray * in, gboolean eos)
{
  GstHarness *h = gst_harness_new_parse (desc);
  GstBuffer *b;
  gdouble t = 0, t0;
  guint i;

  gst_harness_set_src_caps (h, gst_caps_ref (caps));
  for (i = 0; i < in->len; i++) {
    GstBuffer *buf = gst_buffer_ref (g_ptr_array_index (in, i));
    t0 = cpu_now ();
    if (gst_harness_push (h, buf) != GST_FLOW_OK)
      g_error ("%s: push failed", desc);
    t += cpu_now () - t0;
    while ((b = gst_harness_try_pull (h)))
      gst_buffer_unref (b);
  }
  if (eos) {
    t0 = cpu_now ();
    gst_harness_push_event (h, gst_event_new_eos ());
    t += cpu_now () - t0;
  }
  while ((b = gst_harness_try_pull (h)))
    gst_buffer_unref (b);
  gst_harness_teardown (h);
  return t / in->len;
}

int
main (int argc, char **argv)
{
  gint frames_n = 150, runs = 5;
  gchar *sizes = g_strdup ("768x576,1280x720,1920x1080");
  GOptionEntry entries[] = {
    {"frames", 0, 0, G_OPTION_ARG_INT, &frames_n, "Frames per run", "N"},
    {"runs", 0, 0, G_OPTION_ARG_INT, &runs, "Runs (median is reported)", "R"},
    {"sizes", 0, 0, G_OPTION_ARG_STRING, &sizes, "Comma-separated WxH list", "LIST"},
    {NULL}
  };
  GOptionContext *ctx = g_option_context_new ("- motiondetect CPU benchmark");
  GError *err = NULL;
  gchar **sz, **s;
  const gchar *needed[] = { "motiondetect", "motioncells", "x264enc", "avdec_h264",
    "h264parse", "videoconvert", "identity"
  };
  guint k;

  g_option_context_add_main_entries (ctx, entries, NULL);
  g_option_context_add_group (ctx, gst_init_get_option_group ());
  if (!g_option_context_parse (ctx, &argc, &argv, &err)) {
    g_printerr ("%s\n", err->message);
    return 2;
  }
  for (k = 0; k < G_N_ELEMENTS (needed); k++) {
    GstElementFactory *f = gst_element_factory_find (needed[k]);
    if (!f) {
      g_printerr ("CANNOT RUN: element %s not found\n", needed[k]);
      return 1;
    }
    gst_object_unref (f);
  }

  g_print ("| Size | motiondetect ms/frame | motiondetect downscale-rows=0 ms/frame | "
      "motioncells ms/frame | H.264 decode ms/frame | motioncells / motiondetect | "
      "motiondetect / decode |\n");
  g_print ("|---|---|---|---|---|---|---|\n");
  sz = g_strsplit (sizes, ",", -1);
  for (s = sz; *s; s++) {
    gint w = 0, h = 0, r;
    GstCaps *caps, *rgb_caps, *h264_caps;
    GPtrArray *i420, *rgb, *h264;
    gdouble *md = g_new (gdouble, runs), *md0 = g_new (gdouble, runs);
    gdouble *mc = g_new (gdouble, runs), *dec = g_new (gdouble, runs);
    gdouble *idn = g_new (gdouble, runs), *idr = g_new (gdouble, runs);
    gdouble m_md, m_md0, m_mc, m_dec, m_id, m_idr;
    gchar *enc;
    guint64 bytes = 0;
    guint j;

    if (sscanf (*s, "%dx%d", &w, &h) != 2 || w < 64 || h < 64) {
      g_printerr ("bad size %s\n", *s);
      return 2;
    }
    i420 = make_frames (w, h, frames_n, &caps);
    rgb = transcode ("videoconvert ! capsfilter caps=video/x-raw,format=RGB", caps, i420, &rgb_caps);
    enc = g_strdup_printf ("x264enc speed-preset=veryfast bframes=0 key-int-max=50 "
        "bitrate=%d ! capsfilter caps=\"video/x-h264,stream-format=byte-stream,"
        "alignment=au,profile=main\"",
        w * h * 2 / 1000);      /* ~4 Mbit/s at 1080p, like a camera */
    h264 = transcode (enc, caps, i420, &h264_caps);
    g_free (enc);
    for (j = 0; j < h264->len; j++)
      bytes += gst_buffer_get_size (g_ptr_array_index (h264, j));
    if (rgb->len != i420->len || h264->len != i420->len) {
      g_printerr ("conversion lost frames (%u rgb, %u h264 of %u)\n", rgb->len, h264->len,
          i420->len);
      return 1;
    }
    g_printerr ("%dx%d: %u frames, H.264 %.0f kbit/s\n", w, h, i420->len,
        bytes * 8.0 / 1000 / (i420->len / 25.0));

    for (r = 0; r < runs; r++) {
      idn[r] = time_element ("identity", caps, i420, FALSE);
      idr[r] = time_element ("identity", rgb_caps, rgb, FALSE);
      md[r] = time_element ("motiondetect", caps, i420, FALSE);
      md0[r] = time_element ("motiondetect downscale-rows=0", caps, i420, FALSE);
      mc[r] = time_element ("motioncells", rgb_caps, rgb, FALSE);
      dec[r] = time_element ("h264parse ! avdec_h264 max-threads=1", h264_caps, h264, TRUE);
      g_printerr ("  run %d: identity %.4f, motiondetect %.4f, rows=0 %.4f, motioncells "
          "%.3f, decode %.3f ms/frame\n", r, idn[r] * 1e3, md[r] * 1e3, md0[r] * 1e3,
          mc[r] * 1e3, dec[r] * 1e3);
    }
    m_id = median (idn, runs);
    m_idr = median (idr, runs);
    m_md = MAX (median (md, runs) - m_id, 1e-9);
    m_md0 = MAX (median (md0, runs) - m_id, 1e-9);
    m_mc = MAX (median (mc, runs) - m_idr, 1e-9);
    m_dec = MAX (median (dec, runs) - m_id, 1e-9);
    g_print ("| %dx%d | %.3f | %.3f | %.3f | %.3f | %.1fx | %.1f %% |\n", w, h,
        m_md * 1e3, m_md0 * 1e3, m_mc * 1e3, m_dec * 1e3, m_mc / m_md,
        100.0 * m_md / m_dec);

    g_free (md);
    g_free (md0);
    g_free (mc);
    g_free (dec);
    g_free (idn);
    g_free (idr);
    g_ptr_array_unref (i420);
    g_ptr_array_unref (rgb);
    g_ptr_array_unref (h264);
    gst_caps_unref (caps);
    gst_caps_unref (rgb_caps);
    gst_caps_unref (h264_caps);
  }
  g_strfreev (sz);
  g_free (sizes);
  g_option_context_free (ctx);
  return 0;
}
