/* The RabbitMQ fixture tests itself: start, publish/consume, restart with a
 * persistent message in a durable queue, stop, nothing left behind. */
#include "ef-broker.h"
#include "ef-test.h"

#include <gio/gio.h>
#include <stdio.h>
#include <stdlib.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static gboolean
port_accepts (guint port)
{
  GSocketClient *client = g_socket_client_new ();
  GSocketConnection *conn = g_socket_client_connect_to_host (client, "127.0.0.1", port, NULL, NULL);
  gboolean ok = conn != NULL;

  g_clear_object (&conn);
  g_object_unref (client);
  return ok;
}

static gboolean
node_process_exists (const gchar * node)
{
  gchar *out = NULL;
  const gchar *argv[] = { "pgrep", "-f", node, NULL };
  gint status = 0;

  g_spawn_sync (NULL, (gchar **) argv, NULL, G_SPAWN_SEARCH_PATH | G_SPAWN_STDERR_TO_DEV_NULL,
      NULL, NULL, &out, NULL, &status, NULL);
  g_free (out);
  return g_spawn_check_wait_status (status, NULL);
}

static GBytes *
get_one (EfBroker * b, const gchar * queue)
{
  GError *error = NULL;
  GBytes *body = ef_broker_get (b, queue, NULL, &error);
  g_assert_no_error (error);
  return body;
}

static void
test_lifecycle (void)
{
  GError *error = NULL;
  EfBroker *b = ef_broker_start (NULL, &error);
  const gchar *payload = "hello\0binary";   /* binary-safe: embedded NUL */
  gchar *node, *dir;
  guint port, ready = 99, unacked = 99;
  GBytes *body;

  g_assert_no_error (error);
  g_assert_nonnull (b);
  port = ef_broker_amqp_port (b);
  node = g_strdup (ef_broker_node_name (b));
  dir = g_strdup (ef_broker_dir (b));
  g_assert_true (port_accepts (port));
  /* The URL never carries the password. */
  g_assert_null (strstr (ef_broker_url (b), ef_broker_password (b)));

  /* publish / consume one message */
  g_assert_true (ef_broker_declare_queue (b, "q", &error));
  g_assert_true (ef_broker_publish (b, "q", payload, 12, FALSE, &error));
  g_assert_no_error (error);
  body = get_one (b, "q");
  g_assert_nonnull (body);
  g_assert_cmpmem (g_bytes_get_data (body, NULL), g_bytes_get_size (body), payload, 12);
  g_bytes_unref (body);
  g_assert_null (get_one (b, "q"));

  /* a persistent message in a durable queue survives a restart */
  g_assert_true (ef_broker_publish (b, "q", "kept", 4, TRUE, &error));
  g_assert_true (ef_broker_queue_counts (b, "q", &ready, &unacked, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (ready, ==, 1);
  g_assert_cmpuint (unacked, ==, 0);
  g_assert_true (ef_broker_stop (b, &error));
  g_assert_false (ef_broker_is_running (b));
  g_assert_false (port_accepts (port));
  g_assert_true (ef_broker_restart (b, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (ef_broker_amqp_port (b), ==, port);
  body = get_one (b, "q");
  g_assert_nonnull (body);
  g_assert_cmpmem (g_bytes_get_data (body, NULL), g_bytes_get_size (body), "kept", 4);
  g_bytes_unref (body);

  /* stop: no process, no port, no directory left */
  ef_broker_free (b);
  g_assert_false (port_accepts (port));
  g_assert_false (node_process_exists (node));
  g_assert_false (g_file_test (dir, G_FILE_TEST_EXISTS));
  g_free (node);
  g_free (dir);
}

static void
test_management_api (void)
{
  EfBrokerOptions opts = { .management = TRUE };
  GError *error = NULL;
  EfBroker *b = ef_broker_start (&opts, &error);

  g_assert_no_error (error);
  g_assert_cmpuint (ef_broker_management_port (b), >, 0);
  g_assert_true (port_accepts (ef_broker_management_port (b)));
  ef_broker_free (b);
}

/* Two fixtures at once (as two concurrent test runs would have) don't collide. */
static void
test_two_brokers (void)
{
  GError *error = NULL;
  EfBroker *a = ef_broker_start (NULL, &error);
  EfBroker *b;
  GBytes *body;

  g_assert_no_error (error);
  b = ef_broker_start (NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (ef_broker_amqp_port (a), !=, ef_broker_amqp_port (b));
  g_assert_cmpstr (ef_broker_node_name (a), !=, ef_broker_node_name (b));
  g_assert_true (ef_broker_declare_queue (a, "only-in-a", &error));
  g_assert_true (ef_broker_publish (a, "only-in-a", "x", 1, TRUE, &error));
  /* b has no such queue: basic.get fails with NOT_FOUND */
  body = ef_broker_get (b, "only-in-a", NULL, &error);
  g_assert_null (body);
  g_assert_nonnull (error);
  g_clear_error (&error);
  ef_broker_free (b);
  /* a is unaffected by b going away */
  body = get_one (a, "only-in-a");
  g_assert_nonnull (body);
  g_bytes_unref (body);
  ef_broker_free (a);
}

/* A test process killed with SIGKILL leaves nothing behind: the reaper cleans up. */
static void
test_crash_cleanup (void)
{
  gint pipefd[2];
  pid_t pid;
  gchar buf[512] = { 0 };
  gchar **fields;
  guint port;
  gint64 deadline;
  ssize_t n;

  g_assert_cmpint (pipe (pipefd), ==, 0);
  pid = fork ();
  if (pid == 0) {
    GError *error = NULL;
    EfBroker *b;
    close (pipefd[0]);
    b = ef_broker_start (NULL, &error);
    if (b == NULL)
      _exit (1);
    dprintf (pipefd[1], "%u %s %s\n", ef_broker_amqp_port (b), ef_broker_node_name (b),
        ef_broker_dir (b));
    close (pipefd[1]);
    pause ();
    _exit (0);
  }
  close (pipefd[1]);
  n = read (pipefd[0], buf, sizeof (buf) - 1);
  close (pipefd[0]);
  g_assert_cmpint (n, >, 0);
  fields = g_strsplit (g_strstrip (buf), " ", 3);
  port = atoi (fields[0]);
  g_assert_true (port_accepts (port));
  kill (pid, SIGKILL);
  waitpid (pid, NULL, 0);

  deadline = g_get_monotonic_time () + 30 * G_USEC_PER_SEC;
  while ((port_accepts (port) || node_process_exists (fields[1])
          || g_file_test (fields[2], G_FILE_TEST_EXISTS))
      && g_get_monotonic_time () < deadline)
    g_usleep (200 * 1000);
  g_assert_false (port_accepts (port));
  g_assert_false (node_process_exists (fields[1]));
  g_assert_false (g_file_test (fields[2], G_FILE_TEST_EXISTS));
  g_strfreev (fields);
}

int
main (int argc, char **argv)
{
  ef_test_init (&argc, &argv);
  g_test_add_func ("/fixture/broker/lifecycle", test_lifecycle);
  g_test_add_func ("/fixture/broker/management", test_management_api);
  g_test_add_func ("/fixture/broker/two-at-once", test_two_brokers);
  g_test_add_func ("/fixture/broker/crash-cleanup", test_crash_cleanup);
  return g_test_run ();
}
