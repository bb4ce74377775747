/* edgefaas shared library: event schema, metas, frame store, AMQP helpers. */
#pragma once

#include "edgefaas-prelude.h"
#include "edgefaas-event.h"
#include "edgefaas-meta.h"
#include "edgefaas-frameref.h"
