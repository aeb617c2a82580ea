// The umbrella header: everything a program embedding mudit needs.
#pragma once

#include "mudit/core/config.h"
#include "mudit/core/device.h"
#include "mudit/core/error.h"
#include "mudit/core/log.h"
#include "mudit/core/rng.h"
#include "mudit/core/version.h"
