/* edgefaas: shared library export macro. */
#pragma once

#include <glib.h>

#ifdef BUILDING_EDGEFAAS
#define EDGEFAAS_API __attribute__ ((visibility ("default")))
#else
#define EDGEFAAS_API
#endif
