#include "core/atomic_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <system_error>

#include "mudit/core/error.h"

namespace mudit {

void write_file_atomic(const std::filesystem::path& path, std::string_view bytes) {
  namespace fs = std::filesystem;
  const fs::path dir = path.has_parent_path() ? path.parent_path() : fs::path(".");
  std::error_code ec;
  fs::create_directories(dir, ec);
  MUDIT_CHECK(!ec, IoError, "cannot write '", path.string(), "': cannot create folder '",
              dir.string(), "': ", ec.message());

  std::string tmp = (dir / ("." + path.filename().string() + ".tmp-XXXXXX")).string();
  const int fd = mkstemp(tmp.data());
  MUDIT_CHECK(fd >= 0, IoError, "cannot write '", path.string(), "': ", std::strerror(errno));

  auto fail = [&](const std::string& reason) {
    ::close(fd);
    ::unlink(tmp.c_str());
    MUDIT_THROW(IoError, "cannot write '", path.string(), "': ", reason);
  };
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      fail(std::strerror(errno));
    }
    done += static_cast<size_t>(n);
  }
  // mkstemp creates the file 0600; outputs are meant to be shared (umask() cannot be read
  // without changing it, which would race with other threads).
  ::fchmod(fd, 0644);
  if (::close(fd) != 0) {
    const int err = errno;
    ::unlink(tmp.c_str());
    MUDIT_THROW(IoError, "cannot write '", path.string(), "': ", std::strerror(err));
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    const int err = errno;
    ::unlink(tmp.c_str());
    MUDIT_THROW(IoError, "cannot write '", path.string(), "': rename failed: ", std::strerror(err));
  }
}

}  // namespace mudit
