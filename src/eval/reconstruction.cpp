#include "mudit/eval/reconstruction.h"

#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>

#include "mudit/core/error.h"
#include "mudit/train/losses.h"

namespace mudit::eval {
namespace {

at::Tensor rows(const at::Tensor& x) {
  MUDIT_CHECK(x.dim() >= 1 && x.dim() <= 3, ShapeError,
              "reconstruction metrics expect [C, T] or [B, C, T], got ", x.sizes());
  return x.to(at::kFloat).reshape({-1, x.size(-1)});  // [N, T]
}

void check(const at::Tensor& pred, const at::Tensor& target) {
  MUDIT_CHECK(pred.sizes() == target.sizes(), ShapeError, "reconstruction ", pred.sizes(),
              " and reference ", target.sizes(), " differ in shape");
}

}  // namespace

double mel_l1(const at::Tensor& pred, const at::Tensor& target, const MelConfig& mel) {
  check(pred, target);
  c10::InferenceMode guard;
  const MelSpectrogram m(mel);
  return (m(rows(pred)) - m(rows(target))).abs().mean().item<double>();
}

double mrstft_distance(const at::Tensor& pred, const at::Tensor& target) {
  check(pred, target);
  c10::InferenceMode guard;
  static const train::MultiResolutionStftLoss loss;
  return loss(pred, target).total().item<double>();
}

double si_sdr(const at::Tensor& pred, const at::Tensor& target) {
  c10::InferenceMode guard;
  return train::si_snr(pred, target).mean().item<double>();
}

double log_spectral_distance(const at::Tensor& pred, const at::Tensor& target) {
  check(pred, target);
  c10::InferenceMode guard;
  StftOptions o;
  o.n_fft = 2048;
  o.hop_length = 512;
  const at::Tensor p = spectrum_power(stft(rows(pred), o), 2.0) + 1e-10;  // [N, F, frames]
  const at::Tensor t = spectrum_power(stft(rows(target), o), 2.0) + 1e-10;
  const at::Tensor db = 10.0 * at::log10(t / p);  // [N, F, frames]
  return db.pow(2).mean(1).sqrt().mean().item<double>();
}

std::map<std::string, double> ReconstructionMetrics::to_map() const {
  return {{"mel_l1", mel_l1}, {"mrstft", mrstft}, {"si_sdr", si_sdr}, {"lsd", lsd}};
}

ReconstructionMetrics reconstruction_metrics(const at::Tensor& pred, const at::Tensor& target,
                                             const MelConfig& mel) {
  at::Tensor p = pred;
  const int64_t t = target.size(-1);
  if (p.size(-1) > t) p = p.narrow(-1, 0, t);
  if (p.size(-1) < t) p = at::constant_pad_nd(p, {0, t - p.size(-1)});
  ReconstructionMetrics m;
  m.mel_l1 = mel_l1(p, target, mel);
  m.mrstft = mrstft_distance(p, target);
  m.si_sdr = si_sdr(p, target);
  m.lsd = log_spectral_distance(p, target);
  return m;
}

}  // namespace mudit::eval
