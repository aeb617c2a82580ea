// mudit serve / mudit passwd: the retrieval service and its users (mudit/retrieval/server.h).
#include <unistd.h>

#include <filesystem>
#include <iostream>
#include <memory>

#include "commands.h"
#include "mudit/core/config.h"
#include "mudit/core/device.h"
#include "mudit/core/error.h"
#include "mudit/core/log.h"
#include "mudit/retrieval/index.h"
#include "mudit/retrieval/server.h"

namespace mudit::cli {

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
    // The line scripts wait for: the port is known and the socket listens.
    std::cout << "serving " << index.songs().size() << " songs on http://" << config.host << ":"
              << bound << "/" << (config.users.empty() ? "" : " (authentication required)")
              << (generate ? " with generation" : "") << std::endl;
    retrieval::serve_until_signal(server);
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
    // The name and the users file first: nobody types a password for a refused request.
    retrieval::check_user_name(*user);
    if (std::filesystem::exists(*users)) retrieval::read_users(*users);
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
