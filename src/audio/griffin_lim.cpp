#include "mudit/audio/griffin_lim.h"

#include <ATen/ATen.h>

#include <cmath>

#include "mudit/core/error.h"
#include "mudit/core/rng.h"

namespace mudit {

void GriffinLimConfig::validate() const {
  MUDIT_CHECK(iterations >= 0, ConfigError, "griffin_lim.iterations must be >= 0, got ",
              iterations);
  MUDIT_CHECK(std::isfinite(momentum) && momentum >= 0 && momentum < 2, ConfigError,
              "griffin_lim.momentum must be in [0, 2), got ", momentum);
}

at::Tensor griffin_lim(const at::Tensor& magnitude, const StftOptions& options,
                       const GriffinLimConfig& config, std::optional<int64_t> length) {
  config.validate();
  options.validate();
  MUDIT_CHECK(magnitude.defined() && (magnitude.dim() == 2 || magnitude.dim() == 3) &&
                  magnitude.size(-2) == options.n_fft / 2 + 1,
              ShapeError, "griffin_lim: expected a magnitude [B, ", options.n_fft / 2 + 1,
              ", N] for n_fft = ", options.n_fft, ", got ",
              magnitude.defined() ? magnitude.sizes() : c10::IntArrayRef{});
  const bool batched = magnitude.dim() == 3;
  const at::Tensor mag = (batched ? magnitude : magnitude.unsqueeze(0)).to(at::kFloat);
  // The iterations run on signals whose stft has exactly N frames; `length` applies at the end.
  const int64_t frames = mag.size(2);
  // The same starting phases for every item (a song decodes the same alone or in a batch),
  // drawn on the CPU (the same on every device).
  const at::Tensor phase =
      at::rand({mag.size(1), frames}, make_generator(config.seed), mag.options().device(c10::kCPU))
          .to(mag.device())
          .expand_as(mag);
  at::Tensor angles = at::polar(at::ones_like(mag), phase * (2 * M_PI));
  at::Tensor previous;
  const double extrapolate = config.momentum / (1 + config.momentum);
  for (int64_t i = 0; i < config.iterations; ++i) {
    const at::Tensor rebuilt = stft(istft(mag * angles, options), options);  // [B, F, N]
    MUDIT_CHECK(rebuilt.size(2) == frames, ShapeError, "griffin_lim: ", frames,
                " frames came back as ", rebuilt.size(2), " (padding '", options.padding, "')");
    at::Tensor next = previous.defined() ? rebuilt - extrapolate * previous : rebuilt;
    previous = rebuilt;
    angles = next / (next.abs() + 1e-16);
  }
  at::Tensor wav = istft(mag * angles, options, length);
  return batched ? wav : wav.squeeze(0);
}

at::Tensor mel_to_magnitude(const at::Tensor& mel, const MelConfig& cfg) {
  cfg.validate();
  MUDIT_CHECK(mel.defined() && (mel.dim() == 2 || mel.dim() == 3) && mel.size(-2) == cfg.n_mels,
              ShapeError, "mel_to_magnitude: expected [B, ", cfg.n_mels, ", N], got ",
              mel.defined() ? mel.sizes() : c10::IntArrayRef{});
  // Float64 stays float64 (eval::key_from_mel reads keys through this); anything else is float32.
  const auto dtype = mel.scalar_type() == at::kDouble ? at::kDouble : at::kFloat;
  at::Tensor m = mel.to(dtype);
  if (cfg.log == "ln") {
    m = m.exp();
  } else if (cfg.log == "log10") {
    m = at::pow(10.0, m);
  }
  const MelSpectrogram spec(cfg);
  const at::Tensor inverse =
      at::linalg_pinv(spec.filterbank(c10::kCPU, at::kDouble)).to(m.device(), dtype);  // [F, M]
  return at::matmul(inverse, m).clamp_min(0).pow(1.0 / cfg.power);
}

at::Tensor griffin_lim_from_log_mel(const at::Tensor& mel, const MelConfig& cfg,
                                    const GriffinLimConfig& config) {
  const at::Tensor magnitude = mel_to_magnitude(mel, cfg);
  return griffin_lim(magnitude, cfg.stft_options(), config, mel.size(-1) * cfg.hop_length);
}

}  // namespace mudit
