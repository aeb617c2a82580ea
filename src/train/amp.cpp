#include "mudit/train/amp.h"

#include <ATen/Context.h>
#include <ATen/autocast_mode.h>
#include <ATen/ops/isfinite.h>
#include <ATen/ops/logical_not.h>
#include <ATen/ops/stack.h>
#include <torch/csrc/autograd/grad_mode.h>

#include <unordered_map>
#include <utility>

#include "train/autocast_state.h"

namespace mudit::train {

namespace detail {

AutocastState autocast_state(c10::DeviceType device_type) {
  return {at::autocast::is_autocast_enabled(device_type),
          at::autocast::get_autocast_dtype(device_type)};
}

void enter_autocast(c10::DeviceType device_type, const AutocastState& state) {
  at::autocast::set_autocast_enabled(device_type, state.enabled);
  at::autocast::set_autocast_dtype(device_type, state.dtype);
  at::autocast::increment_nesting();
}

void exit_autocast(c10::DeviceType device_type, const AutocastState& previous) {
  if (at::autocast::decrement_nesting() == 0) at::autocast::clear_cache();
  at::autocast::set_autocast_enabled(device_type, previous.enabled);
  at::autocast::set_autocast_dtype(device_type, previous.dtype);
}

}  // namespace detail

void AmpConfig::validate() const {
  MUDIT_CHECK(dtype == "fp32" || dtype == "bf16" || dtype == "fp16", ConfigError, "amp dtype '",
              dtype, "' is not one of: fp32, bf16, fp16");
  MUDIT_CHECK(init_scale > 0, ConfigError, "init_scale must be positive, got ", init_scale);
  MUDIT_CHECK(growth_factor > 1, ConfigError, "growth_factor must be above 1, got ", growth_factor);
  MUDIT_CHECK(backoff_factor > 0 && backoff_factor < 1, ConfigError,
              "backoff_factor must lie in (0, 1), got ", backoff_factor);
  MUDIT_CHECK(growth_interval >= 1, ConfigError, "growth_interval must be at least 1, got ",
              growth_interval);
}

c10::ScalarType amp_dtype(const AmpConfig& cfg) {
  if (cfg.dtype == "bf16") return at::kBFloat16;
  if (cfg.dtype == "fp16") return at::kHalf;
  MUDIT_CHECK(cfg.dtype == "fp32", ConfigError, "amp dtype '", cfg.dtype,
              "' is not one of: fp32, bf16, fp16");
  return at::kFloat;
}

AutocastGuard::AutocastGuard(c10::DeviceType device_type, const AmpConfig& cfg)
    : device_type_(device_type) {
  const c10::ScalarType dtype = amp_dtype(cfg);
  if (dtype == at::kFloat) return;
  MUDIT_CHECK(at::autocast::is_autocast_available(device_type), ConfigError,
              "autocast is not available for device type ", c10::DeviceTypeName(device_type));
  const detail::AutocastState prev = detail::autocast_state(device_type);
  prev_enabled_ = prev.enabled;
  prev_dtype_ = prev.dtype;
  detail::enter_autocast(device_type, {true, dtype});
  active_ = true;
}

AutocastGuard::~AutocastGuard() {
  if (active_) detail::exit_autocast(device_type_, {prev_enabled_, prev_dtype_});
}

void apply_tf32(const AmpConfig& cfg) {
  at::globalContext().setAllowTF32CuBLAS(cfg.tf32);
  at::globalContext().setAllowTF32CuDNN(cfg.tf32);
}

LossScaler::LossScaler(const AmpConfig& cfg)
    : enabled_(cfg.dtype == "fp16"),
      scale_(enabled_ ? cfg.init_scale : 1.0),
      growth_factor_(cfg.growth_factor),
      backoff_factor_(cfg.backoff_factor),
      growth_interval_(cfg.growth_interval) {
  cfg.validate();
}

at::Tensor LossScaler::scale_loss(const at::Tensor& loss) const {
  return enabled_ ? loss * scale_ : loss;
}

bool LossScaler::unscale_and_check(const std::vector<at::Tensor>& params) {
  if (!enabled_) return true;
  torch::NoGradGuard no_grad;
  std::unordered_map<c10::Device, std::vector<at::Tensor>>
      bad_by_device;  // [] bool scalars per grad
  for (const auto& p : params) {
    const at::Tensor& g = p.grad();
    if (!g.defined()) continue;
    g.div_(scale_);
    bad_by_device[g.device()].push_back(at::isfinite(g).all().logical_not());
  }
  bool found_inf = false;
  for (const auto& [device, bad] : bad_by_device) {
    found_inf = found_inf || at::stack(bad).any().item<bool>();
  }
  return !found_inf;
}

void LossScaler::update(bool found_inf) {
  if (!enabled_) return;
  if (found_inf) {
    scale_ *= backoff_factor_;
    growth_tracker_ = 0;
  } else if (++growth_tracker_ >= growth_interval_) {
    scale_ *= growth_factor_;
    growth_tracker_ = 0;
  }
}

std::map<std::string, double> LossScaler::state() const {
  return {{"scale", scale_}, {"growth_tracker", static_cast<double>(growth_tracker_)}};
}

void LossScaler::load_state(const std::map<std::string, double>& state) {
  auto scale = state.find("scale");
  auto tracker = state.find("growth_tracker");
  MUDIT_CHECK(scale != state.end() && tracker != state.end(), ConfigError,
              "loss scaler state needs 'scale' and 'growth_tracker'");
  MUDIT_CHECK(scale->second > 0, ConfigError, "loss scaler state: scale must be positive, got ",
              scale->second);
  if (!enabled_) return;  // e.g. an fp16 run resumed in bf16: the scale no longer applies
  scale_ = scale->second;
  growth_tracker_ = static_cast<int64_t>(tracker->second);
}

}  // namespace mudit::train
