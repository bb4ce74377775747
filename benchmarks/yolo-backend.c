/* yolo-backend-bench: the inference backends of yolov4infer, driven directly.
 *
 * For each (model, backend): model load time (open), first-frame time and
 * steady-state time per frame / fps, on the same decoded frame (dog.jpg, plain
 * resize). The backends are run in interleaved rounds so that machine noise
 * hits all of them alike; figures are medians over the rounds, and every fps
 * is also given as a ratio to the named baseline measured in the same run:
 * "opencv, Yolo-Fastest 1.1 @320".
 *
 *   yolo-backend-bench --shared ../shared --yolov4-tiny-weights W [--frames N] [--rounds R]
 *
 * Prints a markdown section (benchmarks/yolo-backend.sh feeds it to
 * benchmarks/lib/update-section.sh yolo-backend).
 */
#include "yolo-test-util.h"

#include <gst/gst.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct
{
  const gchar *model;           /* display name */
  const YoloBackendVTable *vt;
  gchar *cfg_path, *weights_path;
  YoloCfg *cfg;
  gint size;
  gint batch;                   /* images per infer() call */
  gfloat *input;                /* batch images back to back */
  GArray *load_ms, *first_ms, *steady_ms;       /* per round */
  gchar *skipped;               /* why this pair does not run */
} Case;

static gint
cmp_double (gconstpointer a, gconstpointer b)
{
  gdouble x = *(const gdouble *) a, y = *(const gdouble *) b;
  return (x > y) - (x < y);
}

static gdouble
median (GArray * values)
{
  GArray *c = g_array_copy (values);
  gdouble m;
  g_array_sort (c, cmp_double);
  m = c->len == 0 ? 0 : (c->len % 2 ? g_array_index (c, gdouble, c->len / 2)
      : (g_array_index (c, gdouble, c->len / 2 - 1) +
          g_array_index (c, gdouble, c->len / 2)) / 2);
  g_array_unref (c);
  return m;
}

static gdouble
now_ms (void)
{
  return g_get_monotonic_time () / 1000.0;
}

static gboolean
run_round (Case * c, gint frames, GError ** error)
{
  YoloBackendOptions opts = {
    .cfg_path = c->cfg_path,.weights_path = c->weights_path,.cfg = c->cfg,
    .width = c->size,.height = c->size,.device = "cpu",.max_batch = c->batch,
  };
  YoloBackend *b;
  GArray *out[8];
  gdouble t0, t1, load, first;
  GArray *per_frame = g_array_new (FALSE, FALSE, sizeof (gdouble));

  t0 = now_ms ();
  b = c->vt->open (&opts, error);
  if (!b)
    return FALSE;
  t1 = now_ms ();
  load = t1 - t0;
  if (!c->vt->infer (b, c->input, c->batch, 0.25f, out, error))
    goto fail;
  first = now_ms () - t1;
  for (gint k = 0; k < c->batch; k++)
    g_array_unref (out[k]);
  /* about @frames frames per round whatever the batch */
  for (gint i = 0; i < MAX (frames / c->batch, 3); i++) {
    gdouble s = now_ms ();
    if (!c->vt->infer (b, c->input, c->batch, 0.25f, out, error))
      goto fail;
    gdouble d = (now_ms () - s) / c->batch;     /* per frame */
    for (gint k = 0; k < c->batch; k++)
      g_array_unref (out[k]);
    g_array_append_val (per_frame, d);
  }
  c->vt->close (b);
  {
    gdouble steady = median (per_frame);
    g_array_append_val (c->load_ms, load);
    g_array_append_val (c->first_ms, first);
    g_array_append_val (c->steady_ms, steady);
  }
  g_array_unref (per_frame);
  return TRUE;
fail:
  c->vt->close (b);
  g_array_unref (per_frame);
  return FALSE;
}

int
main (int argc, char **argv)
{
  gchar *shared = NULL, *tiny_weights = NULL;
  gint frames = 30, rounds = 3;
  GOptionEntry entries[] = {
    {"shared", 0, 0, G_OPTION_ARG_FILENAME, &shared, "../shared directory",
        "DIR"},
    {"yolov4-tiny-weights", 0, 0, G_OPTION_ARG_FILENAME, &tiny_weights,
        "generated weights for yolov4-tiny.cfg (scripts/gen-weights)", "FILE"},
    {"frames", 0, 0, G_OPTION_ARG_INT, &frames, "steady-state frames per "
          "round (default 30)", "N"},
    {"rounds", 0, 0, G_OPTION_ARG_INT, &rounds, "interleaved rounds "
          "(default 3)", "R"},
    {NULL}
  };
  GOptionContext *ctx = g_option_context_new ("- yolov4infer backend speed");
  GError *error = NULL;
  GPtrArray *cases = g_ptr_array_new ();
  Case *baseline = NULL;

  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!g_option_context_parse (ctx, &argc, &argv, &error) || !shared
      || !tiny_weights) {
    g_printerr ("%s\n", error ? error->message :
        "--shared and --yolov4-tiny-weights are required");
    return 2;
  }
  g_option_context_free (ctx);
  gst_init (NULL, NULL);

  {
    const struct
    {
      const gchar *name, *cfg, *weights;
      gint size;
    } models[] = {
      {"Yolo-Fastest 1.1 (COCO weights)",
          "models/yolo-fastest-1.1-coco/yolo-fastest-1.1.cfg",
          "models/yolo-fastest-1.1-coco/yolo-fastest-1.1.weights", 320},
      {"YOLOv4-tiny (generated weights)", "models/cfg/yolov4-tiny.cfg",
          NULL, 416},
    };
    const YoloBackendVTable *vts[] = { yolo_backend_opencv (),
      yolo_backend_darknet ()
    };
    for (guint mi = 0; mi < G_N_ELEMENTS (models); mi++) {
      for (guint bi = 0; bi < G_N_ELEMENTS (vts); bi++) {
        Case *c = g_new0 (Case, 1);
        c->model = models[mi].name;
        c->vt = vts[bi];
        c->size = models[mi].size;
        c->batch = 1;
        c->cfg_path = g_build_filename (shared, models[mi].cfg, NULL);
        c->weights_path = models[mi].weights ?
            g_build_filename (shared, models[mi].weights, NULL) :
            g_strdup (tiny_weights);
        c->load_ms = g_array_new (FALSE, FALSE, sizeof (gdouble));
        c->first_ms = g_array_new (FALSE, FALSE, sizeof (gdouble));
        c->steady_ms = g_array_new (FALSE, FALSE, sizeof (gdouble));
        if (!c->vt) {
          c->skipped = g_strdup ("backend not compiled in");
        } else {
          c->cfg = yolo_cfg_load (c->cfg_path, &error);
          if (!c->cfg) {
            g_printerr ("yolo-backend-bench: %s\n", error->message);
            return 1;
          }
          if (!yolo_cfg_check_backend (c->cfg, c->vt->kind, &error)) {
            c->skipped = g_strdup (error->message);
            g_clear_error (&error);
          } else {
            c->input = yolo_test_load_image ("/usr/share/darknet/data/dog.jpg",
                c->size, c->size, &error);
            if (!c->input) {
              g_printerr ("yolo-backend-bench: %s\n", error->message);
              return 1;
            }
          }
        }
        if (mi == 0 && bi == 0)
          baseline = c;
        g_ptr_array_add (cases, c);
        if (mi == 0 && c->input) {
          /* the same model and backend, 4 frames per forward pass */
          Case *c4 = g_new0 (Case, 1);
          const gsize n = (gsize) 3 * c->size * c->size;
          *c4 = *c;
          c4->batch = 4;
          c4->input = g_new (gfloat, 4 * n);
          for (gint k = 0; k < 4; k++)
            memcpy (c4->input + k * n, c->input, n * sizeof (gfloat));
          c4->load_ms = g_array_new (FALSE, FALSE, sizeof (gdouble));
          c4->first_ms = g_array_new (FALSE, FALSE, sizeof (gdouble));
          c4->steady_ms = g_array_new (FALSE, FALSE, sizeof (gdouble));
          g_ptr_array_add (cases, c4);
        }
      }
    }
  }
  if (!baseline || baseline->skipped) {
    g_printerr ("yolo-backend-bench: the baseline (opencv backend) cannot run\n");
    return 1;
  }

  for (gint r = 0; r < rounds; r++) {
    for (guint i = 0; i < cases->len; i++) {
      Case *c = g_ptr_array_index (cases, i);
      if (c->skipped)
        continue;
      g_printerr ("round %d/%d: %s on %s, batch %d\n", r + 1, rounds,
          c->model, c->vt->name, c->batch);
      if (!run_round (c, frames, &error)) {
        g_printerr ("yolo-backend-bench: %s/%s: %s\n", c->model, c->vt->name,
            error->message);
        return 1;
      }
    }
  }

  {
    const gdouble base_fps = 1000.0 / median (baseline->steady_ms);
    gchar *machine = NULL;
    g_spawn_command_line_sync ("sh benchmarks/lib/machine.sh", &machine, NULL,
        NULL, NULL);
    g_print ("## yolov4infer backends (engine only, no element)\n\n");
    g_print ("Command: `benchmarks/yolo-backend.sh` (program "
        "`benchmarks/yolo-backend.c`). Machine: %s.\n\n",
        machine ? g_strstrip (machine) : "?");
    g_print ("Method: each backend opened and driven directly through the "
        "engine's C interface on the same decoded frame (dog.jpg, plain "
        "resize to the network size, planar float RGB), CPU. %d "
        "interleaved rounds; per round: open (load), first infer, then %d "
        "steady-state infers (median). Figures are medians over rounds. "
        "Baseline (ratio 1.00): **opencv backend, Yolo-Fastest 1.1 @320**, "
        "measured in the same run. The machine is shared and noisy: compare "
        "ratios, not absolute numbers. Batch 4 = four frames per infer() "
        "call; its times are per frame (first frame = the first call / 4).\n\n",
        rounds, frames);
    g_print ("| model | input | backend | batch | load (ms) | first frame (ms) | "
        "steady (ms/frame) | fps | fps vs baseline | first/steady |\n");
    g_print ("|---|---|---|---:|---:|---:|---:|---:|---:|---:|\n");
    for (guint i = 0; i < cases->len; i++) {
      Case *c = g_ptr_array_index (cases, i);
      if (c->skipped) {
        g_print ("| %s | %d | %s | %d | - | - | - | - | - | refused: %s |\n",
            c->model, c->size, c->vt ? c->vt->name : "?", c->batch,
            g_str_has_prefix (c->skipped, c->cfg_path) ?
            strstr (c->skipped + strlen (c->cfg_path) + 1, ": ") + 2 :
            c->skipped);
        continue;
      }
      {
        gdouble steady = median (c->steady_ms);
        gdouble fps = 1000.0 / steady;
        gdouble first = median (c->first_ms) / c->batch;
        g_print ("| %s | %d | %s | %d | %.1f | %.1f | %.2f | %.1f | %.2f | "
            "%.2f |\n", c->model, c->size, c->vt->name, c->batch,
            median (c->load_ms), first, steady, fps, fps / base_fps,
            first / steady);
      }
    }
    g_print ("\nYOLOv4-tiny runs with seeded generated weights (exact "
        "parameter count, `scripts/gen-weights`): speed is that of the real "
        "network, detections are meaningless. The darknet backend (Debian's "
        "2018 libdarknet) refuses YOLOv4-tiny before loading it (it would "
        "ignore the grouped routes).\n");
    g_free (machine);
  }
  return 0;
}
