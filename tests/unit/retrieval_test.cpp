// Retrieval: FAISS indexes against brute force, the song index's modes and folder round trip,
// password hashes and users files, and the HTTP service over loopback (auth, limits, ranges).
// Compiled with libcpp-httplib's definitions (tests/CMakeLists.txt) for the client.
#include <ATen/ATen.h>
#include <gtest/gtest.h>
#include <httplib.h>

#include <chrono>
#include <fstream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "mudit/core/error.h"
#include "mudit/core/fs.h"
#include "mudit/retrieval/index.h"
#include "mudit/retrieval/server.h"
#include "unit/test_util.h"

namespace mudit::retrieval {
namespace {
namespace fs = std::filesystem;

at::Tensor unit_rows(int64_t n, int64_t d, uint64_t seed) {
  at::manual_seed(seed);
  const at::Tensor x = at::randn({n, d});
  return x / x.norm(2, {1}, true);
}

// Share of the exact top-k rows an approximate search finds.
double recall(const VectorIndex::Result& got, const at::Tensor& exact) {
  int64_t found = 0;
  for (int64_t q = 0; q < exact.size(0); ++q) {
    for (int64_t i = 0; i < exact.size(1); ++i) {
      found += (got.rows[q] == exact[q][i]).any().item<bool>();
    }
  }
  return static_cast<double>(found) / static_cast<double>(exact.numel());
}

TEST(VectorIndex, FlatIsExactAndIvfAndHnswRecallTheTopTen) {
  const at::Tensor x = unit_rows(3000, 32, 1), q = unit_rows(40, 32, 2);
  const auto exact = at::topk(at::matmul(q, x.t()), 10, 1);
  IndexConfig c;
  const VectorIndex flat = VectorIndex::build(x, c);
  const auto r = flat.search(q, 10);
  EXPECT_TRUE(at::equal(r.rows, std::get<1>(exact)));
  EXPECT_TRUE(at::allclose(r.scores, std::get<0>(exact), 1e-5, 1e-5));
  EXPECT_EQ(flat.size(), 3000);
  EXPECT_EQ(flat.dim(), 32);

  c.kind = "ivf";
  c.nlist = 64;
  c.nprobe = 64;  // every cell: exact again
  EXPECT_DOUBLE_EQ(recall(VectorIndex::build(x, c).search(q, 10), std::get<1>(exact)), 1.0);
  c.nprobe = 4;  // 1/16 of the cells: approximate (random data is the hard case)
  const double ivf4 = recall(VectorIndex::build(x, c).search(q, 10), std::get<1>(exact));
  EXPECT_LT(ivf4, 1.0);
  EXPECT_GT(ivf4, 0.2);

  c = IndexConfig{};
  c.kind = "hnsw";
  c.ef_search = 128;
  EXPECT_GT(recall(VectorIndex::build(x, c).search(q, 10), std::get<1>(exact)), 0.9);
  // More rows asked than exist: -1 rows.
  const auto few = VectorIndex::build(x.slice(0, 0, 3), IndexConfig{}).search(q, 5);
  EXPECT_EQ(few.rows[0][3].item<int64_t>(), -1);
  EXPECT_THROW(flat.search(unit_rows(2, 16, 3), 5), ShapeError);
  c.kind = "annoy";
  EXPECT_THROW(c.validate(), ConfigError);
}

TEST(VectorIndex, SaveAndLoadGiveTheSameHits) {
  test::TempDir dir;
  const at::Tensor x = unit_rows(2000, 16, 4), q = unit_rows(10, 16, 5);
  IndexConfig c;
  c.kind = "ivf";
  c.nlist = 16;
  c.nprobe = 3;
  const VectorIndex built = VectorIndex::build(x, c);
  built.save(dir / "a.faiss");
  const VectorIndex loaded = VectorIndex::load(dir / "a.faiss", c);
  EXPECT_TRUE(at::equal(built.search(q, 7).rows, loaded.search(q, 7).rows));
  EXPECT_THROW(VectorIndex::load(dir / "missing.faiss", c), IoError);
  std::ofstream(dir / "junk.faiss") << "not an index";
  EXPECT_THROW(VectorIndex::load(dir / "junk.faiss", c), IoError);
}

// Five songs on orthogonal axes: song i's audio is axis i, its lyrics axis (i + 1) % 5. A query
// text "axis N" embeds to axis N.
SongIndex five_songs() {
  std::vector<SongRecord> songs;
  for (int i = 0; i < 5; ++i) {
    songs.push_back({"song" + std::to_string(i), "/nonexistent.wav", "desc " + std::to_string(i),
                     "", "la la", 1.0});
  }
  const at::Tensor audio = at::eye(8).slice(0, 0, 5);
  const at::Tensor lyrics = at::roll(audio, 1, 1);  // row i: axis i + 1 (row 4 -> axis 5)
  QueryEmbedder embed = [](const std::vector<std::string>& texts) {
    at::Tensor e = at::zeros({static_cast<int64_t>(texts.size()), 8});
    for (size_t i = 0; i < texts.size(); ++i) {
      e[static_cast<int64_t>(i)][std::stoi(texts[i].substr(5))] = 1;
    }
    return e;
  };
  return SongIndex(songs, audio, lyrics, IndexConfig{}, embed);
}

TEST(SongIndex, ModesRankByAudioLyricsOrBoth) {
  const SongIndex index = five_songs();
  auto hits = index.search("axis 3", "text", 2);
  ASSERT_EQ(hits.size(), 2u);
  EXPECT_EQ(hits[0].song->id, "song3");
  EXPECT_NEAR(hits[0].score, 1.0, 1e-6);
  EXPECT_NEAR(hits[1].score, 0.0, 1e-6);
  EXPECT_EQ(index.search("axis 3", "lyrics", 1)[0].song->id, "song2");  // its lyrics: axis 3
  // Mixed: a query between axes 2 and 3 is song 2's audio and lyrics at once (cos 0.707 each).
  const at::Tensor between = (at::eye(8)[2] + at::eye(8)[3]) / std::sqrt(2.0);
  hits = index.search_vector(between, "mix", 3);
  EXPECT_EQ(hits[0].song->id, "song2");
  EXPECT_NEAR(hits[0].score, std::sqrt(0.5), 1e-6);
  EXPECT_NEAR(hits[1].score, std::sqrt(0.5) / 2, 1e-6);      // song 3 (audio) or song 1 (lyrics)
  EXPECT_EQ(index.search("axis 0", "text", 50).size(), 5u);  // k clipped
  EXPECT_EQ(index.find("song4"), 4);
  EXPECT_EQ(index.find("nope"), -1);
  EXPECT_THROW(index.search("axis 0", "audio", 3), ConfigError);
  EXPECT_THROW(index.search("axis 0", "text", 0), ConfigError);
}

TEST(SongIndex, FolderRoundTripAndBadInput) {
  test::TempDir dir;
  const SongIndex index = five_songs();
  index.save(dir / "idx");
  for (const char* f :
       {"audio.faiss", "lyrics.faiss", "vectors.safetensors", "songs.jsonl", "index.yaml"}) {
    EXPECT_TRUE(fs::exists(dir / "idx" / f)) << f;
  }
  QueryEmbedder embed = [](const std::vector<std::string>&) { return at::eye(8).slice(0, 1, 2); };
  const SongIndex loaded = SongIndex::load(dir / "idx", embed);
  ASSERT_EQ(loaded.songs().size(), 5u);
  EXPECT_EQ(loaded.songs()[2].description, "desc 2");
  EXPECT_EQ(loaded.search("anything", "text", 1)[0].song->id, "song1");
  EXPECT_THROW(SongIndex::load(dir / "nothing"), IoError);
  std::vector<SongRecord> twice = {{"a"}, {"a"}};
  EXPECT_THROW(SongIndex(twice, at::eye(2), at::eye(2), IndexConfig{}, {}), DataError);
  EXPECT_THROW(SongIndex({{"a"}}, at::eye(2), at::eye(2), IndexConfig{}, {}), ShapeError);
}

TEST(SongIndex, PlainLyricsDropTagsAndTimes) {
  EXPECT_EQ(plain_lyrics("[verse]\n[00:01.00]第一行\n第二行\n\n(chorus1)\n[00:05.50]副歌"),
            "第一行\n第二行\n副歌");
  EXPECT_EQ(plain_lyrics(""), "");
}

TEST(Users, Argon2idHashesAndUsersFiles) {
  const std::string h = hash_password("s3cret");
  EXPECT_EQ(h.rfind("$argon2id$v=19$m=65536,t=3,p=1$", 0), 0u) << h;
  EXPECT_TRUE(verify_password(h, "s3cret"));
  EXPECT_FALSE(verify_password(h, "s3cret "));
  EXPECT_NE(hash_password("s3cret"), h);  // a fresh salt each time
  EXPECT_FALSE(verify_password("$argon2id$garbage", "s3cret"));
  test::TempDir dir;
  set_user(dir / "users", "ana", "one");
  set_user(dir / "users", "bo", "two");
  set_user(dir / "users", "ana", "uno");  // replaced
  const auto users = read_users(dir / "users");
  ASSERT_EQ(users.size(), 2u);
  EXPECT_TRUE(verify_password(users.at("ana"), "uno"));
  EXPECT_FALSE(verify_password(users.at("ana"), "one"));
  EXPECT_EQ(fs::status(dir / "users").permissions() & fs::perms::group_read, fs::perms::none);
  EXPECT_THROW(set_user(dir / "users", "a b", "x"), ConfigError);
  EXPECT_THROW(set_user(dir / "users", "c", ""), ConfigError);
  std::ofstream(dir / "bad") << "ana:plaintext\n";
  EXPECT_THROW(read_users(dir / "bad"), DataError);
  EXPECT_THROW(read_users(dir / "missing"), IoError);
}

// --- the HTTP service -------------------------------------------------------------------------

class Service : public ::testing::Test {
 protected:
  void start(ServerConfig c, SongGenerator generate = {}) {
    c.host = "127.0.0.1";
    c.port = 0;
    server_ = std::make_unique<SearchServer>(index_, c, generate);
    port_ = server_->bind();
    thread_ = std::thread([this] { server_->serve(); });
  }
  void TearDown() override {
    if (server_) server_->stop();
    if (thread_.joinable()) thread_.join();
  }
  httplib::Client client() const {
    httplib::Client c("127.0.0.1", port_);
    c.set_read_timeout(10, 0);
    return c;
  }
  static std::string body(const std::string& query, int64_t k = 3, const char* mode = "text") {
    return nlohmann::json{{"query", query}, {"k", k}, {"mode", mode}}.dump();
  }

  test::TempDir dir_;
  SongIndex index_ = with_audio(five_songs());
  std::unique_ptr<SearchServer> server_;
  std::thread thread_;
  int port_ = 0;

  // song0's audio is a real file of known bytes.
  SongIndex with_audio(const SongIndex& base) {
    std::string bytes;
    for (int i = 0; i < 5000; ++i) bytes += static_cast<char>(i * 7);
    write_file_atomic(dir_ / "song0.wav", bytes);
    std::vector<SongRecord> songs = base.songs();
    songs[0].audio = (dir_ / "song0.wav").string();
    QueryEmbedder embed = [](const std::vector<std::string>& texts) {
      at::Tensor e = at::zeros({static_cast<int64_t>(texts.size()), 8});
      for (size_t i = 0; i < texts.size(); ++i) {
        e[static_cast<int64_t>(i)][std::stoi(texts[i].substr(5))] = 1;
      }
      return e;
    };
    return SongIndex(songs, at::eye(8).slice(0, 0, 5), at::roll(at::eye(8).slice(0, 0, 5), 1, 1),
                     IndexConfig{}, embed);
  }
};

TEST_F(Service, SearchesServesAudioRangesAndRejectsBadRequests) {
  ServerConfig c;
  c.rate_per_s = 0;
  c.max_query_chars = 10;
  c.max_body_bytes = 256;
  start(c);
  auto cli = client();
  auto r = cli.Post("/api/search", body("axis 4"), "application/json");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  const auto j = nlohmann::json::parse(r->body);
  ASSERT_EQ(j["hits"].size(), 3u);
  EXPECT_EQ(j["hits"][0]["id"], "song4");
  EXPECT_EQ(j["hits"][0]["audio_url"], "/api/songs/song4/audio");
  EXPECT_NEAR(j["hits"][0]["score"].get<double>(), 1.0, 1e-6);

  EXPECT_EQ(cli.Post("/api/search", "{not json", "application/json")->status, 400);
  EXPECT_EQ(cli.Post("/api/search", body("axis 4", 0), "application/json")->status, 400);
  EXPECT_EQ(cli.Post("/api/search", body("axis 4", 3, "video"), "application/json")->status, 400);
  EXPECT_EQ(
      cli.Post("/api/search", R"({"query": "axis 4", "mode": 5})", "application/json")->status,
      400);
  EXPECT_EQ(cli.Post("/api/search", body("axis 4 but longer"), "application/json")->status, 400);
  EXPECT_EQ(cli.Post("/api/search", std::string(300, ' '), "application/json")->status, 413);

  // Audio: whole, a range, unknown ids, and no way out of the index.
  r = cli.Get("/api/songs/song0/audio");
  ASSERT_EQ(r->status, 200);
  EXPECT_EQ(r->body, read_file(dir_ / "song0.wav"));
  EXPECT_EQ(r->get_header_value("Content-Type"), "audio/wav");
  r = cli.Get("/api/songs/song0/audio", {{"Range", "bytes=100-199"}});
  ASSERT_EQ(r->status, 206);
  EXPECT_EQ(r->body, read_file(dir_ / "song0.wav").substr(100, 100));
  EXPECT_EQ(cli.Get("/api/songs/song1/audio")->status, 404);  // indexed, file missing
  EXPECT_EQ(cli.Get("/api/songs/nobody/audio")->status, 404);
  EXPECT_EQ(cli.Get("/api/songs/..%2F..%2Fetc%2Fpasswd/audio")->status, 404);
  EXPECT_EQ(cli.Get("/etc/passwd")->status, 404);

  r = cli.Get("/");
  ASSERT_EQ(r->status, 200);
  EXPECT_NE(r->body.find("/api/search"), std::string::npos);
  EXPECT_EQ(nlohmann::json::parse(cli.Get("/api/health")->body)["songs"], 5);
  const auto s = server_->stats();
  EXPECT_GE(s.refused, 9);
  EXPECT_EQ(s.failed, 0);
}

TEST_F(Service, RawRequestsInMemoryAnswerAsTheSocketDoes) {
  ServerConfig c;
  c.rate_per_s = 0;
  c.max_body_bytes = 256;
  c.port = 0;
  SearchServer server(index_, c);
  server.bind();  // listening (for streamed bodies) but never serving: no client socket
  const std::string search = body("axis 2");
  std::string r = server.handle_raw(
      "POST /api/search HTTP/1.1\r\nHost: x\r\nContent-Type: "
      "application/json\r\nContent-Length: " +
      std::to_string(search.size()) + "\r\n\r\n" + search);
  ASSERT_EQ(r.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << r;
  const auto j = nlohmann::json::parse(r.substr(r.find("\r\n\r\n") + 4));
  EXPECT_EQ(j["hits"][0]["id"], "song2");
  r = server.handle_raw("GET /api/songs/song0/audio HTTP/1.1\r\nRange: bytes=10-19\r\n\r\n");
  ASSERT_EQ(r.rfind("HTTP/1.1 206", 0), 0u) << r;
  EXPECT_EQ(r.substr(r.size() - 10), read_file(dir_ / "song0.wav").substr(10, 10));
  EXPECT_EQ(server.handle_raw("GARBAGE\r\n\r\n").rfind("HTTP/1.1 400", 0), 0u);
  EXPECT_EQ(server.handle_raw("").size(), 0u);  // nothing read, nothing answered
  EXPECT_EQ(server.handle_raw("POST /api/search HTTP/1.1\r\nContent-Length: 999\r\n\r\n{}")
                .rfind("HTTP/1.1 413", 0),
            0u);
  // An id that is not UTF-8 is an unknown song, not a server failure (found by fuzz_http).
  r = server.handle_raw("GET /api/songs/\x8d\x91ng0/audio HTTP/1.1\r\n\r\n");
  EXPECT_EQ(r.rfind("HTTP/1.1 404", 0), 0u) << r;
  EXPECT_EQ(server.stats().failed, 0);
}

TEST_F(Service, AuthenticationByBasicOrBearerToken) {
  ServerConfig c;
  c.rate_per_s = 0;
  set_user(dir_ / "users", "ana", "pw1");
  c.users = (dir_ / "users").string();
  start(c);
  auto cli = client();
  auto r = cli.Post("/api/search", body("axis 1"), "application/json");
  EXPECT_EQ(r->status, 401);
  EXPECT_EQ(r->get_header_value("WWW-Authenticate").rfind("Basic", 0), 0u);
  EXPECT_EQ(cli.Get("/")->status, 401);
  EXPECT_EQ(cli.Get("/api/health")->status, 200);  // for probes

  auto wrong = client();
  wrong.set_basic_auth("ana", "pw2");
  EXPECT_EQ(wrong.Post("/api/search", body("axis 1"), "application/json")->status, 401);
  auto nobody = client();
  nobody.set_basic_auth("bo", "pw1");
  EXPECT_EQ(nobody.Get("/")->status, 401);

  auto ana = client();
  ana.set_basic_auth("ana", "pw1");
  EXPECT_EQ(ana.Post("/api/search", body("axis 1"), "application/json")->status, 200);
  r = ana.Post("/api/token", "", "application/json");
  ASSERT_EQ(r->status, 200);
  const std::string token = nlohmann::json::parse(r->body)["token"];
  EXPECT_EQ(token.size(), 48u);
  auto bearer = client();
  bearer.set_bearer_token_auth(token);
  EXPECT_EQ(bearer.Post("/api/search", body("axis 1"), "application/json")->status, 200);
  auto forged = client();
  forged.set_bearer_token_auth(std::string(48, 'a'));
  EXPECT_EQ(forged.Post("/api/search", body("axis 1"), "application/json")->status, 401);
}

TEST_F(Service, RateLimitPerClientAndCleanStop) {
  ServerConfig c;
  c.rate_per_s = 0.5;
  c.burst = 3;
  start(c);
  auto cli = client();
  for (int i = 0; i < 3; ++i) EXPECT_EQ(cli.Get("/api/health")->status, 200) << i;
  const auto r = cli.Get("/api/health");
  EXPECT_EQ(r->status, 429);
  EXPECT_GE(std::stoi(r->get_header_value("Retry-After")), 1);
  server_->stop();
  thread_.join();  // serve() returns
  EXPECT_FALSE(client().Get("/api/health"));
}

// Polls a job until it is done or failed (at most 10 s).
nlohmann::json wait_for(httplib::Client& cli, const std::string& status_url) {
  for (int i = 0; i < 200; ++i) {
    const auto r = cli.Get(status_url);
    if (!r || r->status != 200) return {{"status", "http error"}};
    const auto j = nlohmann::json::parse(r->body);
    if (j["status"] == "done" || j["status"] == "failed") return j;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return {{"status", "timeout"}};
}

TEST_F(Service, GenerationJobsQueueRunAndServeTheirSongs) {
  ServerConfig c;
  c.rate_per_s = 0;
  c.max_jobs = 1;
  c.max_seconds = 20;
  c.keep_jobs = 2;
  c.jobs_dir = (dir_ / "jobs").string();
  std::mutex gate;
  gate.lock();  // holds the first "slow" job until released
  start(c, [&gate](const GenerateRequest& g, const fs::path& wav) {
    if (g.description == "slow") {
      gate.lock();
      gate.unlock();
    }
    if (g.description == "fail") throw DataError("no such style");
    write_file_atomic(wav, "RIFF" + g.description + std::to_string(g.seed));
  });
  auto cli = client();
  EXPECT_TRUE(nlohmann::json::parse(cli.Get("/api/health")->body)["generate"].get<bool>());
  const auto post = [&](const nlohmann::json& body) {
    return cli.Post("/api/generate", body.dump(), "application/json");
  };
  auto r = post({{"description", "slow"}});
  ASSERT_EQ(r->status, 202) << r->body;
  const std::string slow_url = nlohmann::json::parse(r->body)["status_url"];
  r = post({{"description", "second"}});  // one job at a time: busy
  EXPECT_EQ(r->status, 503);
  EXPECT_EQ(r->get_header_value("Retry-After"), "10");
  std::string status;
  for (int i = 0; i < 100 && status != "running"; ++i) {  // the worker picks it up
    status = nlohmann::json::parse(cli.Get(slow_url)->body)["status"];
    if (status != "running") std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_EQ(status, "running");
  EXPECT_EQ(cli.Get(slow_url + "/audio")->status, 404);  // not done yet
  gate.unlock();
  EXPECT_EQ(wait_for(cli, slow_url)["status"], "done");

  r = post({{"description", "rock"}, {"seed", 7}, {"duration", 5}});
  ASSERT_EQ(r->status, 202);
  const auto done = wait_for(cli, nlohmann::json::parse(r->body)["status_url"]);
  ASSERT_EQ(done["status"], "done") << done.dump();
  r = cli.Get(done["audio_url"].get<std::string>());
  ASSERT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "RIFFrock7");

  r = post({{"description", "fail"}});
  const auto failed = wait_for(cli, nlohmann::json::parse(r->body)["status_url"]);
  EXPECT_EQ(failed["status"], "failed");
  EXPECT_EQ(failed["error"], "no such style");
  // keep_jobs (2 here) bounds what is remembered: the slow job, the oldest, is forgotten and its
  // song deleted; the rock song is still there.
  EXPECT_EQ(cli.Get(slow_url)->status, 404);
  EXPECT_FALSE(fs::exists(dir_ / "jobs" / (slow_url.substr(slow_url.rfind('/') + 1) + ".wav")));
  EXPECT_EQ(cli.Get(done["audio_url"].get<std::string>())->status, 200);

  EXPECT_EQ(post({{"lyrics", "la"}})->status, 400);                        // no description
  EXPECT_EQ(post({{"description", "x"}, {"duration", 60}})->status, 400);  // too long
  EXPECT_EQ(post({{"description", "x"}, {"seed", -1}})->status, 400);
  EXPECT_EQ(post({{"description", "x"}, {"steps", "many"}})->status, 400);
  EXPECT_EQ(cli.Get("/api/jobs/0123456789abcdef")->status, 404);
  EXPECT_EQ(cli.Get("/api/jobs/..%2F..%2Fetc")->status, 404);
}

TEST_F(Service, WithoutAGeneratorGenerateIsNotImplemented) {
  ServerConfig c;
  c.rate_per_s = 0;
  start(c);
  auto cli = client();
  EXPECT_EQ(cli.Post("/api/generate", R"({"description": "x"})", "application/json")->status, 501);
  EXPECT_FALSE(nlohmann::json::parse(cli.Get("/api/health")->body)["generate"].get<bool>());
}

}  // namespace
}  // namespace mudit::retrieval
