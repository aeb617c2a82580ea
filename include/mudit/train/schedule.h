#pragma once

// Learning-rate schedules as pure functions of the optimizer step: the trainer sets
// lr = base_lr * lr_factor(cfg, step) before each step, so resuming needs only the step.

#include <cstdint>
#include <string>

#include "mudit/core/error.h"

namespace mudit::train {

/// A learning-rate schedule: an optional linear warm-up, then a decay of the given kind.
///
/// With W = warmup_steps, T = total_steps, s the 0-based step, m = min_ratio:
///   warm-up (s < W):  warmup_start + (1 - warmup_start) * s / W          (every kind)
///   constant:         1
///   linear:           1 - (1 - m) * p,                 p = clamp((s - W) / (T - W), 0, 1)
///   cosine:           m + (1 - m) * (1 + cos(pi * p)) / 2
///   warmup_decay:     max(m, (W / s)^decay_power)
struct ScheduleConfig {
  std::string kind = "cosine";  // constant | linear | cosine | warmup_decay
  int64_t warmup_steps = 0;
  int64_t total_steps = 0;    // linear/cosine decay end; 0: the run's length (see resolved())
  double warmup_start = 0.0;  // lr factor at step 0 of warm-up (linear ramp to 1 at warmup_steps)
  double min_ratio = 0.0;     // floor as a fraction of the base lr (linear, cosine, warmup_decay)
  double decay_power = 0.5;  // warmup_decay: factor (warmup_steps / step)^decay_power after warm-up

  template <class V>
  void visit(V& v) {
    v("kind", kind);
    v("warmup_steps", warmup_steps);
    v("total_steps", total_steps);
    v("warmup_start", warmup_start);
    v("min_ratio", min_ratio);
    v("decay_power", decay_power);
  }
  /// Throws ConfigError for an unknown kind, negative step counts, linear/cosine without
  /// total_steps > warmup_steps, warmup_decay without warmup_steps > 0, warmup_start or min_ratio
  /// outside [0, 1], or a non-positive decay_power.
  /// A copy with total_steps = run_steps when it was 0 ("the run's length"); throws ConfigError
  /// when the decay would end before the warm-up does. The trainer schedules with this.
  ScheduleConfig resolved(int64_t run_steps) const;
  void validate() const;
};

/// Learning-rate factor (multiply the base lr) at 0-based optimizer step `step`. Pure function;
/// validates `cfg` (ConfigError) and rejects a negative step.
///
/// warmup_decay is mudit's definition of the seed's "WarmupDecay" schedule, whose exact formula
/// is not published: a linear warm-up to 1 at warmup_steps, then inverse-power decay
/// (warmup_steps / step)^decay_power (inverse square root by default, as in the original
/// Transformer schedule), never below min_ratio.
double lr_factor(const ScheduleConfig& cfg, int64_t step);

}  // namespace mudit::train
