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

/* --- Additions (engine side, compatible with the API above) --- */

/* The weights file layout after the header, in file order: one block per
 * tensor (biases, batch-norm scales/means/variances, kernel weights). Used by
 * the seeded weights generator (tests/yolobackend/gen-weights.c); the blocks
 * sum to yolo_cfg_param_count(). */
typedef enum {
  YOLO_PARAM_BIAS,
  YOLO_PARAM_BN_SCALE,
  YOLO_PARAM_BN_MEAN,
  YOLO_PARAM_BN_VARIANCE,
  YOLO_PARAM_WEIGHT,
} YoloParamKind;

typedef struct {
  guint layer;            /* index of the layer (0 = first section after [net]) */
  YoloParamKind kind;
  guint64 count;          /* floats in this block */
  guint64 fan_in;         /* inputs per output unit (kernel weights), else 0 */
} YoloParamBlock;

/* GArray of YoloParamBlock; free with g_array_unref(). */
GArray *yolo_cfg_param_layout (const YoloCfg * cfg);

/* One detection output ([yolo] or [region] layer) at the cfg's input size. */
typedef struct {
  guint layer;            /* layer index (0 = first section after [net]) */
  gint grid_w, grid_h;    /* spatial size of the layer at the cfg's width/height */
  gint n_anchors;         /* anchors used by this layer (mask= entries, else num=) */
  gint classes;
  gfloat scale_x_y;       /* 1.0 unless the cfg sets it */
} YoloCfgOutput;

guint yolo_cfg_n_outputs (const YoloCfg * cfg);
const YoloCfgOutput *yolo_cfg_output (const YoloCfg * cfg, guint index);

/* The cfg as darknet-format text, rewritten for inference: [net] batch=@batch,
 * subdivisions=1, width/height = @width/@height (0 = keep), and when
 * @yolo_thresh >= 0 every [yolo] layer gets thresh=@yolo_thresh (OpenCV zeroes
 * class scores below that inside the layer; default 0.2). Section names are
 * written in their long form (OpenCV knows only those). */
gchar *yolo_cfg_to_string (const YoloCfg * cfg, gint batch, gint width, gint height,
    gdouble yolo_thresh);
const gchar *yolo_cfg_path (const YoloCfg * cfg);
/* Does the network work at @width x @height (input-size override)? Every layer
 * must keep a non-empty output and routes must join equal sizes (e.g. YOLO
 * cfgs with an upsample need multiples of 32). FALSE with
 * YOLO_CFG_ERROR_UNSUPPORTED naming the size and the layer that breaks. */
gboolean yolo_cfg_check_input_size (const YoloCfg * cfg, gint width, gint height,
    GError ** error);

G_END_DECLS
