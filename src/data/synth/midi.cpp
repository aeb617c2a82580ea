// to_midi: a Standard MIDI File, format 1 — a conductor track (tempo, meter, key) and one track
// per part plus the melody.
#include <algorithm>
#include <cmath>
#include <tuple>

#include "mudit/data/synth.h"

namespace mudit::data::synth {
namespace {

constexpr int kTicksPerQuarter = 480;

struct Event {
  int64_t tick = 0;
  int order = 0;  // at one tick: meta and program first (0), note-offs (1), note-ons (2)
  std::string bytes;
};

void put_be(std::string& out, uint64_t value, int bytes) {
  for (int i = bytes - 1; i >= 0; --i) out.push_back(static_cast<char>((value >> (8 * i)) & 0xFF));
}

void put_varlen(std::string& out, uint64_t value) {
  char buf[10];
  int n = 0;
  buf[n++] = static_cast<char>(value & 0x7F);
  while ((value >>= 7) != 0) buf[n++] = static_cast<char>(0x80 | (value & 0x7F));
  while (n > 0) out.push_back(buf[--n]);
}

std::string meta(int type, const std::string& data) {
  std::string out = {'\xFF', static_cast<char>(type)};
  put_varlen(out, data.size());
  return out + data;
}

std::string track_chunk(std::vector<Event> events) {
  std::stable_sort(events.begin(), events.end(), [](const Event& a, const Event& b) {
    return std::tie(a.tick, a.order) < std::tie(b.tick, b.order);
  });
  std::string body;
  int64_t last = 0;
  for (const Event& e : events) {
    put_varlen(body, static_cast<uint64_t>(e.tick - last));
    body += e.bytes;
    last = e.tick;
  }
  put_varlen(body, 0);
  body += meta(0x2F, "");  // end of track
  std::string chunk = "MTrk";
  put_be(chunk, body.size(), 4);
  return chunk + body;
}

// Key signature: sharps (positive) or flats (negative) of the major key on `pc`.
int sharps_of_major(int pc) {
  static const int table[] = {0, -5, 2, -3, 4, -1, 6, 1, -4, 3, -2, 5};
  return table[pc];
}

std::vector<Event> note_events(const std::vector<Note>& notes, int channel, double bpm) {
  const auto tick = [&](double s) {
    return static_cast<int64_t>(std::llround(s * bpm / 60.0 * kTicksPerQuarter));
  };
  std::vector<Event> events;
  for (const Note& n : notes) {
    const char ch = static_cast<char>(channel & 0x0F);
    events.push_back({tick(n.start_s),
                      2,
                      {static_cast<char>(0x90 | ch), static_cast<char>(n.pitch & 0x7F),
                       static_cast<char>(std::clamp(n.velocity, 1, 127))}});
    events.push_back({std::max(tick(n.end_s), tick(n.start_s) + 1),
                      1,
                      {static_cast<char>(0x80 | ch), static_cast<char>(n.pitch & 0x7F), 0}});
  }
  return events;
}

}  // namespace

std::string to_midi(const SongLabels& song) {
  std::string out = "MThd";
  put_be(out, 6, 4);
  put_be(out, 1, 2);                      // format 1
  put_be(out, song.parts.size() + 2, 2);  // conductor + parts + melody
  put_be(out, kTicksPerQuarter, 2);

  // Conductor: name, tempo, time signature, key signature.
  std::vector<Event> conductor;
  conductor.push_back({0, 0, meta(0x03, song.id)});
  std::string tempo;
  put_be(tempo, static_cast<uint64_t>(std::llround(60e6 / song.bpm)), 3);
  conductor.push_back({0, 0, meta(0x51, tempo)});
  std::string ts;
  switch (song.meter) {
    case Meter::k4_4:
      ts = {4, 2, 24, 8};
      break;
    case Meter::k3_4:
      ts = {3, 2, 24, 8};
      break;
    case Meter::k6_8:
      ts = {6, 3, 36, 8};
      break;
  }
  conductor.push_back({0, 0, meta(0x58, ts)});
  const bool minor = song.mode == Mode::kMinor || song.mode == Mode::kYu;
  // Pentatonic modes take the signature of their gong (parent major) key.
  const int sf = sharps_of_major(parent_major_pc(song.tonic_pc, song.mode));
  conductor.push_back({0, 0, meta(0x59, {static_cast<char>(sf), static_cast<char>(minor)})});
  out += track_chunk(conductor);

  for (const Part& p : song.parts) {
    std::vector<Event> events = note_events(p.notes, p.channel, song.bpm);
    events.push_back({0, 0, meta(0x03, p.role + ": " + p.name)});
    events.push_back(
        {0,
         0,
         {static_cast<char>(0xC0 | (p.channel & 0x0F)), static_cast<char>(p.program & 0x7F)}});
    out += track_chunk(std::move(events));
  }
  // The sung melody, on the last channel, as "Voice Oohs".
  std::vector<Event> melody = note_events(song.melody, 15, song.bpm);
  melody.push_back({0, 0, meta(0x03, "vocal melody")});
  melody.push_back({0, 0, {static_cast<char>(0xCF), 53}});
  out += track_chunk(std::move(melody));
  return out;
}

}  // namespace mudit::data::synth
