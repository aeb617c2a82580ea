#pragma once

// Embeddings files: what `mudit embed` does. An embeddings file is safetensors with
// `embeddings` [N, D] float32 (unit norm) and metadata mudit.ids (a JSON list of the N ids, in
// order), mudit.model (the model file) and mudit.kind ("text" or "audio").

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "mudit/models/chinmu.h"

namespace mudit::pipeline {

struct TextLines {
  std::vector<std::string> ids;
  std::vector<std::string> texts;
};

/// Lines of a text file: `{"id": ..., "text": ...}` JSON objects, `id<TAB>text`, or plain text
/// (id = the line number, from 1). Blank lines are skipped. DataError names a bad line.
TextLines read_text_lines(const std::filesystem::path& file);

struct Embeddings {
  at::Tensor vectors;  ///< [N, D], CPU
  std::vector<std::string> ids;
  std::string kind;             ///< "text" or "audio"
  int64_t truncated = 0;        ///< texts cut to the model's max_length
  std::vector<double> seconds;  ///< audio: each song's length
};

/// Texts through a text-tower file (arch bert) or a ChinMu model file (arch chinmu).
Embeddings embed_text_file(const std::filesystem::path& model, const std::filesystem::path& texts,
                           c10::Device device, int64_t batch);
/// A manifest's songs (`split`, "all": every one) through a ChinMu model file, each the mean of
/// its windows; unreadable songs are skipped and counted in a warning.
Embeddings embed_manifest_audio(const std::filesystem::path& model,
                                const std::filesystem::path& manifest, const std::string& split,
                                c10::Device device, int64_t batch);
/// The same with a loaded ChinMu.
Embeddings embed_manifest_audio(ChinMu& chinmu, const std::filesystem::path& manifest,
                                const std::string& split, c10::Device device, int64_t batch);
/// Writes an embeddings file atomically.
void save_embeddings(const std::filesystem::path& out, const Embeddings& e,
                     const std::filesystem::path& model);

}  // namespace mudit::pipeline
