/* Helpers for the amqp tests: messages read back with our own AMQP helpers,
 * encoded test images, pipelines driven from the bus. */
#pragma once

#include <gst/gst.h>
#include "edgefaas-amqp.h"
#include "ef-broker.h"

G_BEGIN_DECLS

typedef struct {
  GBytes *body;
  gchar *routing_key;
  gchar *content_type;
  gchar *message_id;
  GHashTable *headers;    /* string headers */
  gboolean redelivered;
} AtMsg;

void at_msg_free (AtMsg * m);

/* Read (and ack) every message in @queue until it stays empty for @quiet_ms. */
GPtrArray *at_drain_queue (const gchar * url, const gchar * queue, guint quiet_ms,
    GError ** error);

/* A consumer thread reading (and acking) one message of @queue every
 * @interval_ms, starting after @delay_ms; _finish stops it once the queue stayed empty for @quiet_ms and
 * returns what it read (asserting it had no error). */
typedef struct _AtSlowDrain AtSlowDrain;
AtSlowDrain *at_slow_drain_start (const gchar * url, const gchar * queue, guint interval_ms,
    guint delay_ms);
GPtrArray *at_slow_drain_finish (AtSlowDrain * d, guint quiet_ms);

/* Declare durable @queue with x-max-length=@max_length and
 * x-overflow=reject-publish (the broker nacks publishes while it is full). */
gboolean at_declare_bounded_queue (const gchar * url, const gchar * queue, gint max_length,
    GError ** error);

/* @n distinct JPEG (or PNG) images from videotestsrc, as GBytes. */
GPtrArray *at_encode_images (guint n, const gchar * encoder, guint width, guint height);

/* Run until EOS/ERROR or @timeout_s; returns the final message (ref) or NULL. */
GstMessage *at_run_until_done (GstElement * pipeline, guint timeout_s);

/* The stats structure of an element (amqpsink). */
guint64 at_stat (GstElement * sink, const gchar * field);

/* Run @cmd (shell words) in @dir; FALSE (and its stderr as a test message)
 * if it cannot run or exits non-zero. */
gboolean at_run_cmd (const gchar * dir, const gchar * cmd);

/* A TLS test bed in @dir, every step asserted: a CA (ca), an unrelated second
 * CA (wrong_ca), a server certificate for localhost/127.0.0.1 signed by the
 * first, a private broker with a TLS listener using it, and a credentials file
 * holding that broker's password. */
typedef struct {
  EfBroker *broker;
  gchar *ca;
  gchar *wrong_ca;
  gchar *credentials_file;
} AtTlsBed;

void at_tls_bed_start (AtTlsBed * bed, const gchar * dir);
/* Stops the broker and frees the paths (the files stay in dir). */
void at_tls_bed_stop (AtTlsBed * bed);

/* Asserts that docs/elements/ELEMENT.txt is what gst-inspect-1.0 ELEMENT
 * prints, except the Filename line (it names the build dir). */
void at_assert_inspect_matches_doc (const gchar * element);

G_END_DECLS
