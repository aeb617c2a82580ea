// The corpus driver: songs in parallel, their files, the manifest and the resolved config.
#include <nlohmann/json.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <exception>
#include <mutex>
#include <optional>
#include <sstream>
#include <thread>

#include "mudit/core/config.h"
#include "mudit/core/error.h"
#include "mudit/core/fs.h"
#include "mudit/core/log.h"
#include "mudit/core/rng.h"
#include "mudit/data/synth.h"
#include "mudit/text/clean.h"

namespace mudit::data::synth {
namespace {

using nlohmann::ordered_json;

std::string fixed(double v, int digits) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}

std::string clock_time(double s) {
  char buf[32];
  const int m = static_cast<int>(s / 60);
  std::snprintf(buf, sizeof buf, "%d:%05.2f", m, s - 60.0 * m);
  return buf;
}

std::vector<std::string> existing_soundfonts(const SynthConfig& config) {
  std::vector<std::string> out;
  for (const auto& f : config.soundfonts) {
    std::error_code ec;
    if (std::filesystem::is_regular_file(f, ec)) out.push_back(f);
  }
  return out;
}

}  // namespace

void SynthConfig::validate() const {
  MUDIT_CHECK(songs > 0, ConfigError, "songs must be positive, got ", songs);
  MUDIT_CHECK(seconds >= 1 && seconds <= 1200, ConfigError, "seconds must be in [1, 1200], got ",
              seconds);
  MUDIT_CHECK(sample_rate >= 8000 && sample_rate <= 96000, ConfigError,
              "sample_rate must be in [8000, 96000] Hz, got ", sample_rate);
  MUDIT_CHECK(threads >= 0, ConfigError, "threads must be 0 (every core) or positive, got ",
              threads);
  MUDIT_CHECK(valid_fraction >= 0 && test_fraction >= 0 && valid_fraction + test_fraction <= 1,
              ConfigError, "valid_fraction and test_fraction must be >= 0 with a sum <= 1");
  MUDIT_CHECK(english_fraction >= 0 && english_fraction <= 1, ConfigError,
              "english_fraction must be in [0, 1], got ", english_fraction);
  MUDIT_CHECK(target_lufs < 0 && target_lufs >= -70, ConfigError,
              "target_lufs must be in [-70, 0), got ", target_lufs);
  MUDIT_CHECK(!soundfonts.empty(), ConfigError, "soundfonts must list at least one file");
}

std::string song_id(int64_t index) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "synth_%06lld", static_cast<long long>(index));
  return buf;
}

uint64_t step_seed(uint64_t song_seed, int step) {
  return derive_seed(song_seed, static_cast<uint64_t>(step));
}

Song make_song(const SynthConfig& config, int64_t index, SongRenderer& renderer) {
  const uint64_t seed = derive_seed(config.seed, static_cast<uint64_t>(index));
  Song song;
  song.labels = compose_song(config, song_id(index), seed);
  write_lyrics(song.labels, config, step_seed(seed, 1));
  std::vector<float> vocal;
  if (config.vocals) {
    vocal = sing(song.labels, config, step_seed(seed, 2));
  } else {
    song.labels.voice.source = "none";
  }
  song.audio = renderer.render(song.labels, vocal, step_seed(seed, 3));
  song.descriptions = describe_song(song.labels, step_seed(seed, 4));
  return song;
}

std::string lyrics_text(const SongLabels& song) {
  text::Lyrics lyrics;
  for (const SectionSpan& s : song.sections) {
    text::LyricSection section;
    section.tag = s.tag;
    for (const LyricLine& l : song.lyrics) {
      if (l.section == s.tag) section.lines.push_back({l.text, l.start_s});
    }
    lyrics.sections.push_back(std::move(section));
  }
  return text::to_lrc(lyrics);
}

std::string song_meta_json(const SongLabels& song) {
  ordered_json instruments = ordered_json::array();
  for (const Part& p : song.parts) {
    ordered_json o = {{"role", p.role}, {"name", p.name}, {"family", p.family}};
    if (!p.stands_for.empty()) o["stands_for"] = p.stands_for;
    instruments.push_back(o);
  }
  ordered_json j;
  j["key"] = std::string(pitch_class_name(song.tonic_pc)) + " " + mode_name(song.mode);
  j["tonic"] = pitch_class_name(song.tonic_pc);
  j["mode"] = mode_name(song.mode);
  j["bpm"] = song.bpm;
  j["meter"] = meter_name(song.meter);
  j["style"] = style_name(song.style);
  j["instruments"] = instruments;
  j["soundfont"] = song.soundfont;
  j["voice"] = {{"gender", song.voice.gender},
                {"register", song.voice.register_},
                {"source", song.voice.source}};
  return j.dump();
}

ManifestEntry manifest_entry(const Song& song, const SynthConfig& config) {
  const SongLabels& l = song.labels;
  ManifestEntry e;
  e.id = l.id;
  e.audio = "songs/" + l.id + "/audio.wav";
  e.duration = l.duration_s;
  e.lyrics = lyrics_text(l);
  e.amateur = song.descriptions.amateur;
  e.professional = song.descriptions.professional;
  e.amateur_tags = song.descriptions.amateur_tags;
  e.professional_tags = song.descriptions.professional_tags;
  e.split = assign_split(l.id, config.valid_fraction, config.test_fraction, config.seed);
  e.meta = song_meta_json(l);
  return e;
}

void write_song_files(const Song& song, const std::filesystem::path& out_dir) {
  const auto dir = out_dir / "songs" / song.labels.id;
  with_context("writing song '" + dir.string() + "'", [&] {
    std::filesystem::create_directories(dir);
    audio::write_audio(dir / "audio.wav", song.audio.samples, song.audio.sample_rate,
                       {"wav", "pcm16"});
    write_file_atomic(dir / "song.mid", to_midi(song.labels));
    write_file_atomic(dir / "labels.json", labels_to_json(song.labels) + "\n");
    write_file_atomic(dir / "lyrics.txt", lyrics_text(song.labels));
  });
}

CorpusStats synthesize_corpus(const SynthConfig& config, const std::filesystem::path& out_dir,
                              const std::function<void(int64_t done)>& progress) {
  config.validate();
  const auto fonts = existing_soundfonts(config);
  if (fonts.empty()) {
    std::string listed;
    for (const auto& f : config.soundfonts) listed += (listed.empty() ? "" : ", ") + f;
    MUDIT_THROW(ConfigError, "none of the soundfonts exists (", listed,
                "); install fluid-soundfont-gm or set synth.soundfonts");
  }
  // The output folder must be writable before any work starts.
  std::error_code ec;
  std::filesystem::create_directories(out_dir, ec);
  MUDIT_CHECK(!ec, IoError, "cannot create output folder '", out_dir.string(), "': ", ec.message());
  write_config_file(out_dir, dump_config(config), "synth.yaml");

  const auto start = std::chrono::steady_clock::now();
  const int64_t hw = std::max<int64_t>(1, std::thread::hardware_concurrency());
  const int64_t threads = std::min(config.threads > 0 ? config.threads : hw, config.songs);
  std::vector<ManifestEntry> entries(static_cast<size_t>(config.songs));
  std::vector<double> seconds(static_cast<size_t>(config.songs), 0.0);
  std::atomic<int64_t> next{0}, done{0};
  std::atomic<bool> failed{false};
  std::exception_ptr error;
  std::mutex mutex;
  std::condition_variable changed;

  auto worker = [&] {
    try {
      SongRenderer renderer(config);
      for (int64_t i = next++; i < config.songs && !failed; i = next++) {
        with_context("song " + song_id(i), [&] {
          const Song song = make_song(config, i, renderer);
          write_song_files(song, out_dir);
          entries[static_cast<size_t>(i)] = manifest_entry(song, config);
          seconds[static_cast<size_t>(i)] = song.labels.duration_s;
        });
        ++done;
        changed.notify_one();
      }
    } catch (...) {
      std::lock_guard<std::mutex> lock(mutex);
      if (!error) error = std::current_exception();
      failed = true;
      changed.notify_one();
    }
  };
  std::vector<std::thread> pool;
  for (int64_t t = 0; t < threads; ++t) pool.emplace_back(worker);
  int64_t shown = -1;
  while (true) {
    {
      std::unique_lock<std::mutex> lock(mutex);
      changed.wait_for(lock, std::chrono::milliseconds(200));
    }
    const int64_t d = done;
    if (progress && d != shown) progress(d), shown = d;
    if (failed || d >= config.songs) break;
  }
  for (auto& t : pool) t.join();
  if (error) std::rethrow_exception(error);

  write_manifest(out_dir / "manifest.jsonl", entries);
  CorpusStats stats;
  stats.songs = config.songs;
  for (double s : seconds) stats.audio_seconds += s;
  stats.wall_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  stats.threads = threads;
  return stats;
}

std::string describe_song_dir(const std::filesystem::path& song_dir) {
  const auto labels_path = song_dir / "labels.json";
  const SongLabels s = with_context("reading '" + labels_path.string() + "'",
                                    [&] { return labels_from_json(read_file(labels_path)); });
  std::optional<ManifestEntry> entry;
  const auto manifest = song_dir.parent_path().parent_path() / "manifest.jsonl";
  std::error_code ec;
  if (std::filesystem::is_regular_file(manifest, ec)) {
    for (auto& e : read_manifest(manifest)) {
      if (e.id == s.id) entry = std::move(e);
    }
  }
  std::ostringstream o;
  o << s.id << "  " << fixed(s.duration_s, 2) << " s at " << s.sample_rate << " Hz"
    << (entry ? "  split " + entry->split : "") << "\n";
  o << "key        " << pitch_class_name(s.tonic_pc) << " " << mode_name(s.mode) << "  (scale "
    << pitch_class_name(parent_major_pc(s.tonic_pc, s.mode)) << " major)\n";
  o << "tempo      " << fixed(s.bpm, 1) << " BPM (quarter), felt beat " << fixed(beat_bpm(s), 1)
    << ", " << meter_name(s.meter) << "\n";
  o << "style      " << style_name(s.style) << "\n";
  o << "voice      " << s.voice.gender << " " << s.voice.register_ << " (MIDI " << s.voice.low_pitch
    << "-" << s.voice.high_pitch << "), sung by " << s.voice.source << "\n";
  o << "render     " << s.soundfont << ", " << fixed(s.loudness_lufs, 1) << " LUFS, peak "
    << fixed(s.peak_dbfs, 2) << " dBFS\n";
  o << "parts\n";
  for (const Part& p : s.parts) {
    o << "  " << p.role << ": " << p.name << " (" << p.family
      << (p.stands_for.empty() ? "" : ", for " + p.stands_for) << "), channel " << p.channel + 1
      << ", " << p.notes.size() << " notes\n";
  }
  o << "form      ";
  for (const auto& sec : s.sections) {
    o << " " << sec.tag.str() << " " << clock_time(sec.start_s) << " (" << sec.bars << " bars)";
  }
  o << "\nchords    ";
  for (const auto& c : s.chords) o << " " << c.symbol;
  o << "\nroman     ";
  for (const auto& c : s.chords) o << " " << c.roman;
  o << "\nmelody     " << s.melody.size() << " notes in " << s.phrases.size() << " phrases\n";
  o << "lyrics\n";
  std::istringstream lyr(lyrics_text(s));
  for (std::string line; std::getline(lyr, line);) o << "  " << line << "\n";
  if (entry) {
    auto list = [&](const char* what, const std::vector<Description>& ds) {
      o << what << "\n";
      for (const auto& d : ds) {
        o << "  [" << (d.lang.empty() ? "?" : d.lang) << (d.length.empty() ? "" : " " + d.length)
          << "] " << d.text << "\n";
      }
    };
    auto tags = [&](const char* what, const TagMap& t) {
      o << what << "\n";
      for (const auto& [dim, labels] : t) {
        o << "  " << dim << ":";
        for (const auto& l : labels) o << " " << l;
        o << "\n";
      }
    };
    list("amateur descriptions", entry->amateur);
    list("professional descriptions", entry->professional);
    tags("amateur tags", entry->amateur_tags);
    tags("professional tags", entry->professional_tags);
  } else {
    o << "(no manifest line: descriptions are in ../../manifest.jsonl of a finished run)\n";
  }
  return o.str();
}

}  // namespace mudit::data::synth
