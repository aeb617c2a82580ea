#include "mudit/core/error.h"

namespace mudit {

Error::Error(std::string message) : std::runtime_error(message), message_(std::move(message)) {
  rebuild();
}

void Error::add_context(std::string context) {
  context_.insert(context_.begin(), std::move(context));
  rebuild();
}

void Error::rebuild() {
  full_.clear();
  for (const auto& c : context_) {
    full_ += c;
    full_ += ": ";
  }
  full_ += message_;
}

}  // namespace mudit
