#pragma once

// Song retrieval (the seed's RAG, natively): FAISS indexes over ChinMu audio embeddings and
// lyric embeddings of a manifest's songs, searched with the ChinMu text embedding of a query.
//
//   mudit index build --manifest songs.jsonl --chinmu chinmu.safetensors --out index/
//   mudit search --index index/ --text "a slow piano ballad" --mode text|lyrics|mix --k 10
//
// An index folder holds audio.faiss and lyrics.faiss (the FAISS indexes), vectors.safetensors
// (the unit vectors themselves, `audio` and `lyrics` [N, D], for exact mixed scores), songs.jsonl
// (one record per row, in row order) and index.yaml (the IndexConfig, the ChinMu model file,
// counts). Every file is written atomically.

#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace mudit::retrieval {

struct IndexConfig {
  /// "flat" (exact inner product), "ivf" (IVF-Flat: k-means cells, `nprobe` searched) or "hnsw"
  /// (a graph of `hnsw_m` links per node). Vectors are unit length, so inner product = cosine.
  std::string kind = "flat";
  int64_t nlist = 1024;  ///< IVF cells (the seed's Milvus setting); at most N / 39 are trained
  int64_t nprobe = 10;   ///< IVF cells visited per query
  int64_t hnsw_m = 32;
  int64_t ef_construction = 40;
  int64_t ef_search = 64;
  template <class V>
  void visit(V& v) {
    v("kind", kind);
    v("nlist", nlist);
    v("nprobe", nprobe);
    v("hnsw_m", hnsw_m);
    v("ef_construction", ef_construction);
    v("ef_search", ef_search);
  }
  void validate() const;
};

/// One FAISS index over unit vectors, searched by inner product. Searching is thread-safe.
class VectorIndex {
 public:
  /// Builds (and for ivf trains) an index over `vectors` [N, D] float32.
  static VectorIndex build(const at::Tensor& vectors, const IndexConfig& config);
  /// Reads a file written by save(); the search parameters (nprobe, ef_search) come from
  /// `config`.
  static VectorIndex load(const std::filesystem::path& file, const IndexConfig& config);
  void save(const std::filesystem::path& file) const;

  struct Result {
    at::Tensor scores;  ///< [Q, k] float32, best first
    at::Tensor rows;    ///< [Q, k] int64; -1 where fewer than k rows exist
  };
  Result search(const at::Tensor& queries, int64_t k) const;
  int64_t size() const;
  int64_t dim() const;

  VectorIndex();
  ~VectorIndex();
  VectorIndex(VectorIndex&&) noexcept;
  VectorIndex& operator=(VectorIndex&&) noexcept;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// What a hit shows: the song's id, audio file (absolute), first professional and amateur
/// descriptions, lyrics (section tags and times stripped) and duration.
struct SongRecord {
  std::string id;
  std::string audio;
  std::string description;
  std::string amateur;
  std::string lyrics;
  double seconds = 0;
};

struct Hit {
  int64_t row = 0;
  double score = 0;  ///< cosine (mix: the mean of the audio and lyric cosines)
  const SongRecord* song = nullptr;
};

/// Unit-norm text embeddings [N, D] of N texts (eval::text_embedder gives ChinMu's).
using QueryEmbedder = std::function<at::Tensor(const std::vector<std::string>&)>;

class SongIndex {
 public:
  /// From in-memory parts (tests, benchmarks): vectors [N, D] unit-norm, one record per row.
  SongIndex(std::vector<SongRecord> songs, at::Tensor audio, at::Tensor lyrics,
            const IndexConfig& config, QueryEmbedder embed);
  /// Reads an index folder; `embed` defaults to the text tower of the ChinMu it was built with.
  static SongIndex load(const std::filesystem::path& dir, QueryEmbedder embed = {});
  /// Writes the folder (each file atomically; `chinmu` is recorded in index.yaml).
  void save(const std::filesystem::path& dir, const std::filesystem::path& chinmu = {}) const;

  /// "text": the query against the songs' audio (text → audio, what ChinMu is trained for);
  /// "lyrics": against the lyric embeddings; "mix": candidates of both, scored by the mean of
  /// the two exact cosines. k is clipped to the number of songs. Throws ConfigError for an
  /// unknown mode or k < 1.
  std::vector<Hit> search(const std::string& query, const std::string& mode, int64_t k) const;
  /// The same with the query's embedding [D] given.
  std::vector<Hit> search_vector(const at::Tensor& query, const std::string& mode, int64_t k) const;

  const std::vector<SongRecord>& songs() const { return songs_; }
  /// The row of a song id, or -1.
  int64_t find(const std::string& id) const;
  const IndexConfig& config() const { return config_; }

 private:
  SongIndex(std::vector<SongRecord> songs, at::Tensor audio, at::Tensor lyrics,
            const IndexConfig& config, QueryEmbedder embed,
            std::shared_ptr<VectorIndex> audio_index, std::shared_ptr<VectorIndex> lyrics_index);

  std::vector<SongRecord> songs_;
  at::Tensor audio_, lyrics_;  // [N, D]
  IndexConfig config_;
  std::shared_ptr<VectorIndex> audio_index_, lyrics_index_;
  QueryEmbedder embed_;
  std::shared_ptr<const std::map<std::string, int64_t>> by_id_;
};

struct IndexBuildReport {
  int64_t songs = 0;
  int64_t skipped = 0;    ///< songs whose audio could not be read (named in the log)
  int64_t no_lyrics = 0;  ///< songs without lyrics: their lyric vector is the empty text's
  double seconds = 0;
};

/// Embeds a manifest's songs with a ChinMu (audio: the mean of its windows; lyrics: the text
/// tower on the lyric lines) and writes the index folder `out`. Unreadable songs are skipped
/// and counted; none left is a DataError, and nothing is written.
IndexBuildReport build_song_index(const std::filesystem::path& manifest,
                                  const std::filesystem::path& chinmu, const IndexConfig& config,
                                  const std::filesystem::path& out, c10::Device device);

/// The lyric lines of a lyrics text without section tags and [mm:ss.xx] times, joined by
/// newlines.
std::string plain_lyrics(const std::string& lyrics);

}  // namespace mudit::retrieval
