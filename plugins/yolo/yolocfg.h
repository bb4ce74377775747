/* Darknet .cfg parser and validator, independent of any backend.
 *
 * Debian's libdarknet silently accepts networks it cannot run (ignores [route]
 * groups, turns mish into ReLU, "loads" an empty weights file, exit()s on an
 * unknown section), so we parse the cfg ourselves first: syntax errors with line
 * numbers, which sections/options/activations each backend supports, the
 * network input size, the class count of the [yolo] layers, and the exact
 * parameter count so the weights file size can be checked before any backend
 * sees it.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define YOLO_CFG_ERROR (yolo_cfg_error_quark ())
typedef enum {
  YOLO_CFG_ERROR_NOT_FOUND,      /* cfg / weights / names file missing or unreadable */
  YOLO_CFG_ERROR_SYNTAX,         /* message carries "file:line" */
  YOLO_CFG_ERROR_UNSUPPORTED,    /* section/option/activation the backend cannot run */
  YOLO_CFG_ERROR_WEIGHTS,        /* weights size does not match the parameter count */
  YOLO_CFG_ERROR_LABELS,         /* classes in cfg != lines in the names file */
} YoloCfgError;
GQuark yolo_cfg_error_quark (void);

typedef enum {
  YOLO_BACKEND_KIND_OPENCV,
  YOLO_BACKEND_KIND_DARKNET,
} YoloBackendKind;

typedef struct _YoloCfg YoloCfg;

YoloCfg *yolo_cfg_load (const gchar * path, GError ** error);
void yolo_cfg_free (YoloCfg * cfg);
gint yolo_cfg_width (const YoloCfg * cfg);      /* [net] width */
gint yolo_cfg_height (const YoloCfg * cfg);     /* [net] height */
gint yolo_cfg_channels (const YoloCfg * cfg);
gint yolo_cfg_classes (const YoloCfg * cfg);    /* classes= of the [yolo] layers (all equal) */
guint yolo_cfg_n_layers (const YoloCfg * cfg);
/* Number of float parameters the weights file must hold after its header, for
 * input size w x h (0 = cfg's own; darknet parameter counts do not depend on it
 * for conv nets, but the shapes are computed with it). */
guint64 yolo_cfg_param_count (const YoloCfg * cfg, GError ** error);
/* Can @kind run this network? FALSE with YOLO_CFG_ERROR_UNSUPPORTED naming the
 * section, option and line (e.g. "[route] groups=2 at line 188"). */
gboolean yolo_cfg_check_backend (const YoloCfg * cfg, YoloBackendKind kind, GError ** error);
/* Weights file: darknet header (major, minor, revision, seen as 32/64 bit) then
 * param_count floats; anything else is YOLO_CFG_ERROR_WEIGHTS naming both sizes. */
gboolean yolo_cfg_check_weights (const YoloCfg * cfg, const gchar * weights_path, GError ** error);
/* Names file: one label per line; count must equal yolo_cfg_classes(). */
gchar **yolo_cfg_load_labels (const YoloCfg * cfg, const gchar * names_path, GError ** error);

G_END_DECLS
