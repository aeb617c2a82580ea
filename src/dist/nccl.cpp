// The NCCL backend (CUDA collectives). Compiled only when the CUDA toolkit and nccl.h were found
// at build time; the nccl.h used is the one of the nvidia-nccl wheel torch was built with, so
// ProcessGroupNCCL's layout here matches libtorch_cuda's.
#include "dist/backends.h"

#if MUDIT_HAVE_NCCL
#include <c10/cuda/CUDAFunctions.h>
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#endif

namespace mudit::dist::detail {

#if MUDIT_HAVE_NCCL

bool nccl_available() {
  return true;
}

c10::intrusive_ptr<c10d::Backend> make_nccl_backend(const BackendRequest& request) {
  MUDIT_CHECK(request.device.is_cuda(), DistError, "the nccl backend needs a CUDA device, got ",
              request.device.str());
  if (request.device.has_index()) c10::cuda::set_device(request.device.index());
  auto options = c10d::ProcessGroupNCCL::Options::create();
  options->timeout = request.timeout;
  return c10::make_intrusive<c10d::ProcessGroupNCCL>(request.store, request.rank,
                                                     request.world_size, options);
}

#else

bool nccl_available() {
  return false;
}

c10::intrusive_ptr<c10d::Backend> make_nccl_backend(const BackendRequest&) {
  MUDIT_THROW(DistError,
              "built without NCCL: rebuild mudit where the CUDA toolkit and nccl.h are found "
              "(or use backend gloo)");
}

#endif

}  // namespace mudit::dist::detail
