#include "tensorboard/proto.h"

#include <cstring>
#include <stdexcept>

namespace tbevent {
namespace {

constexpr uint32_t kVarint = 0;
constexpr uint32_t kFixed64 = 1;
constexpr uint32_t kLengthDelimited = 2;
constexpr uint32_t kFixed32 = 5;

}  // namespace

void ProtoWriter::put_varint(uint64_t value) {
  while (value >= 0x80) {
    out_.push_back(static_cast<char>((value & 0x7F) | 0x80));
    value >>= 7;
  }
  out_.push_back(static_cast<char>(value));
}

void ProtoWriter::put_key(uint32_t field, uint32_t wire_type) {
  put_varint((uint64_t(field) << 3) | wire_type);
}

void ProtoWriter::add_varint(uint32_t field, uint64_t value) {
  put_key(field, kVarint);
  put_varint(value);
}

void ProtoWriter::add_double(uint32_t field, double value) {
  put_key(field, kFixed64);
  uint64_t bits = 0;
  std::memcpy(&bits, &value, 8);
  for (int i = 0; i < 8; ++i) out_.push_back(static_cast<char>((bits >> (8 * i)) & 0xFF));
}

void ProtoWriter::add_float(uint32_t field, float value) {
  put_key(field, kFixed32);
  uint32_t bits = 0;
  std::memcpy(&bits, &value, 4);
  for (int i = 0; i < 4; ++i) out_.push_back(static_cast<char>((bits >> (8 * i)) & 0xFF));
}

void ProtoWriter::add_bytes(uint32_t field, std::string_view value) {
  put_key(field, kLengthDelimited);
  put_varint(value.size());
  out_.append(value.data(), value.size());
}

double ProtoReader::Field::as_double() const {
  double v = 0;
  std::memcpy(&v, &fixed, 8);
  return v;
}

float ProtoReader::Field::as_float() const {
  const uint32_t bits = static_cast<uint32_t>(fixed);
  float v = 0;
  std::memcpy(&v, &bits, 4);
  return v;
}

uint64_t ProtoReader::get_varint() {
  uint64_t value = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    if (pos_ >= in_.size()) throw std::runtime_error("protobuf: varint cut off");
    const auto byte = static_cast<unsigned char>(in_[pos_++]);
    value |= uint64_t(byte & 0x7F) << shift;
    if (!(byte & 0x80)) return value;
  }
  throw std::runtime_error("protobuf: varint longer than 10 bytes");
}

bool ProtoReader::next(Field& field) {
  if (pos_ >= in_.size()) return false;
  const uint64_t key = get_varint();
  field = Field{};
  field.number = static_cast<uint32_t>(key >> 3);
  field.wire_type = static_cast<uint32_t>(key & 7);
  auto take = [&](size_t n) {
    if (in_.size() - pos_ < n) throw std::runtime_error("protobuf: field cut off");
    std::string_view v = in_.substr(pos_, n);
    pos_ += n;
    return v;
  };
  auto little_endian = [](std::string_view b) {
    uint64_t v = 0;
    for (size_t i = 0; i < b.size(); ++i)
      v |= uint64_t(static_cast<unsigned char>(b[i])) << (8 * i);
    return v;
  };
  switch (field.wire_type) {
    case kVarint:
      field.varint = get_varint();
      break;
    case kFixed64:
      field.fixed = little_endian(take(8));
      break;
    case kFixed32:
      field.fixed = little_endian(take(4));
      break;
    case kLengthDelimited:
      field.bytes = take(static_cast<size_t>(get_varint()));
      break;
    default:
      throw std::runtime_error("protobuf: unsupported wire type " +
                               std::to_string(field.wire_type));
  }
  return true;
}

}  // namespace tbevent
