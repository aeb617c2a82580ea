// The musical plan: its tensor layout, the round trip symbols -> tensor -> symbols, partial
// plans, chord and key parsing, the plan file, and the plan of a synthetic song's labels.
#include <gtest/gtest.h>

#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>
#include <set>

#include "mudit/audio/analysis.h"
#include "mudit/audio/features.h"
#include "mudit/audio/io.h"
#include "mudit/core/error.h"
#include "mudit/core/rng.h"
#include "mudit/data/synth.h"
#include "mudit/eval/plan_scores.h"
#include "mudit/generation/plan.h"
#include "mudit/generation/plan_file.h"
#include "mudit/generation/plan_text.h"
#include "mudit/models/codec.h"
#include "mudit/models/hifigan.h"
#include "mudit/models/mel_vae.h"
#include "mudit/models/model_files.h"
#include "mudit/pipeline/plan_sources.h"
#include "unit/music_signals.h"
#include "unit/test_util.h"

namespace mudit::generation {
namespace {

constexpr double kMelRate = 24000.0 / 256 / 16;  // 5.859375 latent frames per second
constexpr double kWaveRate = 24000.0 / 2048;     // 11.71875

MusicalPlan grid_plan(double duration, double bpm, const std::string& meter, double first,
                      const std::vector<std::string>& chords, const std::string& key) {
  MusicalPlan p;
  p.duration = duration;
  p.meter = meter;
  set_beat_grid(p, bpm, beats_per_bar(meter), first);
  set_chords_per_bar(p, chords);
  p.key = parse_key(key);
  p.has_key = true;
  return p;
}

// Beat times agree one to one within `tol` seconds; returns the worst error.
double match_beats(const std::vector<double>& want, const std::vector<double>& got, double tol) {
  EXPECT_EQ(got.size(), want.size());
  double worst = 0;
  for (size_t i = 0; i < std::min(want.size(), got.size()); ++i)
    worst = std::max(worst, std::abs(want[i] - got[i]));
  EXPECT_LT(worst, tol);
  return worst;
}

TEST(Plan, LayoutCoversEveryColumnOnce) {
  for (int64_t slots : {1, 8, 16}) {
    const PlanLayout l{slots};
    EXPECT_EQ(l.dim(), 2 * slots + 5 + 25 + 13 + 3);
    at::Tensor covered = at::zeros({l.dim()}, at::kLong);
    for (int g = 0; g < kPlanGroups; ++g)
      covered += l.group_mask(static_cast<PlanGroup>(g)).to(at::kLong);
    EXPECT_TRUE(covered.eq(1).all().item<bool>()) << covered;
  }
}

// The round trip the issue asks for: beat times within 20 ms, BPM, chord per bar and key come
// back out of the tensor, at the mel VAE's and the wave VAE's frame rates and in three meters.
TEST(Plan, RoundTripsThroughTheTensor) {
  struct Case {
    double rate, bpm;
    std::string meter;
    double first;
    std::vector<std::string> chords;
    std::string key;
  };
  const std::vector<Case> cases = {
      {kMelRate, 97.0, "4/4", 0.23, {"Am", "F", "C", "G7"}, "A minor"},
      {kMelRate, 171.3, "3/4", 0.0, {"Bbmaj7", "Gm7", "Cm7", "F7"}, "降B大调"},
      {kWaveRate, 63.0, "6/8", 0.41, {"D", "N", "Bm", "A/C#"}, "D major"},
      {kMelRate, 140.0, "4/4", 0.05, {"Esus4", "E", "C#m7b5", "Bdim"}, "升F小调"}};
  for (const Case& c : cases) {
    SCOPED_TRACE(c.meter + " " + std::to_string(c.bpm));
    const MusicalPlan p = grid_plan(20.0, c.bpm, c.meter, c.first, c.chords, c.key);
    const int64_t frames = static_cast<int64_t>(std::ceil(p.duration * c.rate));
    const at::Tensor t = plan_tensor(p, frames, c.rate);
    ASSERT_EQ(t.sizes(), (at::IntArrayRef{frames, PlanLayout{}.dim()}));
    const MusicalPlan q = decode_plan(t, c.rate);
    const double worst = match_beats(p.beats, q.beats, 0.020);
    EXPECT_LT(worst, 0.002);  // the parabola is exact for a lone bump: only float rounding
    EXPECT_NEAR(q.bpm, c.bpm, 1e-3 * c.bpm);
    EXPECT_EQ(q.beats_per_bar, p.beats_per_bar);
    EXPECT_EQ(q.first_downbeat, p.first_downbeat);
    // The chord of every bar, at the frame holding the bar's middle.
    for (size_t b = 0; b < p.chords.size(); ++b) {
      const double mid = p.chords[b].start + 0.5 * p.beats_per_bar * 60.0 / c.bpm;
      if (mid >= p.duration) break;
      const PlanChord* want = p.chord_at(mid);
      const PlanChord* got = q.chord_at((std::floor(mid * c.rate) + 0.5) / c.rate);
      ASSERT_TRUE(want && got);
      EXPECT_EQ(got->root, want->root) << "bar " << b;
      EXPECT_EQ(got->tones, want->tones) << "bar " << b;
    }
    ASSERT_TRUE(q.has_key);
    EXPECT_EQ(q.key.tonic, p.key.tonic);
    EXPECT_EQ(q.key.minor, p.key.minor);
  }
}

TEST(Plan, KnownValuesOfOneFrame) {
  MusicalPlan p;
  p.duration = 4;
  set_beat_grid(p, 120.0, 4, 0.0);  // beats at 0, 0.5, 1.0, ...
  const PlanLayout l{16};
  const double rate = 2.0;  // frames of 0.5 s: one beat at each frame's start
  const at::Tensor t = plan_tensor(p, 8, rate, l);
  // Slot 0 of frame 1 is at 0.5 + 0.5 / 32 s, 15.6 ms after the beat at 0.5 s.
  const double d = (0.5 / 32) / kBeatSigma;
  EXPECT_NEAR(t[1][0].item<double>(), std::exp(-0.5 * d * d), 1e-6);
  EXPECT_NEAR(t[1][8].item<double>(), 0.0, 1e-6);   // 0.27 s from any beat
  EXPECT_NEAR(t[1][16].item<double>(), 0.0, 1e-6);  // frame 1's beat is not a downbeat
  EXPECT_GT(t[4][16].item<double>(), 0.5);          // frame 4 starts bar 2
  // Phase at frame 1's centre (0.75 s): 1.5 beats, 0.375 bars.
  EXPECT_NEAR(t[1][l.beat_phase()].item<double>(), std::sin(2 * M_PI * 0.5), 1e-6);
  EXPECT_NEAR(t[1][l.beat_phase() + 1].item<double>(), std::cos(2 * M_PI * 0.5), 1e-6);
  EXPECT_NEAR(t[1][l.bar_phase()].item<double>(), std::sin(2 * M_PI * 0.375), 1e-6);
  EXPECT_NEAR(t[1][l.log_tempo()].item<double>(), 0.0, 1e-6);
  EXPECT_EQ(t[1][l.presence()].item<double>(), 1.0);
  EXPECT_EQ(t[1][l.presence() + 1].item<double>(), 0.0);  // no chords given
  EXPECT_EQ(t[1][l.presence() + 2].item<double>(), 0.0);  // no key given
}

// Any group may be absent, and beats and chords may cover part of the song.
TEST(Plan, PartialPlansLeaveTheirGroupsZero) {
  const PlanLayout l{};
  MusicalPlan key_only;
  key_only.duration = 10;
  key_only.has_key = true;
  key_only.key = parse_key("E minor");
  const at::Tensor k = plan_tensor(key_only, 59, kMelRate);
  for (PlanGroup g : {PlanGroup::kBeats, PlanGroup::kChords}) {
    const at::Tensor cols = k.index({at::indexing::Slice(), l.group_mask(g)});
    EXPECT_EQ(cols.abs().sum().item<double>(), 0.0) << plan_group_name(g);
  }
  EXPECT_EQ(k.select(1, l.presence() + 2).sum().item<double>(), 59.0);
  EXPECT_FALSE(decode_plan(k, kMelRate).has_beats());

  // Beats only in 4..8 s, one chord over 2..5 s.
  MusicalPlan part;
  part.duration = 10;
  for (double t = 4.0; t < 8.0; t += 0.5) part.beats.push_back(t);
  part.bpm = 120;
  part.chords.push_back(parse_chord("G"));
  part.chords[0].start = 2.0;
  part.chords_end = 5.0;
  const at::Tensor x = plan_tensor(part, 59, kMelRate);
  for (int64_t i = 0; i < 59; ++i) {
    const double centre = (i + 0.5) / kMelRate;
    EXPECT_EQ(x[i][l.presence()].item<double>(), centre >= 3.75 && centre <= 7.75 ? 1.0 : 0.0)
        << "frame " << i;
    EXPECT_EQ(x[i][l.presence() + 1].item<double>(), centre >= 2.0 && centre < 5.0 ? 1.0 : 0.0)
        << "frame " << i;
  }
  const MusicalPlan back = decode_plan(x, kMelRate);
  match_beats(part.beats, back.beats, 0.02);
  ASSERT_EQ(back.chords.size(), 1u);
  EXPECT_EQ(back.chords[0].symbol, "G");
  EXPECT_FALSE(back.has_key);
}

// The validation's wrong plans: half a beat later is the plan of the grid moved by 30 / BPM s
// (to a slot), a transposed plan decodes to chords and key 6 semitones away, and a dropped group
// is the plan without it.
TEST(Plan, ShiftedTransposedAndDroppedPlans) {
  const PlanLayout l{};
  const double bpm = 104.0, first = 0.3, half = 30.0 / bpm;
  const MusicalPlan p = grid_plan(16.0, bpm, "3/4", first, {"Dm", "G7", "C", "A"}, "D minor");
  const int64_t frames = 94;
  const at::Tensor t = plan_tensor(p, frames, kMelRate).unsqueeze(0);  // [1, T, F]
  const at::Tensor shifted = shift_plan_beats(t, kMelRate);
  MusicalPlan later = grid_plan(16.0, bpm, "3/4", first + half, {"Dm", "G7", "C", "A"}, "D minor");
  const at::Tensor want = plan_tensor(later, frames, kMelRate);
  const double slot = 1.0 / (kMelRate * l.slots);
  const MusicalPlan a = decode_plan(shifted[0], kMelRate), b = decode_plan(want, kMelRate);
  // The shifted grid keeps the original's span, so compare the beats inside both.
  size_t compared = 0, inner = 0;
  for (double tb : b.beats) {
    if (tb < 1.0 || tb > 14.0) continue;
    ++inner;
    const auto it = std::lower_bound(a.beats.begin(), a.beats.end(), tb - 0.1);
    if (it == a.beats.end() || *it > tb + 0.1) continue;
    EXPECT_NEAR(*it, tb, 0.5 * slot + 1e-3);
    ++compared;
  }
  EXPECT_EQ(compared, inner);
  EXPECT_GT(inner, 20u);
  const auto cols = [&](const at::Tensor& x, int64_t c) { return x.select(-1, c); };
  const at::Tensor inside = cols(want, l.presence()).gt(0.5) & cols(t[0], l.presence()).gt(0.5);
  for (int64_t c : {l.beat_phase(), l.beat_phase() + 1, l.bar_phase(), l.bar_phase() + 1})
    EXPECT_LT(
        (cols(shifted[0], c) - cols(want, c)).masked_select(inside).abs().max().item<double>(),
        1e-4)
        << "column " << c;

  const MusicalPlan up = decode_plan(transpose_plan(t, 6)[0], kMelRate);
  ASSERT_TRUE(up.has_key);
  EXPECT_EQ(up.key.tonic, (2 + 6) % 12);
  EXPECT_TRUE(up.key.minor);
  EXPECT_EQ(up.chords.front().symbol, "Abm");
  EXPECT_TRUE(t.equal(transpose_plan(transpose_plan(t, 6), 6)));

  const at::Tensor two = at::cat({t, t});
  const at::Tensor keep = at::tensor({1, 0, 1, 1, 1, 1}).to(at::kBool).reshape({2, 3});
  const at::Tensor d = drop_plan_groups(two, keep);
  EXPECT_TRUE(d[1].equal(t[0]));
  MusicalPlan no_chords = p;
  no_chords.chords.clear();
  EXPECT_TRUE(d[0].equal(plan_tensor(no_chords, frames, kMelRate)));
}

TEST(Plan, ChordSymbols) {
  const PlanChord am7 = parse_chord("Am7");
  EXPECT_EQ(am7.root, 9);
  const std::set<int> want{9, 0, 4, 7};
  for (int pc = 0; pc < 12; ++pc) EXPECT_EQ(am7.tones[pc], want.count(pc) == 1) << pc;
  EXPECT_EQ(chord_symbol(am7), "Am7");
  EXPECT_EQ(parse_chord("Bbmaj7").root, 10);
  EXPECT_EQ(chord_symbol(parse_chord("Bbmaj7")), "Bbmaj7");
  EXPECT_EQ(parse_chord("F#m").root, 6);
  EXPECT_EQ(chord_symbol(parse_chord("Dbmin")), "C#m");
  EXPECT_EQ(parse_chord("N").root, -1);
  EXPECT_EQ(chord_symbol(parse_chord("N")), "N");
  const PlanChord slash = parse_chord("C/E");
  EXPECT_EQ(slash.root, 0);
  EXPECT_EQ(chord_symbol(slash), "C");  // E is a chord tone already
  EXPECT_TRUE(parse_chord("C/B").tones[11]);
  EXPECT_EQ(chord_symbol(parse_chord("C#m7(no5)")), "C#m7(no5)");
  EXPECT_EQ(parse_chord("C#m7(no5)").tones, parse_chord("C#(+3+10)").tones);
  // chord_symbol and parse_chord are inverses: every quality on every root, and tone sets no
  // quality names (written as semitones above the root).
  for (int root = 0; root < 12; ++root) {
    for (const char* q :
         {"",     "m",    "dim", "aug",  "sus2",    "sus4",      "5",   "7", "maj7", "m7",
          "m7b5", "dim7", "9",   "add9", "m7(no5)", "min7(no5)", "maj", "-", "+",    "M7"}) {
      static const char* const kRoots[12] = {"C",  "C#", "D",  "Eb", "E",  "F",
                                             "F#", "G",  "Ab", "A",  "Bb", "B"};
      const PlanChord c = parse_chord(std::string(kRoots[root]) + q);
      const PlanChord back = parse_chord(chord_symbol(c));
      EXPECT_EQ(back.root, root) << chord_symbol(c);
      EXPECT_EQ(back.tones, c.tones) << chord_symbol(c);
    }
    for (unsigned mask : {0x001u, 0x089u, 0x4a5u, 0xfffu, 0x003u}) {  // bit i = i semitones up
      PlanChord c;
      c.root = root;
      for (int i = 0; i < 12; ++i)
        if ((mask >> i) & 1u) c.tones[static_cast<size_t>((root + i) % 12)] = true;
      c.tones[static_cast<size_t>(root)] = true;
      const PlanChord back = parse_chord(chord_symbol(c));
      EXPECT_EQ(back.root, root) << chord_symbol(c);
      EXPECT_EQ(back.tones, c.tones) << chord_symbol(c);
    }
  }
  EXPECT_EQ(chord_symbol(parse_chord("D(+1+6)")), "D(+1+6)");
  for (const char* bad :
       {"", "H", "Cx", "am", "C/H", "Cmaj13", "C(+12)", "C(+)", "C(3)", "C(+3", "C(+3+x)", "C(+0)"})
    EXPECT_THROW(parse_chord(bad), DataError) << bad;
  try {
    parse_chord("Cmaj13");
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.what()).find("Cmaj13"), std::string::npos) << e.what();
  }
}

TEST(Plan, KeysInEnglishAndChinese) {
  struct K {
    const char* text;
    int tonic;
    bool minor;
  };
  for (const K& k :
       {K{"A minor", 9, true}, K{"Am", 9, true}, K{"Bb major", 10, false}, K{"F#", 6, false},
        K{"c# minor", 1, true}, K{"降B大调", 10, false}, K{"A小调", 9, true}, K{"升F小调", 6, true},
        K{"C大调", 0, false}, K{"D宫", 2, false}, K{"E羽调", 4, true}, K{"e", 4, true},
        K{"#C大调", 1, false}, K{"bE小调", 3, true}, K{"E商调式", 2, false},
        K{"A zhi pentatonic", 2, false}, K{"F# yu pentatonic", 6, true}, K{"b", 11, true},
        K{"Bb", 10, false}}) {
    const PlanKey got = parse_key(k.text);
    EXPECT_EQ(got.tonic, k.tonic) << k.text;
    EXPECT_EQ(got.minor, k.minor) << k.text;
  }
  EXPECT_EQ(parse_key("Eb minor").name(), "Eb minor");
  for (const char* bad : {"", "H major", "C dorian", "大调", "Q小调"})
    EXPECT_THROW(parse_key(bad), DataError) << bad;
  EXPECT_EQ(beats_per_bar("6/8"), 2);
  EXPECT_EQ(beats_per_bar("3/4"), 3);
  EXPECT_THROW(beats_per_bar("5/4"), DataError);
}

// The facts a description states, in the phrasings of the synthetic corpus and of people.
TEST(PlanText, ReadsTempoMeterAndKeyInBothLanguages) {
  struct D {
    const char* text;
    double bpm;
    const char* meter;
    const char* key;  // "" = none
  };
  for (const D& d : {D{"bE大调，96 BPM，3/4拍", 96, "3/4", "Eb major"},
                     D{"一首6/8拍的摇滚作品，#F小调，速度132 BPM（快板）", 132, "6/8", "F# minor"},
                     D{"Folk in A minor at 72 BPM", 72, "", "A minor"},
                     D{"C# gong pentatonic, 140 BPM, 4/4", 140, "4/4", "C# major"},
                     D{"每分钟120拍的华尔兹，降B大调", 120, "3/4", "Bb major"},
                     D{"A小调的慢板抒情歌", 66, "", "A minor"},
                     D{"an upbeat allegro tune in D Major, tempo 150", 150, "", "D major"},
                     D{"这首歌很好听，适合开车听", 0, "", ""},
                     D{"Form A-B-A; key E minor; meter 12/8", 0, "12/8", "E minor"}}) {
    const PlanHints h = parse_plan_hints(d.text);
    EXPECT_DOUBLE_EQ(h.bpm, d.bpm) << d.text;
    EXPECT_EQ(h.meter, d.meter) << d.text;
    EXPECT_EQ(h.has_key, std::string(d.key) != "") << d.text;
    if (h.has_key) EXPECT_EQ(h.key.name(), d.key) << d.text;
  }
  // A long description (a run of 100 000 spaces) is read without exhausting the stack.
  EXPECT_DOUBLE_EQ(parse_plan_hints(std::string(100000, ' ') + "98 BPM").bpm, 98.0);
  EXPECT_TRUE(parse_plan_hints("慢板").bpm_from_word);
  EXPECT_FALSE(parse_plan_hints("88 BPM").bpm_from_word);
  EXPECT_THROW(parse_plan_hints("a song at 900 BPM"), DataError);
  EXPECT_DOUBLE_EQ(felt_bpm(120, "6/8"), 80);
  EXPECT_DOUBLE_EQ(felt_bpm(120, "3/4"), 120);
  EXPECT_DOUBLE_EQ(tempo_word_bpm("Allegro"), 144);
}

TEST(PlanFile, RoundTripsAndRefusesAnotherCodecsRate) {
  MusicalPlan p = grid_plan(12.0, 88.0, "3/4", 0.1, {"C", "Am", "Dm7", "G"}, "C major");
  p.source = {"request", "request", "description"};
  const std::string text = plan_to_json(p, kMelRate);
  const MusicalPlan q = plan_from_json(text, kMelRate);
  EXPECT_EQ(q.beats, p.beats);
  EXPECT_EQ(q.bpm, p.bpm);
  EXPECT_EQ(q.meter, "3/4");
  EXPECT_EQ(q.beats_per_bar, 3);
  ASSERT_EQ(q.chords.size(), p.chords.size());
  for (size_t i = 0; i < q.chords.size(); ++i) {
    EXPECT_EQ(q.chords[i].tones, p.chords[i].tones);
    EXPECT_EQ(q.chords[i].start, p.chords[i].start);
  }
  EXPECT_EQ(q.key.name(), "C major");
  EXPECT_EQ(q.source, p.source);
  EXPECT_TRUE(plan_tensor(q, 70, kMelRate).equal(plan_tensor(p, 70, kMelRate)));
  EXPECT_NO_THROW(plan_from_json(text, 0));  // any rate
  try {
    plan_from_json(text, kWaveRate);
    ADD_FAILURE() << "a plan for another codec rate was accepted";
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.what()).find("latent_rate"), std::string::npos) << e.what();
  }
  for (const char* bad : {"[]", "{\"format\": 1}", "{\"format\": 2, \"duration\": 3}",
                          "{\"format\": 1, \"duration\": 3, \"tempo\": 3}",
                          "{\"format\": 1, \"duration\": 3, \"beats\": [1, 0.5], \"bpm\": 90}",
                          "{\"format\": 1, \"duration\": 3, \"beats\": [0.5], \"bpm\": 900}",
                          "{\"format\": 1, \"duration\": 3, \"key\": \"H major\"}",
                          "{\"format\": 1, \"duration\": 3, \"chords\": [{\"start\": 0, "
                          "\"symbol\": \"Xm\"}]}"})
    EXPECT_THROW(plan_from_json(bad), DataError) << bad;
}

// The scores of one plan against another: known values.
TEST(PlanScores, KnownValues) {
  EXPECT_DOUBLE_EQ(eval::beat_f_measure({1.0, 2.0, 3.0, 4.0}, {1.05, 2.1, 3.0}),
                   2 * (2.0 / 3) * 0.5 / (2.0 / 3 + 0.5));
  EXPECT_DOUBLE_EQ(eval::beat_f_measure({1.0, 2.0}, {1.0, 2.0}), 1.0);
  EXPECT_DOUBLE_EQ(eval::beat_f_measure({1.0}, {}), 0.0);
  EXPECT_DOUBLE_EQ(eval::beat_f_measure({1.0, 1.1}, {1.05}), 2 * 1.0 * 0.5 / 1.5);  // matched once
  const PlanKey c{0, false}, am{9, true}, g{7, false}, cm{0, true}, d{2, false};
  EXPECT_EQ(eval::weighted_key_score(c, c), 1.0);
  EXPECT_EQ(eval::weighted_key_score(c, g), 0.5);
  EXPECT_EQ(eval::weighted_key_score(c, am), 0.3);
  EXPECT_EQ(eval::weighted_key_score(am, c), 0.3);
  EXPECT_EQ(eval::weighted_key_score(c, cm), 0.2);
  EXPECT_EQ(eval::weighted_key_score(c, d), 0.0);

  const MusicalPlan ref = grid_plan(8.0, 120.0, "4/4", 0.0, {"C", "Am", "Fsus4", "G7"}, "C major");
  const eval::PlanScores same = eval::score_plan(ref, ref);
  EXPECT_DOUBLE_EQ(same.beat_f, 1.0);
  EXPECT_TRUE(same.tempo_8);
  EXPECT_EQ(same.bars, 4);
  EXPECT_EQ(same.bars_right, 4);
  EXPECT_TRUE(same.key);
  // Half a beat late, the minor bar heard as major, sus4 scored by its root alone.
  MusicalPlan est = grid_plan(8.0, 120.0, "4/4", 0.25, {"C", "A", "F", "G"}, "G major");
  const eval::PlanScores s = eval::score_plan(ref, est);
  EXPECT_EQ(s.beat_f, 0.0);
  EXPECT_TRUE(s.tempo_8);
  est.bpm = 126;  // 5 % fast
  EXPECT_TRUE(eval::score_plan(ref, est).tempo_8);
  est.bpm = 132;  // 10 %
  EXPECT_FALSE(eval::score_plan(ref, est).tempo_8);
  EXPECT_EQ(s.bars_right, 3);
  EXPECT_FALSE(s.key);
  EXPECT_EQ(s.key_weighted, 0.5);
  eval::PlanScoreSummary sum;
  sum.add(same);
  sum.add(s);
  sum.finish();
  EXPECT_DOUBLE_EQ(sum.chord_bar_accuracy, 7.0 / 8.0);
  EXPECT_DOUBLE_EQ(sum.key_weighted, 0.75);
}

// The labels' plan: the felt beat grid, one chord per bar with its voicing's tones, the key.
TEST(PlanLabels, SyntheticSongsPlanTheirLabels) {
  data::synth::SynthConfig c;
  c.seconds = 20;
  std::set<std::string> meters;
  for (int i = 0; i < 12; ++i) {
    const data::synth::SongLabels s =
        data::synth::compose_song(c, data::synth::song_id(i), derive_seed(11, i));
    const MusicalPlan p = data::synth::song_plan(s);
    meters.insert(p.meter);
    EXPECT_NEAR(p.bpm, data::synth::beat_bpm(s), 1e-9);
    const double bar_s = data::synth::quarters_per_bar(s.meter) * 60.0 / s.bpm;
    EXPECT_NEAR(static_cast<double>(p.beats.size()), s.duration_s / (60.0 / p.bpm), 1.0);
    ASSERT_EQ(p.chords.size(), s.chords.size());
    for (size_t b = 0; b < s.chords.size(); ++b) {
      EXPECT_NEAR(p.beats[b * p.beats_per_bar], b * bar_s, 1e-9);  // bars start on downbeats
      EXPECT_EQ(p.chords[b].root, s.chords[b].root_pc);
      for (int pitch : s.chords[b].pitches) EXPECT_TRUE(p.chords[b].tones[pitch % 12]);
    }
    EXPECT_TRUE(p.has_key);
    EXPECT_EQ(p.source[0], "labels");
  }
  EXPECT_GE(meters.size(), 2u);
}

// Every chord the synthetic corpus writes in its labels survives a plan file: the file keeps
// the labels' spelling where it reads back (C#m7(no5) did not, and stopped mudit plan --labels).
TEST(PlanLabels, EveryLabelChordReadsBackFromAPlanFile) {
  data::synth::SynthConfig c;
  c.seconds = 12;
  std::set<std::string> symbols;
  for (int i = 0; i < 120; ++i) {
    const data::synth::SongLabels s =
        data::synth::compose_song(c, data::synth::song_id(i), derive_seed(5, i));
    const MusicalPlan p = data::synth::song_plan(s);
    const MusicalPlan q = plan_from_json(plan_to_json(p, kMelRate), kMelRate);
    ASSERT_EQ(q.chords.size(), p.chords.size()) << s.id;
    for (size_t b = 0; b < p.chords.size(); ++b) {
      symbols.insert(s.chords[b].symbol);
      EXPECT_EQ(q.chords[b].symbol, s.chords[b].symbol);
      EXPECT_EQ(q.chords[b].root, p.chords[b].root) << s.chords[b].symbol;
      EXPECT_EQ(q.chords[b].tones, p.chords[b].tones) << s.chords[b].symbol;
    }
  }
  // The corpus's rarer qualities were among them.
  const auto has = [&](const std::string& part) {
    return std::any_of(symbols.begin(), symbols.end(),
                       [&](const std::string& x) { return x.find(part) != std::string::npos; });
  };
  EXPECT_TRUE(has("m7(no5)"));
  EXPECT_TRUE(has("m7b5") || has("dim"));
  EXPECT_TRUE(has("sus"));
  std::cout << "  " << symbols.size() << " distinct chord symbols read back\n";
}

// The key read off a log-mel without a vocoder (what a mel VAE's output still says): the 24 keys
// of key_track through the generators' mel recipe, against the audio estimator on the same songs.
TEST(PlanScores, KeyFromMelWithoutAVocoder) {
  const MelConfig cfg = MelConfig::mudit_24k();
  const MelSpectrogram mel(cfg);
  int from_mel = 0, from_audio = 0;
  for (int i = 0; i < 24; ++i) {
    const at::Tensor x = mudit::test::key_track(i % 12, i >= 12, 6.0, 24000).to(at::kFloat);
    const PlanKey k = eval::key_from_mel(mel(x), cfg);
    from_mel += k.tonic == i % 12 && k.minor == (i >= 12);
    const mudit::KeyEstimate a = mudit::estimate_key(x, 24000)[0];
    from_audio += a.tonic == i % 12 && a.minor == (i >= 12);
  }
  std::cout << "keys from the mel " << from_mel << " / 24, from the audio " << from_audio
            << " / 24\n";
  EXPECT_GE(from_mel, 22);
  EXPECT_THROW(eval::key_from_mel(at::zeros({cfg.n_mels + 1, 10}), cfg), ShapeError);
}

// The audio source scored through a mel codec, on songs whose length is no multiple of the mel
// hop: the key read off each song's own mel is right (the songs are key_track in their labels'
// key), and every group is scored on the round trip too (an untrained codec: no value asked).
TEST(PlanScores, SourcesScoredThroughAMelCodec) {
  test::TempDir dir;
  data::synth::SynthConfig c;
  c.seconds = 6;
  std::string manifest;
  for (int i = 0; i < 2; ++i) {
    const std::string id = data::synth::song_id(i);
    const data::synth::SongLabels s = data::synth::compose_song(c, id, derive_seed(5, i));
    const MusicalPlan p = data::synth::song_plan(s);
    const at::Tensor x = at::cat({mudit::test::key_track(p.key.tonic, p.key.minor, 6.0, 24000),
                                  at::zeros({100}, at::kDouble)});
    audio::write_audio(dir / ("songs/" + id + "/audio.wav"), x.to(at::kFloat).unsqueeze(0), 24000);
    dir.write("songs/" + id + "/labels.json", data::synth::labels_to_json(s));
    manifest += R"({"id": ")" + id + R"(", "audio": "songs/)" + id + "/audio.wav\"}\n";
  }
  dir.write("m.jsonl", manifest);
  HifiganConfig vocoder = HifiganConfig::tiny();
  vocoder.num_mels = 160;
  MelVAECodec codec(MelVAEConfig::tiny(), vocoder);
  save_codec(dir / "codec.safetensors", *codec);
  const pipeline::PlanSourceScores out =
      pipeline::score_plan_sources(dir / "m.jsonl", "all", 0, dir / "codec.safetensors");
  EXPECT_EQ(out.skipped, 0);
  EXPECT_DOUBLE_EQ(out.mel.at("key_songs"), 2);
  EXPECT_DOUBLE_EQ(out.mel.at("key"), 1);
  EXPECT_DOUBLE_EQ(out.round_trip_mel.at("key_songs"), 2);
  EXPECT_DOUBLE_EQ(out.round_trip.at("beat_songs"), 2);
  EXPECT_DOUBLE_EQ(out.audio.at("key_songs"), 2);
}

}  // namespace
}  // namespace mudit::generation
