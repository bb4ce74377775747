/* Unit tests of amqpsink's spool record format (plugins/amqp/spool.c). */
#include <glib.h>
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>
#include <fcntl.h>

#include "spool.h"

static SpoolRecord
sample (const gchar *key, const gchar *body, gboolean with_optional)
{
  SpoolRecord r = { 0 };
  r.routing_key = g_strdup (key);
  r.content_type = g_strdup ("application/json");
  if (with_optional) {
    r.event_header = g_strdup ("{\"v\":1}");
    r.alert = g_strdup ("fire");
    r.message_id = g_strdup ("cam:run:7");
  }
  r.body = g_bytes_new (body, strlen (body));
  r.persistent = with_optional;
  return r;
}

static void
assert_same (const SpoolRecord *a, const SpoolRecord *b)
{
  g_assert_cmpstr (a->routing_key, ==, b->routing_key);
  g_assert_cmpstr (a->content_type, ==, b->content_type);
  g_assert_cmpstr (a->event_header, ==, b->event_header);
  g_assert_cmpstr (a->alert, ==, b->alert);
  g_assert_cmpstr (a->message_id, ==, b->message_id);
  g_assert_true (g_bytes_equal (a->body, b->body));
  g_assert_cmpint (a->persistent, ==, b->persistent);
}

static void
test_round_trip (void)
{
  for (gint opt = 0; opt < 2; opt++) {
    SpoolRecord r = sample ("frames.cam1", "{\"frame\":1}", opt);
    SpoolRecord back;
    GBytes *enc = spool_record_encode (&r);
    gsize len, used = 0;
    const guint8 *d = g_bytes_get_data (enc, &len);

    g_assert_cmpuint (len, ==, spool_record_size (&r));
    g_assert_true (spool_record_decode (d, len, &back, &used));
    g_assert_cmpuint (used, ==, len);
    assert_same (&r, &back);
    /* Every shorter prefix is a torn record. */
    for (gsize cut = 0; cut < len; cut++) {
      SpoolRecord t;
      g_assert_false (spool_record_decode (d, cut, &t, &used));
      g_assert_null (t.routing_key);
    }
    spool_record_clear (&back);
    spool_record_clear (&r);
    g_bytes_unref (enc);
  }
}

static void
test_refused (void)
{
  SpoolRecord r = sample ("k", "body", TRUE), out;
  GBytes *enc = spool_record_encode (&r);
  gsize len, used;
  const guint8 *src = g_bytes_get_data (enc, &len);
  guint8 *d = g_memdup2 (src, len);
  guint32 w;

  /* Bad magic. */
  d[0] = 'X';
  g_assert_false (spool_record_decode (d, len, &out, &used));
  d[0] = 'E';
  g_assert_true (spool_record_decode (d, len, &out, &used));
  spool_record_clear (&out);
  /* Empty routing key. */
  memcpy (&w, d + 4, 4);
  memset (d + 4, 0, 4);
  g_assert_false (spool_record_decode (d, len, &out, &used));
  memcpy (d + 4, &w, 4);
  /* A body length past the end (a torn or corrupt length word). */
  memcpy (&w, d + 4 + 5 * 4, 4);
  {
    guint32 huge = G_MAXUINT32;
    memcpy (d + 4 + 5 * 4, &huge, 4);
    g_assert_false (spool_record_decode (d, len, &out, &used));
  }
  memcpy (d + 4 + 5 * 4, &w, 4);
  /* A NUL inside a string: could not be written back the same way. */
  d[SPOOL_HDR] = '\0';
  g_assert_false (spool_record_decode (d, len, &out, &used));
  g_free (d);
  g_bytes_unref (enc);
  spool_record_clear (&r);
}

static void
test_file (void)
{
  gchar *path = NULL;
  gint fd = g_file_open_tmp ("spool-XXXXXX", &path, NULL);
  SpoolRecord recs[3] = { sample ("a", "1", FALSE), sample ("b", "", TRUE),
    sample ("c", "333", TRUE) };
  guint64 off = 0, end = 0;
  guint n = 0;

  g_assert_cmpint (fd, >=, 0);
  for (gint i = 0; i < 3; i++) {
    gsize w = spool_record_write (fd, &recs[i]);
    g_assert_cmpuint (w, ==, spool_record_size (&recs[i]));
    end += w;
  }
  /* A torn fourth record (a crash in the middle of a write). */
  g_assert_cmpint (write (fd, "EFS1\x05", 5), ==, 5);
  for (;;) {
    SpoolRecord r;
    gsize used;
    if (!spool_record_read (fd, off, end + 5, &r, &used))
      break;
    assert_same (&recs[n], &r);
    spool_record_clear (&r);
    off += used;
    n++;
  }
  g_assert_cmpuint (n, ==, 3);
  g_assert_cmpuint (off, ==, end);
  for (gint i = 0; i < 3; i++)
    spool_record_clear (&recs[i]);
  close (fd);
  g_unlink (path);
  g_free (path);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/spool/round-trip", test_round_trip);
  g_test_add_func ("/spool/refused", test_refused);
  g_test_add_func ("/spool/file", test_file);
  return g_test_run ();
}
