// MuChin annotations: a description file (amat_desc_json / prof_desc_json) resolved against id
// maps, a meta_info file, and the merge of an LRC file's times into structured lyrics. The
// input is split at its first NUL byte: before it the first text, after it the second.
#include <string>

#include "fuzz_util.h"
#include "mudit/data/muchin.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  mudit::fuzz::quiet();
  static const mudit::data::MuchinIdMaps maps = [] {
    mudit::data::MuchinIdMaps m;
    m.questions = {{"q1", "这首歌的风格"}, {"q2", "tempo"}};
    m.dimensions = {{"d1", "风格或流派"}, {"d2", "乐器"}};
    m.options = {{"o1", "摇滚"}, {"o2", "钢琴"}};
    return m;
  }();
  const std::string_view all = mudit::fuzz::as_text(data, size);
  const size_t nul = all.find('\0');
  const std::string_view first = all.substr(0, nul);
  const std::string_view second = nul == std::string_view::npos ? "" : all.substr(nul + 1);
  mudit::fuzz::expect_clean([&] { mudit::data::resolve_muchin_annotation(all, maps); });
  mudit::fuzz::expect_clean([&] { mudit::data::parse_muchin_meta(all); });
  mudit::fuzz::expect_clean([&] {
    const mudit::data::TimedLyrics t = mudit::data::merge_lrc_times(first, second);
    if (t.timed > t.lines) __builtin_trap();
  });
  return 0;
}
