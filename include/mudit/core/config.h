#pragma once

// Typed configuration from YAML (part of mudit::mudit; needs yaml-cpp at build time only).
//
// A config struct lists its fields once, in a visit() member, with defaults in-class:
//
//   struct AttentionConfig {
//     int64_t heads = 16;
//     double dropout = 0.0;
//     template <class V> void visit(V& v) { v("heads", heads); v("dropout", dropout); }
//     void validate() const { MUDIT_CHECK(heads > 0, ConfigError, "heads must be positive"); }
//   };
//
// Files are read into a ConfigNode tree that remembers where each value came from; `include:`
// pulls in other files (deep-merged, the including file wins); later files and `--set a.b=c`
// overrides are merged on top; then bind_config<T>() fills the struct. Unknown keys are errors
// naming the file, the key path and the closest valid key; type errors name file:line:column.
// Every struct's validate() (when it has one) runs after its fields are read.

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "mudit/core/error.h"

namespace mudit {

/// Where a config value came from: "file.yaml:12:5", or "--set a.b=c".
struct SourceLocation {
  std::string source;
  int line = 0;    // 1-based; 0 when not from a file
  int column = 0;  // 1-based
  std::string str() const;
};

/// A YAML value with its origin: null, a scalar (kept as text), a sequence or a map
/// (insertion-ordered).
class ConfigNode {
 public:
  enum class Kind { kNull, kScalar, kSequence, kMap };

  ConfigNode() = default;
  static ConfigNode scalar(std::string text, SourceLocation loc = {}, bool quoted = false);
  static ConfigNode sequence(SourceLocation loc = {});
  static ConfigNode map(SourceLocation loc = {});

  Kind kind() const { return kind_; }
  bool is_null() const { return kind_ == Kind::kNull; }
  bool is_scalar() const { return kind_ == Kind::kScalar; }
  bool is_sequence() const { return kind_ == Kind::kSequence; }
  bool is_map() const { return kind_ == Kind::kMap; }

  /// Scalar text; `quoted` says it was written in quotes (so "1" is a string, not a number).
  const std::string& text() const { return text_; }
  bool quoted() const { return quoted_; }
  const SourceLocation& location() const { return loc_; }
  void set_location(SourceLocation loc) { loc_ = std::move(loc); }

  const std::vector<ConfigNode>& items() const { return items_; }
  void push_back(ConfigNode item);

  const std::vector<std::pair<std::string, ConfigNode>>& entries() const { return entries_; }
  /// The value of `key` in a map, or nullptr.
  const ConfigNode* find(std::string_view key) const;
  ConfigNode* find(std::string_view key);
  /// Sets `key` in a map (replacing an existing value in place, keeping the order).
  void set(std::string key, ConfigNode value);
  bool erase(std::string_view key);

 private:
  Kind kind_ = Kind::kNull;
  std::string text_;
  bool quoted_ = false;
  SourceLocation loc_;
  std::vector<ConfigNode> items_;
  std::vector<std::pair<std::string, ConfigNode>> entries_;
};

/// Parses YAML text. `source` names it in errors. Throws ConfigError on syntax errors.
ConfigNode parse_config_text(std::string_view text, const std::string& source);

/// Reads a YAML file, resolving `include:` (a path or a list of paths, relative to the file):
/// the included files are deep-merged in order, then the file's own keys on top. An `include:`
/// inside a nested map does the same for that map (`model: {generator: {include: v1.yaml}}`).
/// Throws IoError for a missing file, ConfigError for syntax errors and include cycles.
ConfigNode load_config_file(const std::filesystem::path& file);

/// Deep merge: maps merge key by key, anything else in `overlay` replaces what `base` had.
void merge_config(ConfigNode& base, const ConfigNode& overlay);

/// Applies one "a.b.c=value" override; the value is parsed as YAML ("3", "true", "[1, 2]",
/// "{x: 1}", "'text'"). Intermediate maps are created as needed. Throws ConfigError on a
/// malformed assignment.
void apply_override(ConfigNode& root, std::string_view assignment);

/// The usual resolution: files merged in order (later wins), then every override in order.
ConfigNode resolve_config(const std::vector<std::filesystem::path>& files,
                          const std::vector<std::string>& overrides);

/// Emits a tree as block-style YAML.
std::string to_yaml(const ConfigNode& node);

/// Writes `yaml` to `dir/name` atomically (temp file + rename), creating `dir` if needed.
/// Throws IoError.
void write_config_file(const std::filesystem::path& dir, const std::string& yaml,
                       const std::string& name = "config.yaml");

/// The closest candidate to `word` by edit distance, or "" when none is close enough.
std::string closest_match(std::string_view word, const std::vector<std::string>& candidates);

/// Throws ConfigError when `value` is not one of `choices`, naming the field and the closest
/// choice: check_choice("prediction", "epsilon", {"eps", "v", "x0"}).
void check_choice(std::string_view field, std::string_view value,
                  const std::vector<std::string>& choices);

namespace detail {

// A config struct is anything with a template visit(V&) member; detect it by calling it with a
// probe visitor that accepts every field.
struct ProbeVisitor {
  template <class F>
  void operator()(const char*, F&) {}
};
template <class T, class = void>
struct is_config_struct : std::false_type {};
template <class T>
struct is_config_struct<
    T, std::void_t<decltype(std::declval<T&>().visit(std::declval<ProbeVisitor&>()))>>
    : std::true_type {};

template <class T, class = void>
struct has_validate : std::false_type {};
template <class T>
struct has_validate<T, std::void_t<decltype(std::declval<const T&>().validate())>>
    : std::true_type {};

template <class T>
struct is_vector : std::false_type {};
template <class T, class A>
struct is_vector<std::vector<T, A>> : std::true_type {};

template <class T>
struct is_optional : std::false_type {};
template <class T>
struct is_optional<std::optional<T>> : std::true_type {};

template <class T>
struct is_string_map : std::false_type {};
template <class T>
struct is_string_map<std::map<std::string, T>> : std::true_type {};

// Scalar conversions; each throws ConfigError naming the location, the key path and the value.
void read_scalar(const ConfigNode& node, const std::string& path, bool& out);
void read_scalar(const ConfigNode& node, const std::string& path, int& out);
void read_scalar(const ConfigNode& node, const std::string& path, int64_t& out);
void read_scalar(const ConfigNode& node, const std::string& path, uint64_t& out);
void read_scalar(const ConfigNode& node, const std::string& path, double& out);
void read_scalar(const ConfigNode& node, const std::string& path, float& out);
void read_scalar(const ConfigNode& node, const std::string& path, std::string& out);

ConfigNode write_scalar(bool v);
ConfigNode write_scalar(int v);
ConfigNode write_scalar(int64_t v);
ConfigNode write_scalar(uint64_t v);
ConfigNode write_scalar(double v);
ConfigNode write_scalar(float v);
ConfigNode write_scalar(const std::string& v);

[[noreturn]] void throw_type_error(const ConfigNode& node, const std::string& path,
                                   const char* expected);
[[noreturn]] void throw_unknown_key(const ConfigNode& map, const std::string& path,
                                    const std::string& key, const std::vector<std::string>& known);
std::string join_path(const std::string& parent, const std::string& key);
// Runs a struct's validate(), prefixing errors with the struct's key path and location.
void rethrow_validation(const ConfigNode& node, const std::string& path, const Error& e);

class Reader;

template <class T>
void read_value(const ConfigNode& node, const std::string& path, T& out);

/// Fills a struct's fields from a map node and rejects keys the struct does not have.
class Reader {
 public:
  Reader(const ConfigNode& map, std::string path) : map_(map), path_(std::move(path)) {}

  template <class F>
  void operator()(const char* key, F& field) {
    known_.emplace_back(key);
    if (!map_.is_map()) return;
    if (const ConfigNode* child = map_.find(key)) {
      read_value(*child, join_path(path_, key), field);
    }
  }

  void finish() const {
    if (!map_.is_map()) return;
    for (const auto& [key, value] : map_.entries()) {
      bool found = false;
      for (const auto& k : known_) found = found || k == key;
      if (!found) throw_unknown_key(map_, path_, key, known_);
    }
  }

 private:
  const ConfigNode& map_;
  std::string path_;
  std::vector<std::string> known_;
};

template <class T>
void read_value(const ConfigNode& node, const std::string& path, T& out) {
  // `key:` with nothing after it (null) keeps the default; for an optional it clears the value.
  // A ConfigNode field takes the subtree as it is (bound later, e.g. by a task's own struct).
  if constexpr (std::is_same_v<T, ConfigNode>) {
    out = node;
  } else if constexpr (is_optional<T>::value) {
    if (node.is_null()) {
      out.reset();
      return;
    }
    typename T::value_type v{};
    if (out) v = *out;
    read_value(node, path, v);
    out = std::move(v);
  } else if (node.is_null()) {
    return;
  } else if constexpr (is_config_struct<T>::value) {
    if (!node.is_map()) throw_type_error(node, path, "a map");
    Reader reader(node, path);
    out.visit(reader);
    reader.finish();
    if constexpr (has_validate<T>::value) {
      try {
        out.validate();
      } catch (const Error& e) {
        rethrow_validation(node, path, e);
      }
    }
  } else if constexpr (is_vector<T>::value) {
    if (!node.is_sequence()) throw_type_error(node, path, "a list");
    T result;
    result.reserve(node.items().size());
    for (size_t i = 0; i < node.items().size(); ++i) {
      typename T::value_type item{};
      read_value(node.items()[i], path + "[" + std::to_string(i) + "]", item);
      result.push_back(std::move(item));
    }
    out = std::move(result);
  } else if constexpr (is_string_map<T>::value) {
    if (!node.is_map()) throw_type_error(node, path, "a map");
    T result;
    for (const auto& [key, value] : node.entries()) {
      typename T::mapped_type item{};
      read_value(value, join_path(path, key), item);
      result.emplace(key, std::move(item));
    }
    out = std::move(result);
  } else {
    read_scalar(node, path, out);
  }
}

/// Turns a struct back into a tree (for dumping the resolved config).
class Writer {
 public:
  explicit Writer(ConfigNode& map) : map_(map) {}
  template <class F>
  void operator()(const char* key, F& field);

 private:
  ConfigNode& map_;
};

template <class T>
ConfigNode write_value(const T& value) {
  if constexpr (std::is_same_v<T, ConfigNode>) {
    return value;
  } else if constexpr (is_optional<T>::value) {
    return value ? write_value(*value) : ConfigNode();
  } else if constexpr (is_config_struct<T>::value) {
    ConfigNode map = ConfigNode::map();
    Writer writer(map);
    T copy = value;
    copy.visit(writer);
    return map;
  } else if constexpr (is_vector<T>::value) {
    ConfigNode seq = ConfigNode::sequence();
    for (const auto& item : value) seq.push_back(write_value(item));
    return seq;
  } else if constexpr (is_string_map<T>::value) {
    ConfigNode map = ConfigNode::map();
    for (const auto& [key, item] : value) map.set(key, write_value(item));
    return map;
  } else {
    return write_scalar(value);
  }
}

template <class F>
void Writer::operator()(const char* key, F& field) {
  map_.set(key, write_value(field));
}

}  // namespace detail

/// Fills a config struct from a tree (the root, or the subtree at `path` when non-empty; a
/// missing subtree leaves the defaults), rejecting unknown keys and running validate().
template <class T>
T bind_config(const ConfigNode& root, const std::string& path = "") {
  T cfg{};
  const ConfigNode* node = &root;
  if (!path.empty()) {
    std::string_view rest = path;
    while (node && !rest.empty()) {
      const size_t dot = rest.find('.');
      node = node->is_map() ? node->find(rest.substr(0, dot)) : nullptr;
      rest = dot == std::string_view::npos ? std::string_view() : rest.substr(dot + 1);
    }
  }
  if (node) {
    detail::read_value(*node, path, cfg);
  } else if constexpr (detail::has_validate<T>::value) {
    cfg.validate();
  }
  return cfg;
}

/// A struct as a tree, with every field (defaults included).
template <class T>
ConfigNode config_to_node(const T& cfg) {
  return detail::write_value(cfg);
}

/// A struct as YAML text, with every field (defaults included).
template <class T>
std::string dump_config(const T& cfg) {
  return to_yaml(config_to_node(cfg));
}

}  // namespace mudit
