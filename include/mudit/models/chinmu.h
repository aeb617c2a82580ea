#pragma once

// ChinMu, the cross-modal text / audio encoder (CLAP / MuLan style): the BERT text tower
// (text_tower.h, module `text`), an audio tower (module `audio`: log-mel -> two stride-2 conv
// layers -> post-LN transformer layers -> attention or mean pooling over fixed windows), and
// linear projections (`text_proj`, `audio_proj`) into one L2-normalised space, trained with a
// symmetric InfoNCE loss at a learnable temperature (`logit_scale` = ln(1 / T)).

#include <ATen/core/Tensor.h>
#include <torch/nn/module.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/embedding.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/normalization.h>
#include <torch/nn/pimpl.h>

#include <cstdint>
#include <string>
#include <vector>

#include "mudit/audio/features.h"
#include "mudit/models/bert.h"
#include "mudit/models/text_tower.h"

namespace mudit {

struct AudioTowerConfig {
  MelConfig mel = MelConfig::mudit_24k();
  /// Audio is embedded in windows of this length; longer audio is the mean of its windows.
  double window_seconds = 10.0;
  int64_t stem_channels = 512;
  int64_t hidden_size = 768;
  int64_t num_layers = 12;
  int64_t num_heads = 12;
  int64_t intermediate_size = 3072;
  double dropout = 0.1;
  /// "attention" (a learned softmax weighting of the frames) or "mean".
  std::string pooling = "attention";

  template <class V>
  void visit(V& v) {
    v("mel", mel);
    v("window_seconds", window_seconds);
    v("stem_channels", stem_channels);
    v("hidden_size", hidden_size);
    v("num_layers", num_layers);
    v("num_heads", num_heads);
    v("intermediate_size", intermediate_size);
    v("dropout", dropout);
    v("pooling", pooling);
  }
  void validate() const;
  int64_t window_samples() const;
  /// Transformer frames of one window: mel frames / 4.
  int64_t window_frames() const;
  /// The transformer layers' shape, as a BertConfig.
  BertConfig layer_config() const;
};

class AudioTowerImpl : public torch::nn::Module {
 public:
  explicit AudioTowerImpl(AudioTowerConfig config);
  struct Output {
    at::Tensor sequence;  // [B, F, H] per-frame states
    at::Tensor pooled;    // [B, H]
  };
  /// wav [B, T] mono at mel.sample_rate, T <= window_samples. With `layers`, also the
  /// hidden states [B, F, H] after the embedding and after each transformer layer.
  Output forward(const at::Tensor& wav, std::vector<at::Tensor>* layers = nullptr);
  const AudioTowerConfig& config() const { return config_; }

 private:
  AudioTowerConfig config_;
  MelSpectrogram mel_;
  torch::nn::Conv1d stem1_{nullptr}, stem2_{nullptr};
  torch::nn::Embedding position_{nullptr};
  torch::nn::LayerNorm embed_norm_{nullptr};
  std::vector<BertLayer> layers_;
  torch::nn::Linear pool_{nullptr};
};
TORCH_MODULE(AudioTower);

struct ChinMuConfig {
  TextTowerConfig text;
  AudioTowerConfig audio;
  int64_t embed_dim = 512;
  double init_temperature = 0.07;
  double max_logit_scale = 100.0;  ///< exp(logit_scale) is clamped here, as CLIP does
  /// The text tower's vocabulary (kept in the config so a model file is self-contained).
  std::vector<std::string> vocab;

  template <class V>
  void visit(V& v) {
    v("text", text);
    v("audio", audio);
    v("embed_dim", embed_dim);
    v("init_temperature", init_temperature);
    v("max_logit_scale", max_logit_scale);
    v("vocab", vocab);
  }
  void validate() const;

  /// The seed scale: bert-base-chinese's text tower, a 768-d 12-layer audio tower, 512-d space.
  static ChinMuConfig seed();
  /// For tests and the demo: 128-d towers of 2 layers, 5 s windows, 128-d space.
  static ChinMuConfig tiny();
};

class ChinMuImpl : public torch::nn::Module {
 public:
  explicit ChinMuImpl(ChinMuConfig config);

  /// Normalised text embeddings [B, D] of token ids [B, L] with their mask.
  at::Tensor encode_text(const at::Tensor& ids, const at::Tensor& mask);
  /// Normalised audio embeddings [B, D] of windows wav [B, T] (T <= window_samples).
  at::Tensor encode_audio(const at::Tensor& wav);
  /// Per-frame projected audio states [B, F, D] (not normalised), for per-frame conditioning.
  at::Tensor audio_sequence(const at::Tensor& wav);
  /// The embeddings of a song's consecutive windows, [K, D] normalised. A last window shorter
  /// than half a window is dropped unless it is the only one; shorter windows are zero-padded.
  at::Tensor embed_windows(const at::Tensor& wav, int64_t batch = 8);
  /// The audio tower's hidden states of a song [T], each layer's (the embedding's and every
  /// transformer layer's) averaged over frames and then over embed_windows()'s windows:
  /// [layers + 1, H]. With `window_embeddings`, also embed_windows()'s result from the same pass.
  at::Tensor audio_layer_means(const at::Tensor& wav, int64_t batch = 8,
                               at::Tensor* window_embeddings = nullptr);
  /// A whole song [T]: the normalised mean of embed_windows() ([D]).
  at::Tensor embed_song(const at::Tensor& wav, int64_t batch = 8);
  /// embed_song() from embed_windows()'s result [K, D].
  static at::Tensor song_embedding(const at::Tensor& window_embeddings);
  /// Normalised embeddings of texts [N, D], tokenized with the model's vocabulary.
  at::Tensor embed_texts(const std::vector<std::string>& texts, int64_t batch = 64);
  /// exp(logit_scale), clamped.
  at::Tensor scale() const;

  const ChinMuConfig& config() const { return config_; }
  const text::WordPieceTokenizer& tokenizer() const { return tokenizer_; }
  BertModel& text() { return text_; }

 private:
  /// embed_windows()'s windows of a song, [K, window_samples].
  at::Tensor song_windows(const at::Tensor& wav) const;

  ChinMuConfig config_;
  text::WordPieceTokenizer tokenizer_;
  BertModel text_{nullptr};
  AudioTower audio_{nullptr};
  torch::nn::Linear text_proj_{nullptr}, audio_proj_{nullptr};
  at::Tensor logit_scale_;
};
TORCH_MODULE(ChinMu);

/// Symmetric InfoNCE over a batch of matching pairs: mean of the cross-entropies of text->audio
/// and audio->text logits scale * t a^T with the diagonal as targets. t, a: [B, D] normalised.
at::Tensor info_nce(const at::Tensor& text, const at::Tensor& audio, const at::Tensor& scale);
/// The same loss for a batch split over ranks: this rank's pairs `text`, `audio` [B, D] are
/// scored against every rank's `all_text`, `all_audio` [N, D] (dist::all_gather_with_grad), the
/// positive of row i at column offset + i. The mean over ranks is the whole batch's info_nce.
at::Tensor info_nce(const at::Tensor& text, const at::Tensor& audio, const at::Tensor& all_text,
                    const at::Tensor& all_audio, const at::Tensor& scale, int64_t offset);

/// Reads a ChinMu model file (arch "chinmu", a `chinmu` run's model.safetensors) onto `device`,
/// in eval mode.
ChinMu load_chinmu(const std::filesystem::path& file, c10::Device device = c10::kCPU);

}  // namespace mudit
