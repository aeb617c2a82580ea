#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/linear.h>
#include <torch/types.h>

#include "mudit/core/error.h"
#include "mudit/core/state_dict.h"
#include "unit/test_util.h"

namespace mudit {
namespace {

using ::testing::HasSubstr;

struct NetImpl : torch::nn::Module {
  NetImpl() {
    proj = register_module("proj", torch::nn::Linear(4, 3));
    blocks = register_module(
        "blocks", torch::nn::ModuleList(torch::nn::Linear(3, 3), torch::nn::Linear(3, 2)));
    running = register_buffer("running", torch::zeros({2}));
  }
  torch::nn::Linear proj{nullptr};
  torch::nn::ModuleList blocks{nullptr};
  torch::Tensor running;
};
TORCH_MODULE(Net);

// A weight-normalised conv as official HiFiGAN checkpoints name it.
struct WeightNormedImpl : torch::nn::Module {
  WeightNormedImpl() {
    weight_g = register_parameter("weight_g", torch::ones({2, 1, 1}));
    weight_v = register_parameter("weight_v", torch::ones({2, 3, 5}));
    bias = register_parameter("bias", torch::zeros({2}));
  }
  torch::Tensor weight_g, weight_v, bias;
};
TORCH_MODULE(WeightNormed);

std::map<std::string, torch::Tensor> filled(const torch::nn::Module& m, double start) {
  std::map<std::string, torch::Tensor> out;
  double v = start;
  for (const auto& [name, t] : state_dict(m)) {
    out[name] = torch::full(t.sizes(), v, t.options());
    v += 1;
  }
  return out;
}

TEST(StateDict, NamesFollowTheModuleTree) {
  Net net;
  std::vector<std::string> names;
  for (const auto& [name, t] : state_dict(*net)) names.push_back(name);
  EXPECT_EQ(names,
            (std::vector<std::string>{"blocks.0.bias", "blocks.0.weight", "blocks.1.bias",
                                      "blocks.1.weight", "proj.bias", "proj.weight", "running"}));
}

TEST(StateDict, SaveLoadRoundTrip) {
  test::TempDir dir;
  Net a, b;
  torch::NoGradGuard no_grad;
  a->running.fill_(3);
  save_module(dir / "net.safetensors", *a);
  const LoadReport r = load_module(dir / "net.safetensors", *b);
  EXPECT_TRUE(r.complete()) << r.summary();
  EXPECT_EQ(r.loaded.size(), 7u);
  for (const auto& [name, t] : state_dict(*a)) {
    EXPECT_TRUE(torch::equal(t, state_dict(*b).at(name))) << name;
  }
}

TEST(StateDict, LoadingRecordsNoAutogradHistory) {
  Net net;
  load_state_dict(*net, filled(*net, 1));
  EXPECT_TRUE(net->proj->weight.requires_grad());
  EXPECT_FALSE(net->proj->weight.grad_fn());
  EXPECT_TRUE(torch::all(net->proj->weight == 6).item<bool>());
}

TEST(StateDict, StrictListsEveryProblemAtOnceAndChangesNothing) {
  Net net;
  auto sd = filled(*net, 1);
  sd.erase("blocks.0.bias");                        // missing
  sd["blocks.9.weight"] = torch::zeros({1});        // unexpected
  sd["proj.weight"] = torch::zeros({3, 5});         // mis-shaped
  sd["running"] = torch::zeros({2}, torch::kLong);  // mis-typed
  const auto before = net->blocks->ptr<torch::nn::LinearImpl>(1)->weight.clone();
  try {
    load_state_dict(*net, sd);
    FAIL() << "strict load accepted a broken state dict";
  } catch (const CheckpointError& e) {
    const std::string msg = e.what();
    EXPECT_THAT(msg, HasSubstr("1 missing (blocks.0.bias)"));
    EXPECT_THAT(msg, HasSubstr("1 unexpected (blocks.9.weight)"));
    EXPECT_THAT(msg, HasSubstr("1 mis-shaped (proj.weight: checkpoint [3, 5] vs module [3, 4])"));
    EXPECT_THAT(msg, HasSubstr("1 mis-typed (running: checkpoint I64 vs module F32)"));
  }
  EXPECT_TRUE(torch::equal(net->blocks->ptr<torch::nn::LinearImpl>(1)->weight, before));
}

TEST(StateDict, LenientLoadsWhatFits) {
  Net net;
  auto sd = filled(*net, 1);
  sd.erase("proj.bias");
  sd["extra"] = torch::zeros({1});
  LoadOptions o;
  o.strict = false;
  const LoadReport r = load_state_dict(*net, sd, o);
  EXPECT_EQ(r.missing, std::vector<std::string>{"proj.bias"});
  EXPECT_EQ(r.unexpected, std::vector<std::string>{"extra"});
  EXPECT_EQ(r.loaded.size(), 6u);
  EXPECT_FALSE(r.complete());
  EXPECT_TRUE(torch::all(net->running == sd.at("running")).item<bool>());
}

TEST(StateDict, PrefixStripRenamesAndCallback) {
  Net net;
  std::map<std::string, torch::Tensor> sd;
  for (auto& [name, t] : filled(*net, 1)) {
    std::string n = "module." + name;
    if (n.rfind("module.blocks.", 0) == 0) n = "module.layers." + name.substr(7);
    if (n == "module.running") n = "module.RUNNING";
    sd[n] = t;
  }
  LoadOptions o;
  o.strip_prefixes = {"module."};
  o.renames = {{"layers.", "blocks."}};
  o.rename = [](const std::string& n) { return n == "RUNNING" ? std::string("running") : n; };
  const LoadReport r = load_state_dict(*net, sd, o);
  EXPECT_TRUE(r.complete()) << r.summary();
}

TEST(StateDict, WeightNormAliasesBothWays) {
  WeightNormed m;
  const std::map<std::string, torch::Tensor> modern = {
      {"parametrizations.weight.original0", torch::full({2, 1, 1}, 2.0)},
      {"parametrizations.weight.original1", torch::full({2, 3, 5}, 3.0)},
      {"bias", torch::ones({2})}};
  EXPECT_TRUE(load_state_dict(*m, modern).complete());
  EXPECT_TRUE(torch::all(m->weight_g == 2).item<bool>());
  EXPECT_TRUE(torch::all(m->weight_v == 3).item<bool>());

  LoadOptions no_alias;
  no_alias.weight_norm_aliases = false;
  EXPECT_THROW(load_state_dict(*m, modern, no_alias), CheckpointError);

  // Nested: "ups.0.weight_g" in the module, the modern spelling in the checkpoint.
  torch::nn::Module parent;
  auto list = parent.register_module("ups", torch::nn::ModuleList(WeightNormed()));
  std::map<std::string, torch::Tensor> nested;
  for (const auto& [k, v] : modern) nested["ups.0." + k] = v * 2;
  EXPECT_TRUE(load_state_dict(parent, nested).complete());
  EXPECT_TRUE(torch::all(list->ptr<WeightNormedImpl>(0)->weight_g == 4).item<bool>());
}

TEST(StateDict, DtypeConversionWhenAllowed) {
  Net net;
  auto sd = filled(*net, 0.5);
  for (auto& [name, t] : sd) t = t.to(torch::kBFloat16);
  EXPECT_THROW(load_state_dict(*net, sd), CheckpointError);
  LoadOptions o;
  o.convert_dtype = true;
  const LoadReport r = load_state_dict(*net, sd, o);
  EXPECT_TRUE(r.complete());
  EXPECT_EQ(r.converted.size(), 7u);
  EXPECT_EQ(net->proj->weight.scalar_type(), torch::kFloat);
  EXPECT_TRUE(torch::all(net->proj->weight == 5.5).item<bool>());
}

}  // namespace
}  // namespace mudit
