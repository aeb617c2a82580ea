// Writes a run's training logs with known contents for tensorboard_check.py:
//   tensorboard_sample RUN_DIR
// scalars loss = 1 / step and lr = 0.001 at steps 1..5; at step 5 an audio clip "audio/sine"
// (1 kHz, amplitude 0.5, 16 kHz, 0.5 s, mono) and a spectrogram image "spec/ramp" (64 bins x
// 100 frames, value = bin index).
#include <torch/types.h>

#include <cmath>
#include <cstdio>
#include <exception>

#include "mudit/train/metrics_log.h"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s RUN_DIR\n", argv[0]);
    return 2;
  }
  try {
    mudit::train::MetricsLogConfig config;
    config.progress = false;
    mudit::train::MetricsLog log(argv[1], config);
    for (int step = 1; step <= 5; ++step) {
      log.log_scalars(step, {{"loss", 1.0 / step}, {"lr", 0.001}});
    }
    const auto t = torch::arange(8000, torch::kFloat64) / 16000;                    // [T]
    const auto sine = (0.5 * torch::sin(2 * M_PI * 1000 * t)).to(torch::kFloat32);  // [T]
    log.log_audio(5, "audio/sine", sine.unsqueeze(0), 16000);
    const auto ramp = torch::arange(64, torch::kFloat32).unsqueeze(1).expand({64, 100});  // [F, T]
    log.log_spectrogram(5, "spec/ramp", ramp);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "tensorboard_sample: %s\n", e.what());
    return 1;
  }
  return 0;
}
