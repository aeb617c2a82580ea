// The retrieval service. This file alone includes httplib.h, compiled with the definitions
// Debian's libcpp-httplib was built with (see src/CMakeLists.txt).
#include "mudit/retrieval/server.h"

#include <argon2.h>
#include <httplib.h>
#include <sys/random.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <csignal>
#include <cstring>
#include <deque>
#include <fstream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <thread>

#include "mudit/core/error.h"
#include "mudit/core/fs.h"
#include "mudit/core/log.h"

namespace mudit::retrieval {
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using nlohmann::json;

void ServerConfig::validate() const {
  MUDIT_CHECK(port >= 0 && port <= 65535, ConfigError, "serve: port must be 0..65535");
  MUDIT_CHECK(threads >= 1, ConfigError, "serve: threads must be >= 1");
  MUDIT_CHECK(max_body_bytes >= 64 && max_query_chars >= 1 && max_k >= 1, ConfigError,
              "serve: max_body_bytes >= 64, max_query_chars and max_k >= 1");
  MUDIT_CHECK(rate_per_s >= 0 && (rate_per_s == 0 || burst >= 1), ConfigError,
              "serve: rate_per_s >= 0 and burst >= 1");
  MUDIT_CHECK(token_ttl_s >= 1, ConfigError, "serve: token_ttl_s must be >= 1");
  MUDIT_CHECK(max_jobs >= 1 && max_seconds > 0 && keep_jobs >= 1, ConfigError,
              "serve: max_jobs >= 1, max_seconds > 0 and keep_jobs >= 1");
}

// --- passwords --------------------------------------------------------------------------------

namespace {
constexpr uint32_t kTCost = 3, kMCostKiB = 65536, kParallelism = 1, kSaltBytes = 16,
                   kHashBytes = 32;

void random_bytes(uint8_t* out, size_t n) {
  for (size_t done = 0; done < n;) {
    const ssize_t got = ::getrandom(out + done, n - done, 0);
    MUDIT_CHECK(got > 0 || errno == EINTR, IoError, "getrandom: ", std::strerror(errno));
    if (got > 0) done += static_cast<size_t>(got);
  }
}

std::string random_token() {
  uint8_t b[24];
  random_bytes(b, sizeof b);
  static const char* hex = "0123456789abcdef";
  std::string out;
  for (uint8_t x : b) {
    out += hex[x >> 4];
    out += hex[x & 15];
  }
  return out;
}

bool valid_name(const std::string& name) {
  return !name.empty() && std::all_of(name.begin(), name.end(), [](unsigned char c) {
    return std::isalnum(c) || c == '.' || c == '_' || c == '-';
  });
}

// RFC 4648 base64 (the Basic credentials); std::nullopt for malformed input.
std::optional<std::string> base64_decode(std::string_view in) {
  std::string out;
  uint32_t acc = 0;
  int bits = 0;
  size_t pad = 0;
  for (char c : in) {
    int v;
    if (c >= 'A' && c <= 'Z') {
      v = c - 'A';
    } else if (c >= 'a' && c <= 'z') {
      v = c - 'a' + 26;
    } else if (c >= '0' && c <= '9') {
      v = c - '0' + 52;
    } else if (c == '+') {
      v = 62;
    } else if (c == '/') {
      v = 63;
    } else if (c == '=') {
      ++pad;
      continue;
    } else {
      return std::nullopt;
    }
    if (pad) return std::nullopt;  // data after padding
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((acc >> bits) & 0xff);
    }
  }
  if (pad > 2) return std::nullopt;
  return out;
}
}  // namespace

std::string hash_password(const std::string& password) {
  MUDIT_CHECK(!password.empty(), ConfigError, "passwd: empty password");
  uint8_t salt[kSaltBytes];
  random_bytes(salt, sizeof salt);
  const size_t len =
      argon2_encodedlen(kTCost, kMCostKiB, kParallelism, kSaltBytes, kHashBytes, Argon2_id);
  std::string encoded(len, '\0');
  const int rc =
      argon2id_hash_encoded(kTCost, kMCostKiB, kParallelism, password.data(), password.size(), salt,
                            sizeof salt, kHashBytes, encoded.data(), encoded.size());
  MUDIT_CHECK(rc == ARGON2_OK, Error, "argon2: ", argon2_error_message(rc));
  encoded.resize(std::strlen(encoded.c_str()));
  return encoded;
}

bool verify_password(const std::string& encoded, const std::string& password) {
  if (encoded.rfind("$argon2id$", 0) != 0) return false;
  return argon2id_verify(encoded.c_str(), password.data(), password.size()) == ARGON2_OK;
}

std::map<std::string, std::string> read_users(const fs::path& file) {
  MUDIT_CHECK(fs::exists(file), IoError, "users file ", file.string(), " does not exist");
  std::map<std::string, std::string> users;
  std::istringstream in(read_file(file));
  std::string line;
  for (int64_t n = 1; std::getline(in, line); ++n) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty() || line[0] == '#') continue;
    const size_t colon = line.find(':');
    const std::string name = line.substr(0, colon);
    MUDIT_CHECK(colon != std::string::npos && valid_name(name) &&
                    line.compare(colon + 1, 10, "$argon2id$") == 0,
                DataError, file.string(), ":", n,
                ": want name:$argon2id$... (mudit passwd writes such lines)");
    users[name] = line.substr(colon + 1);
  }
  return users;
}

void check_user_name(const std::string& name) {
  MUDIT_CHECK(valid_name(name), ConfigError, "passwd: user names are [A-Za-z0-9._-]+, not '", name,
              "'");
}

void set_user(const fs::path& file, const std::string& name, const std::string& password) {
  check_user_name(name);
  std::map<std::string, std::string> users;
  if (fs::exists(file)) users = read_users(file);
  users[name] = hash_password(password);
  std::string text = "# mudit serve users: name:argon2id hash (mudit passwd)\n";
  for (const auto& [n, h] : users) text += n + ":" + h + "\n";
  write_file_atomic(file, text);
  fs::permissions(file, fs::perms::owner_read | fs::perms::owner_write, fs::perm_options::replace);
}

// --- server -----------------------------------------------------------------------------------

namespace {

// One request's bytes in, the response's bytes out: httplib's request processing without a
// socket (SearchServer::handle_raw).
class MemoryStream final : public httplib::Stream {
 public:
  MemoryStream(std::string_view in, std::string remote) : in_(in), remote_(std::move(remote)) {}
  bool is_readable() const override { return pos_ < in_.size(); }
  bool is_writable() const override { return true; }
  ssize_t read(char* ptr, size_t size) override {
    const size_t n = std::min(size, in_.size() - pos_);
    std::memcpy(ptr, in_.data() + pos_, n);
    pos_ += n;
    return static_cast<ssize_t>(n);
  }
  ssize_t write(const char* ptr, size_t size) override {
    out_.append(ptr, size);
    return static_cast<ssize_t>(size);
  }
  void get_remote_ip_and_port(std::string& ip, int& port) const override {
    ip = remote_;
    port = 0;
  }
  void get_local_ip_and_port(std::string& ip, int& port) const override {
    ip = "127.0.0.1";
    port = 0;
  }
  socket_t socket() const override { return INVALID_SOCKET; }
  std::string& out() { return out_; }

 private:
  std::string_view in_;
  size_t pos_ = 0;
  std::string remote_;
  std::string out_;
};

class MemoryServer final : public httplib::Server {
 public:
  std::string process(std::string_view request, const std::string& remote) {
    MemoryStream stream(request, remote);
    bool closed = false;
    process_request(stream, /*close_connection=*/true, closed, nullptr);
    return std::move(stream.out());
  }
};

}  // namespace

struct SearchServer::Impl {
  const SongIndex& index;
  ServerConfig config;
  std::map<std::string, std::string> users;
  MemoryServer http;

  // Generation jobs: one worker thread runs them in order.
  SongGenerator generator;
  fs::path jobs_dir;
  bool own_jobs_dir = false;
  struct Job {
    std::string status = "queued";  // running, done, failed
    std::string error;
    GenerateRequest request;
    fs::path wav;
  };
  std::mutex jobs_mu;  // guards jobs, queue, active, stopping
  std::condition_variable jobs_cv;
  std::map<std::string, Job> jobs;
  std::deque<std::string> queue;
  std::deque<std::string> finished;  // done or failed, oldest first
  int64_t active = 0;                // queued or running
  bool stopping = false;
  std::thread worker;

  std::mutex mu;                                      // guards the maps below
  std::map<std::string, Clock::time_point> tokens;    // bearer token -> expiry
  std::map<std::string, Clock::time_point> verified;  // Basic header -> until
  struct Bucket {
    double tokens = 0;
    Clock::time_point last;
  };
  std::map<std::string, Bucket> buckets;  // client address -> its request bucket

  std::atomic<int64_t> requests{0}, refused{0}, failed{0};

  Impl(const SongIndex& i, ServerConfig c, SongGenerator g)
      : index(i), config(std::move(c)), generator(std::move(g)) {}

  void work() {
    for (;;) {
      std::string id;
      GenerateRequest req;
      fs::path wav;
      {
        std::unique_lock<std::mutex> lock(jobs_mu);
        jobs_cv.wait(lock, [&] { return stopping || !queue.empty(); });
        if (stopping) return;
        id = queue.front();
        queue.pop_front();
        Job& j = jobs.at(id);
        j.status = "running";
        req = j.request;
        wav = j.wav;
      }
      std::string err;
      try {
        generator(req, wav);
      } catch (const std::exception& e) {
        err = e.what();
        log::warn("serve: job ", id, " failed: ", err);
      }
      std::lock_guard<std::mutex> lock(jobs_mu);
      Job& j = jobs.at(id);
      j.status = err.empty() ? "done" : "failed";
      j.error = err;
      --active;
      // Finished jobs beyond keep_jobs are forgotten, the oldest first, with their songs.
      finished.push_back(id);
      while (static_cast<int64_t>(finished.size()) > config.keep_jobs) {
        if (const auto old = jobs.find(finished.front()); old != jobs.end()) {
          std::error_code ec;
          fs::remove(old->second.wav, ec);
          jobs.erase(old);
        }
        finished.pop_front();
      }
    }
  }

  void stop_jobs() {
    {
      std::lock_guard<std::mutex> lock(jobs_mu);
      if (stopping) return;
      stopping = true;
      if (!queue.empty()) log::info("serve: ", queue.size(), " queued songs dropped at shutdown");
    }
    jobs_cv.notify_all();
    if (worker.joinable()) worker.join();  // a running song is finished first
  }

  void generate(const httplib::Request& req, httplib::Response& res) {
    if (!generator) return error(res, 501, "no generator loaded (mudit serve --bundle DIR)");
    const json j = json::parse(req.body, nullptr, false);
    if (!j.is_object()) return error(res, 400, "the body must be a JSON object");
    GenerateRequest g;
    if (!j.contains("description") || !j["description"].is_string() ||
        j["description"].get<std::string>().empty()) {
      return error(res, 400, "description: a non-empty string is required");
    }
    g.description = j["description"];
    if (static_cast<int64_t>(g.description.size()) > 4 * config.max_query_chars) {
      return error(res, 400, "description: too long");
    }
    if (j.contains("lyrics")) {
      if (!j["lyrics"].is_string()) return error(res, 400, "lyrics: a string");
      g.lyrics = j["lyrics"];
    }
    if (j.contains("duration")) {
      if (!j["duration"].is_number()) return error(res, 400, "duration: a number of seconds");
      g.duration = j["duration"];
    }
    if (!(g.duration > 0 && g.duration <= config.max_seconds)) {
      return error(
          res, 400,
          "duration: more than 0 and at most " + std::to_string(config.max_seconds) + " seconds");
    }
    if (j.contains("seed")) {
      if (!j["seed"].is_number_unsigned()) return error(res, 400, "seed: a non-negative integer");
      g.seed = j["seed"];
    }
    if (j.contains("steps")) {
      if (!j["steps"].is_number_integer() || j["steps"].get<int64_t>() < 0 ||
          j["steps"].get<int64_t>() > 1000) {
        return error(res, 400, "steps: 0 to 1000");
      }
      g.steps = j["steps"];
    }
    std::string id;
    {
      std::lock_guard<std::mutex> lock(jobs_mu);
      if (active >= config.max_jobs) {
        res.set_header("Retry-After", "10");
        return error(res, 503, "busy: " + std::to_string(active) + " songs queued or running");
      }
      id = random_token().substr(0, 16);
      Job job;
      job.request = g;
      job.wav = jobs_dir / (id + ".wav");
      jobs[id] = job;
      queue.push_back(id);
      ++active;
    }
    jobs_cv.notify_one();
    reply(res, 202, {{"job", id}, {"status_url", "/api/jobs/" + id}});
  }

  void job_status(const httplib::Request& req, httplib::Response& res, bool audio_file) {
    const std::string id = req.matches[1];
    std::lock_guard<std::mutex> lock(jobs_mu);
    const auto it = jobs.find(id);
    if (it == jobs.end()) return error(res, 404, "no job '" + id + "'");
    const Job& j = it->second;
    if (audio_file) {
      if (j.status != "done") return error(res, 404, "job '" + id + "' is " + j.status);
      return send_file(res, j.wav);
    }
    json out = {{"job", id}, {"status", j.status}, {"description", j.request.description}};
    if (j.status == "done") out["audio_url"] = "/api/jobs/" + id + "/audio";
    if (j.status == "failed") out["error"] = j.error;
    reply(res, 200, out);
  }

  // A file as the response, read as it is sent; Range requests get their bytes (206).
  static void send_file(httplib::Response& res, const fs::path& file) {
    std::error_code ec;
    const auto size = fs::file_size(file, ec);
    if (ec) return error(res, 404, "the audio file is missing");
    const std::string ext = file.extension().string();
    const std::string type = ext == ".flac"  ? "audio/flac"
                             : ext == ".ogg" ? "audio/ogg"
                             : ext == ".mp3" ? "audio/mpeg"
                                             : "audio/wav";
    auto in = std::make_shared<std::ifstream>(file, std::ios::binary);
    res.set_content_provider(
        static_cast<size_t>(size), type,
        [in](size_t offset, size_t length, httplib::DataSink& sink) {
          char buf[65536];
          in->clear();
          in->seekg(static_cast<std::streamoff>(offset));
          while (length > 0 && *in) {
            in->read(buf, static_cast<std::streamsize>(std::min(length, sizeof buf)));
            const auto got = static_cast<size_t>(in->gcount());
            if (got == 0 || !sink.write(buf, got)) return false;
            length -= got;
          }
          return length == 0;
        });
  }

  static void reply(httplib::Response& res, int status, const json& body) {
    res.status = status;
    // Messages may quote what the client sent (an id, a query): bytes that are not UTF-8 are
    // replaced (U+FFFD) rather than failing the answer (found by fuzz_http).
    res.set_content(body.dump(-1, ' ', false, json::error_handler_t::replace), "application/json");
  }
  static void error(httplib::Response& res, int status, const std::string& what) {
    reply(res, status, {{"error", what}});
  }

  // Whether one more request from `addr` fits its bucket; otherwise the seconds to wait.
  std::optional<double> take(const std::string& addr) {
    if (config.rate_per_s <= 0) return std::nullopt;
    const auto now = Clock::now();
    std::lock_guard<std::mutex> lock(mu);
    if (buckets.size() > 10000) {  // forget idle clients (their buckets are full again)
      const auto idle = std::chrono::duration<double>(config.burst / config.rate_per_s);
      for (auto b = buckets.begin(); b != buckets.end();) {
        b = now - b->second.last > idle ? buckets.erase(b) : std::next(b);
      }
    }
    auto [it, fresh] = buckets.try_emplace(addr);
    Bucket& b = it->second;
    if (fresh) {
      b.tokens = config.burst;
    } else {
      const double dt = std::chrono::duration<double>(now - b.last).count();
      b.tokens = std::min(config.burst, b.tokens + dt * config.rate_per_s);
    }
    b.last = now;
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return std::nullopt;
    }
    return (1 - b.tokens) / config.rate_per_s;
  }

  // The user a Basic header names, when its password verifies.
  bool basic_ok(const std::string& header) {
    const auto now = Clock::now();
    {
      std::lock_guard<std::mutex> lock(mu);
      const auto it = verified.find(header);
      if (it != verified.end() && it->second > now) return true;
    }
    const auto decoded = base64_decode(std::string_view(header).substr(6));
    if (!decoded) return false;
    const size_t colon = decoded->find(':');
    if (colon == std::string::npos) return false;
    const auto user = users.find(decoded->substr(0, colon));
    if (user == users.end() || !verify_password(user->second, decoded->substr(colon + 1))) {
      return false;
    }
    std::lock_guard<std::mutex> lock(mu);
    if (verified.size() > 10000) verified.clear();
    verified[header] = now + std::chrono::seconds(60);
    return true;
  }

  bool authorised(const httplib::Request& req) {
    if (users.empty()) return true;
    const std::string h = req.get_header_value("Authorization");
    if (h.rfind("Basic ", 0) == 0) return basic_ok(h);
    if (h.rfind("Bearer ", 0) == 0) {
      std::lock_guard<std::mutex> lock(mu);
      const auto it = tokens.find(h.substr(7));
      return it != tokens.end() && it->second > Clock::now();
    }
    return false;
  }

  void search(const httplib::Request& req, httplib::Response& res) {
    const auto t0 = Clock::now();
    const json j = json::parse(req.body, nullptr, false);
    if (!j.is_object()) return error(res, 400, "the body must be a JSON object");
    if (!j.contains("query") || !j["query"].is_string() || j["query"].get<std::string>().empty()) {
      return error(res, 400, "query: a non-empty string is required");
    }
    const std::string query = j["query"];
    const int64_t chars = std::count_if(query.begin(), query.end(), [](char c) {
      return (static_cast<unsigned char>(c) & 0xC0) != 0x80;
    });
    if (chars > config.max_query_chars) {
      return error(res, 400,
                   "query: longer than " + std::to_string(config.max_query_chars) + " characters");
    }
    if (j.contains("mode") && !j["mode"].is_string()) {
      return error(res, 400, "mode: one of text, lyrics, mix");  // (a number: found by fuzz_http)
    }
    const std::string mode = j.value("mode", "text");
    if (mode != "text" && mode != "lyrics" && mode != "mix") {
      return error(res, 400, "mode: one of text, lyrics, mix");
    }
    if (j.contains("k") && !j["k"].is_number_integer()) return error(res, 400, "k: an integer");
    const int64_t k = j.value("k", int64_t{10});
    if (k < 1 || k > config.max_k) {
      return error(res, 400, "k: 1 to " + std::to_string(config.max_k));
    }
    json hits = json::array();
    for (const Hit& h : index.search(query, mode, k)) {
      hits.push_back({{"id", h.song->id},
                      {"score", h.score},
                      {"description", h.song->description},
                      {"amateur", h.song->amateur},
                      {"lyrics", h.song->lyrics.substr(0, 400)},
                      {"seconds", h.song->seconds},
                      {"audio_url", "/api/songs/" + h.song->id + "/audio"}});
    }
    const double ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
    reply(res, 200, {{"query", query}, {"mode", mode}, {"k", k}, {"took_ms", ms}, {"hits", hits}});
  }

  void audio(const httplib::Request& req, httplib::Response& res) {
    const int64_t row = index.find(req.matches[1]);
    if (row < 0) return error(res, 404, "no song '" + std::string(req.matches[1]) + "'");
    send_file(res, index.songs()[row].audio);
  }

  void token(httplib::Response& res) {
    const std::string t = random_token();
    std::lock_guard<std::mutex> lock(mu);
    const auto now = Clock::now();
    for (auto it = tokens.begin(); it != tokens.end();) {
      it = it->second <= now ? tokens.erase(it) : std::next(it);
    }
    tokens[t] = now + std::chrono::seconds(config.token_ttl_s);
    reply(res, 200, {{"token", t}, {"expires_in", config.token_ttl_s}});
  }

  void routes() {
    http.new_task_queue = [n = config.threads] {
      return new httplib::ThreadPool(static_cast<size_t>(n));
    };
    http.set_payload_max_length(static_cast<size_t>(config.max_body_bytes));
    http.set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
      if (const auto wait = take(req.remote_addr)) {
        res.set_header("Retry-After", std::to_string(static_cast<int>(std::ceil(*wait))));
        error(res, 429, "too many requests");
        return httplib::Server::HandlerResponse::Handled;
      }
      if (req.path != "/api/health" && !authorised(req)) {
        res.set_header("WWW-Authenticate", "Basic realm=\"mudit\", charset=\"UTF-8\"");
        error(res, 401, "authentication required");
        return httplib::Server::HandlerResponse::Handled;
      }
      return httplib::Server::HandlerResponse::Unhandled;
    });
    http.Get("/", [](const httplib::Request&, httplib::Response& res) {
      res.set_content(search_page_html(), "text/html; charset=utf-8");
    });
    http.Get("/api/health", [this](const httplib::Request&, httplib::Response& res) {
      reply(res, 200,
            {{"songs", index.songs().size()}, {"generate", static_cast<bool>(generator)}});
    });
    http.Post("/api/search",
              [this](const httplib::Request& req, httplib::Response& res) { search(req, res); });
    http.Post("/api/token",
              [this](const httplib::Request&, httplib::Response& res) { token(res); });
    http.Post("/api/generate",
              [this](const httplib::Request& req, httplib::Response& res) { generate(req, res); });
    http.Get(R"(/api/jobs/([0-9a-f]+))",
             [this](const httplib::Request& req, httplib::Response& res) {
               job_status(req, res, false);
             });
    http.Get(R"(/api/jobs/([0-9a-f]+)/audio)",
             [this](const httplib::Request& req, httplib::Response& res) {
               job_status(req, res, true);
             });
    http.Get(R"(/api/songs/([^/]+)/audio)",
             [this](const httplib::Request& req, httplib::Response& res) { audio(req, res); });
    http.set_error_handler([](const httplib::Request&, httplib::Response& res) {
      if (res.body.empty()) {
        error(res, res.status, res.status == 413 ? "request too large" : "not found");
      }
    });
    http.set_exception_handler(
        [](const httplib::Request& req, httplib::Response& res, std::exception_ptr ep) {
          std::string what = "internal error";
          try {
            std::rethrow_exception(ep);
          } catch (const std::exception& e) {
            what = e.what();
          } catch (...) {
          }
          log::warn("serve: ", req.method, " ", req.path, ": ", what);
          error(res, 500, what);
        });
    http.set_logger([this](const httplib::Request&, const httplib::Response& res) {
      ++requests;
      if (res.status >= 500) {
        ++failed;
      } else if (res.status >= 400) {
        ++refused;
      }
    });
  }
};

SearchServer::SearchServer(const SongIndex& index, ServerConfig config, SongGenerator generator)
    : impl_(std::make_unique<Impl>(index, std::move(config), std::move(generator))) {
  impl_->config.validate();
  if (!impl_->config.users.empty()) {
    impl_->users = read_users(impl_->config.users);
    MUDIT_CHECK(!impl_->users.empty(), DataError, "users file ", impl_->config.users,
                " names no user");
  }
  if (impl_->generator) {
    if (impl_->config.jobs_dir.empty()) {
      impl_->jobs_dir =
          fs::temp_directory_path() /
          ("mudit-serve-jobs-" + std::to_string(::getpid()) + "-" + random_token().substr(0, 8));
      impl_->own_jobs_dir = true;
    } else {
      impl_->jobs_dir = impl_->config.jobs_dir;
    }
    fs::create_directories(impl_->jobs_dir);
    impl_->worker = std::thread([this] { impl_->work(); });
  }
  impl_->routes();
}

SearchServer::~SearchServer() {
  stop();
  impl_->stop_jobs();
  if (impl_->own_jobs_dir) {
    std::error_code ec;
    fs::remove_all(impl_->jobs_dir, ec);
  }
}

int SearchServer::bind() {
  const auto& c = impl_->config;
  int port = static_cast<int>(c.port);
  if (port == 0) {
    port = impl_->http.bind_to_any_port(c.host);
    MUDIT_CHECK(port > 0, IoError, "serve: cannot listen on ", c.host);
  } else {
    MUDIT_CHECK(impl_->http.bind_to_port(c.host, port), IoError, "serve: cannot listen on ", c.host,
                ":", port, " (in use, or not allowed)");
  }
  return port;
}

void SearchServer::serve() {
  impl_->http.listen_after_bind();
}

void SearchServer::stop() {
  if (impl_ && impl_->http.is_running()) impl_->http.stop();
}

namespace {
std::atomic<bool> g_signalled{false};
void on_signal(int) {
  g_signalled = true;
}
}  // namespace

void serve_until_signal(SearchServer& server) {
  g_signalled = false;
  auto old_term = std::signal(SIGTERM, on_signal);
  auto old_int = std::signal(SIGINT, on_signal);
  std::atomic<bool> done{false};
  std::thread watcher([&] {
    while (!g_signalled && !done) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    server.stop();
  });
  server.serve();
  done = true;
  watcher.join();
  std::signal(SIGTERM, old_term);
  std::signal(SIGINT, old_int);
}

std::string SearchServer::handle_raw(std::string_view request, const std::string& remote) {
  return impl_->http.process(request, remote);
}

SearchServer::Stats SearchServer::stats() const {
  return {impl_->requests.load(), impl_->refused.load(), impl_->failed.load()};
}

}  // namespace mudit::retrieval
