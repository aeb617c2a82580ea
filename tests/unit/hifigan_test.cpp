// Weight-/spectral-normalised convolutions and the HiFi-GAN modules: names, shapes, folding,
// power iteration, batch consistency, gradients and loss values.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <string>

#include "mudit/core/error.h"
#include "mudit/core/state_dict.h"
#include "mudit/models/hifigan.h"
#include "mudit/nn/conv.h"

namespace mudit {
namespace {

TEST(NormConv, WeightNormNamesAndShapes) {
  nn::Conv1d conv(nn::ConvOptions(4, 6, {3}));
  auto sd = state_dict(*conv);
  EXPECT_EQ(sd.at("weight_g").sizes(), (at::IntArrayRef{6, 1, 1}));
  EXPECT_EQ(sd.at("weight_v").sizes(), (at::IntArrayRef{6, 4, 3}));
  EXPECT_EQ(sd.count("weight"), 0u);
  // Transposed: weight [in, out, k], so weight_g is per input channel.
  nn::ConvTranspose1d up(nn::ConvOptions(4, 6, {3}));
  sd = state_dict(*up);
  EXPECT_EQ(sd.at("weight_g").sizes(), (at::IntArrayRef{4, 1, 1}));
  EXPECT_EQ(sd.at("weight_v").sizes(), (at::IntArrayRef{4, 6, 3}));
  nn::Conv2d c2(nn::ConvOptions(2, 5, {5, 1}).with_norm(nn::WeightNorm::kNone));
  EXPECT_EQ(state_dict(*c2).at("weight").sizes(), (at::IntArrayRef{5, 2, 5, 1}));
}

TEST(NormConv, FreshWeightNormKeepsTheInitialWeight) {
  nn::ConvTranspose1d up(nn::ConvOptions(4, 6, {3}));
  EXPECT_TRUE(
      torch::allclose(up->effective_weight(), up->named_parameters()["weight_v"], 1e-6, 1e-6));
}

TEST(NormConv, RemoveWeightNormKeepsOutput) {
  torch::manual_seed(3);
  nn::ConvTranspose1d up(nn::ConvOptions(4, 6, {4}).with_stride({2}).with_padding({1}));
  {
    torch::NoGradGuard no_grad;
    up->named_parameters()["weight_g"].mul_(1.7);
  }
  const torch::Tensor x = torch::randn({2, 4, 9});
  const torch::Tensor before = up(x);  // [2, 6, 18]
  EXPECT_EQ(before.sizes(), (at::IntArrayRef{2, 6, 18}));
  up->remove_weight_norm();
  const auto sd = state_dict(*up);
  EXPECT_EQ(sd.count("weight_g") + sd.count("weight_v"), 0u);
  EXPECT_EQ(sd.count("weight"), 1u);
  EXPECT_TRUE(torch::allclose(up(x), before, 1e-6, 1e-6));
}

TEST(NormConv, SpectralNormEvalUsesStoredVectorsTrainIterates) {
  torch::manual_seed(4);
  nn::Conv1d conv(nn::ConvOptions(3, 8, {5}).with_norm(nn::WeightNorm::kSpectral));
  auto sd = state_dict(*conv);
  ASSERT_EQ(sd.count("weight_orig"), 1u);
  EXPECT_EQ(sd.at("weight_u").sizes(), (at::IntArrayRef{8}));
  EXPECT_EQ(sd.at("weight_v").sizes(), (at::IntArrayRef{15}));
  const torch::Tensor x = torch::randn({1, 3, 20});
  conv->eval();
  const torch::Tensor u0 = sd.at("weight_u").clone();
  conv(x);
  EXPECT_TRUE(torch::equal(sd.at("weight_u"), u0));
  conv->train();
  for (int i = 0; i < 100; ++i) conv(x);
  EXPECT_FALSE(torch::equal(sd.at("weight_u"), u0));
  // After convergence sigma is the largest singular value: the effective weight has norm 1.
  const torch::Tensor w = conv->effective_weight().reshape({8, -1});
  EXPECT_NEAR(torch::linalg_svdvals(w.detach())[0].item<double>(), 1.0, 1e-4);
}

TEST(NormConv, RejectsBadOptions) {
  EXPECT_THROW(nn::Conv1d(nn::ConvOptions(3, 8, {5}).with_groups(2)), ConfigError);
  EXPECT_THROW(nn::Conv2d(nn::ConvOptions(2, 4, {1, 2, 3})), ConfigError);
}

TEST(HifiganConfig, PresetsValidateAndHop) {
  EXPECT_EQ(HifiganConfig::v1().hop_length(), 256);
  EXPECT_EQ(HifiganConfig::v2().hop_length(), 256);
  EXPECT_EQ(HifiganConfig::v3().hop_length(), 256);
  EXPECT_EQ(HifiganConfig::v1_large().hop_length(), 256);
  for (const auto& c : {HifiganConfig::v1(), HifiganConfig::v2(), HifiganConfig::v3(),
                        HifiganConfig::v1_large(), HifiganConfig::tiny()}) {
    EXPECT_NO_THROW(c.validate());
  }
  HifiganConfig bad;
  bad.resblock = "3";
  EXPECT_THROW(bad.validate(), ConfigError);
  bad = HifiganConfig::v1();
  bad.upsample_kernel_sizes = {16, 16, 4};
  EXPECT_THROW(bad.validate(), ConfigError);
  bad = HifiganConfig::v1();
  bad.resblock_dilation_sizes.pop_back();
  EXPECT_THROW(bad.validate(), ConfigError);
}

TEST(HifiganGenerator, OfficialNames) {
  HifiganGenerator v1(HifiganConfig::tiny());
  const auto sd = state_dict(*v1);
  for (const char* key :
       {"conv_pre.weight_g", "conv_pre.bias", "ups.3.weight_v", "resblocks.11.convs1.2.weight_g",
        "resblocks.0.convs2.0.bias", "conv_post.weight_v"}) {
    EXPECT_EQ(sd.count(key), 1u) << key;
  }
  EXPECT_EQ(sd.size(), 234u);  // the official tiny state dict
  HifiganConfig c3 = HifiganConfig::v3();
  c3.upsample_initial_channel = 32;
  const auto sd3 = state_dict(*HifiganGenerator(c3));
  EXPECT_EQ(sd3.count("resblocks.8.convs.1.weight_v"), 1u);
  EXPECT_EQ(sd3.size(), 69u);
}

TEST(HifiganGenerator, ShapesBatchConsistencyAndGradients) {
  torch::manual_seed(5);
  HifiganGenerator gen(HifiganConfig::tiny());
  gen->eval();
  const torch::Tensor mel = torch::randn({3, 80, 4});
  const torch::Tensor audio = gen(mel);  // [3, 1, 1024]
  EXPECT_EQ(audio.sizes(), (at::IntArrayRef{3, 1, 4 * 256}));
  EXPECT_LE(audio.abs().max().item<double>(), 1.0);
  EXPECT_TRUE(torch::allclose(gen(mel.slice(0, 1, 2)), audio.slice(0, 1, 2), 1e-5, 1e-6));
  audio.pow(2).mean().backward();
  for (const auto& p : gen->named_parameters()) {
    ASSERT_TRUE(p.value().grad().defined()) << p.key();
  }
  EXPECT_GT(gen->named_parameters()["conv_pre.weight_g"].grad().abs().sum().item<double>(), 0.0);
  EXPECT_THROW(gen(torch::randn({1, 40, 4})), ShapeError);
}

TEST(HifiganDiscriminators, NamesAndShapes) {
  HifiganMSD msd;
  const auto sd = state_dict(*msd);
  EXPECT_EQ(sd.count("discriminators.0.convs.0.weight_orig"), 1u);
  EXPECT_EQ(sd.count("discriminators.0.convs.0.weight_u"), 1u);
  EXPECT_EQ(sd.at("discriminators.0.conv_post.weight_v").sizes(), (at::IntArrayRef{3072}));
  EXPECT_EQ(sd.count("discriminators.1.convs.6.weight_g"), 1u);
  HifiganMPD mpd;
  EXPECT_EQ(state_dict(*mpd).at("discriminators.4.convs.4.weight_v").sizes(),
            (at::IntArrayRef{1024, 1024, 5, 1}));
  torch::NoGradGuard no_grad;
  mpd->eval();
  const torch::Tensor y = torch::randn({1, 1, 100});
  const auto out = mpd(y, y);
  ASSERT_EQ(out.y_d_rs.size(), 5u);
  EXPECT_EQ(out.fmap_rs[1].size(), 6u);
  EXPECT_EQ(out.fmap_rs[1][0].size(3), 3);  // period 3, 100 reflect-padded to 102
  EXPECT_EQ(out.fmap_rs[1][0].size(2), 12);
}

TEST(HifiganLosses, KnownValues) {
  const std::vector<torch::Tensor> ones{torch::ones({2, 3}), torch::ones({1, 5})};
  const std::vector<torch::Tensor> zeros{torch::zeros({2, 3}), torch::zeros({1, 5})};
  EXPECT_EQ(hifigan_generator_loss(ones).total.item<double>(), 0.0);
  EXPECT_EQ(hifigan_generator_loss(zeros).total.item<double>(), 2.0);
  EXPECT_EQ(hifigan_discriminator_loss(ones, zeros).total.item<double>(), 0.0);
  const auto d = hifigan_discriminator_loss(zeros, ones);
  EXPECT_EQ(d.total.item<double>(), 4.0);
  EXPECT_EQ(d.real[1].item<double>(), 1.0);
  const std::vector<std::vector<torch::Tensor>> r{{torch::full({4}, 0.5)}, {torch::zeros({2})}};
  const std::vector<std::vector<torch::Tensor>> g{{torch::zeros({4})}, {torch::ones({2})}};
  EXPECT_DOUBLE_EQ(hifigan_feature_loss(r, g).item<double>(), 3.0);  // 2 * (0.5 + 1)
}

}  // namespace
}  // namespace mudit
