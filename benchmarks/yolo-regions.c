/* yolo-regions-bench: roi-mode=motion against whole-frame inference on the
 * same scenario clips, in the same process.
 *
 * Each clip is made here, frame by frame, from darknet's sample images
 * (/usr/share/darknet/data): a still background (sky, ground, two buildings,
 * as pipelines/edgefaas-makeclip draws it), EMPTY_FRAMES frames with nothing,
 * then N pictures (person, dog, horses, giraffe, eagle) pasted at a given
 * height that slide across the frame. Both arms run the same pipeline on the
 * same frames:
 *
 *   appsrc (RGB) ! motiondetect ! yolov4infer roi-mode=frame|motion
 *       config/weights/labels = Yolo-Fastest 1.1 (../shared/models) ! appsink
 *
 * Ground truth: before the clips, each picture alone is run through
 * yolov4infer (whole picture) and its most confident box of the picture's
 * label (person, dog, horse, giraffe, bird) is the object; pasted, that box is
 * scaled and moved with the picture. A truth object in a frame is found when a
 * detection of its label has IoU >= 0.3 with it; further such detections are
 * duplicates.
 *
 * Figures per clip and arm: network inputs (the element's network-inputs
 * stat; every input has the network's size, so inputs x input size is the
 * forward cost), the element's own inference + preprocessing time, process
 * CPU time, recall against the truth, how many of the objects whole-frame
 * inference found motion mode found too, duplicates.
 *
 *   yolo-regions-bench --shared ../shared [--frames N] [--clips a,b]
 *
 * Prints one TSV line per clip and arm:
 *   CLIP id WxH objects height arm inputs element_ms cpu_ms truth found dups
 *        found_by_whole_too region_frames whole_fallbacks
 */
#include <gst/app/gstappsink.h>
#include <gst/app/gstappsrc.h>
#include <gst/gst.h>
#include <gst/video/video.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define EMPTY_FRAMES 5
#define IOU_FOUND 0.3

typedef struct {
  const gchar *file, *label;
} Picture;

static const Picture pictures[] = {
  {"person.jpg", "person"}, {"dog.jpg", "dog"}, {"horses.jpg", "horse"},
  {"giraffe.jpg", "giraffe"}, {"eagle.jpg", "bird"},
};

typedef struct {
  const gchar *id;
  gint w, h;
  guint n_objects;
  gdouble height;               /* picture height / frame height */
} Clip;

static const Clip clips[] = {
  {"one-large-640x360", 640, 360, 1, 0.75},
  {"one-small-640x360", 640, 360, 1, 0.3},
  {"one-small-1280x720", 1280, 720, 1, 0.2},
  {"one-small-1920x1080", 1920, 1080, 1, 0.18},
  {"one-large-1920x1080", 1920, 1080, 1, 0.6},
  {"three-640x360", 640, 360, 3, 0.4},
  {"three-1280x720", 1280, 720, 3, 0.3},
  {"three-walkers-1920x1080", 1920, 1080, 3, 0.35},
  {"ten-small-1920x1080", 1920, 1080, 10, 0.14},
  {"ten-1280x720", 1280, 720, 10, 0.2},
};

typedef struct {
  gdouble x0, y0, x1, y1;       /* pixels */
} Box;

typedef struct {
  guint8 *rgb;
  gint w, h;
  Box object;                   /* the labelled object, picture pixels */
} Image;

static gchar *models_dir;

static gchar *
model_props (void)
{
  return g_strdup_printf ("config=%s/yolo-fastest-1.1-coco/yolo-fastest-1.1.cfg "
      "weights=%s/yolo-fastest-1.1-coco/yolo-fastest-1.1.weights "
      "labels=%s/yolo-fastest-1.1-coco/coco.names", models_dir, models_dir, models_dir);
}

static gboolean
load_picture (const gchar * path, gint w, gint h, Image * img)
{
  gchar *desc = g_strdup_printf ("filesrc location=\"%s\" ! jpegdec ! videoconvert ! "
      "videoscale ! video/x-raw,format=RGB,width=%d,height=%d,pixel-aspect-ratio=1/1 ! "
      "appsink name=out sync=false", path, w, h);
  GstElement *p = gst_parse_launch (desc, NULL);
  g_free (desc);
  if (!p)
    return FALSE;
  GstElement *sink = gst_bin_get_by_name (GST_BIN (p), "out");
  gst_element_set_state (p, GST_STATE_PLAYING);
  GstSample *s = gst_app_sink_try_pull_sample (GST_APP_SINK (sink), 20 * GST_SECOND);
  gboolean ok = FALSE;
  if (s) {
    GstVideoInfo vi;
    GstVideoFrame f;
    gst_video_info_from_caps (&vi, gst_sample_get_caps (s));
    if (gst_video_frame_map (&f, &vi, gst_sample_get_buffer (s), GST_MAP_READ)) {
      img->w = w;
      img->h = h;
      img->rgb = g_malloc ((gsize) w * h * 3);
      for (gint y = 0; y < h; y++)
        memcpy (img->rgb + (gsize) y * w * 3, (guint8 *) GST_VIDEO_FRAME_PLANE_DATA (&f, 0)
            + (gsize) y * GST_VIDEO_FRAME_PLANE_STRIDE (&f, 0), (gsize) w * 3);
      gst_video_frame_unmap (&f);
      ok = TRUE;
    }
    gst_sample_unref (s);
  }
  gst_element_set_state (p, GST_STATE_NULL);
  gst_object_unref (sink);
  gst_object_unref (p);
  return ok;
}

static void
draw_background (guint8 * rgb, gint w, gint h)
{
  for (gint y = 0; y < h; y++)
    for (gint x = 0; x < w; x++) {
      guint8 *p = rgb + ((gsize) y * w + x) * 3;
      if (y < h * 0.55) {
        p[0] = 110 + 60 * y / h;
        p[1] = 150 + 50 * y / h;
        p[2] = 200;
      } else {
        p[0] = 90;
        p[1] = 100 + 20 * (y - h * 0.55) / h;
        p[2] = 70;
      }
      if ((x > w * 0.05 && x < w * 0.2 && y > h * 0.2 && y < h * 0.55)
          || (x > w * 0.75 && x < w * 0.92 && y > h * 0.3 && y < h * 0.55)) {
        p[0] = 120;
        p[1] = 110;
        p[2] = 105;
        if (((x / 12) % 2) && ((y / 16) % 2))
          p[0] = p[1] = p[2] = 60;
      }
    }
}

static void
blit (guint8 * dst, gint w, gint h, const Image * img, gint x0, gint y0)
{
  for (gint y = 0; y < img->h; y++) {
    gint dy = y0 + y;
    if (dy < 0 || dy >= h)
      continue;
    gint xa = MAX (0, -x0), xb = MIN (img->w, w - x0);
    if (xb > xa)
      memcpy (dst + ((gsize) dy * w + x0 + xa) * 3, img->rgb + ((gsize) y * img->w + xa) * 3,
          (gsize) (xb - xa) * 3);
  }
}

static gdouble
iou (const Box * a, const Box * b)
{
  gdouble iw = MIN (a->x1, b->x1) - MAX (a->x0, b->x0);
  gdouble ih = MIN (a->y1, b->y1) - MAX (a->y0, b->y0);
  if (iw <= 0 || ih <= 0)
    return 0;
  gdouble u = (a->x1 - a->x0) * (a->y1 - a->y0) + (b->x1 - b->x0) * (b->y1 - b->y0) - iw * ih;
  return u > 0 ? iw * ih / u : 0;
}

typedef struct {
  GQuark label;
  Box box;
} Det;

/* Detections on an output buffer: its roi metas other than motion. */
static GArray *
buffer_detections (GstBuffer * buf)
{
  GArray *a = g_array_new (FALSE, FALSE, sizeof (Det));
  GQuark motion = g_quark_from_static_string ("motion");
  gpointer iter = NULL;
  GstMeta *m;
  while ((m = gst_buffer_iterate_meta_filtered (buf, &iter,
              GST_VIDEO_REGION_OF_INTEREST_META_API_TYPE))) {
    GstVideoRegionOfInterestMeta *r = (GstVideoRegionOfInterestMeta *) m;
    if (r->roi_type == motion)
      continue;
    Det d = { r->roi_type, {r->x, r->y, r->x + r->w, r->y + r->h} };
    g_array_append_val (a, d);
  }
  return a;
}

/* The picture's object: the most confident detection of its label on the
 * picture alone (whole picture, same model). */
static gboolean
find_object (const gchar * path, const gchar * label, Box * out)
{
  g_autofree gchar *props = model_props ();
  gchar *desc = g_strdup_printf ("filesrc location=\"%s\" ! jpegdec ! videoconvert ! "
      "video/x-raw,format=RGB ! yolov4infer %s threshold=0.2 ! appsink name=out sync=false",
      path, props);
  GError *err = NULL;
  GstElement *p = gst_parse_launch (desc, &err);
  g_free (desc);
  if (!p) {
    g_printerr ("yolo-regions-bench: %s\n", err->message);
    return FALSE;
  }
  GstElement *sink = gst_bin_get_by_name (GST_BIN (p), "out");
  gst_element_set_state (p, GST_STATE_PLAYING);
  GstSample *s = gst_app_sink_try_pull_sample (GST_APP_SINK (sink), 60 * GST_SECOND);
  gboolean found = FALSE;
  if (s) {
    GstBuffer *buf = gst_sample_get_buffer (s);
    gdouble best = -1;
    gpointer iter = NULL;
    GstMeta *m;
    while ((m = gst_buffer_iterate_meta_filtered (buf, &iter,
                GST_VIDEO_REGION_OF_INTEREST_META_API_TYPE))) {
      GstVideoRegionOfInterestMeta *r = (GstVideoRegionOfInterestMeta *) m;
      GstStructure *d = gst_video_region_of_interest_meta_get_param (r, "detection");
      gdouble conf = 0;
      if (!d || strcmp (g_quark_to_string (r->roi_type), label)
          || !gst_structure_get_double (d, "confidence", &conf) || conf <= best)
        continue;
      best = conf;
      *out = (Box) { r->x, r->y, r->x + r->w, r->y + r->h };
      found = TRUE;
    }
    gst_sample_unref (s);
  }
  gst_element_set_state (p, GST_STATE_NULL);
  gst_object_unref (sink);
  gst_object_unref (p);
  return found;
}

typedef struct {
  guint64 inputs, region_frames, fallbacks;
  gdouble element_ms, cpu_ms;
  guint truth, found, dups, found_by_whole, whole_found;
} Result;

typedef struct {
  const Image *img;
  gint x, y, vx;                /* top-left at the first moving frame, px/frame */
  GQuark label;
} Object;

static void
object_box (const Object * o, guint t, Box * b)
{
  gint x = o->x + o->vx * (gint) t, y = o->y;
  *b = (Box) { x + o->img->object.x0, y + o->img->object.y0, x + o->img->object.x1,
    y + o->img->object.y1 };
}

static gdouble
cpu_ms (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_PROCESS_CPUTIME_ID, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* Run one arm over the clip. @whole_found[f * n + k]: in, whether the
 * whole-frame arm found object k in frame f (NULL for that arm itself); out
 * for the whole-frame arm. */
static gboolean
run_arm (const Clip * c, const Object * objs, guint n_frames, const gchar * mode,
    gboolean * whole_found, gboolean is_whole, Result * r)
{
  g_autofree gchar *props = model_props ();
  gchar *desc = g_strdup_printf ("appsrc name=src format=time ! motiondetect ! "
      "yolov4infer name=det %s roi-mode=%s ! appsink name=out sync=false", props, mode);
  GError *err = NULL;
  GstElement *p = gst_parse_launch (desc, &err);
  g_free (desc);
  if (!p) {
    g_printerr ("yolo-regions-bench: %s\n", err->message);
    return FALSE;
  }
  GstElement *src = gst_bin_get_by_name (GST_BIN (p), "src");
  GstElement *sink = gst_bin_get_by_name (GST_BIN (p), "out");
  GstElement *det = gst_bin_get_by_name (GST_BIN (p), "det");
  GstCaps *caps = gst_caps_new_simple ("video/x-raw", "format", G_TYPE_STRING, "RGB",
      "width", G_TYPE_INT, c->w, "height", G_TYPE_INT, c->h,
      "framerate", GST_TYPE_FRACTION, 10, 1, NULL);
  g_object_set (src, "caps", caps, NULL);
  gst_caps_unref (caps);
  if (gst_element_set_state (p, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE) {
    g_printerr ("yolo-regions-bench: pipeline does not start\n");
    return FALSE;
  }
  memset (r, 0, sizeof *r);
  gsize size = (gsize) c->w * c->h * 3;
  guint8 *bg = g_malloc (size);
  draw_background (bg, c->w, c->h);
  gdouble t0 = cpu_ms ();
  gboolean ok = TRUE;
  for (guint f = 0; f < n_frames && ok; f++) {
    GstBuffer *buf = gst_buffer_new_allocate (NULL, size, NULL);
    GstMapInfo map;
    gst_buffer_map (buf, &map, GST_MAP_WRITE);
    memcpy (map.data, bg, size);
    if (f >= EMPTY_FRAMES)
      for (guint k = 0; k < c->n_objects; k++)
        blit (map.data, c->w, c->h, objs[k].img, objs[k].x + objs[k].vx * (gint) (f - EMPTY_FRAMES),
            objs[k].y);
    gst_buffer_unmap (buf, &map);
    GST_BUFFER_PTS (buf) = f * GST_SECOND / 10;
    GST_BUFFER_DURATION (buf) = GST_SECOND / 10;
    if (gst_app_src_push_buffer (GST_APP_SRC (src), buf) != GST_FLOW_OK) {
      ok = FALSE;
      break;
    }
    GstSample *s = gst_app_sink_try_pull_sample (GST_APP_SINK (sink), 120 * GST_SECOND);
    if (!s) {
      g_printerr ("yolo-regions-bench: %s %s: no output for frame %u\n", c->id, mode, f);
      ok = FALSE;
      break;
    }
    if (f >= EMPTY_FRAMES) {
      GArray *dets = buffer_detections (gst_sample_get_buffer (s));
      for (guint k = 0; k < c->n_objects; k++) {
        Box truth;
        object_box (&objs[k], f - EMPTY_FRAMES, &truth);
        if (truth.x1 <= 0 || truth.x0 >= c->w)
          continue;
        truth.x0 = MAX (truth.x0, 0);
        truth.x1 = MIN (truth.x1, c->w);
        guint hits = 0;
        for (guint i = 0; i < dets->len; i++) {
          Det *d = &g_array_index (dets, Det, i);
          hits += d->label == objs[k].label && iou (&d->box, &truth) >= IOU_FOUND;
        }
        gsize at = (gsize) f * c->n_objects + k;
        r->truth++;
        if (hits) {
          r->found++;
          r->dups += hits - 1;
        }
        if (is_whole)
          whole_found[at] = hits > 0;
        else if (whole_found[at]) {
          r->whole_found++;
          r->found_by_whole += hits > 0;
        }
      }
      g_array_unref (dets);
    }
    gst_sample_unref (s);
  }
  r->cpu_ms = cpu_ms () - t0;
  GstStructure *stats = NULL;
  g_object_get (det, "stats", &stats, NULL);
  gdouble inf = 0, pre = 0;
  gst_structure_get_uint64 (stats, "network-inputs", &r->inputs);
  gst_structure_get_uint64 (stats, "region-frames", &r->region_frames);
  gst_structure_get_uint64 (stats, "whole-frame-fallbacks", &r->fallbacks);
  gst_structure_get_double (stats, "inference-ms", &inf);
  gst_structure_get_double (stats, "preprocess-ms", &pre);
  r->element_ms = inf + pre;
  gst_structure_free (stats);
  gst_app_src_end_of_stream (GST_APP_SRC (src));
  gst_element_set_state (p, GST_STATE_NULL);
  g_free (bg);
  gst_object_unref (src);
  gst_object_unref (sink);
  gst_object_unref (det);
  gst_object_unref (p);
  return ok;
}

int
main (int argc, char **argv)
{
  gchar *shared = NULL, *clip_list = NULL;
  gint frames = 30;
  GOptionEntry entries[] = {
    {"shared", 0, 0, G_OPTION_ARG_FILENAME, &shared, "shared/ folder (models)", "DIR"},
    {"frames", 0, 0, G_OPTION_ARG_INT, &frames, "frames per clip (30)", "N"},
    {"clips", 0, 0, G_OPTION_ARG_STRING, &clip_list, "clip ids, comma-separated", "LIST"},
    {NULL}
  };
  GOptionContext *ctx = g_option_context_new ("- roi-mode=motion vs whole-frame");
  g_option_context_add_main_entries (ctx, entries, NULL);
  g_option_context_add_group (ctx, gst_init_get_option_group ());
  if (!g_option_context_parse (ctx, &argc, &argv, NULL) || !shared || frames <= EMPTY_FRAMES) {
    g_printerr ("usage: yolo-regions-bench --shared DIR [--frames N>%d] [--clips a,b]\n",
        EMPTY_FRAMES);
    return 2;
  }
  g_option_context_free (ctx);
  models_dir = g_build_filename (shared, "models", NULL);
  if (!gst_element_factory_find ("yolov4infer") || !gst_element_factory_find ("motiondetect")) {
    g_printerr ("yolo-regions-bench: yolov4infer/motiondetect not found (GST_PLUGIN_PATH)\n");
    return 1;
  }

  /* the object in each picture */
  Box objects[G_N_ELEMENTS (pictures)];
  gint pic_w[G_N_ELEMENTS (pictures)], pic_h[G_N_ELEMENTS (pictures)];
  for (guint i = 0; i < G_N_ELEMENTS (pictures); i++) {
    g_autofree gchar *path = g_build_filename ("/usr/share/darknet/data", pictures[i].file, NULL);
    if (!find_object (path, pictures[i].label, &objects[i])) {
      g_printerr ("yolo-regions-bench: no %s found in %s by the model\n", pictures[i].label, path);
      return 1;
    }
    /* picture size from a decode at native size */
    gchar *desc = g_strdup_printf ("filesrc location=\"%s\" ! jpegdec ! appsink name=out", path);
    GstElement *p = gst_parse_launch (desc, NULL);
    g_free (desc);
    GstElement *sink = gst_bin_get_by_name (GST_BIN (p), "out");
    gst_element_set_state (p, GST_STATE_PLAYING);
    GstSample *s = gst_app_sink_try_pull_sample (GST_APP_SINK (sink), 20 * GST_SECOND);
    GstVideoInfo vi;
    gst_video_info_from_caps (&vi, gst_sample_get_caps (s));
    pic_w[i] = GST_VIDEO_INFO_WIDTH (&vi);
    pic_h[i] = GST_VIDEO_INFO_HEIGHT (&vi);
    gst_sample_unref (s);
    gst_element_set_state (p, GST_STATE_NULL);
    gst_object_unref (sink);
    gst_object_unref (p);
    g_printerr ("%s: %s at %.0f,%.0f-%.0f,%.0f of %dx%d\n", pictures[i].file, pictures[i].label,
        objects[i].x0, objects[i].y0, objects[i].x1, objects[i].y1, pic_w[i], pic_h[i]);
  }

  for (guint ci = 0; ci < G_N_ELEMENTS (clips); ci++) {
    const Clip *c = &clips[ci];
    if (clip_list && !strstr (clip_list, c->id))
      continue;
    Image imgs[G_N_ELEMENTS (pictures)];
    Object objs[16];
    gint ph = (gint) (c->h * c->height);
    for (guint i = 0; i < G_N_ELEMENTS (pictures); i++) {
      gint pw = pic_w[i] * ph / pic_h[i];
      g_autofree gchar *path = g_build_filename ("/usr/share/darknet/data", pictures[i].file, NULL);
      if (!load_picture (path, pw & ~1, ph & ~1, &imgs[i])) {
        g_printerr ("yolo-regions-bench: cannot load %s\n", path);
        return 1;
      }
      gdouble sx = (gdouble) imgs[i].w / pic_w[i], sy = (gdouble) imgs[i].h / pic_h[i];
      imgs[i].object = (Box) { objects[i].x0 * sx, objects[i].y0 * sy, objects[i].x1 * sx,
        objects[i].y1 * sy };
    }
    /* objects on a grid of up to 5 columns, sliding right by 1 % of the
     * width per frame; rows staggered */
    guint cols = MIN (c->n_objects, 5), rows = (c->n_objects + cols - 1) / cols;
    for (guint k = 0; k < c->n_objects; k++) {
      const Image *img = &imgs[k % G_N_ELEMENTS (pictures)];
      gint cell_w = c->w / cols, cell_h = c->h / rows;
      objs[k].img = img;
      objs[k].label = g_quark_from_static_string (pictures[k % G_N_ELEMENTS (pictures)].label);
      objs[k].x = (gint) (k % cols) * cell_w + MAX (0, (cell_w - img->w) / 4);
      objs[k].y = (gint) (k / cols) * cell_h + MAX (0, (cell_h - img->h) / 2);
      objs[k].vx = MAX (1, c->w / 100);
    }
    gboolean *whole_found = g_new0 (gboolean, (gsize) frames * c->n_objects);
    Result rw, rm;
    if (!run_arm (c, objs, frames, "frame", whole_found, TRUE, &rw)
        || !run_arm (c, objs, frames, "motion", whole_found, FALSE, &rm))
      return 1;
    const Result *res[] = { &rw, &rm };
    const gchar *arm[] = { "whole", "motion" };
    for (guint a = 0; a < 2; a++)
      printf ("CLIP\t%s\t%dx%d\t%u\t%.2f\t%s\t%" G_GUINT64_FORMAT "\t%.1f\t%.1f\t%u\t%u\t%u\t%u/%u\t%"
          G_GUINT64_FORMAT "\t%" G_GUINT64_FORMAT "\n", c->id, c->w, c->h, c->n_objects,
          c->height, arm[a], res[a]->inputs, res[a]->element_ms, res[a]->cpu_ms,
          res[a]->truth, res[a]->found, res[a]->dups, a ? rm.found_by_whole : rw.found,
          a ? rm.whole_found : rw.found, res[a]->region_frames, res[a]->fallbacks);
    fflush (stdout);
    g_free (whole_found);
    for (guint i = 0; i < G_N_ELEMENTS (pictures); i++)
      g_free (imgs[i].rgb);
  }
  return 0;
}
