/* situationdetect: situations (zones, tripwires, time) over tracked objects. */
#pragma once

#include <gst/gst.h>
#include <gst/base/gstbasetransform.h>

G_BEGIN_DECLS

#define GST_TYPE_SITUATION_DETECT (gst_situation_detect_get_type ())
G_DECLARE_FINAL_TYPE (GstSituationDetect, gst_situation_detect, GST, SITUATION_DETECT,
    GstBaseTransform)

GST_ELEMENT_REGISTER_DECLARE (situationdetect);

G_END_DECLS
