#include "bench/python_baseline.h"

#include <sys/wait.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>

#include "mudit/core/error.h"
#include "mudit/core/log.h"

namespace mudit::bench {
namespace fs = std::filesystem;

namespace {

// Runs a command and returns its stdout and exit status.
std::pair<std::string, int> capture(const std::string& cmd) {
  FILE* pipe = ::popen(cmd.c_str(), "r");
  MUDIT_CHECK(pipe, IoError, "cannot run: ", cmd);
  std::string out;
  char buf[4096];
  for (size_t n; (n = std::fread(buf, 1, sizeof buf, pipe)) > 0;) out.append(buf, n);
  const int status = ::pclose(pipe);
  return {out, WIFEXITED(status) ? WEXITSTATUS(status) : -1};
}

}  // namespace

double median(std::vector<double> v) {
  MUDIT_CHECK(!v.empty(), Error, "median of no values");
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

std::string baseline_python() {
  if (const char* p = std::getenv("MUDIT_PYTHON")) return p;
  return MUDIT_BENCH_PYTHON[0] ? MUDIT_BENCH_PYTHON : "python3";
}

fs::path baseline_script(const std::string& name) {
  if (const char* d = std::getenv("MUDIT_BENCH_SCRIPTS")) return fs::path(d) / name;
  const fs::path source = fs::path(MUDIT_BENCH_SCRIPT_DIR) / name;
  return fs::exists(source) ? source : fs::path(MUDIT_BENCH_INSTALL_DIR) / name;
}

std::optional<nlohmann::json> run_baseline(const std::string& suite, const std::string& script,
                                           const fs::path& work_dir) {
  const std::string cmd = "'" + baseline_python() + "' '" + baseline_script(script).string() +
                          "' '" + work_dir.string() + "'";
  log::info("bench: ", cmd);
  const auto [text, status] = capture(cmd);
  if (status == 77) {
    log::warn("bench ", suite, ": ", baseline_python(),
              " lacks torch or safetensors; no PyTorch baseline");
    return std::nullopt;
  }
  MUDIT_CHECK(status == 0, Error, "the PyTorch baseline failed (status ", status, "): ", cmd);
  const size_t start = text.find('{');
  MUDIT_CHECK(start != std::string::npos, Error, "the PyTorch baseline printed no JSON: ", cmd);
  return nlohmann::json::parse(text.substr(start));
}

}  // namespace mudit::bench
