#pragma once

// `mudit serve`: the retrieval service over HTTP (cpp-httplib).
//
//   GET  /                       the search page (one HTML file, vanilla JS)
//   POST /api/search             {"query": "...", "mode": "text|lyrics|mix", "k": 10} → hits
//   GET  /api/songs/<id>/audio   the song's audio file (Range requests answered)
//   POST /api/token              (Basic auth) → {"token": ..., "expires_in": s} for Bearer use
//   POST /api/generate           {"description": ..., "lyrics", "duration", "seed", "steps"} →
//                                {"job": id}, when a generator is given (mudit serve --bundle)
//   GET  /api/jobs/<id>          {"status": queued|running|done|failed, "audio_url", "error"}
//   GET  /api/jobs/<id>/audio    the generated song
//   GET  /api/health             {"songs": N}
//
// With a users file every route but /api/health needs HTTP Basic (verified with Argon2id;
// a verified header is remembered for a minute so the page does not pay a hash per request)
// or a Bearer token from /api/token. Bodies are capped (413), queries limited in length and k,
// each client address gets a token bucket of requests (429 with Retry-After), and only the
// indexed songs' files can be fetched, by id.

#include <c10/core/Device.h>

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "mudit/retrieval/index.h"

namespace mudit::retrieval {

struct ServerConfig {
  std::string host = "127.0.0.1";
  int64_t port = 8080;  ///< 0: any free port (bind() says which)
  std::string users;    ///< users file (mudit passwd); empty: no authentication
  int64_t threads = 8;  ///< request threads
  int64_t token_ttl_s = 3600;
  int64_t max_body_bytes = 65536;
  int64_t max_query_chars = 2000;
  int64_t max_k = 100;
  double rate_per_s = 20;   ///< requests per second per client address; 0: no limit
  double burst = 40;        ///< bucket size
  int64_t max_jobs = 16;    ///< generation jobs queued or running at once (503 beyond)
  double max_seconds = 60;  ///< longest song /api/generate accepts
  int64_t keep_jobs = 256;  ///< finished jobs remembered; older ones are forgotten, files deleted
  std::string jobs_dir;     ///< where generated songs go (default: a temporary folder)
  template <class V>
  void visit(V& v) {
    v("host", host);
    v("port", port);
    v("users", users);
    v("threads", threads);
    v("token_ttl_s", token_ttl_s);
    v("max_body_bytes", max_body_bytes);
    v("max_query_chars", max_query_chars);
    v("max_k", max_k);
    v("rate_per_s", rate_per_s);
    v("burst", burst);
    v("max_jobs", max_jobs);
    v("max_seconds", max_seconds);
    v("keep_jobs", keep_jobs);
    v("jobs_dir", jobs_dir);
  }
  void validate() const;
};

/// What /api/generate asks for.
struct GenerateRequest {
  std::string description, lyrics;
  double duration = 10;
  uint64_t seed = 0;
  int64_t steps = 0;  ///< 0: the sampler's default
};
/// Makes the song of a request and writes it to `wav` (atomically). Runs on the server's one
/// generation thread, a job at a time; an exception fails the job with its message.
using SongGenerator =
    std::function<void(const GenerateRequest& request, const std::filesystem::path& wav)>;

/// The generator of a bundle folder (mudit bundle) on `device`: each request through
/// pipeline::generate, the song written as WAV at the codec's rate. Not thread-safe (the
/// server calls it from its one generation thread). Throws what load_bundle throws.
SongGenerator bundle_song_generator(const std::filesystem::path& bundle, c10::Device device);

class SearchServer {
 public:
  /// `index` must outlive the server. Reads the users file (IoError / DataError on a bad one).
  /// Without `generator`, /api/generate answers 501.
  SearchServer(const SongIndex& index, ServerConfig config, SongGenerator generator = {});
  ~SearchServer();
  SearchServer(const SearchServer&) = delete;
  SearchServer& operator=(const SearchServer&) = delete;

  /// Binds the listening socket; returns the port. Throws IoError when it cannot.
  int bind();
  /// Serves until stop() (from any thread, or a signal watcher); returns after in-flight
  /// requests have been answered.
  void serve();
  void stop();

  /// Answers one raw HTTP/1.1 request (the bytes a client sends) in memory, without a client
  /// socket, exactly as serve() would (limits, authentication, routes; `remote` is the client's
  /// address), and returns the raw response. Streamed bodies (audio files) are written only
  /// once bind() has been called: httplib stops streaming when the server has no listening
  /// socket. Safe alongside serve(). For tests and fuzzing.
  std::string handle_raw(std::string_view request, const std::string& remote = "127.0.0.1");
  /// Counters since start: requests answered, and of them refused (4xx) and failed (5xx).
  struct Stats {
    int64_t requests = 0, refused = 0, failed = 0;
  };
  Stats stats() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// serve() until SIGTERM or SIGINT (handlers installed for the call), then stop() cleanly:
/// in-flight requests are answered before it returns.
void serve_until_signal(SearchServer& server);

/// The search page served at GET /.
const std::string& search_page_html();

// --- users ------------------------------------------------------------------------------------

/// An Argon2id encoded hash ($argon2id$v=19$m=65536,t=3,p=1$salt$hash) of `password` with a
/// fresh 16-byte random salt.
std::string hash_password(const std::string& password);
/// Whether `password` matches an encoded hash (false for a malformed one).
bool verify_password(const std::string& encoded, const std::string& password);
/// A users file: "name:encoded-hash" per line ('#' comments). Throws IoError / DataError.
std::map<std::string, std::string> read_users(const std::filesystem::path& file);
/// Throws ConfigError naming `name` unless it is [A-Za-z0-9._-]+.
void check_user_name(const std::string& name);
/// Adds or replaces `name` in the users file (created if missing), atomically. Names are
/// [A-Za-z0-9._-]+; the password must not be empty (ConfigError).
void set_user(const std::filesystem::path& file, const std::string& name,
              const std::string& password);

}  // namespace mudit::retrieval
