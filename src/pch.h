// The torch headers mudit's sources use, precompiled once and shared by every target.
// Sources still include the narrow headers they need; this file only makes that cheap.
#pragma once

#include <ATen/ATen.h>
#include <torch/autograd.h>
#include <torch/nn/functional.h>
#include <torch/nn/module.h>
#include <torch/nn/modules.h>
#include <torch/optim.h>
#include <torch/types.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>
