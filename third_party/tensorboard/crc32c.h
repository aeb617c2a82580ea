// CRC-32C (Castagnoli) as TFRecord framing uses it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace tbevent {

/// CRC-32C of `data` (reflected polynomial 0x82F63B78, initial value and final xor 0xFFFFFFFF).
/// crc32c("123456789") == 0xE3069283.
uint32_t crc32c(std::string_view data);

/// The masked form TFRecord stores, so that a CRC of data holding CRCs stays well distributed:
/// rotate right by 15 bits, then add 0xA282EAD8.
uint32_t mask_crc(uint32_t crc);
uint32_t unmask_crc(uint32_t masked);

}  // namespace tbevent
