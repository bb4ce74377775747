/* Darknet .cfg parser and validator, independent of any backend.
 *
 * Why: Debian's libdarknet (pjreddie, 2018) silently ignores [route] groups,
 * replaces unknown activations (mish) by ReLU with only a printf, "loads" an
 * empty weights file and exit()s on a missing file; OpenCV's importer asserts.
 * So we read the cfg ourselves the way darknet does (whitespace stripped, '#'
 * and ';' comments), infer every layer's output shape, compute the exact
 * weights layout (darknet's load_weights order) and know, per backend, which
 * sections, options and activations it really runs.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "yolocfg.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <glib/gstdio.h>

G_DEFINE_QUARK (yolo-cfg-error-quark, yolo_cfg_error);

typedef enum {
  SEC_NET, SEC_CONV, SEC_CONNECTED, SEC_MAXPOOL, SEC_AVGPOOL, SEC_SOFTMAX,
  SEC_ROUTE, SEC_SHORTCUT, SEC_UPSAMPLE, SEC_YOLO, SEC_REGION, SEC_DROPOUT,
  SEC_REORG, SEC_COST, SEC_BATCHNORM, SEC_SCALE_CHANNELS, SEC_SAM,
} SectionType;

/* Which backend runs a section type (as named in the cfg). */
#define BK_OPENCV  (1u << YOLO_BACKEND_KIND_OPENCV)
#define BK_DARKNET (1u << YOLO_BACKEND_KIND_DARKNET)
#define BK_ALL     (BK_OPENCV | BK_DARKNET)

typedef struct {
  const gchar *name;
  SectionType type;
  guint backends;
} SectionInfo;

static const SectionInfo section_infos[] = {
  /* OpenCV's importer knows only the long names and [net]; the backends are
   * given yolo_cfg_to_string()'s rewrite, which uses them, so aliases are fine. */
  {"net", SEC_NET, BK_ALL},
  {"network", SEC_NET, BK_ALL},
  {"convolutional", SEC_CONV, BK_ALL},
  {"conv", SEC_CONV, BK_ALL},
  {"connected", SEC_CONNECTED, BK_ALL},
  {"conn", SEC_CONNECTED, BK_ALL},
  {"maxpool", SEC_MAXPOOL, BK_ALL},
  {"max", SEC_MAXPOOL, BK_ALL},
  {"avgpool", SEC_AVGPOOL, BK_ALL},
  {"avg", SEC_AVGPOOL, BK_ALL},
  {"softmax", SEC_SOFTMAX, BK_ALL},
  {"soft", SEC_SOFTMAX, BK_ALL},
  {"route", SEC_ROUTE, BK_ALL},
  {"shortcut", SEC_SHORTCUT, BK_ALL},
  {"upsample", SEC_UPSAMPLE, BK_ALL},
  {"yolo", SEC_YOLO, BK_ALL},
  {"region", SEC_REGION, BK_ALL},
  {"dropout", SEC_DROPOUT, BK_ALL},
  {"reorg", SEC_REORG, BK_ALL},
  {"cost", SEC_COST, BK_ALL},
  {"batchnorm", SEC_BATCHNORM, BK_DARKNET},
  {"scale_channels", SEC_SCALE_CHANNELS, BK_OPENCV},
  {"sam", SEC_SAM, BK_OPENCV},
};

static const gchar *const canonical_names[] = {
  [SEC_NET] = "net",[SEC_CONV] = "convolutional",[SEC_CONNECTED] = "connected",
  [SEC_MAXPOOL] = "maxpool",[SEC_AVGPOOL] = "avgpool",[SEC_SOFTMAX] = "softmax",
  [SEC_ROUTE] = "route",[SEC_SHORTCUT] = "shortcut",[SEC_UPSAMPLE] = "upsample",
  [SEC_YOLO] = "yolo",[SEC_REGION] = "region",[SEC_DROPOUT] = "dropout",
  [SEC_REORG] = "reorg",[SEC_COST] = "cost",[SEC_BATCHNORM] = "batchnorm",
  [SEC_SCALE_CHANNELS] = "scale_channels",[SEC_SAM] = "sam",
};

/* Activations each backend implements. darknet 2018: activations.c
 * get_activation(); anything else becomes ReLU with a printed note.
 * OpenCV 4.6 darknet_io.cpp: leaky, swish, mish, logistic, linear; anything
 * else is a parse error. The AlexeyAB fork knows all of them. */
static const gchar *const opencv_activations[] = {
  "linear", "leaky", "swish", "mish", "logistic", NULL
};

#ifdef HAVE_DARKNET_PREDICT_PTR
static const gchar *const fork_activations[] = {
  "logistic", "loggy", "relu", "elu", "selu", "relie", "plse", "hardtan",
  "lhtan", "linear", "ramp", "leaky", "tanh", "stair", "relu6", "swish",
  "mish", "hard_mish", "normalize_channels", "normalize_channels_softmax",
  "normalize_channels_softmax_maxval", "gelu", NULL
};
#else
static const gchar *const darknet2018_activations[] = {
  "logistic", "loggy", "relu", "elu", "selu", "relie", "plse", "hardtan",
  "lhtan", "linear", "ramp", "leaky", "tanh", "stair", NULL
};
#endif

/* Bound for every integer option and every layer dimension: far above any
 * real network, low enough that no shape or parameter product overflows. */
#define MAX_DIM (1 << 16)

typedef struct {
  gchar *key;
  gchar *value;
  gint line;
} CfgOption;

typedef struct {
  SectionType type;
  gchar *name;                  /* as written */
  gint line;
  GArray *options;              /* CfgOption */
  /* inferred */
  gint in_c, in_w, in_h;
  gint out_c, out_w, out_h;
} CfgSection;

struct _YoloCfg
{
  gchar *path;
  GPtrArray *sections;          /* CfgSection*, [0] is [net] */
  gint width, height, channels, classes;
  GArray *layout;               /* YoloParamBlock */
  guint64 n_params;
  GArray *outputs;              /* YoloCfgOutput */
};

static void
section_free (gpointer data)
{
  CfgSection *s = data;
  for (guint i = 0; i < s->options->len; i++) {
    CfgOption *o = &g_array_index (s->options, CfgOption, i);
    g_free (o->key);
    g_free (o->value);
  }
  g_array_unref (s->options);
  g_free (s->name);
  g_free (s);
}

void
yolo_cfg_free (YoloCfg * cfg)
{
  if (!cfg)
    return;
  g_ptr_array_unref (cfg->sections);
  if (cfg->layout)
    g_array_unref (cfg->layout);
  if (cfg->outputs)
    g_array_unref (cfg->outputs);
  g_free (cfg->path);
  g_free (cfg);
}

static CfgSection *
layer (const YoloCfg * cfg, guint i)
{
  return g_ptr_array_index (cfg->sections, i + 1);
}

static guint
n_layers (const YoloCfg * cfg)
{
  return cfg->sections->len - 1;
}

static const CfgOption *
find_opt (const CfgSection * s, const gchar * key)
{
  /* darknet's option_find returns the first match */
  for (guint i = 0; i < s->options->len; i++) {
    const CfgOption *o = &g_array_index (s->options, CfgOption, i);
    if (strcmp (o->key, key) == 0)
      return o;
  }
  return NULL;
}

static gboolean
opt_int (const YoloCfg * cfg, const CfgSection * s, const gchar * key, gint def,
    gint * out, GError ** error)
{
  const CfgOption *o = find_opt (s, key);
  gchar *end = NULL;
  gint64 v;

  if (!o) {
    *out = def;
    return TRUE;
  }
  errno = 0;
  v = g_ascii_strtoll (o->value, &end, 10);
  if (errno || end == o->value || *end != '\0') {
    g_set_error (error, YOLO_CFG_ERROR, YOLO_CFG_ERROR_SYNTAX,
        "%s:%d: [%s] %s=%s is not an integer", cfg->path, o->line, s->name,
        key, o->value);
    return FALSE;
  }
  if (v < -MAX_DIM || v > MAX_DIM) {
    g_set_error (error, YOLO_CFG_ERROR, YOLO_CFG_ERROR_SYNTAX,
        "%s:%d: [%s] %s=%s is out of range (|value| <= %d)", cfg->path,
        o->line, s->name, key, o->value, MAX_DIM);
    return FALSE;
  }
  *out = (gint) v;
  return TRUE;
}

static gboolean
opt_float (const YoloCfg * cfg, const CfgSection * s, const gchar * key,
    gdouble def, gdouble * out, GError ** error)
{
  const CfgOption *o = find_opt (s, key);
  gchar *end = NULL;

  if (!o) {
    *out = def;
    return TRUE;
  }
  *out = g_ascii_strtod (o->value, &end);
  if (end == o->value || *end != '\0' || !isfinite (*out)) {
    g_set_error (error, YOLO_CFG_ERROR, YOLO_CFG_ERROR_SYNTAX,
        "%s:%d: [%s] %s=%s is not a number", cfg->path, o->line, s->name,
        key, o->value);
    return FALSE;
  }
  return TRUE;
}

/* Comma separated integers ("-1,-3,-5" or "3,4,5"). */
static GArray *
opt_int_list (const YoloCfg * cfg, const CfgSection * s, const gchar * key,
    GError ** error)
{
  const CfgOption *o = find_opt (s, key);
  GArray *arr;
  gchar **parts;

  if (!o)
    return NULL;
  arr = g_array_new (FALSE, FALSE, sizeof (gint));
  parts = g_strsplit (o->value, ",", -1);
  for (gchar ** p = parts; *p; p++) {
    gchar *end = NULL;
    gint64 v;
    if (**p == '\0' && p[1] == NULL && p != parts)
      break;                    /* trailing comma */
    errno = 0;
    v = g_ascii_strtoll (*p, &end, 10);
    if (errno || end == *p || *end != '\0' || v < G_MININT || v > G_MAXINT) {
      g_set_error (error, YOLO_CFG_ERROR, YOLO_CFG_ERROR_SYNTAX,
          "%s:%d: [%s] %s=%s is not a list of integers", cfg->path, o->line,
          s->name, key, o->value);
      g_strfreev (parts);
      g_array_unref (arr);
      return NULL;
    }
    gint iv = (gint) v;
    g_array_append_val (arr, iv);
  }
  g_strfreev (parts);
  return arr;
}

static const SectionInfo *
lookup_section (const gchar * name)
{
  for (guint i = 0; i < G_N_ELEMENTS (section_infos); i++)
    if (strcmp (section_infos[i].name, name) == 0)
      return &section_infos[i];
  return NULL;
}

/* Parse the text like darknet's read_cfg(): every whitespace character is
 * removed from a line, then '[' starts a section, '#', ';' and empty lines are
 * skipped, anything else must be key=value. */
static gboolean
parse_text (YoloCfg * cfg, const gchar * text, GError ** error)
{
  gchar **lines = g_strsplit (text, "\n", -1);
  CfgSection *cur = NULL;
  gboolean ok = FALSE;
  gint lineno = 0;

  for (gchar ** lp = lines; *lp; lp++) {
    GString *l = g_string_new (NULL);
    lineno++;
    for (const gchar * c = *lp; *c; c++)
      if (!g_ascii_isspace (*c))
        g_string_append_c (l, *c);

    if (l->len == 0 || l->str[0] == '#' || l->str[0] == ';') {
      g_string_free (l, TRUE);
      continue;
    }
    if (l->str[0] == '[') {
      const SectionInfo *info;
      gchar *name;
      if (l->str[l->len - 1] != ']' || l->len < 3) {
        g_set_error (error, YOLO_CFG_ERROR, YOLO_CFG_ERROR_SYNTAX,
            "%s:%d: malformed section header '%s'", cfg->path, lineno, l->str);
        g_string_free (l, TRUE);
        goto out;
      }
      name = g_strndup (l->str + 1, l->len - 2);
      g_string_free (l, TRUE);
      info = lookup_section (name);
      if (!info) {
        g_set_error (error, YOLO_CFG_ERROR, YOLO_CFG_ERROR_UNSUPPORTED,
            "%s:%d: unknown section [%s] (no backend runs it)", cfg->path,
            lineno, name);
        g_free (name);
        goto out;
      }
      if ((cfg->sections->len == 0) != (info->type == SEC_NET)) {
        g_set_error (error, YOLO_CFG_ERROR, YOLO_CFG_ERROR_SYNTAX,
            cfg->sections->len == 0 ?
            "%s:%d: the first section must be [net], not [%s]" :
            "%s:%d: [%s] may only be the first section", cfg->path, lineno,
            name);
        g_free (name);
        goto out;
      }
      cur = g_new0 (CfgSection, 1);
      cur->type = info->type;
      cur->name = name;
      cur->line = lineno;
      cur->options = g_array_new (FALSE, FALSE, sizeof (CfgOption));
      g_ptr_array_add (cfg->sections, cur);
      continue;
    }
    {
      const gchar *eq = strchr (l->str, '=');
      CfgOption o;
      if (!eq || eq == l->str || eq[1] == '\0') {
        g_set_error (error, YOLO_CFG_ERROR, YOLO_CFG_ERROR_SYNTAX,
            "%s:%d: expected '[section]' or 'key=value', got '%s'",
            cfg->path, lineno, l->str);
        g_string_free (l, TRUE);
        goto out;
      }
      if (!cur) {
        g_set_error (error, YOLO_CFG_ERROR, YOLO_CFG_ERROR_SYNTAX,
            "%s:%d: option '%s' before any [section]", cfg->path, lineno,
            l->str);
        g_string_free (l, TRUE);
        goto out;
      }
      o.key = g_strndup (l->str, eq - l->str);
      o.value = g_strdup (eq + 1);
      o.line = lineno;
      /* darknet reads the first of two equal keys, OpenCV the last: refuse
       * the ambiguity (except [net] training keys, which we rewrite) */
      if (cur->type != SEC_NET || strcmp (o.key, "width") == 0
          || strcmp (o.key, "height") == 0 || strcmp (o.key, "channels") == 0) {
        const CfgOption *prev = find_opt (cur, o.key);
        if (prev) {
          g_set_error (error, YOLO_CFG_ERROR, YOLO_CFG_ERROR_SYNTAX,
              "%s:%d: [%s] %s= given twice (first at line %d); darknet would "
              "use the first, OpenCV the last", cfg->path, lineno, cur->name,
              o.key, prev->line);
          g_free (o.key);
          g_free (o.value);
          g_string_free (l, TRUE);
          goto out;
        }
      }
      g_array_append_val (cur->options, o);
      g_string_free (l, TRUE);
    }
  }
  if (cfg->sections->len == 0) {
    g_set_error (error, YOLO_CFG_ERROR, YOLO_CFG_ERROR_SYNTAX,
        "%s:%d: no [net] section (empty or not a darknet cfg)", cfg->path,
        lineno);
    goto out;
  }
  if (cfg->sections->len == 1) {
    g_set_error (error, YOLO_CFG_ERROR, YOLO_CFG_ERROR_SYNTAX,
        "%s:%d: the network has no layers", cfg->path, lineno);
    goto out;
  }
  ok = TRUE;
out:
  g_strfreev (lines);
  return ok;
}

static void
add_block (YoloCfg * cfg, guint layer_idx, YoloParamKind kind, guint64 count,
    guint64 fan_in)
{
  YoloParamBlock b = { layer_idx, kind, count, fan_in };
  g_array_append_val (cfg->layout, b);
  cfg->n_params += count;
}

static gint
resolve_index (gint idx, guint cur)
{
  return idx < 0 ? (gint) cur + idx : idx;
}

#define FAIL(code, ...) G_STMT_START { \
    g_set_error (error, YOLO_CFG_ERROR, code, __VA_ARGS__); return FALSE; \
  } G_STMT_END

/* Shape inference and weights layout, following darknet's parse.c (make_*_layer
 * output sizes) and load_weights_upto() (what each layer reads, in order). */
static gboolean
infer_shapes (YoloCfg * cfg, GError ** error)
{
  CfgSection *net = g_ptr_array_index (cfg->sections, 0);
  /* 64-bit so that no cfg value can overflow them before the bounds check at
   * the end of each layer */
  gint64 w, h, c;
  gint classes = -1;

  if (!opt_int (cfg, net, "width", 0, &cfg->width, error) ||
      !opt_int (cfg, net, "height", 0, &cfg->height, error) ||
      !opt_int (cfg, net, "channels", 0, &cfg->channels, error))
    return FALSE;
  if (cfg->width <= 0 || cfg->height <= 0 || cfg->channels <= 0)
    FAIL (YOLO_CFG_ERROR_SYNTAX, "%s:%d: [net] needs positive width, height "
        "and channels (got %dx%dx%d)", cfg->path, net->line, cfg->width,
        cfg->height, cfg->channels);

  w = cfg->width;
  h = cfg->height;
  c = cfg->channels;
  for (guint i = 0; i < n_layers (cfg); i++) {
    CfgSection *s = layer (cfg, i);
    s->in_w = w;
    s->in_h = h;
    s->in_c = c;
    switch (s->type) {
      case SEC_CONV:{
        gint filters, size, stride, pad, padding, groups, bn;
        if (!opt_int (cfg, s, "filters", 1, &filters, error) ||
            !opt_int (cfg, s, "size", 1, &size, error) ||
            !opt_int (cfg, s, "stride", 1, &stride, error) ||
            !opt_int (cfg, s, "pad", 0, &pad, error) ||
            !opt_int (cfg, s, "padding", 0, &padding, error) ||
            !opt_int (cfg, s, "groups", 1, &groups, error) ||
            !opt_int (cfg, s, "batch_normalize", 0, &bn, error))
          return FALSE;
        if (filters <= 0 || size <= 0 || stride <= 0 || groups <= 0)
          FAIL (YOLO_CFG_ERROR_SYNTAX, "%s:%d: [%s] filters, size, stride and "
              "groups must be positive", cfg->path, s->line, s->name);
        if (c % groups != 0 || filters % groups != 0)
          FAIL (YOLO_CFG_ERROR_SYNTAX, "%s:%d: [%s] groups=%d does not divide "
              "%d input channels / %d filters", cfg->path, s->line, s->name,
              groups, (gint) c, filters);
        if (pad)
          padding = size / 2;
        add_block (cfg, i, YOLO_PARAM_BIAS, filters, 0);
        if (bn) {
          add_block (cfg, i, YOLO_PARAM_BN_SCALE, filters, 0);
          add_block (cfg, i, YOLO_PARAM_BN_MEAN, filters, 0);
          add_block (cfg, i, YOLO_PARAM_BN_VARIANCE, filters, 0);
        }
        add_block (cfg, i, YOLO_PARAM_WEIGHT,
            (guint64) (c / groups) * filters * size * size,
            (guint64) (c / groups) * size * size);
        w = (w + 2 * padding - size) / stride + 1;
        h = (h + 2 * padding - size) / stride + 1;
        c = filters;
        break;
      }
      case SEC_CONNECTED:{
        gint output, bn;
        guint64 inputs = (guint64) w * h * c;
        if (!opt_int (cfg, s, "output", 1, &output, error) ||
            !opt_int (cfg, s, "batch_normalize", 0, &bn, error))
          return FALSE;
        if (output <= 0)
          FAIL (YOLO_CFG_ERROR_SYNTAX, "%s:%d: [%s] output must be positive",
              cfg->path, s->line, s->name);
        add_block (cfg, i, YOLO_PARAM_BIAS, output, 0);
        add_block (cfg, i, YOLO_PARAM_WEIGHT, inputs * output, inputs);
        if (bn) {
          add_block (cfg, i, YOLO_PARAM_BN_SCALE, output, 0);
          add_block (cfg, i, YOLO_PARAM_BN_MEAN, output, 0);
          add_block (cfg, i, YOLO_PARAM_BN_VARIANCE, output, 0);
        }
        w = h = 1;
        c = output;
        break;
      }
      case SEC_BATCHNORM:
        add_block (cfg, i, YOLO_PARAM_BN_SCALE, c, 0);
        add_block (cfg, i, YOLO_PARAM_BN_MEAN, c, 0);
        add_block (cfg, i, YOLO_PARAM_BN_VARIANCE, c, 0);
        break;
      case SEC_MAXPOOL:{
        gint size, stride, padding;
        if (!opt_int (cfg, s, "stride", 1, &stride, error) ||
            !opt_int (cfg, s, "size", stride, &size, error) ||
            !opt_int (cfg, s, "padding", size - 1, &padding, error))
          return FALSE;
        if (size <= 0 || stride <= 0)
          FAIL (YOLO_CFG_ERROR_SYNTAX, "%s:%d: [%s] size and stride must be "
              "positive", cfg->path, s->line, s->name);
        w = (w + padding - size) / stride + 1;
        h = (h + padding - size) / stride + 1;
        break;
      }
      case SEC_AVGPOOL:
        w = h = 1;
        break;
      case SEC_ROUTE:{
        GError *e = NULL;
        GArray *layers = opt_int_list (cfg, s, "layers", &e);
        gint groups, group_id, sum_c = 0;
        if (e) {
          g_propagate_error (error, e);
          return FALSE;
        }
        if (!layers || layers->len == 0) {
          if (layers)
            g_array_unref (layers);
          FAIL (YOLO_CFG_ERROR_SYNTAX, "%s:%d: [route] needs layers=",
              cfg->path, s->line);
        }
        if (!opt_int (cfg, s, "groups", 1, &groups, error) ||
            !opt_int (cfg, s, "group_id", 0, &group_id, error)) {
          g_array_unref (layers);
          return FALSE;
        }
        for (guint k = 0; k < layers->len; k++) {
          gint idx = resolve_index (g_array_index (layers, gint, k), i);
          CfgSection *src;
          if (idx < 0 || idx >= (gint) i) {
            g_array_unref (layers);
            FAIL (YOLO_CFG_ERROR_SYNTAX, "%s:%d: [route] layers= refers to "
                "layer %d, outside 0..%u", cfg->path, s->line, idx, i - 1);
          }
          src = layer (cfg, idx);
          if (k == 0) {
            w = src->out_w;
            h = src->out_h;
          } else if (src->out_w != w || src->out_h != h) {
            g_array_unref (layers);
            FAIL (YOLO_CFG_ERROR_SYNTAX, "%s:%d: [route] concatenates layers "
                "of different sizes (%dx%d and %dx%d)", cfg->path, s->line,
                (gint) w, (gint) h, src->out_w, src->out_h);
          }
          sum_c += src->out_c;
        }
        g_array_unref (layers);
        if (groups <= 0 || sum_c % groups != 0 || group_id < 0
            || group_id >= groups)
          FAIL (YOLO_CFG_ERROR_SYNTAX, "%s:%d: [route] groups=%d group_id=%d "
              "do not split %d channels", cfg->path, s->line, groups,
              group_id, sum_c);
        c = sum_c / groups;
        break;
      }
      case SEC_SHORTCUT:{
        GError *e = NULL;
        GArray *from = opt_int_list (cfg, s, "from", &e);
        if (e) {
          g_propagate_error (error, e);
          return FALSE;
        }
        if (!from || from->len == 0) {
          if (from)
            g_array_unref (from);
          FAIL (YOLO_CFG_ERROR_SYNTAX, "%s:%d: [shortcut] needs from=",
              cfg->path, s->line);
        }
        for (guint k = 0; k < from->len; k++) {
          gint idx = resolve_index (g_array_index (from, gint, k), i);
          if (idx < 0 || idx >= (gint) i) {
            g_array_unref (from);
            FAIL (YOLO_CFG_ERROR_SYNTAX, "%s:%d: [shortcut] from= refers to "
                "layer %d, outside 0..%u", cfg->path, s->line, idx, i - 1);
          }
        }
        g_array_unref (from);
        break;                  /* output = previous layer's shape */
      }
      case SEC_UPSAMPLE:{
        gint stride;
        if (!opt_int (cfg, s, "stride", 2, &stride, error))
          return FALSE;
        if (stride == 0)
          FAIL (YOLO_CFG_ERROR_SYNTAX, "%s:%d: [upsample] stride=0",
              cfg->path, s->line);
        if (stride > 0) {
          w *= stride;
          h *= stride;
        } else {
          w /= -stride;
          h /= -stride;
        }
        break;
      }
      case SEC_REORG:{
        gint stride;
        if (!opt_int (cfg, s, "stride", 1, &stride, error))
          return FALSE;
        if (stride <= 0)
          FAIL (YOLO_CFG_ERROR_SYNTAX, "%s:%d: [reorg] stride must be "
              "positive", cfg->path, s->line);
        w /= stride;
        h /= stride;
        c *= stride * stride;
        break;
      }
      case SEC_YOLO:
      case SEC_REGION:{
        gint cls, num, coords = 4, n_anchors;
        gdouble sxy = 1.0;
        GError *e = NULL;
        GArray *mask = NULL;
        YoloCfgOutput out;
        if (!opt_int (cfg, s, "classes", 20, &cls, error) ||
            !opt_int (cfg, s, "num", 1, &num, error) ||
            !opt_float (cfg, s, "scale_x_y", 1.0, &sxy, error))
          return FALSE;
        if (s->type == SEC_REGION
            && !opt_int (cfg, s, "coords", 4, &coords, error))
          return FALSE;
        if (cls <= 0 || num <= 0)
          FAIL (YOLO_CFG_ERROR_SYNTAX, "%s:%d: [%s] classes and num must be "
              "positive", cfg->path, s->line, s->name);
        if (s->type == SEC_YOLO)
          mask = opt_int_list (cfg, s, "mask", &e);
        if (e) {
          g_propagate_error (error, e);
          return FALSE;
        }
        n_anchors = mask ? (gint) mask->len : num;
        if (mask) {
          for (guint k = 0; k < mask->len; k++) {
            gint m = g_array_index (mask, gint, k);
            if (m < 0 || m >= num) {
              g_array_unref (mask);
              FAIL (YOLO_CFG_ERROR_SYNTAX, "%s:%d: [yolo] mask entry %d is "
                  "not an anchor index below num=%d", cfg->path, s->line, m,
                  num);
            }
          }
          g_array_unref (mask);
        }
        {
          const CfgOption *a = find_opt (s, "anchors");
          guint n_values = 0;
          if (a) {
            gchar **parts = g_strsplit (a->value, ",", -1);
            for (gchar ** p = parts; *p; p++)
              if (**p)
                n_values++;
            g_strfreev (parts);
          }
          if (n_values < 2u * num)
            FAIL (YOLO_CFG_ERROR_SYNTAX, "%s:%d: [%s] num=%d needs %d anchor "
                "values, found %u", cfg->path, a ? a->line : s->line,
                s->name, num, 2 * num, n_values);
        }
        if (c != n_anchors * (cls + coords + 1))
          FAIL (YOLO_CFG_ERROR_SYNTAX, "%s:%d: [%s] expects %d x (classes=%d "
              "+ %d) = %d input channels, the layer before gives %d (filters= "
              "of the previous [convolutional] does not match classes=)",
              cfg->path, s->line, s->name, n_anchors, cls, coords + 1,
              n_anchors * (cls + coords + 1), (gint) c);
        if (classes >= 0 && classes != cls)
          FAIL (YOLO_CFG_ERROR_SYNTAX, "%s:%d: [%s] classes=%d differs from "
              "classes=%d of an earlier detection layer", cfg->path, s->line,
              s->name, cls, classes);
        classes = cls;
        out.layer = i;
        out.grid_w = w;
        out.grid_h = h;
        out.n_anchors = n_anchors;
        out.classes = cls;
        out.scale_x_y = sxy;
        g_array_append_val (cfg->outputs, out);
        break;
      }
      case SEC_SCALE_CHANNELS:
      case SEC_SAM:{
        /* output has the shape of the from= layer (scaled by the previous) */
        gint from;
        CfgSection *src;
        if (!opt_int (cfg, s, "from", 0, &from, error))
          return FALSE;
        from = resolve_index (from, i);
        if (!find_opt (s, "from") || from < 0 || from >= (gint) i)
          FAIL (YOLO_CFG_ERROR_SYNTAX, "%s:%d: [%s] needs from= a previous "
              "layer", cfg->path, s->line, s->name);
        src = layer (cfg, from);
        w = src->out_w;
        h = src->out_h;
        c = src->out_c;
        break;
      }
      case SEC_SOFTMAX:
      case SEC_DROPOUT:
      case SEC_COST:
        break;
      case SEC_NET:
        g_assert_not_reached ();
    }
    if (w <= 0 || h <= 0 || c <= 0)
      FAIL (YOLO_CFG_ERROR_SYNTAX, "%s:%d: [%s] leaves an empty output "
          "(%" G_GINT64_FORMAT "x%" G_GINT64_FORMAT "x%" G_GINT64_FORMAT
          ") for a %dx%d input", cfg->path, s->line, s->name, w, h, c,
          cfg->width, cfg->height);
    if (w > MAX_DIM || h > MAX_DIM || c > MAX_DIM)
      FAIL (YOLO_CFG_ERROR_SYNTAX, "%s:%d: [%s] output %" G_GINT64_FORMAT "x%"
          G_GINT64_FORMAT "x%" G_GINT64_FORMAT " is larger than %d in some "
          "dimension", cfg->path, s->line, s->name, w, h, c, MAX_DIM);
    s->out_w = w;
    s->out_h = h;
    s->out_c = c;
  }
  if (classes < 0)
    FAIL (YOLO_CFG_ERROR_UNSUPPORTED, "%s: no [yolo] or [region] layer: not a "
        "YOLO detector", cfg->path);
  cfg->classes = classes;
  return TRUE;
}

static YoloCfg *
cfg_from_text (const gchar * path, const gchar * text, GError ** error)
{
  YoloCfg *cfg = g_new0 (YoloCfg, 1);
  cfg->path = g_strdup (path);
  cfg->sections = g_ptr_array_new_with_free_func (section_free);
  cfg->layout = g_array_new (FALSE, FALSE, sizeof (YoloParamBlock));
  cfg->outputs = g_array_new (FALSE, FALSE, sizeof (YoloCfgOutput));
  if (!parse_text (cfg, text, error) || !infer_shapes (cfg, error)) {
    yolo_cfg_free (cfg);
    return NULL;
  }
  return cfg;
}

static void
set_option (CfgSection * s, const gchar * key, gint value)
{
  for (guint i = 0; i < s->options->len; i++) {
    CfgOption *o = &g_array_index (s->options, CfgOption, i);
    if (strcmp (o->key, key) == 0) {
      g_free (o->value);
      o->value = g_strdup_printf ("%d", value);
      return;
    }
  }
  {
    CfgOption o = { g_strdup (key), g_strdup_printf ("%d", value), s->line };
    g_array_prepend_val (s->options, o);
  }
}

gboolean
yolo_cfg_check_input_size (const YoloCfg * cfg, gint width, gint height,
    GError ** error)
{
  YoloCfg *resized;
  GError *e = NULL;
  gboolean ok;

  if (width <= 0 || height <= 0)
    FAIL (YOLO_CFG_ERROR_UNSUPPORTED, "input size %dx%d is not positive",
        width, height);
  if (width == cfg->width && height == cfg->height)
    return TRUE;
  /* a copy of the parsed sections (same line numbers) with the new size */
  resized = g_new0 (YoloCfg, 1);
  resized->path = g_strdup (cfg->path);
  resized->sections = g_ptr_array_new_with_free_func (section_free);
  resized->layout = g_array_new (FALSE, FALSE, sizeof (YoloParamBlock));
  resized->outputs = g_array_new (FALSE, FALSE, sizeof (YoloCfgOutput));
  for (guint i = 0; i < cfg->sections->len; i++) {
    const CfgSection *src = g_ptr_array_index (cfg->sections, i);
    CfgSection *dst = g_new0 (CfgSection, 1);
    dst->type = src->type;
    dst->name = g_strdup (src->name);
    dst->line = src->line;
    dst->options = g_array_new (FALSE, FALSE, sizeof (CfgOption));
    for (guint k = 0; k < src->options->len; k++) {
      const CfgOption *o = &g_array_index (src->options, CfgOption, k);
      CfgOption c = { g_strdup (o->key), g_strdup (o->value), o->line };
      g_array_append_val (dst->options, c);
    }
    g_ptr_array_add (resized->sections, dst);
  }
  set_option (g_ptr_array_index (resized->sections, 0), "width", width);
  set_option (g_ptr_array_index (resized->sections, 0), "height", height);
  ok = infer_shapes (resized, &e);
  yolo_cfg_free (resized);
  if (!ok) {
    g_set_error (error, YOLO_CFG_ERROR, YOLO_CFG_ERROR_UNSUPPORTED,
        "input size %dx%d does not work for this network (cfg is %dx%d): %s",
        width, height, cfg->width, cfg->height, e->message);
    g_error_free (e);
  }
  return ok;
}

YoloCfg *
yolo_cfg_load (const gchar * path, GError ** error)
{
  gchar *text = NULL;
  gsize len = 0;
  GError *e = NULL;
  YoloCfg *cfg;

  g_return_val_if_fail (path != NULL, NULL);

  if (!g_file_get_contents (path, &text, &len, &e)) {
    g_set_error (error, YOLO_CFG_ERROR, YOLO_CFG_ERROR_NOT_FOUND,
        "cannot read cfg file: %s", e->message);
    g_error_free (e);
    return NULL;
  }
  if (memchr (text, '\0', len) || !g_utf8_validate (text, len, NULL)) {
    g_set_error (error, YOLO_CFG_ERROR, YOLO_CFG_ERROR_SYNTAX,
        "%s:1: not a text file (a darknet .cfg is plain text)", path);
    g_free (text);
    return NULL;
  }
  cfg = cfg_from_text (path, text, error);
  g_free (text);
  return cfg;
}

const gchar *
yolo_cfg_path (const YoloCfg * cfg)
{
  return cfg->path;
}

gint
yolo_cfg_width (const YoloCfg * cfg)
{
  return cfg->width;
}

gint
yolo_cfg_height (const YoloCfg * cfg)
{
  return cfg->height;
}

gint
yolo_cfg_channels (const YoloCfg * cfg)
{
  return cfg->channels;
}

gint
yolo_cfg_classes (const YoloCfg * cfg)
{
  return cfg->classes;
}

guint
yolo_cfg_n_layers (const YoloCfg * cfg)
{
  return n_layers (cfg);
}

guint64
yolo_cfg_param_count (const YoloCfg * cfg, GError ** error)
{
  return cfg->n_params;
}

GArray *
yolo_cfg_param_layout (const YoloCfg * cfg)
{
  return g_array_ref (cfg->layout);
}

guint
yolo_cfg_n_outputs (const YoloCfg * cfg)
{
  return cfg->outputs->len;
}

const YoloCfgOutput *
yolo_cfg_output (const YoloCfg * cfg, guint index)
{
  g_return_val_if_fail (index < cfg->outputs->len, NULL);
  return &g_array_index (cfg->outputs, YoloCfgOutput, index);
}

/* ---- what each backend runs ---- */

/* Options that change the computed network. Anything not listed here and not in
 * the training-only list below is reported as ignored (debug log). */
typedef struct {
  SectionType type;             /* -1: any section */
  const gchar *key;
  guint backends;               /* which run it with any value */
  const gchar *neutral;         /* value accepted everywhere (NULL: none) */
  const gchar *why;
} OptionInfo;

#define ANY_SECTION ((SectionType) -1)

#ifdef HAVE_DARKNET_PREDICT_PTR
/* AlexeyAB's fork: runs YOLOv4's layers. */
#define BK_DN_FORK BK_DARKNET
#else
#define BK_DN_FORK 0
#endif

static const OptionInfo option_infos[] = {
  {SEC_CONV, "filters", BK_ALL, NULL, NULL},
  {SEC_CONV, "size", BK_ALL, NULL, NULL},
  {SEC_CONV, "stride", BK_ALL, NULL, NULL},
  {SEC_CONV, "pad", BK_ALL, NULL, NULL},
  {SEC_CONV, "padding", BK_ALL, NULL, NULL},
  {SEC_CONV, "groups", BK_ALL, NULL, NULL},
  {SEC_CONV, "batch_normalize", BK_ALL, NULL, NULL},
  {SEC_CONV, "flipped", BK_DARKNET, "0", "transposed kernels"},
  {SEC_CONV, "binary", 0, "0", "binary weights"},
  {SEC_CONV, "xnor", 0, "0", "XNOR network"},
  {SEC_CONV, "dilation", BK_DN_FORK, "1", "dilated convolution"},
  {SEC_CONV, "stride_x", BK_DN_FORK, NULL, "separate x stride"},
  {SEC_CONV, "stride_y", BK_DN_FORK, NULL, "separate y stride"},
  {SEC_CONV, "antialiasing", BK_DN_FORK, "0", "antialiasing"},
  {SEC_CONV, "deform", 0, "0", "deformable convolution"},
  {SEC_CONV, "share_index", 0, NULL, "weight sharing"},
  {SEC_CONNECTED, "output", BK_ALL, NULL, NULL},
  {SEC_CONNECTED, "batch_normalize", BK_ALL, NULL, NULL},
  {SEC_MAXPOOL, "size", BK_ALL, NULL, NULL},
  {SEC_MAXPOOL, "stride", BK_ALL, NULL, NULL},
  {SEC_MAXPOOL, "padding", BK_ALL, NULL, NULL},
  {SEC_MAXPOOL, "stride_x", BK_DN_FORK, NULL, "separate x stride"},
  {SEC_MAXPOOL, "stride_y", BK_DN_FORK, NULL, "separate y stride"},
  {SEC_MAXPOOL, "maxpool_depth", BK_DN_FORK, "0", "depth max-pooling"},
  {SEC_MAXPOOL, "antialiasing", BK_DN_FORK, "0", "antialiasing"},
  {SEC_SOFTMAX, "groups", BK_DARKNET, "1", "grouped softmax"},
  {SEC_ROUTE, "layers", BK_ALL, NULL, NULL},
  {SEC_ROUTE, "groups", BK_OPENCV | BK_DN_FORK, "1", "grouped route; "
        "libdarknet 2018 would ignore it and build a silently wrong network"},
  {SEC_ROUTE, "group_id", BK_OPENCV | BK_DN_FORK, "0", "channel groups"},
  {SEC_SHORTCUT, "from", BK_ALL, NULL, NULL},
  {SEC_SHORTCUT, "alpha", BK_ALL, NULL, NULL},
  {SEC_SHORTCUT, "beta", BK_DARKNET, "0", "non-zero beta"},
  {SEC_SHORTCUT, "weights_type", BK_DN_FORK, "none", "weighted shortcut"},
  {SEC_SHORTCUT, "weights_normalization", BK_DN_FORK, "none",
      "weighted shortcut"},
  {SEC_UPSAMPLE, "stride", BK_ALL, NULL, NULL},
  {SEC_UPSAMPLE, "scale", BK_DARKNET, "1", "scaled upsample"},
  {SEC_YOLO, "mask", BK_ALL, NULL, NULL},
  {SEC_YOLO, "anchors", BK_ALL, NULL, NULL},
  {SEC_YOLO, "classes", BK_ALL, NULL, NULL},
  {SEC_YOLO, "num", BK_ALL, NULL, NULL},
  {SEC_YOLO, "scale_x_y", BK_OPENCV | BK_DN_FORK, "1",
      "grid sensitivity scaling; libdarknet 2018 would ignore it"},
  {SEC_YOLO, "new_coords", 0, "0", "scaled-YOLOv4 box coordinates"},
  {SEC_REGION, "classes", BK_ALL, NULL, NULL},
  {SEC_REGION, "num", BK_ALL, NULL, NULL},
  {SEC_REGION, "coords", BK_ALL, NULL, NULL},
  {SEC_REGION, "anchors", BK_ALL, NULL, NULL},
  {SEC_REGION, "softmax", BK_ALL, NULL, NULL},
  {SEC_REGION, "tree", BK_ALL, NULL, NULL},
  {SEC_REORG, "stride", BK_ALL, NULL, NULL},
  {SEC_REORG, "reverse", BK_DARKNET, "0", "reverse reorg"},
  {SEC_REORG, "flatten", BK_DARKNET, "0", "flatten reorg"},
  {SEC_REORG, "extra", BK_DARKNET, "0", "extra reorg"},
  {SEC_DROPOUT, "probability", BK_ALL, NULL, NULL},
  {ANY_SECTION, "activation", BK_ALL, NULL, NULL},
  {ANY_SECTION, "dontload", 0, "0", "skipping weights"},
  {ANY_SECTION, "dontloadscales", 0, "0", "skipping batch-norm weights"},
  {ANY_SECTION, "numload", 0, NULL, "partial weights"},
};

static gboolean
value_is_neutral (const gchar * value, const gchar * neutral)
{
  gchar *end = NULL;
  gdouble a, b;

  if (g_ascii_strcasecmp (value, neutral) == 0)
    return TRUE;
  a = g_ascii_strtod (value, &end);
  if (end == value || *end)
    return FALSE;
  b = g_ascii_strtod (neutral, NULL);
  return a == b;
}

static const gchar *
backend_label (YoloBackendKind kind)
{
  switch (kind) {
    case YOLO_BACKEND_KIND_OPENCV:
      return "the opencv backend (OpenCV DNN darknet importer)";
    case YOLO_BACKEND_KIND_DARKNET:
#ifdef HAVE_DARKNET_PREDICT_PTR
      return "the darknet backend (AlexeyAB darknet)";
#else
      return "the darknet backend (Debian libdarknet 2018)";
#endif
  }
  return "?";
}

gboolean
yolo_cfg_check_backend (const YoloCfg * cfg, YoloBackendKind kind,
    GError ** error)
{
  const guint bit = 1u << kind;
  const gchar *const *acts;

  switch (kind) {
    case YOLO_BACKEND_KIND_OPENCV:
      acts = opencv_activations;
      break;
    case YOLO_BACKEND_KIND_DARKNET:
#ifdef HAVE_DARKNET_PREDICT_PTR
      acts = fork_activations;
#else
      acts = darknet2018_activations;
#endif
      break;
    default:
      g_return_val_if_reached (FALSE);
  }

  for (guint si = 0; si < cfg->sections->len; si++) {
    const CfgSection *s = g_ptr_array_index (cfg->sections, si);
    const SectionInfo *info = lookup_section (s->name);

    if (!(info->backends & bit))
      FAIL (YOLO_CFG_ERROR_UNSUPPORTED, "%s:%d: section [%s] is not supported "
          "by %s", cfg->path, s->line, s->name, backend_label (kind));
    if (s->type == SEC_NET)
      continue;

    for (guint oi = 0; oi < s->options->len; oi++) {
      const CfgOption *o = &g_array_index (s->options, CfgOption, oi);
      const OptionInfo *known = NULL;

      for (guint k = 0; k < G_N_ELEMENTS (option_infos); k++) {
        const OptionInfo *oinfo = &option_infos[k];
        if ((oinfo->type == s->type || oinfo->type == ANY_SECTION)
            && strcmp (oinfo->key, o->key) == 0) {
          known = oinfo;
          break;
        }
      }
      if (!known)
        continue;               /* training-only or unknown: every backend ignores it */
      if (strcmp (o->key, "activation") == 0) {
        if (!g_strv_contains (acts, o->value))
          FAIL (YOLO_CFG_ERROR_UNSUPPORTED, "%s:%d: [%s] activation=%s is not "
              "supported by %s", cfg->path, o->line, s->name, o->value,
              backend_label (kind));
        continue;
      }
      if (known->backends & bit)
        continue;
      if (known->neutral && value_is_neutral (o->value, known->neutral))
        continue;
      FAIL (YOLO_CFG_ERROR_UNSUPPORTED, "%s:%d: [%s] %s=%s is not supported "
          "by %s: %s", cfg->path, o->line, s->name, o->key, o->value,
          backend_label (kind), known->why);
    }
    /* downsampling [upsample] (negative stride): darknet only */
    if (s->type == SEC_UPSAMPLE && kind == YOLO_BACKEND_KIND_OPENCV) {
      const CfgOption *st = find_opt (s, "stride");
      if (st && st->value[0] == '-')
        FAIL (YOLO_CFG_ERROR_UNSUPPORTED, "%s:%d: [upsample] stride=%s "
            "(downsampling) is not supported by %s", cfg->path, st->line,
            st->value, backend_label (kind));
    }
    /* multi-input shortcut (AlexeyAB) */
    if (s->type == SEC_SHORTCUT && !(BK_DN_FORK & bit)) {
      const CfgOption *from = find_opt (s, "from");
      if (from && strchr (from->value, ','))
        FAIL (YOLO_CFG_ERROR_UNSUPPORTED, "%s:%d: [shortcut] from=%s (several "
            "inputs) is not supported by %s", cfg->path, from->line,
            from->value, backend_label (kind));
    }
  }
  return TRUE;
}

/* ---- weights ---- */

gboolean
yolo_cfg_check_weights (const YoloCfg * cfg, const gchar * weights_path,
    GError ** error)
{
  GStatBuf st;
  FILE *f;
  gint32 hdr[2] = { 0, 0 };
  guint64 header, expected, size;

  if (g_stat (weights_path, &st) != 0)
    FAIL (YOLO_CFG_ERROR_NOT_FOUND, "cannot read weights file '%s': %s",
        weights_path, g_strerror (errno));
  if (!S_ISREG (st.st_mode))
    FAIL (YOLO_CFG_ERROR_NOT_FOUND, "weights file '%s' is not a regular file",
        weights_path);
  size = st.st_size;
  /* the smallest possible header is 16 bytes (versions before 0.2) */
  if (size < 16)
    FAIL (YOLO_CFG_ERROR_WEIGHTS, "weights file '%s' is %" G_GUINT64_FORMAT
        " bytes%s; cfg '%s' needs %" G_GUINT64_FORMAT " bytes (20-byte header "
        "+ %" G_GUINT64_FORMAT " parameters x 4)", weights_path, size,
        size == 0 ? " (empty)" : ", too short for a darknet header",
        cfg->path, 20 + 4 * cfg->n_params, cfg->n_params);

  f = g_fopen (weights_path, "rb");
  if (!f || fread (hdr, sizeof (gint32), 2, f) != 2) {
    if (f)
      fclose (f);
    FAIL (YOLO_CFG_ERROR_NOT_FOUND, "cannot read weights file '%s'",
        weights_path);
  }
  fclose (f);
  if (hdr[0] < 0 || hdr[1] < 0 || hdr[0] > 1000 || hdr[1] > 1000)
    FAIL (YOLO_CFG_ERROR_WEIGHTS, "weights file '%s' has an unknown header "
        "(version %d.%d): not darknet weights, or the transposed format no "
        "backend reads", weights_path, hdr[0], hdr[1]);
  /* darknet load_weights(): "seen" is a size_t from version 0.2 on. */
  header = 12 + ((hdr[0] * 10 + hdr[1]) >= 2 ? 8 : 4);
  expected = header + 4 * cfg->n_params;
  if (size != expected)
    FAIL (YOLO_CFG_ERROR_WEIGHTS, "weights file '%s' is %" G_GUINT64_FORMAT
        " bytes but cfg '%s' needs %" G_GUINT64_FORMAT " bytes (%"
        G_GUINT64_FORMAT "-byte header + %" G_GUINT64_FORMAT " parameters x "
        "4): %s", weights_path, size, cfg->path, expected, header,
        cfg->n_params, size < expected ? "truncated, or weights of a bigger "
        "network" : "too long, weights of another network");
  return TRUE;
}

/* ---- labels ---- */

gchar **
yolo_cfg_load_labels (const YoloCfg * cfg, const gchar * names_path,
    GError ** error)
{
  gchar *text = NULL;
  GError *e = NULL;
  gchar **lines;
  guint n;

  if (!g_file_get_contents (names_path, &text, NULL, &e)) {
    g_set_error (error, YOLO_CFG_ERROR, YOLO_CFG_ERROR_NOT_FOUND,
        "cannot read names file: %s", e->message);
    g_error_free (e);
    return NULL;
  }
  lines = g_strsplit (text, "\n", -1);
  g_free (text);
  n = g_strv_length (lines);
  for (guint i = 0; i < n; i++)
    g_strchomp (lines[i]);      /* CR, trailing blanks */
  /* trailing empty lines (final newline) are not labels */
  while (n > 0 && lines[n - 1][0] == '\0') {
    g_free (lines[n - 1]);
    lines[--n] = NULL;
  }
  for (guint i = 0; i < n; i++) {
    if (lines[i][0] == '\0') {
      g_set_error (error, YOLO_CFG_ERROR, YOLO_CFG_ERROR_LABELS,
          "%s:%u: empty label", names_path, i + 1);
      g_strfreev (lines);
      return NULL;
    }
  }
  if ((gint) n != cfg->classes) {
    g_set_error (error, YOLO_CFG_ERROR, YOLO_CFG_ERROR_LABELS,
        "names file '%s' has %u labels but cfg '%s' has classes=%d",
        names_path, n, cfg->path, cfg->classes);
    g_strfreev (lines);
    return NULL;
  }
  return lines;
}

/* ---- rewritten cfg for the backends ---- */

static void
emit_default (GString * out, const CfgSection * s, const gchar * key,
    const gchar * value)
{
  if (!find_opt (s, key))
    g_string_append_printf (out, "%s=%s\n", key, value);
}

/* darknet's and OpenCV's importers disagree on many defaults (maxpool stride
 * 1 vs 2, upsample stride 2 vs 1, convolutional activation logistic vs
 * linear, ...). The rewrite spells out darknet's defaults -- the ones our shape
 * inference uses -- so both backends build the same network. */
static void
append_defaults (GString * out, const CfgSection * s)
{
  switch (s->type) {
    case SEC_CONV:
      emit_default (out, s, "filters", "1");
      emit_default (out, s, "size", "1");
      emit_default (out, s, "stride", "1");
      emit_default (out, s, "activation", "logistic");
      break;
    case SEC_CONNECTED:
      emit_default (out, s, "output", "1");
      emit_default (out, s, "activation", "logistic");
      break;
    case SEC_MAXPOOL:{
      const CfgOption *stride = find_opt (s, "stride");
      emit_default (out, s, "stride", "1");
      emit_default (out, s, "size", stride ? stride->value : "1");
      break;
    }
    case SEC_UPSAMPLE:
      emit_default (out, s, "stride", "2");
      break;
    case SEC_REORG:
      emit_default (out, s, "stride", "1");
      break;
    case SEC_YOLO:
      /* darknet: no mask= means every anchor; OpenCV insists on a mask */
      if (!find_opt (s, "mask")) {
        const CfgOption *num = find_opt (s, "num");
        gint n = num ? atoi (num->value) : 1;
        g_string_append (out, "mask=");
        for (gint k = 0; k < n; k++)
          g_string_append_printf (out, k ? ",%d" : "%d", k);
        g_string_append_c (out, '\n');
      }
      /* fall through */
    case SEC_REGION:
      emit_default (out, s, "classes", "20");
      emit_default (out, s, "num", "1");
      break;
    default:
      break;
  }
}

gchar *
yolo_cfg_to_string (const YoloCfg * cfg, gint batch, gint width, gint height,
    gdouble yolo_thresh)
{
  GString *out = g_string_new (NULL);
  gchar buf[G_ASCII_DTOSTR_BUF_SIZE];

  for (guint si = 0; si < cfg->sections->len; si++) {
    const CfgSection *s = g_ptr_array_index (cfg->sections, si);
    g_string_append_printf (out, "[%s]\n", canonical_names[s->type]);
    if (s->type == SEC_NET) {
      g_string_append_printf (out, "batch=%d\nsubdivisions=1\nwidth=%d\n"
          "height=%d\n", MAX (batch, 1), width > 0 ? width : cfg->width,
          height > 0 ? height : cfg->height);
    }
    for (guint oi = 0; oi < s->options->len; oi++) {
      const CfgOption *o = &g_array_index (s->options, CfgOption, oi);
      if (s->type == SEC_NET && (!strcmp (o->key, "batch")
              || !strcmp (o->key, "subdivisions") || !strcmp (o->key, "width")
              || !strcmp (o->key, "height")))
        continue;
      if (s->type == SEC_YOLO && yolo_thresh >= 0
          && !strcmp (o->key, "thresh"))
        continue;
      g_string_append_printf (out, "%s=%s\n", o->key, o->value);
    }
    if (s->type == SEC_YOLO && yolo_thresh >= 0)
      g_string_append_printf (out, "thresh=%s\n",
          g_ascii_dtostr (buf, sizeof buf, yolo_thresh));
    append_defaults (out, s);
    g_string_append_c (out, '\n');
  }
  return g_string_free (out, FALSE);
}
