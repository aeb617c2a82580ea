// The safetensors reader: header length, JSON header, dtypes, shapes and offsets of an
// arbitrary file. Every tensor the reader accepts must then read without faults, through both
// the copying and the zero-copy path.
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <string>

#include "fuzz_util.h"
#include "mudit/core/safetensors.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  mudit::fuzz::quiet();
  static const std::string path = "/tmp/mudit-fuzz-" + std::to_string(::getpid()) + ".safetensors";
  {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  }
  mudit::fuzz::expect_clean([&] {
    mudit::SafetensorsReader reader(path);
    for (const auto& e : reader.entries()) {
      const at::Tensor a = reader.tensor(e.name);
      const at::Tensor b = reader.tensor_view(e.name);
      if (static_cast<uint64_t>(a.nbytes()) != e.nbytes() ||
          std::memcmp(a.data_ptr(), b.contiguous().data_ptr(), a.nbytes()) != 0)
        __builtin_trap();  // the two paths disagree
    }
  });
  return 0;
}
