#pragma once

// Waveform segments of a manifest's songs, for codec and vocoder training: random crops drawn
// from a seed (so a batch is a function of the step), and fixed segments for validation.
// Songs are decoded at the requested rate and channel count, either once into memory (`cache`,
// the default for corpora that fit) or on demand with a seek per segment.

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace mudit::data {

struct AudioSegmentConfig {
  std::string manifest;         ///< manifest.jsonl (`mudit synth` / `mudit import`)
  std::string split = "train";  ///< songs to train on ("all": every song)
  std::string valid_split = "valid";
  /// Validation songs from another manifest (its `valid_split`); "": the training manifest.
  std::string valid_manifest;
  int64_t sample_rate = 24000;
  int64_t channels = 2;
  int64_t segment_samples = 16384;
  bool cache = true;        ///< decode every song once and keep it in memory
  double max_cache_gb = 8;  ///< a larger cache is refused (set cache: false)
  /// A draw quieter than this RMS is redrawn (up to 8 times) so batches are not silence.
  double min_rms = 1e-3;
  int64_t valid_segments = 8;         ///< fixed validation segments
  int64_t valid_segment_samples = 0;  ///< 0: 4 x segment_samples

  template <class V>
  void visit(V& v) {
    v("manifest", manifest);
    v("split", split);
    v("valid_split", valid_split);
    v("valid_manifest", valid_manifest);
    v("sample_rate", sample_rate);
    v("channels", channels);
    v("segment_samples", segment_samples);
    v("cache", cache);
    v("max_cache_gb", max_cache_gb);
    v("min_rms", min_rms);
    v("valid_segments", valid_segments);
    v("valid_segment_samples", valid_segment_samples);
  }
  void validate() const;
};

class AudioSegments {
 public:
  /// The songs of `split` ("all": every one) in `config.manifest`. Unreadable songs are skipped
  /// and counted in one warning naming the first; none left is a DataError.
  AudioSegments(const AudioSegmentConfig& config, const std::string& split);

  int64_t size() const { return static_cast<int64_t>(songs_.size()); }
  double total_seconds() const;
  const std::string& id(int64_t song) const { return songs_.at(song).id; }
  int64_t frames(int64_t song) const { return songs_.at(song).frames; }
  const std::string& split() const { return split_; }

  /// `length` samples of song `song` from sample `offset` ([C, length]; zero past the end).
  at::Tensor segment(int64_t song, int64_t offset, int64_t length) const;
  /// A segment drawn from `seed`: the song with probability proportional to its length, the
  /// offset uniform; a draw below min_rms is redrawn (deterministically) up to 8 times.
  at::Tensor draw(uint64_t seed, int64_t length) const;
  /// `count` fixed segments: song k mod size(), starting a third of the way in.
  std::vector<at::Tensor> fixed(int64_t count, int64_t length) const;

 private:
  struct Song {
    std::string id;
    std::filesystem::path path;
    int64_t frames = 0;  ///< at config.sample_rate
    at::Tensor audio;    ///< [C, frames] when cached
  };
  AudioSegmentConfig config_;
  std::string split_;
  std::vector<Song> songs_;
  std::vector<double> cumulative_;  ///< cumulative frames, for length-weighted draws
};

}  // namespace mudit::data
