/* Helpers for tests that run edgefaas-launch / edgefaas-scale as real processes. */
#pragma once

#include <gio/gio.h>
#include <json-glib/json-glib.h>

#include "ef-broker.h"

G_BEGIN_DECLS

typedef struct {
  GSubprocess *proc;
  gchar *dir;
  gchar *out_path;
  gchar *err_path;
  gsize out_consumed;       /* bytes of stdout already turned into lines */
  GPtrArray *lines;         /* JsonObject* (owned), every JSON line seen so far */
} EfProc;

/* Start argv with stdout/stderr captured in files under a temp dir;
 * @env_add: NULL-terminated "NAME=VALUE" list added to the environment (may be NULL). */
EfProc *ef_proc_start (const gchar * const *argv, const gchar * const *env_add);
/* Read new stdout lines; returns the number of JSON lines known. */
guint ef_proc_update (EfProc * p);
/* Wait until a JSON line with "type" == @type (and, if @key, member @key == @value as
 * string/int text) appears after index @from; returns it or NULL after @timeout_s. */
JsonObject *ef_proc_wait_line (EfProc * p, const gchar * type, const gchar * key,
    const gchar * value, guint from, gdouble timeout_s, guint * index_out);
/* Count lines of @type. */
guint ef_proc_count (EfProc * p, const gchar * type);
/* Wait for the process to exit (at most timeout_s); returns TRUE if it exited. */
gboolean ef_proc_wait_exit (EfProc * p, gdouble timeout_s);
gint ef_proc_exit_status (EfProc * p);   /* exit code, or 128+signal */
gchar *ef_proc_stdout (EfProc * p);
gchar *ef_proc_stderr (EfProc * p);
void ef_proc_signal (EfProc * p, gint sig);
void ef_proc_free (EfProc * p);          /* kills if still running */

/* HTTP GET http://127.0.0.1:PORT/PATH: returns status (0 if unreachable), body in *body. */
guint ef_http_get (guint port, const gchar * path, gchar ** body);

/* Path of a built program under the build root. */
gchar *ef_built_program (const gchar * relative);
/* The built program pipelines/@name (edgefaas-launch, edgefaas-scale, ...). */
gchar *ef_pipelines_program (const gchar * name);
/* @dir/@name under the source root (pipelines/edge.pipeline, ...). */
gchar *ef_source_file (const gchar * dir, const gchar * name);
/* Run argv (@env added) to its end, at most 120 s; TRUE when it exited 0
 * (otherwise its stderr goes to the test log). */
gboolean ef_run_sync (const gchar * const *argv, const gchar * const *env);
/* Run pipelines/edge.pipeline under edgefaas-launch (@env added) to its end, at
 * most 120 s; asserts exit 0 (its stderr goes to the log otherwise) and returns
 * its exit line's sink_buffers, the frame messages it sent. With @keep the
 * finished process is handed back (free it with ef_proc_free), else freed. */
guint64 ef_run_edge_to_end (const gchar * const *env, EfProc ** keep);
/* Ready + unacknowledged messages in @queue, exact (rabbitmqctl). */
guint ef_queue_total (EfBroker * broker, const gchar * queue);

G_END_DECLS
