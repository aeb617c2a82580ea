#include "mudit/core/config.h"

#include "mudit/core/fs.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <limits>
#include <set>
#include <system_error>

namespace mudit {

std::string SourceLocation::str() const {
  if (line <= 0) return source;
  return source + ":" + std::to_string(line) + ":" + std::to_string(column);
}

// ---------------------------------------------------------------------------------------------
// ConfigNode

ConfigNode ConfigNode::scalar(std::string text, SourceLocation loc, bool quoted) {
  ConfigNode n;
  n.kind_ = Kind::kScalar;
  n.text_ = std::move(text);
  n.quoted_ = quoted;
  n.loc_ = std::move(loc);
  return n;
}

ConfigNode ConfigNode::sequence(SourceLocation loc) {
  ConfigNode n;
  n.kind_ = Kind::kSequence;
  n.loc_ = std::move(loc);
  return n;
}

ConfigNode ConfigNode::map(SourceLocation loc) {
  ConfigNode n;
  n.kind_ = Kind::kMap;
  n.loc_ = std::move(loc);
  return n;
}

void ConfigNode::push_back(ConfigNode item) {
  if (kind_ == Kind::kNull) kind_ = Kind::kSequence;
  MUDIT_CHECK(kind_ == Kind::kSequence, ConfigError, "internal: push_back on a non-sequence");
  items_.push_back(std::move(item));
}

const ConfigNode* ConfigNode::find(std::string_view key) const {
  for (const auto& [k, v] : entries_) {
    if (k == key) return &v;
  }
  return nullptr;
}

ConfigNode* ConfigNode::find(std::string_view key) {
  for (auto& [k, v] : entries_) {
    if (k == key) return &v;
  }
  return nullptr;
}

void ConfigNode::set(std::string key, ConfigNode value) {
  if (kind_ == Kind::kNull) kind_ = Kind::kMap;
  MUDIT_CHECK(kind_ == Kind::kMap, ConfigError, "internal: set on a non-map");
  if (ConfigNode* existing = find(key)) {
    *existing = std::move(value);
  } else {
    entries_.emplace_back(std::move(key), std::move(value));
  }
}

bool ConfigNode::erase(std::string_view key) {
  auto it =
      std::find_if(entries_.begin(), entries_.end(), [&](const auto& e) { return e.first == key; });
  if (it == entries_.end()) return false;
  entries_.erase(it);
  return true;
}

// ---------------------------------------------------------------------------------------------
// Merging and overrides

void merge_config(ConfigNode& base, const ConfigNode& overlay) {
  if (base.is_map() && overlay.is_map()) {
    for (const auto& [key, value] : overlay.entries()) {
      ConfigNode* existing = base.find(key);
      if (existing && existing->is_map() && value.is_map()) {
        merge_config(*existing, value);
      } else {
        base.set(key, value);
      }
    }
    return;
  }
  base = overlay;
}

namespace {

void relocate(ConfigNode& node, const SourceLocation& loc);

void relocate_children(ConfigNode& node, const SourceLocation& loc) {
  if (node.is_sequence()) {
    ConfigNode copy = ConfigNode::sequence(loc);
    for (ConfigNode item : node.items()) {
      relocate(item, loc);
      copy.push_back(std::move(item));
    }
    node = std::move(copy);
  } else if (node.is_map()) {
    ConfigNode copy = ConfigNode::map(loc);
    for (auto [key, value] : node.entries()) {
      relocate(value, loc);
      copy.set(key, std::move(value));
    }
    node = std::move(copy);
  }
}

void relocate(ConfigNode& node, const SourceLocation& loc) {
  node.set_location(loc);
  relocate_children(node, loc);
}

bool valid_key_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-';
}

}  // namespace

void apply_override(ConfigNode& root, std::string_view assignment) {
  const SourceLocation loc{"--set " + std::string(assignment)};
  const size_t eq = assignment.find('=');
  MUDIT_CHECK(eq != std::string_view::npos && eq > 0, ConfigError, loc.str(),
              ": expected key.path=value");
  const std::string_view path = assignment.substr(0, eq);
  std::vector<std::string> keys;
  size_t start = 0;
  while (start <= path.size()) {
    const size_t dot = std::min(path.find('.', start), path.size());
    const std::string key(path.substr(start, dot - start));
    MUDIT_CHECK(!key.empty() && std::all_of(key.begin(), key.end(), valid_key_char), ConfigError,
                loc.str(), ": bad key path '", path, "'");
    keys.push_back(key);
    start = dot + 1;
  }

  ConfigNode value = parse_config_text(assignment.substr(eq + 1), loc.source);
  relocate(value, loc);

  if (root.is_null()) root = ConfigNode::map(loc);
  ConfigNode* node = &root;
  for (size_t i = 0; i + 1 < keys.size(); ++i) {
    MUDIT_CHECK(node->is_map(), ConfigError, loc.str(), ": '",
                path.substr(0, path.find(keys[i]) - 1), "' is not a map");
    ConfigNode* child = node->find(keys[i]);
    if (!child || child->is_null()) {
      node->set(keys[i], ConfigNode::map(loc));
      child = node->find(keys[i]);
    }
    MUDIT_CHECK(child->is_map(), ConfigError, loc.str(), ": '", keys[i],
                "' holds a value, not a map (defined at ", child->location().str(), ")");
    node = child;
  }
  MUDIT_CHECK(node->is_map(), ConfigError, loc.str(), ": the config root is not a map");
  ConfigNode* target = node->find(keys.back());
  if (target && target->is_map() && value.is_map()) {
    merge_config(*target, value);
  } else {
    node->set(keys.back(), std::move(value));
  }
}

ConfigNode resolve_config(const std::vector<std::filesystem::path>& files,
                          const std::vector<std::string>& overrides) {
  ConfigNode root = ConfigNode::map(SourceLocation{"<defaults>"});
  for (const auto& file : files) merge_config(root, load_config_file(file));
  for (const auto& o : overrides) apply_override(root, o);
  return root;
}

void write_config_file(const std::filesystem::path& dir, const std::string& yaml,
                       const std::string& name) {
  write_file_atomic(dir / name, yaml);
}

// ---------------------------------------------------------------------------------------------
// Suggestions

namespace {

// Optimal-string-alignment distance (Levenshtein plus adjacent transpositions).
size_t edit_distance(std::string_view a, std::string_view b) {
  const size_t n = a.size(), m = b.size();
  std::vector<std::vector<size_t>> d(n + 1, std::vector<size_t>(m + 1));
  for (size_t i = 0; i <= n; ++i) d[i][0] = i;
  for (size_t j = 0; j <= m; ++j) d[0][j] = j;
  for (size_t i = 1; i <= n; ++i) {
    for (size_t j = 1; j <= m; ++j) {
      const size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) {
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
      }
    }
  }
  return d[n][m];
}

}  // namespace

std::string closest_match(std::string_view word, const std::vector<std::string>& candidates) {
  std::string best;
  size_t best_distance = std::numeric_limits<size_t>::max();
  for (const auto& c : candidates) {
    const size_t d = edit_distance(word, c);
    if (d < best_distance) {
      best_distance = d;
      best = c;
    }
  }
  const size_t limit = std::max<size_t>(2, (word.size() + 2) / 3);
  return best_distance <= limit ? best : std::string();
}

void check_choice(std::string_view field, std::string_view value,
                  const std::vector<std::string>& choices) {
  for (const auto& c : choices) {
    if (c == value) return;
  }
  std::string list;
  for (const auto& c : choices) list += (list.empty() ? "" : ", ") + c;
  const std::string hint = closest_match(value, choices);
  MUDIT_THROW(ConfigError, field, ": '", value, "' is not one of ", list,
              hint.empty() ? "" : " (did you mean '" + hint + "'?)");
}

// ---------------------------------------------------------------------------------------------
// Binding helpers

namespace detail {

std::string join_path(const std::string& parent, const std::string& key) {
  return parent.empty() ? key : parent + "." + key;
}

namespace {

std::string describe(const ConfigNode& node) {
  switch (node.kind()) {
    case ConfigNode::Kind::kNull:
      return "nothing";
    case ConfigNode::Kind::kScalar:
      return "'" + node.text() + "'";
    case ConfigNode::Kind::kSequence:
      return "a list";
    case ConfigNode::Kind::kMap:
      return "a map";
  }
  return "?";
}

std::string where(const ConfigNode& node, const std::string& path) {
  std::string s = node.location().str();
  if (!s.empty()) s += ": ";
  if (!path.empty()) s += path + ": ";
  return s;
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

bool is_true_word(const std::string& l) {
  return l == "true" || l == "yes" || l == "on";
}
bool is_false_word(const std::string& l) {
  return l == "false" || l == "no" || l == "off";
}

template <class Int>
bool parse_integer(const std::string& text, Int& out) {
  std::string s = text;
  s.erase(std::remove(s.begin(), s.end(), '_'), s.end());
  bool negative = false;
  size_t pos = 0;
  if (!s.empty() && (s[0] == '-' || s[0] == '+')) {
    negative = s[0] == '-';
    pos = 1;
  }
  int base = 10;
  if (s.size() > pos + 2 && s[pos] == '0' && (s[pos + 1] == 'x' || s[pos + 1] == 'X')) {
    base = 16;
    pos += 2;
  }
  if (pos >= s.size()) return false;
  unsigned long long magnitude = 0;
  const char* first = s.data() + pos;
  const char* last = s.data() + s.size();
  auto [ptr, ec] = std::from_chars(first, last, magnitude, base);
  if (ec != std::errc() || ptr != last) return false;
  if (negative) {
    if constexpr (std::is_unsigned_v<Int>) {
      return magnitude == 0 ? (out = 0, true) : false;
    } else {
      const auto limit = static_cast<unsigned long long>(std::numeric_limits<Int>::max()) + 1ULL;
      if (magnitude > limit) return false;
      out = static_cast<Int>(-static_cast<long long>(magnitude - 1) - 1);
      return true;
    }
  }
  if (magnitude > static_cast<unsigned long long>(std::numeric_limits<Int>::max())) return false;
  out = static_cast<Int>(magnitude);
  return true;
}

bool parse_double(const std::string& text, double& out) {
  const std::string l = lower(text);
  if (l == ".inf" || l == "+.inf" || l == "inf") return out = HUGE_VAL, true;
  if (l == "-.inf" || l == "-inf") return out = -HUGE_VAL, true;
  if (l == ".nan" || l == "nan") return out = std::nan(""), true;
  std::string s = text;
  s.erase(std::remove(s.begin(), s.end(), '_'), s.end());
  if (!s.empty() && s[0] == '+') s.erase(0, 1);
  if (s.empty()) return false;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && ptr == s.data() + s.size();
}

template <class Int>
void read_integer(const ConfigNode& node, const std::string& path, Int& out, const char* what) {
  if (!node.is_scalar()) throw_type_error(node, path, what);
  if (!parse_integer(node.text(), out)) {
    double d = 0;
    if (parse_double(node.text(), d)) {
      MUDIT_THROW(ConfigError, where(node, path), "expected ", what, ", got '", node.text(),
                  "' (not a whole number in range)");
    }
    throw_type_error(node, path, what);
  }
}

}  // namespace

void throw_type_error(const ConfigNode& node, const std::string& path, const char* expected) {
  MUDIT_THROW(ConfigError, where(node, path), "expected ", expected, ", got ", describe(node));
}

void throw_unknown_key(const ConfigNode& map, const std::string& path, const std::string& key,
                       const std::vector<std::string>& known) {
  const ConfigNode* value = map.find(key);
  const SourceLocation& loc = value ? value->location() : map.location();
  const std::string full = join_path(path, key);
  std::string hint;
  const std::string best = closest_match(key, known);
  if (!best.empty()) {
    hint = " (did you mean '" + join_path(path, best) + "'?)";
  } else if (!known.empty()) {
    std::string list;
    for (const auto& k : known) list += (list.empty() ? "" : ", ") + k;
    hint =
        " (valid keys" + (path.empty() ? std::string() : " of '" + path + "'") + ": " + list + ")";
  }
  MUDIT_THROW(ConfigError, loc.str(), loc.str().empty() ? "" : ": ", "unknown key '", full, "'",
              hint);
}

void rethrow_validation(const ConfigNode& node, const std::string& path, const Error& e) {
  throw ConfigError(where(node, path) + e.what());
}

void read_scalar(const ConfigNode& node, const std::string& path, bool& out) {
  if (!node.is_scalar()) throw_type_error(node, path, "true or false");
  const std::string l = lower(node.text());
  if (is_true_word(l)) {
    out = true;
  } else if (is_false_word(l)) {
    out = false;
  } else {
    throw_type_error(node, path, "true or false");
  }
}

void read_scalar(const ConfigNode& node, const std::string& path, int& out) {
  read_integer(node, path, out, "an integer");
}
void read_scalar(const ConfigNode& node, const std::string& path, int64_t& out) {
  read_integer(node, path, out, "an integer");
}
void read_scalar(const ConfigNode& node, const std::string& path, uint64_t& out) {
  read_integer(node, path, out, "a non-negative integer");
}

void read_scalar(const ConfigNode& node, const std::string& path, double& out) {
  if (!node.is_scalar() || !parse_double(node.text(), out)) {
    throw_type_error(node, path, "a number");
  }
}

void read_scalar(const ConfigNode& node, const std::string& path, float& out) {
  double d = 0;
  read_scalar(node, path, d);
  out = static_cast<float>(d);
}

void read_scalar(const ConfigNode& node, const std::string& path, std::string& out) {
  if (!node.is_scalar()) throw_type_error(node, path, "a string");
  out = node.text();
}

ConfigNode write_scalar(bool v) {
  return ConfigNode::scalar(v ? "true" : "false");
}
ConfigNode write_scalar(int v) {
  return ConfigNode::scalar(std::to_string(v));
}
ConfigNode write_scalar(int64_t v) {
  return ConfigNode::scalar(std::to_string(v));
}
ConfigNode write_scalar(uint64_t v) {
  return ConfigNode::scalar(std::to_string(v));
}
ConfigNode write_scalar(float v) {
  return write_scalar(static_cast<double>(v));
}

ConfigNode write_scalar(double v) {
  if (std::isnan(v)) return ConfigNode::scalar(".nan");
  if (std::isinf(v)) return ConfigNode::scalar(v > 0 ? ".inf" : "-.inf");
  char buf[64];
  auto [ptr, ec] = std::to_chars(buf, buf + sizeof buf, v);
  std::string s(buf, ptr);
  if (s.find_first_of(".eE") == std::string::npos) s += ".0";
  return ConfigNode::scalar(s);
}

ConfigNode write_scalar(const std::string& v) {
  // Quote what would otherwise read back as another type.
  double d = 0;
  const std::string l = lower(v);
  const bool ambiguous = v.empty() || l == "null" || l == "~" || is_true_word(l) ||
                         is_false_word(l) || parse_double(v, d);
  return ConfigNode::scalar(v, {}, ambiguous);
}

}  // namespace detail
}  // namespace mudit
