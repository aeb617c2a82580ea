// Parity of the HiFi-GAN port with the official jik876/hifi-gan code (fixtures in
// hifigan_v1/ and hifigan_v3/; tolerances from their READMEs):
//   generator_tiny     stored official weights (seed-0 init): activations and audio
//   generator_full     exact config_v1 / config_v3 with the README's hash-uniform weights
//   discriminators     MPD and MSD outputs, feature-map statistics, losses, spectral-norm train
//   mode discriminators_T256  element-wise feature maps on 256 samples
#include <gtest/gtest.h>
#include <torch/types.h>

#include <cstdint>
#include <filesystem>
#include <iostream>
#include <map>
#include <string>

#include "mudit/core/safetensors.h"
#include "mudit/core/state_dict.h"
#include "mudit/models/hifigan.h"

namespace mudit {
namespace {

double max_abs(const torch::Tensor& a, const torch::Tensor& b) {
  EXPECT_EQ(a.sizes(), b.sizes());
  if (a.sizes() != b.sizes()) return 1e30;
  return (a.to(torch::kFloat64) - b.to(torch::kFloat64)).abs().max().item<double>();
}

void report(const std::string& what, double error, double tolerance) {
  std::cout << what << ": max error " << error << " (tolerance " << tolerance << ")\n";
  ::testing::Test::RecordProperty(what, std::to_string(error));
}

void expect_close(const std::string& what, const torch::Tensor& a, const torch::Tensor& b,
                  double tolerance) {
  const double err = max_abs(a, b);
  report(what, err, tolerance);
  EXPECT_LT(err, tolerance) << what;
}

std::filesystem::path fixture(const std::string& relative) {
  return std::filesystem::path(MUDIT_SHARED_DIR) / "fixtures" / relative;
}

// --- the README's hash-uniform weights ------------------------------------------------------

uint64_t fnv1a64(const std::string& bytes) {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (unsigned char b : bytes) h = (h ^ b) * 0x100000001b3ULL;
  return h;
}

uint64_t mix64(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

// value(tag, i) = float32(a + b * u(tag, i)) for i in [0, numel), shaped `shape`.
torch::Tensor hash_uniform(const std::string& tag, at::IntArrayRef shape, double a, double b) {
  torch::Tensor t = torch::empty(shape, torch::kFloat32);
  float* data = t.data_ptr<float>();
  const uint64_t h = fnv1a64(tag);
  for (int64_t i = 0; i < t.numel(); ++i) {
    const uint64_t bits = mix64(h + static_cast<uint64_t>(i + 1) * 0x9E3779B97F4A7C15ULL) >> 41;
    data[i] = static_cast<float>(a + b * std::ldexp(static_cast<double>(bits), -23));
  }
  return t;
}

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// Hash weights for every tensor of `module` except those in `given`, which are used as they are.
std::map<std::string, torch::Tensor> hashed_weights(
    const torch::nn::Module& module, const std::string& prefix, double g_a, double g_b,
    const std::map<std::string, torch::Tensor>& given = {}) {
  std::map<std::string, torch::Tensor> out;
  for (const auto& [key, tensor] : state_dict(module)) {
    if (auto it = given.find(key); it != given.end()) {
      out[key] = it->second;
    } else if (ends_with(key, "weight_v") || ends_with(key, "weight_orig")) {
      out[key] = hash_uniform(prefix + key, tensor.sizes(), -1.0, 2.0);
    } else if (ends_with(key, "weight_g")) {
      out[key] = hash_uniform(prefix + key, tensor.sizes(), g_a, g_b);
    } else if (ends_with(key, "bias")) {
      out[key] = hash_uniform(prefix + key, tensor.sizes(), -0.0625, 0.125);
    } else {
      ADD_FAILURE() << "no hash recipe for " << key;
    }
  }
  return out;
}

// Compares [sum, sum of squares, first, last] of every weight with `<check_prefix><key>`.
void verify_checksums(const std::map<std::string, torch::Tensor>& weights, const TensorFile& file,
                      const std::string& check_prefix) {
  int checked = 0;
  for (const auto& [key, w] : weights) {
    const auto it = file.tensors.find(check_prefix + key);
    ASSERT_NE(it, file.tensors.end()) << "no checksum for " << key;
    const torch::Tensor c = it->second.to(torch::kFloat64);
    const torch::Tensor w64 = w.to(torch::kFloat64).flatten();
    EXPECT_EQ(w64.sum().item<double>(), c[0].item<double>()) << key;
    EXPECT_NEAR(w64.pow(2).sum().item<double>(), c[1].item<double>(),
                1e-12 * std::abs(c[1].item<double>()))
        << key;
    EXPECT_EQ(w64[0].item<double>(), c[2].item<double>()) << key;
    EXPECT_EQ(w64[-1].item<double>(), c[3].item<double>()) << key;
    ++checked;
  }
  std::size_t expected = 0;
  for (const auto& [name, t] : file.tensors) expected += name.rfind(check_prefix, 0) == 0;
  EXPECT_EQ(static_cast<std::size_t>(checked), expected) << "checksums not covered";
}

TEST(HifiganHash, ReadmeTestVectors) {
  EXPECT_EQ(mix64(0x9E3779B97F4A7C15ULL), 0xE220A8397B1DCDAFULL);
  EXPECT_EQ(fnv1a64("a"), 0xaf63dc4c8601ec8cULL);
  EXPECT_EQ(fnv1a64("hifigan_v1/generator/conv_pre.weight_v"), 0xc2373f184b50ff8fULL);
  const torch::Tensor t = hash_uniform("hifigan_v1/generator/conv_pre.weight_v", {4}, -1.0, 2.0);
  EXPECT_EQ(t[0].item<float>(), -0.7399356365203857f);
  EXPECT_EQ(t[1].item<float>(), -0.015256404876708984f);
  EXPECT_EQ(t[2].item<float>(), 0.8455178737640381f);
  EXPECT_EQ(t[3].item<float>(), -0.207930326461792f);
  const torch::Tensor g =
      hash_uniform("hifigan/msd/discriminators.1.convs.0.weight_g", {3}, 1.0, 1.0);
  EXPECT_EQ(g[0].item<float>(), 1.9967117309570312f);
  EXPECT_EQ(g[1].item<float>(), 1.6718404293060303f);
  EXPECT_EQ(g[2].item<float>(), 1.2111163139343262f);
}

// --- generators -----------------------------------------------------------------------------

struct GeneratorCase {
  std::string folder;
  HifiganConfig config;
};

std::map<std::string, torch::Tensor> with_prefix(const TensorFile& file, const std::string& p) {
  std::map<std::string, torch::Tensor> out;
  for (const auto& [name, t] : file.tensors) {
    if (name.rfind(p, 0) == 0) out[name.substr(p.size())] = t;
  }
  return out;
}

class HifiganGeneratorTiny : public ::testing::TestWithParam<std::string> {};

TEST_P(HifiganGeneratorTiny, StoredOfficialWeights) {
  const auto path = fixture(GetParam() + "/generator_tiny.safetensors");
  if (!std::filesystem::exists(path)) GTEST_SKIP() << "fixture not found: " << path;
  const TensorFile file = load_safetensors(path);
  HifiganConfig config = GetParam() == "hifigan_v1" ? HifiganConfig::v1() : HifiganConfig::v3();
  config.upsample_initial_channel = 32;
  HifiganGenerator gen(config);
  gen->eval();
  const LoadReport loaded = load_state_dict(*gen, with_prefix(file, "weights."));
  ASSERT_TRUE(loaded.complete()) << loaded.summary();

  torch::NoGradGuard no_grad;
  const torch::Tensor& mel = file.tensors.at("inputs.mel");
  std::vector<torch::Tensor> stages;
  torch::Tensor pre;
  const torch::Tensor audio = gen->forward_with_activations(mel, &stages, &pre);
  const std::string name = GetParam() + " tiny";
  expect_close(name + " conv_pre", pre, file.tensors.at("acts.conv_pre"), 1e-4);
  expect_close(name + " stage 0", stages.at(0), file.tensors.at("acts.stage.0"), 1e-5);
  expect_close(name + " stage 1", stages.at(1), file.tensors.at("acts.stage.1"), 5e-6);
  expect_close(name + " audio", audio, file.tensors.at("outputs.audio"), 1e-6);

  // float64 against the float64 reference.
  gen->to(torch::kFloat64);
  expect_close(name + " audio float64", gen(mel.to(torch::kFloat64)),
               file.tensors.at("outputs.audio_f64"), 1e-12);
  gen->to(torch::kFloat32);

  // Folding the weight norm changes nothing (the official remove_weight_norm is bit-identical).
  gen->remove_weight_norm();
  EXPECT_EQ(state_dict(*gen).count("conv_pre.weight_g"), 0u);
  EXPECT_EQ(state_dict(*gen).count("ups.0.weight"), 1u);
  expect_close(name + " audio after remove_weight_norm", gen(mel), file.tensors.at("outputs.audio"),
               1e-6);
}

INSTANTIATE_TEST_SUITE_P(Fixtures, HifiganGeneratorTiny,
                         ::testing::Values("hifigan_v1", "hifigan_v3"));

class HifiganGeneratorFull : public ::testing::TestWithParam<std::string> {};

TEST_P(HifiganGeneratorFull, HashWeights) {
  const auto path = fixture(GetParam() + "/generator_full.safetensors");
  if (!std::filesystem::exists(path)) GTEST_SKIP() << "fixture not found: " << path;
  const TensorFile file = load_safetensors(path);
  const bool v1 = GetParam() == "hifigan_v1";
  HifiganGenerator gen(v1 ? HifiganConfig::v1() : HifiganConfig::v3());
  gen->eval();
  int64_t params = 0;
  for (const auto& p : gen->parameters()) params += p.numel();
  EXPECT_EQ(params, v1 ? 13936130 : 1464322);

  const auto weights = hashed_weights(*gen, GetParam() + "/generator/", 0.75, 0.25);
  verify_checksums(weights, file, "weights_check.");
  const LoadReport loaded = load_state_dict(*gen, weights);
  ASSERT_TRUE(loaded.complete()) << loaded.summary();

  torch::NoGradGuard no_grad;
  const torch::Tensor audio = gen(file.tensors.at("inputs.mel"));  // [1, 1, 8192]
  expect_close(GetParam() + " full audio", audio, file.tensors.at("outputs.audio"), 1e-5);
}

INSTANTIATE_TEST_SUITE_P(Fixtures, HifiganGeneratorFull,
                         ::testing::Values("hifigan_v1", "hifigan_v3"));

// --- discriminators -------------------------------------------------------------------------

class HifiganDiscriminators : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto path = fixture("hifigan_v1/discriminators.safetensors");
    if (!std::filesystem::exists(path)) GTEST_SKIP() << "fixture not found: " << path;
    file_ = load_safetensors(path);
    const auto mpd_weights = hashed_weights(*mpd_, "hifigan/mpd/", 1.0, 1.0);
    verify_checksums(mpd_weights, file_, "mpd.weights_check.");
    LoadReport r = load_state_dict(*mpd_, mpd_weights);
    ASSERT_TRUE(r.complete()) << r.summary();
    const auto buffers = with_prefix(file_, "msd.buffers.");
    const auto msd_weights = hashed_weights(*msd_, "hifigan/msd/", 1.0, 1.0, buffers);
    verify_checksums(msd_weights, file_, "msd.weights_check.");
    r = load_state_dict(*msd_, msd_weights);
    ASSERT_TRUE(r.complete()) << r.summary();
    mpd_->eval();
    msd_->eval();
  }
  const torch::Tensor& t(const std::string& name) const { return file_.tensors.at(name); }

  // Outputs at `out_tol`, feature-map statistics (README recipe) with min/max at `map_tol`, and
  // the three losses.
  void check(const std::string& d, const MultiDiscriminatorOutput& out, double out_tol,
             double map_tol, double stat_rtol, double d_loss_tol, double g_loss_tol,
             double f_loss_tol) {
    double out_err = 0, stat_rel = 0, minmax_err = 0, sum_err = 0;
    std::string worst_stat;
    for (size_t i = 0; i < out.y_d_rs.size(); ++i) {
      out_err = std::max(out_err, max_abs(out.y_d_rs[i], t(d + ".y_d_rs." + std::to_string(i))));
      out_err = std::max(out_err, max_abs(out.y_d_gs[i], t(d + ".y_d_gs." + std::to_string(i))));
      for (const char* side : {"r", "g"}) {
        const auto& maps = side[0] == 'r' ? out.fmap_rs[i] : out.fmap_gs[i];
        for (size_t j = 0; j < maps.size(); ++j) {
          const std::string k = std::to_string(i) + "." + std::to_string(j);
          const std::string base = d + ".fmap_" + side + "s_";
          const torch::Tensor shape = t(base + "shape." + k);
          EXPECT_EQ(maps[j].sizes(), at::IntArrayRef(shape.data_ptr<int64_t>(), shape.numel()));
          const torch::Tensor m = maps[j].to(torch::kFloat64);
          const torch::Tensor s = t(base + "stats." + k);  // sum, sumsq, min, max, sumabs
          const double ref_sumsq = s[1].item<double>(), ref_abs = s[4].item<double>();
          for (const double rel :
               {std::abs(m.pow(2).sum().item<double>() - ref_sumsq) / std::max(ref_sumsq, 1e-30),
                std::abs(m.abs().sum().item<double>() - ref_abs) / std::max(ref_abs, 1e-30)}) {
            if (rel > stat_rel) stat_rel = rel, worst_stat = std::string(side) + " " + k;
          }
          minmax_err = std::max(minmax_err, std::abs(m.min().item<double>() - s[2].item<double>()));
          minmax_err = std::max(minmax_err, std::abs(m.max().item<double>() - s[3].item<double>()));
          sum_err = std::max(sum_err, std::abs(m.sum().item<double>() - s[0].item<double>()) /
                                          std::max(ref_abs, 1e-30));
        }
      }
    }
    report(d + " outputs", out_err, out_tol);
    EXPECT_LT(out_err, out_tol);
    report(d + " fmap sum-of-squares / sum-of-abs relative (worst: " + worst_stat + ")", stat_rel,
           stat_rtol);
    EXPECT_LT(stat_rel, stat_rtol);
    report(d + " fmap min/max", minmax_err, map_tol);
    EXPECT_LT(minmax_err, map_tol);
    report(d + " fmap sum / sum-of-abs", sum_err, 1e-5);
    EXPECT_LT(sum_err, 1e-5);

    const DiscriminatorLoss dl = hifigan_discriminator_loss(out.y_d_rs, out.y_d_gs);
    expect_close(d + " discriminator loss", dl.total.reshape({1}), t(d + ".loss.discriminator"),
                 d_loss_tol);
    expect_close(d + " discriminator loss (real terms)", torch::stack(dl.real),
                 t(d + ".loss.discriminator_r"), d_loss_tol);
    expect_close(d + " discriminator loss (generated terms)", torch::stack(dl.generated),
                 t(d + ".loss.discriminator_g"), d_loss_tol);
    const GeneratorLoss gl = hifigan_generator_loss(out.y_d_gs);
    expect_close(d + " generator loss", gl.total.reshape({1}), t(d + ".loss.generator"),
                 g_loss_tol);
    expect_close(d + " generator loss (terms)", torch::stack(gl.each),
                 t(d + ".loss.generator_each"), g_loss_tol);
    expect_close(d + " feature loss", hifigan_feature_loss(out.fmap_rs, out.fmap_gs).reshape({1}),
                 t(d + ".loss.feature"), f_loss_tol);
  }

  TensorFile file_;
  HifiganMPD mpd_;
  HifiganMSD msd_;
};

TEST_F(HifiganDiscriminators, MultiPeriod) {
  torch::NoGradGuard no_grad;
  const auto out = mpd_(t("inputs.y"), t("inputs.y_hat"));
  ASSERT_EQ(out.y_d_rs.size(), 5u);
  check("mpd", out, 5e-5, 1e-4, 1e-5, 1e-5, 2e-6, 2e-5);
}

TEST_F(HifiganDiscriminators, MultiScale) {
  torch::NoGradGuard no_grad;
  const auto out = msd_(t("inputs.y"), t("inputs.y_hat"));
  ASSERT_EQ(out.y_d_rs.size(), 3u);
  // Statistics at rtol 5e-5 rather than the README's "~1e-5": the worst map is discriminator 0's
  // conv_post output (values ~0.014), whose float32 reference itself is 2.3e-5 (relative) from
  // float64 by the README's own table.
  check("msd", out, 2e-5, 5e-5, 5e-5, 1e-6, 5e-6, 1e-6);
}

TEST_F(HifiganDiscriminators, MultiScaleTrainModePowerIteration) {
  msd_->train();
  torch::Tensor y_d_rs0, y_d_gs0;
  {
    torch::NoGradGuard no_grad;
    const auto out = msd_(t("inputs.y"), t("inputs.y_hat"));
    for (size_t i = 0; i < 3; ++i) {
      expect_close("msd train y_d_rs." + std::to_string(i), out.y_d_rs[i],
                   t("msd.train.y_d_rs." + std::to_string(i)), 2e-5);
      expect_close("msd train y_d_gs." + std::to_string(i), out.y_d_gs[i],
                   t("msd.train.y_d_gs." + std::to_string(i)), 1e-5);
    }
  }
  const auto now = state_dict(*msd_);
  double err = 0;
  for (const auto& [key, after] : with_prefix(file_, "msd.train.buffers_after.")) {
    err = std::max(err, max_abs(now.at(key), after));
  }
  report("msd train spectral-norm buffers after two power iterations", err, 1e-6);
  EXPECT_LT(err, 1e-6);
}

TEST(HifiganDiscriminatorsT256, ElementwiseFeatureMaps) {
  const auto path = fixture("hifigan_v1/discriminators_T256.safetensors");
  const auto main_path = fixture("hifigan_v1/discriminators.safetensors");
  if (!std::filesystem::exists(path) || !std::filesystem::exists(main_path)) {
    GTEST_SKIP() << "fixture not found: " << path;
  }
  const TensorFile file = load_safetensors(path);
  const TensorFile main = load_safetensors(main_path);
  HifiganMPD mpd;
  HifiganMSD msd;
  ASSERT_TRUE(load_state_dict(*mpd, hashed_weights(*mpd, "hifigan/mpd/", 1.0, 1.0)).complete());
  ASSERT_TRUE(load_state_dict(*msd, hashed_weights(*msd, "hifigan/msd/", 1.0, 1.0,
                                                   with_prefix(main, "msd.buffers.")))
                  .complete());
  mpd->eval();
  msd->eval();
  torch::NoGradGuard no_grad;
  const auto& y = file.tensors.at("inputs.y");
  const auto& y_hat = file.tensors.at("inputs.y_hat");
  struct Case {
    std::string d;
    MultiDiscriminatorOutput out;
    double out_tol, map_tol;
  };
  for (const Case& c :
       {Case{"mpd", mpd(y, y_hat), 5e-6, 5e-5}, Case{"msd", msd(y, y_hat), 2e-6, 5e-6}}) {
    double out_err = 0, map_err = 0;
    for (size_t i = 0; i < c.out.y_d_rs.size(); ++i) {
      const std::string si = std::to_string(i);
      out_err = std::max(out_err, max_abs(c.out.y_d_rs[i], file.tensors.at(c.d + ".y_d_rs." + si)));
      out_err = std::max(out_err, max_abs(c.out.y_d_gs[i], file.tensors.at(c.d + ".y_d_gs." + si)));
      for (size_t j = 0; j < c.out.fmap_rs[i].size(); ++j) {
        map_err = std::max(
            map_err, max_abs(c.out.fmap_rs[i][j],
                             file.tensors.at(c.d + ".fmap_rs." + si + "." + std::to_string(j))));
      }
    }
    report("T256 " + c.d + " outputs", out_err, c.out_tol);
    EXPECT_LT(out_err, c.out_tol);
    report("T256 " + c.d + " feature maps", map_err, c.map_tol);
    EXPECT_LT(map_err, c.map_tol);
  }
}

}  // namespace
}  // namespace mudit
