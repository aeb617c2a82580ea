#include "mudit/audio/loudness.h"

#include <ebur128.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>

#include "mudit/core/error.h"
#include "mudit/core/log.h"

namespace mudit::audio {
namespace {

struct StateDeleter {
  void operator()(ebur128_state* st) const { ebur128_destroy(&st); }
};

double db_to_linear(double db) {
  return std::pow(10.0, db / 20.0);
}

}  // namespace

void LoudnessConfig::validate() const {
  MUDIT_CHECK(std::isfinite(target_lufs) && target_lufs < 0, ConfigError,
              "target_lufs must be a negative number of LUFS, got ", target_lufs);
  MUDIT_CHECK(std::isfinite(peak_ceiling_db) && peak_ceiling_db <= 0, ConfigError,
              "peak_ceiling_db must be <= 0 dBFS, got ", peak_ceiling_db);
}

LoudnessStats measure_loudness(const torch::Tensor& samples, int sample_rate, bool true_peak) {
  MUDIT_CHECK(samples.dim() == 2, ShapeError, "loudness needs samples [C, T], got ",
              samples.sizes());
  MUDIT_CHECK(sample_rate > 0, ConfigError, "sample rate must be positive, got ", sample_rate);
  const int64_t channels = samples.size(0);
  const int64_t frames = samples.size(1);
  MUDIT_CHECK(channels > 0, ShapeError, "loudness needs at least one channel");

  const int mode = EBUR128_MODE_I | (true_peak ? EBUR128_MODE_TRUE_PEAK : EBUR128_MODE_SAMPLE_PEAK);
  std::unique_ptr<ebur128_state, StateDeleter> st(
      ebur128_init(static_cast<unsigned>(channels), static_cast<unsigned long>(sample_rate), mode));
  MUDIT_CHECK(st != nullptr, Error, "libebur128 cannot measure ", channels, " channels at ",
              sample_rate, " Hz");
  const torch::Tensor interleaved =
      samples.detach().to(torch::kCPU, torch::kFloat32).t().contiguous();  // [T, C]
  if (frames > 0) {
    const int rc = ebur128_add_frames_float(st.get(), interleaved.data_ptr<float>(),
                                            static_cast<size_t>(frames));
    MUDIT_CHECK(rc == EBUR128_SUCCESS, Error, "libebur128 failed to analyse the audio (", rc, ")");
  }

  LoudnessStats stats;
  double lufs = 0;
  ebur128_loudness_global(st.get(), &lufs);
  // libebur128 reports silence as -HUGE_VAL; keep that as -infinity.
  stats.integrated_lufs = lufs <= -HUGE_VAL ? -std::numeric_limits<double>::infinity() : lufs;
  for (int64_t c = 0; c < channels; ++c) {
    double peak = 0;
    ebur128_sample_peak(st.get(), static_cast<unsigned>(c), &peak);
    stats.sample_peak = std::max(stats.sample_peak, peak);
    if (true_peak) {
      ebur128_true_peak(st.get(), static_cast<unsigned>(c), &peak);
      stats.true_peak = std::max(stats.true_peak, peak);
    }
  }
  if (!true_peak) stats.true_peak = stats.sample_peak;
  // The true peak is never below the sample peak (libebur128's oversampling can round under it).
  stats.true_peak = std::max(stats.true_peak, stats.sample_peak);
  return stats;
}

NormalizeResult normalize_loudness(const torch::Tensor& samples, int sample_rate,
                                   const LoudnessConfig& config) {
  config.validate();
  const LoudnessStats stats = measure_loudness(samples, sample_rate, config.true_peak);
  NormalizeResult result;
  result.input_lufs = stats.integrated_lufs;
  const torch::Tensor input = samples.detach().to(torch::kFloat32);  // [C, T]
  if (!std::isfinite(stats.integrated_lufs)) {
    log::debug("loudness: silent or shorter than 400 ms, left unchanged");
    result.samples = input;
    result.output_lufs = stats.integrated_lufs;
    return result;
  }

  double gain_db = config.target_lufs - stats.integrated_lufs;
  const double peak = config.true_peak ? stats.true_peak : stats.sample_peak;
  if (peak > 0) {
    const double peak_db = 20.0 * std::log10(peak);
    const double headroom_db = config.peak_ceiling_db - peak_db;
    if (gain_db > headroom_db) {
      log::debug("loudness: gain ", gain_db, " dB would lift the peak above ",
                 config.peak_ceiling_db, " dBFS; using ", headroom_db, " dB");
      gain_db = headroom_db;
      result.peak_limited = true;
    }
  }
  result.gain_db = gain_db;
  result.output_lufs = stats.integrated_lufs + gain_db;
  result.samples = input * static_cast<float>(db_to_linear(gain_db));  // [C, T]
  return result;
}

}  // namespace mudit::audio
