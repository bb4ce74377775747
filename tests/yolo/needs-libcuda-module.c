/* A module that needs libcuda.so.1 (see fake-libcuda.c), like a CUDA build of
 * libdarknet: loading it must fail in the dynamic loader. (It does not export
 * the darknet module's vtable, so should it ever load, the test sees "not the
 * darknet backend module" instead of libcuda.so.1 and fails.) */
int cuInit (unsigned int flags);
int yolo_needs_cuda (void);

int
yolo_needs_cuda (void)
{
  return cuInit (0);
}
