// Test helper: writes checkpoint STEP into ROOT with FILES model files of MEGABYTES each,
// printing "wrote N" after each file (so a test can kill it mid-checkpoint), then "published".
//   mudit_test_checkpoint_writer ROOT STEP FILES MEGABYTES
#include <torch/nn/modules/linear.h>
#include <torch/types.h>

#include <cstdio>
#include <string>

#include "mudit/core/checkpoint.h"
#include "mudit/core/safetensors.h"

int main(int argc, char** argv) {
  if (argc != 5) {
    std::fprintf(stderr, "usage: %s ROOT STEP FILES MEGABYTES\n", argv[0]);
    return 2;
  }
  const std::string root = argv[1];
  const int64_t step = std::stoll(argv[2]);
  const int files = std::stoi(argv[3]);
  const int64_t floats = std::stoll(argv[4]) * (1 << 20) / 4;
  mudit::CheckpointManager mgr(root, mudit::CheckpointConfig{0, 0});
  mgr.save(step, [&](const std::filesystem::path& dir) {
    for (int i = 0; i < files; ++i) {
      const auto t = torch::full({floats}, static_cast<float>(step * 100 + i));  // [floats]
      mudit::save_safetensors(dir / ("part-" + std::to_string(i) + ".safetensors"), {{"w", t}});
      std::printf("wrote %d\n", i);
      std::fflush(stdout);
    }
  });
  std::printf("published\n");
  return 0;
}
