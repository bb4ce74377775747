/* edgefaas pipeline files: gst-launch syntax with comments and ${VAR} substitution.
 *
 * Syntax (docs/pipelines.md):
 *   - a line whose first non-blank character is '#' is a comment;
 *   - ${VAR}            the value of VAR; unset or empty is an error naming VAR and the line;
 *   - ${VAR:-default}   the value of VAR, or default when unset or empty; the default may
 *                       itself contain ${...} and is only expanded when it is used;
 *   - $$                a literal '$'; any other '$' is copied as is.
 * Lines are joined with single spaces, so the result is one gst-launch description that
 * plain `gst-launch-1.0 -e` accepts after word splitting (values never contain blanks).
 *
 * A substituted value that contains blanks, quotes or '!' is refused: it would change the
 * structure of the pipeline (an injected element) instead of setting one property.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define EF_PIPELINE_ERROR (ef_pipeline_error_quark ())
typedef enum {
  EF_PIPELINE_ERROR_MISSING_VARIABLE,
  EF_PIPELINE_ERROR_SYNTAX,
  EF_PIPELINE_ERROR_BAD_VALUE,
  EF_PIPELINE_ERROR_EMPTY,
} EfPipelineError;
GQuark ef_pipeline_error_quark (void);

/* Returns the value of @name or NULL when it is unset. */
typedef const gchar *(*EfLookupFunc) (const gchar * name, gpointer user_data);

/* Lookup in the process environment, after the overrides in @overrides
 * (a GHashTable of name → value, may be NULL). */
const gchar *ef_pipeline_env_lookup (const gchar * name, gpointer overrides);

/* Substitute @text (contents of a pipeline file named @origin for messages).
 * Returns the one-line description, or NULL with @error set. */
gchar *ef_pipeline_substitute (const gchar * text, const gchar * origin,
    EfLookupFunc lookup, gpointer user_data, GError ** error);

/* Read @path and substitute it. */
gchar *ef_pipeline_load (const gchar * path, EfLookupFunc lookup, gpointer user_data,
    GError ** error);

/* Names of all variables a text refers to (required ones and those with defaults),
 * in order of first appearance, for --list-vars and the docs test. */
GPtrArray *ef_pipeline_variables (const gchar * text);

/* Copy of @s with the password of any scheme://user:password@ replaced by "***". */
gchar *ef_redact_credentials (const gchar * s);

G_END_DECLS
