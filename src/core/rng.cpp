#include "mudit/core/rng.h"

#include <ATen/CPUGeneratorImpl.h>
#include <ATen/Context.h>

#include "compat/torch_compat.h"
#include "mudit/core/error.h"

namespace mudit {
namespace {

uint64_t splitmix64(uint64_t x) {
  x += 0x9E3779B97F4A7C15ULL;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
  return x ^ (x >> 31);
}

}  // namespace

uint64_t derive_seed(uint64_t base, uint64_t rank, RngStream stream) {
  uint64_t h = splitmix64(base);
  h = splitmix64(h ^ (rank + 0x632BE59BD9B4E019ULL));
  return splitmix64(h ^ (static_cast<uint64_t>(stream) + 0x85157AF5ULL));
}

void seed_everything(uint64_t base, uint64_t rank) {
  const uint64_t seed = derive_seed(base, rank, RngStream::kGlobal);
  at::manual_seed(seed);  // the CPU generator and, when present, every CUDA generator
}

at::Generator make_generator(uint64_t seed, c10::Device device) {
  if (device.is_cpu()) {
    return at::make_generator<at::CPUGeneratorImpl>(seed);
  }
  MUDIT_CHECK(device.is_cuda(), ConfigError, "no random generator for device ", device.str());
#if MUDIT_TORCH_HAS_ACCELERATOR_GENERATORS
  at::Generator gen = at::globalContext()
                          .getAcceleratorHooksInterface(c10::kCUDA)
                          .getNewGenerator(device.index() < 0 ? 0 : device.index());
  gen.set_current_seed(seed);
  return gen;
#else
  MUDIT_THROW(ConfigError, "CUDA generators need LibTorch 2.4 or newer");
#endif
}

}  // namespace mudit
