#include "mudit/bench/bench.h"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <functional>
#include <nlohmann/json.hpp>

#include "bench/suites.h"
#include "mudit/core/config.h"
#include "mudit/core/error.h"
#include "mudit/core/version.h"

namespace mudit::bench {
namespace {

using SuiteFn = std::function<std::vector<Measurement>(const BenchOptions&)>;

const std::map<std::string, SuiteFn>& suites() {
  static const std::map<std::string, SuiteFn> table = {
      {"codec", run_codec_suite},     {"ddp", run_ddp_suite},
      {"device", run_device_suite},   {"generator", run_generator_suite},
      {"loader", run_loader_suite},   {"serve", run_serve_suite},
      {"vocoder", run_vocoder_suite},
  };
  return table;
}

}  // namespace

std::vector<std::string> suite_names() {
  std::vector<std::string> names;
  for (const auto& [name, fn] : suites()) names.push_back(name);
  return names;
}

std::vector<Measurement> run_suites(const std::vector<std::string>& names,
                                    const BenchOptions& options) {
  MUDIT_CHECK(options.warmup >= 0 && options.repeats >= 1 && options.threads >= 1, ConfigError,
              "bench needs warmup >= 0, repeats >= 1 and threads >= 1");
  std::vector<Measurement> all;
  for (const auto& name : names) {
    auto it = suites().find(name);
    if (it == suites().end()) {
      const std::string hint = closest_match(name, suite_names());
      MUDIT_THROW(ConfigError, "unknown bench suite '", name, "'",
                  hint.empty() ? "" : " (did you mean '" + hint + "'?)");
    }
    auto results = with_context("bench suite " + name, [&] { return it->second(options); });
    all.insert(all.end(), results.begin(), results.end());
  }
  return all;
}

std::string to_json(const std::vector<Measurement>& results, const BenchOptions& options) {
  nlohmann::ordered_json j;
  char host[256] = {0};
  gethostname(host, sizeof host - 1);
  j["machine"] = {{"host", host},
                  {"cpus", sysconf(_SC_NPROCESSORS_ONLN)},
                  {"threads_per_process", options.threads},
                  {"device", options.device},
                  {"scale", options.scale},
                  {"build", build_info()}};
  j["results"] = nlohmann::json::array();
  for (const auto& r : results) {
    nlohmann::ordered_json e = {
        {"suite", r.suite}, {"name", r.name}, {"value", r.value}, {"unit", r.unit}};
    if (std::isfinite(r.low) && std::isfinite(r.high)) e["iqr"] = {r.low, r.high};
    if (!r.verdict.empty()) e["verdict"] = r.verdict;
    j["results"].push_back(e);
  }
  return j.dump(2) + "\n";
}

std::string to_table(const std::vector<Measurement>& results) {
  // Fixed columns (tools/gpu/run.sh reads them): suite 9, measurement 40, value 14, unit 10,
  // interquartile range 23, verdict.
  std::string out;
  char line[320];
  std::snprintf(line, sizeof line, "%-9s %-40s %14s  %-10s %-23s %s\n", "suite", "measurement",
                "value", "unit", "IQR", "verdict");
  out += line;
  for (const auto& r : results) {
    char iqr[64] = "";
    if (std::isfinite(r.low) && std::isfinite(r.high)) {
      std::snprintf(iqr, sizeof iqr, "[%.4g, %.4g]", r.low, r.high);
    }
    std::snprintf(line, sizeof line, "%-9s %-40s %14.4g  %-10s %-23s %s", r.suite.c_str(),
                  r.name.c_str(), r.value, r.unit.c_str(), iqr, r.verdict.c_str());
    std::string row = line;
    row.erase(row.find_last_not_of(' ') + 1);
    out += row + "\n";
  }
  return out;
}

}  // namespace mudit::bench
