#pragma once

#include <c10/core/Device.h>
#include <c10/core/ScalarType.h>

#include <string>
#include <string_view>

namespace mudit {

/// Parses a device name: "cpu", "cuda", "cuda:N", or "auto" (the first CUDA device when one is
/// usable, else the CPU). Throws ConfigError for malformed names, for CUDA when no CUDA device
/// is usable, and for an index past the last device.
c10::Device parse_device(std::string_view name);

/// Parses a dtype name: fp32/float32/f32, fp16/float16/half, bf16/bfloat16, fp64/float64/double.
/// Throws ConfigError for anything else.
c10::ScalarType parse_dtype(std::string_view name);
/// The canonical short name of a dtype ("fp32", "bf16", ...).
std::string dtype_name(c10::ScalarType dtype);

/// Whether LibTorch sees a usable CUDA device, and how many.
bool cuda_available();
int cuda_device_count();

/// Sets LibTorch's intra-op thread count (0 keeps LibTorch's default, one per physical core)
/// and, when positive, the inter-op thread count (which LibTorch only accepts once, before any
/// parallel work starts).
void set_num_threads(int intra_op, int inter_op = 0);

}  // namespace mudit
