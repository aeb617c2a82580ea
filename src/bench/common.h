// What several suites share beyond the PyTorch comparison: timing a call (on a GPU, with its
// queue drained at both ends) and random weights for models timed untrained.
#pragma once

#include <functional>
#include <vector>

namespace torch::nn {
class Module;
}

namespace mudit::bench {

/// The seconds one call of `f` takes; `sync` (when given) runs before the clock starts and
/// before it stops, so a device's queued work is counted where it was issued.
double time_once(const std::function<void()>& f, const std::function<void()>& sync = {});

/// `warmup` untimed calls of `f`, then `repeats` timed ones: their seconds, in order.
std::vector<double> time_runs(int warmup, int repeats, const std::function<void()>& f,
                              const std::function<void()>& sync = {});

/// Weights for timing an untrained model: DiT's initialisation zeroes its modulations and output
/// layer, so random weights are what make every path compute (a trained model's timing).
/// Matrices and kernels uniform in ±1 / √fan-in; vectors N(0, 0.1), the cross-attention norms'
/// gains (`norm_cross.weight`) around 1 so cross-attention is not scaled away.
void randomize_weights(torch::nn::Module& model);

}  // namespace mudit::bench
