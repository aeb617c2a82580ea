// Private: the c10d process groups behind Comm. Each backend lives in its own source file,
// compiled only when its headers are available (gloo.cpp: MUDIT_HAVE_GLOO, nccl.cpp:
// MUDIT_HAVE_NCCL); otherwise its factory throws DistError saying how to get it.
#pragma once

#include <torch/csrc/distributed/c10d/Backend.hpp>
#include <torch/csrc/distributed/c10d/Store.hpp>

#include <chrono>
#include <memory>
#include <string>

#include "mudit/dist/comm.h"

namespace mudit::dist::detail {

/// What a backend needs to connect its ranks.
struct BackendRequest {
  c10::intrusive_ptr<c10d::Store> store;
  int rank = 0;
  int world_size = 1;
  std::chrono::milliseconds timeout{300000};
  std::string master_addr;
  c10::Device device = c10::Device(c10::kCPU);
};

bool gloo_available();
bool nccl_available();
c10::intrusive_ptr<c10d::Backend> make_gloo_backend(const BackendRequest& request);
c10::intrusive_ptr<c10d::Backend> make_nccl_backend(const BackendRequest& request);

/// A Comm over a connected c10d backend; keeps the store alive as long as the backend.
std::shared_ptr<Comm> make_backend_comm(c10::intrusive_ptr<c10d::Store> store,
                                        c10::intrusive_ptr<c10d::Backend> backend,
                                        const BackendRequest& request, std::string name);

/// Seconds since `start`, for error messages.
double seconds_since(std::chrono::steady_clock::time_point start);

/// The message of the exception being handled (c10::Error without its backtrace).
std::string current_exception_message();

}  // namespace mudit::dist::detail
