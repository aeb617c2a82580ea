#include "mudit/retrieval/index.h"

#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>
#include <faiss/IndexFlat.h>
#include <faiss/IndexHNSW.h>
#include <faiss/IndexIVFFlat.h>
#include <faiss/index_io.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "mudit/core/config.h"
#include "mudit/core/error.h"
#include "mudit/core/fs.h"
#include "mudit/core/log.h"
#include "mudit/core/safetensors.h"
#include "mudit/data/manifest.h"
#include "mudit/eval/alignment.h"
#include "mudit/models/chinmu.h"
#include "mudit/models/model_files.h"
#include "mudit/pipeline/embed.h"
#include "mudit/text/lyrics.h"

namespace mudit::retrieval {
namespace fs = std::filesystem;

void IndexConfig::validate() const {
  check_choice("index.kind", kind, {"flat", "ivf", "hnsw"});
  MUDIT_CHECK(nlist >= 1 && nprobe >= 1, ConfigError, "index: nlist and nprobe must be >= 1");
  MUDIT_CHECK(hnsw_m >= 2 && ef_construction >= 1 && ef_search >= 1, ConfigError,
              "index: hnsw_m must be >= 2, ef_construction and ef_search >= 1");
}

// --- VectorIndex ------------------------------------------------------------------------------

struct VectorIndex::Impl {
  std::unique_ptr<faiss::Index> index;
};

VectorIndex::VectorIndex() : impl_(std::make_unique<Impl>()) {}
VectorIndex::~VectorIndex() = default;
VectorIndex::VectorIndex(VectorIndex&&) noexcept = default;
VectorIndex& VectorIndex::operator=(VectorIndex&&) noexcept = default;

namespace {

void apply_search_params(faiss::Index* index, const IndexConfig& c) {
  if (auto* ivf = dynamic_cast<faiss::IndexIVF*>(index)) {
    ivf->nprobe = static_cast<size_t>(std::min<int64_t>(c.nprobe, ivf->nlist));
  }
  if (auto* hnsw = dynamic_cast<faiss::IndexHNSW*>(index)) {
    hnsw->hnsw.efSearch = static_cast<int>(c.ef_search);
  }
}

at::Tensor as_rows(const at::Tensor& x) {
  MUDIT_CHECK(x.dim() == 2 && x.size(0) > 0 && x.size(1) > 0, ShapeError,
              "index: vectors must be [N, D] with N, D > 0, got ", x.sizes());
  return x.to(at::kCPU, at::kFloat).contiguous();
}

}  // namespace

VectorIndex VectorIndex::build(const at::Tensor& vectors, const IndexConfig& c) {
  c.validate();
  const at::Tensor x = as_rows(vectors);
  const auto n = x.size(0);
  const auto d = x.size(1);
  VectorIndex out;
  if (c.kind == "flat") {
    out.impl_->index = std::make_unique<faiss::IndexFlatIP>(d);
  } else if (c.kind == "ivf") {
    // k-means wants about 39 points per cell; fewer cells than asked on a small corpus.
    const int64_t nlist = std::max<int64_t>(1, std::min<int64_t>(c.nlist, n / 39));
    if (nlist < c.nlist) {
      log::info("index: ivf with ", nlist, " cells for ", n, " vectors (asked ", c.nlist, ")");
    }
    auto* quantizer = new faiss::IndexFlatIP(d);
    auto ivf =
        std::make_unique<faiss::IndexIVFFlat>(quantizer, d, nlist, faiss::METRIC_INNER_PRODUCT);
    ivf->own_fields = true;
    ivf->cp.seed = 1234;
    ivf->verbose = false;
    ivf->train(n, x.data_ptr<float>());
    out.impl_->index = std::move(ivf);
  } else {
    auto hnsw = std::make_unique<faiss::IndexHNSWFlat>(d, static_cast<int>(c.hnsw_m),
                                                       faiss::METRIC_INNER_PRODUCT);
    hnsw->hnsw.efConstruction = static_cast<int>(c.ef_construction);
    out.impl_->index = std::move(hnsw);
  }
  out.impl_->index->add(n, x.data_ptr<float>());
  apply_search_params(out.impl_->index.get(), c);
  return out;
}

VectorIndex VectorIndex::load(const fs::path& file, const IndexConfig& c) {
  MUDIT_CHECK(fs::exists(file), IoError, "index: no file ", file.string());
  VectorIndex out;
  try {
    out.impl_->index.reset(faiss::read_index(file.c_str()));
  } catch (const std::exception& e) {
    MUDIT_THROW(IoError, "index: cannot read ", file.string(), ": ", e.what());
  }
  apply_search_params(out.impl_->index.get(), c);
  return out;
}

void VectorIndex::save(const fs::path& file) const {
  const fs::path tmp = file.string() + ".tmp." + std::to_string(::getpid());
  try {
    faiss::write_index(impl_->index.get(), tmp.c_str());
  } catch (const std::exception& e) {
    std::error_code ec;
    fs::remove(tmp, ec);
    MUDIT_THROW(IoError, "index: cannot write ", file.string(), ": ", e.what());
  }
  fs::rename(tmp, file);
}

VectorIndex::Result VectorIndex::search(const at::Tensor& queries, int64_t k) const {
  const at::Tensor q = as_rows(queries);
  MUDIT_CHECK(q.size(1) == dim(), ShapeError, "index: queries of dimension ", q.size(1),
              " for an index of ", dim());
  MUDIT_CHECK(k >= 1, ConfigError, "index: k must be >= 1");
  Result r;
  r.scores = at::empty({q.size(0), k}, at::kFloat);
  r.rows = at::empty({q.size(0), k}, at::kLong);
  static_assert(sizeof(faiss::Index::idx_t) == sizeof(int64_t));
  impl_->index->search(q.size(0), q.data_ptr<float>(), k, r.scores.data_ptr<float>(),
                       reinterpret_cast<faiss::Index::idx_t*>(r.rows.data_ptr<int64_t>()));
  return r;
}

int64_t VectorIndex::size() const {
  return impl_->index->ntotal;
}
int64_t VectorIndex::dim() const {
  return impl_->index->d;
}

// --- SongIndex --------------------------------------------------------------------------------

namespace {

nlohmann::json record_json(const SongRecord& s) {
  return {{"id", s.id},           {"audio", s.audio},   {"description", s.description},
          {"amateur", s.amateur}, {"lyrics", s.lyrics}, {"seconds", s.seconds}};
}

SongRecord record_from_json(const nlohmann::json& j) {
  SongRecord s;
  s.id = j.at("id").get<std::string>();
  s.audio = j.value("audio", "");
  s.description = j.value("description", "");
  s.amateur = j.value("amateur", "");
  s.lyrics = j.value("lyrics", "");
  s.seconds = j.value("seconds", 0.0);
  return s;
}

at::Tensor unit(const at::Tensor& x) {
  const at::Tensor f = as_rows(x);
  return f / f.norm(2, {1}, true).clamp_min(1e-12);
}

}  // namespace

SongIndex::SongIndex(std::vector<SongRecord> songs, at::Tensor audio, at::Tensor lyrics,
                     const IndexConfig& config, QueryEmbedder embed)
    : SongIndex(std::move(songs), std::move(audio), std::move(lyrics), config, std::move(embed),
                nullptr, nullptr) {}

SongIndex::SongIndex(std::vector<SongRecord> songs, at::Tensor audio, at::Tensor lyrics,
                     const IndexConfig& config, QueryEmbedder embed,
                     std::shared_ptr<VectorIndex> audio_index,
                     std::shared_ptr<VectorIndex> lyrics_index)
    : songs_(std::move(songs)),
      audio_(unit(audio)),
      lyrics_(unit(lyrics)),
      config_(config),
      embed_(std::move(embed)) {
  MUDIT_CHECK(
      audio_.size(0) == static_cast<int64_t>(songs_.size()) && lyrics_.sizes() == audio_.sizes(),
      ShapeError, "index: ", songs_.size(), " songs with audio vectors ", audio_.sizes(),
      " and lyric vectors ", lyrics_.sizes());
  auto by_id = std::make_shared<std::map<std::string, int64_t>>();
  for (size_t i = 0; i < songs_.size(); ++i) {
    MUDIT_CHECK(by_id->emplace(songs_[i].id, static_cast<int64_t>(i)).second, DataError,
                "index: song id '", songs_[i].id, "' twice");
  }
  by_id_ = by_id;
  // Built here, or the stored ones (load(): trained once, not again).
  audio_index_ = audio_index ? std::move(audio_index)
                             : std::make_shared<VectorIndex>(VectorIndex::build(audio_, config_));
  lyrics_index_ = lyrics_index
                      ? std::move(lyrics_index)
                      : std::make_shared<VectorIndex>(VectorIndex::build(lyrics_, config_));
  MUDIT_CHECK(audio_index_->size() == audio_.size(0) && lyrics_index_->size() == audio_.size(0),
              IoError, "index: FAISS indexes of ", audio_index_->size(), " and ",
              lyrics_index_->size(), " vectors for ", songs_.size(), " songs");
}

int64_t SongIndex::find(const std::string& id) const {
  const auto it = by_id_->find(id);
  return it == by_id_->end() ? -1 : it->second;
}

std::vector<Hit> SongIndex::search(const std::string& query, const std::string& mode,
                                   int64_t k) const {
  MUDIT_CHECK(embed_, ConfigError, "index: no text tower to embed the query with");
  c10::InferenceMode guard;
  const at::Tensor q = embed_({query});
  return search_vector(q.reshape({-1}), mode, k);
}

std::vector<Hit> SongIndex::search_vector(const at::Tensor& query, const std::string& mode,
                                          int64_t k) const {
  check_choice("mode", mode, {"text", "lyrics", "mix"});
  MUDIT_CHECK(k >= 1, ConfigError, "search: k must be >= 1, got ", k);
  const int64_t n = static_cast<int64_t>(songs_.size());
  k = std::min(k, n);
  const at::Tensor q = unit(query.reshape({1, -1}));
  std::vector<Hit> hits;
  const auto add = [&](const VectorIndex::Result& r) {
    const auto* rows = r.rows.data_ptr<int64_t>();
    const auto* scores = r.scores.data_ptr<float>();
    for (int64_t i = 0; i < r.rows.size(1); ++i) {
      if (rows[i] >= 0) hits.push_back({rows[i], scores[i], &songs_[rows[i]]});
    }
  };
  if (mode == "text") {
    add(audio_index_->search(q, k));
  } else if (mode == "lyrics") {
    add(lyrics_index_->search(q, k));
  } else {
    // Candidates from both indexes, each scored exactly on both sides.
    const int64_t wide = std::min(n, 4 * k);
    std::set<int64_t> rows;
    for (const VectorIndex* index : {audio_index_.get(), lyrics_index_.get()}) {
      const auto r = index->search(q, wide);
      for (int64_t i = 0; i < wide; ++i) {
        const int64_t row = r.rows[0][i].item<int64_t>();
        if (row >= 0) rows.insert(row);
      }
    }
    const std::vector<int64_t> cand(rows.begin(), rows.end());
    const at::Tensor idx = at::tensor(cand, at::kLong);
    const at::Tensor s = (at::matmul(audio_.index_select(0, idx), q[0]) +
                          at::matmul(lyrics_.index_select(0, idx), q[0])) /
                         2;
    for (size_t i = 0; i < cand.size(); ++i) {
      hits.push_back({cand[i], s[static_cast<int64_t>(i)].item<double>(), &songs_[cand[i]]});
    }
    std::stable_sort(hits.begin(), hits.end(),
                     [](const Hit& a, const Hit& b) { return a.score > b.score; });
    if (static_cast<int64_t>(hits.size()) > k) hits.resize(k);
  }
  return hits;
}

void SongIndex::save(const fs::path& dir, const fs::path& chinmu) const {
  fs::create_directories(dir);
  audio_index_->save(dir / "audio.faiss");
  lyrics_index_->save(dir / "lyrics.faiss");
  save_safetensors(dir / "vectors.safetensors", {{"audio", audio_}, {"lyrics", lyrics_}});
  std::string lines;
  for (const SongRecord& s : songs_) lines += record_json(s).dump() + "\n";
  write_file_atomic(dir / "songs.jsonl", lines);
  ConfigNode root = ConfigNode::map();
  root.set("index", detail::write_value(config_));
  root.set("chinmu",
           detail::write_scalar(chinmu.empty() ? std::string() : fs::absolute(chinmu).string()));
  root.set("songs", detail::write_scalar(static_cast<int64_t>(songs_.size())));
  root.set("dim", detail::write_scalar(static_cast<int64_t>(audio_.size(1))));
  // index.yaml last: a folder without it is not an index.
  write_file_atomic(dir / "index.yaml", to_yaml(root));
}

SongIndex SongIndex::load(const fs::path& dir, QueryEmbedder embed) {
  const fs::path yaml = dir / "index.yaml";
  MUDIT_CHECK(fs::exists(yaml), IoError, "index: ", dir.string(),
              " is not an index folder (no index.yaml; mudit index build makes one)");
  const ConfigNode root = load_config_file(yaml);
  const auto config = bind_config<IndexConfig>(root, "index");
  std::string chinmu;
  if (const ConfigNode* c = root.find("chinmu")) chinmu = c->text();
  const TensorFile v = load_safetensors(dir / "vectors.safetensors");
  MUDIT_CHECK(v.tensors.count("audio") && v.tensors.count("lyrics"), IoError, dir.string(),
              "/vectors.safetensors: no audio or lyrics vectors");
  std::vector<SongRecord> songs;
  std::istringstream in(read_file(dir / "songs.jsonl"));
  std::string line;
  for (int64_t n = 1; std::getline(in, line); ++n) {
    if (line.empty()) continue;
    const auto j = nlohmann::json::parse(line, nullptr, false);
    MUDIT_CHECK(j.is_object() && j.contains("id"), DataError, dir.string(), "/songs.jsonl:", n,
                ": not a song record");
    songs.push_back(record_from_json(j));
  }
  if (!embed && !chinmu.empty()) embed = eval::text_embedder(chinmu, c10::kCPU);
  return SongIndex(std::move(songs), v.tensors.at("audio"), v.tensors.at("lyrics"), config,
                   std::move(embed),
                   std::make_shared<VectorIndex>(VectorIndex::load(dir / "audio.faiss", config)),
                   std::make_shared<VectorIndex>(VectorIndex::load(dir / "lyrics.faiss", config)));
}

std::string plain_lyrics(const std::string& lyrics) {
  const text::Lyrics l = text::parse_lyrics(lyrics);
  std::string out;
  const auto add = [&](const std::vector<text::LyricLine>& lines) {
    for (const auto& line : lines) out += (out.empty() ? "" : "\n") + line.text;
  };
  add(l.preamble);
  for (const auto& s : l.sections) add(s.lines);
  return out;
}

IndexBuildReport build_song_index(const fs::path& manifest, const fs::path& chinmu_path,
                                  const IndexConfig& config, const fs::path& out,
                                  c10::Device device) {
  config.validate();
  const auto t0 = std::chrono::steady_clock::now();
  const fs::path model = resolve_model_file(chinmu_path);
  ChinMu chinmu = load_chinmu(model, device);
  // Audio: each readable song's mean window embedding (unreadable ones skipped and counted).
  const pipeline::Embeddings audio =
      pipeline::embed_manifest_audio(chinmu, manifest, "all", device, 8);
  std::map<std::string, const data::ManifestEntry*> by_id;
  const auto entries = data::read_manifest(manifest);
  for (const auto& e : entries) by_id[e.id] = &e;
  IndexBuildReport report;
  report.skipped = static_cast<int64_t>(entries.size() - audio.ids.size());
  std::vector<SongRecord> songs;
  std::vector<std::string> lyric_texts;
  for (size_t i = 0; i < audio.ids.size(); ++i) {
    const data::ManifestEntry& e = *by_id.at(audio.ids[i]);
    SongRecord s;
    s.id = e.id;
    s.audio = fs::absolute(data::resolve_audio(e, manifest)).string();
    if (!e.professional.empty()) s.description = e.professional.front().text;
    if (!e.amateur.empty()) s.amateur = e.amateur.front().text;
    s.lyrics = plain_lyrics(e.lyrics);
    s.seconds = audio.seconds[i];
    report.no_lyrics += s.lyrics.empty();
    lyric_texts.push_back(s.lyrics);
    songs.push_back(std::move(s));
  }
  c10::InferenceMode guard;
  const at::Tensor lyrics = chinmu->embed_texts(lyric_texts).cpu();
  report.songs = static_cast<int64_t>(songs.size());
  SongIndex index(std::move(songs), audio.vectors, lyrics, config, {});
  index.save(out, model);
  report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return report;
}

}  // namespace mudit::retrieval
