// The plan head: tempo, meter and key read back from embeddings that carry them, no key where
// the embedding does not say, its model file, the precedence request > description > head in
// request_plan, and the per-register scores of descriptions.
#include <gtest/gtest.h>

#include <ATen/ATen.h>

#include <cmath>
#include <string>
#include <vector>

#include "mudit/core/checkpoint.h"
#include "mudit/core/error.h"
#include "mudit/generation/plan_head.h"
#include "mudit/generation/plan_text.h"
#include "mudit/pipeline/generate.h"
#include "mudit/pipeline/plan_sources.h"
#include "unit/test_util.h"

namespace mudit::generation {
namespace {

const std::vector<std::string> kMeters = {"3/4", "4/4", "6/8"};

// N songs' facts and 40-d embeddings that hold them linearly (log2 tempo in column 0, the key
// one-hot in 1..24, the meter one-hot in 25..27) under noise; `with_key` false leaves the key
// out of the embedding.
std::pair<at::Tensor, std::vector<PlanFacts>> toy_set(int64_t n, uint64_t seed, bool with_key) {
  at::manual_seed(seed);
  const at::Tensor bpm = at::randint(60, 181, {n}, at::kLong);
  const at::Tensor key = at::randint(0, 24, {n}, at::kLong);
  const at::Tensor meter = at::randint(0, 3, {n}, at::kLong);
  at::Tensor x = 0.05 * at::randn({n, 40});
  x.select(1, 0).mul_(0.1);  // the tempo column's noise: 0.005 octaves (0.35 %)
  std::vector<PlanFacts> facts(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    PlanFacts& f = facts[static_cast<size_t>(i)];
    f.bpm = static_cast<double>(bpm[i].item<int64_t>());
    f.key.tonic = static_cast<int>(key[i].item<int64_t>() % 12);
    f.key.minor = key[i].item<int64_t>() >= 12;
    f.has_key = true;
    f.meter = kMeters[static_cast<size_t>(meter[i].item<int64_t>())];
    x[i][0] += std::log2(f.bpm / 120.0);
    if (with_key) x[i][1 + key[i].item<int64_t>()] += 1.0;
    x[i][25 + meter[i].item<int64_t>()] += 1.0;
  }
  return {x, facts};
}

TEST(PlanHead, ReadsBackTheFactsItWasFittedOn) {
  const auto [x, facts] = toy_set(1200, 1, true);
  PlanHead head = fit_plan_head(x, facts);
  EXPECT_EQ(head->config().meters, kMeters);
  const auto [xv, truth] = toy_set(300, 2, true);  // held out
  const std::vector<PlanFacts> got = head->read(xv);
  ASSERT_EQ(got.size(), truth.size());
  int tempo = 0, key = 0, meter = 0, given = 0;
  for (size_t i = 0; i < got.size(); ++i) {
    tempo += std::abs(got[i].bpm - truth[i].bpm) <= 0.03 * truth[i].bpm;
    key += got[i].has_key && got[i].key.tonic == truth[i].key.tonic &&
           got[i].key.minor == truth[i].key.minor;
    given += got[i].has_key;
    meter += got[i].meter == truth[i].meter;
  }
  EXPECT_GE(tempo, 290);  // of 300
  EXPECT_GE(key, 290);
  EXPECT_GE(given, 290);
  EXPECT_GE(meter, 295);
}

// An embedding that says nothing of the key gets no key (a guessed tonic would be worse than
// none), while the tempo and meter still come.
TEST(PlanHead, GivesNoKeyItCannotRead) {
  const auto [x, facts] = toy_set(1200, 3, false);
  PlanHead head = fit_plan_head(x, facts);
  const auto [xv, truth] = toy_set(200, 4, false);
  int given = 0, tempo = 0;
  const std::vector<PlanFacts> got = head->read(xv);
  for (size_t i = 0; i < got.size(); ++i) {
    given += got[i].has_key;
    EXPECT_LT(got[i].key_probability, 0.5);
    tempo += std::abs(got[i].bpm - truth[i].bpm) <= 0.03 * truth[i].bpm;
  }
  EXPECT_EQ(given, 0);
  EXPECT_GE(tempo, 190);
}

TEST(PlanHead, ModelFileRoundTripsAndRefusesOthers) {
  test::TempDir dir;
  const auto [x, facts] = toy_set(400, 5, true);
  PlanHead head = fit_plan_head(x, facts, PlanHeadFitOptions{1e-3, 200, 0.7});
  save_plan_head(dir / "head.safetensors", head);
  PlanHead back = load_plan_head(dir / "head.safetensors");
  EXPECT_EQ(back->config().meters, head->config().meters);
  EXPECT_DOUBLE_EQ(back->config().key_confidence, 0.7);
  EXPECT_TRUE(at::allclose(back->forward(x.slice(0, 0, 8)), head->forward(x.slice(0, 0, 8))));

  torch::nn::Linear other(4, 4);
  ModelMeta meta;
  meta.arch = "probe";
  save_model(dir / "other.safetensors", *other, meta);
  EXPECT_THROW(load_plan_head(dir / "other.safetensors"), CheckpointError);
  std::vector<PlanFacts> bad = facts;
  bad[3].meter.clear();
  EXPECT_THROW(fit_plan_head(x, bad), DataError);
  EXPECT_THROW(fit_plan_head(x.slice(0, 0, 10), facts), ShapeError);
}

// Per fact: the request's, then what the description states, then the head's.
TEST(PlanHead, RequestThenDescriptionThenHead) {
  PlanFacts guess;
  guess.bpm = 150;
  guess.meter = "3/4";
  guess.has_key = true;
  guess.key = parse_key("E minor");

  pipeline::SongRequest r;
  r.description = "wistful, for late nights alone";
  MusicalPlan p = pipeline::request_plan(r, 10, 0, &guess);
  EXPECT_DOUBLE_EQ(p.bpm, 150);
  EXPECT_EQ(p.meter, "3/4");
  EXPECT_EQ(p.beats_per_bar, 3);
  EXPECT_EQ(p.key.name(), "E minor");
  EXPECT_EQ(p.source[0], "head");
  EXPECT_EQ(p.source[2], "head");

  r.description = "Folk in F minor at 78 BPM";  // states tempo and key, not the meter
  p = pipeline::request_plan(r, 10, 0, &guess);
  EXPECT_DOUBLE_EQ(p.bpm, 78);
  EXPECT_EQ(p.meter, "3/4");
  EXPECT_EQ(p.key.name(), "F minor");
  EXPECT_EQ(p.source[0], "description");
  EXPECT_EQ(p.source[2], "description");

  r.bpm = 96;
  r.key = "Bb major";
  r.meter = "4/4";
  p = pipeline::request_plan(r, 10, 0, &guess);
  EXPECT_DOUBLE_EQ(p.bpm, 96);
  EXPECT_EQ(p.beats_per_bar, 4);
  EXPECT_EQ(p.key.name(), "Bb major");
  EXPECT_EQ(p.source[0], "request");

  guess.has_key = false;  // not confident: no key at all
  r = {};
  r.description = "wistful";
  p = pipeline::request_plan(r, 10, 0, &guess);
  EXPECT_FALSE(p.has_key);
  EXPECT_TRUE(p.source[2].empty());
  EXPECT_FALSE(pipeline::request_plan(r, 10).has_beats());  // no head: nothing
}

// An edit's reference (its analysed plan) comes after the request's fields and before the
// description and the head: its beats continue at its tempo over the whole song.
TEST(PlanHead, AnEditKeepsItsReferencesBeatsChordsAndKey) {
  MusicalPlan ref;
  ref.duration = 6;
  ref.meter = "3/4";
  set_beat_grid(ref, 90, 3, 0.25);
  ref.first_downbeat = 1;
  set_chords_per_bar(ref, {"Am", "F", "C"});
  ref.key = parse_key("A minor");
  ref.has_key = true;
  PlanFacts guess;
  guess.bpm = 150;
  guess.meter = "4/4";
  guess.has_key = true;
  guess.key = parse_key("E major");

  pipeline::SongRequest r;
  r.description = "Folk in F major at 78 BPM";
  MusicalPlan p = pipeline::request_plan(r, 12, 0, &guess, &ref);
  EXPECT_DOUBLE_EQ(p.bpm, 90);
  EXPECT_EQ(p.beats_per_bar, 3);
  EXPECT_EQ(p.first_downbeat, 1);
  ASSERT_EQ(p.beats.size(), 18u);  // 0.25 + k * 2/3 s below 12 s
  EXPECT_NEAR(p.beats.back(), 0.25 + 17 * 60.0 / 90, 1e-9);
  EXPECT_EQ(p.chords.size(), ref.chords.size());
  EXPECT_DOUBLE_EQ(p.chords_end, ref.chords_end);  // chords where the reference had them
  EXPECT_EQ(p.key.name(), "A minor");
  EXPECT_EQ(p.source[0], "reference");
  EXPECT_EQ(p.source[1], "reference");
  EXPECT_EQ(p.source[2], "reference");

  r.chords = {"C", "G"};  // the request's chords, on the reference's bars
  p = pipeline::request_plan(r, 12, 0, &guess, &ref);
  EXPECT_DOUBLE_EQ(p.bpm, 90);
  EXPECT_EQ(p.source[1], "request");
  ASSERT_FALSE(p.chords.empty());
  EXPECT_EQ(p.chords[0].symbol, "C");
  EXPECT_DOUBLE_EQ(p.chords_end, 12);

  r.chords.clear();
  r.bpm = 120;  // the request's fields still come first
  r.key = "C major";
  p = pipeline::request_plan(r, 12, 0, &guess, &ref);
  EXPECT_DOUBLE_EQ(p.bpm, 120);
  EXPECT_EQ(p.key.name(), "C major");
  EXPECT_EQ(p.source[0], "request");
  // The reference's chords belong to its bars, not to a new tempo: the key's progression instead.
  EXPECT_EQ(p.source[1], "progression");
  ASSERT_FALSE(p.chords.empty());
  EXPECT_EQ(p.chords[0].symbol, "C");
}

// A key without chords gets its commonest progression, one chord per bar; a request that wants
// no harmony says "N"; no key, no progression.
TEST(PlanHead, AKeyWithoutChordsGetsItsProgression) {
  EXPECT_EQ(key_progression(parse_key("C major")), (std::vector<std::string>{"C", "G", "Am", "F"}));
  EXPECT_EQ(key_progression(parse_key("A minor")), (std::vector<std::string>{"Am", "F", "C", "G"}));
  EXPECT_EQ(key_progression(parse_key("降B大调")),
            (std::vector<std::string>{"Bb", "F", "Gm", "Eb"}));
  EXPECT_EQ(key_progression(parse_key("F# minor")),
            (std::vector<std::string>{"F#m", "D", "A", "E"}));
  EXPECT_EQ(key_progression(parse_key("E major")),
            (std::vector<std::string>{"E", "B", "C#m", "A"}));
  EXPECT_EQ(key_progression(parse_key("Eb minor")),
            (std::vector<std::string>{"Ebm", "B", "Gb", "Db"}));  // Cb is written B
  for (int tonic = 0; tonic < 12; ++tonic) {  // the right tones whatever the spelling
    for (const bool minor : {false, true}) {
      const std::vector<std::string> p = key_progression({tonic, minor});
      ASSERT_EQ(p.size(), 4u);
      const PlanChord home = parse_chord(p[0]);
      EXPECT_EQ(home.root, tonic);
      EXPECT_EQ(home.tones[static_cast<size_t>((tonic + (minor ? 3 : 4)) % 12)], true);
      EXPECT_EQ(parse_chord(p[1]).root, (tonic + (minor ? 8 : 7)) % 12);
    }
  }

  pipeline::SongRequest r;
  r.description = "民谣，F小调，78 BPM";
  MusicalPlan p = pipeline::request_plan(r, 13, 0);
  EXPECT_EQ(p.source[1], "progression");
  ASSERT_EQ(p.chords.size(), 5u);  // 13 s at 78 BPM in 4/4: bars at 0, 3.08, 6.15, 9.23, 12.31 s
  const std::vector<std::string> want = {"Fm", "Db", "Ab", "Eb", "Fm"};
  for (size_t i = 0; i < p.chords.size(); ++i) {
    EXPECT_EQ(p.chords[i].symbol, want[i]) << i;
    EXPECT_NEAR(p.chords[i].start, static_cast<double>(i) * 4 * 60 / 78, 1e-9) << i;
  }
  EXPECT_DOUBLE_EQ(p.chords_end, 13);

  r.chords = {"N"};
  p = pipeline::request_plan(r, 13, 0);
  EXPECT_EQ(p.source[1], "request");
  ASSERT_FALSE(p.chords.empty());
  EXPECT_EQ(p.chords[0].root, -1);

  r = {};
  r.description = "民谣，78 BPM";  // a tempo, no key
  p = pipeline::request_plan(r, 13, 0);
  EXPECT_TRUE(p.has_beats());
  EXPECT_FALSE(p.has_chords());
  EXPECT_TRUE(p.source[1].empty());
  r.description = "F小调";  // a key, no tempo: no bars to put chords on
  p = pipeline::request_plan(r, 13, 0);
  EXPECT_TRUE(p.has_key);
  EXPECT_FALSE(p.has_chords());
}

TEST(PlanHead, DescriptionScoresKnownValues) {
  test::TempDir dir;
  const std::string meta = R"("meta": {"bpm": 132, "meter": "6/8", "key": "F# minor"})";
  const auto manifest =
      dir.write("m.jsonl",
                R"({"id": "a", "audio": "a.wav", "descriptions": {"amateur": [{"text": "sad"}], )"
                R"("professional": [{"text": "rock in F# minor, 132 BPM, 6/8"}]}, )" +
                    meta + "}\n" +
                    R"({"id": "b", "audio": "b.wav", "descriptions": {"amateur": [{"text": "x"}]}})"
                    "\n");
  const pipeline::DescribedSongs s = pipeline::read_described_songs(manifest);
  EXPECT_EQ(s.skipped, 1);  // b has no meta
  ASSERT_EQ(s.texts.size(), 2u);
  EXPECT_EQ(s.registers[0], "amateur");
  EXPECT_DOUBLE_EQ(s.facts[1].bpm, 132);

  // The text alone: the professional line states everything (felt tempo 88 in 6/8), the
  // amateur one nothing.
  auto scores = pipeline::score_description_plans(s);
  EXPECT_DOUBLE_EQ(scores["professional"].tempo, 1);
  EXPECT_DOUBLE_EQ(scores["professional"].key_weighted, 1);
  EXPECT_DOUBLE_EQ(scores["professional"].meter, 1);
  EXPECT_EQ(scores["professional"].class_items, 1);  // 88 BPM felt: slow
  EXPECT_DOUBLE_EQ(scores["professional"].tempo_class, 1);
  EXPECT_DOUBLE_EQ(scores["amateur"].tempo, 0);
  EXPECT_DOUBLE_EQ(scores["amateur"].key_given, 0);
  EXPECT_DOUBLE_EQ(scores["all"].tempo, 0.5);

  // With a head that guesses 6/8 at 138 quarter BPM (felt 92: within 8 % of 88) and C# minor
  // (a fifth above F# minor: weighted 0.5).
  PlanFacts g;
  g.bpm = 138;
  g.meter = "6/8";
  g.has_key = true;
  g.key = parse_key("C# minor");
  scores = pipeline::score_description_plans(s, {g, g});
  EXPECT_DOUBLE_EQ(scores["amateur"].tempo, 1);
  EXPECT_DOUBLE_EQ(scores["amateur"].tempo_stated, 0);
  EXPECT_DOUBLE_EQ(scores["amateur"].key_weighted, 0.5);
  EXPECT_DOUBLE_EQ(scores["amateur"].mode, 1);
  EXPECT_DOUBLE_EQ(scores["professional"].key_weighted, 1);  // the text's key comes first
  EXPECT_THROW(pipeline::score_description_plans(s, {g}), ShapeError);
}

}  // namespace
}  // namespace mudit::generation
