#include "tensorboard/record.h"

#include <cstdint>
#include <stdexcept>

#include "tensorboard/crc32c.h"

namespace tbevent {
namespace {

void put_le(std::string& out, uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xFFu));
}

uint64_t get_le(std::string_view in, size_t pos, int bytes) {
  uint64_t v = 0;
  for (int i = 0; i < bytes; ++i) v |= uint64_t(static_cast<unsigned char>(in[pos + i])) << (8 * i);
  return v;
}

}  // namespace

void append_record(std::string& out, std::string_view payload) {
  std::string header;
  put_le(header, payload.size(), 8);
  out += header;
  put_le(out, mask_crc(crc32c(header)), 4);
  out.append(payload.data(), payload.size());
  put_le(out, mask_crc(crc32c(payload)), 4);
}

std::vector<std::string> read_records(std::string_view bytes) {
  std::vector<std::string> records;
  size_t pos = 0;
  while (pos < bytes.size()) {
    const std::string where = "record at byte " + std::to_string(pos);
    if (bytes.size() - pos < 12) throw std::runtime_error(where + ": cut off in its header");
    const uint64_t length = get_le(bytes, pos, 8);
    if (mask_crc(crc32c(bytes.substr(pos, 8))) != get_le(bytes, pos + 8, 4)) {
      throw std::runtime_error(where + ": length CRC mismatch");
    }
    if (bytes.size() - pos - 12 < length + 4) {
      throw std::runtime_error(where + ": cut off in its data");
    }
    const std::string_view data = bytes.substr(pos + 12, length);
    if (mask_crc(crc32c(data)) != get_le(bytes, pos + 12 + length, 4)) {
      throw std::runtime_error(where + ": data CRC mismatch");
    }
    records.emplace_back(data);
    pos += 12 + length + 4;
  }
  return records;
}

}  // namespace tbevent
