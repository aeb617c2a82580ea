#pragma once

// `mudit launch`: a single-node stand-in for torchrun that needs no Python.

#include <string>
#include <vector>

namespace mudit::dist {

struct LaunchOptions {
  int nproc = 1;                              // processes to start (one per GPU)
  int master_port = 0;                        // 0: a free port on the loopback interface
  std::string master_addr = "127.0.0.1";      // where rank 0 hosts the rendezvous
  std::string executable = "/proc/self/exe";  // what to start: by default this very binary
  std::vector<std::string> args;              // its arguments (argv[1:])
  double kill_grace_s = 10;  // after SIGTERM, how long the others get before SIGKILL
};

/// Starts `nproc` copies of `executable` with torchrun's variables set (RANK, WORLD_SIZE,
/// LOCAL_RANK, LOCAL_WORLD_SIZE, MASTER_ADDR, MASTER_PORT), forwards SIGINT and SIGTERM to them,
/// and waits. When one fails, the others are sent SIGTERM (then SIGKILL after kill_grace_s).
/// Returns 0 when every copy succeeded, else the first failure's exit status (128 + signal for
/// a copy killed by a signal). Throws ConfigError for bad options, IoError when a copy cannot
/// be started.
int launch(const LaunchOptions& options);

/// A TCP port that was free on 127.0.0.1 a moment ago.
int free_port();

}  // namespace mudit::dist
