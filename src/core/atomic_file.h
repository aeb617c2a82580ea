// Atomic file writes shared by the writers of mudit::mudit (audio, images, logs).
#pragma once

#include <filesystem>
#include <string_view>

namespace mudit {

/// Writes `bytes` to `path` through a uniquely named temp file in the same folder, then renames
/// it over `path`, so readers see the old file or the complete new one, never a partial one.
/// Creates the parent folder when needed. On failure the temp file is removed and IoError
/// (naming `path` and the reason) is thrown.
void write_file_atomic(const std::filesystem::path& path, std::string_view bytes);

}  // namespace mudit
