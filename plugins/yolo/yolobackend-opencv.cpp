/* OpenCV DNN backend: the only C++ file. Everything C++ (cv::Mat, cv::dnn::Net,
 * exceptions) stays in here behind the C vtable; no exception crosses it.
 *
 * - The network is read with cv::dnn::readNetFromDarknet from memory: our
 *   rewrite of the cfg (batch, input size, [yolo] thresh=0 so the layer does
 *   not zero class scores below its built-in 0.2) and the weights file mapped
 *   read-only (no copy).
 * - device=cpu: DNN_BACKEND_OPENCV / DNN_TARGET_CPU. device=cuda:
 *   DNN_BACKEND_CUDA / DNN_TARGET_CUDA when cv::cuda::getCudaEnabledDeviceCount()
 *   sees a device, else a clear error (Debian's OpenCV has no CUDA).
 * - The input blob wraps the caller's planar float buffer (NCHW) without
 *   copying it.
 * - OpenCV's yolo ("Region") layer already decodes the boxes: per row
 *   [cx, cy, w, h, objectness, class scores...] normalised to the input, class
 *   score = objectness * class probability. We keep class scores >= threshold.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "yolobackend.h"

#include <opencv2/core.hpp>
#include <opencv2/core/cuda.hpp>
#include <opencv2/dnn.hpp>

#include <string>
#include <vector>

struct _YoloBackend
{
  cv::dnn::Net net;
  std::vector<std::string> out_names;
  int width = 0, height = 0, classes = 0;
  std::vector<YoloOutputShape> last_shapes;
};

static void
set_cv_error (GError ** error, YoloCfgError code, const char *what,
    const char *file, const std::string & detail)
{
  g_set_error (error, YOLO_CFG_ERROR, code, "OpenCV DNN could not %s '%s': %s",
      what, file, detail.c_str ());
}

static YoloBackend *
opencv_open (const YoloBackendOptions * options, GError ** error)
{
  g_return_val_if_fail (options && options->cfg && options->weights_path,
      NULL);

  /* Process-wide: OpenCV has one thread pool. Its default takes every core and
   * ignores OMP_NUM_THREADS, so replicas on one host would fight for cores. */
  if (options->threads > 0)
    cv::setNumThreads (options->threads);

  const char *device = options->device ? options->device : "cpu";
  bool cuda = false;
  if (g_ascii_strcasecmp (device, "cuda") == 0) {
    int n_cuda = 0;
    try {
      n_cuda = cv::cuda::getCudaEnabledDeviceCount ();
    } catch (const cv::Exception &) {
      n_cuda = 0;
    }
    if (n_cuda <= 0) {
      g_set_error (error, YOLO_CFG_ERROR, YOLO_CFG_ERROR_UNSUPPORTED,
          "device=cuda: this OpenCV (%s) %s; use device=cpu", CV_VERSION,
          n_cuda < 0 ? "was built without CUDA support" :
          "sees no CUDA device (built without CUDA, or no GPU/driver)");
      return NULL;
    }
    cuda = true;
  } else if (g_ascii_strcasecmp (device, "cpu") != 0) {
    g_set_error (error, YOLO_CFG_ERROR, YOLO_CFG_ERROR_UNSUPPORTED,
        "unknown device '%s' (cpu or cuda)", device);
    return NULL;
  }

  if (!yolo_cfg_check_backend (options->cfg, YOLO_BACKEND_KIND_OPENCV, error)
      || !yolo_cfg_check_input_size (options->cfg, options->width,
          options->height, error)
      || !yolo_cfg_check_weights (options->cfg, options->weights_path, error))
    return NULL;

  GError *e = NULL;
  GMappedFile *weights = g_mapped_file_new (options->weights_path, FALSE, &e);
  if (!weights) {
    g_set_error (error, YOLO_CFG_ERROR, YOLO_CFG_ERROR_NOT_FOUND,
        "cannot map weights file '%s': %s", options->weights_path, e->message);
    g_error_free (e);
    return NULL;
  }
  gchar *cfg_text = yolo_cfg_to_string (options->cfg,
      MAX (options->max_batch, 1), options->width, options->height, 0.0);

  YoloBackend *self = new YoloBackend ();
  self->width = options->width;
  self->height = options->height;
  self->classes = yolo_cfg_classes (options->cfg);
  gint64 t0 = g_get_monotonic_time ();
  try {
    self->net = cv::dnn::readNetFromDarknet (cfg_text, strlen (cfg_text),
        g_mapped_file_get_contents (weights),
        g_mapped_file_get_length (weights));
    if (self->net.empty ())
      throw cv::Exception (cv::Error::StsError, "empty network", "", "", 0);
    if (cuda) {
      self->net.setPreferableBackend (cv::dnn::DNN_BACKEND_CUDA);
      self->net.setPreferableTarget (cv::dnn::DNN_TARGET_CUDA);
    } else {
      self->net.setPreferableBackend (cv::dnn::DNN_BACKEND_OPENCV);
      self->net.setPreferableTarget (cv::dnn::DNN_TARGET_CPU);
    }
    self->out_names = self->net.getUnconnectedOutLayersNames ();
  } catch (const cv::Exception & ex) {
    set_cv_error (error, YOLO_CFG_ERROR_UNSUPPORTED, "load",
        options->cfg_path, ex.err.empty ()? ex.what () : ex.err);
    delete self;
    self = NULL;
  } catch (const std::exception & ex) {
    set_cv_error (error, YOLO_CFG_ERROR_UNSUPPORTED, "load",
        options->cfg_path, ex.what ());
    delete self;
    self = NULL;
  }
  g_free (cfg_text);
  /* readNetFromDarknet copied the weights into its blobs */
  g_mapped_file_unref (weights);
  if (!self)
    return NULL;
  if (self->out_names.size () != yolo_cfg_n_outputs (options->cfg)) {
    g_set_error (error, YOLO_CFG_ERROR, YOLO_CFG_ERROR_UNSUPPORTED,
        "OpenCV DNN built '%s' with %zu outputs, the cfg has %u detection "
        "layers", options->cfg_path, self->out_names.size (),
        yolo_cfg_n_outputs (options->cfg));
    delete self;
    return NULL;
  }
  g_debug ("opencv backend (OpenCV %s, %s): loaded %s (%dx%d) in %.1f ms",
      CV_VERSION, cuda ? "cuda" : "cpu", options->cfg_path, self->width,
      self->height, (g_get_monotonic_time () - t0) / 1000.0);
  return self;
}

static void
decode_rows (const float *data, int rows, int cols, int classes,
    float threshold, GArray * cands)
{
  const int n_cls = MIN (classes, cols - 5);
  for (int r = 0; r < rows; r++) {
    const float *row = data + (size_t) r * cols;
    for (int c = 0; c < n_cls; c++) {
      const float p = row[5 + c];
      if (p < threshold || p <= 0.0f)
        continue;
      YoloCandidate cand;
      cand.class_id = c;
      cand.confidence = p;
      cand.x_min = CLAMP (row[0] - row[2] / 2, 0.0f, 1.0f);
      cand.y_min = CLAMP (row[1] - row[3] / 2, 0.0f, 1.0f);
      cand.x_max = CLAMP (row[0] + row[2] / 2, 0.0f, 1.0f);
      cand.y_max = CLAMP (row[1] + row[3] / 2, 0.0f, 1.0f);
      g_array_append_val (cands, cand);
    }
  }
}

static gboolean
opencv_infer (YoloBackend * self, const gfloat * input, guint n_images,
    gfloat threshold, GArray ** out, GError ** error)
{
  for (guint b = 0; b < n_images; b++)
    out[b] = NULL;
  try {
    const int sizes[4] = { (int) n_images, 3, self->height, self->width };
    /* wraps the caller's buffer: no copy */
    cv::Mat blob (4, sizes, CV_32F, const_cast < gfloat * >(input));
    self->net.setInput (blob);
    std::vector<cv::Mat> outs;
    self->net.forward (outs, self->out_names);

    for (guint b = 0; b < n_images; b++)
      out[b] = g_array_new (FALSE, FALSE, sizeof (YoloCandidate));
    self->last_shapes.clear ();
    for (const cv::Mat & o:outs) {
      int rows, cols;
      if (o.dims == 3 && o.size[0] == (int) n_images) {
        rows = o.size[1];
        cols = o.size[2];
      } else if (o.dims == 2 && o.rows % n_images == 0) {
        rows = o.rows / n_images;
        cols = o.cols;
      } else {
        throw cv::Exception (cv::Error::StsUnmatchedSizes,
            cv::format ("unexpected output shape (%d dims) for a batch of %u",
                o.dims, n_images), "", "", 0);
      }
      if (cols < 5 + self->classes)
        throw cv::Exception (cv::Error::StsUnmatchedSizes,
            cv::format ("output has %d columns, %d classes need %d", cols,
                self->classes, 5 + self->classes), "", "", 0);
      cv::Mat cont = o.isContinuous ()? o : o.clone ();
      const float *data = cont.ptr < float >();
      for (guint b = 0; b < n_images; b++)
        decode_rows (data + (size_t) b * rows * cols, rows, cols,
            self->classes, threshold, out[b]);
      self->last_shapes.push_back (YoloOutputShape { rows, cols });
    }
  } catch (const cv::Exception & ex) {
    for (guint b = 0; b < n_images; b++)
      if (out[b]) {
        g_array_unref (out[b]);
        out[b] = NULL;
      }
    g_set_error (error, YOLO_CFG_ERROR, YOLO_CFG_ERROR_UNSUPPORTED,
        "OpenCV DNN forward pass failed: %s",
        ex.err.empty ()? ex.what () : ex.err.c_str ());
    return FALSE;
  } catch (const std::exception & ex) {
    for (guint b = 0; b < n_images; b++)
      if (out[b]) {
        g_array_unref (out[b]);
        out[b] = NULL;
      }
    g_set_error (error, YOLO_CFG_ERROR, YOLO_CFG_ERROR_UNSUPPORTED,
        "OpenCV DNN forward pass failed: %s", ex.what ());
    return FALSE;
  }
  return TRUE;
}

static void
opencv_close (YoloBackend * self)
{
  delete self;
}

static guint
opencv_output_shapes (YoloBackend * self, YoloOutputShape * shapes, guint max)
{
  for (guint i = 0; i < self->last_shapes.size () && i < max; i++)
    shapes[i] = self->last_shapes[i];
  return self->last_shapes.size ();
}

static gint
opencv_num_threads (YoloBackend * self)
{
  return cv::getNumThreads ();
}

extern "C" {
  extern const YoloBackendVTable yolo_backend_opencv_vtable;
  const YoloBackendVTable yolo_backend_opencv_vtable = {
    "opencv",
    YOLO_BACKEND_KIND_OPENCV,
    opencv_open,
    opencv_infer,
    opencv_close,
    opencv_output_shapes,
    opencv_num_threads,
  };
}
