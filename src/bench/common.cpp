#include "bench/common.h"

#include <ATen/ATen.h>
#include <torch/nn/module.h>

#include <chrono>
#include <cmath>

namespace mudit::bench {

double time_once(const std::function<void()>& f, const std::function<void()>& sync) {
  if (sync) sync();
  const auto t0 = std::chrono::steady_clock::now();
  f();
  if (sync) sync();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

std::vector<double> time_runs(int warmup, int repeats, const std::function<void()>& f,
                              const std::function<void()>& sync) {
  std::vector<double> times;
  for (int i = 0; i < warmup + repeats; ++i) {
    const double t = time_once(f, sync);
    if (i >= warmup) times.push_back(t);
  }
  return times;
}

void randomize_weights(torch::nn::Module& model) {
  at::NoGradGuard no_grad;
  for (auto& p : model.named_parameters()) {
    at::Tensor w = p.value();
    if (w.dim() >= 2) {
      const double bound = 1.0 / std::sqrt(static_cast<double>(w[0].numel()));
      w.uniform_(-bound, bound);
    } else {
      w.normal_(0, 0.1);
      if (p.key().find("norm_cross.weight") != std::string::npos) w.add_(1.0);
    }
  }
}

}  // namespace mudit::bench
