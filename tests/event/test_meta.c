/* Unit tests for the ack token and the edgefaas metas, through real GStreamer
 * elements (jpegenc, jpegdec, videoscale) in GstHarness. */
#include "ef-test.h"
#include "edgefaas.h"

#include <gst/check/gstharness.h>
#include <gst/video/video.h>
#include <string.h>

typedef struct
{
  gint calls;                   /* atomic */
  gint notified;                /* atomic */
  EdgefaasAckOutcome outcome;
  gchar *reason;
} AckRecord;

static void
record_ack (gpointer user_data, EdgefaasAckOutcome outcome, const gchar * reason)
{
  AckRecord *r = user_data;

  g_atomic_int_inc (&r->calls);
  r->outcome = outcome;
  g_free (r->reason);
  r->reason = g_strdup (reason);
}

static void
record_notify (gpointer user_data)
{
  AckRecord *r = user_data;
  /* notify must come after the callback */
  g_assert_cmpint (g_atomic_int_get (&r->calls), ==, 1);
  g_atomic_int_inc (&r->notified);
}

static void
record_clear (AckRecord * r)
{
  g_free (r->reason);
}

static EdgefaasFrameEvent *
make_event (const gchar * camera, guint64 seq)
{
  EdgefaasFrameEvent *ev = edgefaas_frame_event_new ();
  EdgefaasBox box = { 3, 4, 20, 10, 0.25 };

  ev->camera_id = g_strdup (camera);
  ev->event_id = 7;
  ev->sequence = seq;
  ev->capture_time_us = edgefaas_now_utc_us () / 1000 * 1000;
  ev->running_time = 40 * GST_MSECOND;
  ev->frame.uri = g_strdup ("file:///frames/cam/2026-01-01/1.jpg");
  ev->frame.media_type = g_strdup ("image/jpeg");
  ev->frame.width = 64;
  ev->frame.height = 48;
  ev->frame.size = 1234;
  ev->motion_score = 0.5;
  g_array_append_val (ev->motion_boxes, box);
  return ev;
}

/* ---------------------------------------------------------------- token */

static void
test_token_ack_on_last_unref (void)
{
  AckRecord r = { 0 };
  EdgefaasAckToken *t = edgefaas_ack_token_new (record_ack, &r, record_notify);

  edgefaas_ack_token_ref (t);
  edgefaas_ack_token_ref (t);
  edgefaas_ack_token_unref (t);
  edgefaas_ack_token_unref (t);
  g_assert_cmpint (r.calls, ==, 0);
  g_assert_cmpint (edgefaas_ack_token_get_outcome (t), ==, EDGEFAAS_ACK_OUTCOME_ACK);
  edgefaas_ack_token_unref (t);
  g_assert_cmpint (r.calls, ==, 1);
  g_assert_cmpint (r.notified, ==, 1);
  g_assert_cmpint (r.outcome, ==, EDGEFAAS_ACK_OUTCOME_ACK);
  g_assert_null (r.reason);
  record_clear (&r);
}

static void
test_token_reject_wins (void)
{
  struct
  {
    gint first, second;         /* -1 none, 0 reject, 1 requeue */
    EdgefaasAckOutcome want;
    const gchar *reason;
  } cases[] = {
    {1, -1, EDGEFAAS_ACK_OUTCOME_REQUEUE, "first"},
    {0, -1, EDGEFAAS_ACK_OUTCOME_REJECT, "first"},
    {1, 0, EDGEFAAS_ACK_OUTCOME_REJECT, "second"},
    {0, 1, EDGEFAAS_ACK_OUTCOME_REJECT, "first"},
    {1, 1, EDGEFAAS_ACK_OUTCOME_REQUEUE, "first"},
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
    AckRecord r = { 0 };
    EdgefaasAckToken *t = edgefaas_ack_token_new (record_ack, &r, NULL);
    EdgefaasAckToken *copy = edgefaas_ack_token_ref (t);

    edgefaas_ack_token_reject (t, cases[i].first == 1, "first");
    if (cases[i].second >= 0)
      edgefaas_ack_token_reject (copy, cases[i].second == 1, "second");
    edgefaas_ack_token_unref (t);
    g_assert_cmpint (r.calls, ==, 0);
    edgefaas_ack_token_unref (copy);
    g_assert_cmpint (r.calls, ==, 1);
    g_assert_cmpint (r.outcome, ==, cases[i].want);
    g_assert_cmpstr (r.reason, ==, cases[i].reason);
    record_clear (&r);
  }
}

#define N_THREADS 8
#define N_ROUNDS 20000

typedef struct
{
  EdgefaasAckToken *token;
  gint index;
} ThreadArg;

static gpointer
hammer (gpointer data)
{
  ThreadArg *a = data;

  for (gint i = 0; i < N_ROUNDS; i++) {
    EdgefaasAckToken *t = edgefaas_ack_token_ref (a->token);
    if (a->index == 3 && i == N_ROUNDS / 2)
      edgefaas_ack_token_reject (t, TRUE, "requeue from 3");
    if (a->index == 5 && i == N_ROUNDS / 3)
      edgefaas_ack_token_reject (t, FALSE, "reject from 5");
    edgefaas_ack_token_unref (t);
  }
  /* each thread owns one initial reference and drops it at the end */
  edgefaas_ack_token_unref (a->token);
  return NULL;
}

static void
test_token_threads (void)
{
  AckRecord r = { 0 };
  EdgefaasAckToken *t = edgefaas_ack_token_new (record_ack, &r, record_notify);
  GThread *threads[N_THREADS];
  ThreadArg args[N_THREADS];

  for (gint i = 0; i < N_THREADS; i++) {
    args[i].token = edgefaas_ack_token_ref (t);
    args[i].index = i;
  }
  edgefaas_ack_token_unref (t);  /* only the threads hold it now */
  for (gint i = 0; i < N_THREADS; i++)
    threads[i] = g_thread_new ("hammer", hammer, &args[i]);
  for (gint i = 0; i < N_THREADS; i++)
    g_thread_join (threads[i]);

  g_assert_cmpint (g_atomic_int_get (&r.calls), ==, 1);
  g_assert_cmpint (g_atomic_int_get (&r.notified), ==, 1);
  g_assert_cmpint (r.outcome, ==, EDGEFAAS_ACK_OUTCOME_REJECT);
  g_assert_cmpstr (r.reason, ==, "reject from 5");
  record_clear (&r);
}

/* ---------------------------------------------------------------- metas */

static void
test_event_meta_copy (void)
{
  AckRecord r = { 0 };
  EdgefaasAckToken *t = edgefaas_ack_token_new (record_ack, &r, NULL);
  EdgefaasFrameEvent *ev = make_event ("cam-a", 11);
  GstBuffer *buf = gst_buffer_new_allocate (NULL, 16, NULL);
  GstBuffer *copy, *deep;
  GstEdgefaasEventMeta *m, *mc, *md;

  m = gst_buffer_add_edgefaas_event_meta (buf, ev, t);
  g_assert_nonnull (m);
  /* the meta owns a copy, not the caller's event */
  g_assert_true (m->event != ev);
  g_assert_true (edgefaas_frame_event_equal (m->event, ev));
  edgefaas_frame_event_free (ev);
  edgefaas_ack_token_unref (t);  /* only the buffer holds the token now */
  g_assert_cmpint (r.calls, ==, 0);

  copy = gst_buffer_copy (buf);
  deep = gst_buffer_copy_deep (buf);
  mc = gst_buffer_get_edgefaas_event_meta (copy);
  md = gst_buffer_get_edgefaas_event_meta (deep);
  g_assert_nonnull (mc);
  g_assert_nonnull (md);
  g_assert_true (mc->token == m->token && md->token == m->token);
  g_assert_true (edgefaas_frame_event_equal (mc->event, m->event));
  g_assert_cmpstr (md->event->camera_id, ==, "cam-a");

  gst_buffer_unref (buf);
  gst_buffer_unref (deep);
  g_assert_cmpint (r.calls, ==, 0);
  gst_buffer_unref (copy);
  g_assert_cmpint (r.calls, ==, 1);
  g_assert_cmpint (r.outcome, ==, EDGEFAAS_ACK_OUTCOME_ACK);
  record_clear (&r);
}

static void
test_meta_apis_have_no_tags (void)
{
  GType apis[] = { GST_EDGEFAAS_EVENT_META_API_TYPE, GST_EDGEFAAS_SITUATION_META_API_TYPE,
    GST_EDGEFAAS_MOTION_META_API_TYPE
  };

  for (guint i = 0; i < G_N_ELEMENTS (apis); i++) {
    const gchar *const *tags = gst_meta_api_type_get_tags (apis[i]);
    g_assert_true (tags == NULL || tags[0] == NULL);
    g_assert_false (gst_meta_api_type_has_tag (apis[i], g_quark_from_static_string (GST_META_TAG_VIDEO_STR)));
    g_assert_false (gst_meta_api_type_has_tag (apis[i], g_quark_from_static_string (GST_META_TAG_MEMORY_STR)));
  }
}

#define W 64
#define H 48

static GstBuffer *
make_raw_frame (guint8 seed)
{
  GstVideoInfo info;
  GstBuffer *buf;
  GstMapInfo map;

  gst_video_info_set_format (&info, GST_VIDEO_FORMAT_I420, W, H);
  buf = gst_buffer_new_allocate (NULL, GST_VIDEO_INFO_SIZE (&info), NULL);
  gst_buffer_map (buf, &map, GST_MAP_WRITE);
  for (gsize i = 0; i < map.size; i++)
    map.data[i] = (guint8) (i * 7 + seed);
  gst_buffer_unmap (buf, &map);
  GST_BUFFER_PTS (buf) = 0;
  GST_BUFFER_DURATION (buf) = GST_SECOND / 30;
  return buf;
}

/* A real JPEG made by jpegenc. */
static GstBuffer *
make_jpeg (void)
{
  GstHarness *h = gst_harness_new ("jpegenc");
  GstBuffer *jpeg;
  GstMapInfo map;

  gst_harness_set_src_caps_str (h, "video/x-raw,format=I420,width=64,height=48,framerate=30/1");
  jpeg = gst_harness_push_and_pull (h, make_raw_frame (1));
  g_assert_nonnull (jpeg);
  gst_buffer_map (jpeg, &map, GST_MAP_READ);
  g_assert_cmpuint (map.size, >, 4);
  g_assert_cmpuint (map.data[0], ==, 0xff);        /* SOI */
  g_assert_cmpuint (map.data[1], ==, 0xd8);
  gst_buffer_unmap (jpeg, &map);
  gst_harness_teardown (h);
  /* a fresh buffer with no metas from the encoder */
  return jpeg;
}

static void
run_decoder_case (const gchar * launch, gint out_width)
{
  AckRecord r = { 0 };
  EdgefaasAckToken *t = edgefaas_ack_token_new (record_ack, &r, NULL);
  EdgefaasFrameEvent *ev = make_event ("cam-dec", 42);
  GstHarness *h = gst_harness_new_parse (launch);
  GstBuffer *jpeg = make_jpeg ();
  GstBuffer *out;
  GstEdgefaasEventMeta *m;
  GstVideoMeta *vmeta;
  GstCaps *caps;
  GstStructure *s;
  gint width = 0;

  jpeg = gst_buffer_make_writable (jpeg);
  gst_buffer_add_edgefaas_event_meta (jpeg, ev, t);
  edgefaas_ack_token_unref (t);
  gst_harness_set_src_caps_str (h, "image/jpeg,width=64,height=48,framerate=30/1");

  g_assert_cmpint (gst_harness_push (h, jpeg), ==, GST_FLOW_OK);
  out = gst_harness_pull (h);
  g_assert_nonnull (out);

  caps = gst_pad_get_current_caps (h->sinkpad);
  s = gst_caps_get_structure (caps, 0);
  g_assert_true (gst_structure_has_name (s, "video/x-raw"));
  g_assert_true (gst_structure_get_int (s, "width", &width));
  g_assert_cmpint (width, ==, out_width);
  gst_caps_unref (caps);
  vmeta = gst_buffer_get_video_meta (out);
  if (vmeta)
    g_assert_cmpuint (vmeta->width, ==, (guint) out_width);

  m = gst_buffer_get_edgefaas_event_meta (out);
  g_assert_nonnull (m);
  g_assert_nonnull (m->token);
  g_assert_true (edgefaas_frame_event_equal (m->event, ev));

  /* The decoded buffer still holds the delivery: no ack yet. */
  g_assert_cmpint (r.calls, ==, 0);
  gst_buffer_unref (out);
  /* The input frame was released when the decoder finished it, the output
   * buffer just now: that was the last reference. */
  g_assert_cmpint (r.calls, ==, 1);
  g_assert_cmpint (r.outcome, ==, EDGEFAAS_ACK_OUTCOME_ACK);

  gst_harness_teardown (h);
  g_assert_cmpint (r.calls, ==, 1);
  edgefaas_frame_event_free (ev);
  record_clear (&r);
}

static void
test_event_meta_through_jpegdec (void)
{
  run_decoder_case ("jpegdec", W);
}

static void
test_event_meta_through_jpegdec_and_scale (void)
{
  /* videoscale transforms metas with the "gst-video-scale" transform type. */
  run_decoder_case ("jpegdec ! videoconvert ! videoscale ! capsfilter caps=video/x-raw,width=32,height=24", 32);
}

static void
test_reject_through_jpegdec (void)
{
  AckRecord r = { 0 };
  EdgefaasAckToken *t = edgefaas_ack_token_new (record_ack, &r, NULL);
  EdgefaasFrameEvent *ev = make_event ("cam-rej", 1);
  GstHarness *h = gst_harness_new ("jpegdec");
  GstBuffer *jpeg = gst_buffer_make_writable (make_jpeg ());
  GstBuffer *out;
  GstEdgefaasEventMeta *m;

  gst_buffer_add_edgefaas_event_meta (jpeg, ev, t);
  edgefaas_ack_token_unref (t);
  gst_harness_set_src_caps_str (h, "image/jpeg,width=64,height=48,framerate=30/1");
  out = gst_harness_push_and_pull (h, jpeg);
  m = gst_buffer_get_edgefaas_event_meta (out);
  g_assert_nonnull (m);
  /* a downstream element decides the frame was bad: dead-letter it */
  edgefaas_ack_token_reject (m->token, FALSE, "inference failed");
  gst_buffer_unref (out);
  g_assert_cmpint (r.calls, ==, 1);
  g_assert_cmpint (r.outcome, ==, EDGEFAAS_ACK_OUTCOME_REJECT);
  g_assert_cmpstr (r.reason, ==, "inference failed");
  gst_harness_teardown (h);
  edgefaas_frame_event_free (ev);
  record_clear (&r);
}

/* motiondetect's metas must survive jpegenc to reach amqpsink. */
static void
test_motion_and_situation_through_jpegenc (void)
{
  GstHarness *h = gst_harness_new ("jpegenc");
  GstBuffer *raw = make_raw_frame (9), *out;
  GstEdgefaasMotionMeta *mm;
  EdgefaasSituation sit = { (gchar *) "fire", 0.75, 4, (gchar *) "fire,smoke" };
  gpointer state = NULL;
  GstMeta *meta;
  guint n_sit = 0;

  gst_buffer_add_edgefaas_motion_meta (raw, 99, 0.125, TRUE);
  gst_buffer_add_edgefaas_situation_meta (raw, &sit);
  sit.name = (gchar *) "person_in_danger";
  sit.labels = NULL;
  gst_buffer_add_edgefaas_situation_meta (raw, &sit);

  gst_harness_set_src_caps_str (h, "video/x-raw,format=I420,width=64,height=48,framerate=30/1");
  out = gst_harness_push_and_pull (h, raw);
  g_assert_nonnull (out);

  mm = gst_buffer_get_edgefaas_motion_meta (out);
  g_assert_nonnull (mm);
  g_assert_cmpuint (mm->event_id, ==, 99);
  g_assert_cmpfloat (mm->score, ==, 0.125);
  g_assert_true (mm->analysed);

  while ((meta = gst_buffer_iterate_meta_filtered (out, &state,
              GST_EDGEFAAS_SITUATION_META_API_TYPE))) {
    GstEdgefaasSituationMeta *sm = (GstEdgefaasSituationMeta *) meta;
    if (n_sit == 0) {
      g_assert_cmpstr (sm->situation.name, ==, "fire");
      g_assert_cmpstr (sm->situation.labels, ==, "fire,smoke");
    } else {
      g_assert_cmpstr (sm->situation.name, ==, "person_in_danger");
      g_assert_null (sm->situation.labels);
    }
    g_assert_cmpfloat (sm->situation.confidence, ==, 0.75);
    g_assert_cmpuint (sm->situation.frames, ==, 4);
    n_sit++;
  }
  g_assert_cmpuint (n_sit, ==, 2);
  gst_buffer_unref (out);
  gst_harness_teardown (h);
}

int
main (int argc, char **argv)
{
  ef_test_init (&argc, &argv);

  g_test_add_func ("/meta/token/ack-on-last-unref", test_token_ack_on_last_unref);
  g_test_add_func ("/meta/token/reject-wins-over-requeue", test_token_reject_wins);
  g_test_add_func ("/meta/token/threads", test_token_threads);
  g_test_add_func ("/meta/apis-have-no-tags", test_meta_apis_have_no_tags);
  g_test_add_func ("/meta/event/buffer-copy", test_event_meta_copy);
  g_test_add_func ("/meta/event/through-jpegdec", test_event_meta_through_jpegdec);
  g_test_add_func ("/meta/event/through-jpegdec-videoscale",
      test_event_meta_through_jpegdec_and_scale);
  g_test_add_func ("/meta/event/reject-through-jpegdec", test_reject_through_jpegdec);
  g_test_add_func ("/meta/motion-situation/through-jpegenc",
      test_motion_and_situation_through_jpegenc);
  return g_test_run ();
}
