/* libdarknet backend: Debian's 2018 libdarknet (CPU), or AlexeyAB's fork
 * (runs YOLOv4; CPU or CUDA build), chosen at compile time (darknet-compat.h).
 * meson builds this file twice when -Ddarknet-fork=PREFIX is given:
 * libedgefaas-yolo-darknet.so (Debian's) and libedgefaas-yolo-darknet-fork.so
 * (the fork's, HAVE_DARKNET_PREDICT_PTR). One fork module serves both builds of
 * the fork (CUDNN=0 keeps darknet.h's structs the same): whether the
 * libdarknet it was loaded with has CUDA is found at run time.
 *
 * libdarknet is hostile to a host process: it prints its layer table and
 * "Loading weights ... Done!" on stderr, replaces what it does not know by
 * something else with only a printed note, and exit()s when a file cannot be
 * opened. So:
 *  - the cfg has been validated by yolocfg (sections/options/activations this
 *    darknet runs, weights size) before we get here;
 *  - darknet is handed our rewrite of the cfg (batch=1, subdivisions=1, the
 *    requested input size) from a private temporary file;
 *  - loading happens under one process-wide lock with stderr (and stdout,
 *    where the fork prints) captured; the captured text goes to the debug log
 *    (it is chatter, not an error), and is scanned for darknet's own "I
 *    substituted something" notes as a last guard (the fork prints the same).
 * Networks are independent after loading (no darknet globals are touched by
 * forward passes on CPU), so several backends may live and run side by side.
 * The fork's CUDA build is the exception: its network_predict() chooses CPU or
 * GPU by the global gpu_index, so its passes run under the lock.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "yolobackend.h"
#include "darknet-compat.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <dlfcn.h>
#include <unistd.h>
#include <glib/gstdio.h>
#ifdef HAVE_DARKNET_PREDICT_PTR
#include <dlfcn.h>
#endif

struct _YoloBackend
{
  network *net;
  gint width, height;
  gint classes;
  gint gpu;                     /* fork: CUDA device the network lives on, -1 = CPU */
  gint batch;                   /* images per forward pass (fork on CUDA: max_batch) */
  gboolean cuda_lib;            /* fork: libdarknet is a CUDA build */
  gfloat *batch_input;          /* batch * image floats, for partial batches */
  gint threads;             /* 0 = OpenMP's default */
};

/* libdarknet parallelises with OpenMP (it links libgomp). omp_set_num_threads()
 * sets the calling thread's team size, so it is applied before every forward
 * pass in the thread that runs it. Looked up at run time (this module and its
 * libraries are loaded RTLD_LOCAL, so through libgomp's own handle): no OpenMP
 * build flags. */
static void (*omp_set) (int);
static int (*omp_get) (void);

static void
omp_lookup (void)
{
  static gsize once;
  if (g_once_init_enter (&once)) {
    void *h = dlopen ("libgomp.so.1", RTLD_LAZY | RTLD_NOLOAD);
    omp_set = (void (*)(int)) dlsym (h ? h : RTLD_DEFAULT, "omp_set_num_threads");
    omp_get = (int (*)(void)) dlsym (h ? h : RTLD_DEFAULT, "omp_get_max_threads");
    g_once_init_leave (&once, 1);
  }
}

static void
omp_threads_apply (gint n)
{
  omp_lookup ();
  if (omp_set && n > 0)
    omp_set (n);
}

static gint
darknet_num_threads (YoloBackend * self)
{
  omp_threads_apply (self->threads);
  return omp_get ? omp_get () : 0;
}


/* Serialises everything that touches darknet's globals or fds 1 and 2. */
static GMutex darknet_lock;

/* Redirect fds 1 and 2 into a temporary file while darknet loads (the fork
 * prints its progress with printf: on stdout it would break a TAP stream or a
 * probe's TSV output). */
typedef struct
{
  gint saved_fd;
  gint saved_out_fd;
  gint capture_fd;
} StderrCapture;

static gboolean
stderr_capture_begin (StderrCapture * cap)
{
  gchar *name = NULL;

  cap->capture_fd = g_file_open_tmp ("yolo-darknet-log-XXXXXX", &name, NULL);
  if (cap->capture_fd < 0)
    return FALSE;
  g_unlink (name);
  g_free (name);
  fflush (stderr);
  fflush (stdout);
  cap->saved_fd = dup (STDERR_FILENO);
  cap->saved_out_fd = dup (STDOUT_FILENO);
  if (cap->saved_fd < 0 || cap->saved_out_fd < 0
      || dup2 (cap->capture_fd, STDERR_FILENO) < 0
      || dup2 (cap->capture_fd, STDOUT_FILENO) < 0) {
    if (cap->saved_fd >= 0) {
      dup2 (cap->saved_fd, STDERR_FILENO);
      close (cap->saved_fd);
    }
    if (cap->saved_out_fd >= 0) {
      dup2 (cap->saved_out_fd, STDOUT_FILENO);
      close (cap->saved_out_fd);
    }
    close (cap->capture_fd);
    return FALSE;
  }
  return TRUE;
}

static gchar *
stderr_capture_end (StderrCapture * cap)
{
  GString *text = g_string_new (NULL);
  gchar buf[4096];
  gssize n;

  fflush (stderr);
  fflush (stdout);
  dup2 (cap->saved_fd, STDERR_FILENO);
  close (cap->saved_fd);
  dup2 (cap->saved_out_fd, STDOUT_FILENO);
  close (cap->saved_out_fd);
  if (lseek (cap->capture_fd, 0, SEEK_SET) == 0) {
    while ((n = read (cap->capture_fd, buf, sizeof buf)) > 0)
      g_string_append_len (text, buf, n);
  }
  close (cap->capture_fd);
  return g_string_free (text, FALSE);
}

/* darknet's notes that mean "the network you get is not the one in the cfg" */
static const gchar *const darknet_substitutions[] = {
  "Couldn't find activation function",
  "Type not recognized",
  NULL
};

#ifdef HAVE_DARKNET_PREDICT_PTR
/* A symbol of the libdarknet this module was loaded with, or of the libraries
 * it needs (the CUDA build's libcudart): the module is opened with
 * G_MODULE_BIND_LOCAL, so its libraries are not in the global scope. */
static gpointer
darknet_library_symbol (const gchar * name)
{
  Dl_info info;
  void *lib;
  gpointer sym;

  if (!dladdr ((const void *) &gpu_index, &info) || !info.dli_fname)
    return NULL;
  lib = dlopen (info.dli_fname, RTLD_LAZY | RTLD_NOLOAD);
  if (!lib)
    return NULL;
  sym = dlsym (lib, name);
  dlclose (lib);
  return sym;
}

/* Was the fork built with GPU=1? (cuda_make_array exists only then.) */
static gboolean
darknet_has_cuda (void)
{
  return darknet_library_symbol ("cuda_make_array") != NULL;
}

/* cudaGetDeviceCount/cudaGetErrorString of the CUDA runtime; declared here
 * so this file needs no CUDA headers (cudaError_t is an int enum). */
typedef int (*CudaGetDeviceCountFunc) (int *count);
typedef const char *(*CudaGetErrorStringFunc) (int error);

/* How many CUDA devices the fork's CUDA runtime sees; 0 with the reason in
 * @why (static string) when none. */
static gint
darknet_cuda_devices (const gchar ** why)
{
  CudaGetDeviceCountFunc count_devices =
      darknet_library_symbol ("cudaGetDeviceCount");
  CudaGetErrorStringFunc error_string =
      darknet_library_symbol ("cudaGetErrorString");
  int n = 0, rc;

  if (!count_devices) {
    *why = "cudaGetDeviceCount not found";
    return 0;
  }
  rc = count_devices (&n);
  if (rc != 0) {
    *why = error_string ? error_string (rc) : "cudaGetDeviceCount failed";
    return 0;
  }
  *why = "no device";
  return n;
}

/* device=cpu -> -1; device=cuda -> 0 when the fork has CUDA and the runtime
 * sees a device. Asked before darknet touches CUDA: darknet's own CUDA error
 * handling exit()s the process. */
static gboolean
darknet_pick_device (const gchar * device, gint * gpu, GError ** error)
{
  const gboolean cuda_lib = darknet_has_cuda ();
  const gchar *why = NULL;
  gint n;

  *gpu = -1;
  if (device && g_ascii_strcasecmp (device, "cpu") != 0
      && g_ascii_strcasecmp (device, "cuda") != 0) {
    g_set_error (error, YOLO_CFG_ERROR, YOLO_CFG_ERROR_UNSUPPORTED,
        "the darknet backend knows device=cpu and device=cuda, not %s", device);
    return FALSE;
  }
  if (!device || g_ascii_strcasecmp (device, "cpu") == 0) {
    /* the fork's CUDA build allocates GPU memory for some layers (dropout)
     * whatever gpu_index says, and exit()s when it cannot */
    if (cuda_lib && darknet_cuda_devices (&why) < 1) {
      g_set_error (error, YOLO_CFG_ERROR, YOLO_CFG_ERROR_UNSUPPORTED,
          "device=cpu: this libdarknet is the fork's CUDA build, which needs "
          "a CUDA device even on the CPU (%s); use its CPU build (GPU=0) or "
          "backend=opencv here", why);
      return FALSE;
    }
    return TRUE;
  }
  if (!cuda_lib) {
    g_set_error (error, YOLO_CFG_ERROR, YOLO_CFG_ERROR_UNSUPPORTED,
        "device=cuda: this libdarknet (%s) is a CPU build (GPU=0); the CUDA "
        "build of the fork is needed (docs/gpu.md)", YOLO_DARKNET_API_NAME);
    return FALSE;
  }
  n = darknet_cuda_devices (&why);
  if (n < 1) {
    g_set_error (error, YOLO_CFG_ERROR, YOLO_CFG_ERROR_UNSUPPORTED,
        "device=cuda: the CUDA build of libdarknet sees no CUDA device (%s)",
        why);
    return FALSE;
  }
  *gpu = 0;
  return TRUE;
}
#else
static gboolean
darknet_pick_device (const gchar * device, gint * gpu, GError ** error)
{
  *gpu = -1;
  if (!device || g_ascii_strcasecmp (device, "cpu") == 0)
    return TRUE;
  g_set_error (error, YOLO_CFG_ERROR, YOLO_CFG_ERROR_UNSUPPORTED,
      "the darknet backend (%s) runs on the CPU only; device=%s is not "
      "available (use backend=opencv for CUDA, or the CUDA build of the "
      "darknet fork, docs/gpu.md)", YOLO_DARKNET_API_NAME, device);
  return FALSE;
}
#endif

static YoloBackend *
darknet_open (const YoloBackendOptions * options, GError ** error)
{
  YoloBackend *self;
  GError *e = NULL;
  gchar *cfg_text, *cfg_tmp = NULL, *log;
  gint fd;
  StderrCapture cap;
  gboolean captured;
  network *net;
  gint64 t0;
  gint gpu = -1, batch = 1;

  g_return_val_if_fail (options && options->cfg && options->weights_path, NULL);

  if (!darknet_pick_device (options->device, &gpu, error))
    return NULL;
  /* the caller validated, but never hand darknet something it would exit()
   * or silently mangle on */
  if (!yolo_cfg_check_backend (options->cfg, YOLO_BACKEND_KIND_DARKNET, error)
      || !yolo_cfg_check_input_size (options->cfg, options->width,
          options->height, error)
      || !yolo_cfg_check_weights (options->cfg, options->weights_path, error))
    return NULL;

  cfg_text = yolo_cfg_to_string (options->cfg, 1, options->width,
      options->height, -1);
  fd = g_file_open_tmp ("yolo-darknet-XXXXXX.cfg", &cfg_tmp, &e);
  if (fd < 0 || !g_file_set_contents (cfg_tmp, cfg_text, -1, &e)) {
    g_set_error (error, YOLO_CFG_ERROR, YOLO_CFG_ERROR_NOT_FOUND,
        "cannot write a temporary cfg for darknet: %s", e->message);
    g_error_free (e);
    if (fd >= 0) {
      close (fd);
      g_unlink (cfg_tmp);
    }
    g_free (cfg_tmp);
    g_free (cfg_text);
    return NULL;
  }
  close (fd);
  g_free (cfg_text);

  t0 = g_get_monotonic_time ();
  g_mutex_lock (&darknet_lock);
  captured = stderr_capture_begin (&cap);
#ifdef HAVE_DARKNET_PREDICT_PTR
  /* the fork allocates on the GPU at parse time when its global gpu_index is
   * >= 0 (the CUDA build's default is 0) */
  if (gpu >= 0) {
    batch = MAX (options->max_batch, 1);
    cuda_set_device (gpu);
  }
  gpu_index = gpu;
  net = load_network_custom (cfg_tmp, (gchar *) options->weights_path, 0,
      batch);
#else
  net = load_network (cfg_tmp, (gchar *) options->weights_path, 0);
  if (net)
    set_batch_network (net, 1);
#endif
  log = captured ? stderr_capture_end (&cap) : g_strdup ("");
  g_mutex_unlock (&darknet_lock);
  g_unlink (cfg_tmp);
  g_free (cfg_tmp);

  {
    gchar **lines = g_strsplit (log, "\n", -1);
    for (gchar ** l = lines; *l; l++)
      if (**l)
        g_debug ("libdarknet: %s", *l);
    g_strfreev (lines);
  }
  for (const gchar * const *s = darknet_substitutions; *s; s++) {
    const gchar *hit = strstr (log, *s);
    if (hit) {
      gchar *line = g_strndup (hit, strcspn (hit, "\n"));
      g_set_error (error, YOLO_CFG_ERROR, YOLO_CFG_ERROR_UNSUPPORTED,
          "libdarknet changed the network while loading '%s': %s",
          options->cfg_path, line);
      g_free (line);
      g_free (log);
      if (net) {
        g_mutex_lock (&darknet_lock);
        yolo_dn_free_network (net);
        g_mutex_unlock (&darknet_lock);
      }
      return NULL;
    }
  }
  g_free (log);
  if (!net) {
    g_set_error (error, YOLO_CFG_ERROR, YOLO_CFG_ERROR_UNSUPPORTED,
        "libdarknet could not load '%s'", options->cfg_path);
    return NULL;
  }
  if (net->w != options->width || net->h != options->height) {
    g_set_error (error, YOLO_CFG_ERROR, YOLO_CFG_ERROR_UNSUPPORTED,
        "libdarknet built a %dx%d network for '%s', %dx%d was requested",
        net->w, net->h, options->cfg_path, options->width, options->height);
    g_mutex_lock (&darknet_lock);
    yolo_dn_free_network (net);
    g_mutex_unlock (&darknet_lock);
    return NULL;
  }

  self = g_new0 (YoloBackend, 1);
  self->net = net;
  self->width = options->width;
  self->height = options->height;
  self->classes = yolo_cfg_classes (options->cfg);
  self->threads = options->threads;
  self->gpu = gpu;
  self->batch = batch;
#ifdef HAVE_DARKNET_PREDICT_PTR
  self->cuda_lib = darknet_has_cuda ();
#endif
  if (batch > 1)
    self->batch_input = g_new0 (gfloat, (gsize) batch * 3 * self->width
        * self->height);
  g_debug ("darknet backend (%s): loaded %s (%dx%d) on %s%s in %.1f ms",
      YOLO_DARKNET_API_NAME, options->cfg_path, self->width, self->height,
      gpu >= 0 ? "CUDA device " : "the CPU", gpu >= 0 ? "0" : "",
      (g_get_monotonic_time () - t0) / 1000.0);
  return self;
}

/* darknet's boxes of one image as candidates (normalised to the input). */
static GArray *
darknet_candidates (YoloBackend * self, detection * dets, gint n,
    gfloat threshold)
{
  GArray *cands = g_array_new (FALSE, FALSE, sizeof (YoloCandidate));

  for (gint i = 0; i < n; i++) {
    const box bb = dets[i].bbox;
    for (gint c = 0; c < dets[i].classes && c < self->classes; c++) {
      const gfloat p = dets[i].prob[c];
      YoloCandidate cand;
      if (p < threshold || p <= 0.0f)
        continue;
      cand.class_id = c;
      cand.confidence = p;
      cand.x_min = CLAMP (bb.x - bb.w / 2, 0.0f, 1.0f);
      cand.y_min = CLAMP (bb.y - bb.h / 2, 0.0f, 1.0f);
      cand.x_max = CLAMP (bb.x + bb.w / 2, 0.0f, 1.0f);
      cand.y_max = CLAMP (bb.y + bb.h / 2, 0.0f, 1.0f);
      g_array_append_val (cands, cand);
    }
  }
  return cands;
}

#ifdef HAVE_DARKNET_PREDICT_PTR
/* The fork on CUDA: up to self->batch images in one forward pass (a partial
 * batch is padded with zeros: the network's batch is fixed at load). */
static void
darknet_infer_batch (YoloBackend * self, const gfloat * input, guint n_images,
    gfloat threshold, GArray ** out)
{
  const gsize image_floats = (gsize) 3 * self->width * self->height;
  image im = { 0, };
  det_num_pair *pairs;

  memcpy (self->batch_input, input, n_images * image_floats * sizeof (gfloat));
  memset (self->batch_input + n_images * image_floats, 0,
      (self->batch - n_images) * image_floats * sizeof (gfloat));
  im.w = self->width;
  im.h = self->height;
  im.c = 3;
  im.data = self->batch_input;
  pairs = network_predict_batch (self->net, im, self->batch, self->width,
      self->height, threshold, 0.5f, NULL, 1, 0);
  for (guint b = 0; b < n_images; b++)
    out[b] = darknet_candidates (self, pairs[b].dets, pairs[b].num, threshold);
  free_batch_detections (pairs, self->batch);
}
#endif

static gboolean
darknet_infer (YoloBackend * self, const gfloat * input, guint n_images,
    gfloat threshold, GArray ** out, GError ** error)
{
  const gsize image_floats = (gsize) 3 * self->width * self->height;
#ifdef HAVE_DARKNET_PREDICT_PTR
  /* the fork's network_predict() picks CPU or GPU by its global gpu_index:
   * a CUDA build sets it for each pass, under the lock */
  const gboolean cuda_lib = self->cuda_lib;

  if (cuda_lib) {
    g_mutex_lock (&darknet_lock);
    gpu_index = self->gpu;
  }
  if (self->batch > 1) {
    for (guint b = 0; b < n_images; b += self->batch)
      darknet_infer_batch (self, input + b * image_floats,
          MIN (n_images - b, (guint) self->batch), threshold, out + b);
    if (cuda_lib)
      g_mutex_unlock (&darknet_lock);
    return TRUE;
  }
#endif

  omp_threads_apply (self->threads);
  /* darknet's CPU forward pass gains nothing from batching: one image at a
   * time through the batch-1 network. */
  for (guint b = 0; b < n_images; b++) {
    detection *dets;
    gint n = 0;

    yolo_dn_predict (self->net, (gfloat *) input + b * image_floats);
    dets = yolo_dn_get_boxes (self->net, self->width, self->height, threshold,
        &n);
    out[b] = darknet_candidates (self, dets, n, threshold);
    free_detections (dets, n);
  }
#ifdef HAVE_DARKNET_PREDICT_PTR
  if (cuda_lib)
    g_mutex_unlock (&darknet_lock);
#endif
  return TRUE;
}

static void
darknet_close (YoloBackend * self)
{
  if (!self)
    return;
  if (self->net) {
    g_mutex_lock (&darknet_lock);
    yolo_dn_free_network (self->net);
    g_mutex_unlock (&darknet_lock);
  }
  g_free (self->batch_input);
  g_free (self);
}

static guint
darknet_output_shapes (YoloBackend * self, YoloOutputShape * shapes, guint max)
{
  guint n = 0;
  for (gint i = 0; i < self->net->n; i++) {
    const layer *l = &self->net->layers[i];
    if (l->type != YOLO)
      continue;
    if (n < max) {
      shapes[n].rows = l->w * l->h * l->n;
      shapes[n].cols = l->classes + 5;
    }
    n++;
  }
  return n;
}

const YoloBackendVTable yolo_backend_darknet_vtable = {
  .name = "darknet",
  .kind = YOLO_BACKEND_KIND_DARKNET,
  .open = darknet_open,
  .infer = darknet_infer,
  .close = darknet_close,
  .output_shapes = darknet_output_shapes,
  .num_threads = darknet_num_threads,
};
