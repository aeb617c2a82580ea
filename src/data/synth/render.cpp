// Rendering: the song's parts through FluidSynth (offline, no audio driver), the vocal on top,
// loudness normalisation and a peak limiter.
#include <fluidsynth.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <mutex>
#include <tuple>

#include "compose_internal.h"
#include "mudit/audio/loudness.h"
#include "mudit/core/error.h"
#include "mudit/core/log.h"
#include "mudit/data/synth.h"

namespace mudit::data::synth {
namespace {

constexpr float kCeiling = 0.99f;

void silence_fluidsynth_logs() {
  static std::once_flag once;
  std::call_once(once, [] {
    // FluidSynth reports missing presets and the like on stderr; mudit handles those itself.
    for (int level : {FLUID_PANIC, FLUID_ERR, FLUID_WARN, FLUID_INFO, FLUID_DBG}) {
      fluid_set_log_function(level, nullptr, nullptr);
    }
  });
}

struct MidiEvent {
  int64_t sample = 0;
  int order = 0;  // note-offs before note-ons at one sample
  int channel = 0;
  int key = 0;
  int velocity = 0;
};

// A lookahead peak limiter: the gain at each sample is the smallest gain any sample of the
// next `lookahead` samples needs, released exponentially; the result never exceeds `ceiling`.
void limit_peaks(std::vector<float>& left, std::vector<float>& right, float ceiling,
                 int sample_rate) {
  const size_t n = left.size();
  std::vector<float> need(n, 1.0f);
  bool any = false;
  for (size_t i = 0; i < n; ++i) {
    const float peak = std::max(std::abs(left[i]), std::abs(right[i]));
    if (peak > ceiling) need[i] = ceiling / peak, any = true;
  }
  if (!any) return;
  const size_t lookahead = static_cast<size_t>(0.005 * sample_rate) + 1;
  // Backward pass: spread each reduction `lookahead` samples earlier, ramping linearly.
  std::vector<float> gain = need;
  for (size_t i = n; i-- > 0;) {
    for (size_t k = 1; k <= lookahead && i + k < n; ++k) {
      const float ramp = need[i + k] + (1.0f - need[i + k]) * (static_cast<float>(k) / lookahead);
      gain[i] = std::min(gain[i], ramp);
    }
  }
  // Forward pass: release slowly (100 ms), never above what is needed.
  const float release = 1.0f - std::exp(-1.0f / (0.1f * sample_rate));
  float g = 1.0f;
  for (size_t i = 0; i < n; ++i) {
    g = std::min(gain[i], g + (1.0f - g) * release);
    left[i] = std::clamp(left[i] * g, -ceiling, ceiling);
    right[i] = std::clamp(right[i] * g, -ceiling, ceiling);
  }
}

double rms(const std::vector<float>& x, size_t begin, size_t end) {
  double sum = 0;
  for (size_t i = begin; i < end; ++i) sum += static_cast<double>(x[i]) * x[i];
  return end > begin ? std::sqrt(sum / static_cast<double>(end - begin)) : 0.0;
}

int pan_of(const std::string& role) {
  if (role == "chords") return 44;
  if (role == "melody_double") return 80;
  if (role == "lead") return 30;
  return 64;
}

// The soundfonts, loaded once per process into a synthesizer that only holds them: FluidSynth
// shares loaded (and, for .sf3, decoded) sample data between synthesizers that load the same
// file, so each song's fresh synthesizer loads its soundfont from that cache in a fraction of a
// second (the MuseScore .sf3 takes ~12 s to decode, ~0.4 s from the cache).
struct FontCache {
  fluid_settings_t* settings = nullptr;
  fluid_synth_t* holder = nullptr;
  std::vector<std::pair<std::string, std::string>> fonts;  // path, file name

  ~FontCache() {
    if (holder) delete_fluid_synth(holder);
    if (settings) delete_fluid_settings(settings);
  }
};

std::shared_ptr<FontCache> font_cache(const std::vector<std::string>& paths) {
  static std::mutex mutex;
  static std::weak_ptr<FontCache> shared;
  static std::vector<std::string> shared_paths;
  std::lock_guard<std::mutex> lock(mutex);
  if (auto cache = shared.lock(); cache && shared_paths == paths) return cache;
  auto cache = std::make_shared<FontCache>();
  cache->settings = new_fluid_settings();
  MUDIT_CHECK(cache->settings != nullptr, Error, "FluidSynth: cannot create settings");
  fluid_settings_setint(cache->settings, "synth.dynamic-sample-loading", 0);
  cache->holder = new_fluid_synth(cache->settings);
  MUDIT_CHECK(cache->holder != nullptr, Error, "FluidSynth: cannot create a synthesizer");
  for (const std::string& path : paths) {
    std::error_code ec;
    if (!std::filesystem::is_regular_file(path, ec)) continue;
    if (fluid_synth_sfload(cache->holder, path.c_str(), 0) == FLUID_FAILED) {
      log::warn("synth: FluidSynth cannot load soundfont '", path, "'; skipped");
      continue;
    }
    cache->fonts.emplace_back(path, std::filesystem::path(path).filename().string());
  }
  MUDIT_CHECK(!cache->fonts.empty(), IoError, "no usable soundfont among synth.soundfonts (",
              paths.size(), " listed)");
  shared = cache;
  shared_paths = paths;
  return cache;
}

}  // namespace

struct SongRenderer::Impl {
  SynthConfig config;
  std::shared_ptr<FontCache> cache;
  fluid_settings_t* settings = nullptr;  // of the per-song synthesizers

  ~Impl() {
    if (settings) delete_fluid_settings(settings);
  }
};

SongRenderer::SongRenderer(const SynthConfig& config) : impl_(new Impl) {
  std::unique_ptr<Impl> guard(impl_);
  silence_fluidsynth_logs();
  Impl& m = *impl_;
  m.config = config;
  m.cache = font_cache(config.soundfonts);
  m.settings = new_fluid_settings();
  MUDIT_CHECK(m.settings != nullptr, Error, "FluidSynth: cannot create settings");
  fluid_settings_setnum(m.settings, "synth.sample-rate", static_cast<double>(config.sample_rate));
  fluid_settings_setint(m.settings, "synth.dynamic-sample-loading", 0);
  fluid_settings_setint(m.settings, "synth.cpu-cores", 1);
  fluid_settings_setint(m.settings, "synth.threadsafe-api", 0);
  fluid_settings_setint(m.settings, "synth.polyphony", 256);
  fluid_settings_setnum(m.settings, "synth.gain", 0.5);
  fluid_settings_setint(m.settings, "synth.reverb.active", 1);
  fluid_settings_setnum(m.settings, "synth.reverb.room-size", 0.5);
  fluid_settings_setnum(m.settings, "synth.reverb.damp", 0.4);
  fluid_settings_setnum(m.settings, "synth.reverb.width", 0.8);
  fluid_settings_setnum(m.settings, "synth.reverb.level", 0.5);
  fluid_settings_setint(m.settings, "synth.chorus.active", 1);
  fluid_settings_setnum(m.settings, "synth.chorus.level", 1.0);
  guard.release();
}

SongRenderer::~SongRenderer() {
  delete impl_;
}

std::vector<std::string> SongRenderer::soundfonts() const {
  std::vector<std::string> out;
  for (const auto& f : impl_->cache->fonts) out.push_back(f.second);
  return out;
}

audio::Audio SongRenderer::render(SongLabels& song, const std::vector<float>& vocal,
                                  uint64_t seed) {
  Impl& m = *impl_;
  detail::Rng rng(seed);
  const auto& fonts = m.cache->fonts;
  const auto& [font_path, font_name] =
      fonts[static_cast<size_t>(rng.uniform(0, static_cast<int>(fonts.size()) - 1))];
  song.soundfont = font_name;
  const int sr = song.sample_rate;
  MUDIT_CHECK(sr == m.config.sample_rate, ConfigError, "song '", song.id, "' is at ", sr,
              " Hz but the renderer at ", m.config.sample_rate, " Hz");
  const int64_t total = std::llround(song.duration_s * sr);

  // A fresh synthesizer per song: nothing (reverb and chorus state, LFO phases) carries over.
  std::unique_ptr<fluid_synth_t, void (*)(fluid_synth_t*)> synth(new_fluid_synth(m.settings),
                                                                 delete_fluid_synth);
  MUDIT_CHECK(synth != nullptr, Error, "FluidSynth: cannot create a synthesizer at ", sr, " Hz");
  const int font_id = fluid_synth_sfload(synth.get(), font_path.c_str(), 0);
  MUDIT_CHECK(font_id != FLUID_FAILED, IoError, "FluidSynth cannot load '", font_path, "'");
  for (const Part& p : song.parts) {
    const bool drums = p.channel == 9;
    const int bank = drums ? 128 : 0;
    if (fluid_synth_program_select(synth.get(), p.channel, font_id, bank, p.program) != FLUID_OK &&
        fluid_synth_program_select(synth.get(), p.channel, font_id, bank, 0) != FLUID_OK) {
      MUDIT_THROW(DataError, "soundfont '", font_name, "' has no preset ", bank, ":", p.program,
                  " nor ", bank, ":0");
    }
    const double volume = 100.0 * std::pow(10.0, p.gain_db / 40.0);
    fluid_synth_cc(synth.get(), p.channel, 7,
                   std::clamp(static_cast<int>(std::lround(volume)), 0, 127));
    fluid_synth_cc(synth.get(), p.channel, 10, pan_of(p.role));
    fluid_synth_cc(synth.get(), p.channel, 91, drums ? 30 : p.role == "bass" ? 10 : 50);
    fluid_synth_cc(synth.get(), p.channel, 93, p.role == "pad" ? 40 : 0);
  }

  std::vector<MidiEvent> events;
  for (const Part& p : song.parts) {
    for (const Note& n : p.notes) {
      const int64_t on = std::llround(n.start_s * sr);
      // Composition puts both on FluidSynth's block grid (detail::kFluidBlock), so the synth
      // is always between blocks when an event is sent and the note sounds at its label time.
      const int64_t off = std::max<int64_t>(on + detail::kFluidBlock, std::llround(n.end_s * sr));
      if (on >= total) continue;
      events.push_back({on, 1, p.channel, n.pitch, n.velocity});
      events.push_back({off, 0, p.channel, n.pitch, 0});
    }
  }
  std::stable_sort(events.begin(), events.end(), [](const MidiEvent& a, const MidiEvent& b) {
    return std::tie(a.sample, a.order) < std::tie(b.sample, b.order);
  });

  std::vector<float> left(static_cast<size_t>(total)), right(static_cast<size_t>(total));
  int64_t pos = 0;
  auto render_to = [&](int64_t until) {
    until = std::min(until, total);
    while (pos < until) {
      const int len = static_cast<int>(std::min<int64_t>(until - pos, 1 << 16));
      MUDIT_CHECK(fluid_synth_write_float(synth.get(), len, left.data(), static_cast<int>(pos), 1,
                                          right.data(), static_cast<int>(pos), 1) == FLUID_OK,
                  Error, "FluidSynth failed to render '", song.id, "'");
      pos += len;
    }
  };
  for (const MidiEvent& e : events) {
    render_to(e.sample);
    if (e.order == 0) {
      fluid_synth_noteoff(synth.get(), e.channel, e.key);
    } else {
      fluid_synth_noteon(synth.get(), e.channel, e.key, e.velocity);
    }
  }
  render_to(total);
  synth.reset();

  // The vocal, centred, 3 dB above the band's level while it sings.
  if (!vocal.empty()) {
    const size_t n = std::min(vocal.size(), left.size());
    const double band =
        std::sqrt(0.5 * (std::pow(rms(left, 0, n), 2) + std::pow(rms(right, 0, n), 2)));
    double sung_power = 0;
    size_t sung = 0;
    for (const Phrase& ph : song.phrases) {
      const size_t a = std::min(n, static_cast<size_t>(std::llround(ph.start_s * sr)));
      const size_t b = std::min(n, static_cast<size_t>(std::llround(ph.end_s * sr)));
      sung_power += std::pow(rms(vocal, a, b), 2) * static_cast<double>(b - a);
      sung += b - a;
    }
    const double voice = sung > 0 ? std::sqrt(sung_power / static_cast<double>(sung)) : 0.0;
    if (voice > 1e-6 && band > 1e-9) {
      const float g = static_cast<float>(band * std::pow(10.0, 3.0 / 20.0) / voice);
      for (size_t i = 0; i < n; ++i) left[i] += g * vocal[i], right[i] += g * vocal[i];
    }
  }

  // A 30 ms fade at the end: the last chord is cut at the song's length.
  const int64_t fade = std::min<int64_t>(total, sr * 3 / 100);
  for (int64_t i = 0; i < fade; ++i) {
    const float g = static_cast<float>(i) / static_cast<float>(fade);
    left[static_cast<size_t>(total - 1 - i)] *= g;
    right[static_cast<size_t>(total - 1 - i)] *= g;
  }

  // Loudness to the target, then the limiter keeps every sample within the ceiling.
  torch::Tensor stereo = torch::stack({torch::from_blob(left.data(), {total}, torch::kFloat32),
                                       torch::from_blob(right.data(), {total}, torch::kFloat32)});
  const auto before = audio::measure_loudness(stereo, sr);  // [2, T]
  if (std::isfinite(before.integrated_lufs)) {
    const float gain =
        static_cast<float>(std::pow(10.0, (m.config.target_lufs - before.integrated_lufs) / 20.0));
    for (size_t i = 0; i < left.size(); ++i) left[i] *= gain, right[i] *= gain;
  }
  limit_peaks(left, right, kCeiling, sr);
  stereo = torch::stack({torch::from_blob(left.data(), {total}, torch::kFloat32),
                         torch::from_blob(right.data(), {total}, torch::kFloat32)})
               .clone();  // [2, T]
  const auto after = audio::measure_loudness(stereo, sr);
  song.loudness_lufs = std::isfinite(after.integrated_lufs) ? after.integrated_lufs : -70.0;
  song.peak_dbfs = after.sample_peak > 0 ? 20.0 * std::log10(after.sample_peak) : -120.0;
  return {stereo, sr};
}

audio::Audio render_song(SongLabels& song, const SynthConfig& config, uint64_t seed) {
  // One renderer per thread and soundfont list, so the soundfonts load once per thread.
  thread_local std::unique_ptr<SongRenderer> renderer;
  thread_local std::vector<std::string> fonts;
  thread_local int64_t rate = 0;
  thread_local double lufs = 0;
  if (!renderer || fonts != config.soundfonts || rate != config.sample_rate ||
      lufs != config.target_lufs) {
    renderer = std::make_unique<SongRenderer>(config);
    fonts = config.soundfonts;
    rate = config.sample_rate;
    lufs = config.target_lufs;
  }
  std::vector<float> vocal;
  if (config.vocals) vocal = sing(song, config, step_seed(song.seed, 2));
  return renderer->render(song, vocal, seed);
}

}  // namespace mudit::data::synth
