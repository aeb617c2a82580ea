// The synthetic corpus without rendering: composition invariants, determinism, labels.json and
// the Standard MIDI File read back by a small reader.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include "mudit/core/error.h"
#include "mudit/core/rng.h"
#include "mudit/data/synth.h"

namespace mudit::data::synth {
namespace {

SynthConfig config_of(double seconds) {
  SynthConfig c;
  c.seconds = seconds;
  return c;
}

std::vector<SongLabels> songs(int n, double seconds, uint64_t base = 7) {
  std::vector<SongLabels> out;
  const SynthConfig c = config_of(seconds);
  for (int i = 0; i < n; ++i) out.push_back(compose_song(c, song_id(i), derive_seed(base, i)));
  return out;
}

TEST(SynthCompose, SameSeedSameLabelsOtherSeedOtherSong) {
  const SynthConfig c = config_of(30);
  const std::string a = labels_to_json(compose_song(c, "x", 42));
  EXPECT_EQ(a, labels_to_json(compose_song(c, "x", 42)));
  EXPECT_NE(a, labels_to_json(compose_song(c, "x", 43)));
}

TEST(SynthCompose, CoversEveryStyleModeAndMeter) {
  std::set<Style> styles;
  std::set<Mode> modes;
  std::set<Meter> meters;
  std::set<int> tonics;
  for (const auto& s : songs(200, 8)) {
    styles.insert(s.style), modes.insert(s.mode), meters.insert(s.meter);
    tonics.insert(s.tonic_pc);
  }
  EXPECT_EQ(styles.size(), 6u);
  EXPECT_EQ(modes.size(), 7u);
  EXPECT_EQ(meters.size(), 3u);
  EXPECT_EQ(tonics.size(), 12u);
}

TEST(SynthCompose, Invariants) {
  int strong = 0, strong_chord_tones = 0;
  for (double seconds : {8.0, 30.0, 90.0}) {
    for (const auto& s : songs(60, seconds, 11)) {
      SCOPED_TRACE(s.id + " " + std::to_string(seconds));
      EXPECT_GE(s.bpm, 60);
      EXPECT_LE(s.bpm, 180);
      EXPECT_GE(beat_bpm(s), 60);
      EXPECT_LE(beat_bpm(s), 180);
      EXPECT_NEAR(s.duration_s, seconds, 0.5 * seconds + 4.0);
      const double bar_s = quarters_per_bar(s.meter) * 60.0 / s.bpm;
      // Sections contiguous from 0 to the end.
      ASSERT_FALSE(s.sections.empty());
      EXPECT_EQ(s.sections.front().first_bar, 0);
      EXPECT_DOUBLE_EQ(s.sections.front().start_s, 0.0);
      for (size_t i = 1; i < s.sections.size(); ++i) {
        EXPECT_EQ(s.sections[i].first_bar, s.sections[i - 1].first_bar + s.sections[i - 1].bars);
        EXPECT_DOUBLE_EQ(s.sections[i].start_s, s.sections[i - 1].end_s);
      }
      EXPECT_NEAR(s.sections.back().end_s, s.duration_s, 1e-9);
      const int bars = s.sections.back().first_bar + s.sections.back().bars;
      // One chord per bar, in order; the last is the home chord on the tonic or (pentatonic)
      // a chord of the scale.
      ASSERT_EQ(static_cast<int>(s.chords.size()), bars);
      for (int b = 0; b < bars; ++b) {
        EXPECT_EQ(s.chords[b].bar, b);
        // The bar's time, on FluidSynth's 64-sample grid (compose_song snaps every time).
        const double block = 64.0 / s.sample_rate;
        EXPECT_NEAR(s.chords[b].start_s, std::round(b * bar_s / block) * block, 1e-9);
        EXPECT_FALSE(s.chords[b].pitches.empty());
      }
      // 3 to 6 parts with drums on channel 10; notes inside the song.
      EXPECT_GE(s.parts.size(), 3u);
      EXPECT_LE(s.parts.size(), 6u);
      EXPECT_EQ(std::count_if(s.parts.begin(), s.parts.end(),
                              [](const Part& p) { return p.channel == 9; }),
                1);
      for (const Part& p : s.parts) {
        for (const Note& n : p.notes) {
          EXPECT_LT(n.start_s, n.end_s);
          EXPECT_LE(n.end_s, s.duration_s + 1e-9);
        }
      }
      // Melody within the voice, in the scale, grouped into phrases of 5-10 notes.
      const auto scale = mode_intervals(s.mode);
      for (const Note& n : s.melody) {
        EXPECT_GE(n.pitch, s.voice.low_pitch);
        EXPECT_LE(n.pitch, s.voice.high_pitch);
        const int rel = ((n.pitch - s.tonic_pc) % 12 + 12) % 12;
        EXPECT_NE(std::find(scale.begin(), scale.end(), rel), scale.end());
      }
      int covered = 0;
      for (const Phrase& ph : s.phrases) {
        EXPECT_GE(ph.note_count, 5);
        EXPECT_LE(ph.note_count, 10);
        EXPECT_EQ(ph.first_note, covered);
        covered += ph.note_count;
        const auto& sec = s.sections[ph.section_index];
        EXPECT_GE(ph.start_s, sec.start_s - 1e-9);
        EXPECT_LE(ph.end_s, sec.end_s + 1e-9);
      }
      EXPECT_EQ(covered, static_cast<int>(s.melody.size()));
      EXPECT_FALSE(s.phrases.empty());
      for (size_t i = 1; i < s.phrases.size(); ++i) {
        EXPECT_LT(s.phrases[i - 1].end_s, s.phrases[i].start_s);  // a rest between phrases
      }
      // Strong-beat notes (beat 1 and 3 in 4/4, 1 in 3/4, 1 and 4 in 6/8) and chord tones.
      const double eighth = 30.0 / s.bpm;
      const int spb = s.meter == Meter::k4_4 ? 8 : 6;
      for (const Note& n : s.melody) {
        const double slot = n.start_s / eighth;
        if (std::abs(slot - std::round(slot)) > 1e-6) continue;
        const int k = static_cast<int>(std::lround(slot)) % spb;
        const bool is_strong = s.meter == Meter::k4_4   ? (k == 0 || k == 4)
                               : s.meter == Meter::k3_4 ? k == 0
                                                        : (k == 0 || k == 3);
        if (!is_strong) continue;
        const auto& chord = s.chords[static_cast<size_t>(n.start_s / bar_s + 1e-9)];
        ++strong;
        for (int p : chord.pitches) {
          if (p % 12 == n.pitch % 12) {
            ++strong_chord_tones;
            break;
          }
        }
      }
    }
  }
  ASSERT_GT(strong, 100);
  EXPECT_GE(strong_chord_tones, 0.85 * strong) << strong_chord_tones << " of " << strong;
}

TEST(SynthCompose, ChineseStyleUsesPentatonicModesAndSaysWhatGmStandsFor) {
  int chinese = 0;
  for (const auto& s : songs(120, 8, 3)) {
    if (s.style != Style::kChineseTraditional) continue;
    ++chinese;
    EXPECT_EQ(mode_intervals(s.mode).size(), 5u);
    EXPECT_EQ(s.parts.front().name, "Koto");
    EXPECT_EQ(s.parts.front().stands_for, "guzheng");
  }
  EXPECT_GT(chinese, 5);
}

TEST(SynthLabels, JsonRoundTrip) {
  SongLabels s = compose_song(config_of(20), "synth_000001", 5);
  SynthConfig c;
  write_lyrics(s, c, 9);
  s.soundfont = "FluidR3_GM.sf2";
  s.loudness_lufs = -16.02;
  const std::string json = labels_to_json(s);
  const SongLabels back = labels_from_json(json);
  EXPECT_EQ(labels_to_json(back), json);
  EXPECT_EQ(back.sections.size(), s.sections.size());
  EXPECT_EQ(back.parts.size(), s.parts.size());
  EXPECT_THROW(labels_from_json("{\"id\": 3}"), DataError);
  EXPECT_THROW(labels_from_json("not json"), DataError);
}

TEST(SynthLabels, NamesAndScales) {
  EXPECT_EQ(mode_intervals(Mode::kGong), (std::vector<int>{0, 2, 4, 7, 9}));
  EXPECT_EQ(mode_intervals(Mode::kYu), (std::vector<int>{0, 3, 5, 7, 10}));
  EXPECT_EQ(mode_intervals(Mode::kShang), (std::vector<int>{0, 2, 5, 7, 10}));
  EXPECT_EQ(parent_major_pc(9, Mode::kMinor), 0);  // A minor -> C major
  EXPECT_EQ(parent_major_pc(9, Mode::kYu), 0);
  EXPECT_EQ(parent_major_pc(7, Mode::kZhi), 0);  // G zhi -> C gong
  EXPECT_EQ(parent_major_pc(2, Mode::kShang), 0);
  EXPECT_EQ(parent_major_pc(4, Mode::kJue), 0);
  EXPECT_STREQ(gm_program_name(107), "Koto");
  EXPECT_STREQ(gm_family_name(107), "ethnic");
  EXPECT_STREQ(gm_program_name(0), "Acoustic Grand Piano");
  EXPECT_STREQ(gm_program_name(127), "Gunshot");
  EXPECT_EQ(song_id(42), "synth_000042");
}

// --- a small Standard MIDI File reader ---------------------------------------------------------

struct MidiSummary {
  int format = -1, tracks = 0, division = 0;
  int tempo_us = 0;
  int numerator = 0, denominator = 0;
  int key_sf = 99, key_minor = -1;
  int note_ons = 0, note_offs = 0;
  std::map<int, int> programs;  // channel -> program
};

MidiSummary read_midi(const std::string& b) {
  MidiSummary m;
  size_t pos = 0;
  auto u8 = [&]() -> int {
    if (pos >= b.size()) throw std::runtime_error("truncated");
    return static_cast<unsigned char>(b[pos++]);
  };
  auto be = [&](int n) {
    uint32_t v = 0;
    for (int i = 0; i < n; ++i) v = (v << 8) | static_cast<uint32_t>(u8());
    return v;
  };
  auto varlen = [&]() {
    uint32_t v = 0;
    int c;
    do {
      c = u8();
      v = (v << 7) | static_cast<uint32_t>(c & 0x7F);
    } while (c & 0x80);
    return v;
  };
  if (b.substr(0, 4) != "MThd") throw std::runtime_error("no MThd");
  pos = 4;
  if (be(4) != 6) throw std::runtime_error("header length");
  m.format = static_cast<int>(be(2));
  const int ntracks = static_cast<int>(be(2));
  m.division = static_cast<int>(be(2));
  for (int t = 0; t < ntracks; ++t) {
    if (b.substr(pos, 4) != "MTrk") throw std::runtime_error("no MTrk");
    pos += 4;
    const uint32_t length = be(4);  // read first: `pos + be(4)` leaves the order unspecified
    const size_t end = pos + length;
    int status = 0;
    bool ended = false;
    while (pos < end) {
      varlen();
      int c = u8();
      if (c == 0xFF) {
        const int type = u8();
        const uint32_t len = varlen();
        const size_t data = pos;
        if (type == 0x51) m.tempo_us = static_cast<int>(be(3));
        if (type == 0x58) m.numerator = u8(), m.denominator = 1 << u8();
        if (type == 0x59) m.key_sf = static_cast<signed char>(u8()), m.key_minor = u8();
        if (type == 0x2F) ended = true;
        pos = data + len;
        continue;
      }
      if (c & 0x80) {
        status = c;
      } else {
        --pos;  // running status
      }
      const int kind = status & 0xF0, ch = status & 0x0F;
      if (kind == 0xC0 || kind == 0xD0) {
        const int v = u8();
        if (kind == 0xC0) m.programs[ch] = v;
      } else {
        u8();
        const int vel = u8();
        if (kind == 0x90 && vel > 0) ++m.note_ons;
        if (kind == 0x80 || (kind == 0x90 && vel == 0)) ++m.note_offs;
      }
    }
    if (!ended || pos != end) throw std::runtime_error("track without end");
    ++m.tracks;
  }
  return m;
}

TEST(SynthMidi, ReadsBackWithTempoMeterKeyAndNotes) {
  for (const auto& s : songs(30, 20, 21)) {
    SCOPED_TRACE(s.id);
    const MidiSummary m = read_midi(to_midi(s));
    EXPECT_EQ(m.format, 1);
    EXPECT_EQ(m.tracks, static_cast<int>(s.parts.size()) + 2);
    EXPECT_EQ(m.division, 480);
    EXPECT_NEAR(60e6 / m.tempo_us, s.bpm, 0.01);
    const int num = s.meter == Meter::k4_4 ? 4 : s.meter == Meter::k3_4 ? 3 : 6;
    const int den = s.meter == Meter::k6_8 ? 8 : 4;
    EXPECT_EQ(m.numerator, num);
    EXPECT_EQ(m.denominator, den);
    EXPECT_EQ(m.key_minor, (s.mode == Mode::kMinor || s.mode == Mode::kYu) ? 1 : 0);
    EXPECT_GE(m.key_sf, -6);
    EXPECT_LE(m.key_sf, 6);
    size_t notes = s.melody.size();
    for (const Part& p : s.parts) notes += p.notes.size();
    EXPECT_EQ(m.note_ons, static_cast<int>(notes));
    EXPECT_EQ(m.note_offs, static_cast<int>(notes));
    for (const Part& p : s.parts) EXPECT_EQ(m.programs.at(p.channel), p.program);
  }
}

TEST(SynthConfig, Validation) {
  SynthConfig c;
  EXPECT_NO_THROW(c.validate());
  c.songs = 0;
  EXPECT_THROW(c.validate(), ConfigError);
  c = SynthConfig{};
  c.sample_rate = 100;
  EXPECT_THROW(c.validate(), ConfigError);
  c = SynthConfig{};
  c.valid_fraction = 0.7, c.test_fraction = 0.5;
  EXPECT_THROW(c.validate(), ConfigError);
}

}  // namespace
}  // namespace mudit::data::synth
