#include "mudit/data/manifest.h"

#include <gtest/gtest.h>

#include "mudit/core/error.h"
#include "unit/test_util.h"

namespace mudit::data {
namespace {

using test::error_of;
using test::TempDir;

ManifestEntry sample_entry() {
  ManifestEntry e;
  e.id = "s_0001";
  e.audio = "audio/s_0001.flac";
  e.duration = 212.5;
  e.lyrics = "(verse1)\n[00:17.42]当你走进这欢乐场\n";
  e.amateur = {{"听起来很开心", "", ""}, {"适合开车的时候听", "zh", "short"}};
  e.professional = {{"G major, 120 BPM, 4/4", "en", "long"}};
  e.amateur_tags = {{"风格或流派", {"流行歌曲", "抒情"}}};
  e.professional_tags = {{"tempo", {"120"}}};
  e.split = "valid";
  e.meta = R"({"name":"消愁"})";
  return e;
}

TEST(Manifest, LineRoundTripKeepsEveryField) {
  const ManifestEntry e = sample_entry();
  const std::string line = to_json_line(e);
  EXPECT_EQ(line.find('\n'), std::string::npos);
  // A description without language or length stays a plain string (DESIGN §6's schema).
  EXPECT_NE(line.find(R"("amateur":["听起来很开心",{"text":"适合开车的时候听")"), std::string::npos)
      << line;
  const ManifestEntry back = parse_manifest_line(line);
  EXPECT_EQ(back.id, e.id);
  EXPECT_EQ(back.audio, e.audio);
  EXPECT_DOUBLE_EQ(back.duration, e.duration);
  EXPECT_EQ(back.lyrics, e.lyrics);
  EXPECT_EQ(back.amateur, e.amateur);
  EXPECT_EQ(back.professional, e.professional);
  EXPECT_EQ(back.amateur_tags, e.amateur_tags);
  EXPECT_EQ(back.professional_tags, e.professional_tags);
  EXPECT_EQ(back.split, e.split);
  EXPECT_EQ(back.meta, e.meta);
}

TEST(Manifest, MissingOptionalFieldsTakeDefaults) {
  const ManifestEntry e =
      parse_manifest_line(R"({"id": "x", "tags": {"amateur": {"mood": "sad"}}})");
  EXPECT_EQ(e.id, "x");
  EXPECT_EQ(e.duration, 0.0);
  EXPECT_TRUE(e.amateur.empty());
  EXPECT_EQ(e.amateur_tags.at("mood"), std::vector<std::string>{"sad"});
  EXPECT_EQ(e.meta, "{}");
}

TEST(Manifest, BadLinesNameTheField) {
  EXPECT_NE(error_of([] { parse_manifest_line("{not json"); }).find("not valid JSON"),
            std::string::npos);
  EXPECT_NE(error_of([] { parse_manifest_line("[1,2]"); }).find("JSON object"), std::string::npos);
  // A number too large for a double is bad JSON, not a crash (found by fuzz_manifest).
  EXPECT_NE(error_of([] { parse_manifest_line("5e555555555555"); }).find("not valid JSON"),
            std::string::npos);
  EXPECT_NE(error_of([] { parse_manifest_line(R"({"audio":"a.wav"})"); }).find("'id'"),
            std::string::npos);
  EXPECT_NE(error_of([] {
              parse_manifest_line(R"({"id":"a","duration":-1})");
            }).find("negative 'duration'"),
            std::string::npos);
  EXPECT_NE(error_of([] {
              parse_manifest_line(R"({"id":"a","split":"dev"})");
            }).find("unknown split 'dev'"),
            std::string::npos);
  EXPECT_NE(error_of([] {
              parse_manifest_line(R"({"id":"a","descriptions":{"amateur":[3]}})");
            }).find("descriptions.amateur"),
            std::string::npos);
  EXPECT_NE(error_of([] {
              parse_manifest_line(R"({"id":"a","tags":{"amateur":{"m":[1]}}})");
            }).find("tags.amateur.m"),
            std::string::npos);
}

TEST(Manifest, FileRoundTripAndErrorsNameFileAndLine) {
  TempDir dir;
  ManifestEntry a = sample_entry();
  ManifestEntry b = sample_entry();
  b.id = "s_0002";
  b.audio = "/abs/b.wav";
  write_manifest(dir / "m.jsonl", {a, b});
  const auto entries = read_manifest(dir / "m.jsonl");
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_EQ(entries[1].id, "s_0002");
  EXPECT_EQ(resolve_audio(entries[0], dir / "m.jsonl"), dir.path() / "audio/s_0001.flac");
  EXPECT_EQ(resolve_audio(entries[1], dir / "m.jsonl"), "/abs/b.wav");

  const auto bad = dir.write("bad.jsonl", to_json_line(a) + "\n\n{\"id\": 5}\n");
  const std::string err = error_of([&] { read_manifest(bad); });
  EXPECT_NE(err.find("bad.jsonl:3"), std::string::npos) << err;

  const auto dup = dir.write("dup.jsonl", to_json_line(a) + "\n" + to_json_line(a) + "\n");
  EXPECT_NE(error_of([&] { read_manifest(dup); }).find("duplicate id 's_0001'"), std::string::npos);
}

TEST(Manifest, SplitsAreStableAndNearTheirFractions) {
  int counts[3] = {0, 0, 0};
  for (int i = 0; i < 10000; ++i) {
    const std::string id = "song" + std::to_string(i);
    const std::string s = assign_split(id, 0.1, 0.05, 7);
    EXPECT_EQ(s, assign_split(id, 0.1, 0.05, 7));
    counts[s == "train" ? 0 : s == "valid" ? 1 : 2]++;
  }
  EXPECT_NEAR(counts[1] / 10000.0, 0.1, 0.015);
  EXPECT_NEAR(counts[2] / 10000.0, 0.05, 0.01);
  // A different seed reshuffles.
  int moved = 0;
  for (int i = 0; i < 1000; ++i) {
    const std::string id = "song" + std::to_string(i);
    moved += assign_split(id, 0.5, 0.0, 7) != assign_split(id, 0.5, 0.0, 8);
  }
  EXPECT_GT(moved, 300);
  EXPECT_NE(error_of([] { assign_split("a", 0.8, 0.3); }).find("sum to at most 1"),
            std::string::npos);
}

}  // namespace
}  // namespace mudit::data
