#include "mudit/nn/linear_probe.h"

#include <ATen/ATen.h>
#include <torch/csrc/autograd/grad_mode.h>
#include <torch/optim/lbfgs.h>

namespace mudit::nn {

Standardizer fit_standardizer(const at::Tensor& features, double floor) {
  const at::Tensor x = features.to(at::kFloat).cpu();
  return {x.mean(0), x.std(0, /*unbiased=*/false).clamp_min(floor)};
}

double fit_linear_lbfgs(torch::nn::Linear& layer, const std::function<at::Tensor()>& loss,
                        int64_t max_iterations) {
  {
    torch::NoGradGuard no_grad;
    layer->weight.zero_();
    layer->bias.zero_();
  }
  torch::optim::LBFGS opt(layer->parameters(), torch::optim::LBFGSOptions(1.0)
                                                   .max_iter(max_iterations)
                                                   .tolerance_grad(1e-9)
                                                   .tolerance_change(1e-12)
                                                   .history_size(20)
                                                   .line_search_fn("strong_wolfe"));
  double last = 0;
  opt.step([&] {
    opt.zero_grad();
    at::Tensor l = loss();
    l.backward();
    last = l.item<double>();
    return l;
  });
  return last;
}

}  // namespace mudit::nn
