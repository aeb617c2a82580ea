#pragma once

// The MuDiT / MuSiT backbone (one class for both objectives; the objective and the sampler live
// in mudit/diffusion): a transformer over latent frames after DiT (Peebles & Xie 2023). Frames
// are grouped `patch` at a time into tokens; a sinusoidal timestep embedding ([cos, sin]) and an
// MLP, plus the projected ChinMu condition (pooled [B, D], or a per-frame sequence [B, F, D]
// resampled to the tokens, as the seed did), drive adaLN-Zero in every block; each block
// cross-attends to lyric phoneme tokens (key padding masks) and its self-attention uses RoPE
// and SDPA. Learned null condition and null lyrics stand in when a condition is dropped
// (classifier-free guidance), and an in-context channel (known latents and their mask) lets the
// same model repaint and extend. Module names follow the official DiT (`t_embedder.mlp.0`,
// `blocks.N.attn.qkv`, `blocks.N.adaLN_modulation.1`, `final_layer.linear`), so DiT's blocks
// are checked against its fixtures.

#include <ATen/core/Tensor.h>
#include <torch/nn/module.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/modules/embedding.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/normalization.h>
#include <torch/nn/pimpl.h>

#include <cstdint>
#include <string>
#include <vector>

#include "mudit/diffusion/guidance.h"

namespace mudit {

struct DiTConfig {
  int64_t latent_dim = 64;  ///< channels of a latent frame (the codec's latent_dim)
  int64_t patch = 1;        ///< frames per token
  int64_t hidden_size = 1536;
  int64_t depth = 8;
  int64_t num_heads = 16;
  double mlp_ratio = 4.0;
  int64_t max_frames = 1536;  ///< longest latent sequence (RoPE has no limit; checked on input)
  int64_t frequency_embedding_size = 256;
  double max_period = 10000;
  int64_t cond_dim = 512;  ///< ChinMu's embedding size
  bool lyrics = true;      ///< cross-attention to lyric phoneme tokens
  int64_t lyric_vocab = 140;
  int64_t lyric_max_tokens = 1024;
  bool in_context = true;  ///< input channels: x_t, known latents * mask, mask
  bool rope = true;
  double rope_theta = 10000;
  double dropout = 0.0;  ///< attention and MLP dropout (training only)
  /// The musical plan (mudit/generation/plan.h): beat slots per latent frame; 0 = no plan.
  /// The plan's per-frame features enter through zero-initialised projections at the input
  /// (`plan_embedder`) and into the per-token adaLN condition (`plan_cond`), so adding a plan
  /// to a model leaves its output unchanged until it trains.
  int64_t plan_slots = 0;

  template <class V>
  void visit(V& v) {
    v("latent_dim", latent_dim);
    v("patch", patch);
    v("hidden_size", hidden_size);
    v("depth", depth);
    v("num_heads", num_heads);
    v("mlp_ratio", mlp_ratio);
    v("max_frames", max_frames);
    v("frequency_embedding_size", frequency_embedding_size);
    v("max_period", max_period);
    v("cond_dim", cond_dim);
    v("lyrics", lyrics);
    v("lyric_vocab", lyric_vocab);
    v("lyric_max_tokens", lyric_max_tokens);
    v("in_context", in_context);
    v("rope", rope);
    v("rope_theta", rope_theta);
    v("dropout", dropout);
    v("plan_slots", plan_slots);
  }
  void validate() const;
  int64_t mlp_hidden() const { return static_cast<int64_t>(hidden_size * mlp_ratio); }
  /// Plan features per frame: generation::PlanLayout{plan_slots}.dim() (a test ties the two;
  /// models sit below the generation layer); 0 without a plan.
  int64_t plan_dim() const { return plan_slots > 0 ? 2 * plan_slots + 46 : 0; }

  /// The seed's scale: hidden 1536, depth 8, 16 heads, MLP x4, lyric vocabulary 140, up to 1536
  /// frames, a 64-d latent (about 429 M parameters with the lyric cross-attention).
  static DiTConfig seed();
  /// For tests and the demo: 128-d, 2 blocks, 4 heads.
  static DiTConfig tiny();
};

/// The sinusoidal embedding of (possibly fractional) timesteps t [B] -> [B, dim], [cos, sin]
/// halves, arguments formed in float32 as DiT's TimestepEmbedder.timestep_embedding does.
at::Tensor timestep_embedding(const at::Tensor& t, int64_t dim, double max_period = 10000);

/// DiT's adaLN modulation: x * (1 + scale) + shift, with shift / scale [B, H] (broadcast over
/// tokens) or [B, N, H] (per token).
at::Tensor modulate(const at::Tensor& x, const at::Tensor& shift, const at::Tensor& scale);

/// Rotary position embedding of q or k [B, heads, N, d] at positions 0..N-1 (rotate-half
/// layout, frequencies theta^(-2i/d)).
at::Tensor apply_rope(const at::Tensor& x, double theta);

class TimestepEmbedderImpl : public torch::nn::Module {
 public:
  TimestepEmbedderImpl(int64_t hidden, int64_t frequency_size, double max_period);
  at::Tensor forward(const at::Tensor& t);  // [B] -> [B, H]

 private:
  int64_t frequency_size_;
  double max_period_;
  torch::nn::Sequential mlp_{nullptr};  // mlp.0 Linear, mlp.1 SiLU, mlp.2 Linear
};
TORCH_MODULE(TimestepEmbedder);

/// timm's Attention as DiT uses it: `qkv` [3H, H] rows q; k; v (head-major), `proj`.
class SelfAttentionImpl : public torch::nn::Module {
 public:
  SelfAttentionImpl(int64_t hidden, int64_t heads, bool rope, double rope_theta, double dropout);
  /// x [B, N, H]; mask [B, N] bool (true = a real token) or undefined.
  at::Tensor forward(const at::Tensor& x, const at::Tensor& mask);

 private:
  int64_t heads_;
  bool rope_;
  double theta_, dropout_;
  torch::nn::Linear qkv_{nullptr}, proj_{nullptr};
};
TORCH_MODULE(SelfAttention);

/// Queries from the tokens, keys and values from a context (lyric tokens): `q`, `kv`, `proj`.
class CrossAttentionImpl : public torch::nn::Module {
 public:
  CrossAttentionImpl(int64_t hidden, int64_t heads, double dropout);
  /// x [B, N, H], context [B, L, H], context_mask [B, L] bool (true = a real token).
  at::Tensor forward(const at::Tensor& x, const at::Tensor& context,
                     const at::Tensor& context_mask);

 private:
  int64_t heads_;
  double dropout_;
  torch::nn::Linear q_{nullptr}, kv_{nullptr}, proj_{nullptr};
};
TORCH_MODULE(CrossAttention);

/// timm's Mlp: fc1, GELU (tanh), fc2.
class MlpImpl : public torch::nn::Module {
 public:
  MlpImpl(int64_t hidden, int64_t inner, double dropout);
  at::Tensor forward(const at::Tensor& x);

 private:
  double dropout_;
  torch::nn::Linear fc1_{nullptr}, fc2_{nullptr};
};
TORCH_MODULE(Mlp);

/// A DiT block with adaLN-Zero, and (with lyrics) a pre-norm cross-attention between the
/// self-attention and the MLP (`norm_cross`, `cross_attn`; not gated, as in PixArt-alpha).
class DiTBlockImpl : public torch::nn::Module {
 public:
  DiTBlockImpl(const DiTConfig& c, bool cross_attention);
  /// x [B, N, H], c [B, H] or [B, N, H]; mask [B, N]; context [B, L, H] and its mask, or
  /// undefined without cross-attention.
  at::Tensor forward(const at::Tensor& x, const at::Tensor& c, const at::Tensor& mask,
                     const at::Tensor& context, const at::Tensor& context_mask);

 private:
  torch::nn::LayerNorm norm1_{nullptr}, norm2_{nullptr}, norm_cross_{nullptr};
  SelfAttention attn_{nullptr};
  CrossAttention cross_attn_{nullptr};
  Mlp mlp_{nullptr};
  torch::nn::Sequential adaLN_modulation_{nullptr};  // 0 SiLU, 1 Linear(H, 6H)
};
TORCH_MODULE(DiTBlock);

class FinalLayerImpl : public torch::nn::Module {
 public:
  FinalLayerImpl(int64_t hidden, int64_t out);
  at::Tensor forward(const at::Tensor& x, const at::Tensor& c);

 private:
  torch::nn::LayerNorm norm_final_{nullptr};
  torch::nn::Linear linear_{nullptr};
  torch::nn::Sequential adaLN_modulation_{nullptr};  // 0 SiLU, 1 Linear(H, 2H)
};
TORCH_MODULE(FinalLayer);

/// What the backbone sees for a batch of B songs of T latent frames.
struct DiTInputs {
  at::Tensor x;            ///< [B, T, C] the noisy latents (T need not be a multiple of patch)
  at::Tensor t;            ///< [B] timesteps (DDPM steps or interpolant times, as trained)
  at::Tensor frame_mask;   ///< [B, T] bool, true = a real frame; undefined: all real
  at::Tensor cond;         ///< [B, D] pooled or [B, F, D] per-frame ChinMu embedding
  at::Tensor cond_keep;    ///< [B] bool: false uses the null condition; undefined: all kept
  at::Tensor lyrics;       ///< [B, L] int64 phoneme ids (0 = padding)
  at::Tensor lyric_mask;   ///< [B, L] bool; undefined: ids != 0
  at::Tensor lyrics_keep;  ///< [B] bool: false uses the null lyrics
  at::Tensor known;        ///< [B, T, C] known latents for repaint / extend (in_context)
  at::Tensor known_mask;   ///< [B, T] bool, true = the frame is known
  at::Tensor plan;  ///< [B, T, P] the musical plan (P = DiTConfig::plan_dim()); undefined: none
  at::Tensor plan_keep;  ///< [B] bool: false drops the whole plan (zeros); undefined: all kept

  /// Calls fn(field) on every per-song tensor (dim 0 = songs; keep flags included), so code
  /// that repeats or slices a batch (branched()) cannot leave a field behind: a field added
  /// here without being added to the list fails to compile (a static_assert on the size).
  template <class Fn>
  void for_each_song_field(Fn&& fn) {
    for (at::Tensor* f : {&frame_mask, &cond, &cond_keep, &lyrics, &lyric_mask, &lyrics_keep,
                          &known, &known_mask, &plan, &plan_keep})
      fn(*f);
  }
  static constexpr int kSongFields = 10;  ///< all but x and t
};

class DiTImpl : public torch::nn::Module {
 public:
  explicit DiTImpl(DiTConfig config);
  const DiTConfig& config() const { return config_; }
  /// The model's output for every frame, [B, T, C] (padding frames are zero).
  at::Tensor forward(const DiTInputs& in);
  /// DiT's initialisation: Xavier-uniform linears, N(0, 0.02) timestep MLP and embeddings,
  /// zeroed adaLN modulations and final linear (so every block starts as the identity).
  void initialize_weights();
  void set_activation_checkpointing(bool on) { checkpointing_ = on; }

 private:
  DiTConfig config_;
  bool checkpointing_ = false;
  torch::nn::Linear x_embedder_{nullptr}, cond_embedder_{nullptr}, plan_embedder_{nullptr};
  torch::nn::Sequential plan_cond_{nullptr};  // 0 Linear(pP, H), 1 SiLU, 2 Linear(H, H)
  TimestepEmbedder t_embedder_{nullptr};
  torch::nn::Embedding lyric_embedder_{nullptr};
  at::Tensor null_cond_, null_lyrics_, lyric_pos_;
  torch::nn::ModuleList blocks_{nullptr};
  FinalLayer final_layer_{nullptr};
};
TORCH_MODULE(DiT);

/// The backbone as guidance.h's BranchedModel: the batch repeated per branch (every field of
/// DiTInputs::for_each_song_field), description, lyrics and plan dropped where a branch says.
/// `base` holds everything but x and t.
diffusion::BranchedModel branched(DiT model, DiTInputs base);

}  // namespace mudit
