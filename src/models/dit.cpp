#include "mudit/models/dit.h"

#include <ATen/ATen.h>
#include <torch/nn/functional/normalization.h>
#include <torch/nn/init.h>
#include <torch/nn/modules/activation.h>

#include <cmath>
#include <optional>

#include "mudit/core/error.h"
#include "mudit/nn/checkpoint.h"

namespace mudit {

void DiTConfig::validate() const {
  MUDIT_CHECK(latent_dim > 0 && patch > 0 && depth > 0, ConfigError,
              "dit: latent_dim, patch and depth must be positive");
  MUDIT_CHECK(hidden_size > 0 && num_heads > 0 && hidden_size % num_heads == 0, ConfigError,
              "dit: hidden_size (", hidden_size, ") must be a positive multiple of num_heads (",
              num_heads, ")");
  MUDIT_CHECK(!rope || (hidden_size / num_heads) % 2 == 0, ConfigError,
              "dit: RoPE needs an even head size, got ", hidden_size / num_heads);
  MUDIT_CHECK(mlp_ratio > 0 && frequency_embedding_size >= 2 && max_period > 1, ConfigError,
              "dit: mlp_ratio, frequency_embedding_size and max_period must be positive");
  MUDIT_CHECK(max_frames > 0 && cond_dim > 0, ConfigError,
              "dit: max_frames and cond_dim must be positive");
  MUDIT_CHECK(!lyrics || (lyric_vocab > 1 && lyric_max_tokens > 0), ConfigError,
              "dit: lyric_vocab must be > 1 and lyric_max_tokens positive");
  MUDIT_CHECK(dropout >= 0 && dropout < 1, ConfigError, "dit: dropout must be in [0, 1)");
  MUDIT_CHECK(plan_slots >= 0 && plan_slots <= 256, ConfigError,
              "dit: plan_slots must be in [0, 256] (0: no musical plan), got ", plan_slots);
}

DiTConfig DiTConfig::seed() {
  DiTConfig c;
  c.latent_dim = 512;  // the mel VAE's latents at 24000 / 256 / 16 = 5.86 frames/s
  return c;
}

DiTConfig DiTConfig::tiny() {
  DiTConfig c;
  c.latent_dim = 32;  // the tiny wave VAE's
  c.hidden_size = 128;
  c.depth = 2;
  c.num_heads = 4;
  c.max_frames = 512;
  c.frequency_embedding_size = 64;
  c.cond_dim = 128;
  c.lyric_max_tokens = 256;
  return c;
}

at::Tensor timestep_embedding(const at::Tensor& t, int64_t dim, double max_period) {
  const int64_t half = dim / 2;
  const auto f32 = t.options().dtype(at::kFloat);
  const at::Tensor freqs = at::exp(-std::log(max_period) * at::arange(0, half, f32) / half);
  const at::Tensor args = t.reshape({-1, 1}).to(at::kFloat) * freqs.unsqueeze(0);  // [B, half]
  at::Tensor emb = at::cat({at::cos(args), at::sin(args)}, -1);                    // [B, 2 half]
  if (dim % 2) emb = at::cat({emb, at::zeros_like(emb.narrow(1, 0, 1))}, -1);
  return emb;
}

namespace {

// [B, H] -> [B, 1, H] to broadcast over tokens; [B, N, H] stays.
at::Tensor per_token(const at::Tensor& v) {
  return v.dim() == 2 ? v.unsqueeze(1) : v;
}

torch::nn::LayerNorm plain_norm(int64_t hidden, bool affine) {
  return torch::nn::LayerNorm(
      torch::nn::LayerNormOptions({hidden}).eps(1e-6).elementwise_affine(affine));
}

}  // namespace

at::Tensor modulate(const at::Tensor& x, const at::Tensor& shift, const at::Tensor& scale) {
  return x * (1 + per_token(scale)) + per_token(shift);
}

at::Tensor apply_rope(const at::Tensor& x, double theta) {
  const int64_t n = x.size(-2), d = x.size(-1), half = d / 2;
  // Angles in float32 at least (bf16 / fp16 states), float64 for float64 states.
  const auto f32 = x.options().dtype(x.scalar_type() == at::kDouble ? at::kDouble : at::kFloat);
  const at::Tensor inv = at::pow(theta, -at::arange(0, half, f32) * 2.0 / d);      // [half]
  const at::Tensor ang = at::arange(0, n, f32).unsqueeze(1) * inv.unsqueeze(0);    // [N, half]
  const at::Tensor cos = at::cat({ang.cos(), ang.cos()}, -1).to(x.scalar_type());  // [N, d]
  const at::Tensor sin = at::cat({ang.sin(), ang.sin()}, -1).to(x.scalar_type());
  const at::Tensor x1 = x.narrow(-1, 0, half), x2 = x.narrow(-1, half, half);
  return x * cos + at::cat({-x2, x1}, -1) * sin;
}

TimestepEmbedderImpl::TimestepEmbedderImpl(int64_t hidden, int64_t frequency_size,
                                           double max_period)
    : frequency_size_(frequency_size), max_period_(max_period) {
  mlp_ = register_module(
      "mlp", torch::nn::Sequential(torch::nn::Linear(frequency_size, hidden), torch::nn::SiLU(),
                                   torch::nn::Linear(hidden, hidden)));
}

at::Tensor TimestepEmbedderImpl::forward(const at::Tensor& t) {
  const at::Tensor freq = timestep_embedding(t, frequency_size_, max_period_);  // [B, F]
  return mlp_->forward(freq.to(mlp_->parameters()[0].scalar_type()));
}

SelfAttentionImpl::SelfAttentionImpl(int64_t hidden, int64_t heads, bool rope, double rope_theta,
                                     double dropout)
    : heads_(heads), rope_(rope), theta_(rope_theta), dropout_(dropout) {
  qkv_ = register_module("qkv", torch::nn::Linear(hidden, 3 * hidden));
  proj_ = register_module("proj", torch::nn::Linear(hidden, hidden));
}

at::Tensor SelfAttentionImpl::forward(const at::Tensor& x, const at::Tensor& mask) {
  const int64_t b = x.size(0), n = x.size(1), h = x.size(2);
  const at::Tensor qkv =
      qkv_->forward(x).reshape({b, n, 3, heads_, h / heads_}).permute({2, 0, 3, 1, 4});
  at::Tensor q = qkv[0], k = qkv[1];  // [B, heads, N, d]
  const at::Tensor v = qkv[2];
  if (rope_) {
    q = apply_rope(q, theta_);
    k = apply_rope(k, theta_);
  }
  const std::optional<at::Tensor> m =
      mask.defined() ? std::optional<at::Tensor>(mask.reshape({b, 1, 1, n})) : std::nullopt;
  const at::Tensor o = at::scaled_dot_product_attention(q, k, v, m, is_training() ? dropout_ : 0.0);
  return proj_->forward(o.transpose(1, 2).reshape({b, n, h}));  // [B, N, H]
}

CrossAttentionImpl::CrossAttentionImpl(int64_t hidden, int64_t heads, double dropout)
    : heads_(heads), dropout_(dropout) {
  q_ = register_module("q", torch::nn::Linear(hidden, hidden));
  kv_ = register_module("kv", torch::nn::Linear(hidden, 2 * hidden));
  proj_ = register_module("proj", torch::nn::Linear(hidden, hidden));
}

at::Tensor CrossAttentionImpl::forward(const at::Tensor& x, const at::Tensor& context,
                                       const at::Tensor& context_mask) {
  const int64_t b = x.size(0), n = x.size(1), h = x.size(2), l = context.size(1);
  const int64_t d = h / heads_;
  const at::Tensor q = q_->forward(x).reshape({b, n, heads_, d}).transpose(1, 2);  // [B, h, N, d]
  const at::Tensor kv =
      kv_->forward(context).reshape({b, l, 2, heads_, d}).permute({2, 0, 3, 1, 4});
  const std::optional<at::Tensor> m =
      context_mask.defined() ? std::optional<at::Tensor>(context_mask.reshape({b, 1, 1, l}))
                             : std::nullopt;
  const at::Tensor o =
      at::scaled_dot_product_attention(q, kv[0], kv[1], m, is_training() ? dropout_ : 0.0);
  return proj_->forward(o.transpose(1, 2).reshape({b, n, h}));
}

MlpImpl::MlpImpl(int64_t hidden, int64_t inner, double dropout) : dropout_(dropout) {
  fc1_ = register_module("fc1", torch::nn::Linear(hidden, inner));
  fc2_ = register_module("fc2", torch::nn::Linear(inner, hidden));
}

at::Tensor MlpImpl::forward(const at::Tensor& x) {
  at::Tensor y = at::gelu(fc1_->forward(x), "tanh");
  if (is_training() && dropout_ > 0) y = at::dropout(y, dropout_, true);
  return fc2_->forward(y);
}

DiTBlockImpl::DiTBlockImpl(const DiTConfig& c, bool cross_attention) {
  const int64_t h = c.hidden_size;
  norm1_ = register_module("norm1", plain_norm(h, false));
  attn_ = register_module("attn", SelfAttention(h, c.num_heads, c.rope, c.rope_theta, c.dropout));
  if (cross_attention) {
    norm_cross_ = register_module("norm_cross", plain_norm(h, true));
    cross_attn_ = register_module("cross_attn", CrossAttention(h, c.num_heads, c.dropout));
  }
  norm2_ = register_module("norm2", plain_norm(h, false));
  mlp_ = register_module("mlp", Mlp(h, c.mlp_hidden(), c.dropout));
  adaLN_modulation_ = register_module(
      "adaLN_modulation", torch::nn::Sequential(torch::nn::SiLU(), torch::nn::Linear(h, 6 * h)));
}

at::Tensor DiTBlockImpl::forward(const at::Tensor& x, const at::Tensor& c, const at::Tensor& mask,
                                 const at::Tensor& context, const at::Tensor& context_mask) {
  const auto m = adaLN_modulation_->forward(c).chunk(6, -1);
  // shift_msa, scale_msa, gate_msa, shift_mlp, scale_mlp, gate_mlp
  at::Tensor y =
      x + per_token(m[2]) * attn_->forward(modulate(norm1_->forward(x), m[0], m[1]), mask);
  if (cross_attn_ && context.defined())
    y = y + cross_attn_->forward(norm_cross_->forward(y), context, context_mask);
  return y + per_token(m[5]) * mlp_->forward(modulate(norm2_->forward(y), m[3], m[4]));
}

FinalLayerImpl::FinalLayerImpl(int64_t hidden, int64_t out) {
  norm_final_ = register_module("norm_final", plain_norm(hidden, false));
  linear_ = register_module("linear", torch::nn::Linear(hidden, out));
  adaLN_modulation_ = register_module(
      "adaLN_modulation",
      torch::nn::Sequential(torch::nn::SiLU(), torch::nn::Linear(hidden, 2 * hidden)));
}

at::Tensor FinalLayerImpl::forward(const at::Tensor& x, const at::Tensor& c) {
  const auto m = adaLN_modulation_->forward(c).chunk(2, -1);  // shift, scale
  return linear_->forward(modulate(norm_final_->forward(x), m[0], m[1]));
}

DiTImpl::DiTImpl(DiTConfig config) : config_(std::move(config)) {
  config_.validate();
  const DiTConfig& c = config_;
  const int64_t h = c.hidden_size;
  const int64_t in = c.patch * (c.in_context ? 2 * c.latent_dim + 1 : c.latent_dim);
  x_embedder_ = register_module("x_embedder", torch::nn::Linear(in, h));
  t_embedder_ =
      register_module("t_embedder", TimestepEmbedder(h, c.frequency_embedding_size, c.max_period));
  cond_embedder_ = register_module("cond_embedder", torch::nn::Linear(c.cond_dim, h));
  null_cond_ = register_parameter("null_cond", at::zeros({h}));
  if (c.plan_slots > 0) {
    plan_embedder_ = register_module("plan_embedder", torch::nn::Linear(c.patch * c.plan_dim(), h));
    plan_cond_ = register_module("plan_cond",
                                 torch::nn::Sequential(torch::nn::Linear(c.patch * c.plan_dim(), h),
                                                       torch::nn::SiLU(), torch::nn::Linear(h, h)));
  }
  if (c.lyrics) {
    lyric_embedder_ = register_module(
        "lyric_embedder",
        torch::nn::Embedding(torch::nn::EmbeddingOptions(c.lyric_vocab, h).padding_idx(0)));
    lyric_pos_ = register_parameter("lyric_pos", at::zeros({c.lyric_max_tokens, h}));
    null_lyrics_ = register_parameter("null_lyrics", at::zeros({h}));
  }
  blocks_ = register_module("blocks", torch::nn::ModuleList());
  for (int64_t i = 0; i < c.depth; ++i) blocks_->push_back(DiTBlock(c, c.lyrics));
  final_layer_ = register_module("final_layer", FinalLayer(h, c.patch * c.latent_dim));
  initialize_weights();
}

void DiTImpl::initialize_weights() {
  torch::NoGradGuard no_grad;
  for (auto& m : modules(/*include_self=*/false)) {
    if (auto* lin = m->as<torch::nn::Linear>()) {
      torch::nn::init::xavier_uniform_(lin->weight);
      if (lin->bias.defined()) lin->bias.zero_();
    }
  }
  for (auto& p : t_embedder_->named_parameters()) {
    if (p.key().find("weight") != std::string::npos) p.value().normal_(0, 0.02);
  }
  null_cond_.normal_(0, 0.02);
  if (config_.lyrics) {
    lyric_embedder_->weight.normal_(0, 0.02);
    lyric_embedder_->weight[0].zero_();  // padding
    lyric_pos_.normal_(0, 0.02);
    null_lyrics_.normal_(0, 0.02);
  }
  // adaLN-Zero: every block starts as the identity, the output at zero. The plan's
  // projections start at zero too: a plan changes nothing until the model learns to use it.
  for (auto& p : named_parameters()) {
    if (p.key().find("adaLN_modulation.1.") != std::string::npos ||
        p.key().rfind("final_layer.linear.", 0) == 0 || p.key().rfind("plan_embedder.", 0) == 0 ||
        p.key().rfind("plan_cond.2.", 0) == 0)
      p.value().zero_();
  }
}

at::Tensor DiTImpl::forward(const DiTInputs& in) {
  const DiTConfig& c = config_;
  MUDIT_CHECK(in.x.dim() == 3 && in.x.size(2) == c.latent_dim, ShapeError, "dit: x must be [B, T, ",
              c.latent_dim, "], got ", in.x.sizes());
  const int64_t b = in.x.size(0), t = in.x.size(1), p = c.patch;
  MUDIT_CHECK(t > 0 && t <= c.max_frames, ShapeError, "dit: ", t, " frames; the model takes 1..",
              c.max_frames);
  MUDIT_CHECK(in.t.numel() == b, ShapeError, "dit: ", in.t.numel(), " timesteps for ", b, " songs");
  const auto opts = in.x.options();
  const at::Tensor frames = in.frame_mask.defined() ? in.frame_mask.to(at::kBool)
                                                    : at::ones({b, t}, opts.dtype(at::kBool));
  // Input channels: x_t and, in context, the known latents and their mask.
  at::Tensor x = in.x;
  if (c.in_context) {
    const at::Tensor km = in.known_mask.defined() ? in.known_mask.to(opts.dtype())
                                                  : at::zeros({b, t}, opts);  // [B, T]
    const at::Tensor known = in.known.defined() ? in.known * km.unsqueeze(-1) : at::zeros_like(x);
    x = at::cat({x, known, km.unsqueeze(-1)}, -1);  // [B, T, 2C + 1]
  }
  // Patches: pad to a whole number of tokens (padding is masked).
  const int64_t n = (t + p - 1) / p, pad = n * p - t;
  at::Tensor fm = frames;
  if (pad > 0) {
    x = at::constant_pad_nd(x, {0, 0, 0, pad});
    fm = at::constant_pad_nd(frames.to(at::kByte), {0, pad}).to(at::kBool);
  }
  const at::Tensor token_mask = fm.reshape({b, n, p}).any(-1);             // [B, N]
  at::Tensor h = x_embedder_->forward(x.reshape({b, n, p * x.size(-1)}));  // [B, N, H]

  // Conditioning vector: timestep + ChinMu condition (or its learned null).
  at::Tensor cond;
  const at::Tensor t_emb = t_embedder_->forward(in.t);  // [B, H]
  if (in.cond.defined()) {
    MUDIT_CHECK(in.cond.size(0) == b && in.cond.size(-1) == c.cond_dim &&
                    (in.cond.dim() == 2 || in.cond.dim() == 3),
                ShapeError, "dit: cond must be [B, ", c.cond_dim, "] or [B, F, ", c.cond_dim,
                "], got ", in.cond.sizes());
    cond = cond_embedder_->forward(in.cond.to(opts.dtype()));  // [B, H] or [B, F, H]
    if (cond.dim() == 3 && cond.size(1) != n) {  // per-frame: resampled onto the tokens
      cond = at::upsample_linear1d(cond.transpose(1, 2), {n}, /*align_corners=*/false)
                 .transpose(1, 2);  // [B, N, H]
    }
  } else {
    cond = null_cond_.expand({b, c.hidden_size});
  }
  if (in.cond_keep.defined()) {
    const at::Tensor keep = in.cond_keep.to(at::kBool).reshape(
        cond.dim() == 3 ? std::vector<int64_t>{b, 1, 1} : std::vector<int64_t>{b, 1});
    cond = at::where(keep, cond, null_cond_.to(cond.scalar_type()));
  }
  at::Tensor cvec = cond.dim() == 3 ? t_emb.unsqueeze(1) + cond : t_emb + cond;

  // The musical plan, per token: at the input and in the adaLN condition. An absent or dropped
  // plan is all zeros (what the projections' biases alone make of it).
  if (c.plan_slots > 0) {
    const int64_t pd = c.plan_dim();
    at::Tensor plan = in.plan.defined() ? in.plan.to(opts.dtype()) : at::zeros({b, t, pd}, opts);
    MUDIT_CHECK(plan.dim() == 3 && plan.size(0) == b && plan.size(1) == t && plan.size(2) == pd,
                ShapeError, "dit: plan must be [B, T, P] = [", b, ", ", t, ", ", pd, "], got ",
                plan.sizes());
    if (in.plan_keep.defined()) plan = plan * in.plan_keep.to(opts.dtype()).reshape({b, 1, 1});
    if (pad > 0) plan = at::constant_pad_nd(plan, {0, 0, 0, pad});
    plan = plan.reshape({b, n, p * pd});                                              // [B, N, pP]
    h = h + plan_embedder_->forward(plan);                                            // [B, N, H]
    cvec = (cvec.dim() == 3 ? cvec : cvec.unsqueeze(1)) + plan_cond_->forward(plan);  // [B, N, H]
  }

  // Lyrics: phoneme embeddings + positions after a learned null token, which alone is attended
  // by songs without lyrics or with the lyrics dropped.
  at::Tensor context, context_mask;
  if (c.lyrics) {
    const at::Tensor ids =
        in.lyrics.defined() ? in.lyrics : at::zeros({b, 0}, opts.dtype(at::kLong));
    MUDIT_CHECK(ids.dim() == 2 && ids.size(0) == b && ids.size(1) <= c.lyric_max_tokens, ShapeError,
                "dit: lyrics must be [B, L] with L <= ", c.lyric_max_tokens, ", got ", ids.sizes());
    MUDIT_CHECK(ids.numel() == 0 ||
                    (ids.min().item<int64_t>() >= 0 && ids.max().item<int64_t>() < c.lyric_vocab),
                ShapeError, "dit: lyric ids outside 0..", c.lyric_vocab - 1);
    const int64_t l = ids.size(1);
    at::Tensor real = in.lyric_mask.defined() ? in.lyric_mask.to(at::kBool) : ids.ne(0);  // [B, L]
    at::Tensor none = real.any(1).logical_not();                                          // [B]
    if (in.lyrics_keep.defined()) none = none | in.lyrics_keep.to(at::kBool).logical_not();
    real = real & none.logical_not().unsqueeze(1);
    const at::Tensor tokens =
        lyric_embedder_->forward(ids) + lyric_pos_.narrow(0, 0, l).unsqueeze(0);  // [B, L, H]
    context = at::cat({null_lyrics_.to(tokens.scalar_type()).expand({b, 1, c.hidden_size}), tokens},
                      1);                                  // [B, L + 1, H]
    context_mask = at::cat({none.unsqueeze(1), real}, 1);  // [B, L + 1]
  }

  for (const auto& blk : *blocks_) {
    auto block = std::dynamic_pointer_cast<DiTBlockImpl>(blk);
    if (checkpointing_ && is_training()) {
      DiTBlock held(block);
      const at::Tensor tm = token_mask, cm = context_mask;
      const bool has_context = context.defined();
      std::vector<at::Tensor> args = {h, cvec};
      if (has_context) args.push_back(context);
      h = nn::checkpoint(
          [held, tm, cm, has_context](const std::vector<at::Tensor>& a) mutable {
            return std::vector<at::Tensor>{
                held->forward(a[0], a[1], tm, has_context ? a[2] : at::Tensor(), cm)};
          },
          args)[0];
    } else {
      h = block->forward(h, cvec, token_mask, context, context_mask);
    }
  }
  at::Tensor out = final_layer_->forward(h, cvec);  // [B, N, p C]
  out = out.reshape({b, n * p, c.latent_dim}).narrow(1, 0, t);
  return out * frames.unsqueeze(-1).to(out.scalar_type());
}

static_assert(sizeof(DiTInputs) == (2 + DiTInputs::kSongFields) * sizeof(at::Tensor),
              "a DiTInputs field was added: list it in for_each_song_field (and kSongFields)");

diffusion::BranchedModel branched(DiT model, DiTInputs base) {
  return [model, base](const at::Tensor& x, const at::Tensor& t,
                       const std::vector<diffusion::Branch>& branches) mutable {
    const int64_t k = static_cast<int64_t>(branches.size());
    const int64_t b = x.size(0) / k;
    auto rep = [k](const at::Tensor& v) {
      if (!v.defined() || k == 1) return v;
      std::vector<int64_t> r(static_cast<size_t>(v.dim()), 1);
      r[0] = k;
      return v.repeat(r);
    };
    const auto bool_opts = x.options().dtype(at::kBool);
    // Each keep flag: the base's (or all kept) where the branch keeps the input, else false.
    auto keeps = [&](const at::Tensor& flag, auto on) {
      const at::Tensor kept = flag.defined() ? flag.to(at::kBool) : at::ones({b}, bool_opts);
      std::vector<at::Tensor> out;
      for (auto br : branches) out.push_back(on(br) ? kept : at::zeros({b}, bool_opts));
      return at::cat(out);
    };
    using diffusion::Branch;
    const at::Tensor cond_keep =
        keeps(base.cond_keep, [](Branch br) { return br == Branch::kFull; });
    const at::Tensor lyrics_keep =
        keeps(base.lyrics_keep, [](Branch br) { return br != Branch::kUnconditional; });
    const at::Tensor plan_keep = keeps(
        base.plan_keep, [](Branch br) { return br == Branch::kFull || br == Branch::kLyricsPlan; });
    DiTInputs in = base;
    in.for_each_song_field([&](at::Tensor& f) { f = rep(f); });
    in.x = x;
    in.t = t;
    in.cond_keep = cond_keep;
    in.lyrics_keep = lyrics_keep;
    in.plan_keep = plan_keep;
    return model->forward(in);
  };
}

}  // namespace mudit
