// Where the G2P lexicon lives (compiled with the build-tree and install paths; see
// cmake/MuditPron.cmake).
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <vector>

#include "mudit/core/error.h"
#include "mudit/text/g2p.h"

#ifndef MUDIT_PRON_BUILD_DIR
#define MUDIT_PRON_BUILD_DIR ""
#endif
#ifndef MUDIT_PRON_INSTALL_DIR
#define MUDIT_PRON_INSTALL_DIR ""
#endif

namespace mudit::text {

std::string find_pron_dir(const std::string& explicit_dir) {
  namespace fs = std::filesystem;
  auto holds_lexicon = [](const fs::path& dir) {
    std::error_code ec;
    return fs::is_regular_file(dir / "zh_chars.tsv", ec);
  };
  if (!explicit_dir.empty()) {
    MUDIT_CHECK(holds_lexicon(explicit_dir), IoError, "no G2P lexicon in ", explicit_dir,
                " (g2p.pron_dir): it needs zh_chars.tsv, zh_words.tsv, en_words.tsv and "
                "en_lts.txt, built by `cmake --build build --target mudit_pron`");
    return explicit_dir;
  }
  std::vector<fs::path> tried;
  if (const char* env = std::getenv("MUDIT_PRON_DIR"); env && *env) tried.emplace_back(env);
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) tried.push_back(exe.parent_path().parent_path() / "share" / "mudit" / "pron");
  if (*MUDIT_PRON_BUILD_DIR) tried.emplace_back(MUDIT_PRON_BUILD_DIR);
  if (*MUDIT_PRON_INSTALL_DIR) tried.emplace_back(MUDIT_PRON_INSTALL_DIR);
  std::string list;
  for (const auto& dir : tried) {
    if (holds_lexicon(dir)) return dir.lexically_normal().string();
    list += (list.empty() ? "" : ", ") + dir.string();
  }
  throw IoError("G2P lexicon not found (looked in: " + list +
                "); build it with `cmake --build build --target mudit_pron` (needs the Debian "
                "packages unicode-data, rime-data-terra-pinyin, python3-jieba, festlex-cmu and "
                "libbz2-dev: tools/bootstrap.sh), or point MUDIT_PRON_DIR or g2p.pron_dir at it");
}

}  // namespace mudit::text
