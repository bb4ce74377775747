/* edgefaas: the record format of amqpsink's spool file (spool-dir).
 *
 * A record is "EFS1", seven little host-order u32 words (the lengths of
 * routing key, content type, event header, alert, message id and body, then
 * a flags word: bit 0 = persistent), then the bytes in that order. Routing
 * key and content type are never empty. A record that does not fit the
 * bytes that are left (a torn tail after a crash) or has a bad magic is
 * refused: the reader stops there and the caller cuts the file. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define SPOOL_MAGIC "EFS1"
#define SPOOL_HDR (4 + 7 * 4)

typedef struct
{
  gchar *routing_key;  /* never NULL or empty */
  gchar *content_type; /* never NULL or empty */
  gchar *event_header; /* or NULL */
  gchar *alert;        /* or NULL */
  gchar *message_id;   /* or NULL */
  GBytes *body;        /* never NULL (may be empty) */
  gboolean persistent;
} SpoolRecord;

/* Bytes the record of @r takes. */
gsize spool_record_size (const SpoolRecord *r);
/* The record of @r. */
GBytes *spool_record_encode (const SpoolRecord *r);
/* Decode the record at the start of @data (@len bytes left in the file).
 * Fills @out (owned by the caller, free with spool_record_clear()) and
 * *@used; FALSE when there is no complete valid record. */
gboolean spool_record_decode (
    const guint8 *data, gsize len, SpoolRecord *out, gsize *used);
void spool_record_clear (SpoolRecord *r);

/* File I/O. write: appends, returns the bytes written or 0 (errno set).
 * read: the record at @off of a file whose valid data ends at @limit. */
gsize spool_record_write (gint fd, const SpoolRecord *r);
gboolean spool_record_read (
    gint fd, guint64 off, guint64 limit, SpoolRecord *out, gsize *used);

G_END_DECLS
