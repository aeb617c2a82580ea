// mudit bench: measured speed of mudit's suites, as a table and optionally JSON.
#include <iostream>
#include <memory>

#include "commands.h"
#include "mudit/bench/bench.h"
#include "mudit/core/fs.h"

namespace mudit::cli {

Runner setup_bench(CLI::App& app, CommonOptions& common) {
  add_common_options(app, common);
  struct Flags {
    std::vector<std::string> suites;
    bench::BenchOptions options;
    std::string json;
  };
  auto f = std::make_shared<Flags>();
  app.add_option("suites", f->suites, "suites to run (default: all but device)");
  app.add_option("--warmup", f->options.warmup, "untimed iterations")->capture_default_str();
  app.add_option("--repeats", f->options.repeats, "timed iterations (medians reported)")
      ->capture_default_str();
  app.add_option("--bench-threads", f->options.threads, "LibTorch threads per process, both sides")
      ->capture_default_str();
  app.add_option("--scale", f->options.scale, "the device suite's models: seed or tiny")
      ->check(CLI::IsMember({"seed", "tiny"}))
      ->capture_default_str();
  app.add_option("--json", f->json, "also write the results as JSON to FILE")->type_name("FILE");
  return [&common, f] {
    apply_common_options(common);
    f->options.device = common.device;  // the device suite's (--device; auto: a GPU when present)
    if (f->suites.empty()) {
      for (const auto& name : bench::suite_names()) {
        if (name != "device") f->suites.push_back(name);
      }
    }
    const auto results = bench::run_suites(f->suites, f->options);
    std::cout << bench::to_table(results);
    if (!f->json.empty()) write_file_atomic(f->json, bench::to_json(results, f->options));
    return kOk;
  };
}

}  // namespace mudit::cli
