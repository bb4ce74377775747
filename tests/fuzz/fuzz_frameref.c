/* libFuzzer target: frame reference (URI) → path resolution and loading.
 *
 * A fixed tree is built once in a temporary directory:
 *   ROOT/cam/2026-01-01/a.jpg        a frame ("frame-a")
 *   ROOT/link-in.jpg   -> cam/2026-01-01/a.jpg      (allowed)
 *   ROOT/link-out.jpg  -> ../outside/secret.jpg     (escapes)
 *   ROOT/dirlink       -> ../outside                (escapes)
 *   ROOT/fifo.jpg      a FIFO
 *   OUTSIDE/secret.jpg "SECRET-OUTSIDE-THE-ROOT"
 * The input is a URI: either a JSON string (the seed corpus is JSON) or raw
 * bytes; "@ROOT@" in it is replaced by the root's path so the fuzzer can reach
 * the interesting cases. Properties: a resolved path is always strictly below
 * the canonical root; the secret is never returned; every refusal is a GError
 * in EDGEFAAS_FRAMEREF_ERROR; nothing blocks (the FIFO) or crashes. */
#include "edgefaas-frameref.h"

#include <json-glib/json-glib.h>
#include <glib/gstdio.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define SECRET "SECRET-OUTSIDE-THE-ROOT"

int LLVMFuzzerInitialize (int *argc, char ***argv);
int LLVMFuzzerTestOneInput (const uint8_t * data, size_t size);

static gchar *base_dir, *root_dir, *canon_root;

static void
rm_tree (void)
{
  gchar *argv[] = { (gchar *) "rm", (gchar *) "-rf", base_dir, NULL };
  g_spawn_sync (NULL, argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL, NULL, NULL, NULL);
}

static void
must (gboolean ok, const gchar * what)
{
  if (!ok) {
    fprintf (stderr, "fuzz_frameref setup failed: %s\n", what);
    abort ();
  }
}

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
  gchar *p, *outside;
  char *c;

  base_dir = g_dir_make_tmp ("edgefaas-fuzz-frameref-XXXXXX", NULL);
  must (base_dir != NULL, "mkdtemp");
  atexit (rm_tree);
  root_dir = g_build_filename (base_dir, "root", NULL);
  outside = g_build_filename (base_dir, "outside", NULL);
  p = g_build_filename (root_dir, "cam", "2026-01-01", NULL);
  must (g_mkdir_with_parents (p, 0755) == 0, "mkdir root");
  must (g_mkdir_with_parents (outside, 0755) == 0, "mkdir outside");
  g_free (p);
  p = g_build_filename (root_dir, "cam", "2026-01-01", "a.jpg", NULL);
  must (g_file_set_contents (p, "frame-a", -1, NULL), "a.jpg");
  g_free (p);
  p = g_build_filename (outside, "secret.jpg", NULL);
  must (g_file_set_contents (p, SECRET, -1, NULL), "secret");
  g_free (p);
  p = g_build_filename (root_dir, "link-in.jpg", NULL);
  must (symlink ("cam/2026-01-01/a.jpg", p) == 0, "link-in");
  g_free (p);
  p = g_build_filename (root_dir, "link-out.jpg", NULL);
  must (symlink ("../outside/secret.jpg", p) == 0, "link-out");
  g_free (p);
  p = g_build_filename (root_dir, "dirlink", NULL);
  must (symlink ("../outside", p) == 0, "dirlink");
  g_free (p);
  p = g_build_filename (root_dir, "fifo.jpg", NULL);
  must (mkfifo (p, 0644) == 0, "fifo");
  g_free (p);
  g_free (outside);
  c = realpath (root_dir, NULL);
  must (c != NULL, "realpath");
  canon_root = g_strdup (c);
  free (c);
  return 0;
}

static gchar *
input_uri (const uint8_t * data, size_t size)
{
  gchar *raw = NULL, *out;
  JsonParser *parser = json_parser_new_immutable ();
  gchar **parts;

  if (size > 0 && data[0] == '"' && json_parser_load_from_data (parser, (const gchar *) data,
          (gssize) size, NULL)) {
    JsonNode *root = json_parser_get_root (parser);
    if (root && JSON_NODE_HOLDS_VALUE (root) && json_node_get_value_type (root) == G_TYPE_STRING)
      raw = g_strdup (json_node_get_string (root));
  }
  g_object_unref (parser);
  if (!raw)
    raw = g_strndup ((const gchar *) data, size);       /* stops at a NUL */
  parts = g_strsplit (raw, "@ROOT@", 8);
  out = g_strjoinv (root_dir, parts);
  g_strfreev (parts);
  g_free (raw);
  return out;
}

int
LLVMFuzzerTestOneInput (const uint8_t * data, size_t size)
{
  GError *error = NULL;
  gchar *uri, *path;
  GBytes *bytes;
  gsize rl = strlen (canon_root);

  if (size > 8192)
    return 0;
  uri = input_uri (data, size);

  path = edgefaas_frameref_resolve (uri, root_dir, &error);
  if (path) {
    if (strncmp (path, canon_root, rl) != 0 || path[rl] != '/' || strstr (path, "/outside/")) {
      fprintf (stderr, "ESCAPE: %s resolved to %s\n", uri, path);
      abort ();
    }
    g_free (path);
  } else {
    if (!error || error->domain != EDGEFAAS_FRAMEREF_ERROR)
      abort ();
    g_clear_error (&error);
  }

  bytes = edgefaas_frameref_load (uri, root_dir, 64, 0, NULL, &error);
  if (bytes) {
    gsize n;
    const gchar *b = g_bytes_get_data (bytes, &n);
    if (n == strlen (SECRET) && memcmp (b, SECRET, n) == 0) {
      fprintf (stderr, "ESCAPE: %s returned the secret\n", uri);
      abort ();
    }
    if (n > 64)
      abort ();
    g_bytes_unref (bytes);
  } else {
    if (!error || error->domain != EDGEFAAS_FRAMEREF_ERROR)
      abort ();
    g_clear_error (&error);
  }
  g_free (uri);
  return 0;
}
