// Corpus-level G2P coverage and rhyme agreement, and token printing: what `mudit lyrics
// phonemes` and `mudit lyrics rhyme --muchin-eval` report.
#include <algorithm>
#include <filesystem>

#include "mudit/core/error.h"
#include "mudit/core/fs.h"
#include "mudit/core/log.h"
#include "mudit/data/manifest.h"
#include "mudit/text/g2p.h"
#include "mudit/text/rhyme.h"

namespace mudit::text {
namespace {

namespace fs = std::filesystem;

/// Sub-folders of `dir` holding every one of `files`, sorted.
std::vector<fs::path> song_folders(const fs::path& dir, std::initializer_list<const char*> files) {
  std::vector<fs::path> songs;
  for (const auto& e : fs::directory_iterator(dir)) {
    const bool all = std::all_of(files.begin(), files.end(),
                                 [&](const char* f) { return fs::exists(e.path() / f); });
    if (all) songs.push_back(e.path());
  }
  std::sort(songs.begin(), songs.end());
  return songs;
}

}  // namespace

std::vector<std::string> corpus_lyrics(const std::string& source) {
  MUDIT_CHECK(fs::exists(source), IoError, source, ": no such file or folder");
  std::vector<std::string> texts;
  if (!fs::is_directory(source)) {
    for (const auto& entry : data::read_manifest(source)) texts.push_back(entry.lyrics);
    return texts;
  }
  if (fs::exists(fs::path(source) / "str_lyric"))
    return {read_file(fs::path(source) / "str_lyric")};
  for (const auto& s : song_folders(source, {"str_lyric"}))
    texts.push_back(read_file(s / "str_lyric"));
  MUDIT_CHECK(!texts.empty(), DataError, source, ": no song folder with a str_lyric file");
  return texts;
}

std::string format_token_lines(const std::vector<std::string>& tokens, const PhonemeVocab* vocab) {
  std::string out, line;
  auto flush = [&] {
    if (!line.empty()) out += line + "\n";
    line.clear();
  };
  for (const auto& t : tokens) {
    const bool own_line = t == "<sep>" || (t.size() > 2 && t[0] == '<' && t != "<unk>");
    if (own_line) flush();
    line += (line.empty() ? "" : " ") + (vocab ? std::to_string(vocab->token_to_id(t)) : t);
    if (own_line) flush();
  }
  flush();
  return out;
}

RhymeAgreement evaluate_muchin_rhyme(const std::string& dir, const G2P& g2p, size_t* songs) {
  MUDIT_CHECK(fs::is_directory(dir), IoError, dir, ": no such folder");
  const auto folders = song_folders(dir, {"str_lyric", "str_rhyme"});
  MUDIT_CHECK(!folders.empty(), DataError, dir, ": no song folder with str_lyric and str_rhyme");
  RhymeAgreement total;
  for (const auto& s : folders) {
    const auto a = compare_str_rhyme(str_rhyme_layout(read_file(s / "str_lyric"), g2p),
                                     read_file(s / "str_rhyme"));
    log::debug(s.filename().string(), ": agreement ", a.agreement(), ", kappa ", a.kappa());
    total += a;
  }
  if (songs) *songs = folders.size();
  return total;
}

}  // namespace mudit::text
