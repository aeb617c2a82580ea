// Parity of mudit's interpolants and SDE samplers with the official SiT transport code
// (../shared/fixtures/sit_transport): path coefficients, x_t and u_t, the drift and every
// diffusion form, the velocity / score / noise conversions, the training losses of every
// prediction and weighting with the stored draws, and Euler / Heun SDE trajectories fed the
// stored noise. Errors are printed; each is held to a tolerance relative to the values' scale.
#include <gtest/gtest.h>
#include <torch/types.h>

#include <filesystem>
#include <iostream>
#include <string>

#include "mudit/core/safetensors.h"
#include "mudit/diffusion/interpolant.h"
#include "mudit/diffusion/samplers.h"

namespace mudit {
namespace {

using namespace mudit::diffusion;

class SitParity : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto path = std::filesystem::path(MUDIT_SHARED_DIR) / "fixtures" / "sit_transport" /
                      "sit_transport.safetensors";
    if (!std::filesystem::exists(path)) GTEST_SKIP() << "fixture not found: " << path;
    file_ = load_safetensors(path);
  }
  const torch::Tensor& t(const std::string& name) const { return file_.tensors.at(name); }

  // |got - want| within `rel` of the reference's scale (max(1, max |want|)).
  void check(const std::string& what, const torch::Tensor& got, const std::string& name,
             double rel = 1e-6) {
    const torch::Tensor& want = t(name);
    ASSERT_EQ(got.sizes(), want.sizes()) << what;
    const double err =
        (got.to(torch::kDouble) - want.to(torch::kDouble)).abs().max().item<double>();
    const double scale = std::max(1.0, want.abs().max().item<double>());
    std::cout << "  " << what << ": max error " << err << " (scale " << scale << ")\n";
    EXPECT_LE(err, rel * scale) << what;
  }
  TensorFile file_;
};

InterpolantConfig config_for(const std::string& path, const std::string& prediction = "velocity",
                             const std::string& weight = "none") {
  InterpolantConfig c;
  c.path = path == "Linear" ? "linear" : path == "GVP" ? "gvp" : "vp";
  c.prediction = prediction;
  c.loss_weight = weight;
  return c;
}

const char* kPaths[] = {"Linear", "GVP", "VP"};

TEST_F(SitParity, PathCoefficientsPlanAndDrift) {
  const torch::Tensor x0 = t("inputs.x0"), x1 = t("inputs.x1"), tt = t("inputs.t");
  for (const std::string p : kPaths) {
    const Interpolant in(config_for(p));
    const auto [a, da] = in.alpha(tt);
    const auto [s, ds] = in.sigma(tt);
    check(p + " alpha", a, p + ".alpha_t");
    check(p + " d_alpha", da, p + ".d_alpha_t");
    check(p + " sigma", s, p + ".sigma_t");
    check(p + " d_sigma", ds, p + ".d_sigma_t");
    check(p + " d_alpha/alpha", in.d_alpha_alpha_ratio(tt), p + ".d_alpha_alpha_ratio_t");
    const auto [xt, ut] = in.plan(tt, x0, x1);
    check(p + " x_t", xt, p + ".xt");
    check(p + " u_t", ut, p + ".ut");
    const auto [mean, var] = in.drift(xt, tt);
    check(p + " drift mean", mean, p + ".drift_mean");
    check(p + " drift var", var, p + ".drift_var");
    const std::pair<const char*, DiffusionForm> forms[] = {
        {"constant", DiffusionForm::kConstant},
        {"SBDM", DiffusionForm::kSBDM},
        {"sigma", DiffusionForm::kSigma},
        {"linear", DiffusionForm::kLinear},
        {"decreasing", DiffusionForm::kDecreasing},
        {"inccreasing-decreasing", DiffusionForm::kIncreasingDecreasing}};
    for (const auto& [name, form] : forms) {
      check(p + " diffusion " + name, in.diffusion(xt, tt, form), p + ".diffusion." + name);
    }
  }
}

TEST_F(SitParity, Conversions) {
  const torch::Tensor x0 = t("inputs.x0"), x1 = t("inputs.x1"), tt = t("inputs.t");
  const torch::Tensor out = t("inputs.model_out");
  for (const std::string p : kPaths) {
    const Interpolant in(config_for(p));
    const torch::Tensor xt = in.plan(tt, x0, x1).first;
    check(p + " score from velocity", in.score_from_velocity(out, xt, tt),
          p + ".score_from_velocity");
    check(p + " noise from velocity", in.noise_from_velocity(out, xt, tt),
          p + ".noise_from_velocity");
    check(p + " velocity from score", in.velocity_from_score(out, xt, tt),
          p + ".velocity_from_score");
    // The round trip goes through scores and velocities of up to ~60, so an ulp of VP's exp
    // (torch 1.13's and 2.11's differ) shows up at ~1e-6 of the result: held to 2e-6 of the
    // scale, within the fixture README's suggested 2e-5.
    check(p + " round trip", in.velocity_from_score(in.score_from_velocity(out, xt, tt), xt, tt),
          p + ".velocity_from_score_of_score_from_velocity", 2e-6);
  }
}

TEST_F(SitParity, TrainingLossesWithTheStoredDraws) {
  const torch::Tensor x1 = t("inputs.x1");
  int checked = 0;
  for (const std::string p : kPaths) {
    for (const std::string pred : {"velocity", "noise", "score"}) {
      for (const std::string w : {"none", "velocity", "likelihood"}) {
        const std::string key = p + ".train." + pred + "." + w;
        if (!file_.tensors.count(key + ".loss")) continue;  // velocity has no weighting
        const Interpolant in(config_for(p, pred, w));
        const torch::Tensor x0 = t(key + ".x0"), tt = t(key + ".t");
        const auto [t0, t1] = in.interval(/*eval=*/false);
        EXPECT_GE(tt.min().item<double>(), t0) << key;
        EXPECT_LE(tt.max().item<double>(), t1) << key;
        const auto [xt, ut] = in.plan(tt, x0, x1);
        const torch::Tensor loss =
            masked_mean(in.loss_terms(t(key + ".pred"), x0, x1, xt, ut, tt), torch::Tensor());
        check(key, loss, key + ".loss", 2e-6);
        ++checked;
      }
    }
  }
  EXPECT_EQ(checked, 21);
}

TEST_F(SitParity, TrainingAndSamplingIntervals) {
  // create_transport's eps and check_interval, as the fixture README tabulates them.
  EXPECT_EQ(Interpolant(config_for("Linear")).interval(false), std::make_pair(0.0, 1.0));
  EXPECT_EQ(Interpolant(config_for("GVP", "noise")).interval(false),
            std::make_pair(1e-3, 1 - 1e-3));
  EXPECT_EQ(Interpolant(config_for("VP", "score")).interval(false), std::make_pair(0.0, 1 - 1e-5));
  EXPECT_EQ(Interpolant(config_for("VP")).interval(true), std::make_pair(0.0, 1 - 1e-3));
  // The SDE sampler of the fixture: velocity, "sigma" diffusion, Mean last step of 0.04.
  const auto [t0, t1] =
      Interpolant(config_for("Linear")).interval(true, true, DiffusionForm::kSigma, 0.04);
  EXPECT_EQ(t0, 0.0);
  EXPECT_DOUBLE_EQ(t1, 0.96);
  // SBDM starts a semi-implicit eps away from the noise end.
  EXPECT_EQ(
      Interpolant(config_for("Linear")).interval(true, true, DiffusionForm::kSBDM, 0.04).first,
      0.0);  // velocity's sample_eps is 0
}

// The analytic velocity of a Gaussian target N(2, 0.5^2) on the Linear path.
torch::Tensor gaussian_velocity(const torch::Tensor& x, const torch::Tensor& t) {
  const double m = 2.0, s2 = 0.25;
  const torch::Tensor te = t.reshape({-1, 1});
  const torch::Tensor v = te.pow(2) * s2 + (1 - te).pow(2);
  return m + (te * s2 - (1 - te)) / v * (x - te * m);
}

TEST_F(SitParity, SdeTrajectoriesWithTheStoredNoise) {
  const Interpolant in(config_for("Linear"));
  const torch::Tensor noise = t("sde.noise");  // [49, 256, 1]
  const NoiseSource fed = [&](int64_t k, const torch::Tensor&) { return noise[k]; };
  for (const std::string method : {"Euler", "Heun"}) {
    SdeOptions o;
    o.method = method == "Euler" ? "euler" : "heun";
    o.form = DiffusionForm::kSigma;
    o.last_step = "mean";
    o.last_step_size = 0.04;
    o.steps = 50;
    const auto xs = sample_sde(in, gaussian_velocity, t("sde.init"), o, fed, /*trajectory=*/true);
    ASSERT_EQ(xs.size(), 50u);
    check(method + " trajectory", torch::stack(xs), "sde." + method + ".trajectory", 5e-6);
  }
}

}  // namespace
}  // namespace mudit
