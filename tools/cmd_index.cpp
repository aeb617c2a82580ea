// mudit index build / mudit search: song indexes (mudit/retrieval/index.h).
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>

#include "commands.h"
#include "mudit/core/config.h"
#include "mudit/core/device.h"
#include "mudit/core/log.h"
#include "mudit/retrieval/index.h"

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
  app.add_option("--mode", *mode, "text (against audio), lyrics, or mix (default text)")
      ->check(CLI::IsMember({"text", "lyrics", "mix"}));
  app.add_option("--k", *k, "hits (default 10)")->check(at_least(1));
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

}  // namespace mudit::cli
