#include "mudit/data/audio_segments.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>
#include <random>

#include "mudit/audio/io.h"
#include "mudit/core/error.h"
#include "mudit/core/log.h"
#include "mudit/data/manifest.h"

namespace mudit::data {

void AudioSegmentConfig::validate() const {
  MUDIT_CHECK(sample_rate > 0 && channels > 0, ConfigError,
              "data.sample_rate and data.channels must be positive");
  MUDIT_CHECK(segment_samples > 0 && valid_segment_samples >= 0 && valid_segments >= 0, ConfigError,
              "data.segment_samples must be positive and the valid_* sizes >= 0");
  MUDIT_CHECK(max_cache_gb > 0 && min_rms >= 0, ConfigError,
              "data.max_cache_gb must be positive and data.min_rms >= 0");
}

AudioSegments::AudioSegments(const AudioSegmentConfig& config, const std::string& split)
    : config_(config), split_(split) {
  config_.validate();
  MUDIT_CHECK(!config_.manifest.empty(), ConfigError,
              "data.manifest: name the manifest.jsonl to train on");
  const std::filesystem::path manifest = config_.manifest;
  const auto entries = read_manifest(manifest);
  int64_t skipped = 0;
  std::string first_error;
  double cache_bytes = 0;
  for (const auto& e : entries) {
    if (split != "all" && e.split != split) continue;
    Song song;
    song.id = e.id;
    song.path = resolve_audio(e, manifest);
    try {
      const audio::AudioInfo info = audio::probe_audio(song.path);
      song.frames = static_cast<int64_t>(
          std::floor(static_cast<double>(info.frames) * config_.sample_rate / info.sample_rate));
      if (config_.cache) {
        audio::AudioReadOptions opts;
        opts.sample_rate = static_cast<int>(config_.sample_rate);
        opts.channels = static_cast<int>(config_.channels);
        song.audio = audio::read_audio(song.path, opts).samples;  // [C, T]
        song.frames = song.audio.size(1);
        cache_bytes += static_cast<double>(song.audio.numel()) * 4.0;
        MUDIT_CHECK(cache_bytes < config_.max_cache_gb * 1e9, ConfigError, "data: caching ",
                    manifest.string(),
                    " needs more than data.max_cache_gb = ", config_.max_cache_gb,
                    " GB; set data.cache: false to read segments from disk");
      }
    } catch (const IoError& err) {
      if (skipped++ == 0) first_error = err.what();
      continue;
    }
    if (song.frames <= 0) {
      if (skipped++ == 0) first_error = song.id + ": empty audio";
      continue;
    }
    songs_.push_back(std::move(song));
  }
  if (skipped > 0) {
    log::warn("data: skipped ", skipped, " unreadable song(s) of split '", split, "' in ",
              manifest.string(), "; first: ", first_error);
  }
  MUDIT_CHECK(!songs_.empty(), DataError, manifest.string(), ": no readable songs in split '",
              split, "'");
  double sum = 0;
  for (const auto& s : songs_) cumulative_.push_back(sum += static_cast<double>(s.frames));
}

double AudioSegments::total_seconds() const {
  return cumulative_.back() / static_cast<double>(config_.sample_rate);
}

at::Tensor AudioSegments::segment(int64_t index, int64_t offset, int64_t length) const {
  const Song& song = songs_.at(static_cast<size_t>(index));
  MUDIT_CHECK(offset >= 0 && length > 0, ShapeError, "segment of ", length, " samples at ", offset);
  at::Tensor out;
  if (song.audio.defined()) {
    const int64_t end = std::min(song.frames, offset + length);
    out = offset < end ? song.audio.slice(1, offset, end)
                       : at::zeros({config_.channels, 0});  // [C, <= length]
  } else {
    audio::AudioReadOptions opts;
    opts.sample_rate = static_cast<int>(config_.sample_rate);
    opts.channels = static_cast<int>(config_.channels);
    opts.offset = static_cast<double>(offset) / static_cast<double>(config_.sample_rate);
    // A few samples more than asked, so resampling rounding never leaves the tail short.
    opts.duration = static_cast<double>(length + 64) / static_cast<double>(config_.sample_rate);
    out = audio::read_audio(song.path, opts).samples;
    out = out.slice(1, 0, std::min<int64_t>(out.size(1), length));
  }
  if (out.size(1) < length) out = at::constant_pad_nd(out, {0, length - out.size(1)});
  return out.contiguous();  // [C, length]
}

at::Tensor AudioSegments::draw(uint64_t seed, int64_t length) const {
  std::mt19937_64 rng(seed);
  at::Tensor best;
  double best_rms = -1;
  for (int attempt = 0; attempt < 8; ++attempt) {
    const double u = std::uniform_real_distribution<double>(0, cumulative_.back())(rng);
    const auto it = std::upper_bound(cumulative_.begin(), cumulative_.end(), u);
    const int64_t song = std::min<int64_t>(it - cumulative_.begin(), size() - 1);
    const int64_t span = std::max<int64_t>(0, songs_[static_cast<size_t>(song)].frames - length);
    const int64_t offset = std::uniform_int_distribution<int64_t>(0, span)(rng);
    at::Tensor seg = segment(song, offset, length);
    const double rms = seg.pow(2).mean().sqrt().item<double>();
    if (rms >= config_.min_rms) return seg;
    if (rms > best_rms) {
      best = seg;
      best_rms = rms;
    }
  }
  return best;
}

std::vector<at::Tensor> AudioSegments::fixed(int64_t count, int64_t length) const {
  std::vector<at::Tensor> out;
  for (int64_t k = 0; k < count; ++k) {
    const int64_t song = k % size();
    // Later passes over the songs start further in, so repeats are different audio.
    const int64_t pass = k / size();
    const int64_t span = std::max<int64_t>(0, frames(song) - length);
    const int64_t offset = std::min(span, span / 3 + pass * length);
    out.push_back(segment(song, offset, length));
  }
  return out;
}

}  // namespace mudit::data
