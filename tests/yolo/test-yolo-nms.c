/* yolonms.c: NMS over class groups (yolov4infer nms-groups). */
#include <string.h>
#include <gst/gst.h>
#include "yolonms.h"

static const gchar *coco_part[] = { "person", "bicycle", "car", "motorbike", "bus", "train",
  "truck", NULL
};
#define N_LABELS 7

static YoloDetection
det (gint cls, gfloat conf, gdouble x0, gdouble y0, gdouble x1, gdouble y1)
{
  YoloDetection d = { cls, conf, x0, y0, x1, y1 };
  return d;
}

/* The dog.jpg vehicle of Yolo-Fastest-XL: car 0.78 and truck 0.59, IoU 0.72. */
static GArray *
car_and_truck (void)
{
  GArray *a = g_array_new (FALSE, FALSE, sizeof (YoloDetection));
  YoloDetection car = det (2, 0.78f, 0.60, 0.13, 0.90, 0.30);
  YoloDetection truck = det (6, 0.59f, 0.60, 0.13, 0.85, 0.26);
  YoloDetection person = det (0, 0.70f, 0.60, 0.13, 0.90, 0.30);
  g_array_append_val (a, truck);
  g_array_append_val (a, car);
  g_array_append_val (a, person);
  return a;
}

static YoloNmsGroups *
parse_ok (const gchar * spec, gboolean skip)
{
  GError *err = NULL;
  YoloNmsGroups *g = yolo_nms_groups_parse (spec, coco_part, N_LABELS, skip, &err);
  g_assert_no_error (err);
  g_assert_nonnull (g);
  return g;
}

static void
test_default_groups_vehicles (void)
{
  YoloNmsGroups *g = parse_ok (YOLO_NMS_GROUPS_DEFAULT, TRUE);
  GArray *a = car_and_truck ();
  g_assert_cmpfloat (yolo_detection_iou (&g_array_index (a, YoloDetection, 0),
          &g_array_index (a, YoloDetection, 1), 640, 480), >, 0.45);
  yolo_nms_grouped (a, g, 640, 480, 0.45);
  /* one vehicle box, labelled car (the more confident), the person kept */
  g_assert_cmpuint (a->len, ==, 2);
  g_assert_cmpint (g_array_index (a, YoloDetection, 0).class_id, ==, 2);
  g_assert_cmpint (g_array_index (a, YoloDetection, 1).class_id, ==, 0);
  g_array_unref (a);
  yolo_nms_groups_free (g);
}

static void
test_per_class_keeps_both (void)
{
  YoloNmsGroups *g = parse_ok ("", FALSE);
  GArray *a = car_and_truck ();
  yolo_nms_grouped (a, g, 640, 480, 0.45);
  g_assert_cmpuint (a->len, ==, 3);
  g_array_unref (a);
  a = car_and_truck ();
  yolo_nms_grouped (a, NULL, 640, 480, 0.45);
  g_assert_cmpuint (a->len, ==, 3);
  g_array_unref (a);
  yolo_nms_groups_free (g);
}

static void
test_agnostic (void)
{
  YoloNmsGroups *g = parse_ok ("*", FALSE);
  GArray *a = car_and_truck ();
  yolo_nms_grouped (a, g, 640, 480, 0.45);
  g_assert_cmpuint (a->len, ==, 1);
  g_assert_cmpint (g_array_index (a, YoloDetection, 0).class_id, ==, 2);
  g_array_unref (a);
  yolo_nms_groups_free (g);
}

static void
test_distinct_vehicles_kept (void)
{
  /* two cars side by side (no overlap) and a truck on one of them */
  YoloNmsGroups *g = parse_ok ("car,truck", FALSE);
  GArray *a = g_array_new (FALSE, FALSE, sizeof (YoloDetection));
  YoloDetection d1 = det (2, 0.9f, 0.0, 0.0, 0.3, 0.3), d2 = det (2, 0.8f, 0.5, 0.5, 0.8, 0.8),
      d3 = det (6, 0.95f, 0.5, 0.5, 0.79, 0.81);
  g_array_append_val (a, d1);
  g_array_append_val (a, d2);
  g_array_append_val (a, d3);
  yolo_nms_grouped (a, g, 100, 100, 0.45);
  g_assert_cmpuint (a->len, ==, 2);
  /* sorted by confidence: the truck won over the second car */
  g_assert_cmpint (g_array_index (a, YoloDetection, 0).class_id, ==, 6);
  g_assert_cmpint (g_array_index (a, YoloDetection, 1).class_id, ==, 2);
  g_array_unref (a);
  yolo_nms_groups_free (g);
}

static void
expect_error (const gchar * spec, gboolean skip, const gchar * text)
{
  GError *err = NULL;
  YoloNmsGroups *g = yolo_nms_groups_parse (spec, coco_part, N_LABELS, skip, &err);
  g_assert_null (g);
  g_assert_error (err, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE);
  g_test_message ("%s -> %s", spec, err->message);
  g_assert_nonnull (strstr (err->message, text));
  g_error_free (err);
}

static void
test_bad_specs (void)
{
  expect_error ("car,unicorn", FALSE, "\"unicorn\" is not a label of the names file");
  expect_error ("car,truck;truck,bus", FALSE, "\"truck\" is in more than one group");
  expect_error ("car,,truck", FALSE, "empty label");
  /* skipping unknown labels is for the default only; a duplicate still fails */
  YoloNmsGroups *g = parse_ok ("car,unicorn", TRUE);
  yolo_nms_groups_free (g);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/yolo-nms/default-groups-vehicles", test_default_groups_vehicles);
  g_test_add_func ("/yolo-nms/per-class-keeps-both", test_per_class_keeps_both);
  g_test_add_func ("/yolo-nms/agnostic", test_agnostic);
  g_test_add_func ("/yolo-nms/distinct-vehicles-kept", test_distinct_vehicles_kept);
  g_test_add_func ("/yolo-nms/bad-specs", test_bad_specs);
  return g_test_run ();
}
