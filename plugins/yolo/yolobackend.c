/* Backend getters: each backend file defines its vtable only when it is
 * compiled in (meson sets HAVE_OPENCV_BACKEND / HAVE_DARKNET_BACKEND).
 *
 * In the plugin, the darknet backend is a separate module (meson defines
 * YOLO_DARKNET_MODULE, its installed path): libdarknet, and for the fork's
 * CUDA build libcuda.so.1 from the driver, are loaded only when a darknet
 * backend is opened. A node without the module, without libcuda or with a
 * broken libdarknet keeps the OpenCV backend; opening darknet there fails with
 * the loader's reason. The engine library (tests, benchmarks) links it directly.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "yolobackend.h"

#ifdef HAVE_OPENCV_BACKEND
extern const YoloBackendVTable yolo_backend_opencv_vtable;
#endif
#if defined(HAVE_DARKNET_BACKEND) && !defined(YOLO_DARKNET_MODULE)
extern const YoloBackendVTable yolo_backend_darknet_vtable;
#endif

#ifdef YOLO_DARKNET_MODULE
#include <dlfcn.h>
#include <gmodule.h>

/* Overrides where the module is loaded from (tests point it at a missing or
 * broken file). */
#define YOLO_DARKNET_MODULE_ENV "EDGEFAAS_YOLO_DARKNET_MODULE"

/* The module's path: $EDGEFAAS_YOLO_DARKNET_MODULE, else beside this plugin
 * file (a meson build tree, where both are built in plugins/yolo/), else its
 * installed path ($libdir/edgefaas/; plugins live in $libdir/gstreamer-1.0/). */
static gchar *
darknet_module_path (void)
{
  const gchar *env = g_getenv (YOLO_DARKNET_MODULE_ENV);
  Dl_info self;

  if (env && *env)
    return g_strdup (env);
  if (dladdr ((const void *) darknet_module_path, &self) && self.dli_fname) {
    gchar *dir = g_path_get_dirname (self.dli_fname);
    gchar *base = g_path_get_basename (YOLO_DARKNET_MODULE);
    gchar *beside = g_build_filename (dir, base, NULL);
    g_free (dir);
    g_free (base);
    if (g_file_test (beside, G_FILE_TEST_EXISTS))
      return beside;
    g_free (beside);
  }
  return g_strdup (YOLO_DARKNET_MODULE);
}

static GMutex darknet_module_lock;
static const YoloBackendVTable *darknet_module_vtable;
static gchar *darknet_module_failure;

/* Loads the module once; a failure is remembered (the loader's reason) and
 * reported by every later open(). */
static const YoloBackendVTable *
darknet_module_load (GError ** error)
{
  const YoloBackendVTable *vt;

  g_mutex_lock (&darknet_module_lock);
  if (!darknet_module_vtable && !darknet_module_failure) {
    gchar *path = darknet_module_path ();
    GModule *module;
    gpointer symbol = NULL;

    module = g_module_open (path, G_MODULE_BIND_LAZY | G_MODULE_BIND_LOCAL);
    if (!module) {
      darknet_module_failure = g_strdup_printf ("the darknet backend module "
          "cannot be loaded (libdarknet or, for a CUDA build, the NVIDIA driver's "
          "libcuda.so.1 missing?): %s", g_module_error ());
    } else if (!g_module_symbol (module, "yolo_backend_darknet_vtable", &symbol)
        || !symbol) {
      darknet_module_failure = g_strdup_printf ("'%s' is not the darknet "
          "backend module (no yolo_backend_darknet_vtable)", path);
      g_module_close (module);
    } else {
      g_module_make_resident (module);
      darknet_module_vtable = symbol;
    }
    g_free (path);
  }
  vt = darknet_module_vtable;
  if (!vt)
    g_set_error_literal (error, YOLO_CFG_ERROR, YOLO_CFG_ERROR_UNSUPPORTED,
        darknet_module_failure);
  g_mutex_unlock (&darknet_module_lock);
  return vt;
}

/* The proxy below is only ever given backends its own open() returned, so the
 * module is loaded whenever infer/close/output_shapes run. */
static YoloBackend *
darknet_proxy_open (const YoloBackendOptions * options, GError ** error)
{
  const YoloBackendVTable *vt = darknet_module_load (error);
  return vt ? vt->open (options, error) : NULL;
}

static gboolean
darknet_proxy_infer (YoloBackend * backend, const gfloat * input,
    guint n_images, gfloat threshold, GArray ** out, GError ** error)
{
  return darknet_module_vtable->infer (backend, input, n_images, threshold,
      out, error);
}

static void
darknet_proxy_close (YoloBackend * backend)
{
  darknet_module_vtable->close (backend);
}

static guint
darknet_proxy_output_shapes (YoloBackend * backend, YoloOutputShape * shapes,
    guint max)
{
  if (!darknet_module_vtable->output_shapes)
    return 0;
  return darknet_module_vtable->output_shapes (backend, shapes, max);
}

static gint
darknet_proxy_num_threads (YoloBackend * backend)
{
  if (!darknet_module_vtable->num_threads)
    return 0;
  return darknet_module_vtable->num_threads (backend);
}

static const YoloBackendVTable yolo_backend_darknet_proxy_vtable = {
  .name = "darknet",
  .kind = YOLO_BACKEND_KIND_DARKNET,
  .open = darknet_proxy_open,
  .infer = darknet_proxy_infer,
  .close = darknet_proxy_close,
  .output_shapes = darknet_proxy_output_shapes,
  .num_threads = darknet_proxy_num_threads,
};
#endif

const YoloBackendVTable *
yolo_backend_opencv (void)
{
#ifdef HAVE_OPENCV_BACKEND
  return &yolo_backend_opencv_vtable;
#else
  return NULL;
#endif
}

const YoloBackendVTable *
yolo_backend_darknet (void)
{
#if defined(YOLO_DARKNET_MODULE)
  return &yolo_backend_darknet_proxy_vtable;
#elif defined(HAVE_DARKNET_BACKEND)
  return &yolo_backend_darknet_vtable;
#else
  return NULL;
#endif
}

const YoloBackendVTable *
yolo_backend_pick_auto (const YoloCfg * cfg, const gchar * device,
    GError ** error)
{
  const YoloBackendVTable *order[] = { yolo_backend_opencv (),
    yolo_backend_darknet ()
  };
  const gboolean cpu = device == NULL || g_ascii_strcasecmp (device, "cpu") == 0;
  GString *why = g_string_new (NULL);

  for (guint i = 0; i < G_N_ELEMENTS (order); i++) {
    const gchar *name = i == 0 ? "opencv" : "darknet";
    GError *e = NULL;
    if (!order[i]) {
      g_string_append_printf (why, "%s%s: not compiled in", why->len ? "; " : "",
          name);
      continue;
    }
    /* only OpenCV can use a GPU; whether one is there is known at open() */
    if (!cpu && order[i]->kind != YOLO_BACKEND_KIND_OPENCV) {
      g_string_append_printf (why, "%s%s: CPU only", why->len ? "; " : "", name);
      continue;
    }
    if (yolo_cfg_check_backend (cfg, order[i]->kind, &e)) {
      g_string_free (why, TRUE);
      return order[i];
    }
    g_string_append_printf (why, "%s%s", why->len ? "; " : "", e->message);
    g_error_free (e);
  }
  g_set_error (error, YOLO_CFG_ERROR, YOLO_CFG_ERROR_UNSUPPORTED,
      "no backend can run '%s': %s", yolo_cfg_path (cfg), why->str);
  g_string_free (why, TRUE);
  return NULL;
}
