#pragma once

// Images for training logs: colour-mapped spectrograms and PNG encoding (libpng).
//
// Images are uint8 tensors [H, W, C] (row 0 at the top) with C = 1 (grey), 2 (grey + alpha),
// 3 (RGB) or 4 (RGBA); [H, W] is read as grey.

#include <torch/types.h>

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

namespace mudit::train {

/// How spectrogram values map to colours.
struct SpectrogramImageOptions {
  /// "heat" (black, violet, red, orange, yellow, white: brightness rises steadily) or "gray".
  std::string colormap = "heat";
  /// The values mapped to the two ends of the colour map; unset: the data's minimum and maximum.
  /// Values outside are clamped.
  std::optional<double> min_value;
  std::optional<double> max_value;
  /// When positive and min_value is unset, the low end is max - dynamic_range instead of the
  /// data's minimum, so near-silent bins do not stretch the scale (80 for a dB spectrogram,
  /// about 11.5 for a natural-log one).
  double dynamic_range = 0;

  template <class V>
  void visit(V& v) {
    v("colormap", colormap);
    v("min_value", min_value);
    v("max_value", max_value);
    v("dynamic_range", dynamic_range);
  }
  void validate() const;
};

/// Colours a spectrogram [F, T] (any real dtype, e.g. a log-mel) into an RGB image [F, T, 3]
/// uint8 with the lowest frequency bin (row 0 of the input) at the bottom, as spectrograms are
/// read. Throws ShapeError for anything but [F, T], ConfigError for bad options.
torch::Tensor spectrogram_image(const torch::Tensor& spectrogram,
                                const SpectrogramImageOptions& options = {});

/// Encodes an image [H, W, C] or [H, W] (uint8) as PNG bytes.
std::string encode_png(const torch::Tensor& image);

/// Decodes PNG bytes to [H, W, C] uint8 (8 bits per channel; C as stored: 1, 2, 3 or 4).
/// `source_name` names the data in the IoError thrown for anything that is not a valid PNG.
torch::Tensor decode_png(std::string_view bytes, const std::string& source_name = "<memory>");

/// Writes an image as a PNG file atomically (temp file + rename). Throws IoError.
void write_png(const std::filesystem::path& path, const torch::Tensor& image);

}  // namespace mudit::train
