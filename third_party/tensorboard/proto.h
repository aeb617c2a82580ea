// The few pieces of the protocol-buffers wire format that event files need, written by hand.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace tbevent {

/// Appends fields to a message. Field numbers and types come from the .proto definitions.
class ProtoWriter {
 public:
  void add_varint(uint32_t field, uint64_t value);  ///< int32, int64, bool, enum (wire type 0)
  void add_double(uint32_t field, double value);    ///< double (wire type 1, fixed 64 bits)
  void add_float(uint32_t field, float value);      ///< float (wire type 5, fixed 32 bits)
  void add_bytes(uint32_t field, std::string_view value);  ///< string, bytes, messages (type 2)

  const std::string& bytes() const { return out_; }
  std::string take() { return std::move(out_); }

 private:
  void put_key(uint32_t field, uint32_t wire_type);
  void put_varint(uint64_t value);
  std::string out_;
};

/// Walks the fields of a message in order (used to read event files back in tests).
class ProtoReader {
 public:
  struct Field {
    uint32_t number = 0;
    uint32_t wire_type = 0;
    uint64_t varint = 0;     ///< wire type 0
    uint64_t fixed = 0;      ///< wire types 1 and 5 (raw bits)
    std::string_view bytes;  ///< wire type 2

    double as_double() const;
    float as_float() const;
  };

  explicit ProtoReader(std::string_view message) : in_(message) {}
  /// Reads the next field; false at the end. Throws std::runtime_error on malformed input.
  bool next(Field& field);

 private:
  uint64_t get_varint();
  std::string_view in_;
  size_t pos_ = 0;
};

}  // namespace tbevent
