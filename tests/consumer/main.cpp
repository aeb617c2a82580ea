// Embedding mudit in your own C++ program: read a typed config, use LibTorch through mudit's
// helpers, and handle mudit's errors. Built against the install tree by tests/consumer/run.sh.
#include <mudit/mudit.h>
#include <torch/types.h>

#include <iostream>

struct ExperimentConfig {
  int64_t frames = 16;
  double scale = 1.0;
  std::string device = "cpu";
  template <class V>
  void visit(V& v) {
    v("frames", frames);
    v("scale", scale);
    v("device", device);
  }
  void validate() const { MUDIT_CHECK(frames > 0, ConfigError, "frames must be positive"); }
};

int main() {
  try {
    mudit::ConfigNode tree = mudit::parse_config_text("frames: 8\nscale: 0.5\n", "inline");
    mudit::apply_override(tree, "frames=32");
    const auto cfg = mudit::bind_config<ExperimentConfig>(tree);

    const auto device = mudit::parse_device(cfg.device);
    auto gen = mudit::make_generator(mudit::derive_seed(1234, /*rank=*/0));
    const torch::Tensor x = torch::randn({cfg.frames}, gen).to(device) * cfg.scale;  // [frames]
    mudit::log::info("consumer: ", x.numel(), " frames on ", device.str());

    // A config mistake is a typed error with a useful message.
    try {
      mudit::bind_config<ExperimentConfig>(mudit::parse_config_text("frams: 3\n", "typo.yaml"));
      return 1;
    } catch (const mudit::ConfigError& e) {
      std::cout << "caught: " << e.what() << "\n";
    }
    std::cout << mudit::build_info().substr(0, mudit::build_info().find('\n')) << "\n";
    std::cout << "frames=" << x.numel() << "\n";
    return x.numel() == 32 ? 0 : 1;
  } catch (const mudit::Error& e) {
    std::cerr << "consumer: " << e.what() << "\n";
    return 1;
  }
}
