#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <torch/types.h>

#include <cstring>

#include "mudit/core/error.h"
#include "mudit/core/fs.h"
#include "mudit/core/safetensors.h"
#include "unit/test_util.h"

namespace mudit {
namespace {

using ::testing::HasSubstr;

// A file with an arbitrary header and data section, for the malformed-input tests.
std::filesystem::path raw_file(const test::TempDir& dir, const std::string& header,
                               const std::string& data, uint64_t declared_length = UINT64_MAX) {
  const uint64_t n = declared_length == UINT64_MAX ? header.size() : declared_length;
  std::string bytes(8, '\0');
  std::memcpy(bytes.data(), &n, 8);
  bytes += header + data;
  return dir.write("raw.safetensors", bytes);
}

std::string open_error(const std::filesystem::path& path) {
  try {
    SafetensorsReader reader(path);
  } catch (const IoError& e) {
    return e.what();
  }
  return "<no error>";
}

std::map<std::string, torch::Tensor> every_dtype() {
  torch::manual_seed(0);
  return {
      {"f64", torch::randn({3, 2}, torch::kDouble)},
      {"f32", torch::randn({4, 5})},
      {"f16", torch::randn({7}).to(torch::kHalf)},
      {"bf16", torch::randn({2, 3}).to(torch::kBFloat16)},
      {"i64", torch::arange(-5, 5, torch::kLong)},
      {"i32", torch::tensor({-2147483647 - 1, 0, 2147483647}, torch::kInt)},
      {"i16", torch::tensor({-32768, 1, 32767}, torch::kShort)},
      {"i8", torch::tensor({-128, 0, 127}, torch::kChar)},
      {"u8", torch::tensor({0, 17, 255}, torch::kByte)},
      {"bool", torch::tensor({true, false, true})},
      {"scalar", torch::tensor(3.5)},
      {"empty", torch::zeros({0, 4})},
  };
}

TEST(Safetensors, RoundTripsEveryDtypeExactly) {
  test::TempDir dir;
  const auto tensors = every_dtype();
  const std::map<std::string, std::string> meta{{"mudit.arch", "test"}, {"note", "é \"q\"\n"}};
  save_safetensors(dir / "all.safetensors", tensors, meta);
  const TensorFile back = load_safetensors(dir / "all.safetensors");
  EXPECT_EQ(back.metadata, meta);
  ASSERT_EQ(back.tensors.size(), tensors.size());
  for (const auto& [name, t] : tensors) {
    const auto& u = back.tensors.at(name);
    EXPECT_EQ(u.scalar_type(), t.scalar_type()) << name;
    EXPECT_EQ(u.sizes(), t.sizes()) << name;
    EXPECT_TRUE(torch::equal(u, t)) << name;
  }
}

TEST(Safetensors, EncodedBytesEqualTheSavedFile) {
  test::TempDir dir;
  const auto tensors = every_dtype();
  save_safetensors(dir / "a.safetensors", tensors, {{"k", "v"}});
  EXPECT_EQ(read_file(dir / "a.safetensors"), encode_safetensors(tensors, {{"k", "v"}}));
}

TEST(Safetensors, LayoutIsAligned) {
  test::TempDir dir;
  save_safetensors(dir / "a.safetensors", every_dtype());
  SafetensorsReader reader(dir / "a.safetensors");
  EXPECT_EQ(reader.header_bytes() % 8, 0u);
  for (const auto& e : reader.entries()) {
    EXPECT_EQ(e.begin % c10::elementSize(e.dtype), 0u) << e.name;
  }
}

TEST(Safetensors, ViewsShareTheMappingAndOutliveTheReader) {
  test::TempDir dir;
  const auto x = torch::arange(12, torch::kFloat).reshape({3, 4});
  save_safetensors(dir / "v.safetensors", {{"x", x}});
  torch::Tensor view;
  {
    SafetensorsReader reader(dir / "v.safetensors");
    view = reader.tensor_view("x");
  }
  EXPECT_TRUE(torch::equal(view, x));
  view.add_(1);  // private to this process: the file is unchanged
  EXPECT_TRUE(torch::equal(load_safetensors(dir / "v.safetensors").tensors.at("x"), x));
}

TEST(Safetensors, NonContiguousAndStridedInputsAreWrittenAsValues) {
  test::TempDir dir;
  const auto base = torch::arange(24, torch::kFloat).reshape({4, 6});
  const auto t = base.t().slice(0, 1, 5, 2);  // [2, 4], not contiguous
  save_safetensors(dir / "s.safetensors", {{"t", t}});
  EXPECT_TRUE(torch::equal(load_safetensors(dir / "s.safetensors").tensors.at("t"), t));
}

TEST(Safetensors, MissingTensorAndFile) {
  test::TempDir dir;
  save_safetensors(dir / "a.safetensors", {{"x", torch::ones({2})}});
  SafetensorsReader reader(dir / "a.safetensors");
  EXPECT_THAT([&] { reader.tensor("y"); }, ::testing::Throws<IoError>());
  EXPECT_THAT(open_error(dir / "nope.safetensors"), HasSubstr("nope.safetensors: no such file"));
}

TEST(Safetensors, UnsupportedDtypeIsRefusedOnWrite) {
  test::TempDir dir;
  EXPECT_THROW(
      save_safetensors(dir / "c.safetensors", {{"c", torch::ones({2}, torch::kComplexFloat)}}),
      IoError);
  EXPECT_FALSE(std::filesystem::exists(dir / "c.safetensors"));
}

// ---- malformed and malicious files: one clear IoError each, never a crash or a huge allocation

TEST(SafetensorsMalformed, TruncatedBeforeTheLength) {
  test::TempDir dir;
  EXPECT_THAT(open_error(dir.write("t.safetensors", "abc")), HasSubstr("truncated (3 bytes"));
}

TEST(SafetensorsMalformed, HeaderLongerThanTheFile) {
  test::TempDir dir;
  EXPECT_THAT(open_error(raw_file(dir, "{}", "", 4096)),
              HasSubstr("truncated (header length 4096 but only 2 bytes follow)"));
}

TEST(SafetensorsMalformed, HugeHeaderLengthIsRefusedWithoutAllocating) {
  test::TempDir dir;
  EXPECT_THAT(open_error(raw_file(dir, "{}", "", 1ull << 62)), HasSubstr("implausible"));
}

TEST(SafetensorsMalformed, TruncatedData) {
  test::TempDir dir;
  const std::string bytes = encode_safetensors({{"x", torch::ones({64})}});
  const auto path = dir.write("t.safetensors", bytes.substr(0, bytes.size() - 10));
  EXPECT_THAT(open_error(path), HasSubstr("outside the data section"));
}

TEST(SafetensorsMalformed, BadHeaders) {
  test::TempDir dir;
  const std::string data16(16, '\0');
  struct Case {
    std::string header, data, expected;
  };
  const std::vector<Case> cases = {
      {"{\"x\":", data16, "unexpected end"},
      {"[1,2]", "", "not a JSON object"},
      {R"({"x":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}} trailing)", data16,
       "unexpected text"},
      {R"({"x":{"dtype":"Q8","shape":[4],"data_offsets":[0,16]}})", data16,
       "unsupported dtype 'Q8'"},
      {R"({"x":{"dtype":"F32","shape":[5],"data_offsets":[0,16]}})", data16,
       "shape needs 20 bytes but data_offsets give 16"},
      {R"({"x":{"dtype":"F32","shape":[-4],"data_offsets":[0,16]}})", data16, "bad dimension '-4'"},
      {R"({"x":{"dtype":"F32","shape":[4.0],"data_offsets":[0,16]}})", data16,
       "bad dimension '4.0'"},
      {R"({"x":{"dtype":"F32","shape":[4],"data_offsets":[0,999999]}})", data16,
       "outside the data section"},
      {R"({"x":{"dtype":"F32","shape":[4],"data_offsets":[16,0]}})", data16,
       "outside the data section"},
      {R"({"x":{"dtype":"F32","shape":[4294967296,4294967296,4294967296],"data_offsets":[0,16]}})",
       data16, "overflows"},
      {R"({"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]},"b":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}})",
       data16, "overlap the previous tensor"},
      {R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}})", data16,
       "leave a gap after the previous tensor"},
      {R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})", data16,
       "8 bytes after the last tensor"},
      {R"({"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]},"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}})",
       data16, "duplicate key \"a\""},
      {R"({"a":{"dtype":"F32","shape":[4]}})", data16, "needs dtype, shape and data_offsets"},
      {R"({"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16],"extra":1}})", data16,
       "unknown field 'extra'"},
      {R"({"__metadata__":{"k":3}})", "", "__metadata__ value of 'k' is not a string"},
      {R"({"a":[[[[[[[[[[[[1]]]]]]]]]]]]})", "", "nested too deeply"},
      {"{\"a\u0001\":1}", "", "control character"},
      {R"({"\ud800":1})", "", "unpaired surrogate"},
  };
  for (const auto& c : cases) {
    EXPECT_THAT(open_error(raw_file(dir, c.header, c.data)), HasSubstr(c.expected)) << c.header;
  }
}

TEST(SafetensorsMalformed, ErrorsNameTheFile) {
  test::TempDir dir;
  EXPECT_THAT(open_error(raw_file(dir, "{", "")),
              HasSubstr("raw.safetensors: bad safetensors header"));
}

TEST(Safetensors, EscapedNamesRoundTrip) {
  test::TempDir dir;
  const std::string name = "layer.0/\"quoted\"\\\tname\xe6\xad\x8c";  // includes UTF-8 (歌)
  save_safetensors(dir / "n.safetensors", {{name, torch::ones({1})}});
  SafetensorsReader reader(dir / "n.safetensors");
  EXPECT_TRUE(reader.contains(name));
  // \u escapes written by other tools decode to UTF-8.
  const auto path = raw_file(
      dir, R"({"\u6b4c\ud83c\udfb5":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}})", "x");
  EXPECT_TRUE(SafetensorsReader(path).contains("\xe6\xad\x8c\xf0\x9f\x8e\xb5"));
}

}  // namespace
}  // namespace mudit
