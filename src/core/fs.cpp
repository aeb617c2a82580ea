#include "mudit/core/fs.h"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "mudit/core/error.h"

namespace mudit {
namespace fs = std::filesystem;

namespace {

std::string errno_text() {
  return std::strerror(errno);
}

// Unique per process and call, so concurrent writers of one path never share a temporary.
std::string temp_suffix() {
  static std::atomic<uint64_t> counter{0};
  return ".tmp-" + std::to_string(::getpid()) + "-" + std::to_string(counter++);
}

}  // namespace

AtomicFile::AtomicFile(fs::path path) : path_(std::move(path)) {
  const fs::path parent = path_.has_parent_path() ? path_.parent_path() : fs::path(".");
  std::error_code ec;
  fs::create_directories(parent, ec);
  MUDIT_CHECK(!ec, IoError, "cannot create folder ", parent.string(), ": ", ec.message());
  temp_ = parent / ("." + path_.filename().string() + temp_suffix());
  fd_ = ::open(temp_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  MUDIT_CHECK(fd_ >= 0, IoError, "cannot create ", temp_.string(), ": ", errno_text());
}

AtomicFile::~AtomicFile() {
  if (fd_ >= 0) {
    ::close(fd_);
    ::unlink(temp_.c_str());
  }
}

void AtomicFile::write(const void* data, size_t size) {
  MUDIT_CHECK(fd_ >= 0, IoError, "write to ", path_.string(), " after commit");
  const char* p = static_cast<const char*>(data);
  while (size > 0) {
    const ssize_t n = ::write(fd_, p, size);
    if (n < 0 && errno == EINTR) continue;
    MUDIT_CHECK(n > 0, IoError, "cannot write ", path_.string(), ": ",
                n < 0 ? errno_text() : std::string("no progress"));
    p += n;
    size -= static_cast<size_t>(n);
  }
}

void AtomicFile::commit() {
  MUDIT_CHECK(fd_ >= 0, IoError, "commit of ", path_.string(), " twice");
  MUDIT_CHECK(::fsync(fd_) == 0, IoError, "cannot flush ", path_.string(), ": ", errno_text());
  const int fd = fd_;
  fd_ = -1;
  if (::close(fd) != 0) {
    const std::string why = errno_text();
    ::unlink(temp_.c_str());
    MUDIT_THROW(IoError, "cannot close ", path_.string(), ": ", why);
  }
  if (::rename(temp_.c_str(), path_.c_str()) != 0) {
    const std::string why = errno_text();
    ::unlink(temp_.c_str());
    MUDIT_THROW(IoError, "cannot move ", temp_.string(), " to ", path_.string(), ": ", why);
  }
  fsync_directory(path_.has_parent_path() ? path_.parent_path() : fs::path("."));
}

void write_file_atomic(const fs::path& path, std::string_view bytes) {
  AtomicFile file(path);
  file.write(bytes);
  file.commit();
}

void fsync_directory(const fs::path& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  MUDIT_CHECK(fd >= 0, IoError, "cannot open folder ", dir.string(), ": ", errno_text());
  const int rc = ::fsync(fd);
  const std::string why = rc != 0 ? errno_text() : std::string();
  ::close(fd);
  MUDIT_CHECK(rc == 0, IoError, "cannot flush folder ", dir.string(), ": ", why);
}

std::string read_file(const fs::path& path) {
  std::error_code ec;
  MUDIT_CHECK(fs::exists(path, ec), IoError, path.string(), ": no such file");
  MUDIT_CHECK(!fs::is_directory(path, ec), IoError, path.string(), ": is a folder");
  std::ifstream in(path, std::ios::binary);
  MUDIT_CHECK(in.good(), IoError, path.string(), ": cannot open");
  std::ostringstream out;
  out << in.rdbuf();
  MUDIT_CHECK(!in.bad(), IoError, path.string(), ": read error");
  return out.str();
}

}  // namespace mudit
