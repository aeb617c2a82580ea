#include "mudit/core/device.h"

#include <ATen/Parallel.h>
#include <torch/cuda.h>

#include <algorithm>
#include <cctype>

#include "mudit/core/error.h"

namespace mudit {
namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

}  // namespace

bool cuda_available() {
  return torch::cuda::is_available();
}

int cuda_device_count() {
  return static_cast<int>(torch::cuda::device_count());
}

c10::Device parse_device(std::string_view name) {
  const std::string n = lower(name);
  if (n == "auto") {
    return cuda_available() ? c10::Device(c10::kCUDA, 0) : c10::Device(c10::kCPU);
  }
  if (n == "cpu") return c10::Device(c10::kCPU);
  if (n == "cuda" || n.rfind("cuda:", 0) == 0) {
    int index = 0;
    if (n.size() > 4) {
      const std::string digits = n.substr(5);
      MUDIT_CHECK(!digits.empty() && digits.size() < 4 &&
                      std::all_of(digits.begin(), digits.end(), ::isdigit),
                  ConfigError, "bad device '", name, "' (expected cpu, cuda, cuda:N or auto)");
      index = std::stoi(digits);
    }
    MUDIT_CHECK(cuda_available(), ConfigError, "device '", name,
                "' requested but no CUDA device is usable here (use --device cpu)");
    const int count = cuda_device_count();
    MUDIT_CHECK(index < count, ConfigError, "device '", name, "' does not exist (", count,
                " CUDA device", count == 1 ? "" : "s", ")");
    return c10::Device(c10::kCUDA, static_cast<c10::DeviceIndex>(index));
  }
  MUDIT_THROW(ConfigError, "bad device '", name, "' (expected cpu, cuda, cuda:N or auto)");
}

c10::ScalarType parse_dtype(std::string_view name) {
  const std::string n = lower(name);
  if (n == "fp32" || n == "float32" || n == "f32" || n == "float") return c10::kFloat;
  if (n == "fp16" || n == "float16" || n == "f16" || n == "half") return c10::kHalf;
  if (n == "bf16" || n == "bfloat16") return c10::kBFloat16;
  if (n == "fp64" || n == "float64" || n == "f64" || n == "double") return c10::kDouble;
  MUDIT_THROW(ConfigError, "unknown dtype '", name, "' (expected fp32, bf16, fp16 or fp64)");
}

std::string dtype_name(c10::ScalarType dtype) {
  switch (dtype) {
    case c10::kFloat:
      return "fp32";
    case c10::kHalf:
      return "fp16";
    case c10::kBFloat16:
      return "bf16";
    case c10::kDouble:
      return "fp64";
    default:
      return c10::toString(dtype);
  }
}

void set_num_threads(int intra_op, int inter_op) {
  MUDIT_CHECK(intra_op >= 0 && inter_op >= 0, ConfigError,
              "thread counts must be non-negative, got ", intra_op, " and ", inter_op);
  if (intra_op > 0) at::set_num_threads(intra_op);
  if (inter_op > 0) at::set_num_interop_threads(inter_op);
}

}  // namespace mudit
