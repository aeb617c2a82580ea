// The codec models (Snake, SEANet encoder/decoder, wave and mel VAEs, the codec interface),
// overlap-add chunking and the codec losses: shapes, known values, batch consistency, gradients,
// round trips.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>

#include "mudit/audio/overlap_add.h"
#include "mudit/core/error.h"
#include "mudit/core/state_dict.h"
#include "mudit/models/codec.h"
#include "mudit/models/hifigan.h"
#include "mudit/models/mel_vae.h"
#include "mudit/models/wave_vae.h"
#include "mudit/nn/activation.h"
#include "mudit/train/losses.h"

namespace mudit {
namespace {

int64_t parameter_count(const torch::nn::Module& m) {
  int64_t n = 0;
  for (const auto& p : m.parameters()) n += p.numel();
  return n;
}

// A few seconds of tones and noise: something with structure at every scale.
at::Tensor test_audio(int64_t channels, int64_t samples, int64_t seed = 0) {
  torch::manual_seed(seed);
  const at::Tensor t = at::arange(samples, at::kFloat) / 24000.0;
  std::vector<at::Tensor> rows;
  for (int64_t c = 0; c < channels; ++c) {
    rows.push_back(0.3 * at::sin(2 * M_PI * (220.0 + 110.0 * c) * t) +
                   0.2 * at::sin(2 * M_PI * 1375.0 * t) * at::sin(2 * M_PI * 3.0 * t) +
                   0.05 * at::randn({samples}));
  }
  return at::stack(rows);  // [C, T]
}

// --- activations ----------------------------------------------------------------------------

TEST(Snake, KnownValuesAndGradient) {
  nn::Snake snake(2);
  const at::Tensor x = torch::tensor({1.0f, -0.5f}).view({1, 2, 1});
  const at::Tensor y = snake(x);
  // alpha = 1: x + sin^2(x).
  EXPECT_NEAR(y[0][0][0].item<double>(), 1.0 + std::pow(std::sin(1.0), 2), 1e-6);
  EXPECT_NEAR(y[0][1][0].item<double>(), -0.5 + std::pow(std::sin(-0.5), 2), 1e-6);
  // d/dx = 1 + sin(2 alpha x) (alpha = 1), checked against autograd.
  at::Tensor xr = torch::linspace(-2, 2, 9).view({1, 1, 9}).expand({1, 2, 9}).clone();
  xr.set_requires_grad(true);
  snake(xr).sum().backward();
  EXPECT_TRUE(torch::allclose(xr.grad(), 1 + at::sin(2 * xr.detach()), 1e-5, 1e-5));
  EXPECT_EQ(state_dict(*snake).at("alpha").sizes(), (at::IntArrayRef{1, 2, 1}));
}

TEST(Activation, NamesAndErrors) {
  nn::Activation snake("snake", 3);
  EXPECT_EQ(state_dict(*snake).count("snake.alpha"), 1u);
  nn::Activation elu("elu", 3);
  EXPECT_TRUE(state_dict(*elu).empty());
  EXPECT_THROW(nn::Activation("relu6", 3), ConfigError);
}

// --- SEANet / VAEs --------------------------------------------------------------------------

TEST(Seanet, LengthsForEvenOddAndUnitStrides) {
  SeanetConfig c;
  c.in_channels = 2;
  c.latent_dim = 3;
  c.strides = {2, 3, 1, 5};
  c.channels = {4, 4, 8, 8, 8};
  c.residual_kernels = {3, 5};
  c.residual_dilations = {1, 2};
  SeanetEncoder enc(c);
  SeanetDecoder dec(c);
  EXPECT_EQ(c.hop_length(), 30);
  const at::Tensor x = torch::randn({2, 2, 300});
  const Posterior q = enc(x);
  EXPECT_EQ(q.mean.sizes(), (at::IntArrayRef{2, 3, 10}));
  EXPECT_EQ(q.logvar.sizes(), (at::IntArrayRef{2, 3, 10}));
  EXPECT_EQ(dec(q.mean).sizes(), (at::IntArrayRef{2, 2, 300}));
  EXPECT_THROW(enc(torch::randn({1, 2, 301})), ShapeError);
}

TEST(Seanet, ConfigErrorsNameTheField) {
  SeanetConfig c;
  c.channels = {4, 8};
  EXPECT_THROW(c.validate(), ConfigError);
  c = SeanetConfig();
  c.residual_kernels = {4};
  c.residual_dilations = {1};
  EXPECT_THROW(c.validate(), ConfigError);
  c = SeanetConfig();
  c.activation = "tanh";
  EXPECT_THROW(c.validate(), ConfigError);
}

TEST(Posterior, KlKnownValues) {
  Posterior q{torch::zeros({1, 2, 3}), torch::zeros({1, 2, 3})};
  EXPECT_NEAR(q.kl().item<double>(), 0.0, 1e-7);
  q.mean = torch::ones({1, 2, 3});
  EXPECT_NEAR(q.kl().item<double>(), 0.5, 1e-6);
  // logvar = ln 4 (sigma 2), mean 0: 0.5 (4 - 1 - ln 4).
  q = Posterior{torch::zeros({1, 1, 1}), torch::full({1, 1, 1}, std::log(4.0))};
  EXPECT_NEAR(q.kl().item<double>(), 0.5 * (4 - 1 - std::log(4.0)), 1e-6);
}

TEST(WaveVAE, ShapesNamesAndBatchConsistency) {
  torch::manual_seed(0);
  WaveVAE vae(WaveVAEConfig::tiny());
  EXPECT_EQ(vae->hop_length(), 2048);
  const auto sd = state_dict(*vae);
  EXPECT_EQ(sd.count("encoder.conv_in.weight_g"), 1u);
  EXPECT_EQ(sd.count("encoder.blocks.0.units.0.conv1.weight_v"), 1u);
  EXPECT_EQ(sd.count("encoder.blocks.7.down.bias"), 1u);
  EXPECT_EQ(sd.count("decoder.blocks.0.up.weight_g"), 1u);
  EXPECT_EQ(sd.count("decoder.conv_out.weight_v"), 1u);
  const at::Tensor x = torch::randn({3, 2, 4096});
  const at::Tensor z = vae->encode(x);
  EXPECT_EQ(z.sizes(), (at::IntArrayRef{3, 2, 32}));
  const at::Tensor y = vae->decode(z);
  EXPECT_EQ(y.sizes(), (at::IntArrayRef{3, 2, 4096}));
  // Item 1 alone equals row 1 of the batch.
  const at::Tensor y1 = vae->decode(vae->encode(x.slice(0, 1, 2)));
  EXPECT_TRUE(torch::allclose(y1, y.slice(0, 1, 2), 1e-5, 1e-5));
}

TEST(WaveVAE, SeedPresetScale) {
  WaveVAE vae(WaveVAEConfig::seed());
  const int64_t n = parameter_count(*vae);
  EXPECT_GT(n, 20'000'000);
  EXPECT_LT(n, 80'000'000);
  EXPECT_EQ(vae->config().strides, (std::vector<int64_t>{2, 2, 2, 2, 2, 4, 4, 4}));
  torch::NoGradGuard no_grad;
  const at::Tensor z = vae->encode(torch::randn({1, 2, 4096}));
  EXPECT_EQ(z.sizes(), (at::IntArrayRef{1, 2, 64}));
}

TEST(WaveVAE, GradientsReachTheEncoder) {
  torch::manual_seed(1);
  WaveVAE vae(WaveVAEConfig::tiny());
  const at::Tensor x = 0.1 * torch::randn({2, 2, 4096});
  const VAEOutput out = vae(x);
  ((out.recon - x).abs().mean() + out.posterior.kl()).backward();
  for (const auto& p : vae->named_parameters()) {
    ASSERT_TRUE(p.value().grad().defined()) << p.key();
    EXPECT_TRUE(p.value().grad().isfinite().all().item<bool>()) << p.key();
  }
  EXPECT_GT(vae->named_parameters()["encoder.conv_in.weight_v"].grad().abs().sum().item<double>(),
            0.0);
}

TEST(MelVAE, NormalisationStatisticsAndShapes) {
  torch::manual_seed(2);
  MelVAE vae(MelVAEConfig::tiny());
  EXPECT_EQ(vae->statistics_frames(), 0);
  const at::Tensor mean = torch::linspace(-8, -2, 160);
  const at::Tensor std = torch::linspace(1, 3, 160);
  vae->set_statistics(mean, std, 1234);
  EXPECT_EQ(vae->statistics_frames(), 1234);
  const at::Tensor logmel = torch::randn({2, 160, 32}) * 2 - 5;
  EXPECT_TRUE(torch::allclose(vae->denormalize(vae->normalize(logmel)), logmel, 1e-5, 1e-5));
  const at::Tensor n = vae->normalize(logmel);
  EXPECT_NEAR(n[0][0][0].item<double>(), (logmel[0][0][0].item<double>() - (-8.0)) / 1.0, 1e-5);
  const at::Tensor z = vae->encode(logmel);
  EXPECT_EQ(z.sizes(), (at::IntArrayRef{2, 2, 32}));
  EXPECT_EQ(vae->decode(z).sizes(), (at::IntArrayRef{2, 160, 32}));
  // The statistics travel with the weights.
  const auto sd = state_dict(*vae);
  EXPECT_TRUE(torch::equal(sd.at("mel_mean"), mean));
  EXPECT_EQ(sd.at("mel_stats_frames").item<int64_t>(), 1234);
  // Mel frames: T / hop exactly.
  EXPECT_EQ(vae->mel_frames(torch::randn({1, 4096})).sizes(), (at::IntArrayRef{1, 160, 16}));
  EXPECT_THROW(vae->set_statistics(mean, torch::zeros({160}), 1), DataError);
}

TEST(MelVAE, SeedPresetScale) {
  MelVAE vae(MelVAEConfig::seed());
  EXPECT_EQ(vae->config().latent_dim, 512);
  EXPECT_EQ(vae->config().frames_per_latent(), 16);
  EXPECT_EQ(vae->config().mel.n_mels, 160);
  EXPECT_GT(parameter_count(*vae), 10'000'000);
}

TEST(MelDiscriminator, OutputsAndFeatureMaps) {
  MelDiscriminator d(std::vector<int64_t>{8, 16});
  const auto out = d->forward(torch::randn({2, 160, 32}), torch::randn({2, 160, 32}));
  ASSERT_EQ(out.y_d_rs.size(), 1u);
  EXPECT_EQ(out.fmap_rs[0].size(), 3u);
  EXPECT_EQ(out.y_d_rs[0].size(0), 2);
}

TEST(HifiganDiscriminator, OfficialNamesAndNarrowPresets) {
  HifiganDiscriminator full;
  const auto sd = state_dict(*full);
  EXPECT_EQ(sd.count("mpd.discriminators.0.convs.0.weight_g"), 1u);
  EXPECT_EQ(sd.at("mpd.discriminators.4.convs.3.weight_v").size(0), 1024);
  EXPECT_EQ(sd.count("msd.discriminators.0.convs.0.weight_orig"), 1u);
  HifiganDiscriminatorConfig narrow;
  narrow.width = 1.0 / 16;
  HifiganDiscriminator small(narrow);
  EXPECT_LT(parameter_count(*small) * 100, parameter_count(*full));
  const auto out = small(torch::randn({2, 1, 4096}), torch::randn({2, 1, 4096}));
  EXPECT_EQ(out.y_d_rs.size(), 8u);  // 5 periods + 3 scales
  EXPECT_EQ(out.fmap_gs.size(), 8u);
}

// --- the codec interface --------------------------------------------------------------------

TEST(Codec, WaveCodecPadsAdaptsChannelsAndNormalises) {
  torch::manual_seed(3);
  WaveVAECodec codec(WaveVAEConfig::tiny());
  EXPECT_EQ(codec->kind(), "wave_vae");
  EXPECT_DOUBLE_EQ(codec->latent_rate(), 24000.0 / 2048.0);
  torch::NoGradGuard no_grad;
  // 5000 samples pad to 3 frames; mono is duplicated to both channels.
  const at::Tensor mono = torch::randn({1, 1, 5000});
  const at::Tensor z = codec->encode(mono);
  EXPECT_EQ(z.sizes(), (at::IntArrayRef{1, 3, 32}));
  EXPECT_TRUE(torch::allclose(z, codec->encode(mono.expand({1, 2, 5000})), 1e-6, 1e-6));
  EXPECT_EQ(codec->decode(z).sizes(), (at::IntArrayRef{1, 2, 6144}));
  // Without statistics normalize() is the identity; with them it round-trips.
  EXPECT_FALSE(codec->has_latent_stats());
  EXPECT_TRUE(torch::equal(codec->normalize(z), z));
  codec->set_latent_stats(torch::full({32}, 0.5), torch::full({32}, 2.0), 100);
  EXPECT_TRUE(torch::allclose(codec->normalize(z), (z - 0.5) / 2.0));
  EXPECT_TRUE(torch::allclose(codec->denormalize(codec->normalize(z)), z, 1e-6, 1e-6));
  EXPECT_THROW(codec->encode(torch::randn({1, 3, 4096})), ShapeError);
}

TEST(Codec, MelCodecChecksTheVocoderAndRoundTripsShapes) {
  torch::manual_seed(4);
  HifiganConfig vocoder = HifiganConfig::tiny();
  vocoder.num_mels = 160;
  MelVAECodec codec(MelVAEConfig::tiny(), vocoder);
  EXPECT_EQ(codec->hop_length(), 4096);
  EXPECT_EQ(codec->channels(), 1);
  torch::NoGradGuard no_grad;
  const at::Tensor z = codec->encode(torch::randn({1, 2, 8192}));  // stereo is averaged
  EXPECT_EQ(z.sizes(), (at::IntArrayRef{1, 2, 32}));
  EXPECT_EQ(codec->decode(z).sizes(), (at::IntArrayRef{1, 1, 8192}));
  EXPECT_THROW(MelVAECodec(MelVAEConfig::tiny(), HifiganConfig::tiny()), ConfigError);  // 80 mels
}

// --- overlap-add ----------------------------------------------------------------------------

TEST(OverlapAdd, IdentityIsExactForEveryLayout) {
  torch::manual_seed(11);
  const at::Tensor x = torch::randn({2, 1000});
  for (int64_t window : {1000, 1200, 300, 97}) {
    for (int64_t overlap : {int64_t{0}, int64_t{10}, window / 2, window - 1}) {
      if (overlap >= window) continue;
      OverlapAddPlan plan{1000, window, overlap, 1};
      int64_t calls = 0;
      const at::Tensor y = overlap_add(plan, [&](int64_t s, int64_t n) {
        ++calls;
        return x.slice(1, s, s + n);
      });
      EXPECT_EQ(calls, plan.count());
      // Exact up to float32 rounding of the weighted sum, whose error grows with the number of
      // windows sharing a sample: 1 or 2 for real layouts, 300 for window 300, overlap 299.
      const double tol =
          1e-6 * static_cast<double>((window + window - overlap - 1) / (window - overlap));
      EXPECT_TRUE(torch::allclose(y, x, tol, tol)) << window << " " << overlap;
    }
  }
}

TEST(OverlapAdd, UpsamplesAndCrossFades) {
  // Each window returns a constant equal to its index, 4 columns per unit: the overlap ramps
  // linearly from one constant to the next.
  OverlapAddPlan plan{20, 10, 4, 4};
  EXPECT_EQ(plan.count(), 3);
  int64_t k = 0;
  const at::Tensor y = overlap_add(plan, [&](int64_t, int64_t n) {
    return torch::full({1, n * 4}, static_cast<float>(k++));
  });
  EXPECT_EQ(y.sizes(), (at::IntArrayRef{1, 80}));
  EXPECT_FLOAT_EQ(y[0][0].item<float>(), 0.0f);
  EXPECT_FLOAT_EQ(y[0][79].item<float>(), 2.0f);
  // Window 1 starts at unit 6 (column 24): the first overlap spans columns 24..39.
  EXPECT_NEAR(y[0][24].item<float>(), 0.5 / 16, 1e-6);
  EXPECT_NEAR(y[0][39].item<float>(), 15.5 / 16, 1e-6);
  const at::Tensor d = y.slice(1, 25, 39) - y.slice(1, 24, 38);
  EXPECT_TRUE(torch::allclose(d, torch::full_like(d, 1.0 / 16), 1e-5, 1e-5));
  EXPECT_THROW(overlap_add({10, 5, 5, 1},
                           [](int64_t, int64_t n) {
                             return torch::zeros({1, n});
                           }),
               ConfigError);
  EXPECT_THROW(overlap_add({10, 5, 1, 1},
                           [](int64_t, int64_t n) {
                             return torch::zeros({1, 1});
                           }),
               ShapeError);
}

TEST(Chunked, EncodeAndDecodeMatchTheWholeSignal) {
  torch::manual_seed(5);
  WaveVAECodec codec(WaveVAEConfig::tiny());
  const at::Tensor wav = test_audio(2, 2048 * 60);  // 60 frames (5.1 s)
  at::Tensor whole;
  {
    torch::NoGradGuard no_grad;
    whole = codec->encode(wav.unsqueeze(0)).squeeze(0);  // [60, 32]
  }
  // One window: exactly the whole encode.
  EXPECT_TRUE(torch::equal(encode_chunked(*codec, wav, {60.0, 1.0}), whole));
  // 24-frame windows sharing 12 (beyond the encoder's reach of about 4 frames each way): the
  // blend stays close to the whole encode.
  int64_t last_total = 0;
  const at::Tensor z =
      encode_chunked(*codec, wav, {24 / codec->latent_rate(), 12 / codec->latent_rate()},
                     [&](int64_t, int64_t total) { last_total = total; });
  EXPECT_EQ(last_total, 4);
  EXPECT_EQ(z.sizes(), whole.sizes());
  EXPECT_LT((z - whole).abs().max().item<double>(), 0.05 * whole.abs().max().item<double>());
  at::Tensor full;
  {
    torch::NoGradGuard no_grad;
    full = codec->decode(whole.unsqueeze(0)).squeeze(0);  // [2, 60 * 2048]
  }
  const at::Tensor y =
      decode_chunked(*codec, whole, {24 / codec->latent_rate(), 12 / codec->latent_rate()});
  EXPECT_EQ(y.sizes(), full.sizes());
  EXPECT_LT((y - full).pow(2).mean().item<double>(), 0.01 * full.pow(2).mean().item<double>());
}

// --- losses ---------------------------------------------------------------------------------

TEST(CodecLosses, KnownValues) {
  const at::Tensor a = torch::tensor({1.0f, 2.0f, 3.0f, 4.0f});
  const at::Tensor b = torch::tensor({1.0f, 0.0f, 3.0f, 8.0f});
  EXPECT_NEAR(train::l1_loss(a, b).item<double>(), 1.5, 1e-6);
  EXPECT_NEAR(train::l2_loss(a, b).item<double>(), 5.0, 1e-6);
  EXPECT_THROW(train::l1_loss(a, b.slice(0, 0, 3)), ShapeError);
}

TEST(CodecLosses, SpectralLossesAreZeroOnlyForIdenticalAudio) {
  const at::Tensor x = test_audio(2, 16384).unsqueeze(0);  // [1, 2, T]
  const at::Tensor noisy = x + 0.05 * torch::randn_like(x);
  train::MultiScaleMelLoss mel;
  EXPECT_NEAR(mel(x, x).item<double>(), 0.0, 1e-7);
  EXPECT_GT(mel(noisy, x).item<double>(), 0.05);
  train::MultiResolutionStftLoss stft;
  const auto same = stft(x, x);
  EXPECT_NEAR(same.spectral_convergence.item<double>(), 0.0, 1e-7);
  EXPECT_NEAR(same.log_magnitude.item<double>(), 0.0, 1e-7);
  const auto scaled = stft(0.5 * x, x);
  // |Y^| = |Y| / 2: spectral convergence 0.5, log magnitude ln 2.
  EXPECT_NEAR(scaled.spectral_convergence.item<double>(), 0.5, 1e-4);
  EXPECT_NEAR(scaled.log_magnitude.item<double>(), std::log(2.0), 1e-3);
}

TEST(CodecLosses, SiSnrMatchesTheNoiseLevel) {
  torch::manual_seed(6);
  const at::Tensor s = torch::randn({4, 48000});
  // Scale invariance: a scaled copy is perfect.
  EXPECT_GT(train::si_snr(3.0 * s, s).min().item<double>(), 70.0);
  // Independent noise at 1/10 the power: 10 dB.
  const at::Tensor n = torch::randn({4, 48000}) * std::sqrt(0.1);
  EXPECT_NEAR(train::si_snr(s + n, s).mean().item<double>(), 10.0, 0.3);
}

TEST(CodecLosses, KlAnnealing) {
  train::KlAnnealConfig c{0.01, 10, 100};
  EXPECT_EQ(train::kl_weight(c, 0), 0.0);
  EXPECT_EQ(train::kl_weight(c, 9), 0.0);
  EXPECT_NEAR(train::kl_weight(c, 59), 0.005, 1e-12);
  EXPECT_NEAR(train::kl_weight(c, 500), 0.01, 1e-12);
  EXPECT_EQ(train::kl_weight({0.01, 0, 0}, 0), 0.01);
}

}  // namespace
}  // namespace mudit
