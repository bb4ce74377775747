/* edgefaas-frameref.c: being written (see edgefaas-frameref.h). */
#include "edgefaas-frameref.h"
