#pragma once

// What `mudit inspect` prints (part of mudit::mudit): a human-readable description of a
// safetensors file (metadata and tensor table), an audio file (format, rate, length, loudness),
// a checkpoint step folder, or a run's checkpoints folder.

#include <filesystem>
#include <string>

namespace mudit {

struct InspectOptions {
  /// Tensor rows to list (the rest are summarised); 0 lists all.
  size_t max_tensors = 0;
};

/// Describes `path`. Throws IoError (missing, unreadable or corrupt) or DataError (a file of a
/// kind mudit does not read), with one line naming the path and the reason.
std::string inspect(const std::filesystem::path& path, const InspectOptions& options = {});

}  // namespace mudit
