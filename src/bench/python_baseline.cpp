#include "bench/python_baseline.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "bench/common.h"
#include "mudit/core/error.h"
#include "mudit/core/log.h"

namespace mudit::bench {
namespace fs = std::filesystem;

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

Spread spread_of(std::vector<double> v) {
  MUDIT_CHECK(!v.empty(), Error, "spread of no values");
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return {v[n / 2], v[n / 4], v[(3 * n) / 4 < n ? (3 * n) / 4 : n - 1]};
}

std::string verdict(const Spread& cpp, const Spread& python) {
  if (cpp.high < python.low) return "faster";
  if (cpp.low > python.high) return "slower";
  return "same";
}

BaselineWorker::BaselineWorker(pid_t pid, std::FILE* to, std::FILE* from, std::string command)
    : pid_(pid), to_(to), from_(from), command_(std::move(command)) {}

BaselineWorker::~BaselineWorker() {
  if (to_) std::fclose(to_);
  if (from_) std::fclose(from_);
  if (pid_ > 0) {
    ::kill(pid_, SIGTERM);
    int status = 0;
    ::waitpid(pid_, &status, 0);
  }
}

std::unique_ptr<BaselineWorker> BaselineWorker::start(const std::string& suite,
                                                      const std::string& script,
                                                      const fs::path& work_dir) {
  const std::string python = baseline_python();
  const std::string path = baseline_script(script).string();
  const std::string command = python + " " + path + " " + work_dir.string();
  log::info("bench: ", command);
  const std::string dir = work_dir.string();
  // A worker that dies mid-run must surface as an error here, not kill mudit by SIGPIPE.
  ::signal(SIGPIPE, SIG_IGN);
  int in[2], out[2];
  MUDIT_CHECK(::pipe(in) == 0 && ::pipe(out) == 0, IoError, "cannot make pipes for: ", command);
  const pid_t pid = ::fork();
  MUDIT_CHECK(pid >= 0, IoError, "cannot fork for: ", command);
  if (pid == 0) {
    ::dup2(in[0], STDIN_FILENO);
    ::dup2(out[1], STDOUT_FILENO);
    ::close(in[0]), ::close(in[1]), ::close(out[0]), ::close(out[1]);
    ::execlp(python.c_str(), python.c_str(), path.c_str(), dir.c_str(),
             static_cast<char*>(nullptr));
    ::_exit(127);
  }
  ::close(in[0]);
  ::close(out[1]);
  std::unique_ptr<BaselineWorker> w(
      new BaselineWorker(pid, ::fdopen(in[1], "w"), ::fdopen(out[0], "r"), command));
  std::string line;
  char buf[4096];
  while (std::fgets(buf, sizeof buf, w->from_)) {
    line = buf;
    if (line.find("\"ready\"") != std::string::npos) return w;
  }
  // The script ended before it was ready: 77 means no torch here.
  int status = 0;
  ::waitpid(pid, &status, 0);
  w->pid_ = -1;
  const int code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  if (code == 77) {
    log::warn("bench ", suite, ": ", python, " lacks torch or safetensors; no PyTorch baseline");
    return nullptr;
  }
  MUDIT_THROW(Error, "the PyTorch baseline failed to start (status ", code, "): ", command);
}

nlohmann::json BaselineWorker::request(const std::string& line) {
  MUDIT_CHECK(std::fputs((line + "\n").c_str(), to_) >= 0 && std::fflush(to_) == 0, IoError,
              "the PyTorch baseline stopped reading: ", command_);
  char buf[65536];
  MUDIT_CHECK(std::fgets(buf, sizeof buf, from_), Error, "the PyTorch baseline ended during '",
              line, "': ", command_);
  nlohmann::json j = nlohmann::json::parse(buf);
  MUDIT_CHECK(!j.contains("error"), Error, "the PyTorch baseline: ", j.value("error", ""));
  return j;
}

double BaselineWorker::run(const std::string& op) {
  return request(op).at("seconds").get<double>();
}

nlohmann::json BaselineWorker::finish() {
  nlohmann::json j = request("done");
  std::fclose(to_);
  to_ = nullptr;
  int status = 0;
  ::waitpid(pid_, &status, 0);
  pid_ = -1;
  return j;
}

Interleaved interleave(int warmup, int repeats, const std::function<void()>& cpp,
                       BaselineWorker& python, const std::string& op) {
  Interleaved t;
  auto time_cpp = [&] { return time_once(cpp); };
  for (int i = 0; i < warmup + repeats; ++i) {
    double c, p;
    if (i % 2 == 0) {
      c = time_cpp();
      p = python.run(op);
    } else {
      p = python.run(op);
      c = time_cpp();
    }
    if (i >= warmup) {
      t.cpp.push_back(c);
      t.python.push_back(p);
    }
  }
  return t;
}

void add_comparison(std::vector<Measurement>& out, const std::string& suite,
                    const std::string& name, const Interleaved& times, double scale,
                    const std::string& unit) {
  const Spread c = spread_of(times.cpp), p = spread_of(times.python);
  out.push_back({suite, name + " C++", c.median * scale, unit, c.low * scale, c.high * scale, ""});
  out.push_back(
      {suite, name + " PyTorch", p.median * scale, unit, p.low * scale, p.high * scale, ""});
  out.push_back({suite, name + " speed-up", p.median / c.median, "x", p.low / c.high,
                 p.high / c.low, verdict(c, p)});
}

void check_agreement(std::vector<Measurement>& out, const std::string& suite,
                     const std::string& name, double difference, double tolerance) {
  MUDIT_CHECK(std::isfinite(difference) && difference <= tolerance, Error, "bench ", suite, ": ",
              name, " is ", difference, ", over the tolerance ", tolerance,
              ": the C++ model and its PyTorch port disagree");
  char bound[32];
  std::snprintf(bound, sizeof bound, "<= %g", tolerance);
  out.push_back({suite, name, difference, bound});
}

}  // namespace mudit::bench
