#pragma once

// Mixed precision: autocast (bf16 or fp16 compute with fp32 weights), TF32 switches, and the
// dynamic loss scaler fp16 needs to keep small gradients from flushing to zero.

#include <ATen/core/Tensor.h>
#include <c10/core/DeviceType.h>
#include <c10/core/ScalarType.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "mudit/core/error.h"

namespace mudit::train {

/// Precision of a training run.
struct AmpConfig {
  std::string dtype = "fp32";  // fp32 | bf16 | fp16
  bool tf32 = true;            // allow TF32 matmuls/convs on CUDA
  /// fp16 loss scaler: starting scale, growth after growth_interval clean steps, back-off on
  /// overflow.
  double init_scale = 65536.0, growth_factor = 2.0, backoff_factor = 0.5;
  int64_t growth_interval = 2000;

  template <class V>
  void visit(V& v) {
    v("dtype", dtype);
    v("tf32", tf32);
    v("init_scale", init_scale);
    v("growth_factor", growth_factor);
    v("backoff_factor", backoff_factor);
    v("growth_interval", growth_interval);
  }
  /// Throws ConfigError for an unknown dtype, init_scale <= 0, growth_factor <= 1,
  /// backoff_factor outside (0, 1) or growth_interval < 1.
  void validate() const;
};

/// The compute dtype of `cfg.dtype`: Float, BFloat16 or Half.
c10::ScalarType amp_dtype(const AmpConfig& cfg);

/// Turns autocast on for `device_type` with `dtype` for its lifetime (bf16/fp16), restoring the
/// previous state and clearing the autocast cache when the outermost guard exits; a no-op for
/// fp32. The only place autocast is switched (STYLE: "Autocast through one RAII guard"). Guards
/// nest. Throws ConfigError when autocast is not available for `device_type`.
class AutocastGuard {
 public:
  AutocastGuard(c10::DeviceType device_type, const AmpConfig& cfg);
  ~AutocastGuard();
  AutocastGuard(const AutocastGuard&) = delete;
  AutocastGuard& operator=(const AutocastGuard&) = delete;

 private:
  c10::DeviceType device_type_;
  bool active_ = false;
  bool prev_enabled_ = false;
  c10::ScalarType prev_dtype_ = c10::ScalarType::Undefined;
};

/// Sets at::globalContext()'s TF32 switches for CUDA matmuls (cuBLAS) and convolutions (cuDNN)
/// to cfg.tf32. Process-wide; harmless on CPU-only machines.
void apply_tf32(const AmpConfig& cfg);

/// Dynamic loss scaling for fp16 (identity scale 1 and never skipping when disabled). Per step:
///   scale_loss(loss).backward(); ok = unscale_and_check(params);
///   if (ok) { clip; optimizer.step(); }  update(!ok);
class LossScaler {
 public:
  /// Enabled iff cfg.dtype == "fp16".
  explicit LossScaler(const AmpConfig& cfg);

  bool enabled() const { return enabled_; }
  double scale() const { return scale_; }

  /// loss * scale (the loss itself when disabled).
  at::Tensor scale_loss(const at::Tensor& loss) const;

  /// Divides every defined .grad by the scale in place; returns false when any is inf/nan (the
  /// step must then be skipped). One host sync per device. Disabled: touches nothing, true.
  bool unscale_and_check(const std::vector<at::Tensor>& params);

  /// After the step attempt: found_inf → scale *= backoff and the step must be skipped; else
  /// after growth_interval clean steps in a row scale *= growth. Disabled: nothing.
  void update(bool found_inf);

  /// {"scale", "growth_tracker"} for the training state; load_state() restores it (ConfigError
  /// on a missing key or a non-positive scale).
  std::map<std::string, double> state() const;
  void load_state(const std::map<std::string, double>& state);

 private:
  bool enabled_;
  double scale_;
  double growth_factor_, backoff_factor_;
  int64_t growth_interval_;
  int64_t growth_tracker_ = 0;  // clean steps since the last change of scale
};

}  // namespace mudit::train
