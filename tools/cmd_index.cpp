// mudit index build / mudit search / mudit serve / mudit passwd: the retrieval service
// (mudit/retrieval/index.h, server.h).
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <thread>

#include "commands.h"
#include "mudit/core/config.h"
#include "mudit/core/device.h"
#include "mudit/core/error.h"
#include "mudit/core/log.h"
#include "mudit/retrieval/index.h"
#include "mudit/retrieval/server.h"

namespace mudit::cli {

namespace {

Runner setup_index_build(CLI::App& app, CommonOptions& common) {
  auto manifest = std::make_shared<std::string>();
  auto chinmu = std::make_shared<std::string>();
  auto out = std::make_shared<std::string>();
  app.add_option("--manifest", *manifest, "songs to index")->required()->type_name("JSONL");
  app.add_option("--chinmu", *chinmu, "ChinMu model file or run")->required()->type_name("PATH");
  app.add_option("--out", *out, "index folder")->required()->type_name("DIR");
  add_common_options(app, common);
  app.footer(
      "Index settings under `index:` (--set index.kind=flat|ivf|hnsw, index.nlist, "
      "index.nprobe, index.hnsw_m, index.ef_construction, index.ef_search).");
  return [&common, manifest, chinmu, out] {
    apply_common_options(common);
    const auto config = bind_config<retrieval::IndexConfig>(resolve_config(common), "index");
    const auto r =
        retrieval::build_song_index(*manifest, *chinmu, config, *out, parse_device(common.device));
    log::info("index: ", r.songs, " songs (", r.skipped, " unreadable, ", r.no_lyrics,
              " without lyrics) in ", r.seconds, " s -> ", *out);
    return kOk;
  };
}

std::atomic<bool> g_stop{false};
void on_signal(int) {
  g_stop = true;
}

}  // namespace

Runner setup_index(CLI::App& app, CommonOptions& common) {
  app.require_subcommand(1);
  CLI::App* build = app.add_subcommand("build", "ChinMu audio + lyric embeddings -> FAISS index");
  Runner run = setup_index_build(*build, common);
  return [run] { return run(); };
}

Runner setup_search(CLI::App& app, CommonOptions& common) {
  auto dir = std::make_shared<std::string>();
  auto query = std::make_shared<std::string>();
  auto mode = std::make_shared<std::string>("text");
  auto k = std::make_shared<int64_t>(10);
  app.add_option("--index", *dir, "index folder (mudit index build)")->required()->type_name("DIR");
  app.add_option("--text", *query, "the query")->required();
  app.add_option("--mode", *mode, "text (against audio), lyrics, or mix (default text)");
  app.add_option("--k", *k, "hits (default 10)");
  add_common_options(app, common);
  app.footer("Prints one JSON line per hit, best first: rank, id, score, description.");
  return [&common, dir, query, mode, k] {
    apply_common_options(common);
    const retrieval::SongIndex index = retrieval::SongIndex::load(*dir);
    int rank = 0;
    for (const retrieval::Hit& h : index.search(*query, *mode, *k)) {
      nlohmann::ordered_json j;
      j["rank"] = ++rank;
      j["id"] = h.song->id;
      j["score"] = h.score;
      j["description"] = h.song->description;
      std::cout << j.dump() << "\n";
    }
    return kOk;
  };
}

Runner setup_serve(CLI::App& app, CommonOptions& common) {
  auto dir = std::make_shared<std::string>();
  auto host = std::make_shared<std::string>();
  auto port = std::make_shared<int64_t>(-1);
  auto users = std::make_shared<std::string>();
  auto bundle_dir = std::make_shared<std::string>();
  app.add_option("--index", *dir, "index folder (mudit index build)")->required()->type_name("DIR");
  app.add_option("--bundle", *bundle_dir,
                 "a bundle (mudit bundle): POST /api/generate makes songs from descriptions")
      ->type_name("DIR");
  app.add_option("--host", *host, "address to listen on (default 127.0.0.1)");
  app.add_option("--port", *port, "port (default 8080; 0: any free one)");
  app.add_option("--users", *users, "users file (mudit passwd): require authentication")
      ->type_name("FILE");
  add_common_options(app, common);
  app.footer(
      "Server settings under `serve:` (--set serve.rate_per_s=20, serve.burst, serve.threads, "
      "serve.max_k, serve.max_body_bytes, serve.max_query_chars, serve.token_ttl_s, "
      "serve.max_jobs, serve.max_seconds, serve.jobs_dir). Stops "
      "cleanly on SIGTERM or SIGINT.");
  return [&common, dir, host, port, users, bundle_dir] {
    apply_common_options(common);
    auto config = bind_config<retrieval::ServerConfig>(resolve_config(common), "serve");
    if (!host->empty()) config.host = *host;
    if (*port >= 0) config.port = *port;
    if (!users->empty()) config.users = *users;
    config.validate();
    const retrieval::SongIndex index = retrieval::SongIndex::load(*dir);
    retrieval::SongGenerator generate;
    if (!bundle_dir->empty()) {
      generate = retrieval::bundle_song_generator(*bundle_dir, parse_device(common.device));
    }
    retrieval::SearchServer server(index, config, generate);
    const int bound = server.bind();
    std::signal(SIGTERM, on_signal);
    std::signal(SIGINT, on_signal);
    std::thread watcher([&server] {
      while (!g_stop) std::this_thread::sleep_for(std::chrono::milliseconds(50));
      server.stop();
    });
    // The line scripts wait for: the port is known and the socket listens.
    std::cout << "serving " << index.songs().size() << " songs on http://" << config.host << ":"
              << bound << "/" << (config.users.empty() ? "" : " (authentication required)")
              << (generate ? " with generation" : "") << std::endl;
    server.serve();
    g_stop = true;
    watcher.join();
    const auto s = server.stats();
    log::info("serve: stopped after ", s.requests, " requests (", s.refused, " refused, ", s.failed,
              " failed)");
    return kOk;
  };
}

Runner setup_passwd(CLI::App& app, CommonOptions& common) {
  auto users = std::make_shared<std::string>();
  auto user = std::make_shared<std::string>();
  app.add_option("--users", *users, "users file (created when missing)")
      ->required()
      ->type_name("FILE");
  app.add_option("--user", *user, "user name")->required();
  add_common_options(app, common);
  app.footer("Reads the password from the first line of standard input; stores an Argon2id hash.");
  return [&common, users, user] {
    apply_common_options(common);
    std::string password;
    if (isatty(STDIN_FILENO)) std::cerr << "password for " << *user << ": " << std::flush;
    std::getline(std::cin, password);
    if (!password.empty() && password.back() == '\r') password.pop_back();
    MUDIT_CHECK(!password.empty(), ConfigError, "passwd: no password on standard input");
    retrieval::set_user(*users, *user, password);
    log::info("passwd: ", *user, " set in ", *users);
    return kOk;
  };
}

}  // namespace mudit::cli
