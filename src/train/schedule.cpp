#include "mudit/train/schedule.h"

#include <algorithm>
#include <cmath>

namespace mudit::train {

void ScheduleConfig::validate() const {
  MUDIT_CHECK(kind == "constant" || kind == "linear" || kind == "cosine" || kind == "warmup_decay",
              ConfigError, "schedule kind '", kind,
              "' is not one of: constant, linear, cosine, warmup_decay");
  MUDIT_CHECK(warmup_steps >= 0, ConfigError, "warmup_steps must not be negative, got ",
              warmup_steps);
  MUDIT_CHECK(total_steps >= 0, ConfigError, "total_steps must not be negative, got ", total_steps);
  if ((kind == "linear" || kind == "cosine") && total_steps > 0) {
    MUDIT_CHECK(total_steps > warmup_steps, ConfigError, "a ", kind,
                " schedule needs total_steps > warmup_steps, got total_steps ", total_steps,
                " and warmup_steps ", warmup_steps);
  }
  if (kind == "warmup_decay") {
    MUDIT_CHECK(warmup_steps > 0, ConfigError,
                "a warmup_decay schedule needs warmup_steps > 0 (the decay is measured from it)");
  }
  MUDIT_CHECK(warmup_start >= 0 && warmup_start <= 1, ConfigError,
              "warmup_start must lie in [0, 1], got ", warmup_start);
  MUDIT_CHECK(min_ratio >= 0 && min_ratio <= 1, ConfigError, "min_ratio must lie in [0, 1], got ",
              min_ratio);
  MUDIT_CHECK(decay_power > 0, ConfigError, "decay_power must be positive, got ", decay_power);
}

ScheduleConfig ScheduleConfig::resolved(int64_t run_steps) const {
  ScheduleConfig out = *this;
  if (out.total_steps == 0) out.total_steps = run_steps;
  if ((out.kind == "linear" || out.kind == "cosine") && out.total_steps <= out.warmup_steps) {
    MUDIT_THROW(ConfigError, "a ", kind,
                " schedule needs total_steps > warmup_steps, got total_steps ", out.total_steps,
                total_steps == 0 ? " (the run's length)" : "", " and warmup_steps ",
                out.warmup_steps);
  }
  out.validate();
  return out;
}

double lr_factor(const ScheduleConfig& cfg, int64_t step) {
  cfg.validate();
  MUDIT_CHECK(!((cfg.kind == "linear" || cfg.kind == "cosine") && cfg.total_steps == 0),
              ConfigError, "a ", cfg.kind,
              " schedule with total_steps 0 (the run's length) must be resolved first: ",
              "ScheduleConfig::resolved(run_steps)");
  MUDIT_CHECK(step >= 0, ConfigError, "lr_factor: step must not be negative, got ", step);
  const auto w = static_cast<double>(cfg.warmup_steps);
  const auto s = static_cast<double>(step);
  if (step < cfg.warmup_steps) {
    return cfg.warmup_start + (1.0 - cfg.warmup_start) * s / w;
  }
  if (cfg.kind == "constant") return 1.0;
  if (cfg.kind == "warmup_decay") return std::max(cfg.min_ratio, std::pow(w / s, cfg.decay_power));
  const double span = static_cast<double>(cfg.total_steps) - w;
  const double p = std::clamp((s - w) / span, 0.0, 1.0);
  if (cfg.kind == "linear") return 1.0 - (1.0 - cfg.min_ratio) * p;
  return cfg.min_ratio + (1.0 - cfg.min_ratio) * 0.5 * (1.0 + std::cos(M_PI * p));
}

}  // namespace mudit::train
