#pragma once

// `mudit prepare`: a manifest -> shards of everything the generator trains on, computed once.
// Per song (an item of the shard set, mudit/data/shards.h):
//   latents        [T', D]  codec latents, divided by the codec's latent statistics
//   chinmu         [1, E]   ChinMu audio embedding of the whole song (ChinMu::embed_song)
//   chinmu_chunks  [K, E]   ChinMu::embed_windows, the windows it averages (per-chunk use)
//   text_emb       [V, E]   ChinMu text embedding of every description variant
//   text_register  [V]      0 amateur, 1 professional, per row of text_emb
//   phonemes       [L]      lyric token ids (mudit/text/g2p.h's PhonemeVocab)
//   plan           [T', F]  the musical plan per latent frame (mudit/generation/plan.h), from
//                           the song's labels or its audio (mudit/pipeline/plan_sources.h)
// and beside the shards prepare.json (what made them: codec, ChinMu, rates, sizes, counts) and
// phonemes.txt (the phoneme vocabulary). Without a ChinMu model the chinmu / text fields are
// left out (stage 2 on audio conditions then needs them: prepare again with --chinmu).

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>

#include "mudit/models/codec.h"
#include "mudit/text/g2p.h"

namespace mudit::pipeline {

struct PrepareConfig {
  std::string manifest;
  std::string split = "all";  ///< songs to prepare ("all": every one)
  std::string out;            ///< the shard folder (must not hold an index.json yet)
  std::string codec;          ///< codec model file or run
  std::string chinmu;         ///< ChinMu model file or run; "": no ChinMu fields
  bool normalize = true;      ///< divide latents by the codec's statistics (required to have them)
  ChunkConfig chunks;         ///< chunked encoding of long songs
  text::G2PConfig g2p;
  bool tones = false;  ///< phoneme vocabulary with tone tokens
  double max_shard_mb = 256;
  std::string device = "cpu";
  /// Where each song's plan comes from: "auto" (labels.json beside the audio, else the audio),
  /// "labels", "audio", or "none" (no plan field).
  std::string plan_source = "auto";
  int64_t plan_slots = 16;  ///< beat slots per latent frame (generation::PlanLayout)

  template <class V>
  void visit(V& v) {
    v("manifest", manifest);
    v("split", split);
    v("out", out);
    v("codec", codec);
    v("chinmu", chinmu);
    v("normalize", normalize);
    v("chunks", chunks);
    v("g2p", g2p);
    v("tones", tones);
    v("max_shard_mb", max_shard_mb);
    v("device", device);
    v("plan_source", plan_source);
    v("plan_slots", plan_slots);
  }
  void validate() const;
};

struct PrepareReport {
  int64_t songs = 0;             ///< items written
  int64_t unreadable = 0;        ///< songs whose audio could not be read (skipped)
  int64_t without_lyrics = 0;    ///< items with no phonemes (instrumental or no lyrics)
  int64_t without_texts = 0;     ///< items with no description (text_emb of 0 rows)
  int64_t descriptions = 0;      ///< rows of text_emb over all items
  int64_t unknown_phonemes = 0;  ///< <unk> tokens (characters without a reading)
  int64_t latent_frames = 0;
  double audio_seconds = 0;
  int64_t plans_from_labels = 0;    ///< songs whose plan came from labels.json
  int64_t plans_from_audio = 0;     ///< songs whose plan came from analysing their audio
  int64_t plans_without_beats = 0;  ///< plans with no beat grid (songs too short to analyse)
};

/// Prepares config.out; a failure leaves no index.json (and removes the shards written).
/// `progress(done, total)` after each song.
PrepareReport prepare(const PrepareConfig& config,
                      const std::function<void(int64_t, int64_t)>& progress = {});

}  // namespace mudit::pipeline
