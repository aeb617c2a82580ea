// Encoders for the TensorBoard messages mudit writes: tensorflow.Event holding a
// tensorflow.Summary of scalar, image or audio values. Field numbers follow the public
// definitions in tensorflow/core/util/event.proto and tensorflow/core/framework/summary.proto:
//
//   Event          wall_time = 1 (double), step = 2 (int64), file_version = 3 (string),
//                  summary = 5 (Summary)
//   Summary        value = 1 (repeated Value)
//   Summary.Value  tag = 1 (string), simple_value = 2 (float), image = 4 (Image),
//                  audio = 6 (Audio)
//   Summary.Image  height = 1, width = 2, colorspace = 3 (int32), encoded_image_string = 4
//   Summary.Audio  sample_rate = 1 (float), num_channels = 2, length_frames = 3 (int64),
//                  encoded_audio_string = 4 (bytes), content_type = 5 (string)
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tbevent {

/// The version string of the first event in every file.
inline constexpr const char* kFileVersion = "brain.Event:2";

/// An encoded image (PNG) with its size; colorspace 1 = grey, 2 = grey + alpha, 3 = RGB,
/// 4 = RGBA.
struct ImageSummary {
  int32_t height = 0;
  int32_t width = 0;
  int32_t colorspace = 3;
  std::string encoded;
};

/// An encoded audio clip (e.g. a WAV file's bytes).
struct AudioSummary {
  float sample_rate = 0;
  int64_t num_channels = 0;
  int64_t length_frames = 0;
  std::string encoded;
  std::string content_type = "audio/wav";
};

/// Event payloads (to be framed with append_record()).
std::string file_version_event(double wall_time);
std::string scalars_event(double wall_time, int64_t step,
                          const std::vector<std::pair<std::string, float>>& values);
std::string image_event(double wall_time, int64_t step, std::string_view tag,
                        const ImageSummary& image);
std::string audio_event(double wall_time, int64_t step, std::string_view tag,
                        const AudioSummary& audio);

}  // namespace tbevent
