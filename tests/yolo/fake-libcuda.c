/* Stand-in for the NVIDIA driver's libcuda.so.1, only so that a test module can
 * be linked against it (like a CUDA build of libdarknet is); the test then loads
 * a copy of that module from a directory where libcuda.so.1 cannot be found, as
 * on a GPU-less node. Never loaded itself. */
int cuInit (unsigned int flags);

int
cuInit (unsigned int flags)
{
  return (int) flags;
}
