// mudit vocab: a WordPiece vocabulary (vocab.txt) for training the text tower from scratch.
#include <memory>
#include <sstream>

#include "commands.h"
#include "mudit/core/error.h"
#include "mudit/core/fs.h"
#include "mudit/core/log.h"
#include "mudit/core/utf8.h"
#include "mudit/data/manifest.h"
#include "mudit/text/tokenizer.h"

namespace mudit::cli {

Runner setup_vocab(CLI::App& app, CommonOptions& common) {
  struct Flags {
    std::vector<std::string> manifests, texts;
    std::string split = "train", out;
  };
  auto f = std::make_shared<Flags>();
  app.add_option("--manifest", f->manifests,
                 "manifest whose descriptions and tag labels make the corpus (repeatable)")
      ->type_name("JSONL");
  app.add_option("--text", f->texts, "plain text file, one text per line (repeatable)")
      ->type_name("FILE");
  app.add_option("--split", f->split, "manifest split to read (\"all\": every song)")
      ->capture_default_str();
  app.add_option("--out", f->out, "vocab.txt to write")->required()->type_name("FILE");
  add_common_options(app, common);
  app.footer(
      "Config (--set vocab.KEY=...): vocab_size (21128), min_frequency (2), lowercase "
      "(true), max_piece_chars (16).");
  return [&common, f] {
    apply_common_options(common);
    MUDIT_CHECK(!f->manifests.empty() || !f->texts.empty(), ConfigError,
                "give at least one --manifest or --text");
    const auto cfg = bind_config<text::VocabBuilderConfig>(resolve_config(common), "vocab");
    std::vector<std::string> corpus;
    int64_t songs = 0;
    for (const std::string& m : f->manifests) {
      for (const data::ManifestEntry& e : data::read_manifest(m)) {
        if (f->split != "all" && e.split != f->split) continue;
        ++songs;
        for (const auto* list : {&e.amateur, &e.professional})
          for (const data::Description& d : *list) corpus.push_back(d.text);
        for (const auto* tags : {&e.amateur_tags, &e.professional_tags})
          for (const auto& [dim, labels] : *tags)
            for (const std::string& l : labels) corpus.push_back(l);
      }
    }
    for (const std::string& t : f->texts) {
      std::istringstream in(utf8::checked(read_file(t), t));
      for (std::string line; std::getline(in, line);)
        if (!line.empty()) corpus.push_back(line);
    }
    MUDIT_CHECK(!corpus.empty(), DataError, "no text to build a vocabulary from (", songs,
                " songs in split '", f->split, "')");
    text::VocabReport r;
    const std::vector<std::string> vocab = text::build_vocab(corpus, cfg, &r);
    text::WordPieceTokenizer(vocab).save(f->out);
    log::info("vocabulary of ", vocab.size(), " tokens from ", r.texts, " texts (", songs,
              " songs, ", r.words, " words): ", r.cjk_chars, " CJK characters, ", r.pieces,
              " WordPiece merges, ", r.dropped_rare, " characters under min_frequency ",
              cfg.min_frequency, " left to [UNK] -> ", f->out);
    return kOk;
  };
}

}  // namespace mudit::cli
