/* Backend getters: each backend file defines its vtable only when it is
 * compiled in (meson sets HAVE_OPENCV_BACKEND / HAVE_DARKNET_BACKEND). */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "yolobackend.h"

#ifdef HAVE_OPENCV_BACKEND
extern const YoloBackendVTable yolo_backend_opencv_vtable;
#endif
#ifdef HAVE_DARKNET_BACKEND
extern const YoloBackendVTable yolo_backend_darknet_vtable;
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
#ifdef HAVE_DARKNET_BACKEND
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
