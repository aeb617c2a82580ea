#include "tensorboard/events.h"

#include "tensorboard/proto.h"

namespace tbevent {
namespace {

// Event fields
constexpr uint32_t kWallTime = 1, kStep = 2, kFileVersionField = 3, kSummary = 5;
// Summary fields
constexpr uint32_t kValue = 1;
// Summary.Value fields
constexpr uint32_t kTag = 1, kSimpleValue = 2, kImage = 4, kAudio = 6;

std::string event_with_summary(double wall_time, int64_t step, const std::string& summary) {
  ProtoWriter event;
  event.add_double(kWallTime, wall_time);
  event.add_varint(kStep, static_cast<uint64_t>(step));
  event.add_bytes(kSummary, summary);
  return event.take();
}

std::string summary_of(const ProtoWriter& value) {
  ProtoWriter summary;
  summary.add_bytes(kValue, value.bytes());
  return summary.take();
}

}  // namespace

std::string file_version_event(double wall_time) {
  ProtoWriter event;
  event.add_double(kWallTime, wall_time);
  event.add_bytes(kFileVersionField, kFileVersion);
  return event.take();
}

std::string scalars_event(double wall_time, int64_t step,
                          const std::vector<std::pair<std::string, float>>& values) {
  ProtoWriter summary;
  for (const auto& [tag, v] : values) {
    ProtoWriter value;
    value.add_bytes(kTag, tag);
    value.add_float(kSimpleValue, v);
    summary.add_bytes(kValue, value.bytes());
  }
  return event_with_summary(wall_time, step, summary.bytes());
}

std::string image_event(double wall_time, int64_t step, std::string_view tag,
                        const ImageSummary& image) {
  ProtoWriter img;
  img.add_varint(1, static_cast<uint64_t>(image.height));
  img.add_varint(2, static_cast<uint64_t>(image.width));
  img.add_varint(3, static_cast<uint64_t>(image.colorspace));
  img.add_bytes(4, image.encoded);
  ProtoWriter value;
  value.add_bytes(kTag, tag);
  value.add_bytes(kImage, img.bytes());
  return event_with_summary(wall_time, step, summary_of(value));
}

std::string audio_event(double wall_time, int64_t step, std::string_view tag,
                        const AudioSummary& audio) {
  ProtoWriter au;
  au.add_float(1, audio.sample_rate);
  au.add_varint(2, static_cast<uint64_t>(audio.num_channels));
  au.add_varint(3, static_cast<uint64_t>(audio.length_frames));
  au.add_bytes(4, audio.encoded);
  au.add_bytes(5, audio.content_type);
  ProtoWriter value;
  value.add_bytes(kTag, tag);
  value.add_bytes(kAudio, au.bytes());
  return event_with_summary(wall_time, step, summary_of(value));
}

}  // namespace tbevent
