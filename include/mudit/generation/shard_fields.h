#pragma once

// The names of the generator's shard fields: written by `mudit prepare`, read by the generator
// task, the benchmarks and the evaluation. One place, so a rename cannot split them.

namespace mudit::generation::fields {

constexpr const char* kLatents = "latents";             ///< [T, D] normalised codec latents
constexpr const char* kChinMu = "chinmu";               ///< [1, E] the song's audio embedding
constexpr const char* kChinMuChunks = "chinmu_chunks";  ///< [K, E] one per audio window
constexpr const char* kTextEmb = "text_emb";            ///< [V, E] one per description variant
constexpr const char* kTextRegister = "text_register";  ///< [V] 0 amateur, 1 professional
constexpr const char* kPhonemes = "phonemes";           ///< [L] phoneme ids of the lyrics
constexpr const char* kPlan = "plan";                   ///< [T, F] the musical plan per frame

}  // namespace mudit::generation::fields
