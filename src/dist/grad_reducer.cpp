#include "mudit/dist/grad_reducer.h"

#include <ATen/ATen.h>
#include <torch/csrc/autograd/grad_mode.h>

#include <string>

namespace mudit::dist {

GradReducer::GradReducer(std::shared_ptr<Comm> comm, std::vector<at::Tensor> params,
                         double bucket_mb)
    : comm_(std::move(comm)) {
  MUDIT_CHECK(comm_, DistError, "GradReducer needs a Comm");
  MUDIT_CHECK(bucket_mb > 0, ConfigError, "bucket_mb must be positive, got ", bucket_mb);
  for (auto& p : params) {
    if (p.defined() && p.requires_grad()) params_.push_back(p);
  }
  const double cap_bytes = bucket_mb * 1024 * 1024;
  slots_.resize(params_.size());
  for (size_t k = params_.size(); k-- > 0;) {
    const at::Tensor& p = params_[k];
    bool fresh = buckets_.empty();
    if (!fresh) {
      const at::Tensor& first = params_[buckets_.back().params.front()];
      const double bytes = static_cast<double>(buckets_.back().numel + p.numel()) * p.itemsize();
      fresh = first.scalar_type() != p.scalar_type() || first.device() != p.device() ||
              bytes > cap_bytes;
    }
    if (fresh) buckets_.emplace_back();
    Bucket& b = buckets_.back();
    slots_[k].bucket = buckets_.size() - 1;
    slots_[k].offset = b.numel;
    b.params.push_back(k);
    b.numel += p.numel();
  }
  if (comm_->world_size() == 1) return;
  for (size_t k = 0; k < params_.size(); ++k) {
    hooks_.push_back(
        params_[k].register_hook([this, k](const at::Tensor& grad) { on_grad(k, grad); }));
  }
}

GradReducer::~GradReducer() {
  for (size_t k = 0; k < hooks_.size(); ++k) params_[k].remove_hook(hooks_[k]);
}

void GradReducer::begin(bool sync) {
  std::lock_guard<std::mutex> lock(mutex_);
  reset_step();
  sync_ = sync && comm_->world_size() > 1;
}

void GradReducer::reset_step() {
  for (auto& s : slots_) s.ready = false;
  for (auto& b : buckets_) {
    b.pending = b.params.size();
    b.work.reset();
  }
  next_launch_ = 0;
  hook_error_ = nullptr;
}

void GradReducer::on_grad(size_t index, const at::Tensor& grad) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (!sync_ || hook_error_) return;
  // The hook sees this backward's gradient before autograd adds it to .grad, which holds what
  // earlier (unsynchronised) micro-steps accumulated; the bucket gets their sum.
  try {
    MUDIT_CHECK(!slots_[index].ready, DistError, "rank ", comm_->rank(), ": parameter ", index,
                " received a second gradient in one synchronised step (one backward per begin)");
    MUDIT_CHECK(grad.layout() == at::kStrided, DistError, "rank ", comm_->rank(),
                ": sparse gradients are not supported (parameter ", index, ")");
    const at::Tensor& acc = params_[index].grad();
    mark_ready(index, acc.defined() ? grad + acc : grad);
  } catch (...) {
    hook_error_ = std::current_exception();
  }
}

void GradReducer::mark_ready(size_t index, const at::Tensor& value) {
  Slot& slot = slots_[index];
  Bucket& bucket = buckets_[slot.bucket];
  if (!bucket.flat.defined()) {
    bucket.flat = at::empty({bucket.numel}, params_[index].options().requires_grad(false));
  }
  const at::Tensor& p = params_[index];
  at::Tensor view = bucket.flat.narrow(0, slot.offset, p.numel()).view(p.sizes());  // like p
  {
    torch::NoGradGuard no_grad;
    if (value.defined()) {
      view.copy_(value);
    } else {
      view.zero_();
    }
  }
  slot.ready = true;
  --bucket.pending;
  while (next_launch_ < buckets_.size() && buckets_[next_launch_].pending == 0) {
    Bucket& b = buckets_[next_launch_];
    b.work = comm_->all_reduce_async(b.flat, ReduceOp::kSum,
                                     "gradient bucket " + std::to_string(next_launch_));
    ++next_launch_;
  }
}

void GradReducer::finish() {
  std::unique_lock<std::mutex> lock(mutex_);
  if (!sync_) return;
  sync_ = false;
  if (hook_error_) std::rethrow_exception(hook_error_);
  for (size_t k = 0; k < params_.size(); ++k) {
    if (!slots_[k].ready) mark_ready(k, params_[k].grad());  // unused in this step
  }
  torch::NoGradGuard no_grad;
  const int world = comm_->world_size();
  for (Bucket& b : buckets_) {
    b.work->wait();
    b.work.reset();
    b.flat.div_(world);  // [numel]: sum → mean
    for (size_t k : b.params) {
      at::Tensor& p = params_[k];
      const at::Tensor mean = b.flat.narrow(0, slots_[k].offset, p.numel()).view(p.sizes());
      at::Tensor& g = p.mutable_grad();
      if (g.defined()) {
        g.copy_(mean);
      } else {
        g = mean.clone();
      }
    }
  }
}

}  // namespace mudit::dist
