// Names of the label values, the General MIDI tables, and labels.json in both directions.
#include <nlohmann/json.hpp>

#include <array>

#include "mudit/core/error.h"
#include "mudit/data/synth.h"

namespace mudit::data::synth {
namespace {

using nlohmann::json;
using nlohmann::ordered_json;

constexpr std::array<const char*, 128> kGmNames = {"Acoustic Grand Piano",
                                                   "Bright Acoustic Piano",
                                                   "Electric Grand Piano",
                                                   "Honky-tonk Piano",
                                                   "Electric Piano 1",
                                                   "Electric Piano 2",
                                                   "Harpsichord",
                                                   "Clavinet",
                                                   "Celesta",
                                                   "Glockenspiel",
                                                   "Music Box",
                                                   "Vibraphone",
                                                   "Marimba",
                                                   "Xylophone",
                                                   "Tubular Bells",
                                                   "Dulcimer",
                                                   "Drawbar Organ",
                                                   "Percussive Organ",
                                                   "Rock Organ",
                                                   "Church Organ",
                                                   "Reed Organ",
                                                   "Accordion",
                                                   "Harmonica",
                                                   "Tango Accordion",
                                                   "Acoustic Guitar (nylon)",
                                                   "Acoustic Guitar (steel)",
                                                   "Electric Guitar (jazz)",
                                                   "Electric Guitar (clean)",
                                                   "Electric Guitar (muted)",
                                                   "Overdriven Guitar",
                                                   "Distortion Guitar",
                                                   "Guitar Harmonics",
                                                   "Acoustic Bass",
                                                   "Electric Bass (finger)",
                                                   "Electric Bass (pick)",
                                                   "Fretless Bass",
                                                   "Slap Bass 1",
                                                   "Slap Bass 2",
                                                   "Synth Bass 1",
                                                   "Synth Bass 2",
                                                   "Violin",
                                                   "Viola",
                                                   "Cello",
                                                   "Contrabass",
                                                   "Tremolo Strings",
                                                   "Pizzicato Strings",
                                                   "Orchestral Harp",
                                                   "Timpani",
                                                   "String Ensemble 1",
                                                   "String Ensemble 2",
                                                   "Synth Strings 1",
                                                   "Synth Strings 2",
                                                   "Choir Aahs",
                                                   "Voice Oohs",
                                                   "Synth Voice",
                                                   "Orchestra Hit",
                                                   "Trumpet",
                                                   "Trombone",
                                                   "Tuba",
                                                   "Muted Trumpet",
                                                   "French Horn",
                                                   "Brass Section",
                                                   "Synth Brass 1",
                                                   "Synth Brass 2",
                                                   "Soprano Sax",
                                                   "Alto Sax",
                                                   "Tenor Sax",
                                                   "Baritone Sax",
                                                   "Oboe",
                                                   "English Horn",
                                                   "Bassoon",
                                                   "Clarinet",
                                                   "Piccolo",
                                                   "Flute",
                                                   "Recorder",
                                                   "Pan Flute",
                                                   "Blown Bottle",
                                                   "Shakuhachi",
                                                   "Whistle",
                                                   "Ocarina",
                                                   "Lead 1 (square)",
                                                   "Lead 2 (sawtooth)",
                                                   "Lead 3 (calliope)",
                                                   "Lead 4 (chiff)",
                                                   "Lead 5 (charang)",
                                                   "Lead 6 (voice)",
                                                   "Lead 7 (fifths)",
                                                   "Lead 8 (bass + lead)",
                                                   "Pad 1 (new age)",
                                                   "Pad 2 (warm)",
                                                   "Pad 3 (polysynth)",
                                                   "Pad 4 (choir)",
                                                   "Pad 5 (bowed)",
                                                   "Pad 6 (metallic)",
                                                   "Pad 7 (halo)",
                                                   "Pad 8 (sweep)",
                                                   "FX 1 (rain)",
                                                   "FX 2 (soundtrack)",
                                                   "FX 3 (crystal)",
                                                   "FX 4 (atmosphere)",
                                                   "FX 5 (brightness)",
                                                   "FX 6 (goblins)",
                                                   "FX 7 (echoes)",
                                                   "FX 8 (sci-fi)",
                                                   "Sitar",
                                                   "Banjo",
                                                   "Shamisen",
                                                   "Koto",
                                                   "Kalimba",
                                                   "Bagpipe",
                                                   "Fiddle",
                                                   "Shanai",
                                                   "Tinkle Bell",
                                                   "Agogo",
                                                   "Steel Drums",
                                                   "Woodblock",
                                                   "Taiko Drum",
                                                   "Melodic Tom",
                                                   "Synth Drum",
                                                   "Reverse Cymbal",
                                                   "Guitar Fret Noise",
                                                   "Breath Noise",
                                                   "Seashore",
                                                   "Bird Tweet",
                                                   "Telephone Ring",
                                                   "Helicopter",
                                                   "Applause",
                                                   "Gunshot"};

constexpr std::array<const char*, 16> kGmFamilies = {"piano",         "chromatic percussion",
                                                     "organ",         "guitar",
                                                     "bass",          "strings",
                                                     "ensemble",      "brass",
                                                     "reed",          "pipe",
                                                     "synth lead",    "synth pad",
                                                     "synth effects", "ethnic",
                                                     "percussive",    "sound effects"};

ordered_json notes_json(const std::vector<Note>& notes) {
  ordered_json a = ordered_json::array();
  for (const Note& n : notes) a.push_back({n.start_s, n.end_s, n.pitch, n.velocity});
  return a;
}

std::vector<Note> notes_from(const json& a) {
  MUDIT_CHECK(a.is_array(), DataError, "notes must be a list");
  std::vector<Note> out;
  out.reserve(a.size());
  for (const auto& n : a) {
    MUDIT_CHECK(n.is_array() && n.size() == 4, DataError,
                "a note must be [start_s, end_s, pitch, velocity]");
    out.push_back({n[0].get<double>(), n[1].get<double>(), n[2].get<int>(), n[3].get<int>()});
  }
  return out;
}

text::SectionTag tag_from(const std::string& s) {
  const auto tag = text::parse_section_tag("(" + s + ")");
  MUDIT_CHECK(tag.has_value(), DataError, "unknown section '", s, "'");
  return *tag;
}

template <class E, size_t N>
E enum_from(const std::string& s, const std::array<E, N>& values, const char* (*name)(E),
            const char* what) {
  for (E v : values) {
    if (s == name(v)) return v;
  }
  MUDIT_THROW(DataError, "unknown ", what, " '", s, "'");
}

}  // namespace

const char* mode_name(Mode mode) {
  switch (mode) {
    case Mode::kMajor:
      return "major";
    case Mode::kMinor:
      return "minor";
    case Mode::kGong:
      return "gong";
    case Mode::kShang:
      return "shang";
    case Mode::kJue:
      return "jue";
    case Mode::kZhi:
      return "zhi";
    case Mode::kYu:
      return "yu";
  }
  return "?";
}

const char* meter_name(Meter meter) {
  switch (meter) {
    case Meter::k4_4:
      return "4/4";
    case Meter::k3_4:
      return "3/4";
    case Meter::k6_8:
      return "6/8";
  }
  return "?";
}

const char* style_name(Style style) {
  switch (style) {
    case Style::kBallad:
      return "ballad";
    case Style::kRock:
      return "rock";
    case Style::kFolk:
      return "folk";
    case Style::kElectronicDance:
      return "edm";
    case Style::kJazz:
      return "jazz";
    case Style::kChineseTraditional:
      return "chinese";
  }
  return "?";
}

std::vector<int> mode_intervals(Mode mode) {
  // The Chinese modes are rotations of the major pentatonic 0 2 4 7 9 (gong).
  const std::vector<int> gong = {0, 2, 4, 7, 9};
  auto rotate = [&](int start) {
    std::vector<int> out;
    for (int i = 0; i < 5; ++i) out.push_back((gong[(start + i) % 5] - gong[start] + 12) % 12);
    return out;
  };
  switch (mode) {
    case Mode::kMajor:
      return {0, 2, 4, 5, 7, 9, 11};
    case Mode::kMinor:
      return {0, 2, 3, 5, 7, 8, 10};
    case Mode::kGong:
      return rotate(0);
    case Mode::kShang:
      return rotate(1);
    case Mode::kJue:
      return rotate(2);
    case Mode::kZhi:
      return rotate(3);
    case Mode::kYu:
      return rotate(4);
  }
  return {};
}

const char* pitch_class_name(int pitch_class) {
  static const char* names[] = {"C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B"};
  return names[((pitch_class % 12) + 12) % 12];
}

const char* gm_program_name(int program) {
  MUDIT_CHECK(program >= 0 && program < 128, DataError, "GM program out of range: ", program);
  return kGmNames[program];
}

const char* gm_family_name(int program) {
  MUDIT_CHECK(program >= 0 && program < 128, DataError, "GM program out of range: ", program);
  return kGmFamilies[program / 8];
}

int parent_major_pc(int tonic_pc, Mode mode) {
  int offset = 0;
  switch (mode) {
    case Mode::kMajor:
    case Mode::kGong:
      offset = 0;
      break;
    case Mode::kMinor:
    case Mode::kYu:
      offset = 3;
      break;
    case Mode::kShang:
      offset = -2;
      break;
    case Mode::kJue:
      offset = -4;
      break;
    case Mode::kZhi:
      offset = -7;
      break;
  }
  return ((tonic_pc + offset) % 12 + 12) % 12;
}

double quarters_per_bar(Meter meter) {
  return meter == Meter::k4_4 ? 4.0 : 3.0;
}

double beat_bpm(const SongLabels& song) {
  return song.meter == Meter::k6_8 ? song.bpm / 1.5 : song.bpm;
}

generation::MusicalPlan song_plan(const SongLabels& song) {
  generation::MusicalPlan p;
  p.duration = song.duration_s;
  p.meter = meter_name(song.meter);
  generation::set_beat_grid(p, beat_bpm(song), generation::beats_per_bar(p.meter));
  for (const BarChord& c : song.chords) {
    generation::PlanChord pc;
    pc.start = c.start_s;
    pc.root = c.root_pc;
    pc.symbol = c.symbol;
    for (int pitch : c.pitches) pc.tones[static_cast<size_t>(pitch % 12)] = true;
    pc.tones[static_cast<size_t>(c.root_pc)] = true;
    p.chords.push_back(pc);
  }
  p.chords_end = song.duration_s;
  p.has_key = true;
  switch (song.mode) {
    case Mode::kMajor:
    case Mode::kGong:
      p.key = {song.tonic_pc, false};
      break;
    case Mode::kMinor:
    case Mode::kYu:
      p.key = {song.tonic_pc, true};
      break;
    default:
      p.key = {parent_major_pc(song.tonic_pc, song.mode), false};
  }
  p.source = {"labels", "labels", "labels"};
  return p;
}

std::string labels_to_json(const SongLabels& song) {
  ordered_json j;
  j["id"] = song.id;
  j["seed"] = song.seed;
  j["sample_rate"] = song.sample_rate;
  j["duration_s"] = song.duration_s;
  j["key"] = std::string(pitch_class_name(song.tonic_pc)) + " " + mode_name(song.mode);
  j["tonic_pc"] = song.tonic_pc;
  j["mode"] = mode_name(song.mode);
  j["bpm"] = song.bpm;
  j["meter"] = meter_name(song.meter);
  j["style"] = style_name(song.style);
  j["soundfont"] = song.soundfont;
  j["loudness_lufs"] = song.loudness_lufs;
  j["peak_dbfs"] = song.peak_dbfs;
  j["voice"] = {{"gender", song.voice.gender},
                {"register", song.voice.register_},
                {"low_pitch", song.voice.low_pitch},
                {"high_pitch", song.voice.high_pitch},
                {"source", song.voice.source}};
  ordered_json sections = ordered_json::array();
  for (const auto& s : song.sections) {
    sections.push_back({{"tag", s.tag.str()},
                        {"first_bar", s.first_bar},
                        {"bars", s.bars},
                        {"start_s", s.start_s},
                        {"end_s", s.end_s}});
  }
  j["sections"] = sections;
  ordered_json chords = ordered_json::array();
  for (const auto& c : song.chords) {
    chords.push_back({{"bar", c.bar},
                      {"start_s", c.start_s},
                      {"root_pc", c.root_pc},
                      {"quality", c.quality},
                      {"symbol", c.symbol},
                      {"roman", c.roman},
                      {"pitches", c.pitches}});
  }
  j["chords"] = chords;
  ordered_json parts = ordered_json::array();
  for (const auto& p : song.parts) {
    ordered_json o = {
        {"role", p.role},     {"program", p.program}, {"channel", p.channel},      {"name", p.name},
        {"family", p.family}, {"gain_db", p.gain_db}, {"stands_for", p.stands_for}};
    o["notes"] = notes_json(p.notes);
    parts.push_back(o);
  }
  j["parts"] = parts;
  j["melody"] = notes_json(song.melody);
  ordered_json phrases = ordered_json::array();
  for (const auto& p : song.phrases) {
    phrases.push_back({{"section_index", p.section_index},
                       {"first_note", p.first_note},
                       {"note_count", p.note_count},
                       {"start_s", p.start_s},
                       {"end_s", p.end_s}});
  }
  j["phrases"] = phrases;
  ordered_json lyrics = ordered_json::array();
  for (const auto& l : song.lyrics) {
    ordered_json syl = ordered_json::array();
    for (const auto& s : l.syllables) {
      syl.push_back({{"text", s.text},
                     {"sound", s.sound},
                     {"start_s", s.start_s},
                     {"end_s", s.end_s},
                     {"pitch", s.pitch}});
    }
    lyrics.push_back({{"text", l.text},
                      {"lang", l.lang},
                      {"section", l.section.str()},
                      {"start_s", l.start_s},
                      {"end_s", l.end_s},
                      {"rhyme", l.rhyme},
                      {"syllables", syl}});
  }
  j["lyrics"] = lyrics;
  return j.dump(1);
}

SongLabels labels_from_json(const std::string& text) {
  json j;
  try {
    j = json::parse(text);
  } catch (const json::exception& e) {
    MUDIT_THROW(DataError, "labels: not JSON: ", e.what());
  }
  MUDIT_CHECK(j.is_object(), DataError, "labels: not a JSON object");
  SongLabels s;
  try {
    s.id = j.at("id").get<std::string>();
    s.seed = j.at("seed").get<uint64_t>();
    s.sample_rate = j.at("sample_rate").get<int>();
    s.duration_s = j.at("duration_s").get<double>();
    s.tonic_pc = j.at("tonic_pc").get<int>();
    s.mode = enum_from(j.at("mode").get<std::string>(),
                       std::array<Mode, 7>{Mode::kMajor, Mode::kMinor, Mode::kGong, Mode::kShang,
                                           Mode::kJue, Mode::kZhi, Mode::kYu},
                       mode_name, "mode");
    s.bpm = j.at("bpm").get<double>();
    s.meter =
        enum_from(j.at("meter").get<std::string>(),
                  std::array<Meter, 3>{Meter::k4_4, Meter::k3_4, Meter::k6_8}, meter_name, "meter");
    s.style = enum_from(
        j.at("style").get<std::string>(),
        std::array<Style, 6>{Style::kBallad, Style::kRock, Style::kFolk, Style::kElectronicDance,
                             Style::kJazz, Style::kChineseTraditional},
        style_name, "style");
    s.soundfont = j.at("soundfont").get<std::string>();
    s.loudness_lufs = j.at("loudness_lufs").get<double>();
    s.peak_dbfs = j.at("peak_dbfs").get<double>();
    const json& v = j.at("voice");
    s.voice.gender = v.at("gender").get<std::string>();
    s.voice.register_ = v.at("register").get<std::string>();
    s.voice.low_pitch = v.at("low_pitch").get<int>();
    s.voice.high_pitch = v.at("high_pitch").get<int>();
    s.voice.source = v.at("source").get<std::string>();
    for (const auto& o : j.at("sections")) {
      s.sections.push_back({tag_from(o.at("tag").get<std::string>()), o.at("first_bar").get<int>(),
                            o.at("bars").get<int>(), o.at("start_s").get<double>(),
                            o.at("end_s").get<double>()});
    }
    for (const auto& o : j.at("chords")) {
      s.chords.push_back({o.at("bar").get<int>(), o.at("start_s").get<double>(),
                          o.at("root_pc").get<int>(), o.at("quality").get<std::string>(),
                          o.at("symbol").get<std::string>(), o.at("roman").get<std::string>(),
                          o.at("pitches").get<std::vector<int>>()});
    }
    for (const auto& o : j.at("parts")) {
      Part p;
      p.role = o.at("role").get<std::string>();
      p.program = o.at("program").get<int>();
      p.channel = o.at("channel").get<int>();
      p.name = o.at("name").get<std::string>();
      p.family = o.at("family").get<std::string>();
      p.gain_db = o.at("gain_db").get<float>();
      p.stands_for = o.value("stands_for", "");
      p.notes = notes_from(o.at("notes"));
      s.parts.push_back(std::move(p));
    }
    s.melody = notes_from(j.at("melody"));
    for (const auto& o : j.at("phrases")) {
      s.phrases.push_back({o.at("section_index").get<int>(), o.at("first_note").get<int>(),
                           o.at("note_count").get<int>(), o.at("start_s").get<double>(),
                           o.at("end_s").get<double>()});
    }
    for (const auto& o : j.at("lyrics")) {
      LyricLine l;
      l.text = o.at("text").get<std::string>();
      l.lang = o.at("lang").get<std::string>();
      l.section = tag_from(o.at("section").get<std::string>());
      l.start_s = o.at("start_s").get<double>();
      l.end_s = o.at("end_s").get<double>();
      l.rhyme = o.at("rhyme").get<std::string>();
      for (const auto& y : o.at("syllables")) {
        l.syllables.push_back({y.at("text").get<std::string>(), y.at("sound").get<std::string>(),
                               y.at("start_s").get<double>(), y.at("end_s").get<double>(),
                               y.at("pitch").get<int>()});
      }
      s.lyrics.push_back(std::move(l));
    }
  } catch (const json::exception& e) {
    MUDIT_THROW(DataError, "labels: ", e.what());
  }
  return s;
}

}  // namespace mudit::data::synth
