#pragma once

#include <sstream>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

namespace mudit {

/// Base of every error mudit throws. The library never exits: the CLI maps these to exit codes
/// (ConfigError 2, IoError/DataError/CheckpointError 3, anything else 4).
///
/// Errors gather context as they rise: a caller that knows more (which file, which step)
/// prepends it with add_context(), and what() reads outermost first:
/// "loading run/ckpt/step-10/model.safetensors: tensor 'w': shape [3] does not match [4]".
class Error : public std::runtime_error {
 public:
  explicit Error(std::string message);

  /// Prepends `context` to the message (outermost context first in what()).
  void add_context(std::string context);
  const char* what() const noexcept override { return full_.c_str(); }
  /// The innermost message, without any context.
  const std::string& message() const noexcept { return message_; }
  const std::vector<std::string>& context() const noexcept { return context_; }
  /// A short name for the kind of error ("config", "io", ...), used in CLI messages.
  virtual const char* kind() const noexcept { return "error"; }

 private:
  void rebuild();
  std::string message_;
  std::vector<std::string> context_;  // outermost first
  std::string full_;
};

#define MUDIT_DEFINE_ERROR(Name, kind_name)                          \
  class Name : public Error {                                        \
   public:                                                           \
    using Error::Error;                                              \
    const char* kind() const noexcept override { return kind_name; } \
  }

/// Invalid configuration, command-line usage or option values.
MUDIT_DEFINE_ERROR(ConfigError, "config");
/// A file that is missing, unreadable, corrupt or in an unsupported format.
MUDIT_DEFINE_ERROR(IoError, "io");
/// Input data that is readable but wrong (a manifest row, an annotation, a shard).
MUDIT_DEFINE_ERROR(DataError, "data");
/// A checkpoint that cannot be written, or does not fit the model it is loaded into.
MUDIT_DEFINE_ERROR(CheckpointError, "checkpoint");
/// Tensors whose shapes do not fit together.
MUDIT_DEFINE_ERROR(ShapeError, "shape");
/// A failed, timed-out or abandoned collective operation between ranks.
MUDIT_DEFINE_ERROR(DistError, "dist");

#undef MUDIT_DEFINE_ERROR

namespace detail {
template <class... Args>
std::string concat(const Args&... args) {
  std::ostringstream out;
  (out << ... << args);
  return out.str();
}
}  // namespace detail

/// Runs `fn`; a mudit::Error escaping it gains `context` (a string, or a callable returning one,
/// evaluated only on failure) and is rethrown with its type intact.
template <class Fn, class Context>
decltype(auto) with_context(Context&& context, Fn&& fn) {
  try {
    return std::forward<Fn>(fn)();
  } catch (Error& e) {
    if constexpr (std::is_invocable_v<Context>) {
      e.add_context(context());
    } else {
      e.add_context(std::string(context));
    }
    throw;
  }
}

}  // namespace mudit

/// Throws `ErrorType` (one of the names above, unqualified) with the streamed arguments as
/// message when `cond` is false:
///   MUDIT_CHECK(depth > 0, ConfigError, "depth must be positive, got ", depth);
#define MUDIT_CHECK(cond, ErrorType, ...)                             \
  do {                                                                \
    if (!(cond)) {                                                    \
      throw ::mudit::ErrorType(::mudit::detail::concat(__VA_ARGS__)); \
    }                                                                 \
  } while (false)

/// Throws `ErrorType` with the streamed arguments as message.
#define MUDIT_THROW(ErrorType, ...) throw ::mudit::ErrorType(::mudit::detail::concat(__VA_ARGS__))
