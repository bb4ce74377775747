/* edgefaas-meta.c: being written (see edgefaas-meta.h). */
#include "edgefaas-meta.h"
