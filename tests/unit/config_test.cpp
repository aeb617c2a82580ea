#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <optional>

#include "mudit/core/config.h"
#include "unit/test_util.h"

namespace mudit {
namespace {

using test::TempDir;
using ::testing::HasSubstr;

struct OptimConfig {
  std::string kind = "adamw";
  double lr = 1e-4;
  std::vector<double> betas{0.9, 0.999};

  template <class V>
  void visit(V& v) {
    v("kind", kind);
    v("lr", lr);
    v("betas", betas);
  }
  void validate() const {
    check_choice("kind", kind, {"adam", "adamw"});
    MUDIT_CHECK(lr > 0, ConfigError, "lr must be positive, got ", lr);
  }
};

struct ModelConfig {
  std::string name = "tiny";
  int64_t hidden = 64;
  int depth = 2;
  float dropout = 0.1f;
  bool checkpointing = false;
  uint64_t seed = 7;
  std::vector<int64_t> strides{2, 4};
  std::optional<int> max_frames;
  std::map<std::string, double> loss_weights{{"mel", 45.0}};
  OptimConfig optim;

  template <class V>
  void visit(V& v) {
    v("name", name);
    v("hidden", hidden);
    v("depth", depth);
    v("dropout", dropout);
    v("checkpointing", checkpointing);
    v("seed", seed);
    v("strides", strides);
    v("max_frames", max_frames);
    v("loss_weights", loss_weights);
    v("optim", optim);
  }
  void validate() const { MUDIT_CHECK(depth >= 1, ConfigError, "depth must be >= 1, got ", depth); }
};

struct RootConfig {
  ModelConfig model;
  std::string out = "runs/default";
  template <class V>
  void visit(V& v) {
    v("model", model);
    v("out", out);
  }
};

RootConfig bind_text(const std::string& text, const std::string& source = "test.yaml") {
  return bind_config<RootConfig>(parse_config_text(text, source));
}

using test::error_of;

TEST(Config, EmptyConfigGivesDefaults) {
  const RootConfig c = bind_text("");
  EXPECT_EQ(c.model.hidden, 64);
  EXPECT_EQ(c.model.optim.kind, "adamw");
  EXPECT_EQ(c.model.strides, (std::vector<int64_t>{2, 4}));
  EXPECT_FALSE(c.model.max_frames.has_value());
  EXPECT_EQ(c.out, "runs/default");
}

TEST(Config, BindsEveryFieldType) {
  const RootConfig c = bind_text(R"(
model:
  name: big
  hidden: 1536
  depth: 8
  dropout: 0.25
  checkpointing: yes
  seed: 0x10
  strides: [2, 2, 4]
  max_frames: 1536
  loss_weights: {mel: 15, kl: 0.01}
  optim: {kind: adam, lr: 2.0e-4, betas: [0.8, 0.99]}
out: runs/big
)");
  EXPECT_EQ(c.model.name, "big");
  EXPECT_EQ(c.model.hidden, 1536);
  EXPECT_EQ(c.model.depth, 8);
  EXPECT_FLOAT_EQ(c.model.dropout, 0.25f);
  EXPECT_TRUE(c.model.checkpointing);
  EXPECT_EQ(c.model.seed, 16u);
  EXPECT_EQ(c.model.strides, (std::vector<int64_t>{2, 2, 4}));
  ASSERT_TRUE(c.model.max_frames.has_value());
  EXPECT_EQ(*c.model.max_frames, 1536);
  EXPECT_DOUBLE_EQ(c.model.loss_weights.at("kl"), 0.01);
  EXPECT_EQ(c.model.loss_weights.size(), 2u);
  EXPECT_EQ(c.model.optim.kind, "adam");
  EXPECT_DOUBLE_EQ(c.model.optim.lr, 2e-4);
  EXPECT_EQ(c.model.optim.betas, (std::vector<double>{0.8, 0.99}));
  EXPECT_EQ(c.out, "runs/big");
}

TEST(Config, NullKeepsTheDefault) {
  const RootConfig c = bind_text("model:\n  hidden:\n  optim:\n");
  EXPECT_EQ(c.model.hidden, 64);
  EXPECT_EQ(c.model.optim.lr, 1e-4);
}

TEST(Config, IncludeDeepMergesAndTheIncluderWins) {
  TempDir dir;
  dir.write("presets/base.yaml", R"(
model:
  hidden: 128
  depth: 4
  optim: {lr: 0.001, kind: adam}
out: runs/base
)");
  dir.write("presets/wide.yaml", "model: {hidden: 256, strides: [8]}\n");
  const auto child = dir.write("exp.yaml", R"(
include: [presets/base.yaml, presets/wide.yaml]
model:
  depth: 8
  optim: {lr: 0.002}
)");
  const RootConfig c = bind_config<RootConfig>(load_config_file(child));
  EXPECT_EQ(c.model.hidden, 256);                         // second include overrides the first
  EXPECT_EQ(c.model.depth, 8);                            // the including file overrides both
  EXPECT_DOUBLE_EQ(c.model.optim.lr, 0.002);              // deep merge: sibling keys survive ...
  EXPECT_EQ(c.model.optim.kind, "adam");                  // ... from the included file
  EXPECT_EQ(c.model.strides, (std::vector<int64_t>{8}));  // lists are replaced, not merged
  EXPECT_EQ(c.out, "runs/base");
}

TEST(Config, NestedIncludesResolveRelativeToTheirOwnFile) {
  TempDir dir;
  dir.write("a/b/leaf.yaml", "model: {depth: 5}\n");
  dir.write("a/mid.yaml", "include: b/leaf.yaml\nmodel: {hidden: 32}\n");
  const auto top = dir.write("top.yaml", "include: a/mid.yaml\n");
  const RootConfig c = bind_config<RootConfig>(load_config_file(top));
  EXPECT_EQ(c.model.depth, 5);
  EXPECT_EQ(c.model.hidden, 32);
}

TEST(Config, IncludeInsideANestedMapFillsThatMap) {
  TempDir dir;
  dir.write("presets/model.yaml", "hidden: 64\ndepth: 6\noptim: {include: optim.yaml}\n");
  dir.write("presets/optim.yaml", "lr: 0.01\nkind: adam\n");
  const auto top = dir.write("exp.yaml", "model: {include: presets/model.yaml, depth: 2}\n");
  const RootConfig c = bind_config<RootConfig>(load_config_file(top));
  EXPECT_EQ(c.model.hidden, 64);
  EXPECT_EQ(c.model.depth, 2);               // the map's own keys win
  EXPECT_DOUBLE_EQ(c.model.optim.lr, 0.01);  // an include inside the included preset
  EXPECT_EQ(c.model.optim.kind, "adam");
  // Cycles through nested includes are caught too.
  const auto loop = dir.write("loop.yaml", "model: {include: loop.yaml}\n");
  EXPECT_THAT(error_of([&] { load_config_file(loop); }), HasSubstr("include cycle"));
}

TEST(Config, IncludeCycleIsAnError) {
  TempDir dir;
  dir.write("a.yaml", "include: b.yaml\n");
  const auto b = dir.write("b.yaml", "include: a.yaml\n");
  EXPECT_THAT(error_of([&] { load_config_file(b); }), HasSubstr("include cycle"));
}

TEST(Config, MissingIncludeNamesTheFileAndTheLine) {
  TempDir dir;
  const auto f = dir.write("exp.yaml", "out: x\ninclude: nowhere.yaml\n");
  try {
    load_config_file(f);
    FAIL();
  } catch (const IoError& e) {
    EXPECT_THAT(e.what(), HasSubstr("nowhere.yaml: no such file"));
    EXPECT_THAT(e.what(), HasSubstr("included from " + f.string() + ":2:"));
  }
}

TEST(Config, LaterFilesWin) {
  TempDir dir;
  const auto a = dir.write("a.yaml", "model: {hidden: 10, depth: 3}\n");
  const auto b = dir.write("b.yaml", "model: {hidden: 20}\n");
  const RootConfig c = bind_config<RootConfig>(resolve_config({a, b}, {}));
  EXPECT_EQ(c.model.hidden, 20);
  EXPECT_EQ(c.model.depth, 3);
}

TEST(Config, SetOverridesAreTyped) {
  TempDir dir;
  const auto a = dir.write("a.yaml", "model: {hidden: 10}\n");
  const RootConfig c = bind_config<RootConfig>(resolve_config(
      {a}, {"model.hidden=4096", "model.dropout=0.5", "model.checkpointing=true", "model.name=wide",
            "model.strides=[3, 5, 7]", "model.optim.betas=[0.5, 0.6]", "out='123'"}));
  EXPECT_EQ(c.model.hidden, 4096);
  EXPECT_FLOAT_EQ(c.model.dropout, 0.5f);
  EXPECT_TRUE(c.model.checkpointing);
  EXPECT_EQ(c.model.name, "wide");
  EXPECT_EQ(c.model.strides, (std::vector<int64_t>{3, 5, 7}));
  EXPECT_EQ(c.model.optim.betas, (std::vector<double>{0.5, 0.6}));
  EXPECT_EQ(c.out, "123");
}

TEST(Config, SetCreatesMissingMapsAndMergesMaps) {
  const ConfigNode root = resolve_config({}, {"model.optim.lr=0.5", "model.optim={kind: adam}"});
  const RootConfig c = bind_config<RootConfig>(root);
  EXPECT_DOUBLE_EQ(c.model.optim.lr, 0.5);  // the later map override merged, not replaced
  EXPECT_EQ(c.model.optim.kind, "adam");
}

TEST(Config, SetOverridesAppliedBeforeValidation) {
  // The file alone is invalid; the override fixes it before validate() runs.
  TempDir dir;
  const auto a = dir.write("a.yaml", "model: {depth: 0}\n");
  EXPECT_THROW(bind_config<RootConfig>(resolve_config({a}, {})), ConfigError);
  EXPECT_EQ(bind_config<RootConfig>(resolve_config({a}, {"model.depth=2"})).model.depth, 2);
}

TEST(Config, MalformedSetIsAnError) {
  EXPECT_THAT(error_of([] { resolve_config({}, {"noequals"}); }),
              HasSubstr("expected key.path=value"));
  EXPECT_THAT(error_of([] { resolve_config({}, {"=3"}); }), HasSubstr("expected key.path=value"));
  EXPECT_THAT(error_of([] { resolve_config({}, {"a..b=1"}); }), HasSubstr("bad key path"));
  EXPECT_THAT(error_of([] {
                resolve_config({}, {"out=x", "out.sub=1"});
              }),
              HasSubstr("'out' holds a value, not a map"));
}

TEST(Config, UnknownKeyNamesFileKeyAndSuggestion) {
  TempDir dir;
  const auto f = dir.write("exp.yaml", "model:\n  hidden: 3\n  dpth: 4\n");
  const std::string msg = error_of([&] { bind_config<RootConfig>(load_config_file(f)); });
  EXPECT_THAT(msg, HasSubstr(f.string() + ":3:"));
  EXPECT_THAT(msg, HasSubstr("unknown key 'model.dpth'"));
  EXPECT_THAT(msg, HasSubstr("did you mean 'model.depth'?"));
}

TEST(Config, UnknownKeyWithoutCloseMatchListsValidKeys) {
  const std::string msg = error_of([] { bind_text("model:\n  optim: {zzzzzzzz: 1}\n"); });
  EXPECT_THAT(msg, HasSubstr("unknown key 'model.optim.zzzzzzzz'"));
  EXPECT_THAT(msg, HasSubstr("valid keys of 'model.optim': kind, lr, betas"));
}

TEST(Config, UnknownKeyFromSetNamesTheOverride) {
  const std::string msg =
      error_of([] { bind_config<RootConfig>(resolve_config({}, {"model.hiden=3"})); });
  EXPECT_THAT(msg, HasSubstr("--set model.hiden=3"));
  EXPECT_THAT(msg, HasSubstr("did you mean 'model.hidden'?"));
}

TEST(Config, TypeErrorNamesFileLineAndColumn) {
  TempDir dir;
  const auto f = dir.write("exp.yaml", "out: x\nmodel:\n  depth: deep\n");
  const std::string msg = error_of([&] { bind_config<RootConfig>(load_config_file(f)); });
  EXPECT_THAT(msg, HasSubstr(f.string() + ":3:10: model.depth: expected an integer, got 'deep'"));
}

TEST(Config, TypeErrorsForEveryKind) {
  EXPECT_THAT(error_of([] { bind_text("model: {checkpointing: maybe}"); }),
              HasSubstr("model.checkpointing: expected true or false, got 'maybe'"));
  EXPECT_THAT(error_of([] { bind_text("model: {dropout: [1]}"); }),
              HasSubstr("model.dropout: expected a number, got a list"));
  EXPECT_THAT(error_of([] { bind_text("model: {strides: 3}"); }),
              HasSubstr("model.strides: expected a list, got '3'"));
  EXPECT_THAT(error_of([] { bind_text("model: {strides: [1, x]}"); }),
              HasSubstr("model.strides[1]: expected an integer, got 'x'"));
  EXPECT_THAT(error_of([] { bind_text("model: 5"); }), HasSubstr("model: expected a map, got '5'"));
  EXPECT_THAT(error_of([] { bind_text("model: {depth: 1.5}"); }),
              HasSubstr("not a whole number in range"));
  EXPECT_THAT(error_of([] { bind_text("model: {depth: 99999999999}"); }),
              HasSubstr("not a whole number in range"));
  EXPECT_THAT(error_of([] { bind_text("model: {seed: -1}"); }),
              HasSubstr("expected a non-negative integer"));
}

TEST(Config, ValidationErrorsCarryThePath) {
  EXPECT_THAT(error_of([] { bind_text("model: {depth: 0}", "v.yaml"); }),
              HasSubstr("v.yaml:1:8: model: depth must be >= 1, got 0"));
  EXPECT_THAT(
      error_of([] { bind_text("model: {optim: {kind: adamw2}}"); }),
      HasSubstr("model.optim: kind: 'adamw2' is not one of adam, adamw (did you mean 'adamw'?)"));
}

TEST(Config, SyntaxErrorNamesTheLine) {
  const std::string msg = error_of([] { parse_config_text("a: [1, 2\nb: 3\n", "broken.yaml"); });
  EXPECT_THAT(msg, HasSubstr("broken.yaml:"));
  EXPECT_THAT(msg, HasSubstr("YAML syntax error"));
}

TEST(Config, DuplicateKeysAreErrors) {
  EXPECT_THAT(error_of([] { parse_config_text("a: 1\na: 2\n", "dup.yaml"); }),
              HasSubstr("dup.yaml:2:1: duplicate key 'a'"));
}

TEST(Config, NonMapFileIsAnError) {
  TempDir dir;
  const auto f = dir.write("list.yaml", "- 1\n- 2\n");
  EXPECT_THAT(error_of([&] { load_config_file(f); }), HasSubstr("must be a map"));
}

TEST(Config, DumpRoundTripsEveryField) {
  RootConfig c;
  c.model.name = "true";  // a string that looks like a bool must come back as a string
  c.model.hidden = 1536;
  c.model.dropout = 0.3f;
  c.model.max_frames = 99;
  c.model.strides = {};
  c.model.optim.lr = 3.5e-5;
  c.model.loss_weights = {{"mel", 45.0}, {"stft", 1.0}};
  c.out = "";
  const std::string yaml = dump_config(c);
  const RootConfig back = bind_text(yaml);
  EXPECT_EQ(back.model.name, "true");
  EXPECT_EQ(back.model.hidden, 1536);
  EXPECT_FLOAT_EQ(back.model.dropout, 0.3f);
  EXPECT_EQ(back.model.max_frames, 99);
  EXPECT_TRUE(back.model.strides.empty());
  EXPECT_DOUBLE_EQ(back.model.optim.lr, 3.5e-5);
  EXPECT_EQ(back.model.loss_weights, c.model.loss_weights);
  EXPECT_EQ(back.out, "");
  EXPECT_EQ(dump_config(back), yaml);
}

// Found by fuzz_config: yaml-cpp wrote a lone "\r" as a plain scalar, which read back as null.
TEST(Config, ControlCharactersInTextSurviveEmitAndParse) {
  for (const std::string text : {"\r", "a\rb", "tab\there", "bell\x07", "del\x7f", "line\n"}) {
    ConfigNode map = ConfigNode::map();
    map.set("k", ConfigNode::scalar(text));
    const std::string yaml = to_yaml(map);
    const ConfigNode back = parse_config_text(yaml, "emitted");
    ASSERT_TRUE(back.find("k") && back.find("k")->is_scalar()) << yaml;
    EXPECT_EQ(back.find("k")->text(), text) << yaml;
    EXPECT_EQ(to_yaml(back), yaml);
  }
}

// Found by fuzz_config: an alias inside the map it names made a cycle, and the conversion
// recursed until the stack overflowed.
TEST(Config, RecursiveAliasesDeepNestingAndNonUtf8AreErrors) {
  EXPECT_THROW(parse_config_text("a: &x {b: *x}\n", "cycle"), ConfigError);
  EXPECT_THROW(parse_config_text(std::string(100, '[') + std::string(100, ']'), "deep"),
               ConfigError);
  EXPECT_NO_THROW(parse_config_text(std::string(20, '[') + std::string(20, ']'), "fine"));
  // Text that is not UTF-8 (yaml-cpp would replace the bytes silently; found by fuzz_config).
  try {
    parse_config_text("a: 1\nb: caf\xE9\n", "run.yaml");
    FAIL() << "no error";
  } catch (const ConfigError& e) {
    EXPECT_STREQ(e.what(), "run.yaml: not UTF-8 text (line 2, byte 11)");
  }
}

TEST(Config, BindSubtreeByPath) {
  const ConfigNode root = parse_config_text("model: {optim: {lr: 0.5}}", "t.yaml");
  EXPECT_DOUBLE_EQ(bind_config<OptimConfig>(root, "model.optim").lr, 0.5);
  EXPECT_DOUBLE_EQ(bind_config<OptimConfig>(root, "model.missing").lr, 1e-4);
}

TEST(Config, WriteConfigFileIsAtomic) {
  TempDir dir;
  write_config_file(dir / "run", "a: 1\n");
  EXPECT_EQ(test::read_file(dir / "run" / "config.yaml"), "a: 1\n");
  write_config_file(dir / "run", "a: 2\n");
  EXPECT_EQ(test::read_file(dir / "run" / "config.yaml"), "a: 2\n");
  size_t files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir / "run")) {
    (void)entry;
    ++files;
  }
  EXPECT_EQ(files, 1u);  // no temp file left behind
}

TEST(Config, ClosestMatch) {
  EXPECT_EQ(closest_match("dpth", {"depth", "hidden"}), "depth");
  EXPECT_EQ(closest_match("hiddne", {"depth", "hidden"}), "hidden");
  EXPECT_EQ(closest_match("zzzzzz", {"depth", "hidden"}), "");
}

}  // namespace
}  // namespace mudit
