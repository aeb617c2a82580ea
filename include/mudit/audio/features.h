#pragma once

// Spectral features on LibTorch: STFT / iSTFT, mel filterbanks, (log-)mel spectrograms.
//
// Everything here is pure torch (part of mudit::core): it runs on CPU and CUDA, takes batches,
// and stays differentiable, because the same code computes model inputs and training losses.
// Two recipes are pinned by parity tests against reference fixtures:
//   MelConfig::hifigan_22k()  HiFi-GAN's meldataset.mel_spectrogram (Slaney scale and norm,
//                             magnitude, (n_fft-hop)/2 reflect padding, ln(clamp(x, 1e-5)))
//   MelConfig::mudit_24k()    the MuDiT mel VAE input (torchaudio MelSpectrogram, HTK scale,
//                             power 2, centred reflect padding, ln(clamp(x, 1e-5)))

#include <c10/core/Device.h>
#include <c10/core/ScalarType.h>
#include <torch/types.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "mudit/core/error.h"

namespace mudit {

// --- STFT -----------------------------------------------------------------------------------

/// How a signal is padded before framing.
///   "center"  n_fft/2 on each side (torch.stft center=True, torchaudio, librosa):
///             frames = 1 + T / hop.
///   "same"    (n_fft - hop)/2 on each side, then no centring (HiFi-GAN): frames = T / hop
///             for T a multiple of hop, so frame i covers hop i..i+1 of the signal.
///   "none"    no padding: frames = 1 + (T - n_fft) / hop.
/// pad_mode is "reflect", "constant" (zeros) or "replicate".
struct StftOptions {
  int64_t n_fft = 1024;
  int64_t hop_length = 256;
  int64_t win_length = 0;          ///< 0: n_fft. A shorter window is zero-padded to n_fft.
  std::string window = "hann";     ///< "hann" or "hamming" (both periodic), or "rectangular"
  std::string padding = "center";  ///< "center", "same" or "none"
  std::string pad_mode = "reflect";
  bool normalized = false;  ///< scale by 1/sqrt(n_fft) (torch.stft normalized=True)

  /// Throws ConfigError on sizes or names that make no sense.
  void validate() const;
  int64_t effective_win_length() const { return win_length > 0 ? win_length : n_fft; }
  /// Samples added on each side of the signal by `padding`.
  int64_t pad_amount() const;
  /// Number of frames for a signal of `length` samples.
  int64_t num_frames(int64_t length) const;
};

/// The analysis window of `opts` ([win_length], periodic), zero-padded symmetrically to n_fft
/// the way torch.stft does: [n_fft].
torch::Tensor stft_window(const StftOptions& opts, c10::ScalarType dtype = torch::kFloat32,
                          c10::Device device = c10::kCPU);

/// Short-time Fourier transform: [B, T] -> complex [B, n_fft/2+1, frames], or [T] ->
/// [n_fft/2+1, frames]. Half and bfloat16 inputs are computed in float32. `window` ([n_fft] or
/// [win_length]) defaults to stft_window(opts) on the input's device.
torch::Tensor stft(const torch::Tensor& signal, const StftOptions& opts,
                   const torch::Tensor& window = {});

/// Inverse of stft() by weighted overlap-add: complex [B, F, frames] -> [B, length], or
/// [F, frames] -> [length]. `length` defaults to the longest signal whose stft() has that many
/// frames (frames*hop for "same", (frames-1)*hop for "center", (frames-1)*hop + n_fft for
/// "none"). With "none", samples that no window covers come back as zero.
torch::Tensor istft(const torch::Tensor& spec, const StftOptions& opts,
                    std::optional<int64_t> length = std::nullopt, const torch::Tensor& window = {});

/// |X|^power of a complex spectrogram; with `eps` > 0 the magnitude is sqrt(re^2 + im^2 + eps)
/// (HiFi-GAN uses eps = 1e-9, which keeps the gradient finite at zero).
torch::Tensor spectrum_power(const torch::Tensor& spec, double power = 1.0, double eps = 0.0);

// --- mel scale -------------------------------------------------------------------------------

/// Hz to mel on the "htk" scale (2595 log10(1 + f/700); 1000 Hz = 1000 mel) or the "slaney"
/// scale (linear below 1 kHz at 3 mel / 200 Hz, logarithmic above; 1000 Hz = 15 mel).
double hz_to_mel(double hz, const std::string& scale);
double mel_to_hz(double mel, const std::string& scale);
/// Element-wise versions for tensors of any shape.
torch::Tensor hz_to_mel(const torch::Tensor& hz, const std::string& scale);
torch::Tensor mel_to_hz(const torch::Tensor& mel, const std::string& scale);

/// Triangular mel filterbank [n_mels, n_fft/2+1] (librosa's orientation; torchaudio stores the
/// transpose). Band edges are n_mels+2 points equally spaced in mel between f_min and f_max
/// (f_max <= 0 or absent: sample_rate/2). `norm` "slaney" scales each triangle to unit area
/// (2 / (f_{i+2} - f_i)); "none" leaves peaks at 1. Computed in float64, then cast to `dtype`.
torch::Tensor mel_filterbank(int64_t sample_rate, int64_t n_fft, int64_t n_mels, double f_min,
                             std::optional<double> f_max, const std::string& mel_scale = "slaney",
                             const std::string& norm = "slaney",
                             c10::ScalarType dtype = torch::kFloat32,
                             c10::Device device = c10::kCPU);

// --- mel spectrogram -------------------------------------------------------------------------

/// One mel-spectrogram recipe. Fields mirror torchaudio / librosa names; presets below.
struct MelConfig {
  int64_t sample_rate = 24000;
  int64_t n_fft = 1024;
  int64_t win_length = 1024;
  int64_t hop_length = 256;
  int64_t n_mels = 160;
  double f_min = 40.0;
  std::optional<double> f_max = 8000.0;  ///< null: sample_rate / 2
  std::string mel_scale = "htk";         ///< "htk" or "slaney"
  std::string norm = "none";             ///< filterbank normalisation: "slaney" or "none"
  double power = 2.0;                    ///< 1: magnitude, 2: power
  double mag_eps = 0.0;                  ///< magnitude = sqrt(re^2 + im^2 + mag_eps)
  std::string window = "hann";           ///< periodic; "hann", "hamming" or "rectangular"
  std::string padding = "center";        ///< "center", "same" or "none" (see StftOptions)
  std::string pad_mode = "reflect";      ///< "reflect", "constant" or "replicate"
  std::string log = "ln";                ///< "ln", "log10" or "none"
  double log_clamp = 1e-5;               ///< log(max(mel, log_clamp))

  template <class V>
  void visit(V& v) {
    v("sample_rate", sample_rate);
    v("n_fft", n_fft);
    v("win_length", win_length);
    v("hop_length", hop_length);
    v("n_mels", n_mels);
    v("f_min", f_min);
    v("f_max", f_max);
    v("mel_scale", mel_scale);
    v("norm", norm);
    v("power", power);
    v("mag_eps", mag_eps);
    v("window", window);
    v("padding", padding);
    v("pad_mode", pad_mode);
    v("log", log);
    v("log_clamp", log_clamp);
  }
  /// Throws ConfigError naming the field and the valid choices.
  void validate() const;

  /// The STFT part of the recipe.
  StftOptions stft_options() const;

  /// HiFi-GAN V1 (jik876/hifi-gan meldataset.mel_spectrogram, config_v1): 22.05 kHz, n_fft
  /// 1024, hop 256, 80 mels, 0-8000 Hz, Slaney scale and norm, magnitude with eps 1e-9, "same"
  /// reflect padding, ln clamp 1e-5.
  static MelConfig hifigan_22k();
  /// The HiFi-GAN mel loss variant (fmax_for_loss = null: the filterbank reaches sr/2).
  static MelConfig hifigan_22k_loss();
  /// The MuDiT recipe: 24 kHz, n_fft 1024, hop 256, 160 mels, 40-8000 Hz, HTK scale, no
  /// filterbank norm, power 2, centred reflect padding, ln clamp 1e-5.
  static MelConfig mudit_24k();
};

/// Pitch-class weights of a MelConfig's bands: [12, n_mels] (row 0 = C). A band whose centre lies
/// in [f_min, f_max] spreads its weight over the pitch classes by a Gaussian of `sigma`
/// semitones around the centre's pitch (circular distance), summing to 1; other bands get 0.
/// chroma = matrix @ magnitude-like mel ([B, n_mels, N] -> [B, 12, N]). The default range
/// starts where the MuDiT mel resolves semitones: its 1024-point STFT has 23.4 Hz bins and a
/// main lobe of +-47 Hz, so below ~300 Hz a pure tone lights the neighbouring pitch classes as
/// much as its own (measured: the peak class is right from 311 Hz up, wrong at 196-247 Hz).
/// Throws ConfigError for an empty range or sigma <= 0.
constexpr double kChromaFMin = 300.0;
constexpr double kChromaFMax = 2000.0;
torch::Tensor mel_chroma_matrix(const MelConfig& mel, double f_min = kChromaFMin,
                                double f_max = kChromaFMax, double sigma = 0.5);

/// Computes a MelConfig's spectrogram. The window and filterbank are built once per
/// (device, dtype) the first time an input arrives there and reused afterwards (thread-safe;
/// copies share the cache). Not a module: it has no parameters and adds nothing to a state dict.
///
///   MelSpectrogram mel(MelConfig::mudit_24k());
///   torch::Tensor m = mel(wav);   // [B, T] -> [B, 160, frames]; [T] -> [160, frames]
class MelSpectrogram {
 public:
  explicit MelSpectrogram(MelConfig cfg = MelConfig::mudit_24k());

  /// Log-mel (or mel, when cfg.log is "none"): [B, T] -> [B, n_mels, frames], [T] ->
  /// [n_mels, frames]. Differentiable; computed in the input's dtype (float32 for half/bf16).
  torch::Tensor operator()(const torch::Tensor& signal) const { return forward(signal); }
  torch::Tensor forward(const torch::Tensor& signal) const;
  /// The mel spectrogram before the log: [B, n_mels, frames].
  torch::Tensor mel(const torch::Tensor& signal) const;
  /// The log of a mel spectrogram as the config says (ln / log10 of the clamped value).
  torch::Tensor apply_log(const torch::Tensor& mel) const;

  /// Cached filterbank [n_mels, n_fft/2+1] and window [n_fft] for a device and dtype.
  torch::Tensor filterbank(c10::Device device = c10::kCPU,
                           c10::ScalarType dtype = torch::kFloat32) const;
  torch::Tensor window(c10::Device device = c10::kCPU,
                       c10::ScalarType dtype = torch::kFloat32) const;

  const MelConfig& config() const { return cfg_; }
  int64_t num_frames(int64_t length) const { return stft_.num_frames(length); }

 private:
  struct Cache;
  MelConfig cfg_;
  StftOptions stft_;
  std::shared_ptr<Cache> cache_;
};

}  // namespace mudit
