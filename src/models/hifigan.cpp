#include "mudit/models/hifigan.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <string>
#include <utility>

#include "mudit/core/error.h"

namespace mudit {
namespace {

constexpr double kLreluSlope = 0.1;
// The official generator's last activation is F.leaky_relu with PyTorch's default slope.
constexpr double kFinalLreluSlope = 0.01;

int64_t same_padding(int64_t kernel, int64_t dilation) {
  return (kernel * dilation - dilation) / 2;
}

nn::ConvOptions conv(int64_t in, int64_t out, std::vector<int64_t> kernel, nn::WeightNorm norm) {
  return nn::ConvOptions(in, out, std::move(kernel)).with_norm(norm);
}

// A discriminator channel count scaled by `width` (the official count at width 1).
int64_t scaled(int64_t channels, double width) {
  return channels == 1 ? 1 : std::max<int64_t>(1, std::llround(channels * width));
}

}  // namespace

// --- config ---------------------------------------------------------------------------------

void HifiganConfig::validate() const {
  MUDIT_CHECK(resblock == "1" || resblock == "2", ConfigError, "hifigan resblock must be \"1\" or ",
              "\"2\", got \"", resblock, "\"");
  MUDIT_CHECK(!upsample_rates.empty() && upsample_rates.size() == upsample_kernel_sizes.size(),
              ConfigError, "hifigan upsample_rates (", upsample_rates.size(),
              ") and upsample_kernel_sizes (", upsample_kernel_sizes.size(),
              ") must be non-empty and of equal length");
  for (size_t i = 0; i < upsample_rates.size(); ++i) {
    const int64_t u = upsample_rates[i];
    const int64_t k = upsample_kernel_sizes[i];
    MUDIT_CHECK(u > 0 && k >= u && (k - u) % 2 == 0, ConfigError, "hifigan upsample stage ", i,
                ": kernel ", k, " and rate ", u, " need kernel >= rate and an even difference");
  }
  MUDIT_CHECK(upsample_initial_channel >> upsample_rates.size() > 0, ConfigError,
              "hifigan upsample_initial_channel ", upsample_initial_channel, " is too small for ",
              upsample_rates.size(), " stages (channels halve per stage)");
  MUDIT_CHECK(!resblock_kernel_sizes.empty() &&
                  resblock_kernel_sizes.size() == resblock_dilation_sizes.size(),
              ConfigError, "hifigan resblock_kernel_sizes (", resblock_kernel_sizes.size(),
              ") and resblock_dilation_sizes (", resblock_dilation_sizes.size(),
              ") must be non-empty and of equal length");
  for (size_t j = 0; j < resblock_kernel_sizes.size(); ++j) {
    MUDIT_CHECK(resblock_kernel_sizes[j] % 2 == 1, ConfigError, "hifigan resblock kernel ",
                resblock_kernel_sizes[j], " must be odd");
    MUDIT_CHECK(!resblock_dilation_sizes[j].empty(), ConfigError,
                "hifigan resblock_dilation_sizes[", j, "] is empty");
  }
  MUDIT_CHECK(num_mels > 0, ConfigError, "hifigan num_mels must be positive");
}

int64_t HifiganConfig::hop_length() const {
  int64_t hop = 1;
  for (int64_t u : upsample_rates) hop *= u;
  return hop;
}

HifiganConfig HifiganConfig::v1() {
  return {};
}

HifiganConfig HifiganConfig::v2() {
  HifiganConfig c;
  c.upsample_initial_channel = 128;
  return c;
}

HifiganConfig HifiganConfig::v3() {
  HifiganConfig c;
  c.resblock = "2";
  c.upsample_rates = {8, 8, 4};
  c.upsample_kernel_sizes = {16, 16, 8};
  c.upsample_initial_channel = 256;
  c.resblock_kernel_sizes = {3, 5, 7};
  c.resblock_dilation_sizes = {{1, 2}, {2, 6}, {3, 12}};
  return c;
}

HifiganConfig HifiganConfig::v1_large() {
  HifiganConfig c;
  c.upsample_rates = {4, 4, 2, 2, 2, 2};
  c.upsample_kernel_sizes = {8, 8, 4, 4, 4, 4};
  c.upsample_initial_channel = 2048;
  c.resblock_kernel_sizes = {3, 7, 11, 15};
  c.resblock_dilation_sizes = {{1, 3, 5}, {1, 3, 5}, {1, 3, 5}, {1, 3, 5}};
  c.num_mels = 160;
  return c;
}

HifiganConfig HifiganConfig::tiny() {
  HifiganConfig c;
  c.upsample_initial_channel = 32;
  return c;
}

// --- generator ------------------------------------------------------------------------------

HifiganResBlockImpl::HifiganResBlockImpl(const std::string& type, int64_t channels,
                                         int64_t kernel_size,
                                         const std::vector<int64_t>& dilations) {
  const auto wn = nn::WeightNorm::kWeight;
  torch::nn::ModuleList first;
  torch::nn::ModuleList second;
  for (int64_t d : dilations) {
    convs1_.emplace_back(conv(channels, channels, {kernel_size}, wn)
                             .with_dilation({d})
                             .with_padding({same_padding(kernel_size, d)}));
    first->push_back(convs1_.back());
    if (type == "1") {
      convs2_.emplace_back(
          conv(channels, channels, {kernel_size}, wn).with_padding({same_padding(kernel_size, 1)}));
      second->push_back(convs2_.back());
    }
  }
  if (type == "1") {
    register_module("convs1", first);
    register_module("convs2", second);
  } else {
    register_module("convs", first);
  }
}

at::Tensor HifiganResBlockImpl::forward(at::Tensor x) {
  for (size_t i = 0; i < convs1_.size(); ++i) {
    at::Tensor h = convs1_[i](at::leaky_relu(x, kLreluSlope));  // [B, C, T]
    if (!convs2_.empty()) h = convs2_[i](at::leaky_relu(h, kLreluSlope));
    x = h + x;
  }
  return x;
}

HifiganGeneratorImpl::HifiganGeneratorImpl(HifiganConfig config) : config_(std::move(config)) {
  config_.validate();
  const auto wn = nn::WeightNorm::kWeight;
  const int64_t c0 = config_.upsample_initial_channel;
  conv_pre_ = register_module("conv_pre",
                              nn::Conv1d(conv(config_.num_mels, c0, {7}, wn).with_padding({3})));
  ups_ = register_module("ups", torch::nn::ModuleList());
  resblocks_ = register_module("resblocks", torch::nn::ModuleList());
  int64_t ch = c0;
  for (size_t i = 0; i < config_.upsample_rates.size(); ++i) {
    const int64_t u = config_.upsample_rates[i];
    const int64_t k = config_.upsample_kernel_sizes[i];
    ups_->push_back(nn::ConvTranspose1d(
        conv(ch, ch / 2, {k}, wn).with_stride({u}).with_padding({(k - u) / 2})));
    ch /= 2;
    for (size_t j = 0; j < config_.resblock_kernel_sizes.size(); ++j) {
      resblocks_->push_back(HifiganResBlock(config_.resblock, ch, config_.resblock_kernel_sizes[j],
                                            config_.resblock_dilation_sizes[j]));
    }
  }
  conv_post_ = register_module("conv_post", nn::Conv1d(conv(ch, 1, {7}, wn).with_padding({3})));
}

at::Tensor HifiganGeneratorImpl::forward(const at::Tensor& mel) {
  return forward_with_activations(mel, nullptr);
}

at::Tensor HifiganGeneratorImpl::forward_with_activations(const at::Tensor& mel,
                                                          std::vector<at::Tensor>* stages,
                                                          at::Tensor* pre) {
  MUDIT_CHECK(mel.dim() == 3 && mel.size(1) == config_.num_mels, ShapeError,
              "hifigan generator expects mel [B, ", config_.num_mels, ", N], got ", mel.sizes());
  at::Tensor x = conv_pre_(mel);  // [B, C0, N]
  if (pre) *pre = x;
  const size_t kernels = config_.resblock_kernel_sizes.size();
  for (size_t i = 0; i < ups_->size(); ++i) {
    x = at::leaky_relu(x, kLreluSlope);
    x = ups_[i]->as<nn::NormConvImpl>()->forward(x);  // [B, C/2^(i+1), N * prod(u[..i])]
    at::Tensor sum;
    for (size_t j = 0; j < kernels; ++j) {
      at::Tensor r = resblocks_[i * kernels + j]->as<HifiganResBlockImpl>()->forward(x);
      sum = j == 0 ? r : sum + r;
    }
    x = sum / static_cast<double>(kernels);
    if (stages) stages->push_back(x);
  }
  x = at::leaky_relu(x, kFinalLreluSlope);
  return at::tanh(conv_post_(x));  // [B, 1, N * hop]
}

void HifiganGeneratorImpl::remove_weight_norm() {
  nn::remove_weight_norm(*this);
}

// --- discriminators -------------------------------------------------------------------------

void HifiganDiscriminatorConfig::validate() const {
  MUDIT_CHECK(!periods.empty() || scales > 0, ConfigError,
              "hifigan discriminator: give periods or scales");
  for (int64_t p : periods) MUDIT_CHECK(p > 0, ConfigError, "hifigan periods must be positive");
  MUDIT_CHECK(scales >= 0, ConfigError, "hifigan discriminator scales must be >= 0");
  MUDIT_CHECK(width > 0 && width <= 4, ConfigError,
              "hifigan discriminator width must be in (0, 4], got ", width);
}

HifiganPeriodDiscriminatorImpl::HifiganPeriodDiscriminatorImpl(int64_t period, nn::WeightNorm norm,
                                                               double width)
    : period_(period) {
  MUDIT_CHECK(period > 0, ConfigError, "hifigan period must be positive, got ", period);
  torch::nn::ModuleList list;
  std::vector<int64_t> channels{1, 32, 128, 512, 1024, 1024};
  for (auto& c : channels) c = scaled(c, width);
  for (size_t i = 0; i + 1 < channels.size(); ++i) {
    const int64_t stride = i + 2 < channels.size() ? 3 : 1;
    convs_.emplace_back(conv(channels[i], channels[i + 1], {5, 1}, norm)
                            .with_stride({stride, 1})
                            .with_padding({2, 0}));
    list->push_back(convs_.back());
  }
  register_module("convs", list);
  conv_post_ = register_module(
      "conv_post", nn::Conv2d(conv(channels.back(), 1, {3, 1}, norm).with_padding({1, 0})));
}

DiscriminatorOutput HifiganPeriodDiscriminatorImpl::forward(const at::Tensor& x) {
  MUDIT_CHECK(x.dim() == 3, ShapeError, "period discriminator expects [B, 1, T], got ", x.sizes());
  at::Tensor h = x;
  int64_t t = x.size(2);
  if (t % period_ != 0) {
    const int64_t pad = period_ - t % period_;
    h = at::pad(h, {0, pad}, "reflect");  // [B, 1, T + pad]
    t += pad;
  }
  h = h.view({x.size(0), x.size(1), t / period_, period_});  // [B, 1, T/p, p]
  DiscriminatorOutput out;
  for (auto& c : convs_) {
    h = at::leaky_relu(c(h), kLreluSlope);  // [B, C, T', p]
    out.fmap.push_back(h);
  }
  h = conv_post_(h);  // [B, 1, T', p]
  out.fmap.push_back(h);
  out.logits = h.flatten(1, -1);  // [B, T' * p]
  return out;
}

HifiganScaleDiscriminatorImpl::HifiganScaleDiscriminatorImpl(nn::WeightNorm norm, double width) {
  struct Layer {
    int64_t in, out, kernel, stride, groups, padding;
  };
  const Layer layers[] = {{1, 128, 15, 1, 1, 7},      {128, 128, 41, 2, 4, 20},
                          {128, 256, 41, 2, 16, 20},  {256, 512, 41, 4, 16, 20},
                          {512, 1024, 41, 4, 16, 20}, {1024, 1024, 41, 1, 16, 20},
                          {1024, 1024, 5, 1, 1, 2}};
  torch::nn::ModuleList list;
  int64_t last = 1;
  for (const Layer& l : layers) {
    const int64_t in = scaled(l.in, width);
    const int64_t out = scaled(l.out, width);
    const int64_t groups = std::gcd(l.groups, std::gcd(in, out));
    convs_.emplace_back(conv(in, out, {l.kernel}, norm)
                            .with_stride({l.stride})
                            .with_groups(groups)
                            .with_padding({l.padding}));
    list->push_back(convs_.back());
    last = out;
  }
  register_module("convs", list);
  conv_post_ = register_module("conv_post", nn::Conv1d(conv(last, 1, {3}, norm).with_padding({1})));
}

DiscriminatorOutput HifiganScaleDiscriminatorImpl::forward(const at::Tensor& x) {
  DiscriminatorOutput out;
  at::Tensor h = x;  // [B, 1, T]
  for (auto& c : convs_) {
    h = at::leaky_relu(c(h), kLreluSlope);  // [B, C, T']
    out.fmap.push_back(h);
  }
  h = conv_post_(h);  // [B, 1, T']
  out.fmap.push_back(h);
  out.logits = h.flatten(1, -1);  // [B, T']
  return out;
}

namespace {

void append(MultiDiscriminatorOutput& out, DiscriminatorOutput r, DiscriminatorOutput g) {
  out.y_d_rs.push_back(std::move(r.logits));
  out.fmap_rs.push_back(std::move(r.fmap));
  out.y_d_gs.push_back(std::move(g.logits));
  out.fmap_gs.push_back(std::move(g.fmap));
}

}  // namespace

HifiganMPDImpl::HifiganMPDImpl(std::vector<int64_t> periods, double width) {
  torch::nn::ModuleList list;
  for (int64_t p : periods) {
    discriminators_.emplace_back(p, nn::WeightNorm::kWeight, width);
    list->push_back(discriminators_.back());
  }
  register_module("discriminators", list);
}

MultiDiscriminatorOutput HifiganMPDImpl::forward(const at::Tensor& y, const at::Tensor& y_hat) {
  MultiDiscriminatorOutput out;
  for (auto& d : discriminators_) append(out, d(y), d(y_hat));
  return out;
}

HifiganMSDImpl::HifiganMSDImpl(int64_t scales, double width) {
  torch::nn::ModuleList list;
  for (int64_t i = 0; i < scales; ++i) {
    discriminators_.emplace_back(i == 0 ? nn::WeightNorm::kSpectral : nn::WeightNorm::kWeight,
                                 width);
    list->push_back(discriminators_.back());
  }
  register_module("discriminators", list);
}

MultiDiscriminatorOutput HifiganMSDImpl::forward(const at::Tensor& y, const at::Tensor& y_hat) {
  MultiDiscriminatorOutput out;
  at::Tensor r = y;      // [B, 1, T]
  at::Tensor g = y_hat;  // [B, 1, T]
  for (size_t i = 0; i < discriminators_.size(); ++i) {
    if (i > 0) {
      // AvgPool1d(4, 2, padding=2), count_include_pad=True: [B, 1, T / 2 + 1]
      r = at::avg_pool1d(r, {4}, {2}, {2}, false, true);
      g = at::avg_pool1d(g, {4}, {2}, {2}, false, true);
    }
    append(out, discriminators_[i](r), discriminators_[i](g));
  }
  return out;
}

HifiganDiscriminatorImpl::HifiganDiscriminatorImpl(HifiganDiscriminatorConfig config) {
  config.validate();
  if (!config.periods.empty()) {
    mpd_ = register_module("mpd", HifiganMPD(config.periods, config.width));
  }
  if (config.scales > 0) msd_ = register_module("msd", HifiganMSD(config.scales, config.width));
}

MultiDiscriminatorOutput HifiganDiscriminatorImpl::forward(const at::Tensor& y,
                                                           const at::Tensor& y_hat) {
  MultiDiscriminatorOutput out;
  auto add = [&out](MultiDiscriminatorOutput part) {
    for (auto& t : part.y_d_rs) out.y_d_rs.push_back(std::move(t));
    for (auto& t : part.y_d_gs) out.y_d_gs.push_back(std::move(t));
    for (auto& f : part.fmap_rs) out.fmap_rs.push_back(std::move(f));
    for (auto& f : part.fmap_gs) out.fmap_gs.push_back(std::move(f));
  };
  if (mpd_) add(mpd_(y, y_hat));
  if (msd_) add(msd_(y, y_hat));
  return out;
}

// --- losses ---------------------------------------------------------------------------------

DiscriminatorLoss hifigan_discriminator_loss(const std::vector<at::Tensor>& y_d_rs,
                                             const std::vector<at::Tensor>& y_d_gs) {
  MUDIT_CHECK(y_d_rs.size() == y_d_gs.size() && !y_d_rs.empty(), ShapeError,
              "discriminator loss needs as many real as generated outputs, got ", y_d_rs.size(),
              " and ", y_d_gs.size());
  DiscriminatorLoss loss;
  for (size_t k = 0; k < y_d_rs.size(); ++k) {
    at::Tensor r = (1 - y_d_rs[k].to(at::kFloat)).pow(2).mean();
    at::Tensor g = y_d_gs[k].to(at::kFloat).pow(2).mean();
    loss.total = k == 0 ? r + g : loss.total + (r + g);
    loss.real.push_back(r);
    loss.generated.push_back(g);
  }
  return loss;
}

GeneratorLoss hifigan_generator_loss(const std::vector<at::Tensor>& y_d_gs) {
  MUDIT_CHECK(!y_d_gs.empty(), ShapeError, "generator loss needs at least one output");
  GeneratorLoss loss;
  for (size_t k = 0; k < y_d_gs.size(); ++k) {
    at::Tensor l = (1 - y_d_gs[k].to(at::kFloat)).pow(2).mean();
    loss.total = k == 0 ? l : loss.total + l;
    loss.each.push_back(l);
  }
  return loss;
}

at::Tensor hifigan_feature_loss(const std::vector<std::vector<at::Tensor>>& fmap_rs,
                                const std::vector<std::vector<at::Tensor>>& fmap_gs) {
  MUDIT_CHECK(fmap_rs.size() == fmap_gs.size() && !fmap_rs.empty(), ShapeError,
              "feature loss needs as many real as generated feature-map lists");
  at::Tensor total;
  for (size_t k = 0; k < fmap_rs.size(); ++k) {
    MUDIT_CHECK(fmap_rs[k].size() == fmap_gs[k].size(), ShapeError, "feature loss: discriminator ",
                k, " has ", fmap_rs[k].size(), " real and ", fmap_gs[k].size(), " generated maps");
    for (size_t l = 0; l < fmap_rs[k].size(); ++l) {
      at::Tensor m = (fmap_rs[k][l].to(at::kFloat) - fmap_gs[k][l].to(at::kFloat)).abs().mean();
      total = total.defined() ? total + m : m;
    }
  }
  return total * 2;
}

}  // namespace mudit
