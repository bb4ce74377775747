/* edgefaas pipeline files: comments and ${VAR} / ${VAR:-default} substitution.
 * See ef-pipeline-file.h for the syntax. */
#include "ef-pipeline-file.h"

#include <stdlib.h>
#include <string.h>

G_DEFINE_QUARK (ef-pipeline-error-quark, ef_pipeline_error)

/* Nested defaults deeper than this are certainly a mistake (or a loop). */
#define MAX_DEPTH 8

const gchar *
ef_pipeline_env_lookup (const gchar * name, gpointer overrides)
{
  if (overrides) {
    const gchar *v = g_hash_table_lookup ((GHashTable *) overrides, name);
    if (v)
      return v;
  }
  return g_getenv (name);
}

typedef struct {
  const gchar *origin;
  guint line;
  EfLookupFunc lookup;
  gpointer user_data;
  GPtrArray *names;   /* when collecting names only */
} Ctx;

static gboolean
is_name_start (gchar c)
{
  return g_ascii_isalpha (c) || c == '_';
}

static gboolean
is_name_char (gchar c)
{
  return g_ascii_isalnum (c) || c == '_';
}

/* Find the '}' closing a "${" whose body starts at @p (nested ${...} allowed). */
static const gchar *
find_close (const gchar * p, const gchar * end)
{
  guint depth = 1;
  for (; p < end; p++) {
    if (p[0] == '$' && p + 1 < end && p[1] == '$') {
      p++;
      continue;
    }
    if (p[0] == '$' && p + 1 < end && p[1] == '{') {
      depth++;
      p++;
      continue;
    }
    if (*p == '}' && --depth == 0)
      return p;
  }
  return NULL;
}

static const gchar *
bad_value_char (const gchar * v)
{
  for (const gchar * c = v; *c; c++) {
    if (g_ascii_isspace (*c) || *c == '"' || *c == '\'' || *c == '!' || g_ascii_iscntrl (*c))
      return c;
  }
  return NULL;
}

static void
add_name (Ctx * ctx, const gchar * name, gsize len)
{
  gchar *n = g_strndup (name, len);
  for (guint i = 0; i < ctx->names->len; i++) {
    if (g_str_equal (g_ptr_array_index (ctx->names, i), n)) {
      g_free (n);
      return;
    }
  }
  g_ptr_array_add (ctx->names, n);
}

static gboolean
expand (Ctx * ctx, const gchar * p, const gchar * end, GString * out, guint depth,
    GError ** error)
{
  if (depth > MAX_DEPTH) {
    g_set_error (error, EF_PIPELINE_ERROR, EF_PIPELINE_ERROR_SYNTAX,
        "%s:%u: defaults nested more than %d deep", ctx->origin, ctx->line, MAX_DEPTH);
    return FALSE;
  }
  while (p < end) {
    if (*p != '$') {
      g_string_append_c (out, *p++);
      continue;
    }
    if (p + 1 < end && p[1] == '$') {
      g_string_append_c (out, '$');
      p += 2;
      continue;
    }
    if (!(p + 1 < end && p[1] == '{')) {
      g_string_append_c (out, *p++);
      continue;
    }
    /* ${ ... } */
    const gchar *body = p + 2;
    const gchar *close = find_close (body, end);
    if (!close) {
      g_set_error (error, EF_PIPELINE_ERROR, EF_PIPELINE_ERROR_SYNTAX,
          "%s:%u: unterminated '${' (missing '}')", ctx->origin, ctx->line);
      return FALSE;
    }
    const gchar *n = body;
    if (n >= close || !is_name_start (*n)) {
      g_set_error (error, EF_PIPELINE_ERROR, EF_PIPELINE_ERROR_SYNTAX,
          "%s:%u: '${%.*s}' is not a variable name (letters, digits, '_')",
          ctx->origin, ctx->line, (int) (close - body), body);
      return FALSE;
    }
    while (n < close && is_name_char (*n))
      n++;
    gsize name_len = n - body;
    gboolean has_default = FALSE;
    if (n < close) {
      if (close - n >= 2 && n[0] == ':' && n[1] == '-') {
        has_default = TRUE;
      } else {
        g_set_error (error, EF_PIPELINE_ERROR, EF_PIPELINE_ERROR_SYNTAX,
            "%s:%u: unsupported expansion '${%.*s}' (use ${NAME} or ${NAME:-default})",
            ctx->origin, ctx->line, (int) (close - body), body);
        return FALSE;
      }
    }
    g_autofree gchar *name = g_strndup (body, name_len);
    if (ctx->names) {
      add_name (ctx, body, name_len);
      if (has_default && !expand (ctx, n + 2, close, out, depth + 1, error))
        return FALSE;
      p = close + 1;
      continue;
    }
    const gchar *value = ctx->lookup (name, ctx->user_data);
    if (value && *value) {
      const gchar *bad = bad_value_char (value);
      if (bad) {
        g_set_error (error, EF_PIPELINE_ERROR, EF_PIPELINE_ERROR_BAD_VALUE,
            "%s:%u: the value of %s contains %s (character %ld); a value may not contain "
            "blanks, quotes or '!' because it would change the pipeline's structure",
            ctx->origin, ctx->line, name,
            g_ascii_isspace (*bad) ? "a blank" : (*bad == '!' ? "'!'" :
                (g_ascii_iscntrl (*bad) ? "a control character" : "a quote")),
            (long) (bad - value) + 1);
        return FALSE;
      }
      g_string_append (out, value);
    } else if (has_default) {
      if (!expand (ctx, n + 2, close, out, depth + 1, error))
        return FALSE;
    } else {
      g_set_error (error, EF_PIPELINE_ERROR, EF_PIPELINE_ERROR_MISSING_VARIABLE,
          "%s:%u: required variable %s is not set (export %s=..., or pass --set %s=...)",
          ctx->origin, ctx->line, name, name, name);
      return FALSE;
    }
    p = close + 1;
  }
  return TRUE;
}

static gboolean
run (Ctx * ctx, const gchar * text, GString * out, GError ** error)
{
  g_auto (GStrv) lines = g_strsplit (text, "\n", -1);
  for (guint i = 0; lines[i]; i++) {
    ctx->line = i + 1;
    const gchar *l = lines[i];
    gsize len = strlen (l);
    if (len && l[len - 1] == '\r')
      len--;
    const gchar *s = l;
    while (s < l + len && g_ascii_isspace (*s))
      s++;
    if (s == l + len || *s == '#')
      continue;
    const gchar *e = l + len;
    while (e > s && g_ascii_isspace (e[-1]))
      e--;
    if (out->len)
      g_string_append_c (out, ' ');
    if (!expand (ctx, s, e, out, 0, error))
      return FALSE;
  }
  return TRUE;
}

gchar *
ef_pipeline_substitute (const gchar * text, const gchar * origin, EfLookupFunc lookup,
    gpointer user_data, GError ** error)
{
  g_return_val_if_fail (text != NULL, NULL);
  Ctx ctx = { origin ? origin : "pipeline", 0, lookup ? lookup : ef_pipeline_env_lookup,
    user_data, NULL
  };
  GString *out = g_string_new (NULL);
  if (!run (&ctx, text, out, error)) {
    g_string_free (out, TRUE);
    return NULL;
  }
  if (out->len == 0) {
    g_set_error (error, EF_PIPELINE_ERROR, EF_PIPELINE_ERROR_EMPTY,
        "%s: no pipeline description (only comments or blank lines)", ctx.origin);
    g_string_free (out, TRUE);
    return NULL;
  }
  return g_string_free (out, FALSE);
}

gchar *
ef_pipeline_load (const gchar * path, EfLookupFunc lookup, gpointer user_data, GError ** error)
{
  g_autofree gchar *text = NULL;
  if (!g_file_get_contents (path, &text, NULL, error))
    return NULL;
  return ef_pipeline_substitute (text, path, lookup, user_data, error);
}

GPtrArray *
ef_pipeline_variables (const gchar * text)
{
  Ctx ctx = { "pipeline", 0, NULL, NULL, g_ptr_array_new_with_free_func (g_free) };
  GString *out = g_string_new (NULL);
  /* Syntax errors end the listing early; the names found so far are returned. */
  run (&ctx, text, out, NULL);
  g_string_free (out, TRUE);
  return ctx.names;
}

gchar *
ef_redact_credentials (const gchar * s)
{
  GString *out = g_string_new (NULL);
  const gchar *p = s;
  while (*p) {
    const gchar *sep = strstr (p, "://");
    if (!sep) {
      g_string_append (out, p);
      break;
    }
    g_string_append_len (out, p, sep + 3 - p);
    p = sep + 3;
    /* authority ends at '/', blank, '!' or end */
    gsize alen = strcspn (p, "/ \t!\"'?#");
    const gchar *at = g_strrstr_len (p, alen, "@");
    const gchar *colon = at ? memchr (p, ':', at - p) : NULL;
    if (at && colon) {
      g_string_append_len (out, p, colon + 1 - p);
      g_string_append (out, "***");
      p = at;
    }
  }
  return g_string_free (out, FALSE);
}
