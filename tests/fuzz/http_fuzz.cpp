// HTTP request handling of `mudit serve`: arbitrary bytes as one client request, answered in
// memory by the real routes (search, ranged audio, tokens, generation jobs with a stand-in
// generator, health, the page) behind Basic/Bearer authentication. An answer, if any, must be
// an HTTP/1.1 status line, and no request may make the server fail (5xx).
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

#include "fuzz_util.h"
#include "mudit/core/fs.h"
#include "mudit/retrieval/server.h"

namespace {
namespace fs = std::filesystem;
using namespace mudit::retrieval;

struct Fixture {
  fs::path dir = fs::temp_directory_path() / ("mudit-fuzz-http-" + std::to_string(::getpid()));
  std::unique_ptr<SongIndex> index;
  std::unique_ptr<SearchServer> open, guarded;

  Fixture() {
    fs::create_directories(dir);
    mudit::write_file_atomic(dir / "song0.wav", std::string(3000, 'x'));
    std::vector<SongRecord> songs;
    for (int i = 0; i < 5; ++i)
      songs.push_back({"song" + std::to_string(i), (dir / "song0.wav").string(),
                       "desc " + std::to_string(i), "", "la la", 1.0});
    // Queries embed by a hash of their text: the service and FAISS are under test, not ChinMu.
    QueryEmbedder embed = [](const std::vector<std::string>& texts) {
      at::Tensor e = at::zeros({static_cast<int64_t>(texts.size()), 8});
      for (size_t i = 0; i < texts.size(); ++i)
        e[static_cast<int64_t>(i)][static_cast<int64_t>(std::hash<std::string>{}(texts[i]) % 8)] =
            1;
      return e;
    };
    index = std::make_unique<SongIndex>(songs, at::eye(8).slice(0, 0, 5),
                                        at::roll(at::eye(8).slice(0, 0, 5), 1, 1), IndexConfig{},
                                        embed);
    SongGenerator gen = [](const GenerateRequest&, const fs::path& wav) {
      mudit::write_file_atomic(wav, "RIFF");
    };
    ServerConfig c;
    c.rate_per_s = 0;
    c.max_body_bytes = 4096;
    c.jobs_dir = (dir / "jobs").string();
    c.host = "127.0.0.1";
    c.port = 0;  // bound (streamed bodies need a listening socket), never served
    open = std::make_unique<SearchServer>(*index, c, gen);
    open->bind();
    set_user(dir / "users", "ana", "pw");
    c.users = (dir / "users").string();
    c.rate_per_s = 1000;  // the bucket is exercised too, without refusing a fuzzing run
    c.burst = 1000;
    c.jobs_dir = (dir / "jobs2").string();
    guarded = std::make_unique<SearchServer>(*index, c, gen);
    guarded->bind();
  }
  ~Fixture() {
    open.reset();
    guarded.reset();
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
};

void check(const std::string& answer) {
  if (answer.empty()) return;  // nothing complete to answer
  if (answer.rfind("HTTP/1.1 ", 0) != 0) __builtin_trap();
  if (answer.size() > 9 && answer[9] == '5' && answer.rfind("HTTP/1.1 503", 0) != 0 &&
      answer.rfind("HTTP/1.1 501", 0) != 0)
    __builtin_trap();  // a server failure (503: job queue full, 501: not implemented)
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  mudit::fuzz::quiet();
  static Fixture f;
  const std::string_view request = mudit::fuzz::as_text(data, size);
  mudit::fuzz::expect_clean([&] { check(f.open->handle_raw(request)); });
  mudit::fuzz::expect_clean([&] { check(f.guarded->handle_raw(request, "10.0.0.1")); });
  return 0;
}
