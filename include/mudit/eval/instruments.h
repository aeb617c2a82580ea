#pragma once

// Instrument presence: which instrument families does a song have? A probe — one logistic
// regression per General MIDI family over a song's timbre statistics (per mel band: the mean
// and standard deviation of the log-mel over time and the mean rise from frame to frame) —
// fitted on labelled songs (a synthetic manifest's `meta.instruments`), then applied to
// generated audio. A family the fitting songs always (or never) have cannot be judged and is
// left out (drums, in the synthetic corpus).
//
//   mudit fit-instruments --manifest train.jsonl --valid valid.jsonl --out probe.safetensors
//   mudit eval ... --instruments probe.safetensors

#include <ATen/core/Tensor.h>
#include <torch/nn/module.h>
#include <torch/nn/modules/linear.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace mudit::eval {

struct InstrumentProbeConfig {
  std::vector<std::string> families;  ///< one classifier each, in output order
  int64_t features = 0;               ///< length of song_timbre_features()
  template <class V>
  void visit(V& v) {
    v("families", families);
    v("features", features);
  }
  void validate() const;
};

/// The probe's input for one song: mono audio [T] at `sample_rate` (resampled to 24 kHz) →
/// [3 * 160] float32: per band of MelConfig::mudit_24k, the time mean and standard deviation of
/// the log-mel and the mean positive frame-to-frame difference.
at::Tensor song_timbre_features(const at::Tensor& mono, int64_t sample_rate);

/// The families of a manifest entry's `meta` ("instruments": [{"family": ...}]), distinct,
/// sorted; empty when it lists none.
std::vector<std::string> meta_families(std::string_view meta_json);

class InstrumentProbeImpl : public torch::nn::Module {
 public:
  explicit InstrumentProbeImpl(InstrumentProbeConfig config);
  /// Probabilities [N, K] of each family from features [N, F] (or [F] → [K]).
  at::Tensor forward(const at::Tensor& features);
  /// The families detected (probability >= 0.5) in one song's features [F], in config order.
  std::vector<std::string> detect(const at::Tensor& features);
  const InstrumentProbeConfig& config() const { return config_; }

 private:
  friend struct InstrumentProbeAccess;
  InstrumentProbeConfig config_;
  at::Tensor mean_, scale_;  // feature standardisation [F]
  torch::nn::Linear classifier_{nullptr};
};
TORCH_MODULE(InstrumentProbe);

struct InstrumentFitOptions {
  double l2 = 0.3;               ///< weight decay on the standardised features (mean-loss scale)
  int64_t min_songs = 8;         ///< a family needs this many songs with it and without it
  int64_t max_iterations = 500;  ///< L-BFGS
};

/// Per-family quality of a probe on labelled songs.
struct FamilyScore {
  std::string family;
  int64_t positives = 0, negatives = 0;
  double recall = 0;             ///< of the songs with the family, the share detected
  double false_positive = 0;     ///< of the songs without it, the share detected
  double balanced_accuracy = 0;  ///< (recall + 1 - false_positive) / 2
};

/// Fits a probe on features [N, F] with the families of each song. Each family's loss is
/// class-balanced (its songs with and without the family weigh the same), so 0.5 is the
/// decision threshold. Families with fewer than options.min_songs positives or negatives are
/// left out (named in the log). Throws DataError when no family can be fitted.
InstrumentProbe fit_instrument_probe(const at::Tensor& features,
                                     const std::vector<std::vector<std::string>>& families,
                                     const InstrumentFitOptions& options = {});

/// The probe's per-family scores on labelled features.
std::vector<FamilyScore> score_instrument_probe(
    InstrumentProbe& probe, const at::Tensor& features,
    const std::vector<std::vector<std::string>>& families);

/// Model file (arch "instrument_probe"). Throws CheckpointError / IoError.
void save_instrument_probe(const std::filesystem::path& file, InstrumentProbe& probe);
InstrumentProbe load_instrument_probe(const std::filesystem::path& file);

/// Features and families of a manifest's songs that have `meta.instruments` (read mono, 24 kHz;
/// at most `max_songs` when positive); songs without instrument labels are counted in
/// `skipped`.
struct LabelledSongs {
  at::Tensor features;  ///< [N, F]
  std::vector<std::vector<std::string>> families;
  std::vector<std::string> ids;
  int64_t skipped = 0;
};
LabelledSongs read_labelled_songs(const std::filesystem::path& manifest, int64_t max_songs = 0);

}  // namespace mudit::eval
