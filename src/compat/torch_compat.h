// The one place where differences between LibTorch versions are handled. Code elsewhere uses
// the names defined here and never tests TORCH_VERSION_* itself.
#pragma once

#include <torch/version.h>

#define MUDIT_TORCH_AT_LEAST(major, minor) \
  (TORCH_VERSION_MAJOR > (major) ||        \
   (TORCH_VERSION_MAJOR == (major) && TORCH_VERSION_MINOR >= (minor)))

static_assert(MUDIT_TORCH_AT_LEAST(1, 13), "mudit needs LibTorch 1.13 or newer (2.4+ recommended)");

// LibTorch < 2.4 (Debian's libtorch-dev 1.13 fallback) lacks the accelerator hooks' generator
// factory; CPU generators are created directly there.
#define MUDIT_TORCH_HAS_ACCELERATOR_GENERATORS MUDIT_TORCH_AT_LEAST(2, 4)
