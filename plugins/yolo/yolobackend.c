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
