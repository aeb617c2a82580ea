// Private helpers of the synthetic corpus shared by its source files.
#pragma once

#include <cstdint>
#include <random>
#include <string>
#include <vector>

namespace mudit::data::synth::detail {

/// FluidSynth renders in blocks of this many samples and applies note events between blocks;
/// composition puts every note time on this grid so rendering is exact to the sample.
constexpr int kFluidBlock = 64;

/// The song's random stream: a 64-bit Mersenne Twister with its own (portable) draws, so the same
/// seed gives the same song with any standard library.
class Rng {
 public:
  explicit Rng(uint64_t seed) : engine_(seed) {}
  /// Uniform in [lo, hi] (inclusive).
  int uniform(int lo, int hi) {
    return lo + static_cast<int>(engine_() % static_cast<uint64_t>(hi - lo + 1));
  }
  /// Uniform in [0, 1).
  double real() { return static_cast<double>(engine_() >> 11) * 0x1.0p-53; }
  double real(double lo, double hi) { return lo + (hi - lo) * real(); }
  bool chance(double p) { return real() < p; }
  template <class T>
  const T& pick(const std::vector<T>& items) {
    return items[static_cast<size_t>(uniform(0, static_cast<int>(items.size()) - 1))];
  }

 private:
  std::mt19937_64 engine_;
};

/// Chord quality → semitones above the root.
std::vector<int> quality_intervals(const std::string& quality);

}  // namespace mudit::data::synth::detail
