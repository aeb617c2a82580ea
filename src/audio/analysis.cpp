#include "mudit/audio/analysis.h"

#include <torch/fft.h>
#include <torch/nn/functional/padding.h>
#include <torch/nn/functional/pooling.h>
#include <torch/types.h>

#include <algorithm>
#include <cmath>

#include "mudit/audio/features.h"

namespace mudit {
namespace {

namespace F = torch::nn::functional;

// [T] -> [1, T]; [B, T] unchanged; anything else is an error naming `what`.
torch::Tensor as_batch(const torch::Tensor& audio, const char* what) {
  MUDIT_CHECK(audio.defined() && (audio.dim() == 1 || audio.dim() == 2), ShapeError, what,
              ": expected audio [T] or [B, T], got ",
              audio.defined() ? audio.sizes() : c10::IntArrayRef{});
  const torch::Tensor x = audio.dim() == 1 ? audio.unsqueeze(0) : audio;  // [B, T]
  return x.scalar_type() == torch::kFloat64 ? x : x.to(torch::kFloat32);
}

int64_t next_pow2(double samples) {
  int64_t n = 1;
  while (n < samples) n <<= 1;
  return n;
}

// Frame boundaries (start, end) of frame_rms() / frame_peak() for a signal of `length`.
std::pair<torch::Tensor, torch::Tensor> frame_bounds(int64_t length, int64_t frame_length,
                                                     int64_t hop_length, c10::Device device) {
  MUDIT_CHECK(frame_length > 0 && hop_length > 0, ConfigError,
              "frame_length and hop_length must be positive, got ", frame_length, ", ", hop_length);
  MUDIT_CHECK(length > 0, ShapeError, "cannot frame an empty signal");
  const int64_t frames =
      length <= frame_length ? 1 : 1 + (length - frame_length + hop_length - 1) / hop_length;
  const auto i64 = torch::TensorOptions().dtype(torch::kInt64).device(device);
  const torch::Tensor start = torch::arange(frames, i64) * hop_length;       // [N]
  const torch::Tensor end = torch::clamp_max(start + frame_length, length);  // [N]
  return {start, end};
}

// Linear interpolation of rows of `values` [B, L] at fractional positions `pos` [G] (positions
// past the end read 0): [B, G].
torch::Tensor interpolate_rows(const torch::Tensor& values, const torch::Tensor& pos) {
  const int64_t len = values.size(1);
  const torch::Tensor lo = pos.floor().to(torch::kInt64);                    // [G]
  const torch::Tensor frac = (pos - lo.to(pos.scalar_type())).unsqueeze(0);  // [1, G]
  const torch::Tensor padded = F::pad(values, F::PadFuncOptions({0, 2}));    // [B, L+2]
  const torch::Tensor i0 = torch::clamp(lo, 0, len);                         // [G]
  const torch::Tensor i1 = torch::clamp(lo + 1, 0, len);                     // [G]
  const torch::Tensor v0 = padded.index_select(1, i0);                       // [B, G]
  const torch::Tensor v1 = padded.index_select(1, i1);                       // [B, G]
  return v0 * (1 - frac) + v1 * frac;                                        // [B, G]
}

// Krumhansl & Kessler (1982) probe-tone ratings, C major and C minor.
constexpr double kMajorProfile[12] = {6.35, 2.23, 3.48, 2.33, 4.38, 4.09,
                                      2.52, 5.19, 2.39, 3.66, 2.29, 2.88};
constexpr double kMinorProfile[12] = {6.33, 2.68, 3.52, 5.38, 2.60, 3.53,
                                      2.54, 4.75, 3.98, 2.69, 3.34, 3.17};
// Albrecht & Shanahan (2013), Music Perception 31(1): pitch-class duration distributions of
// major and minor pieces in their corpus.
constexpr double kAsMajorProfile[12] = {0.238, 0.006, 0.111, 0.006, 0.137, 0.094,
                                        0.016, 0.214, 0.009, 0.080, 0.008, 0.081};
constexpr double kAsMinorProfile[12] = {0.220, 0.006, 0.104, 0.123, 0.019, 0.103,
                                        0.012, 0.214, 0.062, 0.022, 0.061, 0.052};

}  // namespace

// --- levels ---------------------------------------------------------------------------------

torch::Tensor amplitude_to_db(const torch::Tensor& amplitude, double floor_db) {
  const double floor_amp = std::pow(10.0, floor_db / 20.0);
  return 20.0 * torch::log10(torch::clamp_min(amplitude, floor_amp));
}

torch::Tensor frame_rms(const torch::Tensor& audio, int64_t frame_length, int64_t hop_length) {
  const torch::Tensor x = as_batch(audio, "frame_rms");  // [B, T]
  const auto [start, end] = frame_bounds(x.size(1), frame_length, hop_length, x.device());
  // Sums of squares from a float64 running sum: [B, T+1].
  const torch::Tensor cum =
      F::pad(x.to(torch::kFloat64).square().cumsum(1), F::PadFuncOptions({1, 0}));
  const torch::Tensor energy = cum.index_select(1, end) - cum.index_select(1, start);    // [B, N]
  const torch::Tensor count = (end - start).to(torch::kFloat64).unsqueeze(0);            // [1, N]
  torch::Tensor rms = torch::clamp_min(energy / count, 0.0).sqrt().to(x.scalar_type());  // [B, N]
  return audio.dim() == 1 ? rms.squeeze(0) : rms;
}

torch::Tensor frame_peak(const torch::Tensor& audio, int64_t frame_length, int64_t hop_length) {
  const torch::Tensor x = as_batch(audio, "frame_peak");  // [B, T]
  const auto [start, end] = frame_bounds(x.size(1), frame_length, hop_length, x.device());
  const int64_t frames = start.size(0);
  const int64_t padded_len = (frames - 1) * hop_length + frame_length;
  const torch::Tensor padded =
      F::pad(x.abs(), F::PadFuncOptions({0, std::max<int64_t>(0, padded_len - x.size(1))}));
  torch::Tensor peak =
      padded.unfold(1, frame_length, hop_length).amax(2).slice(1, 0, frames);  // [B, N]
  return audio.dim() == 1 ? peak.squeeze(0) : peak;
}

LevelStats level_stats(const torch::Tensor& audio, double floor_db) {
  MUDIT_CHECK(audio.defined() && audio.numel() > 0, ShapeError, "level_stats: empty audio");
  const torch::Tensor x = audio.to(torch::kFloat64);
  LevelStats s;
  const double floor_amp = std::pow(10.0, floor_db / 20.0);
  s.rms_dbfs = 20.0 * std::log10(std::max(floor_amp, x.square().mean().sqrt().item<double>()));
  s.peak_dbfs = 20.0 * std::log10(std::max(floor_amp, x.abs().max().item<double>()));
  s.crest_db = s.peak_dbfs - s.rms_dbfs;
  return s;
}

// --- silence --------------------------------------------------------------------------------

std::vector<TimeSpan> detect_silence(const torch::Tensor& audio, int64_t sample_rate,
                                     const SilenceOptions& opts) {
  MUDIT_CHECK(sample_rate > 0, ConfigError, "detect_silence: sample_rate must be positive");
  MUDIT_CHECK(opts.frame_seconds > 0 && opts.hop_seconds > 0 && opts.min_duration >= 0, ConfigError,
              "detect_silence: frame and hop must be positive, min_duration >= 0");
  MUDIT_CHECK(audio.defined() && (audio.dim() == 1 || audio.dim() == 2) && audio.size(-1) > 0,
              ShapeError, "detect_silence: expected audio [T] or [C, T]");
  const int64_t frame = std::max<int64_t>(1, std::llround(opts.frame_seconds * sample_rate));
  const int64_t hop = std::max<int64_t>(1, std::llround(opts.hop_seconds * sample_rate));
  const torch::Tensor x = as_batch(audio, "detect_silence");                               // [C, T]
  const torch::Tensor power = frame_rms(x, frame, hop).square().mean(0);                   // [N]
  const torch::Tensor silent = (amplitude_to_db(power.sqrt()) < opts.threshold_db).cpu();  // [N]
  const int64_t length = x.size(1);
  const auto* flags = silent.data_ptr<bool>();
  const int64_t frames = silent.size(0);
  std::vector<TimeSpan> spans;
  for (int64_t i = 0; i < frames;) {
    if (!flags[i]) {
      ++i;
      continue;
    }
    int64_t j = i;
    while (j + 1 < frames && flags[j + 1]) ++j;
    const double start = static_cast<double>(i * hop) / sample_rate;
    const double end = static_cast<double>(std::min(length, j * hop + frame)) / sample_rate;
    if (end - start >= opts.min_duration) spans.push_back({start, end});
    i = j + 1;
  }
  return spans;
}

// --- onsets and tempo -----------------------------------------------------------------------

void TempoConfig::validate() const {
  MUDIT_CHECK(hop_seconds > 0 && window_seconds > 0, ConfigError,
              "tempo: hop_seconds and window_seconds must be positive");
  MUDIT_CHECK(n_mels > 0 && f_min >= 0 && f_max > f_min, ConfigError,
              "tempo: need n_mels > 0 and 0 <= f_min < f_max, got ", n_mels, ", ", f_min, ", ",
              f_max);
  MUDIT_CHECK(knee_db > 0, ConfigError, "tempo: knee_db must be positive, got ", knee_db);
  MUDIT_CHECK(min_bpm > 0 && max_bpm > min_bpm, ConfigError,
              "tempo: need 0 < min_bpm < max_bpm, got ", min_bpm, ", ", max_bpm);
  MUDIT_CHECK(prior_bpm > 0 && prior_octaves > 0, ConfigError,
              "tempo: prior_bpm and prior_octaves must be positive");
  MUDIT_CHECK(harmonics >= 1, ConfigError, "tempo: harmonics must be >= 1, got ", harmonics);
  MUDIT_CHECK(offbeat_weight >= 0, ConfigError, "tempo: offbeat_weight must be >= 0");
  MUDIT_CHECK(bpm_step > 0, ConfigError, "tempo: bpm_step must be positive");
}

int64_t onset_hop_length(int64_t sample_rate, const TempoConfig& cfg) {
  return std::max<int64_t>(1, std::llround(cfg.hop_seconds * sample_rate));
}

double onset_frame_rate(int64_t sample_rate, const TempoConfig& cfg) {
  return static_cast<double>(sample_rate) / onset_hop_length(sample_rate, cfg);
}

torch::Tensor onset_strength(const torch::Tensor& audio, int64_t sample_rate,
                             const TempoConfig& cfg) {
  cfg.validate();
  MUDIT_CHECK(sample_rate > 0, ConfigError, "onset_strength: sample_rate must be positive");
  const torch::Tensor x = as_batch(audio, "onset_strength");  // [B, T]
  MelConfig mc;
  mc.sample_rate = sample_rate;
  mc.n_fft = next_pow2(cfg.window_seconds * sample_rate);
  mc.win_length = mc.n_fft;
  mc.hop_length = onset_hop_length(sample_rate, cfg);
  mc.n_mels = cfg.n_mels;
  mc.f_min = cfg.f_min;
  mc.f_max = std::min(cfg.f_max, sample_rate / 2.0);
  mc.mel_scale = "htk";
  mc.norm = "none";
  mc.power = 2.0;
  mc.padding = "center";
  mc.log = "none";
  const torch::Tensor mel = MelSpectrogram(mc).mel(x);                                 // [B, M, N]
  const torch::Tensor top = torch::clamp_min(mel.amax({1, 2}, true), 1e-20).detach();  // [B, 1, 1]
  // log(1 + g x): linear (so quiet events count little) below the knee, logarithmic above.
  const double gain = std::pow(10.0, cfg.knee_db / 10.0);
  const torch::Tensor level = torch::log1p(gain * mel / top);                         // [B, M, N]
  const torch::Tensor rise = torch::relu(level.slice(2, 1) - level.slice(2, 0, -1));  // [B, M, N-1]
  torch::Tensor env = F::pad(rise.mean(1), F::PadFuncOptions({1, 0}));                // [B, N]
  return audio.dim() == 1 ? env.squeeze(0) : env;
}

torch::Tensor tempo_from_onsets(const torch::Tensor& onsets, double frame_rate,
                                const TempoConfig& cfg) {
  cfg.validate();
  MUDIT_CHECK(frame_rate > 0, ConfigError, "tempo: frame_rate must be positive");
  MUDIT_CHECK(onsets.defined() && (onsets.dim() == 1 || onsets.dim() == 2), ShapeError,
              "tempo: expected onset envelopes [N] or [B, N], got ",
              onsets.defined() ? onsets.sizes() : c10::IntArrayRef{});
  torch::NoGradGuard no_grad;
  torch::Tensor env = (onsets.dim() == 1 ? onsets.unsqueeze(0) : onsets).to(torch::kFloat64);
  const int64_t n = env.size(1);
  const double longest_period = 60.0 * frame_rate / cfg.min_bpm;
  MUDIT_CHECK(n > 2 * longest_period, ShapeError, "tempo: ", n, " onset frames (", n / frame_rate,
              " s) are too few to measure ", cfg.min_bpm, " BPM; need at least two beats");
  env = env - env.mean(1, /*keepdim=*/true);  // [B, N]

  // Autocorrelation through the FFT (zero-padded, so not circular), normalised to A(0) = 1.
  const int64_t nfft = next_pow2(2.0 * n);
  const torch::Tensor spec = torch::fft::rfft(env, nfft, 1);  // [B, nfft/2+1]
  torch::Tensor acf = torch::fft::irfft(spec.abs().square(), nfft, 1).slice(1, 0, n);  // [B, N]
  acf = acf / torch::clamp_min(acf.select(1, 0).unsqueeze(1), 1e-12);                  // [B, N]

  const auto f64 = torch::TensorOptions().dtype(torch::kFloat64).device(env.device());
  const int64_t steps =
      static_cast<int64_t>(std::floor((cfg.max_bpm - cfg.min_bpm) / cfg.bpm_step));
  const torch::Tensor bpm = cfg.min_bpm + torch::arange(steps + 1, f64) * cfg.bpm_step;  // [G]
  const torch::Tensor period = 60.0 * frame_rate / bpm;                                  // [G]
  torch::Tensor on = torch::zeros({env.size(0), bpm.size(0)}, f64);                      // [B, G]
  torch::Tensor off = torch::zeros_like(on);                                             // [B, G]
  for (int64_t k = 1; k <= cfg.harmonics; ++k) {
    on = on + interpolate_rows(acf, period * k);            // [B, G]
    off = off + interpolate_rows(acf, period * (k - 0.5));  // [B, G]
  }
  const torch::Tensor score = (on - cfg.offbeat_weight * off) / cfg.harmonics;         // [B, G]
  const torch::Tensor octaves = torch::log2(bpm / cfg.prior_bpm) / cfg.prior_octaves;  // [G]
  const torch::Tensor prior = torch::exp(-0.5 * octaves.square());                     // [G]
  const torch::Tensor best = (score * prior.unsqueeze(0)).argmax(1);                   // [B]
  torch::Tensor result = bpm.index_select(0, best);                                    // [B]
  return onsets.dim() == 1 ? result.squeeze(0) : result;
}

torch::Tensor estimate_tempo(const torch::Tensor& audio, int64_t sample_rate,
                             const TempoConfig& cfg) {
  torch::NoGradGuard no_grad;
  return tempo_from_onsets(onset_strength(audio, sample_rate, cfg),
                           onset_frame_rate(sample_rate, cfg), cfg);
}

std::vector<BeatEstimate> beats_from_onsets(const torch::Tensor& onsets, double frame_rate,
                                            const std::vector<double>& bpm) {
  MUDIT_CHECK(frame_rate > 0, ConfigError, "beats: frame_rate must be positive");
  MUDIT_CHECK(onsets.defined() && (onsets.dim() == 1 || onsets.dim() == 2), ShapeError,
              "beats: expected onset envelopes [N] or [B, N], got ",
              onsets.defined() ? onsets.sizes() : c10::IntArrayRef{});
  torch::NoGradGuard no_grad;
  torch::Tensor env = (onsets.dim() == 1 ? onsets.unsqueeze(0) : onsets).to(torch::kFloat64).cpu();
  MUDIT_CHECK(static_cast<int64_t>(bpm.size()) == env.size(0), ShapeError, "beats: ", bpm.size(),
              " tempi for ", env.size(0), " envelopes");
  env = env - env.mean(1, /*keepdim=*/true);
  const torch::Tensor n = torch::arange(env.size(1), torch::TensorOptions().dtype(torch::kFloat64));
  std::vector<BeatEstimate> out;
  for (int64_t b = 0; b < env.size(0); ++b) {
    const double bb = bpm[static_cast<size_t>(b)];
    MUDIT_CHECK(bb > 0 && std::isfinite(bb), ConfigError, "beats: tempo must be positive, got ",
                bb);
    const double period = 60.0 * frame_rate / bb;  // frames per beat
    const torch::Tensor angle = n * (2.0 * M_PI / period);
    const double re = (env[b] * torch::cos(angle)).sum().item<double>();
    const double im = -(env[b] * torch::sin(angle)).sum().item<double>();
    double frame = -std::atan2(im, re) / (2.0 * M_PI) * period;  // (-P/2, P/2]
    if (frame < 0) frame += period;
    BeatEstimate e;
    e.bpm = bb;
    e.first_beat = std::fmod(frame / frame_rate, 60.0 / bb);
    out.push_back(e);
  }
  return out;
}

std::vector<BeatEstimate> estimate_beats(const torch::Tensor& audio, int64_t sample_rate,
                                         const TempoConfig& cfg) {
  const torch::Tensor env = onset_strength(audio, sample_rate, cfg);  // [B, N] or [N]
  const double rate = onset_frame_rate(sample_rate, cfg);
  const torch::Tensor bpm = tempo_from_onsets(env, rate, cfg).reshape({-1}).cpu();
  std::vector<double> tempi(static_cast<size_t>(bpm.numel()));
  for (int64_t i = 0; i < bpm.numel(); ++i) tempi[static_cast<size_t>(i)] = bpm[i].item<double>();
  return beats_from_onsets(env, rate, tempi);
}

// --- chroma and key -------------------------------------------------------------------------

void ChromaConfig::validate() const {
  MUDIT_CHECK(window_seconds > 0 && hop_seconds > 0, ConfigError,
              "chroma: window_seconds and hop_seconds must be positive");
  MUDIT_CHECK(f_min > 0 && f_max > f_min, ConfigError, "chroma: need 0 < f_min < f_max, got ",
              f_min, ", ", f_max);
  MUDIT_CHECK(tuning_hz > 0, ConfigError, "chroma: tuning_hz must be positive");
  MUDIT_CHECK(harmonic_kernel >= 0 && (harmonic_kernel == 0 || harmonic_kernel % 2 == 1),
              ConfigError, "chroma: harmonic_kernel must be 0 or odd, got ", harmonic_kernel);
}

torch::Tensor chroma_filterbank(int64_t sample_rate, int64_t n_fft, const ChromaConfig& cfg,
                                c10::ScalarType dtype, c10::Device device) {
  cfg.validate();
  MUDIT_CHECK(sample_rate > 0 && n_fft > 0, ConfigError,
              "chroma_filterbank: sample_rate and n_fft must be positive");
  const auto f64 = torch::TensorOptions().dtype(torch::kFloat64);
  const int64_t n_freqs = n_fft / 2 + 1;
  const torch::Tensor freqs = torch::linspace(0.0, sample_rate / 2.0, n_freqs, f64);  // [F]
  const torch::Tensor in_band = (freqs >= cfg.f_min) & (freqs <= cfg.f_max);          // [F]
  const torch::Tensor midi =
      69.0 + 12.0 * torch::log2(torch::clamp_min(freqs, 1e-6) / cfg.tuning_hz);  // [F]
  const torch::Tensor classes = torch::arange(12, f64).unsqueeze(1);             // [12, 1]
  // Distance in semitones from each bin to each pitch class, folded into [-6, 6).
  torch::Tensor dist = torch::remainder(midi.unsqueeze(0) - classes + 6.0, 12.0) - 6.0;  // [12, F]
  torch::Tensor fb = torch::clamp_min(1.0 - dist.abs(), 0.0) * in_band.unsqueeze(0);     // [12, F]
  return fb.to(device, dtype);
}

namespace {

/// Running median over the last dim of [B, R, N] with edge replication, window k (odd).
torch::Tensor median_filter_last(const torch::Tensor& x, int64_t k) {
  namespace F = torch::nn::functional;
  const torch::Tensor padded =
      F::pad(x, F::PadFuncOptions({k / 2, k / 2}).mode(torch::kReplicate));  // [B, R, N + k - 1]
  return std::get<0>(padded.unfold(2, k, 1).median(-1));                     // [B, R, N]
}

/// Soft harmonic mask H² / (H² + P²) of a magnitude spectrogram [B, F, N].
torch::Tensor harmonic_mask(const torch::Tensor& mag, int64_t k) {
  const torch::Tensor h = median_filter_last(mag, k);                                  // along time
  const torch::Tensor p = median_filter_last(mag.transpose(1, 2), k).transpose(1, 2);  // along F
  const torch::Tensor h2 = h * h;
  return h2 / (h2 + p * p + 1e-12);
}

}  // namespace

torch::Tensor chroma(const torch::Tensor& audio, int64_t sample_rate, const ChromaConfig& cfg) {
  cfg.validate();
  const torch::Tensor x = as_batch(audio, "chroma");  // [B, T]
  StftOptions o;
  o.n_fft = next_pow2(cfg.window_seconds * sample_rate);
  o.hop_length = std::max<int64_t>(1, std::llround(cfg.hop_seconds * sample_rate));
  o.padding = "center";
  torch::Tensor mag = stft(x, o).abs();  // [B, F, N]
  if (cfg.harmonic_kernel > 1) mag = mag * harmonic_mask(mag, cfg.harmonic_kernel);
  const torch::Tensor fb =
      chroma_filterbank(sample_rate, o.n_fft, cfg, mag.scalar_type(), mag.device());  // [12, F]
  torch::Tensor c = torch::matmul(fb, mag);                                           // [B, 12, N]
  return audio.dim() == 1 ? c.squeeze(0) : c;
}

torch::Tensor krumhansl_major_profile() {
  return torch::tensor(std::vector<double>(kMajorProfile, kMajorProfile + 12), torch::kFloat64);
}

torch::Tensor krumhansl_minor_profile() {
  return torch::tensor(std::vector<double>(kMinorProfile, kMinorProfile + 12), torch::kFloat64);
}

std::pair<torch::Tensor, torch::Tensor> key_profiles(KeyProfile profile) {
  if (profile == KeyProfile::kKrumhanslKessler) {
    return {krumhansl_major_profile(), krumhansl_minor_profile()};
  }
  return {
      torch::tensor(std::vector<double>(kAsMajorProfile, kAsMajorProfile + 12), torch::kFloat64),
      torch::tensor(std::vector<double>(kAsMinorProfile, kAsMinorProfile + 12), torch::kFloat64)};
}

torch::Tensor key_correlations(const torch::Tensor& pitch_classes, KeyProfile profile) {
  MUDIT_CHECK(pitch_classes.defined() && pitch_classes.size(-1) == 12 &&
                  (pitch_classes.dim() == 1 || pitch_classes.dim() == 2),
              ShapeError, "key_correlations: expected [12] or [B, 12], got ",
              pitch_classes.defined() ? pitch_classes.sizes() : c10::IntArrayRef{});
  const torch::Tensor pc = (pitch_classes.dim() == 1 ? pitch_classes.unsqueeze(0) : pitch_classes)
                               .to(torch::kFloat64);  // [B, 12]
  // Row r of the template matrix is the profile with its tonic moved to pitch class r % 12.
  std::vector<torch::Tensor> rows;
  const auto [major, minor] = key_profiles(profile);
  for (const torch::Tensor& p : {major, minor}) {
    for (int64_t tonic = 0; tonic < 12; ++tonic) rows.push_back(torch::roll(p, tonic));
  }
  torch::Tensor templates = torch::stack(rows).to(pc.device());  // [24, 12]
  templates = templates - templates.mean(1, true);
  templates = templates / templates.norm(2, 1, true);  // [24, 12]
  torch::Tensor centred = pc - pc.mean(1, true);       // [B, 12]
  centred = centred / torch::clamp_min(centred.norm(2, 1, true), 1e-12);
  torch::Tensor r = torch::matmul(centred, templates.t());  // [B, 24]
  return pitch_classes.dim() == 1 ? r.squeeze(0) : r;
}

const std::vector<std::string>& pitch_class_names() {
  static const std::vector<std::string> names = {"C",  "C#", "D",  "Eb", "E",  "F",
                                                 "F#", "G",  "Ab", "A",  "Bb", "B"};
  return names;
}

std::string KeyEstimate::name() const {
  return pitch_class_names().at(static_cast<size_t>(tonic)) + (minor ? " minor" : " major");
}

std::vector<KeyEstimate> estimate_key(const torch::Tensor& audio, int64_t sample_rate,
                                      const ChromaConfig& cfg, KeyProfile profile) {
  torch::NoGradGuard no_grad;
  const torch::Tensor c = chroma(as_batch(audio, "estimate_key"), sample_rate, cfg);  // [B, 12, N]
  const torch::Tensor r = key_correlations(c.sum(2), profile).cpu();                  // [B, 24]
  std::vector<KeyEstimate> keys;
  for (int64_t b = 0; b < r.size(0); ++b) {
    const int64_t best = r[b].argmax().item<int64_t>();
    KeyEstimate k;
    k.tonic = static_cast<int>(best % 12);
    k.minor = best >= 12;
    k.correlation = r[b][best].item<double>();
    keys.push_back(k);
  }
  return keys;
}

// --- downbeats and chords ---------------------------------------------------------------------

int estimate_downbeat_offset(const torch::Tensor& audio, int64_t sample_rate,
                             const std::vector<double>& beats, int beats_per_bar) {
  MUDIT_CHECK(audio.dim() == 1, ShapeError, "downbeats: expected mono audio [T], got ",
              audio.sizes());
  MUDIT_CHECK(beats_per_bar >= 1, ConfigError, "downbeats: beats_per_bar must be positive");
  if (beats_per_bar == 1 || beats.empty()) return 0;
  torch::NoGradGuard no_grad;
  TempoConfig low;
  low.f_max = 200.0;  // kick and bass
  low.n_mels = 24;
  const torch::Tensor env = onset_strength(audio, sample_rate, low).to(torch::kFloat64).cpu();
  const double rate = onset_frame_rate(sample_rate, low);
  const int64_t n = env.size(0);
  const int64_t reach = std::max<int64_t>(1, std::llround(0.03 * rate));  // ±30 ms
  std::vector<double> score(static_cast<size_t>(beats_per_bar), 0.0);
  for (size_t k = 0; k < beats.size(); ++k) {
    const int64_t c = std::llround(beats[k] * rate);
    const int64_t a = std::max<int64_t>(0, c - reach), b = std::min<int64_t>(n, c + reach + 1);
    if (a >= b) continue;
    score[k % static_cast<size_t>(beats_per_bar)] += env.slice(0, a, b).max().item<double>();
  }
  return static_cast<int>(std::max_element(score.begin(), score.end()) - score.begin());
}

std::vector<ChordEstimate> estimate_chords(const torch::Tensor& audio, int64_t sample_rate,
                                           const std::vector<double>& boundaries,
                                           const ChromaConfig& cfg, double silence) {
  MUDIT_CHECK(audio.dim() == 1, ShapeError, "chords: expected mono audio [T], got ", audio.sizes());
  std::vector<ChordEstimate> out;
  if (boundaries.size() < 2) return out;
  torch::NoGradGuard no_grad;
  const torch::Tensor c = chroma(audio, sample_rate, cfg).to(torch::kFloat64).cpu();  // [12, N]
  const int64_t n = c.size(1);
  // Templates [24, 12]: major then minor, root 1, third and fifth 0.8, unit length.
  torch::Tensor templates = torch::zeros({24, 12}, torch::kFloat64);
  for (int r = 0; r < 12; ++r) {
    for (int m = 0; m < 2; ++m) {
      templates[m * 12 + r][r] = 1.0;
      templates[m * 12 + r][(r + (m ? 3 : 4)) % 12] = 0.8;
      templates[m * 12 + r][(r + 7) % 12] = 0.8;
    }
  }
  templates = templates / templates.norm(2, 1, true);
  std::vector<torch::Tensor> spans;
  std::vector<double> energy;
  for (size_t i = 0; i + 1 < boundaries.size(); ++i) {
    int64_t a = std::llround(boundaries[i] / cfg.hop_seconds);
    int64_t b = std::llround(boundaries[i + 1] / cfg.hop_seconds);
    a = std::clamp<int64_t>(a, 0, n);
    b = std::clamp<int64_t>(b, a, n);
    const torch::Tensor v = b > a ? c.slice(1, a, b).mean(1) : torch::zeros({12}, torch::kFloat64);
    spans.push_back(v);
    energy.push_back(v.sum().item<double>());
  }
  std::vector<double> sorted = energy;
  std::nth_element(sorted.begin(), sorted.begin() + sorted.size() / 2, sorted.end());
  const double floor = silence * sorted[sorted.size() / 2];
  for (size_t i = 0; i < spans.size(); ++i) {
    ChordEstimate e;
    if (energy[i] > floor && energy[i] > 0) {
      const torch::Tensor sim = torch::matmul(templates, spans[i] / spans[i].norm());  // [24]
      const int64_t best = sim.argmax().item<int64_t>();
      e.root = static_cast<int>(best % 12);
      e.minor = best >= 12;
      e.score = sim[best].item<double>();
    }
    out.push_back(e);
  }
  return out;
}

}  // namespace mudit
