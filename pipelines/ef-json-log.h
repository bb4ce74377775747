/* JSON-lines logging shared by edgefaas-launch and edgefaas-scale. */
#pragma once

#include <gst/gst.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/* Start an object with "ts" (UTC ISO 8601, ms) and "type". Add members, then
 * ef_json_log_emit(). */
JsonBuilder *ef_json_log_begin (const gchar * type);
/* Close the object, print it as one line on stdout (thread-safe, flushed), unref. */
void ef_json_log_emit (JsonBuilder * b);

/* Add the fields of @s as members of the object being built (nested structures,
 * lists and arrays become JSON objects/arrays, other types their serialised string). */
void ef_json_add_structure_fields (JsonBuilder * b, const GstStructure * s);

G_END_DECLS
