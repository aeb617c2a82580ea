// The plan file: MusicalPlan <-> JSON.
#include "mudit/generation/plan_file.h"

#include <cmath>
#include <nlohmann/json.hpp>

#include "mudit/core/error.h"

namespace mudit::generation {

using json = nlohmann::json;

namespace {
constexpr int kPlanFormat = 1;

// A chord's symbol as the file keeps it: the spelling it came with (labels', a request's) when
// that reads back to the same chord, else the canonical one, so every plan file reads back.
std::string readable_symbol(const PlanChord& c) {
  if (!c.symbol.empty()) {
    try {
      const PlanChord back = parse_chord(c.symbol);
      if (back.root == c.root && back.tones == c.tones) return c.symbol;
    } catch (const DataError&) {
    }
  }
  return chord_symbol(c);
}
}  // namespace

std::string plan_to_json(const MusicalPlan& plan, double latent_rate) {
  nlohmann::ordered_json j;
  j["format"] = kPlanFormat;
  j["duration"] = plan.duration;
  if (latent_rate > 0) j["latent_rate"] = latent_rate;
  if (plan.has_beats()) {
    j["bpm"] = plan.bpm;
    if (!plan.meter.empty()) j["meter"] = plan.meter;
    j["beats_per_bar"] = plan.beats_per_bar;
    j["first_downbeat"] = plan.first_downbeat;
    j["beats"] = plan.beats;
  }
  if (plan.has_chords()) {
    nlohmann::ordered_json chords = nlohmann::ordered_json::array();
    for (const PlanChord& c : plan.chords)
      chords.push_back({{"start", c.start}, {"symbol", readable_symbol(c)}});
    j["chords"] = chords;
    j["chords_end"] = plan.chords_end;
  }
  if (plan.has_key) j["key"] = plan.key.name();
  nlohmann::ordered_json sources = nlohmann::ordered_json::object();
  for (int g = 0; g < kPlanGroups; ++g)
    if (!plan.source[static_cast<size_t>(g)].empty())
      sources[plan_group_name(static_cast<PlanGroup>(g))] = plan.source[static_cast<size_t>(g)];
  j["sources"] = sources;
  return j.dump(1);
}

MusicalPlan plan_from_json(const std::string& text, double latent_rate) {
  const json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  MUDIT_CHECK(j.is_object(), DataError, "plan: not a JSON object");
  auto number = [&](const char* key, double lo, double hi) {
    MUDIT_CHECK(j.at(key).is_number(), DataError, "plan: '", key, "' must be a number");
    const double v = j.at(key).get<double>();
    MUDIT_CHECK(std::isfinite(v) && v >= lo && v <= hi, DataError, "plan: '", key, "' must be in [",
                lo, ", ", hi, "], got ", v);
    return v;
  };
  static const char* kKeys[] = {
      "format",         "duration", "latent_rate", "bpm",        "meter", "beats_per_bar",
      "first_downbeat", "beats",    "chords",      "chords_end", "key",   "sources"};
  for (const auto& [k, v] : j.items()) {
    bool known = false;
    for (const char* kk : kKeys) known = known || k == kk;
    MUDIT_CHECK(known, DataError, "plan: unknown field '", k, "'");
  }
  MUDIT_CHECK(j.contains("format") && j.contains("duration"), DataError,
              "plan: needs 'format' and 'duration'");
  MUDIT_CHECK(number("format", 1, 1e9) <= kPlanFormat, DataError, "plan: format ",
              j.at("format").dump(), " is newer than this mudit reads (", kPlanFormat,
              "); update mudit");
  MusicalPlan p;
  p.duration = number("duration", 0, 86400);
  if (j.contains("latent_rate") && latent_rate > 0) {
    const double r = number("latent_rate", 1e-6, 1e6);
    MUDIT_CHECK(std::abs(r - latent_rate) < 1e-6, DataError, "plan: 'latent_rate' ", r,
                " frames/s is not this codec's ", latent_rate,
                " (the plan was made for another codec; make it again with this bundle)");
  }
  if (j.contains("beats")) {
    MUDIT_CHECK(j.at("beats").is_array(), DataError, "plan: 'beats' must be an array of seconds");
    for (const json& b : j.at("beats")) {
      MUDIT_CHECK(b.is_number(), DataError, "plan: 'beats' must be an array of seconds");
      const double t = b.get<double>();
      MUDIT_CHECK(std::isfinite(t) && t >= 0 && (p.beats.empty() || t > p.beats.back()), DataError,
                  "plan: 'beats' must be ascending times >= 0, got ", t);
      p.beats.push_back(t);
    }
    MUDIT_CHECK(j.contains("bpm"), DataError, "plan: 'beats' need 'bpm'");
    p.bpm = number("bpm", 30, 300);
    if (j.contains("beats_per_bar"))
      p.beats_per_bar = static_cast<int>(number("beats_per_bar", 1, 32));
    if (j.contains("first_downbeat"))
      p.first_downbeat = static_cast<int>(number("first_downbeat", 0, 1e9));
    if (j.contains("meter")) {
      MUDIT_CHECK(j.at("meter").is_string(), DataError, "plan: 'meter' must be a string");
      p.meter = j.at("meter").get<std::string>();
      const int bpb = with_context("plan: 'meter'", [&] { return beats_per_bar(p.meter); });
      MUDIT_CHECK(!j.contains("beats_per_bar") || bpb == p.beats_per_bar, DataError,
                  "plan: 'meter' ", p.meter, " has ", bpb, " beats per bar, 'beats_per_bar' says ",
                  p.beats_per_bar);
      p.beats_per_bar = bpb;
    }
  }
  if (j.contains("chords")) {
    MUDIT_CHECK(j.at("chords").is_array(), DataError, "plan: 'chords' must be an array");
    for (const json& c : j.at("chords")) {
      MUDIT_CHECK(c.is_object() && c.contains("start") && c.contains("symbol") &&
                      c.at("start").is_number() && c.at("symbol").is_string(),
                  DataError, "plan: each of 'chords' needs 'start' (seconds) and 'symbol'");
      PlanChord pc = with_context("plan: 'chords'",
                                  [&] { return parse_chord(c.at("symbol").get<std::string>()); });
      pc.start = c.at("start").get<double>();
      MUDIT_CHECK(std::isfinite(pc.start) && pc.start >= 0 &&
                      (p.chords.empty() || pc.start > p.chords.back().start),
                  DataError, "plan: chord starts must be ascending times >= 0");
      p.chords.push_back(pc);
    }
    p.chords_end = j.contains("chords_end") ? number("chords_end", 0, 86400) : p.duration;
  }
  if (j.contains("key")) {
    MUDIT_CHECK(j.at("key").is_string(), DataError, "plan: 'key' must be a string");
    p.key = with_context("plan: 'key'", [&] { return parse_key(j.at("key").get<std::string>()); });
    p.has_key = true;
  }
  if (j.contains("sources")) {
    MUDIT_CHECK(j.at("sources").is_object(), DataError, "plan: 'sources' must be an object");
    for (int g = 0; g < kPlanGroups; ++g) {
      const char* name = plan_group_name(static_cast<PlanGroup>(g));
      if (j.at("sources").contains(name) && j.at("sources").at(name).is_string())
        p.source[static_cast<size_t>(g)] = j.at("sources").at(name).get<std::string>();
    }
  }
  return p;
}

}  // namespace mudit::generation
