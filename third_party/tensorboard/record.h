// TFRecord framing: the container format of TensorBoard event files.
//
// Each record is
//   uint64 length (little-endian) | uint32 masked CRC-32C of those 8 bytes |
//   length bytes of data          | uint32 masked CRC-32C of the data
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace tbevent {

/// Appends one framed record holding `payload` to `out`.
void append_record(std::string& out, std::string_view payload);

/// Splits a whole file into its records' payloads, checking both CRCs of every record.
/// Throws std::runtime_error naming the record's byte offset on a bad CRC or a cut-off record.
std::vector<std::string> read_records(std::string_view bytes);

}  // namespace tbevent
