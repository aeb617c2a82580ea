#include "mudit/train/metrics_log.h"

#include <nlohmann/json.hpp>

#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <utility>
#include <vector>

#include "mudit/core/error.h"

namespace mudit::train {
namespace {

double unix_seconds() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

}  // namespace

void MetricsLogConfig::validate() const {
  MUDIT_CHECK(progress_interval > 0, ConfigError, "progress_interval must be positive, got ",
              progress_interval);
  MUDIT_CHECK(progress_every_steps >= 0, ConfigError, "progress_every_steps must be >= 0, got ",
              progress_every_steps);
}

MetricsLog::MetricsLog(const std::filesystem::path& run_dir, const MetricsLogConfig& config,
                       int64_t total_steps, const std::string& label)
    : MetricsLog(run_dir, config, nullptr) {
  if (config.progress) {
    ProgressOptions opts;
    opts.label = label;
    opts.total = total_steps;
    opts.interval = config.progress_interval;
    opts.every_steps = config.progress_every_steps;
    progress_ = std::make_unique<ProgressBar>(opts);
  }
}

MetricsLog::MetricsLog(const std::filesystem::path& run_dir, const MetricsLogConfig& config,
                       std::unique_ptr<ProgressBar> progress)
    : run_dir_(run_dir), config_(config), progress_(std::move(progress)) {
  config_.validate();
  std::error_code ec;
  std::filesystem::create_directories(run_dir_, ec);
  MUDIT_CHECK(!ec, IoError, "cannot create run folder '", run_dir_.string(), "': ", ec.message());
  if (config_.jsonl) {
    const auto path = jsonl_path();
    jsonl_.reset(std::fopen(path.c_str(), "a"));
    MUDIT_CHECK(jsonl_ != nullptr, IoError, "cannot open '", path.string(),
                "': ", std::strerror(errno));
  }
  if (config_.tensorboard) tensorboard_ = std::make_unique<TensorBoardWriter>(tensorboard_dir());
}

MetricsLog::~MetricsLog() {
  if (progress_) progress_->finish();
}

void MetricsLog::log_scalars(int64_t step, const std::map<std::string, double>& values) {
  if (jsonl_) {
    nlohmann::ordered_json row;
    row["step"] = step;
    row["time"] = unix_seconds();
    for (const auto& [name, v] : values) {
      if (std::isfinite(v)) {
        row[name] = v;
      } else {
        row[name] = nullptr;
      }
    }
    const std::string line = row.dump() + "\n";
    if (std::fwrite(line.data(), 1, line.size(), jsonl_.get()) != line.size() ||
        std::fflush(jsonl_.get()) != 0) {
      MUDIT_THROW(IoError, "cannot write '", jsonl_path().string(), "': ", std::strerror(errno));
    }
  }
  if (tensorboard_) tensorboard_->add_scalars(values, step);
  if (progress_) {
    progress_->update(step,
                      std::vector<std::pair<std::string, double>>(values.begin(), values.end()));
  }
}

void MetricsLog::log_audio(int64_t step, const std::string& tag, const torch::Tensor& samples,
                           int sample_rate) {
  if (tensorboard_) tensorboard_->add_audio(tag, samples, sample_rate, step);
}

void MetricsLog::log_image(int64_t step, const std::string& tag, const torch::Tensor& image) {
  if (tensorboard_) tensorboard_->add_image(tag, image, step);
}

void MetricsLog::log_spectrogram(int64_t step, const std::string& tag,
                                 const torch::Tensor& spectrogram,
                                 const SpectrogramImageOptions& options) {
  if (tensorboard_) tensorboard_->add_image(tag, spectrogram_image(spectrogram, options), step);
}

void MetricsLog::finish() {
  if (progress_) progress_->finish();
}

}  // namespace mudit::train
