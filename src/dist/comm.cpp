// Comm: the local (world 1) implementation, the c10d-backed one, and the rendezvous.
#include "mudit/dist/comm.h"

#include <ATen/ATen.h>
#include <c10/util/Exception.h>
#include <torch/csrc/autograd/custom_function.h>
#include <torch/csrc/autograd/grad_mode.h>
#include <torch/nn/module.h>
#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>

#include <cmath>
#include <exception>
#include <sstream>

#include "dist/backends.h"
#include "mudit/core/log.h"

namespace mudit::dist {
namespace detail {

double seconds_since(std::chrono::steady_clock::time_point start) {
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return std::round(s * 10) / 10;
}

std::string current_exception_message() {
  try {
    throw;
  } catch (const c10::Error& e) {
    return e.what_without_backtrace();
  } catch (const std::exception& e) {
    return e.what();
  } catch (...) {
    return "unknown exception";
  }
}

namespace {

using Clock = std::chrono::steady_clock;

// Waits for `work`; any failure or timeout becomes a DistError naming rank and operation.
void wait_work(const c10::intrusive_ptr<c10d::Work>& work, int rank, const std::string& what,
               std::chrono::milliseconds timeout, Clock::time_point start) {
  std::string reason;
  try {
    if (work->wait(timeout)) return;
    reason = "the operation was aborted";
  } catch (...) {
    reason = current_exception_message();
  }
  MUDIT_THROW(DistError, "rank ", rank, ": ", what, " failed after ", seconds_since(start),
              " s: ", reason);
}

class PendingWork : public PendingCollective {
 public:
  PendingWork(c10::intrusive_ptr<c10d::Work> work, int rank, std::string what,
              std::chrono::milliseconds timeout)
      : work_(std::move(work)), rank_(rank), what_(std::move(what)), timeout_(timeout) {}
  void wait() override { wait_work(work_, rank_, what_, timeout_, start_); }

 private:
  c10::intrusive_ptr<c10d::Work> work_;
  int rank_;
  std::string what_;
  std::chrono::milliseconds timeout_;
  Clock::time_point start_ = Clock::now();
};

class DoneWork : public PendingCollective {
 public:
  void wait() override {}
};

c10d::ReduceOp to_c10d(ReduceOp op) {
  switch (op) {
    case ReduceOp::kMax:
      return c10d::ReduceOp::MAX;
    case ReduceOp::kMin:
      return c10d::ReduceOp::MIN;
    default:
      return c10d::ReduceOp::SUM;  // kMean divides afterwards: Gloo has no AVG
  }
}

const char* op_name(ReduceOp op) {
  switch (op) {
    case ReduceOp::kSum:
      return "sum";
    case ReduceOp::kMean:
      return "mean";
    case ReduceOp::kMax:
      return "max";
    case ReduceOp::kMin:
      return "min";
  }
  return "?";
}

// Calls `fn` with one contiguous tensor per run of same-dtype tensors (collectives take a single
// tensor), flattening and copying back when there is more than one or it is not contiguous.
template <class Fn>
void for_each_flat(std::vector<at::Tensor>& tensors, Fn&& fn) {
  size_t begin = 0;
  while (begin < tensors.size()) {
    size_t end = begin + 1;
    while (end < tensors.size() && tensors[end].scalar_type() == tensors[begin].scalar_type() &&
           tensors[end].device() == tensors[begin].device()) {
      ++end;
    }
    if (end - begin == 1 && tensors[begin].is_contiguous()) {
      fn(tensors[begin]);
    } else {
      std::vector<at::Tensor> flat_parts;
      for (size_t i = begin; i < end; ++i) flat_parts.push_back(tensors[i].reshape({-1}));
      at::Tensor flat = at::cat(flat_parts);  // [sum of numel]
      fn(flat);
      int64_t offset = 0;
      for (size_t i = begin; i < end; ++i) {
        const int64_t n = tensors[i].numel();
        tensors[i].copy_(flat.narrow(0, offset, n).view(tensors[i].sizes()));
        offset += n;
      }
    }
    begin = end;
  }
}

class LocalComm : public Comm {
 public:
  explicit LocalComm(c10::Device device) : device_(device) {}
  int rank() const override { return 0; }
  int world_size() const override { return 1; }
  c10::Device device() const override { return device_; }
  void broadcast(std::vector<at::Tensor>&, int root) override {
    MUDIT_CHECK(root == 0, DistError, "broadcast from rank ", root, " in a world of 1");
  }
  void all_reduce(std::vector<at::Tensor>&, ReduceOp) override {}
  void barrier() override {}
  at::Tensor all_gather(const at::Tensor& tensor) override { return tensor; }
  std::unique_ptr<PendingCollective> all_reduce_async(at::Tensor, ReduceOp,
                                                      const std::string&) override {
    return std::make_unique<DoneWork>();
  }

 private:
  c10::Device device_;
};

class BackendComm : public Comm {
 public:
  BackendComm(c10::intrusive_ptr<c10d::Store> store, c10::intrusive_ptr<c10d::Backend> backend,
              const BackendRequest& request, std::string name)
      : store_(std::move(store)),
        backend_(std::move(backend)),
        rank_(request.rank),
        world_(request.world_size),
        device_(request.device),
        timeout_(request.timeout),
        name_(std::move(name)) {}

  int rank() const override { return rank_; }
  int world_size() const override { return world_; }
  c10::Device device() const override { return device_; }

  void broadcast(std::vector<at::Tensor>& tensors, int root) override {
    MUDIT_CHECK(root >= 0 && root < world_, DistError, "rank ", rank_, ": broadcast from rank ",
                root, " in a world of ", world_);
    for_each_flat(tensors, [&](at::Tensor& t) {
      c10d::BroadcastOptions opts;
      opts.rootRank = root;
      opts.timeout = timeout_;
      std::vector<at::Tensor> one = {t};
      run("broadcast of " + describe(t), [&] { return backend_->broadcast(one, opts); });
    });
  }

  void all_reduce(std::vector<at::Tensor>& tensors, ReduceOp op) override {
    for (const auto& t : tensors) {
      MUDIT_CHECK(op != ReduceOp::kMean || at::isFloatingType(t.scalar_type()), DistError, "rank ",
                  rank_, ": all_reduce mean needs floating-point tensors, got ", t.scalar_type());
    }
    for_each_flat(tensors, [&](at::Tensor& t) {
      c10d::AllreduceOptions opts;
      opts.reduceOp = to_c10d(op);
      opts.timeout = timeout_;
      std::vector<at::Tensor> one = {t};
      run(std::string("all_reduce (") + op_name(op) + ") of " + describe(t),
          [&] { return backend_->allreduce(one, opts); });
      if (op == ReduceOp::kMean) t.div_(world_);
    });
  }

  void barrier() override {
    c10d::BarrierOptions opts;
    opts.timeout = timeout_;
    run("barrier", [&] { return backend_->barrier(opts); });
  }

  at::Tensor all_gather(const at::Tensor& tensor) override {
    std::vector<at::Tensor> in = {tensor.contiguous()};
    std::vector<std::vector<at::Tensor>> out(1);
    for (int r = 0; r < world_; ++r) out[0].push_back(at::empty_like(in[0]));
    c10d::AllgatherOptions opts;
    opts.timeout = timeout_;
    run("all_gather of " + describe(in[0]), [&] { return backend_->allgather(out, in, opts); });
    return at::cat(out[0], 0);
  }

  std::unique_ptr<PendingCollective> all_reduce_async(at::Tensor tensor, ReduceOp op,
                                                      const std::string& what) override {
    MUDIT_CHECK(op != ReduceOp::kMean && tensor.is_contiguous(), DistError, "rank ", rank_,
                ": all_reduce_async takes a contiguous tensor and sum, max or min");
    c10d::AllreduceOptions opts;
    opts.reduceOp = to_c10d(op);
    opts.timeout = timeout_;
    std::vector<at::Tensor> one = {tensor};
    const std::string label = "all_reduce of " + what;
    try {
      return std::make_unique<PendingWork>(backend_->allreduce(one, opts), rank_, label, timeout_);
    } catch (...) {
      MUDIT_THROW(DistError, "rank ", rank_, ": ", label,
                  " could not start: ", current_exception_message());
    }
  }

 private:
  template <class Launch>
  void run(const std::string& what, Launch&& launch) {
    const auto start = Clock::now();
    c10::intrusive_ptr<c10d::Work> work;
    try {
      work = launch();
    } catch (...) {
      MUDIT_THROW(DistError, "rank ", rank_, ": ", what, " failed after ", seconds_since(start),
                  " s: ", current_exception_message());
    }
    wait_work(work, rank_, what, timeout_, start);
  }

  static std::string describe(const at::Tensor& t) {
    std::ostringstream out;
    out << t.numel() << " " << t.scalar_type() << " values";
    return out.str();
  }

  c10::intrusive_ptr<c10d::Store> store_;
  c10::intrusive_ptr<c10d::Backend> backend_;
  int rank_;
  int world_;
  c10::Device device_;
  std::chrono::milliseconds timeout_;
  std::string name_;
};

}  // namespace

std::shared_ptr<Comm> make_backend_comm(c10::intrusive_ptr<c10d::Store> store,
                                        c10::intrusive_ptr<c10d::Backend> backend,
                                        const BackendRequest& request, std::string name) {
  return std::make_shared<BackendComm>(std::move(store), std::move(backend), request,
                                       std::move(name));
}

}  // namespace detail

namespace {

struct CommHolder : torch::CustomClassHolder {
  explicit CommHolder(std::shared_ptr<Comm> c) : comm(std::move(c)) {}
  std::shared_ptr<Comm> comm;
};

struct AllGatherFunction : torch::autograd::Function<AllGatherFunction> {
  static at::Tensor forward(torch::autograd::AutogradContext* ctx, const at::Tensor& tensor,
                            const std::shared_ptr<Comm>& comm) {
    ctx->saved_data["comm"] = c10::IValue::make_capsule(c10::make_intrusive<CommHolder>(comm));
    ctx->saved_data["rows"] = tensor.size(0);
    return comm->all_gather(tensor);
  }
  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grads) {
    const auto holder =
        c10::static_intrusive_pointer_cast<CommHolder>(ctx->saved_data["comm"].toCapsule());
    const int64_t rows = ctx->saved_data["rows"].toInt();
    std::vector<at::Tensor> g = {grads[0].contiguous().clone()};
    holder->comm->all_reduce(g, ReduceOp::kSum);
    return {g[0].narrow(0, holder->comm->rank() * rows, rows), at::Tensor()};
  }
};

}  // namespace

at::Tensor all_gather_with_grad(const std::shared_ptr<Comm>& comm, const at::Tensor& tensor) {
  MUDIT_CHECK(comm != nullptr, DistError, "all_gather_with_grad: no communicator");
  if (comm->world_size() == 1) return tensor;
  MUDIT_CHECK(tensor.dim() >= 1, DistError, "rank ", comm->rank(),
              ": all_gather needs a tensor with rows, got a scalar");
  return AllGatherFunction::apply(tensor, comm);
}

std::map<std::string, double> Comm::average(const std::map<std::string, double>& values) {
  if (world_size() == 1 || values.empty()) return values;
  std::vector<double> flat;
  for (const auto& [name, value] : values) flat.push_back(value);
  at::Tensor t = at::tensor(flat, at::TensorOptions().dtype(at::kDouble)).to(device());  // [n]
  std::vector<at::Tensor> one = {t};
  all_reduce(one, ReduceOp::kMean);
  const at::Tensor host = t.cpu();
  std::map<std::string, double> out;
  int64_t i = 0;
  for (const auto& [name, value] : values) out[name] = host[i++].item<double>();
  return out;
}

void Comm::broadcast_module(torch::nn::Module& module, int root) {
  if (world_size() == 1) return;
  torch::NoGradGuard no_grad;
  std::vector<at::Tensor> tensors;
  for (const auto& p : module.parameters(/*recurse=*/true)) tensors.push_back(p);
  for (const auto& b : module.buffers(/*recurse=*/true)) {
    if (b.defined()) tensors.push_back(b);
  }
  broadcast(tensors, root);
}

bool has_backend(const std::string& name) {
  if (name == "gloo") return detail::gloo_available();
  if (name == "nccl") return detail::nccl_available();
  return false;
}

std::shared_ptr<Comm> init_comm(const DistEnv& env, const DistConfig& config, c10::Device device) {
  MUDIT_CHECK(config.backend == "auto" || config.backend == "gloo" || config.backend == "nccl",
              DistError, "unknown backend '", config.backend, "' (auto, gloo or nccl)");
  config.validate();
  MUDIT_CHECK(env.world_size >= 1 && env.rank >= 0 && env.rank < env.world_size, DistError, "rank ",
              env.rank, " does not fit a world of ", env.world_size);
  if (!env.distributed()) {
    log::set_rank(0, 1);
    return std::make_shared<detail::LocalComm>(device);
  }
  std::string backend = config.backend;
  if (backend == "auto") backend = device.is_cuda() ? "nccl" : "gloo";
  MUDIT_CHECK(backend != "nccl" || device.is_cuda(), DistError,
              "the nccl backend needs a CUDA device, got ", device.str(), " (use backend gloo)");
  if (!has_backend(backend)) {
    // Throws the backend's own explanation (which package or toolkit is missing).
    if (backend == "gloo") detail::make_gloo_backend({});
    detail::make_nccl_backend({});
  }
  log::set_rank(env.rank, env.world_size);

  const auto timeout = std::chrono::milliseconds(static_cast<int64_t>(config.timeout_s * 1000));
  const std::string where = env.master_addr + ":" + std::to_string(env.master_port);
  const auto start = std::chrono::steady_clock::now();
  c10::intrusive_ptr<c10d::Store> store;
  try {
    c10d::TCPStoreOptions so;
    so.port = static_cast<uint16_t>(env.master_port);
    so.isServer = env.rank == 0 && !env.use_agent_store;
    so.multiTenant = so.isServer;
    if (!env.use_agent_store) so.numWorkers = env.world_size;
    so.waitWorkers = !env.use_agent_store;
    so.timeout = timeout;
    auto tcp = c10::make_intrusive<c10d::TCPStore>(env.master_addr, so);
    // A prefix keeps our keys apart from those of torchrun's agent sharing the store.
    store = c10::make_intrusive<c10d::PrefixStore>("mudit/" + backend, tcp);
  } catch (...) {
    MUDIT_THROW(DistError, "rank ", env.rank, ": rendezvous at ", where, " (world of ",
                env.world_size, ") failed after ", detail::seconds_since(start),
                " s: ", detail::current_exception_message());
  }

  detail::BackendRequest request;
  request.store = store;
  request.rank = env.rank;
  request.world_size = env.world_size;
  request.timeout = timeout;
  request.master_addr = env.master_addr;
  request.device = device;
  c10::intrusive_ptr<c10d::Backend> pg;
  try {
    pg =
        backend == "gloo" ? detail::make_gloo_backend(request) : detail::make_nccl_backend(request);
  } catch (const Error&) {
    throw;
  } catch (...) {
    MUDIT_THROW(DistError, "rank ", env.rank, ": connecting the ", backend, " backend through ",
                where, " failed after ", detail::seconds_since(start),
                " s: ", detail::current_exception_message());
  }
  log::info("rank ", env.rank, " of ", env.world_size, ": ", backend, " backend, rendezvous at ",
            where, " (", env.source, ")");
  return detail::make_backend_comm(store, pg, request, backend);
}

}  // namespace mudit::dist
