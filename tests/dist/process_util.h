// Helpers of the distributed tests: start processes with extra environment variables, output to
// a file, and wait for them with a deadline (a hang fails the test instead of blocking it).
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "unit/test_util.h"

extern char** environ;

namespace mudit::test {

/// A TCP port that was free on 127.0.0.1 a moment ago.
inline int free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

struct Spawned {
  pid_t pid = -1;
  std::filesystem::path log;
};

/// Starts `args` (argv[0] is the executable) with `env` added to this process's environment,
/// stdout and stderr into `log`.
inline Spawned spawn(const std::vector<std::string>& args,
                     const std::map<std::string, std::string>& env,
                     const std::filesystem::path& log) {
  std::map<std::string, std::string> all;
  for (char** e = environ; *e; ++e) {
    const std::string kv = *e;
    const size_t eq = kv.find('=');
    if (eq != std::string::npos) all[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  for (const auto& [k, v] : env) all[k] = v;
  std::vector<std::string> env_s;
  for (const auto& [k, v] : all) env_s.push_back(k + "=" + v);
  std::vector<char*> envp;
  for (auto& s : env_s) envp.push_back(s.data());
  envp.push_back(nullptr);
  std::vector<std::string> args_s = args;
  std::vector<char*> argv;
  for (auto& a : args_s) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, log.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
  Spawned s;
  s.log = log;
  EXPECT_EQ(posix_spawn(&s.pid, argv[0], &actions, nullptr, argv.data(), envp.data()), 0)
      << argv[0];
  posix_spawn_file_actions_destroy(&actions);
  return s;
}

struct Finished {
  int status = -1;  // exit status, 128 + signal, or -1 when killed at the deadline
  std::string output;
  double seconds = 0;
};

/// Waits for every process; one still running after `deadline_s` is killed (status -1).
inline std::vector<Finished> wait_all(const std::vector<Spawned>& procs, double deadline_s) {
  const auto start = std::chrono::steady_clock::now();
  std::vector<Finished> out(procs.size());
  std::vector<bool> done(procs.size(), false);
  size_t left = procs.size();
  while (left > 0) {
    const double elapsed =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    for (size_t i = 0; i < procs.size(); ++i) {
      if (done[i]) continue;
      int status = 0;
      if (::waitpid(procs[i].pid, &status, WNOHANG) == procs[i].pid) {
        out[i].status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      } else if (elapsed > deadline_s) {
        ::kill(procs[i].pid, SIGKILL);
        ::waitpid(procs[i].pid, &status, 0);
        out[i].status = -1;
      } else {
        continue;
      }
      done[i] = true;
      --left;
      out[i].seconds = elapsed;
      out[i].output = read_file(procs[i].log);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return out;
}

}  // namespace mudit::test
