/* JSON-lines logging shared by edgefaas-launch and edgefaas-scale. */
#include "ef-json-log.h"

#include <stdio.h>

static GMutex out_lock;

JsonBuilder *
ef_json_log_begin (const gchar * type)
{
  JsonBuilder *b = json_builder_new ();
  GDateTime *now = g_date_time_new_now_utc ();
  gchar *ts = g_date_time_format (now, "%Y-%m-%dT%H:%M:%S");
  gchar *full = g_strdup_printf ("%s.%03dZ", ts, g_date_time_get_microsecond (now) / 1000);
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "ts");
  json_builder_add_string_value (b, full);
  json_builder_set_member_name (b, "type");
  json_builder_add_string_value (b, type);
  g_free (full);
  g_free (ts);
  g_date_time_unref (now);
  return b;
}

void
ef_json_log_emit (JsonBuilder * b)
{
  json_builder_end_object (b);
  JsonNode *root = json_builder_get_root (b);
  gchar *line = json_to_string (root, FALSE);
  g_mutex_lock (&out_lock);
  fputs (line, stdout);
  fputc ('\n', stdout);
  fflush (stdout);
  g_mutex_unlock (&out_lock);
  g_free (line);
  json_node_unref (root);
  g_object_unref (b);
}

static void add_value (JsonBuilder * b, const GValue * v);

static gboolean
add_field (GQuark field, const GValue * value, gpointer user_data)
{
  JsonBuilder *b = user_data;
  json_builder_set_member_name (b, g_quark_to_string (field));
  add_value (b, value);
  return TRUE;
}

static void
add_value (JsonBuilder * b, const GValue * v)
{
  GType t = G_VALUE_TYPE (v);
  if (t == G_TYPE_BOOLEAN) {
    json_builder_add_boolean_value (b, g_value_get_boolean (v));
  } else if (t == G_TYPE_INT) {
    json_builder_add_int_value (b, g_value_get_int (v));
  } else if (t == G_TYPE_UINT) {
    json_builder_add_int_value (b, g_value_get_uint (v));
  } else if (t == G_TYPE_INT64) {
    json_builder_add_int_value (b, g_value_get_int64 (v));
  } else if (t == G_TYPE_UINT64) {
    guint64 u = g_value_get_uint64 (v);
    if (u == G_MAXUINT64)       /* GST_CLOCK_TIME_NONE */
      json_builder_add_null_value (b);
    else
      json_builder_add_int_value (b, (gint64) u);
  } else if (t == G_TYPE_LONG) {
    json_builder_add_int_value (b, g_value_get_long (v));
  } else if (t == G_TYPE_ULONG) {
    json_builder_add_int_value (b, g_value_get_ulong (v));
  } else if (t == G_TYPE_DOUBLE) {
    json_builder_add_double_value (b, g_value_get_double (v));
  } else if (t == G_TYPE_FLOAT) {
    json_builder_add_double_value (b, g_value_get_float (v));
  } else if (t == G_TYPE_STRING) {
    const gchar *s = g_value_get_string (v);
    if (s)
      json_builder_add_string_value (b, s);
    else
      json_builder_add_null_value (b);
  } else if (t == GST_TYPE_STRUCTURE) {
    const GstStructure *s = gst_value_get_structure (v);
    json_builder_begin_object (b);
    if (s) {
      json_builder_set_member_name (b, "name");
      json_builder_add_string_value (b, gst_structure_get_name (s));
      ef_json_add_structure_fields (b, s);
    }
    json_builder_end_object (b);
  } else if (t == GST_TYPE_LIST || t == GST_TYPE_ARRAY) {
    gboolean list = t == GST_TYPE_LIST;
    guint n = list ? gst_value_list_get_size (v) : gst_value_array_get_size (v);
    json_builder_begin_array (b);
    for (guint i = 0; i < n; i++)
      add_value (b, list ? gst_value_list_get_value (v, i) : gst_value_array_get_value (v, i));
    json_builder_end_array (b);
  } else if (G_TYPE_IS_ENUM (t)) {
    GEnumValue *ev = g_enum_get_value (g_type_class_peek (t), g_value_get_enum (v));
    json_builder_add_string_value (b, ev ? ev->value_nick : "?");
  } else {
    gchar *s = gst_value_serialize (v);
    if (s)
      json_builder_add_string_value (b, s);
    else
      json_builder_add_null_value (b);
    g_free (s);
  }
}

void
ef_json_add_structure_fields (JsonBuilder * b, const GstStructure * s)
{
  gst_structure_foreach (s, add_field, b);
}
