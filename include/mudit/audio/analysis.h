#pragma once

// Music analysis on LibTorch: levels (RMS / peak in dBFS), silence, onset strength, tempo,
// chroma and key. Used by the evaluation metrics ("does the song have the requested tempo and
// key?") and by the synthetic corpus checks. Everything is batched and runs on the input's
// device; results that are naturally scalars per signal come back as [B] tensors or vectors.
//
// Tempo and key are estimated, not read: see estimate_tempo() and estimate_key() for how the
// octave ambiguity and the mode are decided and how accurate they are on the test signals.

#include <torch/types.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "mudit/core/error.h"

namespace mudit {

// --- levels ---------------------------------------------------------------------------------

/// 20 log10(amplitude), floored at `floor_db` (so silence gives floor_db, not -inf). dBFS: a
/// full-scale square wave has RMS 0 dB, a full-scale sine -3.01 dB.
torch::Tensor amplitude_to_db(const torch::Tensor& amplitude, double floor_db = -120.0);

/// Frame-wise RMS and peak (linear amplitude): [T] -> [N], [B, T] -> [B, N]. Frame i covers
/// samples [i*hop, i*hop + frame_length) (the last frame is shortened to end at T, and RMS is
/// taken over the samples a frame actually has); N = 1 + ceil((T - frame_length) / hop).
torch::Tensor frame_rms(const torch::Tensor& audio, int64_t frame_length = 2048,
                        int64_t hop_length = 512);
torch::Tensor frame_peak(const torch::Tensor& audio, int64_t frame_length = 2048,
                         int64_t hop_length = 512);

/// Overall levels of one signal ([T], or [C, T] with all channels pooled).
struct LevelStats {
  double rms_dbfs = 0.0;   ///< 20 log10(sqrt(mean(x^2)))
  double peak_dbfs = 0.0;  ///< 20 log10(max |x|)
  double crest_db = 0.0;   ///< peak_dbfs - rms_dbfs
};
LevelStats level_stats(const torch::Tensor& audio, double floor_db = -120.0);

// --- silence --------------------------------------------------------------------------------

/// A time interval in seconds.
struct TimeSpan {
  double start = 0.0;
  double end = 0.0;
  double duration() const { return end - start; }
};

struct SilenceOptions {
  double threshold_db = -60.0;   ///< a frame is silent when its RMS is below this (dBFS)
  double min_duration = 0.5;     ///< shorter silent runs are ignored (seconds)
  double frame_seconds = 0.025;  ///< RMS frame length
  double hop_seconds = 0.010;
};

/// The silent spans of one signal ([T], or [C, T]: the channels' mean power) that last at
/// least min_duration, in order. A span runs from the start of its first silent frame to the end
/// of its last one (clipped to the signal).
std::vector<TimeSpan> detect_silence(const torch::Tensor& audio, int64_t sample_rate,
                                     const SilenceOptions& opts = {});

// --- onsets and tempo -----------------------------------------------------------------------

/// Settings of the onset envelope and the tempo search. The envelope is the spectral flux of a
/// compressed mel spectrogram: mel power x (relative to the signal's loudest cell) becomes
/// log(1 + g x) with g = 10^(knee_db/10), linear below the knee and logarithmic above it, so a
/// quiet hi-hat weighs less than a loud kick; for each frame, the mean over mel bands of the
/// positive increase since the previous frame.
struct TempoConfig {
  double hop_seconds = 0.005;     ///< envelope frame rate ~ 1 / hop_seconds
  double window_seconds = 0.046;  ///< STFT window (rounded to a power of two in samples)
  int64_t n_mels = 64;
  double f_min = 30.0;
  double f_max = 11000.0;  ///< clipped to sample_rate / 2
  double knee_db = 30.0;   ///< compression knee, dB below the loudest cell
  double min_bpm = 60.0;   ///< the search range (the synthetic corpus spans 60-180 BPM)
  double max_bpm = 180.0;
  double prior_bpm = 120.0;     ///< centre of the log-normal tempo prior
  double prior_octaves = 1.0;   ///< its standard deviation, in octaves
  int64_t harmonics = 4;        ///< beat-period multiples scored by the comb
  double offbeat_weight = 0.5;  ///< weight of the half-period penalty (see estimate_tempo)
  double bpm_step = 0.05;       ///< resolution of the candidate grid

  template <class V>
  void visit(V& v) {
    v("hop_seconds", hop_seconds);
    v("window_seconds", window_seconds);
    v("n_mels", n_mels);
    v("f_min", f_min);
    v("f_max", f_max);
    v("knee_db", knee_db);
    v("min_bpm", min_bpm);
    v("max_bpm", max_bpm);
    v("prior_bpm", prior_bpm);
    v("prior_octaves", prior_octaves);
    v("harmonics", harmonics);
    v("offbeat_weight", offbeat_weight);
    v("bpm_step", bpm_step);
  }
  void validate() const;
};

/// Hop in samples of the onset envelope at `sample_rate`, and its frame rate (frames/second).
int64_t onset_hop_length(int64_t sample_rate, const TempoConfig& cfg = {});
double onset_frame_rate(int64_t sample_rate, const TempoConfig& cfg = {});

/// Onset-strength envelope: [T] -> [N], [B, T] -> [B, N], frame i at time i * hop / sr.
/// Differentiable (it is a mean of rectified log-mel differences).
torch::Tensor onset_strength(const torch::Tensor& audio, int64_t sample_rate,
                             const TempoConfig& cfg = {});

/// Tempo in BPM from onset envelopes [B, N] (or [N]) at `frame_rate` frames per second:
/// [B] float64 (0-d for [N]).
///
/// Method: the envelope's autocorrelation A (mean removed, normalised to A(0) = 1) is scored on
/// a fine BPM grid over [min_bpm, max_bpm], with period P (in frames, fractional lags
/// interpolated):
///   score(P) = mean_k A(kP) - offbeat_weight * mean_k A((k - 1/2) P),   k = 1..harmonics,
/// times a log-normal prior around prior_bpm. Summing multiples of P makes the estimate finer
/// than one frame and rewards the true beat over its double; the half-period term penalises the
/// half tempo, whose "off-beats" are the true beats. What is left of the octave ambiguity
/// (e.g. 75 vs 150 BPM when eighth notes are as strong as beats) is decided by the prior.
torch::Tensor tempo_from_onsets(const torch::Tensor& onsets, double frame_rate,
                                const TempoConfig& cfg = {});

/// Tempo of audio [B, T] (or [T]) in BPM: onset_strength() then tempo_from_onsets().
torch::Tensor estimate_tempo(const torch::Tensor& audio, int64_t sample_rate,
                             const TempoConfig& cfg = {});

/// Where the beats fall: the tempo and the time of the first beat.
struct BeatEstimate {
  double bpm = 0.0;
  double first_beat = 0.0;  ///< seconds, in [0, 60 / bpm): beat k is at first_beat + 60 k / bpm
  /// Beats elapsed at time `seconds` (negative before the first beat).
  double phase_at(double seconds) const { return (seconds - first_beat) * bpm / 60.0; }
};

/// Beat phase of onset envelopes [B, N] (or [N]) at `frame_rate` frames per second for given
/// tempi: the envelope's Fourier coefficient at the beat frequency, c = sum_n o[n] e^(-2 pi i n
/// / P) (P = 60 frame_rate / bpm frames, mean removed), peaks where the onsets repeat, so the
/// first beat is at frame -arg(c) P / 2 pi (mod P). One estimate per row. The beats come out
/// a little early, by the same amount everywhere: on the test signals 5-7 ms for drums and
/// 18 ms for sharp clicks (the log-compressed flux rises as soon as a click enters the window).
std::vector<BeatEstimate> beats_from_onsets(const torch::Tensor& onsets, double frame_rate,
                                            const std::vector<double>& bpm);

/// Tempo (estimate_tempo()) and beat phase (beats_from_onsets()) of audio [B, T] (or [T]).
std::vector<BeatEstimate> estimate_beats(const torch::Tensor& audio, int64_t sample_rate,
                                         const TempoConfig& cfg = {});

// --- chroma and key -------------------------------------------------------------------------

/// Settings of the chromagram: STFT magnitudes folded onto 12 pitch classes (C = 0).
struct ChromaConfig {
  double window_seconds = 0.17;  ///< rounded to a power of two in samples (4096 at 24 kHz)
  double hop_seconds = 0.05;
  double f_min = 55.0;  ///< A1
  /// Upper limit. 1500 Hz keeps the fundamentals and the first partials of bass, chords and
  /// voice; higher partials (the 3rd lands on the fifth) pull a key estimate towards the
  /// dominant: on the synthetic corpus 5000 Hz loses 15 points of key accuracy.
  double f_max = 1500.0;
  double tuning_hz = 440.0;  ///< frequency of A4
  /// Harmonic-percussive separation before folding: the magnitude is weighted by the soft mask
  /// H² / (H² + P²), H the median over this many frames, P the median over this many frequency
  /// bins (Fitzgerald's median filtering), so drums add no pitch classes. 0 turns it off; odd.
  int64_t harmonic_kernel = 9;

  template <class V>
  void visit(V& v) {
    v("window_seconds", window_seconds);
    v("hop_seconds", hop_seconds);
    v("f_min", f_min);
    v("f_max", f_max);
    v("tuning_hz", tuning_hz);
    v("harmonic_kernel", harmonic_kernel);
  }
  void validate() const;
};

/// Pitch-class filterbank [12, n_fft/2+1]: a bin at MIDI pitch p (fractional) is shared between
/// the two nearest semitones by linear interpolation, then folded onto its pitch class; bins
/// outside [f_min, f_max] get no weight.
torch::Tensor chroma_filterbank(int64_t sample_rate, int64_t n_fft, const ChromaConfig& cfg = {},
                                c10::ScalarType dtype = torch::kFloat32,
                                c10::Device device = c10::kCPU);

/// Chromagram: [T] -> [12, N], [B, T] -> [B, 12, N] (STFT magnitude through
/// chroma_filterbank()).
torch::Tensor chroma(const torch::Tensor& audio, int64_t sample_rate, const ChromaConfig& cfg = {});

/// Krumhansl–Kessler key profiles (C major / C minor, index 0 = tonic): [12] float64 each.
torch::Tensor krumhansl_major_profile();
torch::Tensor krumhansl_minor_profile();

/// Key profiles: Krumhansl–Kessler (probe-tone ratings, 1982), or Albrecht–Shanahan (pitch-class
/// durations in a corpus of art music, 2013), which weighs the fifth less against the tonic and
/// confuses a key with its dominant less often on audio: the default.
enum class KeyProfile { kKrumhanslKessler, kAlbrechtShanahan };
/// {major, minor} profiles, index 0 = tonic: [12] float64 each.
std::pair<torch::Tensor, torch::Tensor> key_profiles(KeyProfile profile);

/// Pearson correlation of pitch-class distributions [B, 12] (or [12]) with the 24 rotated
/// profiles: [B, 24] float64; columns 0-11 are C..B major, 12-23 C..B minor.
torch::Tensor key_correlations(const torch::Tensor& pitch_classes,
                               KeyProfile profile = KeyProfile::kKrumhanslKessler);

/// A key: tonic pitch class (0 = C .. 11 = B) and mode.
struct KeyEstimate {
  int tonic = 0;
  bool minor = false;
  double correlation = 0.0;  ///< Pearson correlation with the winning profile
  /// "C major", "F# major", "Eb minor" (sharps for C#, F#; flats for Eb, Ab, Bb).
  std::string name() const;
};

/// Names of the 12 pitch classes as used by KeyEstimate::name().
const std::vector<std::string>& pitch_class_names();

/// Krumhansl–Schmuckler key finding: the chromagram (harmonic part, up to 1500 Hz) summed over
/// time (so loud passages weigh more), correlated with the 24 rotated profiles; the best
/// correlation wins. One estimate per signal of [B, T] (one for [T]).
std::vector<KeyEstimate> estimate_key(const torch::Tensor& audio, int64_t sample_rate,
                                      const ChromaConfig& cfg = {},
                                      KeyProfile profile = KeyProfile::kAlbrechtShanahan);

// --- downbeats and chords ---------------------------------------------------------------------

/// Which beat of a regular grid starts the bars: of `beats_per_bar` candidate offsets, the one
/// whose beats carry the most low-frequency onset energy (kick drum and bass enter on the one);
/// 0 .. beats_per_bar - 1. `audio` [T] mono, beats in seconds.
int estimate_downbeat_offset(const torch::Tensor& audio, int64_t sample_rate,
                             const std::vector<double>& beats, int beats_per_bar);

/// A chord estimate for one span: root pitch class (-1 = no chord) and major / minor triad.
struct ChordEstimate {
  int root = -1;
  bool minor = false;
  double score = 0.0;  ///< cosine similarity of the span's chroma with the winning template
};

/// Chord recognition by chroma templates: the chromagram (harmonic part, ChromaConfig) averaged
/// over each span [boundaries[i], boundaries[i+1]) — bar-synchronous averaging is the temporal
/// smoothing — and matched by cosine similarity against the 24 major / minor triad templates
/// (root weighted 1, third and fifth 0.8, to favour the root position the bass plays). A span
/// whose chroma energy is under `silence` of the song's median span is no chord. `audio` [T]
/// mono; one estimate per span (boundaries.size() - 1).
std::vector<ChordEstimate> estimate_chords(const torch::Tensor& audio, int64_t sample_rate,
                                           const std::vector<double>& boundaries,
                                           const ChromaConfig& cfg = {}, double silence = 0.05);

}  // namespace mudit
