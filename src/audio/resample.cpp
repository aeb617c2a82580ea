#include "mudit/audio/resample.h"

#include <soxr.h>

#include <cmath>
#include <vector>

#include "mudit/core/config.h"
#include "mudit/core/error.h"

namespace mudit::audio {
namespace {

unsigned long quality_recipe(const std::string& quality) {
  if (quality == "quick") return SOXR_QQ;
  if (quality == "low") return SOXR_LQ;
  if (quality == "medium") return SOXR_MQ;
  if (quality == "very_high") return SOXR_VHQ;
  return SOXR_HQ;
}

}  // namespace

void ResampleConfig::validate() const {
  check_choice("quality", quality, {"quick", "low", "medium", "high", "very_high"});
  MUDIT_CHECK(threads >= 0, ConfigError, "threads must be >= 0, got ", threads);
}

torch::Tensor resample(const torch::Tensor& samples, int from_rate, int to_rate,
                       const ResampleConfig& config) {
  config.validate();
  MUDIT_CHECK(from_rate > 0 && to_rate > 0, ConfigError, "sample rates must be positive, got ",
              from_rate, " -> ", to_rate);
  MUDIT_CHECK(samples.dim() >= 1, ShapeError, "resample needs samples [..., T], got a scalar");
  if (from_rate == to_rate) return samples;

  const int64_t in_frames = samples.size(-1);
  const int64_t out_frames = std::llround(double(in_frames) * to_rate / from_rate);
  auto out_shape = samples.sizes().vec();
  out_shape.back() = out_frames;
  if (in_frames == 0) {  // no audio (an empty window): nothing to reshape or resample
    return torch::zeros(out_shape, samples.options().dtype(torch::kFloat32));
  }
  torch::Tensor input = samples.detach()
                            .to(torch::kCPU, torch::kFloat32)
                            .contiguous()
                            .reshape({-1, in_frames});  // [C, T]
  const int64_t channels = input.size(0);
  torch::Tensor output = torch::empty({channels, out_frames}, torch::kFloat32);  // [C, T']
  if (channels == 0 || in_frames == 0 || out_frames == 0) {
    return output.reshape(out_shape).to(samples.device());
  }

  std::vector<const float*> in_ptrs(channels);
  std::vector<float*> out_ptrs(channels);
  for (int64_t c = 0; c < channels; ++c) {
    in_ptrs[c] = input.data_ptr<float>() + c * in_frames;
    out_ptrs[c] = output.data_ptr<float>() + c * out_frames;
  }
  const soxr_io_spec_t io = soxr_io_spec(SOXR_FLOAT32_S, SOXR_FLOAT32_S);
  const soxr_quality_spec_t quality = soxr_quality_spec(quality_recipe(config.quality), 0);
  const soxr_runtime_spec_t runtime = soxr_runtime_spec(static_cast<unsigned>(config.threads));
  size_t done = 0;
  const soxr_error_t err =
      soxr_oneshot(from_rate, to_rate, static_cast<unsigned>(channels), in_ptrs.data(),
                   static_cast<size_t>(in_frames), nullptr, out_ptrs.data(),
                   static_cast<size_t>(out_frames), &done, &io, &quality, &runtime);
  MUDIT_CHECK(!err, Error, "resampling ", from_rate, " -> ", to_rate, " Hz failed: ", err);
  if (done < static_cast<size_t>(out_frames)) {
    output.narrow(1, static_cast<int64_t>(done), out_frames - static_cast<int64_t>(done)).zero_();
  }
  return output.reshape(out_shape).to(samples.device());
}

}  // namespace mudit::audio
