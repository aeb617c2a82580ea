#pragma once

// TensorBoard event files: scalars, audio clips and images, readable by `tensorboard --logdir`.
// The encoding is mudit's own (third_party/tensorboard); neither TensorFlow nor protobuf is
// needed.

#include <torch/types.h>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <string>

namespace mudit::train {

/// Appends events to a new file `events.out.tfevents.<unix time>.<host>.<pid>.<n>` in a folder.
/// Every event is flushed to the file as it is written, so TensorBoard sees it while the run
/// goes on and a crash loses nothing already logged. Not thread-safe; in a distributed run only
/// rank 0 writes.
class TensorBoardWriter {
 public:
  /// Seconds since the Unix epoch, the time stamp of each event.
  using WallClock = std::function<double()>;

  /// Creates `dir` when needed and a new event file in it. Throws IoError.
  explicit TensorBoardWriter(const std::filesystem::path& dir, WallClock clock = {});
  ~TensorBoardWriter();
  TensorBoardWriter(const TensorBoardWriter&) = delete;
  TensorBoardWriter& operator=(const TensorBoardWriter&) = delete;

  void add_scalar(const std::string& tag, double value, int64_t step);
  /// Several scalars in one event (TensorBoard shows one chart per tag).
  void add_scalars(const std::map<std::string, double>& values, int64_t step);
  /// An audio clip: samples [C, T] or [T] in [-1, 1] (clipped), stored as 16-bit WAV.
  void add_audio(const std::string& tag, const torch::Tensor& samples, int sample_rate,
                 int64_t step);
  /// An image [H, W, C] or [H, W], uint8 (see image.h), stored as PNG.
  void add_image(const std::string& tag, const torch::Tensor& image, int64_t step);

  /// The event file being written.
  const std::filesystem::path& file() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace mudit::train
