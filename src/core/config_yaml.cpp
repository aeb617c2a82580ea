// The yaml-cpp boundary of the config system: YAML text ↔ ConfigNode, and `include:` files.
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <fstream>
#include <sstream>

#include "mudit/core/config.h"
#include "mudit/core/utf8.h"

namespace mudit {
namespace {

namespace fs = std::filesystem;

SourceLocation location(const YAML::Mark& mark, const std::string& source) {
  if (mark.is_null()) return SourceLocation{source};
  return SourceLocation{source, mark.line + 1, mark.column + 1};
}

// Deeper than any config; also where an alias that refers to its own map (`a: &x {b: *x}`), a
// cycle in yaml-cpp's node graph, stops instead of recursing until the stack overflows (found
// by fuzz_config).
constexpr int kMaxDepth = 64;

ConfigNode convert(const YAML::Node& node, const std::string& source, int depth = 0) {
  const SourceLocation loc = location(node.Mark(), source);
  MUDIT_CHECK(depth < kMaxDepth, ConfigError, loc.str(), ": nested more than ", kMaxDepth,
              " levels deep (or an alias refers to itself)");
  switch (node.Type()) {
    case YAML::NodeType::Undefined:
    case YAML::NodeType::Null: {
      ConfigNode n;
      n.set_location(loc);
      return n;
    }
    case YAML::NodeType::Scalar:
      // yaml-cpp tags quoted scalars "!" and plain ones "?".
      return ConfigNode::scalar(node.Scalar(), loc, node.Tag() == "!");
    case YAML::NodeType::Sequence: {
      ConfigNode seq = ConfigNode::sequence(loc);
      for (const auto& item : node) seq.push_back(convert(item, source, depth + 1));
      return seq;
    }
    case YAML::NodeType::Map: {
      ConfigNode map = ConfigNode::map(loc);
      for (const auto& kv : node) {
        const SourceLocation key_loc = location(kv.first.Mark(), source);
        MUDIT_CHECK(kv.first.IsScalar(), ConfigError, key_loc.str(), ": map keys must be scalars");
        const std::string key = kv.first.Scalar();
        MUDIT_CHECK(!map.find(key), ConfigError, key_loc.str(), ": duplicate key '", key, "'");
        map.set(key, convert(kv.second, source, depth + 1));
      }
      return map;
    }
  }
  return ConfigNode();
}

void emit(YAML::Emitter& out, const ConfigNode& node) {
  switch (node.kind()) {
    case ConfigNode::Kind::kNull:
      out << YAML::Null;
      break;
    case ConfigNode::Kind::kScalar:
      // yaml-cpp leaves some control characters (a lone \r) in plain scalars, which then read
      // back as something else: such text is always written double-quoted (escaped).
      if (node.quoted() || std::any_of(node.text().begin(), node.text().end(), [](char c) {
            return static_cast<unsigned char>(c) < 0x20 || c == 0x7F;
          }))
        out << YAML::DoubleQuoted;
      out << node.text();
      break;
    case ConfigNode::Kind::kSequence: {
      const bool flat =
          std::all_of(node.items().begin(), node.items().end(),
                      [](const ConfigNode& n) { return !n.is_map() && !n.is_sequence(); });
      if (flat) out << YAML::Flow;
      out << YAML::BeginSeq;
      for (const auto& item : node.items()) emit(out, item);
      out << YAML::EndSeq;
      break;
    }
    case ConfigNode::Kind::kMap:
      if (node.entries().empty()) out << YAML::Flow;
      out << YAML::BeginMap;
      for (const auto& [key, value] : node.entries()) {
        out << YAML::Key << key << YAML::Value;
        emit(out, value);
      }
      out << YAML::EndMap;
      break;
  }
}

std::string read_text(const fs::path& file) {
  std::error_code ec;
  MUDIT_CHECK(fs::exists(file, ec), IoError, file.string(), ": no such file");
  MUDIT_CHECK(!fs::is_directory(file, ec), IoError, file.string(), ": is a directory");
  std::ifstream in(file, std::ios::binary);
  MUDIT_CHECK(in.good(), IoError, file.string(), ": cannot open");
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

ConfigNode load_recursive(const fs::path& file, std::vector<fs::path>& stack);

// Resolves `include:` in the map `own` of `file` and, depth first, in every map below it: the
// included files (relative to `file`) are deep-merged in order, then the map's own keys on top.
ConfigNode resolve_includes(ConfigNode own, const fs::path& file, std::vector<fs::path>& stack) {
  std::vector<std::string> nested;
  for (const auto& [key, value] : own.entries()) {
    if (key != "include" && value.is_map()) nested.push_back(key);
  }
  for (const auto& key : nested) own.set(key, resolve_includes(*own.find(key), file, stack));

  const ConfigNode* include = own.find("include");
  if (!include || include->is_null()) {
    own.erase("include");
    return own;
  }
  std::vector<const ConfigNode*> entries;
  if (include->is_scalar()) {
    entries.push_back(include);
  } else if (include->is_sequence()) {
    for (const auto& item : include->items()) {
      MUDIT_CHECK(item.is_scalar(), ConfigError, item.location().str(),
                  ": include: expected a file path");
      entries.push_back(&item);
    }
  } else {
    MUDIT_THROW(ConfigError, include->location().str(),
                ": include: expected a file path or a list of paths");
  }

  std::error_code ec;
  stack.push_back(fs::weakly_canonical(file, ec));
  ConfigNode merged = ConfigNode::map(own.location());
  for (const ConfigNode* entry : entries) {
    fs::path path = entry->text();
    if (path.is_relative()) path = file.parent_path() / path;
    ConfigNode included = with_context([&] { return "included from " + entry->location().str(); },
                                       [&] { return load_recursive(path, stack); });
    merge_config(merged, included);
  }
  stack.pop_back();
  own.erase("include");
  merge_config(merged, own);
  return merged;
}

ConfigNode load_recursive(const fs::path& file, std::vector<fs::path>& stack) {
  std::error_code ec;
  const fs::path canonical = fs::weakly_canonical(file, ec);
  for (const auto& open : stack) {
    MUDIT_CHECK(open != canonical, ConfigError, file.string(), ": include cycle (",
                stack.front().string(), " includes itself through ", file.string(), ")");
  }
  ConfigNode own = parse_config_text(read_text(file), file.string());
  if (own.is_null()) return ConfigNode::map(SourceLocation{file.string(), 1, 1});
  MUDIT_CHECK(own.is_map(), ConfigError, own.location().str(),
              ": a config file must be a map of keys");
  return resolve_includes(std::move(own), file, stack);
}

}  // namespace

ConfigNode parse_config_text(std::string_view text, const std::string& source) {
  // yaml-cpp would replace bytes that are not UTF-8 silently (found by fuzz_config).
  if (const std::string pos = utf8::invalid_position(text); !pos.empty())
    MUDIT_THROW(ConfigError, source, ": not UTF-8 text (", pos, ")");
  try {
    return convert(YAML::Load(std::string(text)), source);
  } catch (const YAML::Exception& e) {
    MUDIT_THROW(ConfigError, location(e.mark, source).str(), ": YAML syntax error: ", e.msg);
  }
}

ConfigNode load_config_file(const fs::path& file) {
  std::vector<fs::path> stack;
  return load_recursive(file, stack);
}

std::string to_yaml(const ConfigNode& node) {
  YAML::Emitter out;
  out.SetIndent(2);
  emit(out, node);
  MUDIT_CHECK(out.good(), ConfigError, "cannot emit YAML: ", out.GetLastError());
  std::string s = out.c_str();
  if (s.empty() || s.back() != '\n') s += '\n';
  return s;
}

}  // namespace mudit
