// The WordPiece tokenizer and the vocabulary builder (the real-model parity is in
// parity/minilm_parity_test.cpp).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "mudit/core/error.h"
#include "mudit/text/tokenizer.h"
#include "test_util.h"

namespace mudit::text {
namespace {

using Tokens = std::vector<std::string>;

std::vector<std::string> small_vocab() {
  return {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "play",  "##ing", "##s",
          "rock",  "cafe",  "café",  "hello", "world",  ",",     "!",     "我",
          "爱",    "歌",    "🎸",     "un",    "##aff",  "##able"};
}

WordPieceTokenizer tok(TokenizerConfig c = {}) {
  return WordPieceTokenizer(small_vocab(), c);
}

TEST(Tokenizer, BasicSplitsPunctuationAndLowercases) {
  EXPECT_EQ(tok().basic_tokenize("Hello,  World!"), (Tokens{"hello", ",", "world", "!"}));
  // ASCII symbols count as punctuation ("$", "+", "^", "`"); Unicode P* too ("。", "—").
  EXPECT_EQ(tok().basic_tokenize("a$b+c^d`e"),
            (Tokens{"a", "$", "b", "+", "c", "^", "d", "`", "e"}));
  EXPECT_EQ(tok().basic_tokenize("好。好—x"), (Tokens{"好", "。", "好", "—", "x"}));
}

TEST(Tokenizer, CjkIdeographsAreTokensOfTheirOwn) {
  EXPECT_EQ(tok().basic_tokenize("我爱rock歌"), (Tokens{"我", "爱", "rock", "歌"}));
  TokenizerConfig keep;
  keep.split_cjk = false;
  EXPECT_EQ(tok(keep).basic_tokenize("我爱rock歌"), (Tokens{"我爱rock歌"}));
  EXPECT_TRUE(is_cjk_ideograph(0x4E00));
  EXPECT_TRUE(is_cjk_ideograph(0x20000));  // extension B
  EXPECT_FALSE(is_cjk_ideograph(0x3042));  // hiragana あ is not split
  EXPECT_FALSE(is_cjk_ideograph('a'));
}

TEST(Tokenizer, AccentsFollowLowercasingUnlessSet) {
  EXPECT_EQ(tok().basic_tokenize("Café NAÏVE"), (Tokens{"cafe", "naive"}));
  TokenizerConfig cased;
  cased.lowercase = false;  // strip_accents unset: follows lowercase, so accents stay
  EXPECT_EQ(tok(cased).basic_tokenize("Café NAÏVE"), (Tokens{"Café", "NAÏVE"}));
  cased.strip_accents = 1;
  EXPECT_EQ(tok(cased).basic_tokenize("Café NAÏVE"), (Tokens{"Cafe", "NAIVE"}));
  TokenizerConfig lower_keep;
  lower_keep.strip_accents = 0;
  EXPECT_EQ(tok(lower_keep).basic_tokenize("Café"), (Tokens{"café"}));
  // A decomposed é (e + U+0301) composes to the vocabulary's é when accents are kept.
  EXPECT_EQ(tok(lower_keep).tokenize("cafe\xCC\x81"), (Tokens{"café"}));
}

TEST(Tokenizer, ControlCharactersGoWhitespaceSeparates) {
  // NUL, U+FFFD, a zero-width space (Cf) and BEL (Cc) vanish; tab, newline, NBSP separate.
  EXPECT_EQ(tok().basic_tokenize(std::string("ro\0ck", 5)), (Tokens{"rock"}));
  EXPECT_EQ(tok().basic_tokenize("ro\xEF\xBF\xBD"
                                 "ck pl\xE2\x80\x8B"
                                 "ay\x07"),
            (Tokens{"rock", "play"}));
  EXPECT_EQ(tok().basic_tokenize("rock\tplay\nhello\xC2\xA0world"),
            (Tokens{"rock", "play", "hello", "world"}));
}

TEST(Tokenizer, WordPieceGreedyLongestMatch) {
  EXPECT_EQ(tok().tokenize("playing plays Unaffable"),
            (Tokens{"play", "##ing", "play", "##s", "un", "##aff", "##able"}));
  // A word with any piece missing is one [UNK], not a partial match.
  EXPECT_EQ(tok().tokenize("playx rock"), (Tokens{"[UNK]", "rock"}));
  TokenizerConfig short_words;
  short_words.max_chars_per_word = 4;
  EXPECT_EQ(tok(short_words).tokenize("rock playing"), (Tokens{"rock", "[UNK]"}));
}

TEST(Tokenizer, EmojiAreWordsKnownOrUnknown) {
  EXPECT_EQ(tok().tokenize("rock🎸"), (Tokens{"[UNK]"}));  // one word, "##🎸" unknown
  EXPECT_EQ(tok().tokenize("rock 🎸 🎉"), (Tokens{"rock", "🎸", "[UNK]"}));
}

TEST(Tokenizer, EncodeAddsSpecialTokensAndTruncates) {
  const auto t = tok();
  EXPECT_EQ(t.encode("我爱歌"), (std::vector<int64_t>{2, 15, 16, 17, 3}));
  EXPECT_EQ(t.encode(""), (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(t.encode(" \t\n"), (std::vector<int64_t>{2, 3}));
  TokenizerConfig c;
  c.max_length = 4;
  bool cut = false;
  EXPECT_EQ(tok(c).encode("rock rock rock rock", &cut), (std::vector<int64_t>{2, 8, 8, 3}));
  EXPECT_TRUE(cut);
  EXPECT_EQ(tok(c).encode("rock rock", &cut), (std::vector<int64_t>{2, 8, 8, 3}));
  EXPECT_FALSE(cut);
}

TEST(Tokenizer, BatchPadsWithMask) {
  TokenizerConfig c;
  c.max_length = 4;
  const EncodedBatch b = tok(c).encode_batch({"rock", "", "rock rock rock"});
  EXPECT_EQ(b.length, 4);
  EXPECT_EQ(b.truncated, 1);
  EXPECT_EQ(b.flat_ids, (std::vector<int64_t>{2, 8, 3, 0, 2, 3, 0, 0, 2, 8, 8, 3}));
  EXPECT_EQ(b.flat_mask, (std::vector<int64_t>{1, 1, 1, 0, 1, 1, 0, 0, 1, 1, 1, 1}));
}

TEST(Tokenizer, VocabularyFilesAndErrors) {
  test::TempDir dir;
  tok().save(dir / "vocab.txt");
  const auto t = WordPieceTokenizer::from_file(dir / "vocab.txt");
  EXPECT_EQ(t.vocab(), small_vocab());
  EXPECT_EQ(t.id("rock"), 8);
  EXPECT_EQ(t.id("nope"), t.unk_id());
  EXPECT_EQ(t.token(8), "rock");
  EXPECT_THROW(t.token(99), ShapeError);
  EXPECT_THROW(WordPieceTokenizer::from_file(dir / "missing.txt"), IoError);
  dir.write("dup.txt", "[PAD]\n[UNK]\n[CLS]\n[SEP]\nrock\nrock\n");
  EXPECT_NE(test::error_of([&] {
              WordPieceTokenizer::from_file(dir / "dup.txt");
            }).find("'rock' appears twice (lines 5 and 6)"),
            std::string::npos);
  dir.write("nosep.txt", "[PAD]\n[UNK]\n[CLS]\nrock\n");
  EXPECT_NE(test::error_of([&] {
              WordPieceTokenizer::from_file(dir / "nosep.txt");
            }).find("no special token '[SEP]'"),
            std::string::npos);
  TokenizerConfig bad;
  bad.max_length = 1;
  EXPECT_THROW(tok(bad), ConfigError);
}

TEST(VocabBuilder, CoversTheCorpusWithCharactersAndPieces) {
  std::vector<std::string> corpus;
  for (int i = 0; i < 5; ++i) {
    corpus.push_back("一首欢快的摇滚歌曲，electric guitar and drums");
    corpus.push_back("悲伤的抒情歌曲 with soft piano, slow tempo");
    corpus.push_back("rocking guitars, fast drums");
  }
  corpus.push_back("罕");  // once: under min_frequency 2
  VocabBuilderConfig c;
  c.vocab_size = 400;
  VocabReport r;
  const auto vocab = build_vocab(corpus, c, &r);
  WordPieceTokenizer t(vocab);
  EXPECT_EQ(vocab[0], "[PAD]");
  EXPECT_EQ(r.texts, 16);
  EXPECT_EQ(r.dropped_rare, 1);
  EXPECT_GT(r.cjk_chars, 10);
  EXPECT_GT(r.pieces, 10);
  EXPECT_TRUE(t.contains("歌"));
  EXPECT_FALSE(t.contains("罕"));
  // Frequent words become whole tokens; nothing frequent is unknown.
  EXPECT_TRUE(t.contains("guitar"));
  for (const auto& text : corpus) {
    if (text == "罕") continue;
    for (const auto& piece : t.tokenize(text)) EXPECT_NE(piece, "[UNK]") << text;
  }
  EXPECT_EQ(t.tokenize("罕"), (Tokens{"[UNK]"}));
  // A small budget stops early, and the same corpus builds the same vocabulary.
  c.vocab_size = 40;
  EXPECT_EQ(build_vocab(corpus, c).size(), 40u);
  EXPECT_EQ(build_vocab(corpus, c), build_vocab(corpus, c));
}

}  // namespace
}  // namespace mudit::text
