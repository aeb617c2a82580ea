// The MuChin and plain-folder importers: the shared sample, broken annotations, sidecars.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <algorithm>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "mudit/audio/io.h"
#include "mudit/data/folder_import.h"
#include "mudit/data/muchin.h"
#include "unit/test_util.h"

namespace mudit::data {
namespace {
namespace fs = std::filesystem;
using test::error_of;
using test::TempDir;

const fs::path kSample = fs::path(MUDIT_SHARED_DIR) / "data" / "muchin-sample";

const ManifestEntry& find_entry(const ImportResult& r, const std::string& id) {
  auto it = std::find_if(r.entries.begin(), r.entries.end(),
                         [&](const ManifestEntry& e) { return e.id == id; });
  if (it == r.entries.end()) throw std::runtime_error("no entry " + id);
  return *it;
}

bool has_description(const std::vector<Description>& ds, const std::string& prefix,
                     const std::string& aspect) {
  return std::any_of(ds.begin(), ds.end(), [&](const Description& d) {
    return d.text.rfind(prefix, 0) == 0 && d.aspect == aspect && d.lang == "zh";
  });
}

// A small MuChin-style folder: id maps plus songs written by the test.
void write_maps(const TempDir& dir) {
  dir.write("qidmap.json", R"({"q1": "这首歌带给你的感受？", "q2": "音质怎么样？"})");
  dir.write("subqidmap.json", R"({"t1": "风格或流派", "t2": "快慢感受", "o1": "音质"})");
  dir.write("opidmap.json", R"({"1": "清晰", "2": "不清晰"})");
}

void write_song(const TempDir& dir, const std::string& id, const std::string& amat,
                const std::string& lyrics = "(verse1)\n第一行\n第二行\n") {
  dir.write(id + "/amat_desc_json", amat);
  dir.write(id + "/prof_desc_json", R"({"mid": "x", "ans": []})");
  dir.write(id + "/str_lyric", lyrics);
  dir.write(id + "/raw_lyric", "[00:01.00]第一行\n[00:02.50]第二行\n");
  dir.write(id + "/meta_info", "name  : 歌\nsinger: 某人\n");
}

const char* kGoodAmat = R"({"mid": "s", "ans": [
  {"id": "q1", "desc": "很好听", "tags": [{"tid": "t1", "value": ["流行", "抒情"]},
                                          {"tid": "t2", "value": ["中速"], "desc": "不快不慢"}]},
  {"id": "q2", "options": [{"oid": "o1", "opid": 1, "desc": "音质清晰"}]}]})";

TEST(MuchinImport, ResolvesIdsTagsOptionsAndDescriptions) {
  const MuchinIdMaps maps = [] {
    TempDir d;
    write_maps(d);
    return MuchinIdMaps::load(d.path());
  }();
  const MuchinAnnotation a = resolve_muchin_annotation(kGoodAmat, maps);
  EXPECT_TRUE(a.unresolved.empty());
  EXPECT_EQ(a.tags.at("风格或流派"), (std::vector<std::string>{"流行", "抒情"}));
  EXPECT_EQ(a.tags.at("快慢感受"), std::vector<std::string>{"中速"});
  EXPECT_EQ(a.tags.at("音质"), std::vector<std::string>{"清晰"});
  ASSERT_EQ(a.descriptions.size(), 3u);
  EXPECT_EQ(a.descriptions[0].text, "很好听");
  EXPECT_EQ(a.descriptions[0].aspect, "这首歌带给你的感受？");
  EXPECT_EQ(a.descriptions[1].aspect, "快慢感受");
  EXPECT_EQ(a.descriptions[2].aspect, "音质");

  const MuchinAnnotation u = resolve_muchin_annotation(
      R"({"ans": [{"id": "qX", "desc": "d", "tags": [{"tid": "tX", "value": ["v"]}],
                   "options": [{"oid": "o1", "opid": 9}]}]})",
      maps);
  EXPECT_EQ(u.unresolved, (std::vector<std::string>{"question:qX", "dimension:tX", "option:9"}));
  EXPECT_TRUE(u.tags.empty());
  ASSERT_EQ(u.descriptions.size(), 1u);  // the text survives an unknown question
  EXPECT_EQ(u.descriptions[0].aspect, "");
}

TEST(MuchinImport, MergesLrcTimesIntoStructuredLyrics) {
  const TimedLyrics t = merge_lrc_times(
      "(verse1)\n当你走进 "
      "这欢乐场\n背上所有的梦与想\n(chorus1)\n没有这一行\n一杯敬朝阳一杯敬月光\n",
      "[00:00.00]消愁 - 毛不易\n[00:17.42]当你走进这欢乐场\n[00:21.58]背上所有的梦与想\n"
      "[00:52.26]一杯敬朝阳\n[00:54.00]一杯敬月光\n");
  EXPECT_EQ(t.lines, 4);
  EXPECT_EQ(t.timed, 3);
  EXPECT_EQ(t.text,
            "(verse1)\n[00:17.42]当你走进 这欢乐场\n[00:21.58]背上所有的梦与想\n(chorus1)\n"
            "没有这一行\n[00:52.26]一杯敬朝阳一杯敬月光\n");
}

TEST(MuchinImport, SharedSampleImportsWithAReport) {
  if (!fs::exists(kSample / "qidmap.json")) GTEST_SKIP() << "no MuChin sample at " << kSample;
  TempDir out;
  ImportConfig cfg;
  cfg.allow_missing_audio = true;
  const ImportResult r = import_muchin(kSample, "", cfg, out / "manifest.jsonl");
  const ImportReport& rep = r.report;
  EXPECT_EQ(rep.found, 200);
  EXPECT_EQ(rep.imported, 200);
  EXPECT_TRUE(rep.skipped.empty());
  EXPECT_EQ(rep.warnings.at("missing audio"), 200);
  EXPECT_TRUE(rep.unresolved_ids.empty());
  EXPECT_GT(rep.lyric_lines, 8000);
  EXPECT_GT(rep.timed_lines, rep.lyric_lines * 9 / 10);
  EXPECT_GT(rep.splits.at("train"), 160);
  EXPECT_GT(rep.splits.at("valid") + rep.splits.at("test"), 5);

  const ManifestEntry& e = find_entry(r, "s_0001");
  EXPECT_EQ(e.audio, "");
  EXPECT_EQ(e.duration, 0.0);
  EXPECT_EQ(e.amateur_tags.at("特色感受"),
            (std::vector<std::string>{"流行歌曲", "抒情", "百年孤独", "寂寞"}));
  EXPECT_EQ(e.amateur_tags.at("快慢感受"), (std::vector<std::string>{"中速", "较慢", "缓慢"}));
  EXPECT_EQ(e.professional_tags.at("风格或流派"),
            (std::vector<std::string>{"中国", "流行", "流行民谣"}));
  EXPECT_EQ(e.professional_tags.at("音质"), std::vector<std::string>{"清晰"});
  EXPECT_EQ(e.professional_tags.at("现场版"), std::vector<std::string>{"是"});
  EXPECT_TRUE(has_description(e.amateur, "这首歌词中充满了对生活的感悟", "这首歌带给你的感受？"));
  EXPECT_TRUE(has_description(e.professional, "这首歌主要用到了吉他、手风琴", "配器与音效"));
  EXPECT_NE(e.lyrics.find("(verse1)\n[00:17.42]当你走进这欢乐场\n"), std::string::npos);
  EXPECT_NE(e.lyrics.find("(chorus4)\n"), std::string::npos);
  EXPECT_NE(e.lyrics.find("(outro1)\n"), std::string::npos);  // MuChin's (ending1)
  const auto meta = nlohmann::json::parse(e.meta);
  EXPECT_EQ(meta.at("name"), "消愁");
  EXPECT_EQ(meta.at("singer"), "薛之谦,毛不易");

  // The manifest round-trips through the reader.
  write_import(r, out / "manifest.jsonl", out / "report.json");
  EXPECT_EQ(read_manifest(out / "manifest.jsonl").size(), 200u);
  const auto report = nlohmann::json::parse(test::read_file(out / "report.json"));
  EXPECT_EQ(report.at("imported"), 200);
}

TEST(MuchinImport, WithoutAudioEverySongIsSkippedAndNoManifestIsWritten) {
  if (!fs::exists(kSample / "qidmap.json")) GTEST_SKIP() << "no MuChin sample at " << kSample;
  TempDir out;
  const ImportResult r = import_muchin(kSample, "", {}, out / "m.jsonl");
  EXPECT_EQ(r.report.imported, 0);
  EXPECT_EQ(r.report.skipped.at("missing audio"), 200);
  EXPECT_NE(
      error_of([&] { write_import(r, out / "m.jsonl", out / "r.json"); }).find("no song imported"),
      std::string::npos);
  EXPECT_FALSE(fs::exists(out / "m.jsonl"));
  EXPECT_TRUE(fs::exists(out / "r.json"));
}

TEST(MuchinImport, BrokenSongsAreCountedListedAndSkipped) {
  TempDir in;
  write_maps(in);
  write_song(in, "s_good", kGoodAmat);
  write_song(in, "s_badjson", "{\"ans\": [");
  write_song(in, "s_badshape", R"({"ans": {"id": "q1"}})");
  write_song(in, "s_empty", kGoodAmat, "(verse1)\n\n");
  write_song(in, "s_noaudio", kGoodAmat);
  write_song(in, "s_unresolved",
             R"({"ans": [{"id": "q1", "tags": [{"tid": "zz", "value": ["x"]}]}]})");
  in.write("s_nofiles/prof_desc_json", "{}");  // lacks str_lyric and amat_desc_json
  TempDir audio;
  const auto tone = torch::sin(torch::arange(24000).to(torch::kFloat) * 0.05).unsqueeze(0) * 0.3;
  for (const char* id :
       {"s_good", "s_badjson", "s_badshape", "s_empty", "s_unresolved", "s_nofiles"}) {
    audio::write_audio(audio / (std::string(id) + ".wav"), tone, 24000);
  }
  audio.write("s_unresolved.flac", "not audio");  // .wav comes first in the search order
  TempDir out;
  const ImportResult r = import_muchin(in.path(), audio.path(), {}, out / "m.jsonl");
  const ImportReport& rep = r.report;
  EXPECT_EQ(rep.found, 7);
  EXPECT_EQ(rep.imported, 2);
  EXPECT_EQ(rep.skipped.at("malformed annotation"), 2);
  EXPECT_EQ(rep.skipped.at("empty lyrics"), 1);
  EXPECT_EQ(rep.skipped.at("missing audio"), 1);
  EXPECT_EQ(rep.skipped.at("missing annotation"), 1);
  EXPECT_EQ(rep.unresolved_ids.at("dimension"), 1);
  EXPECT_EQ(rep.audio_found, 2);
  const std::string json = rep.to_json();
  for (const char* id : {"s_badjson", "s_badshape", "s_empty", "s_noaudio", "s_nofiles", "zz"}) {
    EXPECT_NE(json.find(id), std::string::npos) << id;
  }
  EXPECT_NE(json.find("not valid JSON"), std::string::npos);
  const ManifestEntry& good = find_entry(r, "s_good");
  EXPECT_NEAR(good.duration, 1.0, 1e-9);
  EXPECT_EQ(fs::path(good.audio).is_absolute(), true);  // outside the manifest's folder
  EXPECT_EQ(good.lyrics, "(verse1)\n[00:01.00]第一行\n[00:02.50]第二行\n");
  EXPECT_EQ(rep.timed_lines, 4);
  EXPECT_NE(rep.summary().find("imported 2 of 7 songs (5 skipped"), std::string::npos)
      << rep.summary();
}

TEST(MuchinImport, MissingFolderOrMapsAreErrors) {
  TempDir d;
  EXPECT_NE(
      error_of([&] { import_muchin(d / "absent", "", {}, d / "m.jsonl"); }).find("is not a folder"),
      std::string::npos);
  d.write("qidmap.json", "[]");
  EXPECT_NE(error_of([&] { import_muchin(d.path(), "", {}, d / "m.jsonl"); }).find("qidmap.json"),
            std::string::npos);
}

TEST(FolderImport, SidecarsGiveLyricsDescriptionsTagsAndMeta) {
  TempDir in;
  const auto tone = torch::zeros({2, 12000});
  audio::write_audio(in / "a/one.wav", tone, 24000);
  audio::write_audio(in / "two.flac", tone, 24000);
  audio::write_audio(in / "three.wav", tone, 24000);
  audio::write_audio(in / "four.wav", tone, 24000);
  in.write("a/one.lrc", "[verse]\n[00:01.00]line one\n[00:02.00]line two\n");
  in.write("a/one.json", R"({"descriptions": {"amateur": ["happy"], "professional":
      [{"text": "A major, 120 BPM", "lang": "en"}]}, "tags": {"amateur": {"mood": ["happy"]}},
      "meta": {"artist": "x"}, "split": "test"})");
  in.write("two.txt", "just one line\n");
  in.write("three.json", "{not json");
  in.write("three.txt", "words\n");
  in.write("five.wav", "RIFF broken");
  in.write("five.txt", "words\n");
  TempDir out;
  const ImportResult r = import_folder(in.path(), {}, in / "manifest.jsonl");
  EXPECT_EQ(r.report.found, 5);
  EXPECT_EQ(r.report.imported, 2);
  EXPECT_EQ(r.report.skipped.at("malformed annotation"), 1);  // three
  EXPECT_EQ(r.report.skipped.at("empty lyrics"), 1);          // four
  EXPECT_EQ(r.report.skipped.at("unreadable audio"), 1);      // five
  const ManifestEntry& one = find_entry(r, "a/one");
  EXPECT_EQ(one.audio, "a/one.wav");  // relative to the manifest's folder
  EXPECT_NEAR(one.duration, 0.5, 1e-9);
  EXPECT_EQ(one.lyrics, "(verse1)\n[00:01.00]line one\n[00:02.00]line two\n");
  EXPECT_EQ(one.amateur[0].text, "happy");
  EXPECT_EQ(one.professional[0].lang, "en");
  EXPECT_EQ(one.amateur_tags.at("mood"), std::vector<std::string>{"happy"});
  EXPECT_EQ(one.split, "test");
  EXPECT_EQ(nlohmann::json::parse(one.meta).at("artist"), "x");
  EXPECT_EQ(find_entry(r, "two").lyrics, "just one line\n");
  EXPECT_EQ(r.report.timed_lines, 2);

  ImportConfig instrumental;
  instrumental.require_lyrics = false;
  EXPECT_EQ(import_folder(in.path(), instrumental, out / "m.jsonl").report.imported, 3);
}

}  // namespace
}  // namespace mudit::data
