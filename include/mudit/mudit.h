// The umbrella header: everything a program embedding mudit needs.
#pragma once

#include "mudit/audio/io.h"
#include "mudit/audio/loudness.h"
#include "mudit/audio/resample.h"
#include "mudit/core/config.h"
#include "mudit/core/device.h"
#include "mudit/core/error.h"
#include "mudit/core/log.h"
#include "mudit/core/rng.h"
#include "mudit/core/version.h"
#include "mudit/train/image.h"
#include "mudit/train/metrics_log.h"
#include "mudit/train/progress.h"
#include "mudit/train/tensorboard.h"
