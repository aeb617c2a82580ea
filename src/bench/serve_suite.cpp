// The "serve" bench suite: the retrieval service under concurrent load on loopback. Compiled
// with libcpp-httplib's definitions for its client (src/CMakeLists.txt).
#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <ATen/Parallel.h>
#include <c10/core/InferenceMode.h>
#include <httplib.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <functional>
#include <nlohmann/json.hpp>
#include <thread>

#include "bench/suites.h"
#include "mudit/core/log.h"
#include "mudit/retrieval/index.h"
#include "mudit/retrieval/server.h"

namespace mudit::bench {

namespace {
using Clock = std::chrono::steady_clock;
constexpr int64_t kSongs = 100000, kDim = 512, kClients = 50, kQueriesPerClient = 200;

double ms_since(Clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}
double quantile(std::vector<double> v, double q) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0.0 : v[std::min(v.size() - 1, static_cast<size_t>(q * v.size()))];
}
}  // namespace

std::vector<Measurement> run_serve_suite(const BenchOptions& options) {
  at::set_num_threads(options.threads);
  // 100 k songs of random unit vectors in ChinMu's seed-scale space; a query's vector is drawn
  // from a generator seeded by its text's hash, so the load measures the server and FAISS, not
  // a text tower.
  at::manual_seed(7);
  at::Tensor audio = at::randn({kSongs, kDim});
  at::Tensor lyrics = at::randn({kSongs, kDim});
  std::vector<retrieval::SongRecord> songs(kSongs);
  for (int64_t i = 0; i < kSongs; ++i) {
    songs[i].id = "s" + std::to_string(i);
    songs[i].description = "song " + std::to_string(i);
  }
  retrieval::QueryEmbedder embed = [](const std::vector<std::string>& texts) {
    std::vector<at::Tensor> rows;
    for (const auto& t : texts) {
      auto gen = at::make_generator<at::CPUGeneratorImpl>(std::hash<std::string>{}(t));
      rows.push_back(at::randn({kDim}, gen));
    }
    return at::stack(rows);
  };
  retrieval::IndexConfig ic;  // the seed's Milvus setting: IVF-Flat, 1024 cells, 10 probed
  ic.kind = "ivf";
  const auto t_build = Clock::now();
  const retrieval::SongIndex index(std::move(songs), audio, lyrics, ic, embed);
  const double build_s = ms_since(t_build) / 1000;
  log::info("bench serve: indexed ", kSongs, " songs (", kDim, "-d, IVF-Flat ", ic.nlist, "/",
            ic.nprobe, ") in ", build_s, " s");

  const auto query = [](int64_t c, int64_t i) {
    return "client " + std::to_string(c) + " query " + std::to_string(i);
  };
  // Baseline: the same search in process, one query at a time.
  std::vector<double> direct;
  for (int64_t i = 0; i < 1000; ++i) {
    const auto t0 = Clock::now();
    (void)index.search(query(i % kClients, i), "text", 10);
    direct.push_back(ms_since(t0));
  }

  retrieval::ServerConfig sc;
  sc.port = 0;
  sc.rate_per_s = 0;  // the load comes from one address
  retrieval::SearchServer server(index, sc);
  const int port = server.bind();
  std::thread serving([&] { server.serve(); });
  std::vector<std::vector<double>> latency(kClients);
  std::atomic<int64_t> errors{0};
  const auto t_load = Clock::now();
  std::vector<std::thread> clients;
  for (int64_t c = 0; c < kClients; ++c) {
    clients.emplace_back([&, c] {
      httplib::Client cli("127.0.0.1", port);
      cli.set_read_timeout(30, 0);
      for (int64_t i = 0; i < kQueriesPerClient; ++i) {
        const std::string body =
            nlohmann::json{{"query", query(c, i)}, {"mode", "text"}, {"k", 10}}.dump();
        const auto t0 = Clock::now();
        const auto r = cli.Post("/api/search", body, "application/json");
        latency[c].push_back(ms_since(t0));
        if (!r || r->status != 200) ++errors;
      }
    });
  }
  for (auto& t : clients) t.join();
  const double load_s = ms_since(t_load) / 1000;
  server.stop();
  serving.join();

  std::vector<double> all;
  for (const auto& v : latency) all.insert(all.end(), v.begin(), v.end());
  const double p50 = quantile(all, 0.5), direct_p50 = quantile(direct, 0.5);
  return {{"serve", "index_build_s", build_s, "s"},
          {"serve", "in_process_p50", direct_p50, "ms"},
          {"serve", "http_p50", p50, "ms"},
          {"serve", "http_p99", quantile(all, 0.99), "ms"},
          {"serve", "http_max", quantile(all, 1.0), "ms"},
          {"serve", "http_queries", static_cast<double>(all.size()), "queries"},
          {"serve", "http_errors", static_cast<double>(errors.load()), "queries"},
          {"serve", "http_throughput", static_cast<double>(all.size()) / load_s, "queries/s"},
          {"serve", "http_p50_over_in_process", p50 / direct_p50, "x"}};
}

}  // namespace mudit::bench
