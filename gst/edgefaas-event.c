/* edgefaas-event.c: being written (see edgefaas-event.h). */
#include "edgefaas-event.h"
