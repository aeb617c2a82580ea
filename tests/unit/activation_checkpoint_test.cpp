#include <gtest/gtest.h>
#include <torch/nn/functional/activation.h>
#include <torch/nn/functional/dropout.h>
#include <torch/nn/module.h>
#include <torch/nn/modules/linear.h>
#include <torch/types.h>

#include "mudit/nn/checkpoint.h"
#include "mudit/train/amp.h"

namespace mudit::nn {
namespace {

namespace F = torch::nn::functional;

// Linear → GELU → Linear → dropout with a residual: a transformer MLP block.
struct BlockImpl : torch::nn::Module {
  explicit BlockImpl(double p) : p(p) {
    fc1 = register_module("fc1", torch::nn::Linear(8, 32));
    fc2 = register_module("fc2", torch::nn::Linear(32, 8));
  }
  at::Tensor forward(const at::Tensor& x) {
    auto h = F::gelu(fc1(x));                                                      // [B, T, 32]
    h = F::dropout(fc2(h), F::DropoutFuncOptions().p(p).training(is_training()));  // [B, T, 8]
    return x + h;
  }
  double p;
  torch::nn::Linear fc1{nullptr}, fc2{nullptr};
};
TORCH_MODULE(Block);

struct Grads {
  at::Tensor input, out;
  std::map<std::string, at::Tensor> params;
};

// Two blocks on a fixed input; both seeds fixed so dropout draws the same masks either way.
Grads run(double p, bool use_checkpoint) {
  torch::manual_seed(7);
  Block a(p), b(p);
  auto x = torch::randn({2, 5, 8}, torch::requires_grad());  // [B, T, C]
  torch::manual_seed(11);
  at::Tensor y;
  if (use_checkpoint) {
    y = checkpoint([a](const at::Tensor& in) mutable { return a->forward(in); }, x);
    y = checkpoint([b](const at::Tensor& in) mutable { return b->forward(in); }, y);
  } else {
    y = b->forward(a->forward(x));
  }
  const auto draw_after = torch::rand({1});  // the recompute must not shift the RNG stream
  (y * y).sum().backward();
  Grads g;
  g.input = x.grad();
  g.out = torch::cat({y.detach().flatten(), draw_after});
  for (const auto& item : a->named_parameters()) g.params["a." + item.key()] = item.value().grad();
  for (const auto& item : b->named_parameters()) g.params["b." + item.key()] = item.value().grad();
  return g;
}

void expect_identical(const Grads& direct, const Grads& ckpt) {
  ASSERT_TRUE(direct.input.defined());
  ASSERT_TRUE(ckpt.input.defined());
  EXPECT_TRUE(torch::equal(direct.out, ckpt.out));
  EXPECT_TRUE(torch::equal(direct.input, ckpt.input));
  ASSERT_EQ(direct.params.size(), ckpt.params.size());
  for (const auto& [name, g] : direct.params) {
    ASSERT_TRUE(ckpt.params.at(name).defined()) << name;
    EXPECT_TRUE(torch::equal(g, ckpt.params.at(name))) << name;
  }
}

TEST(ActivationCheckpoint, IdenticalGradientsWithoutDropout) {
  expect_identical(run(0.0, false), run(0.0, true));
}

TEST(ActivationCheckpoint, IdenticalGradientsWithDropout) {
  const Grads direct = run(0.3, false);
  expect_identical(direct, run(0.3, true));
  // Dropout really was active: another seed gives other gradients.
  EXPECT_FALSE(torch::equal(direct.input, run(0.0, false).input));
}

TEST(ActivationCheckpoint, KeepsNoActivations) {
  Block block(0.0);
  auto x = torch::randn({2, 8}, torch::requires_grad());
  auto y = checkpoint([block](const at::Tensor& in) mutable { return block->forward(in); }, x);
  ASSERT_TRUE(y.requires_grad());
  // The output's node is the checkpoint function itself, whose only edge leads to x.
  const auto& fn = y.grad_fn();
  ASSERT_NE(fn, nullptr);
  EXPECT_NE(fn->name().find("CheckpointFunction"), std::string::npos) << fn->name();
  EXPECT_EQ(fn->num_inputs(), 1u);
}

TEST(ActivationCheckpoint, SeveralInputsAndOutputs) {
  torch::manual_seed(3);
  auto w = torch::randn({4, 4}, torch::requires_grad());
  auto block = [w](const std::vector<at::Tensor>& in) {
    return std::vector<at::Tensor>{torch::tanh(in[0].matmul(w)) * in[1],  // [N, 4]
                                   in[0].sum() * 2,                       // []
                                   in[2] + 1};                            // no grad
  };
  auto run_block = [&](bool ckpt) {
    torch::manual_seed(4);
    auto a = torch::randn({3, 4}, torch::requires_grad());
    auto b = torch::randn({3, 4}, torch::requires_grad());
    auto c = torch::arange(3);
    w.mutable_grad() = at::Tensor();
    auto out = ckpt ? checkpoint(block, {a, b, c}) : block({a, b, c});
    EXPECT_FALSE(out[2].requires_grad());
    (out[0].pow(2).sum() + out[1]).backward();
    return std::vector<at::Tensor>{a.grad(), b.grad(), w.grad()};
  };
  const auto direct = run_block(false);
  const auto ckpt = run_block(true);
  for (size_t i = 0; i < direct.size(); ++i) EXPECT_TRUE(torch::equal(direct[i], ckpt[i])) << i;
}

TEST(ActivationCheckpoint, PassThroughWithoutGrad) {
  Block block(0.0);
  auto x = torch::randn({2, 8});
  auto y = checkpoint([block](const at::Tensor& in) mutable { return block->forward(in); }, x);
  EXPECT_TRUE(y.requires_grad());  // parameters still require grad: an ordinary forward
  EXPECT_EQ(y.grad_fn()->name().find("CheckpointFunction"), std::string::npos);
  torch::NoGradGuard no_grad;
  auto z = checkpoint([block](const at::Tensor& in) mutable { return block->forward(in); },
                      x.requires_grad_(true));
  EXPECT_FALSE(z.requires_grad());
}

// The recompute runs under the forward's autocast state even though backward runs outside it.
TEST(ActivationCheckpoint, RecomputesUnderTheForwardsAutocast) {
  auto run_amp = [](bool ckpt) {
    torch::manual_seed(5);
    Block block(0.0);
    auto x = torch::randn({4, 8}, torch::requires_grad());
    at::Tensor y;
    {
      train::AmpConfig amp;
      amp.dtype = "bf16";
      train::AutocastGuard guard(c10::kCPU, amp);
      y = ckpt ? checkpoint([block](const at::Tensor& in) mutable { return block->forward(in); }, x)
               : block->forward(x);
    }
    y.to(torch::kFloat).pow(2).sum().backward();
    return std::vector<at::Tensor>{x.grad(), block->fc1->weight.grad()};
  };
  const auto direct = run_amp(false);
  const auto ckpt = run_amp(true);
  EXPECT_TRUE(torch::equal(direct[0], ckpt[0]));
  EXPECT_TRUE(torch::equal(direct[1], ckpt[1]));
}

}  // namespace
}  // namespace mudit::nn
