#include "ef-test.h"
int main (int argc, char **argv) { ef_test_init (&argc, &argv); return g_test_run (); }
