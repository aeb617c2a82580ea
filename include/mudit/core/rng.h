#pragma once

#include <ATen/core/Generator.h>
#include <c10/core/Device.h>

#include <cstdint>

namespace mudit {

/// Streams of randomness a run draws from. Each gets its own seed per rank, so changing how
/// much noise the sampler draws never changes the data order, and ranks never share a stream.
enum class RngStream : uint64_t { kGlobal = 0, kData = 1, kNoise = 2, kDropout = 3, kAugment = 4 };

/// Derives a 64-bit seed from a base seed, a rank and a stream with splitmix64 mixing: the same
/// inputs always give the same seed, and nearby inputs give unrelated seeds.
uint64_t derive_seed(uint64_t base, uint64_t rank, RngStream stream = RngStream::kGlobal);

/// Seeds LibTorch's default generators (CPU and every CUDA device) with
/// derive_seed(base, rank, kGlobal).
void seed_everything(uint64_t base, uint64_t rank = 0);

/// A new generator on `device`, seeded with `seed`.
at::Generator make_generator(uint64_t seed, c10::Device device = c10::Device(c10::kCPU));

}  // namespace mudit
