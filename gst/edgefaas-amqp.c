/* edgefaas-amqp.c: being written (see edgefaas-amqp.h). */
#include "edgefaas-amqp.h"
