#include "mudit/dist/launch.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <climits>
#include <cstring>
#include <map>

#include "mudit/core/error.h"
#include "mudit/core/log.h"

extern char** environ;

namespace mudit::dist {
namespace {

volatile sig_atomic_t g_pending_signal = 0;

void remember_signal(int sig) {
  g_pending_signal = sig;
}

// Installs the forwarding handlers for the lifetime of the launch.
class SignalForwarding {
 public:
  SignalForwarding() {
    g_pending_signal = 0;
    struct sigaction sa {};
    sa.sa_handler = remember_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &old_int_);
    sigaction(SIGTERM, &sa, &old_term_);
  }
  ~SignalForwarding() {
    sigaction(SIGINT, &old_int_, nullptr);
    sigaction(SIGTERM, &old_term_, nullptr);
  }

 private:
  struct sigaction old_int_ {};
  struct sigaction old_term_ {};
};

std::string resolve_executable(const std::string& path) {
  if (path != "/proc/self/exe") return path;
  char buf[PATH_MAX];
  const ssize_t n = ::readlink(path.c_str(), buf, sizeof buf - 1);
  MUDIT_CHECK(n > 0, IoError, "cannot resolve /proc/self/exe: ", std::strerror(errno));
  return std::string(buf, static_cast<size_t>(n));
}

int exit_status(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return 1;
}

}  // namespace

int free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  MUDIT_CHECK(fd >= 0, IoError, "socket: ", std::strerror(errno));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof addr;
  const bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
                  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0;
  ::close(fd);
  MUDIT_CHECK(ok, IoError, "cannot find a free port: ", std::strerror(errno));
  return ntohs(addr.sin_port);
}

int launch(const LaunchOptions& options) {
  MUDIT_CHECK(options.nproc >= 1, ConfigError, "-n must be at least 1, got ", options.nproc);
  MUDIT_CHECK(options.master_port >= 0 && options.master_port <= 65535, ConfigError,
              "--master-port ", options.master_port, " is not a port");
  MUDIT_CHECK(!options.args.empty(), ConfigError, "nothing to launch: give a command after --");
  const std::string exe = resolve_executable(options.executable);
  const int port = options.master_port ? options.master_port : free_port();

  // The parent's environment minus what each copy gets set.
  std::map<std::string, std::string> base;
  for (char** e = environ; *e; ++e) {
    const std::string kv = *e;
    const size_t eq = kv.find('=');
    if (eq != std::string::npos) base[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  base.erase("TORCHELASTIC_USE_AGENT_STORE");
  base["WORLD_SIZE"] = std::to_string(options.nproc);
  base["LOCAL_WORLD_SIZE"] = std::to_string(options.nproc);
  base["MASTER_ADDR"] = options.master_addr;
  base["MASTER_PORT"] = std::to_string(port);

  std::vector<std::string> argv_s = {exe};
  argv_s.insert(argv_s.end(), options.args.begin(), options.args.end());
  std::vector<char*> argv;
  for (auto& a : argv_s) argv.push_back(a.data());
  argv.push_back(nullptr);

  log::info("launching ", options.nproc, " processes of ", exe, ", rendezvous at ",
            options.master_addr, ":", port);
  SignalForwarding forwarding;
  std::vector<pid_t> pids;
  auto signal_all = [&](int sig) {
    for (pid_t pid : pids) {
      if (pid > 0) ::kill(pid, sig);
    }
  };
  for (int rank = 0; rank < options.nproc; ++rank) {
    auto env = base;
    env["RANK"] = std::to_string(rank);
    env["LOCAL_RANK"] = std::to_string(rank);
    std::vector<std::string> env_s;
    for (const auto& [k, v] : env) env_s.push_back(k + "=" + v);
    std::vector<char*> envp;
    for (auto& s : env_s) envp.push_back(s.data());
    envp.push_back(nullptr);
    pid_t pid = 0;
    const int rc = ::posix_spawn(&pid, exe.c_str(), nullptr, nullptr, argv.data(), envp.data());
    if (rc != 0) {
      signal_all(SIGTERM);
      for (pid_t p : pids) ::waitpid(p, nullptr, 0);
      MUDIT_THROW(IoError, "cannot start ", exe, " for rank ", rank, ": ", std::strerror(rc));
    }
    pids.push_back(pid);
  }

  using Clock = std::chrono::steady_clock;
  int result = 0;
  bool failed = false;
  Clock::time_point kill_at = Clock::time_point::max();
  size_t alive = pids.size();
  while (alive > 0) {
    if (const int sig = g_pending_signal) {
      g_pending_signal = 0;
      log::info("forwarding signal ", sig, " to ", alive, " processes");
      signal_all(sig);
    }
    for (size_t rank = 0; rank < pids.size(); ++rank) {
      if (pids[rank] <= 0) continue;
      int status = 0;
      if (::waitpid(pids[rank], &status, WNOHANG) != pids[rank]) continue;
      pids[rank] = -1;
      --alive;
      const int code = exit_status(status);
      if (code != 0 && !failed) {
        failed = true;
        result = code;
        if (alive > 0) {
          log::error("rank ", rank, " exited with status ", code, "; stopping the other ", alive,
                     " processes");
          signal_all(SIGTERM);
          kill_at = Clock::now() +
                    std::chrono::milliseconds(static_cast<int64_t>(options.kill_grace_s * 1000));
        }
      }
    }
    if (alive > 0 && Clock::now() >= kill_at) {
      signal_all(SIGKILL);
      kill_at = Clock::time_point::max();
    }
    if (alive > 0) {
      timespec pause{0, 20 * 1000 * 1000};
      ::nanosleep(&pause, nullptr);
    }
  }
  return result;
}

}  // namespace mudit::dist
