/* objecttrack: multi-object tracking over GstVideoRegionOfInterestMeta detections. */
#pragma once

#include <gst/gst.h>
#include <gst/base/gstbasetransform.h>

G_BEGIN_DECLS

/**
 * GstObjectTrackTimeSource:
 * @GST_OBJECT_TRACK_TIME_SOURCE_AUTO: the capture time of the edgefaas event meta when
 *   the buffer has one, else the buffer PTS
 * @GST_OBJECT_TRACK_TIME_SOURCE_PTS: always the buffer PTS
 */
typedef enum {
  GST_OBJECT_TRACK_TIME_SOURCE_AUTO,
  GST_OBJECT_TRACK_TIME_SOURCE_PTS,
} GstObjectTrackTimeSource;

GType gst_object_track_time_source_get_type (void);
#define GST_TYPE_OBJECT_TRACK_TIME_SOURCE (gst_object_track_time_source_get_type ())

#define GST_TYPE_OBJECT_TRACK (gst_object_track_get_type ())
G_DECLARE_FINAL_TYPE (GstObjectTrack, gst_object_track, GST, OBJECT_TRACK, GstBaseTransform)

GST_ELEMENT_REGISTER_DECLARE (objecttrack);

G_END_DECLS
