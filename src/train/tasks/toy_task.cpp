// The "toy" task: a small pre-LN transformer learns to reproduce a fixed random teacher on
// synthetic sequences. Its data is a pure function of (seed, step, global sample index), so
// 2 ranks with batch b, 1 rank with batch 2b, and 2 accumulation micro-steps of b all see the same
// samples — the property the engine's equivalence tests rely on.
#include <ATen/ops/scaled_dot_product_attention.h>
#include <torch/nn/functional/activation.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/dropout.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/normalization.h>

#include <ATen/Context.h>

#include "mudit/core/error.h"
#include "mudit/core/rng.h"
#include "mudit/nn/checkpoint.h"
#include "train/tasks/builtin.h"

namespace mudit::train {
namespace {

struct ToyModelConfig {
  int64_t in_dim = 8;
  int64_t dim = 64;
  int64_t depth = 2;
  int64_t heads = 4;
  int64_t seq_len = 16;
  double dropout = 0.0;

  template <class V>
  void visit(V& v) {
    v("in_dim", in_dim);
    v("dim", dim);
    v("depth", depth);
    v("heads", heads);
    v("seq_len", seq_len);
    v("dropout", dropout);
  }
  void validate() const {
    MUDIT_CHECK(in_dim > 0 && dim > 0 && depth > 0 && seq_len > 0, ConfigError,
                "in_dim, dim, depth and seq_len must be positive");
    MUDIT_CHECK(heads > 0 && dim % heads == 0, ConfigError, "dim (", dim,
                ") must be a multiple of heads (", heads, ")");
    MUDIT_CHECK(dropout >= 0 && dropout < 1, ConfigError, "dropout must be in [0, 1)");
  }
};

struct ToyDataConfig {
  uint64_t teacher_seed = 1234;
  double noise = 0.0;             // target noise std
  int64_t samples_per_epoch = 0;  // 0: an endless stream (no epochs)

  template <class V>
  void visit(V& v) {
    v("teacher_seed", teacher_seed);
    v("noise", noise);
    v("samples_per_epoch", samples_per_epoch);
  }
  void validate() const {
    MUDIT_CHECK(noise >= 0, ConfigError, "noise must be >= 0");
    MUDIT_CHECK(samples_per_epoch >= 0, ConfigError, "samples_per_epoch must be >= 0");
  }
};

struct BlockImpl : torch::nn::Module {
  BlockImpl(int64_t dim, int64_t heads, double dropout) : heads_(heads) {
    norm1 = register_module("norm1", torch::nn::LayerNorm(torch::nn::LayerNormOptions({dim})));
    qkv = register_module("qkv", torch::nn::Linear(dim, 3 * dim));
    proj = register_module("proj", torch::nn::Linear(dim, dim));
    norm2 = register_module("norm2", torch::nn::LayerNorm(torch::nn::LayerNormOptions({dim})));
    fc1 = register_module("fc1", torch::nn::Linear(dim, 4 * dim));
    fc2 = register_module("fc2", torch::nn::Linear(4 * dim, dim));
    drop = register_module("drop", torch::nn::Dropout(dropout));
  }

  at::Tensor forward(const at::Tensor& x) {
    const int64_t b = x.size(0), t = x.size(1), d = x.size(2);
    const auto qkv_out = qkv(norm1(x)).view({b, t, 3, heads_, d / heads_});  // [B, T, 3, H, Dh]
    const auto q = qkv_out.select(2, 0).transpose(1, 2);                     // [B, H, T, Dh]
    const auto k = qkv_out.select(2, 1).transpose(1, 2);
    const auto v = qkv_out.select(2, 2).transpose(1, 2);
    const auto attn = at::scaled_dot_product_attention(q, k, v);       // [B, H, T, Dh]
    auto h = x + drop(proj(attn.transpose(1, 2).reshape({b, t, d})));  // [B, T, D]
    return h + drop(fc2(torch::nn::functional::gelu(fc1(norm2(h)))));  // [B, T, D]
  }

  int64_t heads_;
  torch::nn::LayerNorm norm1{nullptr}, norm2{nullptr};
  torch::nn::Linear qkv{nullptr}, proj{nullptr}, fc1{nullptr}, fc2{nullptr};
  torch::nn::Dropout drop{nullptr};
};
TORCH_MODULE(Block);

struct ToyNetImpl : torch::nn::Module {
  explicit ToyNetImpl(const ToyModelConfig& c) {
    in_proj = register_module("in_proj", torch::nn::Linear(c.in_dim, c.dim));
    blocks = register_module("blocks", torch::nn::ModuleList());
    for (int64_t i = 0; i < c.depth; ++i) blocks->push_back(Block(c.dim, c.heads, c.dropout));
    norm = register_module("norm", torch::nn::LayerNorm(torch::nn::LayerNormOptions({c.dim})));
    out_proj = register_module("out_proj", torch::nn::Linear(c.dim, c.in_dim));
  }

  at::Tensor forward(const at::Tensor& x, bool checkpointing) {
    at::Tensor h = in_proj(x);  // [B, T, D]
    for (const auto& m : *blocks) {
      auto block = m->as<BlockImpl>();
      h = checkpointing
              ? mudit::nn::checkpoint([block](const at::Tensor& y) { return block->forward(y); }, h)
              : block->forward(h);
    }
    return out_proj(norm(h));  // [B, T, in_dim]
  }

  torch::nn::Linear in_proj{nullptr}, out_proj{nullptr};
  torch::nn::ModuleList blocks{nullptr};
  torch::nn::LayerNorm norm{nullptr};
};
TORCH_MODULE(ToyNet);

class ToyTask : public Task {
 public:
  explicit ToyTask(const TaskContext& ctx)
      : ctx_(ctx),
        model_cfg_(bind_config<ToyModelConfig>(ctx.model)),
        data_cfg_(bind_config<ToyDataConfig>(ctx.data)) {
    // The same initial weights on every rank and in every run with this seed.
    {
      torch::NoGradGuard no_grad;
      seed_everything(derive_seed(ctx.seed, 0, RngStream::kGlobal), /*rank=*/0);
      net_ = ToyNet(model_cfg_);
    }
    net_->to(ctx.device);
    auto teacher_gen = make_generator(data_cfg_.teacher_seed);
    const int64_t d = model_cfg_.in_dim;
    teacher_local_ =
        (at::randn({d, d}, teacher_gen) / std::sqrt(static_cast<double>(d))).to(ctx.device);
    teacher_global_ =
        (at::randn({d, d}, teacher_gen) / std::sqrt(static_cast<double>(d))).to(ctx.device);
  }

  std::vector<std::pair<std::string, std::shared_ptr<torch::nn::Module>>> modules() override {
    return {{"model", net_.ptr()}};
  }
  std::string arch() const override { return "toy"; }
  std::string model_config_yaml() const override { return dump_config(model_cfg_); }
  NamedParams parameters(int) override {
    NamedParams out;
    for (const auto& p : net_->named_parameters()) out.emplace_back(p.key(), p.value());
    return out;
  }

  int64_t steps_per_epoch(int64_t global_batch) const override {
    if (data_cfg_.samples_per_epoch == 0) return 0;
    return (data_cfg_.samples_per_epoch + global_batch - 1) / global_batch;
  }

  Batch batch(int64_t step, int64_t micro) override {
    const int64_t b = ctx_.batch_size, t = model_cfg_.seq_len, d = model_cfg_.in_dim;
    const uint64_t step_seed =
        derive_seed(ctx_.seed, static_cast<uint64_t>(step), RngStream::kData);
    std::vector<at::Tensor> xs;
    for (int64_t j = 0; j < b; ++j) {
      // Global sample index: ranks and micro-steps tile one global batch.
      const int64_t sample = (ctx_.rank * ctx_.grad_accum + micro) * b + j;
      auto gen = make_generator(derive_seed(step_seed, static_cast<uint64_t>(sample)));
      xs.push_back(at::randn({t, d}, gen));  // [T, d]
    }
    const at::Tensor x = at::stack(xs).to(ctx_.device);  // [B, T, d]
    at::Tensor y = at::tanh(at::matmul(x, teacher_local_) +
                            at::matmul(x.mean(1, /*keepdim=*/true), teacher_global_));  // [B, T, d]
    if (data_cfg_.noise > 0) y = y + data_cfg_.noise * at::randn_like(y);
    return {{"x", x}, {"y", y}};
  }

  std::map<std::string, at::Tensor> losses(const Batch& batch, int, int64_t) override {
    const at::Tensor pred = net_->forward(batch.at("x"), ctx_.activation_checkpointing);
    const at::Tensor mse = (pred.to(at::kFloat) - batch.at("y")).pow(2).mean();
    return {{"loss", mse}};
  }

  std::map<std::string, double> validate(int64_t) override {
    torch::NoGradGuard no_grad;
    const Batch b = batch(/*step=*/-1, 0);  // a fixed held-out batch
    return {{"mse", losses(b, 0, 0).at("loss").item<double>()}};
  }

 private:
  TaskContext ctx_;
  ToyModelConfig model_cfg_;
  ToyDataConfig data_cfg_;
  ToyNet net_{nullptr};
  at::Tensor teacher_local_, teacher_global_;
};

}  // namespace

std::unique_ptr<Task> make_toy_task(const TaskContext& context) {
  return std::make_unique<ToyTask>(context);
}

}  // namespace mudit::train
