/* yolo-gen-weights: seeded darknet weights of exactly the right size for a cfg.
 *
 *   yolo-gen-weights [--seed N] CFG OUT.weights
 *
 * The cfg is parsed and validated by yolocfg (the same code the element uses);
 * the file holds the 20-byte darknet 0.2 header and yolo_cfg_param_count()
 * floats laid out as darknet's load_weights() reads them. Random weights
 * detect nothing: they are for shape, load and speed tests (YOLOv4 and
 * YOLOv4-tiny without downloading the official files). */
#include "yolo-test-util.h"

#include <stdlib.h>

int
main (int argc, char **argv)
{
  gint seed = 1;
  GOptionEntry entries[] = {
    {"seed", 's', 0, G_OPTION_ARG_INT, &seed, "Random seed (default 1)", "N"},
    {NULL}
  };
  GOptionContext *ctx = g_option_context_new ("CFG OUT.weights");
  GError *error = NULL;
  YoloCfg *cfg;

  g_option_context_add_main_entries (ctx, entries, NULL);
  g_option_context_set_summary (ctx, "Write seeded darknet weights of the "
      "exact parameter count of a darknet .cfg");
  if (!g_option_context_parse (ctx, &argc, &argv, &error) || argc != 3) {
    g_printerr ("%s\n", error ? error->message :
        "usage: yolo-gen-weights [--seed N] CFG OUT.weights");
    return 2;
  }
  g_option_context_free (ctx);
  cfg = yolo_cfg_load (argv[1], &error);
  if (!cfg || !yolo_test_write_weights (cfg, argv[2], (guint32) seed, &error)) {
    g_printerr ("yolo-gen-weights: %s\n", error->message);
    return 1;
  }
  g_print ("%s: %" G_GUINT64_FORMAT " parameters, %" G_GUINT64_FORMAT
      " bytes (seed %d)\n", argv[2], yolo_cfg_param_count (cfg, NULL),
      20 + 4 * yolo_cfg_param_count (cfg, NULL), seed);
  yolo_cfg_free (cfg);
  return 0;
}
