// Evaluation metrics with known values: difflib's SequenceMatcher against CPython's own
// ratios and blocks, the lyric score, FAD against the closed form, FAD∞, ARA, control hits and
// the report's HTML.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "mudit/core/error.h"
#include "mudit/core/fs.h"
#include "mudit/eval/alignment.h"
#include "mudit/eval/control.h"
#include "mudit/eval/fad.h"
#include "mudit/eval/instruments.h"
#include "mudit/eval/lyric_score.h"
#include "mudit/eval/report.h"
#include "mudit/eval/sequence_matcher.h"
#include "mudit/text/g2p.h"
#include "unit/test_util.h"

namespace mudit::eval {
namespace {

namespace fs = std::filesystem;
const fs::path kShared = fs::path(MUDIT_SHARED_DIR);

// --- SequenceMatcher ---------------------------------------------------------------------------

TEST(SequenceMatcher, MatchesCPythonOnEveryFixtureCase) {
  const fs::path file = kShared / "fixtures" / "difflib" / "sequence_matcher.json";
  if (!fs::exists(file)) GTEST_SKIP() << "no " << file;
  const auto j = nlohmann::json::parse(read_file(file));
  int checked = 0, autojunk = 0;
  for (const auto& c : j.at("cases")) {
    const std::string a = c.at("a"), b = c.at("b");
    const SequenceMatcher m = SequenceMatcher::of_utf8(a, b);
    EXPECT_NEAR(m.ratio(), c.at("ratio").get<double>(), 1e-12) << "case " << checked;
    std::vector<MatchingBlock> want;
    for (const auto& blk : c.at("matching_blocks")) want.push_back({blk[0], blk[1], blk[2]});
    EXPECT_EQ(m.matching_blocks(), want) << "case " << checked << ": a=" << a << " b=" << b;
    autojunk += utf8_to_u32(b).size() >= 200;
    ++checked;
  }
  EXPECT_EQ(checked, 213);
  EXPECT_GT(autojunk, 10);  // the popular-element heuristic is exercised
}

TEST(SequenceMatcher, KnownSmallCases) {
  // difflib's documentation example: ratio 0.75 for "abcd" / "bcde".
  EXPECT_DOUBLE_EQ(SequenceMatcher::of_utf8("abcd", "bcde").ratio(), 0.75);
  EXPECT_DOUBLE_EQ(SequenceMatcher::of_utf8("", "").ratio(), 1.0);
  EXPECT_DOUBLE_EQ(SequenceMatcher::of_utf8("abc", "").ratio(), 0.0);
  // Code points, not bytes: one Han character against another is no match.
  EXPECT_DOUBLE_EQ(SequenceMatcher::of_utf8("你", "好").ratio(), 0.0);
  EXPECT_THROW(SequenceMatcher::of_utf8("\xff", "a"), DataError);
}

// --- lyric score -------------------------------------------------------------------------------

const char* kTemplate =
    "(verse1)\ncccccR\ncccccR\ncccccc\ncccccR\n(chorus1)\nccccR\nccccR\nccccccR\n";

TEST(LyricScore, ATemplateAgainstItselfGetsFullPoints) {
  const LyricScore s = score_lyric_layout(kTemplate, kTemplate);
  EXPECT_DOUBLE_EQ(s.p1, 10.0);
  EXPECT_DOUBLE_EQ(s.p2_1, 32.5);
  EXPECT_DOUBLE_EQ(s.p2_2, 17.5);
  EXPECT_DOUBLE_EQ(s.p3, 20.0);
  EXPECT_DOUBLE_EQ(s.p4, 20.0);
  // 6 of 7 lines rhyme (0.857, outside 60-80 %), every rhyme where the template has one: 0.7.
  EXPECT_DOUBLE_EQ(s.extra, 7.0);
  EXPECT_DOUBLE_EQ(s.total, 107.0);
  EXPECT_DOUBLE_EQ(s.structure_accuracy, 1.0);
  EXPECT_EQ(s.template_lines, 7);
  EXPECT_EQ(s.lyric_rhymes, 6);
}

TEST(LyricScore, KnownValuesOfAPerturbedLayout) {
  // One chorus line dropped and a verse line one character short, no rhyme on it.
  const char* lyric = "(verse1)\ncccccR\ncccccR\nccccc\ncccccR\n(chorus1)\nccccR\nccccccR\n";
  const LyricScore s = score_lyric_layout(lyric, kTemplate);
  EXPECT_DOUBLE_EQ(s.p2_1, 32.5);  // the same sections
  // Lines pair up: 4 + 2 of 7 + 6 -> 2 * 6 / 13.
  EXPECT_NEAR(s.p2_2, 17.5 * 12.0 / 13.0, 1e-12);
  // Paired lines: verse identical but line 3 (6 vs 5: 10/11); chorus line 2 (5 vs 7: 10/12).
  EXPECT_NEAR(s.p3, 20.0 * (10.0 / 11.0) * (10.0 / 12.0) * 12.0 / 13.0, 1e-12);
  // Rhymes on paired lines: template 3 + 2 = 5, lyrics 3 + 2 = 5.
  EXPECT_NEAR(s.p4, 20.0 * 12.0 / 13.0, 1e-12);
  EXPECT_LT(s.p1, 10.0);
  EXPECT_GT(s.p1, 9.0);
  EXPECT_LT(s.total, 107.0);
}

TEST(LyricScore, MuChinLyricsAgainstTheirOwnTemplateScoreTheMaximum) {
  const fs::path song = kShared / "data" / "muchin-sample" / "s_0001";
  if (!fs::exists(song / "str_lyric")) GTEST_SKIP() << "no MuChin sample";
  const text::G2P g2p;
  const std::string lyrics = read_file(song / "str_lyric");
  const std::string tmpl = lyric_template(lyrics, g2p);
  const LyricScore self = score_lyrics(lyrics, tmpl, g2p);
  EXPECT_DOUBLE_EQ(self.p1 + self.p2_1 + self.p2_2 + self.p3 + self.p4, 100.0);
  // Against the human rhyme marks: same layout, so P1-P3 stay high; the rhymes may differ.
  const LyricScore human = score_lyrics(lyrics, read_file(song / "str_rhyme"), g2p);
  EXPECT_DOUBLE_EQ(human.p2_1, 32.5);
  EXPECT_GT(human.total, 80.0);
  // Another song's template scores clearly lower.
  const std::string other = read_file(kShared / "data" / "muchin-sample" / "s_0002" / "str_rhyme");
  EXPECT_LT(score_lyrics(lyrics, other, g2p).total, human.total);
}

// --- FAD ---------------------------------------------------------------------------------------

GaussianStats diagonal(std::vector<double> mean, std::vector<double> var) {
  GaussianStats s;
  s.mean = at::tensor(mean, at::kDouble);
  s.cov = at::diag(at::tensor(var, at::kDouble));
  s.count = 1000;
  return s;
}

TEST(Fad, ClosedFormOfTwoGaussians) {
  // Diagonal: |mu_a - mu_b|^2 + sum (sigma_a - sigma_b)^2.
  const auto a = diagonal({0, 1, 2}, {1, 4, 9});
  const auto b = diagonal({1, 1, 0}, {4, 1, 1});
  EXPECT_NEAR(frechet_distance(a, b), (1 + 0 + 4) + (1 + 1 + 4), 1e-9);
  // A full covariance: S_b = R S_a R^T (a rotation) with the same mean gives
  // tr(S_a) + tr(S_b) - 2 tr((S_a^1/2 S_b S_a^1/2)^1/2), checked against a direct 2x2 answer.
  GaussianStats c = diagonal({0, 0}, {4, 1});
  GaussianStats d = c;
  const double t = 0.6;
  const at::Tensor r =
      at::tensor({std::cos(t), -std::sin(t), std::sin(t), std::cos(t)}, at::kDouble)
          .reshape({2, 2});
  d.cov = at::matmul(at::matmul(r, c.cov), r.t());
  // For 2x2 PSD M, tr(sqrt(M)) = sqrt(tr M + 2 sqrt(det M)).
  const at::Tensor ra = at::diag(at::tensor({2.0, 1.0}, at::kDouble));
  const at::Tensor m = at::matmul(at::matmul(ra, d.cov), ra);
  const double tr = m.trace().item<double>(), det = at::linalg_det(m).item<double>();
  const double expect = 5 + 5 - 2 * std::sqrt(tr + 2 * std::sqrt(det));
  EXPECT_NEAR(frechet_distance(c, d), expect, 1e-10);
  EXPECT_GT(expect, 0.1);
}

TEST(Fad, ASetAgainstItselfIsZeroAndSamplesApproachTheTruth) {
  at::manual_seed(0);
  const at::Tensor x = at::randn({400, 8}, at::kDouble);
  const GaussianStats s = gaussian_stats(x);
  EXPECT_NEAR(frechet_distance(s, s), 0.0, 1e-9);
  // Samples of N(0, I) and N(0.5, I) in 8 dimensions: true FAD = 8 * 0.25 = 2.
  const at::Tensor ref = at::randn({20000, 8}, at::kDouble);
  const at::Tensor gen = at::randn({4000, 8}, at::kDouble) + 0.5;
  EXPECT_NEAR(frechet_distance(gaussian_stats(gen), gaussian_stats(ref)), 2.0, 0.1);
}

TEST(Fad, InfinityRemovesTheSmallSampleBias) {
  at::manual_seed(1);
  // The same distribution: FAD of N samples is biased upwards by about c / N; FAD∞ is near 0.
  const GaussianStats truth = diagonal(std::vector<double>(16, 0.0), std::vector<double>(16, 1.0));
  const at::Tensor gen = at::randn({800, 16}, at::kDouble);
  const FadInfinity inf = fad_infinity(gen, truth, 100, 8, 0);
  ASSERT_EQ(inf.sizes.front(), 100);
  ASSERT_EQ(inf.sizes.back(), 800);
  EXPECT_GT(inf.fads.front(), inf.fads.back());  // the bias falls with N
  EXPECT_GT(inf.slope, 0);
  EXPECT_LT(std::abs(inf.value), 0.5 * inf.fads.back());
  EXPECT_GT(inf.r2, 0.8);
  EXPECT_THROW(fad_infinity(gen, truth, 900, 4, 0), ConfigError);
  // Per-song: a song whose windows sit far from the reference scores worse.
  const std::vector<double> each = per_song_fad(
      {at::randn({50, 16}, at::kDouble), at::randn({50, 16}, at::kDouble) + 2.0}, truth);
  EXPECT_LT(each[0], each[1]);
}

// --- ARA ---------------------------------------------------------------------------------------

TEST(Ara, IdenticalAudioGivesTheMeanOfItsOwnLayerSimilarityMatrix) {
  at::manual_seed(2);
  const at::Tensor layers = at::randn({3, 16}, at::kDouble);
  const at::Tensor unit = layers / layers.norm(2, {1}, true);
  const double expect = at::matmul(unit, unit.t()).mean().item<double>();
  EXPECT_NEAR(acoustic_reference_alignment(layers, layers), expect, 1e-12);
  EXPECT_LT(expect, 1.0);  // off-diagonal layers differ
  // Scaling a layer changes nothing (cosines); a different song scores lower.
  EXPECT_NEAR(acoustic_reference_alignment(layers * 3.0, layers), expect, 1e-12);
  EXPECT_LT(acoustic_reference_alignment(at::randn({3, 16}, at::kDouble), layers), expect);
  EXPECT_THROW(acoustic_reference_alignment(layers, layers.slice(0, 0, 2)), ShapeError);
}

// --- control ------------------------------------------------------------------------------------

TEST(Control, HitsOfTempoKeyAndMode) {
  const auto t = ControlTarget::from_meta(R"({"bpm": 150, "meter": "6/8", "tonic": "A",
                                              "mode": "minor"})");
  ASSERT_TRUE(t.has_value());
  EXPECT_DOUBLE_EQ(t->beat_bpm, 100.0);  // dotted quarters
  EXPECT_EQ(t->tonic, 9);
  ControlEstimate e{103.0, 9, true};
  ControlHits h = control_hits(*t, e);
  EXPECT_TRUE(h.tempo_4);
  EXPECT_TRUE(h.key && h.mode);
  EXPECT_FALSE(h.has_tempo_class);  // 100 is neither fast nor slow
  e = {107.0, 0, false};            // C major: A minor's relative key
  h = control_hits(*t, e);
  EXPECT_FALSE(h.tempo_4);
  EXPECT_TRUE(h.tempo_8);
  EXPECT_TRUE(h.relative_key);
  EXPECT_FALSE(h.key || h.mode || h.parallel_key);
  e = {100.0, 9, false};  // A major: the parallel key
  EXPECT_TRUE(control_hits(*t, e).parallel_key);
  // A pentatonic mode has no key hit to score.
  EXPECT_FALSE(control_hits(*ControlTarget::from_meta(R"({"bpm": 130, "tonic": "D",
                                                          "mode": "gong"})"),
                            e)
                   .has_key);
  EXPECT_FALSE(ControlTarget::from_meta(R"({"key": "C major"})").has_value());
  EXPECT_EQ(pitch_class("Bb"), 10);
  EXPECT_EQ(pitch_class("F#"), 6);
  EXPECT_EQ(pitch_class("H"), -1);
}

TEST(Control, SummarySharesCountOnlyApplicableSongs) {
  ControlSummary s;
  ControlHits a;
  a.tempo_8 = a.has_tempo_class = a.tempo_class = a.has_key = a.key = a.mode = true;
  ControlHits b;  // misses everything, no key target
  s.add(a);
  s.add(b);
  s.finish();
  EXPECT_DOUBLE_EQ(s.tempo_8, 0.5);
  EXPECT_DOUBLE_EQ(s.key, 1.0);  // over the one song with a key target
  EXPECT_EQ(s.key_songs, 1);
  EXPECT_DOUBLE_EQ(s.tempo_class, 1.0);
}

TEST(Control, InstrumentPresenceCountsTheJudgedFamilies) {
  const auto t = ControlTarget::from_meta(R"({"bpm": 100, "instruments": [
      {"role": "chords", "family": "piano"}, {"role": "pad", "family": "strings"},
      {"role": "drums", "family": "drums"}, {"role": "lead", "family": "piano"}]})");
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(t->families, (std::vector<std::string>{"drums", "piano", "strings"}));
  ControlEstimate e;
  e.bpm = 100;
  e.judged = {"guitar", "organ", "piano", "strings"};  // drums: not judged
  e.instruments = {"organ", "piano"};
  const ControlHits h = control_hits(*t, e);
  EXPECT_EQ(h.instrument_targets, 2);  // piano, strings
  EXPECT_EQ(h.instrument_found, 1);    // piano
  EXPECT_EQ(h.instrument_others, 2);   // guitar, organ
  EXPECT_EQ(h.instrument_false, 1);    // organ
  ControlSummary s;
  s.add(h);
  e.instruments = {"piano", "strings"};  // every decision right
  s.add(control_hits(*t, e));
  s.finish();
  EXPECT_DOUBLE_EQ(s.instrument_recall, 3.0 / 4.0);
  EXPECT_DOUBLE_EQ(s.instrument_false_positive, 1.0 / 4.0);
  EXPECT_DOUBLE_EQ(s.instrument_accuracy, 6.0 / 8.0);
  EXPECT_EQ(s.to_map().count("instrument_recall"), 1u);
  ControlSummary without;  // no probe: no instrument entries
  without.add(ControlHits{});
  without.finish();
  EXPECT_EQ(without.to_map().count("instrument_recall"), 0u);
  EXPECT_TRUE(meta_families(R"({"bpm": 1})").empty());
  EXPECT_TRUE(meta_families("not json").empty());
}

// --- instrument probe -------------------------------------------------------------------------

// Songs whose features carry their families: piano lifts features 0-3, guitar 4-7, under unit
// noise; every song has drums.
struct ProbeData {
  at::Tensor x;
  std::vector<std::vector<std::string>> families;
};
ProbeData probe_data(int64_t n, uint64_t seed) {
  at::manual_seed(seed);
  ProbeData d;
  d.x = at::randn({n, 12});
  const at::Tensor bits = at::rand({n, 2}) < 0.3;
  for (int64_t i = 0; i < n; ++i) {
    std::vector<std::string> f = {"drums"};
    if (bits[i][0].item<bool>()) {
      d.x[i].slice(0, 0, 4) += 2.5;
      f.push_back("piano");
    }
    if (bits[i][1].item<bool>()) {
      d.x[i].slice(0, 4, 8) += 2.5;
      f.push_back("guitar");
    }
    d.families.push_back(f);
  }
  return d;
}

TEST(InstrumentProbe, FitsSeparableFamiliesAndLeavesOutConstantOnes) {
  const ProbeData train = probe_data(300, 1), held_out = probe_data(300, 2);
  InstrumentProbe probe = fit_instrument_probe(train.x, train.families);
  // Drums are on every song: nothing to learn, so they are left out.
  EXPECT_EQ(probe->config().families, (std::vector<std::string>{"guitar", "piano"}));
  for (const FamilyScore& s : score_instrument_probe(probe, held_out.x, held_out.families)) {
    // Each family's mean shift is 2.5 sigma along 4 features (5 sigma in all): the Bayes
    // balanced accuracy is Phi(2.5) = 0.994.
    EXPECT_GT(s.balanced_accuracy, 0.95) << s.family;
    EXPECT_GT(s.positives, 50) << s.family;
  }
  at::Tensor piano_only = at::zeros({12});
  piano_only.slice(0, 0, 4).fill_(2.5);
  EXPECT_EQ(probe->detect(piano_only), (std::vector<std::string>{"piano"}));
  EXPECT_TRUE(probe->detect(at::zeros({12})).empty());

  // The model file gives the same probabilities.
  test::TempDir dir;
  save_instrument_probe(dir / "probe.safetensors", probe);
  InstrumentProbe loaded = load_instrument_probe(dir / "probe.safetensors");
  EXPECT_EQ(loaded->config().families, probe->config().families);
  at::NoGradGuard no_grad;
  EXPECT_TRUE(at::allclose(loaded->forward(held_out.x), probe->forward(held_out.x)));
  EXPECT_THROW(probe->forward(at::zeros({3})), ShapeError);
}

TEST(InstrumentProbe, NoFittableFamilyIsAnError) {
  const ProbeData d = probe_data(6, 3);  // too few songs for min_songs 8 either way
  EXPECT_THROW(fit_instrument_probe(d.x, d.families), DataError);
  EXPECT_THROW(fit_instrument_probe(d.x.slice(0, 0, 5), d.families), ShapeError);
}

TEST(InstrumentProbe, TimbreFeaturesFollowTheSpectrum) {
  const at::Tensor t = at::arange(24000 * 2, at::kFloat) / 24000;
  const at::Tensor low = 0.3 * at::sin(2 * M_PI * 110 * t),
                   high = 0.3 * at::sin(2 * M_PI * 3000 * t);
  const at::Tensor fl = song_timbre_features(low, 24000), fh = song_timbre_features(high, 24000);
  ASSERT_EQ(fl.sizes(), (at::IntArrayRef{480}));
  // The mean log-mel (the first 160 features) peaks in a lower band for the lower tone.
  EXPECT_LT(fl.slice(0, 0, 160).argmax().item<int64_t>() + 20,
            fh.slice(0, 0, 160).argmax().item<int64_t>());
  // A steady tone barely rises from frame to frame; 48 kHz input is resampled to the same.
  EXPECT_LT(fl.slice(0, 320).max().item<double>(), 0.5);
  const at::Tensor t48 = at::arange(48000 * 2, at::kFloat) / 48000;
  EXPECT_LT((song_timbre_features(0.3 * at::sin(2 * M_PI * 110 * t48), 48000) - fl)
                .slice(0, 0, 160)
                .abs()
                .mean()
                .item<double>(),
            0.1);
}

// --- tag similarity -----------------------------------------------------------------------------

// A text tower where every distinct word is its own axis: cosines are 1 or 0.
TextEmbedder one_hot_words() {
  return [](const std::vector<std::string>& texts) {
    static const std::vector<std::string> words = {"fast", "slow", "rock", "folk"};
    at::Tensor e = at::zeros({static_cast<int64_t>(texts.size()), 4});
    for (size_t i = 0; i < texts.size(); ++i) {
      const auto it = std::find(words.begin(), words.end(), texts[i]);
      e[static_cast<int64_t>(i)][it - words.begin()] = 1;
    }
    return e;
  };
}

TEST(TagSimilarity, KnownCosinesPooledPerDimension) {
  const TextEmbedder embed = one_hot_words();
  TagSimilarity t = tag_similarity(embed, {"fast", "slow"}, {"fast"});
  EXPECT_EQ(t.pairs, 2);
  EXPECT_DOUBLE_EQ(t.mean, 0.5);
  EXPECT_DOUBLE_EQ(t.std, 0.5);
  EXPECT_EQ(tag_similarity(embed, {}, {"fast"}).pairs, 0);
  // Two songs: tempo pairs {1, 0} and {1}; style only on the second song; a dimension one side
  // lacks is skipped.
  const std::vector<std::map<std::string, std::vector<std::string>>> a = {
      {{"tempo", {"fast", "slow"}}, {"mood", {"slow"}}},
      {{"tempo", {"slow"}}, {"style", {"rock", "folk"}}}};
  const std::vector<std::map<std::string, std::vector<std::string>>> b = {
      {{"tempo", {"fast"}}}, {{"tempo", {"slow"}}, {"style", {"rock"}}}};
  const auto by_dim = tag_similarity_by_dimension(embed, a, b);
  ASSERT_EQ(by_dim.size(), 2u);
  EXPECT_EQ(by_dim.at("tempo").pairs, 3);
  EXPECT_NEAR(by_dim.at("tempo").mean, 2.0 / 3.0, 1e-12);
  EXPECT_NEAR(by_dim.at("tempo").std, std::sqrt(2.0) / 3.0, 1e-12);
  EXPECT_EQ(by_dim.at("style").pairs, 2);
  EXPECT_NEAR(by_dim.at("style").mean, 0.5, 1e-12);
  EXPECT_THROW(tag_similarity_by_dimension(embed, a, {b[0]}), ShapeError);
}

// --- report ------------------------------------------------------------------------------------

TEST(Report, EscapesTextAndEmbedsMedia) {
  EXPECT_EQ(base64(""), "");
  EXPECT_EQ(base64("f"), "Zg==");
  EXPECT_EQ(base64("fo"), "Zm8=");
  EXPECT_EQ(base64("foobar"), "Zm9vYmFy");
  EXPECT_EQ(html_escape("<a href=\"x\">&'"), "&lt;a href=&quot;x&quot;&gt;&amp;&#39;");
  ReportSong song{"s<1>", "fast & loud", "PNG", "OGG"};
  const std::string html =
      render_report("t", {{"Summary", {"measure", "value"}, {{"fad", "1.5"}}}}, {song});
  EXPECT_NE(html.find("<td>fad</td><td>1.5</td>"), std::string::npos);
  EXPECT_NE(html.find("s&lt;1&gt;"), std::string::npos);
  EXPECT_NE(html.find("fast &amp; loud"), std::string::npos);
  EXPECT_NE(html.find("data:image/png;base64,UE5H"), std::string::npos);
  EXPECT_NE(html.find("<audio controls preload=\"none\" src=\"data:audio/ogg;base64,T0dH\">"),
            std::string::npos);
  EXPECT_EQ(html.find("<script"), std::string::npos);
}

}  // namespace
}  // namespace mudit::eval
