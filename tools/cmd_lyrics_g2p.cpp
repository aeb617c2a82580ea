// mudit lyrics phonemes | rhyme: G2P tokens, ids and coverage; rhyme marks and their agreement
// with MuChin's human str_rhyme files.
#include <filesystem>
#include <iomanip>
#include <iostream>
#include <memory>
#include <sstream>

#include "commands.h"
#include "mudit/core/error.h"
#include "mudit/core/fs.h"
#include "mudit/core/log.h"
#include "mudit/core/utf8.h"
#include "mudit/text/g2p.h"
#include "mudit/text/rhyme.h"

namespace mudit::cli {
namespace {

namespace fs = std::filesystem;

std::string percent(int64_t part, int64_t whole) {
  std::ostringstream s;
  s << std::fixed << std::setprecision(2) << (whole ? 100.0 * part / whole : 100.0) << " %";
  return s.str();
}

}  // namespace

Runner setup_lyrics_phonemes(CLI::App& app, CommonOptions& common) {
  add_common_options(app, common);
  struct Flags {
    std::string in, stats, vocab;
    bool ids = false, tones = false;
  };
  auto f = std::make_shared<Flags>();
  app.add_option("input", f->in, "lyrics file (structure tags, optional LRC times)");
  app.add_option("--stats", f->stats, "G2P coverage over a MuChin folder or a manifest.jsonl")
      ->type_name("DIR|MANIFEST");
  app.add_flag("--ids", f->ids, "print ids instead of tokens");
  app.add_flag("--tones", f->tones, "add tone tokens T.1..T.5 (same as --set g2p.tones=true)");
  app.add_option("--vocab", f->vocab, "also write the vocabulary (one token per line)")
      ->type_name("FILE");
  return [&common, f] {
    apply_common_options(common);
    auto cfg = bind_config<text::G2PConfig>(resolve_config(common), "g2p");
    if (f->tones) cfg.tones = true;
    MUDIT_CHECK(f->in.empty() != f->stats.empty(), ConfigError,
                "give a lyrics file or --stats DIR|MANIFEST (one of them)");
    const text::G2P g2p(cfg);
    const text::PhonemeVocab vocab(cfg.tones);
    if (!f->vocab.empty()) vocab.save(f->vocab);
    if (!f->stats.empty()) {
      text::G2PCoverage c;
      const auto texts = text::corpus_lyrics(f->stats);
      for (const auto& t : texts) c += text::measure_coverage(t, g2p);
      std::cout << "songs: " << texts.size() << "\n"
                << "han characters: " << c.han_chars << ", with a reading: " << c.han_with_reading
                << " (" << percent(c.han_with_reading, c.han_chars) << ")\n"
                << "english words: " << c.english_words
                << ", in the dictionary: " << c.english_in_dictionary << " ("
                << percent(c.english_in_dictionary, c.english_words)
                << "), letter-to-sound: " << c.english_words - c.english_in_dictionary << "\n";
      return kOk;
    }
    const auto tokens =
        text::lyrics_to_tokens(text::parse_lyrics(utf8::checked(read_file(f->in), f->in)), g2p);
    std::cout << text::format_token_lines(tokens, f->ids ? &vocab : nullptr);
    log::info(tokens.size(), " tokens, vocabulary of ", vocab.vocab_size());
    return kOk;
  };
}

Runner setup_lyrics_rhyme(CLI::App& app, CommonOptions& common) {
  add_common_options(app, common);
  struct Flags {
    std::string song, eval, out;
  };
  auto f = std::make_shared<Flags>();
  app.add_option("--muchin", f->song, "a MuChin song folder: writes the str_rhyme of its str_lyric")
      ->type_name("SONG_DIR");
  app.add_option("--muchin-eval", f->eval,
                 "a folder of MuChin songs: agreement and Cohen's kappa against their str_rhyme")
      ->type_name("DIR");
  app.add_option("--out", f->out, "write the str_rhyme here (default: stdout)")->type_name("FILE");
  return [&common, f] {
    apply_common_options(common);
    const auto cfg = bind_config<text::G2PConfig>(resolve_config(common), "g2p");
    MUDIT_CHECK(f->song.empty() != f->eval.empty(), ConfigError,
                "give --muchin SONG_DIR or --muchin-eval DIR (one of them)");
    const text::G2P g2p(cfg);
    if (!f->song.empty()) {
      const fs::path lyric = fs::path(f->song) / "str_lyric";
      MUDIT_CHECK(fs::is_regular_file(lyric), IoError, f->song,
                  ": no str_lyric (not a MuChin song folder)");
      const std::string layout = text::str_rhyme_layout(read_file(lyric), g2p);
      if (f->out.empty()) {
        std::cout << layout << "\n";
      } else {
        write_file_atomic(f->out, layout);
      }
      return kOk;
    }
    size_t songs = 0;
    const text::RhymeAgreement total = text::evaluate_muchin_rhyme(f->eval, g2p, &songs);
    std::cout << std::fixed << std::setprecision(4) << "songs: " << songs
              << "\nlines: " << total.lines << "\nagreement: " << total.agreement()
              << "\nkappa: " << total.kappa() << "\nrhyme in both: " << total.both
              << ", in neither: " << total.neither << ", ours only: " << total.only_ours
              << ", human only: " << total.only_theirs
              << "\nlayout mismatches: " << total.mismatched_lines << "\n";
    return kOk;
  };
}

}  // namespace mudit::cli
