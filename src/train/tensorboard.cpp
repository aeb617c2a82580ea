#include "mudit/train/tensorboard.h"

#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "mudit/audio/io.h"
#include "mudit/core/error.h"
#include "mudit/train/image.h"
#include "tensorboard/events.h"
#include "tensorboard/record.h"

namespace mudit::train {
namespace {

double unix_seconds() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

std::string host_name() {
  char name[256] = {};
  if (gethostname(name, sizeof(name) - 1) != 0 || name[0] == '\0') return "localhost";
  return name;
}

}  // namespace

struct TensorBoardWriter::Impl {
  std::filesystem::path path;
  std::FILE* file = nullptr;
  WallClock clock;

  void write(const std::string& event) {
    std::string record;
    tbevent::append_record(record, event);
    if (std::fwrite(record.data(), 1, record.size(), file) != record.size() ||
        std::fflush(file) != 0) {
      MUDIT_THROW(IoError, "cannot write TensorBoard events to '", path.string(),
                  "': ", std::strerror(errno));
    }
  }
};

TensorBoardWriter::TensorBoardWriter(const std::filesystem::path& dir, WallClock clock)
    : impl_(std::make_unique<Impl>()) {
  impl_->clock = clock ? std::move(clock) : WallClock(unix_seconds);
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  MUDIT_CHECK(!ec, IoError, "cannot create TensorBoard folder '", dir.string(),
              "': ", ec.message());
  // The counter keeps two writers of one process in one second apart.
  static std::atomic<int> counter{0};
  const std::string name =
      "events.out.tfevents." + std::to_string(static_cast<int64_t>(impl_->clock())) + "." +
      host_name() + "." + std::to_string(getpid()) + "." + std::to_string(counter++);
  impl_->path = dir / name;
  impl_->file = std::fopen(impl_->path.c_str(), "wbx");
  MUDIT_CHECK(impl_->file != nullptr, IoError, "cannot create TensorBoard event file '",
              impl_->path.string(), "': ", std::strerror(errno));
  impl_->write(tbevent::file_version_event(impl_->clock()));
}

TensorBoardWriter::~TensorBoardWriter() {
  if (impl_ && impl_->file) std::fclose(impl_->file);
}

const std::filesystem::path& TensorBoardWriter::file() const {
  return impl_->path;
}

void TensorBoardWriter::add_scalar(const std::string& tag, double value, int64_t step) {
  impl_->write(tbevent::scalars_event(impl_->clock(), step, {{tag, static_cast<float>(value)}}));
}

void TensorBoardWriter::add_scalars(const std::map<std::string, double>& values, int64_t step) {
  if (values.empty()) return;
  std::vector<std::pair<std::string, float>> list;
  list.reserve(values.size());
  for (const auto& [tag, v] : values) list.emplace_back(tag, static_cast<float>(v));
  impl_->write(tbevent::scalars_event(impl_->clock(), step, list));
}

void TensorBoardWriter::add_audio(const std::string& tag, const torch::Tensor& samples,
                                  int sample_rate, int64_t step) {
  torch::Tensor x = samples.detach().to(torch::kCPU, torch::kFloat32);
  if (x.dim() == 1) x = x.unsqueeze(0);  // [1, T]
  MUDIT_CHECK(x.dim() == 2, ShapeError, "TensorBoard audio '", tag, "' needs [C, T], got ",
              samples.sizes());
  x = torch::nan_to_num(x, 0.0).clamp(-1, 1);  // [C, T]; previews never fail on bad samples
  tbevent::AudioSummary audio;
  audio.sample_rate = static_cast<float>(sample_rate);
  audio.num_channels = x.size(0);
  audio.length_frames = x.size(1);
  audio.encoded = audio::encode_audio(x, sample_rate);
  impl_->write(tbevent::audio_event(impl_->clock(), step, tag, audio));
}

void TensorBoardWriter::add_image(const std::string& tag, const torch::Tensor& image,
                                  int64_t step) {
  tbevent::ImageSummary summary;
  summary.encoded = encode_png(image);  // checks the shape first
  summary.height = static_cast<int32_t>(image.size(0));
  summary.width = static_cast<int32_t>(image.size(1));
  summary.colorspace = image.dim() == 2 ? 1 : static_cast<int32_t>(image.size(2));
  impl_->write(tbevent::image_event(impl_->clock(), step, tag, summary));
}

}  // namespace mudit::train
