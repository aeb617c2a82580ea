#pragma once

#include <cstddef>
#include <filesystem>
#include <string>
#include <string_view>

namespace mudit {

/// A file that appears at its path only when complete. Bytes go to a temporary file in the
/// same folder; commit() flushes it to disk (fsync), renames it over the target and syncs the
/// folder. Destroyed without commit() — an exception, a failed write — it removes the temporary
/// and leaves any previous file at the path untouched.
class AtomicFile {
 public:
  /// Creates the parent folder if needed. Throws IoError.
  explicit AtomicFile(std::filesystem::path path);
  ~AtomicFile();
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;

  /// Appends bytes. Throws IoError (disk full, file size limit, ...).
  void write(const void* data, size_t size);
  void write(std::string_view bytes) { write(bytes.data(), bytes.size()); }
  /// Publishes the file. Throws IoError; the target is then unchanged.
  void commit();

  const std::filesystem::path& path() const { return path_; }
  const std::filesystem::path& temp_path() const { return temp_; }

 private:
  std::filesystem::path path_;
  std::filesystem::path temp_;
  int fd_ = -1;
};

/// Writes `bytes` to `path` through an AtomicFile.
void write_file_atomic(const std::filesystem::path& path, std::string_view bytes);

/// Flushes a folder's entries (new names, renames) to disk. Throws IoError.
void fsync_directory(const std::filesystem::path& dir);

/// Reads a whole file. Throws IoError naming the path.
std::string read_file(const std::filesystem::path& path);

}  // namespace mudit
