#include "mudit/core/version.h"

#include <ATen/Context.h>
#include <ATen/detail/CUDAHooksInterface.h>
#include <dlfcn.h>
#include <torch/version.h>

#include <sstream>

#include "mudit/core/device.h"

namespace mudit {
namespace {

// CUDA driver and NCCL are C libraries that libtorch_cuda already loaded when LibTorch was built
// with CUDA; their stable C entry points give device names and the NCCL version without CUDA
// headers, so one build serves machines with and without a GPU.
std::string cuda_device_name(int index) {
  void* lib = dlopen("libcuda.so.1", RTLD_LAZY | RTLD_NOLOAD);
  if (!lib) return "unknown";
  using GetFn = int (*)(int*, int);
  using NameFn = int (*)(char*, int, int);
  auto get = reinterpret_cast<GetFn>(dlsym(lib, "cuDeviceGet"));
  auto name = reinterpret_cast<NameFn>(dlsym(lib, "cuDeviceGetName"));
  std::string result = "unknown";
  int dev = 0;
  char buf[256] = {0};
  if (get && name && get(&dev, index) == 0 && name(buf, sizeof buf, dev) == 0) result = buf;
  dlclose(lib);
  return result;
}

std::string nccl_version() {
  void* lib = dlopen("libnccl.so.2", RTLD_LAZY | RTLD_NOLOAD);
  if (!lib) return "";
  using VersionFn = int (*)(int*);
  auto fn = reinterpret_cast<VersionFn>(dlsym(lib, "ncclGetVersion"));
  int v = 0;
  std::string result;
  if (fn && fn(&v) == 0 && v > 0) {
    // NCCL >= 2.9 encodes major*10000 + minor*100 + patch.
    result = std::to_string(v / 10000) + "." + std::to_string(v / 100 % 100) + "." +
             std::to_string(v % 100);
  }
  dlclose(lib);
  return result;
}

std::string dotted(long v, long major_div, long minor_div) {
  return std::to_string(v / major_div) + "." + std::to_string(v / minor_div % 100) + "." +
         std::to_string(v % minor_div);
}

}  // namespace

std::string build_info() {
  std::ostringstream out;
  out << "mudit " << MUDIT_VERSION_STRING << " (" << MUDIT_GIT_REVISION << ", " << MUDIT_BUILD_TYPE
      << ")\n";
  out << "LibTorch " << TORCH_VERSION << "\n";
  const auto& hooks = at::detail::getCUDAHooks();
  const bool built_with_cuda = hooks.hasCUDA() || hooks.versionCUDART() > 0;
  out << "CUDA build: " << (built_with_cuda ? "yes" : "no");
  if (built_with_cuda && hooks.versionCUDART() > 0) {
    out << " (runtime " << dotted(hooks.versionCUDART(), 1000, 10) << ")";
  }
  out << "\n";
  const bool available = cuda_available();
  out << "CUDA available: " << (available ? "yes" : "no") << "\n";
  if (available) {
    for (int i = 0; i < cuda_device_count(); ++i) {
      out << "  cuda:" << i << " " << cuda_device_name(i) << "\n";
    }
  }
  if (built_with_cuda) {
    const long cudnn = hooks.versionCuDNN();
    if (cudnn > 0) out << "cuDNN: " << dotted(cudnn, 10000, 100) << "\n";
    const std::string nccl = nccl_version();
    if (!nccl.empty()) out << "NCCL: " << nccl << "\n";
  }
  out << "threads: " << at::get_num_threads();
  return out.str();
}

}  // namespace mudit
