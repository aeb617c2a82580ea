#pragma once

// Data-parallel communication between the processes of a training run, behind a small interface:
// rank, world, broadcast, all-reduce, barrier. A world of one process is a no-op everywhere, so
// single-process code never branches on "distributed or not". Backends are torch's c10d:
// ProcessGroupNCCL on CUDA, ProcessGroupGloo on CPU, rendezvous through a TCPStore.

#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "mudit/core/error.h"

namespace torch::nn {
class Module;
}

namespace mudit::dist {

/// Where this process sits in the run, as the launcher described it.
struct DistEnv {
  int rank = 0, world_size = 1, local_rank = 0;
  std::string master_addr = "127.0.0.1";
  int master_port = 29500;
  std::string source = "none";  // "torchrun", "slurm" or "none"
  /// torchrun's agent already hosts the TCPStore on master_addr:master_port
  /// (TORCHELASTIC_USE_AGENT_STORE=True): every rank then connects to it as a client.
  bool use_agent_store = false;

  /// torchrun's RANK/WORLD_SIZE/LOCAL_RANK/MASTER_ADDR/MASTER_PORT, else SLURM's
  /// SLURM_PROCID/SLURM_NTASKS/SLURM_LOCALID with MASTER_ADDR/MASTER_PORT given; else world 1.
  /// Throws ConfigError on inconsistent or partial variables (naming them).
  static DistEnv from_environment();
  bool distributed() const { return world_size > 1; }
};

/// Communication settings (the `dist:` section of a training config).
struct DistConfig {
  std::string backend = "auto";  // auto (nccl on CUDA, gloo on CPU) | gloo | nccl
  double timeout_s = 300;  // collective timeout: a dead peer becomes a DistError, never a hang
  double bucket_mb = 25;   // gradient bucket size

  template <class V>
  void visit(V& v) {
    v("backend", backend);
    v("timeout_s", timeout_s);
    v("bucket_mb", bucket_mb);
  }
  /// Throws ConfigError for an unknown backend or a non-positive timeout or bucket size.
  void validate() const;
};

enum class ReduceOp { kSum, kMean, kMax, kMin };

/// A collective in flight (see Comm::all_reduce_async).
class PendingCollective {
 public:
  virtual ~PendingCollective() = default;
  /// Blocks until the collective has completed; throws DistError on failure or timeout.
  virtual void wait() = 0;
};

/// The processes of a run. Every rank must issue the same collectives in the same order.
/// Failures and timeouts throw DistError naming the rank and the operation
/// ("rank 0: all_reduce of gradient bucket 3 failed after 10 s: <reason>").
class Comm {  // world 1: every call is a cheap no-op
 public:
  virtual ~Comm() = default;
  virtual int rank() const = 0;
  virtual int world_size() const = 0;
  bool is_main() const { return rank() == 0; }
  /// The device collectives run on (tensors passed in must live there).
  virtual c10::Device device() const = 0;

  /// Copies `tensors` of rank `root` into every rank's `tensors` (in place, blocking).
  virtual void broadcast(std::vector<at::Tensor>& tensors, int root = 0) = 0;
  /// Reduces `tensors` element-wise over ranks into every rank's `tensors` (in place, blocking).
  /// kMean needs floating-point tensors.
  virtual void all_reduce(std::vector<at::Tensor>& tensors, ReduceOp op) = 0;
  virtual void barrier() = 0;
  /// Every rank's `tensor` (the same shape and dtype on each) concatenated along dim 0 in rank
  /// order (blocking; no autograd: see all_gather_with_grad). World 1: the tensor itself.
  virtual at::Tensor all_gather(const at::Tensor& tensor) = 0;

  /// Starts an all-reduce (kSum, kMax or kMin) of one contiguous tensor and returns at once, so
  /// communication overlaps computation; `what` names it in errors ("gradient bucket 3").
  /// The tensor must not be touched until wait() returns. World 1: already complete.
  virtual std::unique_ptr<PendingCollective> all_reduce_async(at::Tensor tensor, ReduceOp op,
                                                              const std::string& what) = 0;

  /// Averages named scalars over ranks (metrics logging); identity at world 1. Every rank must
  /// pass the same names.
  std::map<std::string, double> average(const std::map<std::string, double>& values);
  /// Broadcasts every parameter and buffer of `module` from `root` (in place, no autograd).
  void broadcast_module(torch::nn::Module& module, int root = 0);
};

/// all_gather that passes gradients back: the backward pass sums the gathered tensor's gradient
/// over ranks (one all_reduce) and keeps this rank's rows, so a loss that uses other ranks' rows
/// (contrastive negatives) sends each rank its share. Every rank must run the backward pass.
at::Tensor all_gather_with_grad(const std::shared_ptr<Comm>& comm, const at::Tensor& tensor);

/// World 1 → a local Comm with no rendezvous at all; otherwise TCPStore rendezvous + the backend.
/// Sets the log's rank prefix. Throws DistError (rendezvous timeout, unknown backend, built
/// without it).
std::shared_ptr<Comm> init_comm(const DistEnv& env, const DistConfig& config, c10::Device device);

/// Whether this build can create the backend ("gloo" or "nccl").
bool has_backend(const std::string& name);

}  // namespace mudit::dist
