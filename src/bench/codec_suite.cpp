#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>
#include <sys/resource.h>

#include <chrono>
#include <cmath>

#include "bench/suites.h"
#include "mudit/core/log.h"
#include "mudit/models/codec.h"

namespace mudit::bench {
namespace {

// The process's peak resident set so far, in MB.
double peak_rss_mb() {
  rusage u{};
  ::getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_maxrss) / 1024.0;
}

// Stereo test music: two drifting tones and a little noise, [2, seconds * rate].
at::Tensor music(double seconds, int rate) {
  const int64_t n = std::llround(seconds * rate);
  const at::Tensor t = at::arange(n, at::kFloat) / static_cast<double>(rate);
  const at::Tensor l = 0.3 * at::sin(2 * M_PI * (220.0 + 20.0 * at::sin(0.1 * t)) * t);
  const at::Tensor r = 0.3 * at::sin(2 * M_PI * 330.0 * t) * at::cos(2 * M_PI * 0.5 * t);
  return at::stack({l, r}) + 0.01 * at::randn({2, n});
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

std::vector<Measurement> run_codec_suite(const BenchOptions& options) {
  at::set_num_threads(options.threads);
  torch::manual_seed(0);
  WaveVAECodec codec(WaveVAEConfig::seed());
  codec->eval();
  std::vector<Measurement> out;
  const double base = peak_rss_mb();
  out.push_back({"codec", "process peak RSS with the seed wave VAE", base, "MB"});
  for (double minutes : {1.0, 5.0}) {
    const at::Tensor wav = music(minutes * 60, 24000);
    const auto t0 = std::chrono::steady_clock::now();
    const at::Tensor z = encode_chunked(*codec, wav);
    const double enc = seconds_since(t0);
    const auto t1 = std::chrono::steady_clock::now();
    const at::Tensor y = decode_chunked(*codec, z);
    const double dec = seconds_since(t1);
    const std::string m = std::to_string(static_cast<int>(minutes)) + " min";
    log::info("bench codec: ", m, " stereo -> latents ", z.sizes(), " -> audio ", y.sizes());
    out.push_back({"codec", m + " encode RTF", enc / (minutes * 60), "x"});
    out.push_back({"codec", m + " decode RTF", dec / (minutes * 60), "x"});
    out.push_back({"codec", m + " round trip peak RSS", peak_rss_mb(), "MB"});
  }
  // The baseline: 90 s (three windows) encoded and decoded in one piece, without chunks.
  {
    c10::InferenceMode guard;
    const at::Tensor wav = music(90, 24000).unsqueeze(0);
    const at::Tensor y = codec->decode(codec->encode(wav));
    out.push_back({"codec", "unchunked 90 s round trip peak RSS", peak_rss_mb(), "MB"});
  }
  return out;
}

}  // namespace mudit::bench
