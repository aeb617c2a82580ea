#include "mudit/core/safetensors.h"

#include <ATen/ops/empty.h>
#include <ATen/ops/from_blob.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <limits>
#include <numeric>

#include "mudit/core/error.h"
#include "mudit/core/fs.h"
#include "mudit/core/utf8.h"

namespace mudit {
namespace fs = std::filesystem;

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
              "safetensors data is little-endian; mudit assumes a little-endian host");

namespace {

// Headers beyond this are refused before anything is allocated (real headers are kilobytes to a
// few megabytes; the reference implementation refuses above 100 MB too).
constexpr uint64_t kMaxHeaderBytes = 100ull << 20;
constexpr int kMaxJsonDepth = 8;

// ---------------------------------------------------------------------------------------------
// A strict JSON reader for the safetensors header. mudit::core links nothing but LibTorch, so it
// cannot use a JSON library; the header grammar is small: objects, strings, arrays and
// non-negative integers.

struct Json {
  enum class Type { kNull, kBool, kNumber, kString, kArray, kObject } type = Type::kNull;
  std::string text;      // string value, or the number's literal
  bool is_uint = false;  // number is a non-negative integer that fits uint64
  uint64_t uint_value = 0;
  std::vector<Json> items;
  std::vector<std::pair<std::string, Json>> members;
};

class JsonParser {
 public:
  JsonParser(std::string_view text, const std::string& file) : s_(text), file_(file) {}

  Json parse_document() {
    Json v = parse_value(0);
    skip_ws();
    if (pos_ != s_.size()) fail("unexpected text after the header object");
    return v;
  }

 private:
  [[noreturn]] void fail(const std::string& what) const {
    MUDIT_THROW(IoError, file_, ": bad safetensors header at byte ", 8 + pos_, ": ", what);
  }

  void skip_ws() {
    while (pos_ < s_.size() &&
           (s_[pos_] == ' ' || s_[pos_] == '\n' || s_[pos_] == '\r' || s_[pos_] == '\t')) {
      ++pos_;
    }
  }

  bool consume(char c) {
    skip_ws();
    if (pos_ < s_.size() && s_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }

  void expect(char c) {
    if (!consume(c)) fail(std::string("expected '") + c + "'");
  }

  bool literal(std::string_view word) {
    if (s_.substr(pos_, word.size()) == word) {
      pos_ += word.size();
      return true;
    }
    return false;
  }

  Json parse_value(int depth) {
    if (depth > kMaxJsonDepth) fail("nested too deeply");
    skip_ws();
    if (pos_ >= s_.size()) fail("unexpected end");
    const char c = s_[pos_];
    Json v;
    if (c == '{') {
      ++pos_;
      v.type = Json::Type::kObject;
      if (consume('}')) return v;
      do {
        skip_ws();
        std::string key = parse_string();
        expect(':');
        for (const auto& m : v.members) {
          if (m.first == key) fail("duplicate key \"" + key + "\"");
        }
        v.members.emplace_back(std::move(key), parse_value(depth + 1));
      } while (consume(','));
      expect('}');
    } else if (c == '[') {
      ++pos_;
      v.type = Json::Type::kArray;
      if (consume(']')) return v;
      do {
        v.items.push_back(parse_value(depth + 1));
      } while (consume(','));
      expect(']');
    } else if (c == '"') {
      v.type = Json::Type::kString;
      v.text = parse_string();
    } else if (c == '-' || (c >= '0' && c <= '9')) {
      parse_number(v);
    } else if (literal("true") || literal("false")) {
      v.type = Json::Type::kBool;
    } else if (literal("null")) {
      v.type = Json::Type::kNull;
    } else {
      fail(std::string("unexpected character '") + c + "'");
    }
    return v;
  }

  void parse_number(Json& v) {
    const size_t start = pos_;
    if (s_[pos_] == '-') ++pos_;
    while (pos_ < s_.size() && std::isdigit(static_cast<unsigned char>(s_[pos_]))) ++pos_;
    bool integer = true;
    if (pos_ < s_.size() && s_[pos_] == '.') {
      integer = false;
      ++pos_;
      while (pos_ < s_.size() && std::isdigit(static_cast<unsigned char>(s_[pos_]))) ++pos_;
    }
    if (pos_ < s_.size() && (s_[pos_] == 'e' || s_[pos_] == 'E')) {
      integer = false;
      ++pos_;
      if (pos_ < s_.size() && (s_[pos_] == '+' || s_[pos_] == '-')) ++pos_;
      while (pos_ < s_.size() && std::isdigit(static_cast<unsigned char>(s_[pos_]))) ++pos_;
    }
    v.type = Json::Type::kNumber;
    v.text = std::string(s_.substr(start, pos_ - start));
    if (v.text == "-" || v.text.empty()) fail("malformed number");
    if (integer && v.text[0] != '-') {
      uint64_t value = 0;
      bool overflow = false;
      for (char d : v.text) {
        const uint64_t digit = static_cast<uint64_t>(d - '0');
        if (value > (std::numeric_limits<uint64_t>::max() - digit) / 10) overflow = true;
        value = value * 10 + digit;
      }
      v.is_uint = !overflow;
      v.uint_value = value;
    }
  }

  std::string parse_string() {
    if (pos_ >= s_.size() || s_[pos_] != '"') fail("expected a string");
    ++pos_;
    std::string out;
    while (true) {
      if (pos_ >= s_.size()) fail("unterminated string");
      const char c = s_[pos_++];
      if (c == '"') break;
      if (static_cast<unsigned char>(c) < 0x20) fail("control character in string");
      if (c != '\\') {
        out += c;
        continue;
      }
      if (pos_ >= s_.size()) fail("unterminated escape");
      const char e = s_[pos_++];
      switch (e) {
        case '"':
          out += '"';
          break;
        case '\\':
          out += '\\';
          break;
        case '/':
          out += '/';
          break;
        case 'b':
          out += '\b';
          break;
        case 'f':
          out += '\f';
          break;
        case 'n':
          out += '\n';
          break;
        case 'r':
          out += '\r';
          break;
        case 't':
          out += '\t';
          break;
        case 'u':
          utf8::append(out, parse_code_point());
          break;
        default:
          fail(std::string("bad escape '\\") + e + "'");
      }
    }
    return out;
  }

  uint32_t parse_hex4() {
    if (pos_ + 4 > s_.size()) fail("truncated \\u escape");
    uint32_t v = 0;
    for (int i = 0; i < 4; ++i) {
      const char h = s_[pos_++];
      v <<= 4;
      if (h >= '0' && h <= '9')
        v |= static_cast<uint32_t>(h - '0');
      else if (h >= 'a' && h <= 'f')
        v |= static_cast<uint32_t>(h - 'a' + 10);
      else if (h >= 'A' && h <= 'F')
        v |= static_cast<uint32_t>(h - 'A' + 10);
      else
        fail("bad hex digit in \\u escape");
    }
    return v;
  }

  uint32_t parse_code_point() {
    uint32_t cp = parse_hex4();
    if (cp >= 0xD800 && cp <= 0xDBFF) {
      if (!literal("\\u")) fail("unpaired surrogate");
      const uint32_t low = parse_hex4();
      if (low < 0xDC00 || low > 0xDFFF) fail("unpaired surrogate");
      cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
    } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
      fail("unpaired surrogate");
    }
    return cp;
  }

  std::string_view s_;
  const std::string& file_;
  size_t pos_ = 0;
};

void append_json_string(std::string& out, const std::string& s) {
  static const char* kHex = "0123456789abcdef";
  out += '"';
  for (unsigned char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < 0x20) {
          out += "\\u00";
          out += kHex[c >> 4];
          out += kHex[c & 0xF];
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  out += '"';
}

// ---------------------------------------------------------------------------------------------
// Header validation

uint64_t checked_numel_bytes(const TensorEntry& e, const std::string& file) {
  uint64_t count = 1;
  for (int64_t d : e.shape) {
    const auto du = static_cast<uint64_t>(d);
    MUDIT_CHECK(du == 0 || count <= std::numeric_limits<uint64_t>::max() / du, IoError, file,
                ": tensor '", e.name, "': shape overflows");
    count *= du;
  }
  const uint64_t elem = c10::elementSize(e.dtype);
  MUDIT_CHECK(count <= std::numeric_limits<uint64_t>::max() / elem, IoError, file, ": tensor '",
              e.name, "': shape overflows");
  return count * elem;
}

void parse_header(std::string_view text, uint64_t data_size, const std::string& file,
                  std::vector<TensorEntry>& entries, std::map<std::string, std::string>& metadata) {
  const Json root = JsonParser(text, file).parse_document();
  MUDIT_CHECK(root.type == Json::Type::kObject, IoError, file,
              ": bad safetensors header: not a JSON object");
  for (const auto& [name, value] : root.members) {
    if (name == "__metadata__") {
      MUDIT_CHECK(value.type == Json::Type::kObject, IoError, file,
                  ": __metadata__ must be an object of strings");
      for (const auto& [k, v] : value.members) {
        MUDIT_CHECK(v.type == Json::Type::kString, IoError, file, ": __metadata__ value of '", k,
                    "' is not a string");
        metadata[k] = v.text;
      }
      continue;
    }
    MUDIT_CHECK(value.type == Json::Type::kObject, IoError, file, ": tensor '", name,
                "': entry is not an object");
    TensorEntry e;
    e.name = name;
    bool have_dtype = false, have_shape = false, have_offsets = false;
    for (const auto& [k, v] : value.members) {
      if (k == "dtype") {
        MUDIT_CHECK(v.type == Json::Type::kString, IoError, file, ": tensor '", name,
                    "': dtype is not a string");
        const std::string& dtype = v.text;  // lambdas cannot capture structured bindings
        e.dtype = with_context([&] { return file + ": tensor '" + e.name + "'"; },
                               [&] { return safetensors_dtype(dtype); });
        have_dtype = true;
      } else if (k == "shape") {
        MUDIT_CHECK(v.type == Json::Type::kArray, IoError, file, ": tensor '", name,
                    "': shape is not a list");
        for (const auto& d : v.items) {
          MUDIT_CHECK(
              d.type == Json::Type::kNumber && d.is_uint &&
                  d.uint_value <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max()),
              IoError, file, ": tensor '", name, "': bad dimension '", d.text, "'");
          e.shape.push_back(static_cast<int64_t>(d.uint_value));
        }
        have_shape = true;
      } else if (k == "data_offsets") {
        MUDIT_CHECK(v.type == Json::Type::kArray && v.items.size() == 2 && v.items[0].is_uint &&
                        v.items[1].is_uint,
                    IoError, file, ": tensor '", name,
                    "': data_offsets must be two non-negative integers");
        e.begin = v.items[0].uint_value;
        e.end = v.items[1].uint_value;
        have_offsets = true;
      } else {
        MUDIT_THROW(IoError, file, ": tensor '", name, "': unknown field '", k, "'");
      }
    }
    MUDIT_CHECK(have_dtype && have_shape && have_offsets, IoError, file, ": tensor '", name,
                "': needs dtype, shape and data_offsets");
    MUDIT_CHECK(e.begin <= e.end && e.end <= data_size, IoError, file, ": tensor '", name,
                "': data_offsets [", e.begin, ", ", e.end, "] outside the data section of ",
                data_size, " bytes");
    const uint64_t expected = checked_numel_bytes(e, file);
    MUDIT_CHECK(expected == e.nbytes(), IoError, file, ": tensor '", name, "': shape needs ",
                expected, " bytes but data_offsets give ", e.nbytes());
    entries.push_back(std::move(e));
  }
  // The data section is covered exactly: no overlaps, no holes, nothing after the last tensor.
  std::sort(entries.begin(), entries.end(), [](const TensorEntry& a, const TensorEntry& b) {
    return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
  });
  uint64_t cursor = 0;
  for (const auto& e : entries) {
    MUDIT_CHECK(
        e.begin == cursor, IoError, file, ": tensor '", e.name, "': data_offsets [", e.begin, ", ",
        e.end, "] ",
        e.begin < cursor ? "overlap the previous tensor" : "leave a gap after the previous tensor");
    cursor = e.end;
  }
  MUDIT_CHECK(cursor == data_size, IoError, file, ": ", data_size - cursor,
              " bytes after the last tensor are not described by the header");
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// dtypes

std::string safetensors_dtype_name(c10::ScalarType dtype) {
  switch (dtype) {
    case c10::kDouble:
      return "F64";
    case c10::kFloat:
      return "F32";
    case c10::kHalf:
      return "F16";
    case c10::kBFloat16:
      return "BF16";
    case c10::kLong:
      return "I64";
    case c10::kInt:
      return "I32";
    case c10::kShort:
      return "I16";
    case c10::kChar:
      return "I8";
    case c10::kByte:
      return "U8";
    case c10::kBool:
      return "BOOL";
    default:
      break;
  }
  MUDIT_THROW(IoError, "dtype ", c10::toString(dtype), " cannot be stored in safetensors");
}

c10::ScalarType safetensors_dtype(const std::string& name) {
  static const std::pair<const char*, c10::ScalarType> kTable[] = {
      {"F64", c10::kDouble}, {"F32", c10::kFloat}, {"F16", c10::kHalf},  {"BF16", c10::kBFloat16},
      {"I64", c10::kLong},   {"I32", c10::kInt},   {"I16", c10::kShort}, {"I8", c10::kChar},
      {"U8", c10::kByte},    {"BOOL", c10::kBool}};
  for (const auto& [n, t] : kTable) {
    if (name == n) return t;
  }
  MUDIT_THROW(IoError, "unsupported dtype '", name, "'");
}

// ---------------------------------------------------------------------------------------------
// Reader

struct SafetensorsReader::Impl {
  fs::path path;
  std::vector<TensorEntry> entries;
  std::map<std::string, size_t> index;
  std::map<std::string, std::string> metadata;
  uint64_t header_bytes = 0;
  uint64_t data_bytes = 0;
  // The whole file, mapped (or read into `buffer` when mapping fails).
  const char* base = nullptr;
  size_t size = 0;
  bool mapped = false;
  std::string buffer;

  ~Impl() {
    if (mapped && base) ::munmap(const_cast<char*>(base), size);
  }
  const char* data() const { return base + 8 + header_bytes; }
};

SafetensorsReader::SafetensorsReader(const fs::path& path) : impl_(std::make_shared<Impl>()) {
  Impl& m = *impl_;
  m.path = path;
  const std::string file = path.string();
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  MUDIT_CHECK(fd >= 0, IoError, file, ": ",
              errno == ENOENT ? "no such file" : std::strerror(errno));
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    MUDIT_THROW(IoError, file, ": not a regular file");
  }
  m.size = static_cast<size_t>(st.st_size);
  if (m.size >= 8) {
    void* p = ::mmap(nullptr, m.size, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
    if (p != MAP_FAILED) {
      m.base = static_cast<const char*>(p);
      m.mapped = true;
    }
  }
  ::close(fd);
  if (!m.mapped) {
    m.buffer = read_file(path);
    m.base = m.buffer.data();
    m.size = m.buffer.size();
  }
  MUDIT_CHECK(m.size >= 8, IoError, file, ": truncated (", m.size,
              " bytes; a safetensors file starts with an 8-byte header length)");
  uint64_t n = 0;
  std::memcpy(&n, m.base, 8);
  MUDIT_CHECK(n <= kMaxHeaderBytes, IoError, file, ": header length ", n, " is implausible (limit ",
              kMaxHeaderBytes, " bytes; not a safetensors file?)");
  MUDIT_CHECK(n <= m.size - 8, IoError, file, ": truncated (header length ", n, " but only ",
              m.size - 8, " bytes follow)");
  m.header_bytes = n;
  m.data_bytes = m.size - 8 - n;
  parse_header(std::string_view(m.base + 8, n), m.data_bytes, file, m.entries, m.metadata);
  for (size_t i = 0; i < m.entries.size(); ++i) m.index[m.entries[i].name] = i;
}

SafetensorsReader::~SafetensorsReader() = default;
SafetensorsReader::SafetensorsReader(SafetensorsReader&&) noexcept = default;
SafetensorsReader& SafetensorsReader::operator=(SafetensorsReader&&) noexcept = default;

const fs::path& SafetensorsReader::path() const {
  return impl_->path;
}
const std::vector<TensorEntry>& SafetensorsReader::entries() const {
  return impl_->entries;
}
const std::map<std::string, std::string>& SafetensorsReader::metadata() const {
  return impl_->metadata;
}
bool SafetensorsReader::contains(const std::string& name) const {
  return impl_->index.count(name) != 0;
}
uint64_t SafetensorsReader::header_bytes() const {
  return impl_->header_bytes;
}
uint64_t SafetensorsReader::data_bytes() const {
  return impl_->data_bytes;
}

const TensorEntry& SafetensorsReader::entry(const std::string& name) const {
  auto it = impl_->index.find(name);
  MUDIT_CHECK(it != impl_->index.end(), IoError, impl_->path.string(), ": no tensor '", name, "'");
  return impl_->entries[it->second];
}

at::Tensor SafetensorsReader::tensor(const std::string& name) const {
  const TensorEntry& e = entry(name);
  at::Tensor t = at::empty(e.shape, at::TensorOptions().dtype(e.dtype));
  if (e.nbytes() > 0) std::memcpy(t.data_ptr(), impl_->data() + e.begin, e.nbytes());
  return t;
}

at::Tensor SafetensorsReader::tensor_view(const std::string& name) const {
  const TensorEntry& e = entry(name);
  const char* p = impl_->data() + e.begin;
  if (reinterpret_cast<uintptr_t>(p) % c10::elementSize(e.dtype) != 0 || e.nbytes() == 0) {
    return tensor(name);
  }
  auto keep = impl_;
  return at::from_blob(
      const_cast<char*>(p), e.shape, [keep](void*) {}, at::TensorOptions().dtype(e.dtype));
}

TensorFile load_safetensors(const fs::path& path) {
  SafetensorsReader reader(path);
  TensorFile out;
  out.metadata = reader.metadata();
  for (const auto& e : reader.entries()) out.tensors.emplace(e.name, reader.tensor(e.name));
  return out;
}

// ---------------------------------------------------------------------------------------------
// Writer

namespace {

struct Planned {
  std::string name;
  at::Tensor data;  // contiguous CPU
  uint64_t begin = 0, end = 0;
};

std::pair<std::string, std::vector<Planned>> plan(
    const std::map<std::string, at::Tensor>& tensors,
    const std::map<std::string, std::string>& metadata) {
  std::vector<Planned> items;
  for (const auto& [name, t] : tensors) {
    MUDIT_CHECK(name != "__metadata__", IoError, "a tensor cannot be named __metadata__");
    MUDIT_CHECK(t.defined(), IoError, "tensor '", name, "' is undefined");
    safetensors_dtype_name(t.scalar_type());  // throws for unsupported dtypes
    items.push_back({name, t.detach().to(at::kCPU).contiguous()});
  }
  std::stable_sort(items.begin(), items.end(), [](const Planned& a, const Planned& b) {
    return a.data.element_size() > b.data.element_size();  // then by name (map order)
  });
  uint64_t offset = 0;
  for (auto& item : items) {
    item.begin = offset;
    offset += static_cast<uint64_t>(item.data.nbytes());
    item.end = offset;
  }
  std::string header = "{";
  bool first = true;
  if (!metadata.empty()) {
    header += "\"__metadata__\":{";
    bool first_meta = true;
    for (const auto& [k, v] : metadata) {
      if (!first_meta) header += ',';
      first_meta = false;
      append_json_string(header, k);
      header += ':';
      append_json_string(header, v);
    }
    header += '}';
    first = false;
  }
  for (const auto& item : items) {
    if (!first) header += ',';
    first = false;
    append_json_string(header, item.name);
    header += ":{\"dtype\":\"" + safetensors_dtype_name(item.data.scalar_type()) + "\",\"shape\":[";
    for (int64_t i = 0; i < item.data.dim(); ++i) {
      if (i) header += ',';
      header += std::to_string(item.data.size(i));
    }
    header +=
        "],\"data_offsets\":[" + std::to_string(item.begin) + "," + std::to_string(item.end) + "]}";
  }
  header += '}';
  header.append((8 - header.size() % 8) % 8, ' ');
  return {std::move(header), std::move(items)};
}

std::string length_prefix(uint64_t n) {
  std::string s(8, '\0');
  std::memcpy(s.data(), &n, 8);
  return s;
}

}  // namespace

std::string encode_safetensors(const std::map<std::string, at::Tensor>& tensors,
                               const std::map<std::string, std::string>& metadata) {
  auto [header, items] = plan(tensors, metadata);
  std::string out = length_prefix(header.size()) + header;
  for (const auto& item : items) {
    out.append(static_cast<const char*>(item.data.data_ptr()), item.data.nbytes());
  }
  return out;
}

void save_safetensors(const fs::path& path, const std::map<std::string, at::Tensor>& tensors,
                      const std::map<std::string, std::string>& metadata) {
  auto [header, items] = plan(tensors, metadata);
  AtomicFile file(path);
  file.write(length_prefix(header.size()));
  file.write(header);
  for (const auto& item : items) file.write(item.data.data_ptr(), item.data.nbytes());
  file.commit();
}

}  // namespace mudit
