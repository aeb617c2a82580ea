// sing(): the vocal of one song, syllable by syllable.
//
// Sources, in order of preference:
//   Chinese  gcin-voice recordings (config.voice_dir/<zhuyin+tone>/<speaker>.ogg), the speaker by
//            song.voice.gender (3.ogg male, 5.ogg female); a missing tone - or one without
//            enough clear pitch to sing from, mostly creaky third tones of the male speaker -
//            falls back to another tone of the syllable (level tone first), a missing syllable
//            (or folder) to the formant voice.
//   English  espeak-ng, one word at a time ("en-us+f5" / "en-us+m3"), cut into its syllables at
//            the energy minima nearest to equal shares; without espeak, the formant voice.
// Every recorded syllable is trimmed, analysed (YIN F0, pitch marks) and cached process-wide
// (songs sing in parallel; the cache is locked, the work is done outside the lock), then sung by
// TD-PSOLA (psola.h) onto its note: the consonant at speech speed, the vowel stretched or
// compressed to the note's length, F0 following the note exactly (the spoken tone contour is
// replaced, not kept) plus a glide from a tied previous note and vibrato on long notes. Joins
// between tied notes are 15 ms equal-power crossfades; other edges fade over 5 ms (in) and
// 20 ms (out). The whole vocal is scaled to an RMS of -20 dBFS over its sung frames, and down
// further if its peak would pass -1 dBFS.
#include "data/synth/voice.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>

#include "data/synth/espeak_voice.h"
#include "data/synth/formant_voice.h"
#include "data/synth/pinyin.h"
#include "data/synth/psola.h"
#include "data/synth/vocal_rng.h"
#include "mudit/audio/io.h"
#include "mudit/audio/resample.h"
#include "mudit/core/error.h"
#include "mudit/core/log.h"

namespace mudit::data::synth {
namespace vocal {
namespace {

constexpr double kPi = 3.14159265358979323846;

/// A process-wide cache of analysed recordings (null for a missing one). The lock guards the
/// map only: two threads wanting the same new key may both build it; the first one in wins.
template <class Value>
class Cache {
 public:
  template <class Make>
  std::shared_ptr<const Value> get(const std::string& key, Make&& make) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      auto it = map_.find(key);
      if (it != map_.end()) return it->second;
    }
    std::shared_ptr<const Value> value = make();
    std::lock_guard<std::mutex> lock(mutex_);
    return map_.emplace(key, std::move(value)).first->second;
  }

 private:
  std::mutex mutex_;
  std::map<std::string, std::shared_ptr<const Value>> map_;
};

Cache<SourceUnit>& gcin_cache() {
  static Cache<SourceUnit> cache;
  return cache;
}

Cache<std::vector<SourceUnit>>& espeak_cache() {
  static Cache<std::vector<SourceUnit>> cache;
  return cache;
}

std::vector<float> to_vector(const torch::Tensor& samples) {
  const torch::Tensor mono = samples.contiguous().to(torch::kFloat32).reshape({-1});  // [T]
  return std::vector<float>(mono.data_ptr<float>(), mono.data_ptr<float>() + mono.numel());
}

/// The analysed gcin-voice recording of one folder and speaker, or null when absent.
std::shared_ptr<const SourceUnit> gcin_unit(const std::filesystem::path& dir,
                                            const std::string& folder, const char* speaker,
                                            bool female, int sample_rate) {
  const std::filesystem::path path = dir / folder / speaker;
  return gcin_cache().get(
      path.string() + "@" + std::to_string(sample_rate),
      [&]() -> std::shared_ptr<const SourceUnit> {
        std::error_code ec;
        if (!std::filesystem::is_regular_file(path, ec)) return nullptr;
        try {
          audio::AudioReadOptions options;
          options.sample_rate = sample_rate;
          options.channels = 1;
          auto x = to_vector(audio::read_audio(path, options).samples);
          return std::make_shared<SourceUnit>(
              analyse_unit(std::move(x), sample_rate, female ? 120 : 70, female ? 650 : 330, true));
        } catch (const Error& e) {
          log::warn("gcin-voice: ", e.what());
          return nullptr;
        }
      });
}

/// Cut points (in samples) splitting `x` into `parts` syllables: the quietest 10 ms frame
/// within a third of a share around each equal share.
std::vector<size_t> syllable_cuts(const std::vector<float>& x, int parts, int sample_rate) {
  std::vector<size_t> cuts;
  const size_t frame = static_cast<size_t>(sample_rate / 100);
  const size_t frames = x.size() / std::max<size_t>(1, frame);
  std::vector<double> rms(frames);
  for (size_t i = 0; i < frames; ++i) {
    double e = 0;
    for (size_t j = 0; j < frame; ++j) e += double(x[i * frame + j]) * x[i * frame + j];
    rms[i] = e;
  }
  for (int k = 1; k < parts; ++k) {
    const double share = double(frames) / parts;
    const double centre = share * k;
    const auto lo = static_cast<size_t>(std::max(1.0, centre - share / 3));
    const auto hi = static_cast<size_t>(std::min(double(frames) - 1, centre + share / 3));
    size_t best = static_cast<size_t>(centre);
    for (size_t i = lo; i <= hi && i < frames; ++i) {
      if (rms[i] < rms[std::min(best, frames - 1)]) best = i;
    }
    cuts.push_back(std::min(x.size(), best * frame + frame / 2));
  }
  return cuts;
}

/// The analysed syllables of one English word (`word` hyphenated: "to-night"), or null.
std::shared_ptr<const std::vector<SourceUnit>> espeak_units(const std::string& word, bool female,
                                                            int sample_rate) {
  const std::string voice = female ? "en-us+f5" : "en-us+m3";
  return espeak_cache().get(
      voice + "|" + word + "@" + std::to_string(sample_rate),
      [&]() -> std::shared_ptr<const std::vector<SourceUnit>> {
        std::string text;
        int parts = 1;
        for (char c : word) {
          if (c == '-') {
            ++parts;
          } else {
            text += c;
          }
        }
        int rate = 0;
        std::vector<float> pcm = espeak_speak(text, voice, rate);
        if (pcm.empty() || rate <= 0) return nullptr;
        if (rate != sample_rate) {
          auto t =
              torch::from_blob(pcm.data(), {1, static_cast<int64_t>(pcm.size())}, torch::kFloat32);
          pcm = to_vector(audio::resample(t, rate, sample_rate));
        }
        const double fmin = female ? 120 : 60, fmax = female ? 500 : 300;
        // Trim the whole word first so the shares are of its sound, not its silence.
        SourceUnit whole = analyse_unit(std::move(pcm), sample_rate, fmin, fmax, false);
        auto units = std::make_shared<std::vector<SourceUnit>>();
        if (parts == 1) {
          units->push_back(std::move(whole));
          return units;
        }
        const std::vector<size_t> cuts = syllable_cuts(whole.samples, parts, sample_rate);
        size_t from = 0;
        for (int k = 0; k < parts; ++k) {
          const size_t to = k + 1 < parts ? cuts[static_cast<size_t>(k)] : whole.samples.size();
          std::vector<float> piece(whole.samples.begin() + static_cast<long>(from),
                                   whole.samples.begin() + static_cast<long>(std::max(from, to)));
          units->push_back(analyse_unit(std::move(piece), sample_rate, fmin, fmax, false));
          from = std::max(from, to);
        }
        return units;
      });
}

double midi_hz(double pitch) {
  return 440.0 * std::pow(2.0, (pitch - 69.0) / 12.0);
}

/// Tone folders tried for a syllable: its own tone, then the level tone, then the rest.
std::vector<std::string> gcin_candidates(const std::string& sound) {
  const auto syl = parse_pinyin(sound);
  if (!syl) return {};
  std::string base = sound;
  while (!base.empty() && std::isdigit(static_cast<unsigned char>(base.back()))) base.pop_back();
  std::vector<std::string> out{gcin_folder_name(base + std::to_string(syl->tone))};
  for (int tone : {1, 2, 4, 3, 5}) {
    const std::string name = gcin_folder_name(base + std::to_string(tone));
    if (std::find(out.begin(), out.end(), name) == out.end()) out.push_back(name);
  }
  return out;
}

struct Placed {
  const Syllable* syllable;
  const LyricLine* line;
  int word_part = 0;  // English: the syllable's index within its word
};

}  // namespace

const char* gcin_speaker_file(const std::string& gender) {
  return gender == "female" ? "5.ogg" : "3.ogg";
}

std::vector<float> sing_with_stats(SongLabels& song, const SynthConfig& config, uint64_t seed,
                                   SingStats* stats) {
  MUDIT_CHECK(song.sample_rate > 0, DataError, "sing: sample rate ", song.sample_rate);
  MUDIT_CHECK(song.duration_s >= 0, DataError, "sing: duration ", song.duration_s);
  const int sr = song.sample_rate;
  const auto total = static_cast<size_t>(std::llround(song.duration_s * sr));
  std::vector<float> out(total, 0.f);
  SingStats counts;

  VocalRng rng(seed, 0x53494E47);  // "SING"
  const double vibrato_hz = rng.uniform(5.0, 6.0);
  const double vibrato_cents = rng.uniform(20.0, 40.0);
  const bool female = song.voice.gender == "female";
  const char* speaker = gcin_speaker_file(song.voice.gender);
  const std::filesystem::path voice_dir = config.voice_dir;
  std::error_code ec;
  const bool have_gcin = !config.voice_dir.empty() && std::filesystem::is_directory(voice_dir, ec);
  const bool have_espeak = espeak_available();

  std::vector<Placed> placed;
  for (const auto& line : song.lyrics) {
    int remaining = 0, part = 0;
    for (const auto& syl : line.syllables) {
      if (line.lang == "en") {
        if (remaining == 0) {
          remaining = 1 + static_cast<int>(std::count(syl.sound.begin(), syl.sound.end(), '-'));
          part = 0;
        }
        placed.push_back({&syl, &line, part++});
        --remaining;
      } else {
        placed.push_back({&syl, &line, 0});
      }
    }
  }

  bool used_gcin = false, used_espeak = false, used_formant = false;
  size_t fade_in = 0;  // crossfade length owed to the current syllable by the previous one
  for (size_t i = 0; i < placed.size(); ++i) {
    const Syllable& syl = *placed[i].syllable;
    const std::string& lang = placed[i].line->lang;
    const auto s0 = static_cast<size_t>(std::max(0LL, std::llround(syl.start_s * sr)));
    const auto e0 = static_cast<size_t>(std::max(0LL, std::llround(syl.end_s * sr)));
    if (e0 <= s0 || s0 >= total) {
      fade_in = 0;
      continue;
    }
    ++counts.syllables;
    const size_t len = e0 - s0;
    const Syllable* next = i + 1 < placed.size() ? placed[i + 1].syllable : nullptr;
    const bool tied_next =
        next != nullptr && next->start_s - syl.end_s < 0.03 && next->start_s >= syl.start_s;
    const size_t overlap =
        tied_next ? std::min<size_t>(static_cast<size_t>(0.015 * sr), len / 3) : 0;
    const size_t n = std::min(total - s0, len + overlap);
    const Syllable* prev = i > 0 ? placed[i - 1].syllable : nullptr;
    const bool tied_prev = prev != nullptr && syl.start_s - prev->end_s < 0.03;

    // The F0 curve: glide in from a tied previous note, vibrato after 0.25 of a long note.
    std::vector<float> f0(n);
    const double dur = double(len) / sr;
    const double glide = std::min(0.06, 0.25 * dur);
    const double onset = std::max(0.15, 0.25 * dur);
    for (size_t t = 0; t < n; ++t) {
      const double ts = double(std::min(t, len)) / sr;
      double cents = 0;
      if (tied_prev && prev->pitch != syl.pitch && ts < glide) {
        cents += 100.0 * (prev->pitch - syl.pitch) * 0.5 * (1 + std::cos(kPi * ts / glide));
      }
      if (dur > 0.3 && ts > onset) {
        const double ramp = std::min(1.0, (ts - onset) / 0.2);
        cents += vibrato_cents * ramp * std::sin(2 * kPi * vibrato_hz * (ts - onset));
      }
      f0[t] = static_cast<float>(midi_hz(syl.pitch + cents / 100.0));
    }

    std::shared_ptr<const SourceUnit> unit;
    std::shared_ptr<const std::vector<SourceUnit>> word;
    bool wanted_recording = false;
    if (lang == "zh") {
      wanted_recording = true;
      if (have_gcin) {
        const auto candidates = gcin_candidates(syl.sound);
        for (size_t c = 0; c < candidates.size() && !unit; ++c) {
          unit = gcin_unit(voice_dir, candidates[c], speaker, female, sr);
          if (unit && !singable(*unit)) unit = nullptr;
          if (unit && c > 0) ++counts.tone_fallbacks;
        }
      }
      if (unit) ++counts.gcin;
    } else {
      wanted_recording = true;
      if (have_espeak) {
        word = espeak_units(syl.sound, female, sr);
        const auto part = static_cast<size_t>(placed[i].word_part);
        if (word && part < word->size() && singable((*word)[part])) {
          unit = std::shared_ptr<const SourceUnit>(word, &(*word)[part]);
        }
      }
      if (unit) ++counts.espeak;
    }

    std::vector<float> sung;
    if (unit && !unit->samples.empty()) {
      const TimeMap map = sung_time_map(double(unit->samples.size()), unit->voiced_begin,
                                        unit->voiced_end, double(len), sr);
      sung = psola(*unit, map, f0);
      (lang == "zh" ? used_gcin : used_espeak) = true;
    } else {
      ++counts.formant;
      if (wanted_recording) ++counts.formant_fallbacks;
      const std::string sound = lang == "zh" ? syl.sound : syl.text;
      sung = formant_syllable(sound, lang, female, f0, sr, mix64(seed ^ mix64(i)));
      used_formant = true;
    }

    // Edges: equal-power crossfade with tied neighbours, short fades elsewhere.
    const size_t in_len = std::min(n, fade_in > 0 ? fade_in : static_cast<size_t>(0.005 * sr));
    for (size_t t = 0; t < in_len; ++t) {
      const double w = double(t) / double(in_len);
      sung[t] *= static_cast<float>(fade_in > 0 ? std::sin(0.5 * kPi * w) : w);
    }
    const size_t out_len =
        overlap > 0 ? std::min(n, overlap) : std::min(n / 3, static_cast<size_t>(0.02 * sr));
    for (size_t t = 0; t < out_len; ++t) {
      const double w = double(t + 1) / double(out_len);  // 0 at the end
      sung[n - 1 - t] *= static_cast<float>(overlap > 0 ? std::sin(0.5 * kPi * w) : w);
    }
    for (size_t t = 0; t < n; ++t) out[s0 + t] += sung[t];
    fade_in = overlap;
  }

  // Level: RMS of the sung 10 ms frames to -20 dBFS, peak at most -1 dBFS.
  const size_t frame = static_cast<size_t>(sr / 100);
  double energy = 0;
  size_t counted = 0;
  for (size_t b = 0; b + frame <= total; b += frame) {
    double e = 0;
    for (size_t t = b; t < b + frame; ++t) e += double(out[t]) * out[t];
    if (e / double(frame) > 1e-8) {
      energy += e;
      counted += frame;
    }
  }
  if (counted > 0 && energy > 0) {
    double gain = 0.1 / std::sqrt(energy / double(counted));
    float peak = 0;
    for (float v : out) peak = std::max(peak, std::fabs(v));
    gain = std::min(gain, 0.891 / std::max(1e-9, double(peak)));
    for (float& v : out) v = static_cast<float>(v * gain);
  }

  std::string source;
  for (auto [used, name] : {std::pair{used_gcin, "gcin-voice"}, std::pair{used_espeak, "espeak-ng"},
                            std::pair{used_formant, "formant"}}) {
    if (!used) continue;
    if (!source.empty()) source += "+";
    source += name;
  }
  song.voice.source = source;
  if (counts.formant_fallbacks > 0 || counts.tone_fallbacks > 0) {
    log::debug("sing ", song.id, ": ", counts.syllables, " syllables, ", counts.gcin,
               " gcin-voice (", counts.tone_fallbacks, " in another tone), ", counts.espeak,
               " espeak-ng, ", counts.formant, " formant (", counts.formant_fallbacks,
               " for a missing recording)");
  }
  if (stats != nullptr) *stats = counts;
  return out;
}

}  // namespace vocal

std::vector<float> sing(SongLabels& song, const SynthConfig& config, uint64_t seed) {
  return vocal::sing_with_stats(song, config, seed, nullptr);
}

}  // namespace mudit::data::synth
