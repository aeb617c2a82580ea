#include "mudit/audio/features.h"

#include <c10/core/InferenceMode.h>
#include <torch/fft.h>
#include <torch/nn/functional/fold.h>
#include <torch/nn/functional/padding.h>
#include <torch/types.h>

#include <cmath>
#include <initializer_list>
#include <map>
#include <mutex>
#include <tuple>
#include <utility>

#include "mudit/core/log.h"

namespace mudit {
namespace {

namespace F = torch::nn::functional;

// mudit::core cannot use check_choice() (config.h's implementation lives in mudit::mudit).
void check_one_of(const char* field, const std::string& value,
                  std::initializer_list<const char*> choices) {
  std::string listed;
  for (const char* c : choices) {
    if (value == c) return;
    listed += listed.empty() ? "" : ", ";
    listed += c;
  }
  MUDIT_THROW(ConfigError, field, ": '", value, "' is not one of ", listed);
}

// Slaney's auditory-toolbox scale: linear below 1 kHz, logarithmic above.
constexpr double kSlaneyHzPerMel = 200.0 / 3.0;
constexpr double kSlaneyMinLogHz = 1000.0;
constexpr double kSlaneyMinLogMel = kSlaneyMinLogHz / kSlaneyHzPerMel;  // 15
const double kSlaneyLogStep = std::log(6.4) / 27.0;

// float32 for half / bfloat16 / integer input, the input's dtype otherwise.
c10::ScalarType compute_dtype(const torch::Tensor& x) {
  const auto t = x.scalar_type();
  return t == torch::kFloat64 ? torch::kFloat64 : torch::kFloat32;
}

F::PadFuncOptions::mode_t pad_mode_of(const std::string& mode) {
  if (mode == "reflect") return torch::kReflect;
  if (mode == "replicate") return torch::kReplicate;
  return torch::kConstant;
}

// Moves a user window to the signal and zero-pads a win_length window to n_fft.
torch::Tensor resolve_window(const torch::Tensor& window, const StftOptions& opts,
                             c10::ScalarType dtype, c10::Device device) {
  if (!window.defined()) return stft_window(opts, dtype, device);
  MUDIT_CHECK(window.dim() == 1 && window.size(0) <= opts.n_fft, ShapeError,
              "stft: window must be 1-D with at most n_fft = ", opts.n_fft, " samples, got ",
              window.sizes());
  torch::Tensor w = window.to(device, dtype);  // [W]
  const int64_t left = (opts.n_fft - w.size(0)) / 2;
  if (left > 0 || w.size(0) < opts.n_fft) {
    w = F::pad(w, F::PadFuncOptions({left, opts.n_fft - w.size(0) - left}));  // [n_fft]
  }
  return w;
}

}  // namespace

// --- StftOptions ----------------------------------------------------------------------------

void StftOptions::validate() const {
  MUDIT_CHECK(n_fft > 0, ConfigError, "n_fft must be positive, got ", n_fft);
  MUDIT_CHECK(hop_length > 0, ConfigError, "hop_length must be positive, got ", hop_length);
  MUDIT_CHECK(win_length >= 0 && win_length <= n_fft, ConfigError,
              "win_length must be in [0, n_fft = ", n_fft, "] (0: n_fft), got ", win_length);
  check_one_of("window", window, {"hann", "hamming", "rectangular"});
  check_one_of("padding", padding, {"center", "same", "none"});
  check_one_of("pad_mode", pad_mode, {"reflect", "constant", "replicate"});
  MUDIT_CHECK(padding != "same" || hop_length <= n_fft, ConfigError,
              "padding 'same' needs hop_length <= n_fft, got hop ", hop_length, " and n_fft ",
              n_fft);
}

int64_t StftOptions::pad_amount() const {
  if (padding == "center") return n_fft / 2;
  if (padding == "same") return (n_fft - hop_length) / 2;
  return 0;
}

int64_t StftOptions::num_frames(int64_t length) const {
  const int64_t padded = length + 2 * pad_amount();
  return padded < n_fft ? 0 : 1 + (padded - n_fft) / hop_length;
}

torch::Tensor stft_window(const StftOptions& opts, c10::ScalarType dtype, c10::Device device) {
  opts.validate();
  const int64_t win = opts.effective_win_length();
  const auto to = torch::TensorOptions().dtype(dtype).device(device);
  torch::Tensor w;  // [win]
  if (opts.window == "hann") {
    w = torch::hann_window(win, /*periodic=*/true, to);
  } else if (opts.window == "hamming") {
    w = torch::hamming_window(win, /*periodic=*/true, to);
  } else {
    w = torch::ones({win}, to);
  }
  const int64_t left = (opts.n_fft - win) / 2;
  if (win < opts.n_fft) w = F::pad(w, F::PadFuncOptions({left, opts.n_fft - win - left}));
  return w;  // [n_fft]
}

// --- STFT / iSTFT ---------------------------------------------------------------------------

torch::Tensor stft(const torch::Tensor& signal, const StftOptions& opts,
                   const torch::Tensor& window) {
  opts.validate();
  MUDIT_CHECK(signal.defined() && (signal.dim() == 1 || signal.dim() == 2), ShapeError,
              "stft: expected a signal [T] or [B, T], got ",
              signal.defined() ? signal.sizes() : c10::IntArrayRef{});
  const bool batched = signal.dim() == 2;
  torch::Tensor x = batched ? signal : signal.unsqueeze(0);  // [B, T]
  x = x.to(compute_dtype(x));
  const int64_t pad = opts.pad_amount();
  const int64_t length = x.size(1);
  if (pad > 0) {
    MUDIT_CHECK(opts.pad_mode != "reflect" || length > pad, ShapeError, "stft: a signal of ",
                length, " samples is too short for ", pad, " samples of reflect padding");
    x = F::pad(x.unsqueeze(1),
               F::PadFuncOptions({pad, pad}).mode(pad_mode_of(opts.pad_mode)))  // [B, 1, T+2p]
            .squeeze(1);                                                        // [B, T+2p]
  }
  MUDIT_CHECK(x.size(1) >= opts.n_fft, ShapeError, "stft: a signal of ", length,
              " samples gives no frame of n_fft = ", opts.n_fft, " with padding '", opts.padding,
              "'");
  const torch::Tensor w = resolve_window(window, opts, x.scalar_type(), x.device());  // [n_fft]
  torch::Tensor spec = at::stft(x, opts.n_fft, opts.hop_length, opts.n_fft, w, /*center=*/false,
                                "reflect", opts.normalized, /*onesided=*/true,
                                /*return_complex=*/true);  // [B, F, N]
  return batched ? spec : spec.squeeze(0);
}

torch::Tensor istft(const torch::Tensor& spec, const StftOptions& opts,
                    std::optional<int64_t> length, const torch::Tensor& window) {
  opts.validate();
  MUDIT_CHECK(spec.defined() && spec.is_complex() && (spec.dim() == 2 || spec.dim() == 3),
              ShapeError, "istft: expected a complex spectrogram [F, N] or [B, F, N], got ",
              spec.defined() ? spec.sizes() : c10::IntArrayRef{});
  const bool batched = spec.dim() == 3;
  torch::Tensor s = batched ? spec : spec.unsqueeze(0);  // [B, F, N]
  MUDIT_CHECK(s.size(1) == opts.n_fft / 2 + 1, ShapeError, "istft: expected ", opts.n_fft / 2 + 1,
              " frequency bins for n_fft = ", opts.n_fft, ", got ", s.size(1));
  const auto real_dtype =
      s.scalar_type() == torch::kComplexDouble ? torch::kFloat64 : torch::kFloat32;
  const torch::Tensor w = resolve_window(window, opts, real_dtype, s.device());  // [n_fft]
  const int64_t frames = s.size(2);
  const int64_t pad = opts.pad_amount();
  const int64_t total = (frames - 1) * opts.hop_length + opts.n_fft;
  const int64_t out_len = length.value_or(total - 2 * pad);

  torch::Tensor y;
  if (opts.padding == "center") {
    y = at::istft(s, opts.n_fft, opts.hop_length, opts.n_fft, w, /*center=*/true, opts.normalized,
                  /*onesided=*/true, out_len);  // [B, L]
  } else {
    torch::Tensor seg = torch::fft::irfft(s, opts.n_fft, /*dim=*/1);  // [B, n_fft, N]
    if (opts.normalized) seg = seg * std::sqrt(static_cast<double>(opts.n_fft));
    seg = seg * w.view({1, -1, 1});  // [B, n_fft, N]
    const auto fold = F::FoldFuncOptions({1, total}, {1, opts.n_fft}).stride({1, opts.hop_length});
    torch::Tensor sum = F::fold(seg, fold).view({s.size(0), total});  // [B, total]
    const torch::Tensor w2 = w.square().view({1, -1, 1}).expand({1, opts.n_fft, frames});
    const torch::Tensor env = F::fold(w2, fold).view({1, total});  // [1, total]
    const torch::Tensor covered = env > 1e-11;                     // [1, total]
    y = torch::where(covered, sum / torch::where(covered, env, torch::ones_like(env)),
                     torch::zeros_like(sum));  // [B, total]
    const int64_t avail = total - pad;
    y = y.narrow(1, pad, std::min(out_len, avail));                               // [B, L']
    if (out_len > avail) y = F::pad(y, F::PadFuncOptions({0, out_len - avail}));  // [B, L]
  }
  return batched ? y : y.squeeze(0);
}

torch::Tensor spectrum_power(const torch::Tensor& spec, double power, double eps) {
  MUDIT_CHECK(spec.is_complex(), ShapeError, "spectrum_power: expected a complex spectrogram");
  MUDIT_CHECK(power > 0 && eps >= 0, ConfigError,
              "spectrum_power: power must be positive and eps non-negative, got ", power, ", ",
              eps);
  if (eps == 0.0 && power == 1.0) return spec.abs();
  torch::Tensor energy = at::real(spec).square() + at::imag(spec).square();  // [..., F, N]
  if (eps > 0.0) energy = energy + eps;
  if (power == 2.0) return energy;
  return energy.sqrt().pow(power);  // [..., F, N]
}

// --- mel scale ------------------------------------------------------------------------------

double hz_to_mel(double hz, const std::string& scale) {
  check_one_of("mel_scale", scale, {"htk", "slaney"});
  if (scale == "htk") return 2595.0 * std::log10(1.0 + hz / 700.0);
  if (hz < kSlaneyMinLogHz) return hz / kSlaneyHzPerMel;
  return kSlaneyMinLogMel + std::log(hz / kSlaneyMinLogHz) / kSlaneyLogStep;
}

double mel_to_hz(double mel, const std::string& scale) {
  check_one_of("mel_scale", scale, {"htk", "slaney"});
  if (scale == "htk") return 700.0 * (std::pow(10.0, mel / 2595.0) - 1.0);
  if (mel < kSlaneyMinLogMel) return mel * kSlaneyHzPerMel;
  return kSlaneyMinLogHz * std::exp(kSlaneyLogStep * (mel - kSlaneyMinLogMel));
}

torch::Tensor hz_to_mel(const torch::Tensor& hz, const std::string& scale) {
  check_one_of("mel_scale", scale, {"htk", "slaney"});
  if (scale == "htk") return 2595.0 * torch::log10(1.0 + hz / 700.0);
  const torch::Tensor log_part =
      kSlaneyMinLogMel + torch::log(torch::clamp_min(hz, 1e-30) / kSlaneyMinLogHz) / kSlaneyLogStep;
  return torch::where(hz >= kSlaneyMinLogHz, log_part, hz / kSlaneyHzPerMel);
}

torch::Tensor mel_to_hz(const torch::Tensor& mel, const std::string& scale) {
  check_one_of("mel_scale", scale, {"htk", "slaney"});
  if (scale == "htk") return 700.0 * (torch::pow(10.0, mel / 2595.0) - 1.0);
  const torch::Tensor log_part =
      kSlaneyMinLogHz * torch::exp(kSlaneyLogStep * (mel - kSlaneyMinLogMel));
  return torch::where(mel >= kSlaneyMinLogMel, log_part, mel * kSlaneyHzPerMel);
}

torch::Tensor mel_chroma_matrix(const MelConfig& mel, double f_min, double f_max, double sigma) {
  MUDIT_CHECK(f_min > 0 && f_min < f_max && sigma > 0, ConfigError,
              "mel_chroma_matrix: need 0 < f_min < f_max and sigma > 0, got f_min ", f_min,
              ", f_max ", f_max, ", sigma ", sigma);
  const auto f64 = torch::TensorOptions().dtype(torch::kFloat64);
  const double top = mel.f_max && *mel.f_max > 0 ? *mel.f_max : mel.sample_rate / 2.0;
  const torch::Tensor points = torch::linspace(hz_to_mel(mel.f_min, mel.mel_scale),
                                               hz_to_mel(top, mel.mel_scale), mel.n_mels + 2, f64);
  const torch::Tensor centres = mel_to_hz(points.slice(0, 1, -1), mel.mel_scale);  // [M]
  const torch::Tensor pitch = 12.0 * torch::log2(centres / 440.0) + 69.0;          // MIDI
  const torch::Tensor classes = torch::arange(12, f64).unsqueeze(1);               // [12, 1]
  torch::Tensor d = torch::remainder(pitch.unsqueeze(0) - classes, 12.0);          // [12, M]
  d = torch::minimum(d, 12.0 - d);
  torch::Tensor w = torch::exp(-0.5 * (d / sigma).pow(2));
  w = w / w.sum(0, true);
  const torch::Tensor inside = (centres >= f_min) & (centres <= f_max);
  MUDIT_CHECK(inside.any().item<bool>(), ConfigError, "mel_chroma_matrix: no mel band lies in [",
              f_min, ", ", f_max, "] Hz");
  return (w * inside.unsqueeze(0).to(torch::kFloat64)).to(torch::kFloat32);
}

torch::Tensor mel_filterbank(int64_t sample_rate, int64_t n_fft, int64_t n_mels, double f_min,
                             std::optional<double> f_max, const std::string& mel_scale,
                             const std::string& norm, c10::ScalarType dtype, c10::Device device) {
  check_one_of("mel_scale", mel_scale, {"htk", "slaney"});
  check_one_of("norm", norm, {"slaney", "none"});
  const double nyquist = sample_rate / 2.0;
  const double top = f_max && *f_max > 0 ? *f_max : nyquist;
  MUDIT_CHECK(sample_rate > 0 && n_fft > 0 && n_mels > 0, ConfigError,
              "mel_filterbank: sample_rate, n_fft and n_mels must be positive");
  MUDIT_CHECK(f_min >= 0 && f_min < top && top <= nyquist, ConfigError,
              "mel_filterbank: need 0 <= f_min < f_max <= sample_rate/2, got f_min ", f_min,
              ", f_max ", top, ", sample_rate ", sample_rate);
  const auto f64 = torch::TensorOptions().dtype(torch::kFloat64);
  const int64_t n_freqs = n_fft / 2 + 1;
  const torch::Tensor freqs = torch::linspace(0.0, nyquist, n_freqs, f64);  // [F]
  const torch::Tensor mels = torch::linspace(hz_to_mel(f_min, mel_scale), hz_to_mel(top, mel_scale),
                                             n_mels + 2, f64);                  // [M+2]
  const torch::Tensor edges = mel_to_hz(mels, mel_scale);                       // [M+2]
  const torch::Tensor widths = edges.slice(0, 1) - edges.slice(0, 0, -1);       // [M+1]
  const torch::Tensor slopes = edges.unsqueeze(0) - freqs.unsqueeze(1);         // [F, M+2]
  const torch::Tensor down = -slopes.slice(1, 0, -2) / widths.slice(0, 0, -1);  // [F, M]
  const torch::Tensor up = slopes.slice(1, 2) / widths.slice(0, 1);             // [F, M]
  torch::Tensor fb = torch::clamp_min(torch::minimum(down, up), 0.0);           // [F, M]
  if (norm == "slaney") {
    fb = fb * (2.0 / (edges.slice(0, 2) - edges.slice(0, 0, -2))).unsqueeze(0);  // [F, M]
  }
  const int64_t empty = (fb.amax(0) == 0).sum().item<int64_t>();
  if (empty > 0) {
    log::warn("mel_filterbank: ", empty, " of ", n_mels, " mel filters are all zero (n_mels ",
              n_mels, " is too high for n_fft ", n_fft, ")");
  }
  return fb.t().contiguous().to(device, dtype);  // [M, F]
}

// --- MelConfig ------------------------------------------------------------------------------

void MelConfig::validate() const {
  MUDIT_CHECK(sample_rate > 0, ConfigError, "sample_rate must be positive, got ", sample_rate);
  MUDIT_CHECK(n_mels > 0, ConfigError, "n_mels must be positive, got ", n_mels);
  MUDIT_CHECK(f_min >= 0, ConfigError, "f_min must be >= 0, got ", f_min);
  if (f_max) {
    MUDIT_CHECK(*f_max > f_min && *f_max <= sample_rate / 2.0, ConfigError,
                "f_max must be in (f_min, sample_rate/2] = (", f_min, ", ", sample_rate / 2.0,
                "], got ", *f_max);
  }
  check_one_of("mel_scale", mel_scale, {"htk", "slaney"});
  check_one_of("norm", norm, {"slaney", "none"});
  MUDIT_CHECK(power > 0, ConfigError, "power must be positive, got ", power);
  MUDIT_CHECK(mag_eps >= 0, ConfigError, "mag_eps must be >= 0, got ", mag_eps);
  check_one_of("log", log, {"ln", "log10", "none"});
  MUDIT_CHECK(log_clamp > 0, ConfigError, "log_clamp must be positive, got ", log_clamp);
  stft_options().validate();
}

StftOptions MelConfig::stft_options() const {
  StftOptions o;
  o.n_fft = n_fft;
  o.hop_length = hop_length;
  o.win_length = win_length;
  o.window = window;
  o.padding = padding;
  o.pad_mode = pad_mode;
  return o;
}

MelConfig MelConfig::hifigan_22k() {
  MelConfig c;
  c.sample_rate = 22050;
  c.n_fft = 1024;
  c.win_length = 1024;
  c.hop_length = 256;
  c.n_mels = 80;
  c.f_min = 0.0;
  c.f_max = 8000.0;
  c.mel_scale = "slaney";
  c.norm = "slaney";
  c.power = 1.0;
  c.mag_eps = 1e-9;
  c.window = "hann";
  c.padding = "same";
  c.pad_mode = "reflect";
  c.log = "ln";
  c.log_clamp = 1e-5;
  return c;
}

MelConfig MelConfig::hifigan_22k_loss() {
  MelConfig c = hifigan_22k();
  c.f_max.reset();
  return c;
}

MelConfig MelConfig::mudit_24k() {
  return MelConfig{};
}

// --- MelSpectrogram -------------------------------------------------------------------------

struct MelSpectrogram::Cache {
  std::mutex mutex;
  // (device type, device index, dtype) -> (window [n_fft], filterbank [M, F])
  std::map<std::tuple<int, int, int>, std::pair<torch::Tensor, torch::Tensor>> entries;

  std::pair<torch::Tensor, torch::Tensor> get(const MelConfig& cfg, const StftOptions& stft,
                                              c10::Device device, c10::ScalarType dtype) {
    const auto key = std::make_tuple(static_cast<int>(device.type()),
                                     static_cast<int>(device.index()), static_cast<int>(dtype));
    std::lock_guard<std::mutex> lock(mutex);
    auto it = entries.find(key);
    if (it != entries.end()) return it->second;
    // Plain constant tensors, usable in autograd even when first built inside InferenceMode.
    c10::InferenceMode normal_tensors(false);
    torch::NoGradGuard no_grad;
    torch::Tensor window = stft_window(stft, dtype, device);  // [n_fft]
    torch::Tensor fb = mel_filterbank(cfg.sample_rate, cfg.n_fft, cfg.n_mels, cfg.f_min, cfg.f_max,
                                      cfg.mel_scale, cfg.norm, dtype, device);  // [M, F]
    return entries.emplace(key, std::make_pair(window, fb)).first->second;
  }
};

MelSpectrogram::MelSpectrogram(MelConfig cfg)
    : cfg_(std::move(cfg)), stft_(cfg_.stft_options()), cache_(std::make_shared<Cache>()) {
  cfg_.validate();
}

torch::Tensor MelSpectrogram::filterbank(c10::Device device, c10::ScalarType dtype) const {
  return cache_->get(cfg_, stft_, device, dtype).second;
}

torch::Tensor MelSpectrogram::window(c10::Device device, c10::ScalarType dtype) const {
  return cache_->get(cfg_, stft_, device, dtype).first;
}

torch::Tensor MelSpectrogram::mel(const torch::Tensor& signal) const {
  MUDIT_CHECK(signal.defined() && (signal.dim() == 1 || signal.dim() == 2), ShapeError,
              "mel spectrogram: expected a signal [T] or [B, T], got ",
              signal.defined() ? signal.sizes() : c10::IntArrayRef{});
  const c10::ScalarType dtype = compute_dtype(signal);
  const auto [win, fb] = cache_->get(cfg_, stft_, signal.device(), dtype);
  const torch::Tensor spec = stft(signal.to(dtype), stft_, win);  // [B, F, N] or [F, N]
  const torch::Tensor power = spectrum_power(spec, cfg_.power, cfg_.mag_eps);  // [B, F, N]
  return torch::matmul(fb, power);                                             // [B, M, N]
}

torch::Tensor MelSpectrogram::apply_log(const torch::Tensor& mel) const {
  if (cfg_.log == "none") return mel;
  const torch::Tensor clamped = torch::clamp_min(mel, cfg_.log_clamp);  // [B, M, N]
  return cfg_.log == "ln" ? torch::log(clamped) : torch::log10(clamped);
}

torch::Tensor MelSpectrogram::forward(const torch::Tensor& signal) const {
  return apply_log(mel(signal));
}

}  // namespace mudit
