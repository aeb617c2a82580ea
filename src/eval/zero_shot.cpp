#include "mudit/eval/zero_shot.h"

#include <ATen/ATen.h>

#include <nlohmann/json.hpp>

#include "mudit/core/error.h"

namespace mudit::eval {

const std::vector<ZeroShotAttribute>& synthetic_attributes() {
  // Professional prompts use the words of the professional descriptions (key, tempo terms,
  // voice); amateur ones a casual listener's.
  static const std::vector<ZeroShotAttribute> kAttributes = {
      {"mode",
       {"major", "minor"},
       {{"professional", {{"大调", "major key"}, {"小调", "minor key"}}},
        {"amateur", {{"听起来很开心", "sounds happy"}, {"听起来有点伤感", "sounds sad"}}}}},
      {"tempo",
       {"fast", "slow"},
       {{"professional",
         {{"快板，快速", "allegro, a fast tempo"}, {"慢板，慢速", "adagio, a slow tempo"}}},
        {"amateur", {{"节奏较快", "it feels fast"}, {"节奏较慢", "it feels slow"}}}}},
      {"voice",
       {"female", "male"},
       {{"professional", {{"女声演唱", "female vocal"}, {"男声演唱", "male vocal"}}},
        {"amateur", {{"女生唱的", "a woman sings it"}, {"男生唱的", "a man sings it"}}}}},
  };
  return kAttributes;
}

int64_t synthetic_label(const std::string& attribute, const std::string& meta_json) {
  const nlohmann::json meta = nlohmann::json::parse(meta_json, nullptr, /*allow_exceptions=*/false);
  if (!meta.is_object()) return -1;
  if (attribute == "mode") {
    const std::string mode = meta.value("mode", "");
    return mode == "major" ? 0 : mode == "minor" ? 1 : -1;
  }
  if (attribute == "tempo") {
    const auto bpm = meta.find("bpm");
    if (bpm == meta.end() || !bpm->is_number()) return -1;
    // The felt beat: the dotted quarter in 6/8 (mudit::data::synth::beat_bpm).
    const double beat = bpm->get<double>() / (meta.value("meter", "") == "6/8" ? 1.5 : 1.0);
    return beat >= 120 ? 0 : beat < 90 ? 1 : -1;
  }
  if (attribute == "voice") {
    const auto voice = meta.find("voice");
    if (voice == meta.end() || !voice->is_object() || voice->value("source", "") == "none")
      return -1;
    const std::string gender = voice->value("gender", "");
    return gender == "female" ? 0 : gender == "male" ? 1 : -1;
  }
  return -1;
}

ZeroShotScores zero_shot_scores(const at::Tensor& audio, const at::Tensor& classes,
                                const std::vector<int64_t>& labels) {
  MUDIT_CHECK(audio.dim() == 2 && classes.dim() == 2 && audio.size(1) == classes.size(1),
              ShapeError, "zero-shot: audio must be [N, D] and classes [C, D], got ", audio.sizes(),
              " and ", classes.sizes());
  MUDIT_CHECK(static_cast<int64_t>(labels.size()) == audio.size(0), ShapeError,
              "zero-shot: ", audio.size(0), " songs but ", labels.size(), " labels");
  const int64_t c = classes.size(0);
  const at::Tensor guess =
      at::matmul(audio.to(at::kCPU, at::kFloat), classes.to(at::kCPU, at::kFloat).t())
          .argmax(1)
          .contiguous();
  const int64_t* g = guess.data_ptr<int64_t>();
  ZeroShotScores s;
  s.class_counts.assign(static_cast<size_t>(c), 0);
  std::vector<int64_t> hits(static_cast<size_t>(c), 0);
  for (size_t i = 0; i < labels.size(); ++i) {
    const int64_t y = labels[i];
    if (y < 0) continue;
    MUDIT_CHECK(y < c, ShapeError, "zero-shot: label ", y, " of song ", i, " but ", c, " classes");
    ++s.songs;
    ++s.class_counts[static_cast<size_t>(y)];
    if (g[i] == y) ++hits[static_cast<size_t>(y)];
  }
  if (s.songs == 0) return s;
  int64_t present = 0, right = 0;
  for (int64_t k = 0; k < c; ++k) {
    const auto n = s.class_counts[static_cast<size_t>(k)];
    if (n == 0) continue;
    ++present;
    right += hits[static_cast<size_t>(k)];
    s.balanced_accuracy +=
        static_cast<double>(hits[static_cast<size_t>(k)]) / static_cast<double>(n);
  }
  s.balanced_accuracy /= static_cast<double>(present);
  s.accuracy = static_cast<double>(right) / static_cast<double>(s.songs);
  s.chance = 1.0 / static_cast<double>(present);
  return s;
}

}  // namespace mudit::eval
