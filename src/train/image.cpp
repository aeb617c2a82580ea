#include "mudit/train/image.h"

#include <png.h>

#include <array>
#include <cmath>
#include <vector>

#include "mudit/core/config.h"
#include "mudit/core/error.h"
#include "mudit/core/fs.h"

namespace mudit::train {
namespace {

// Anchors of the "heat" map (position, r, g, b). Chosen so that brightness rises monotonically
// from black to near-white, which keeps quiet and loud bins apart in grey print too.
struct Anchor {
  double pos;
  double r, g, b;
};
constexpr std::array<Anchor, 7> kHeat{{{0.00, 0, 0, 0},
                                       {0.15, 25, 10, 85},
                                       {0.35, 110, 20, 130},
                                       {0.55, 200, 50, 90},
                                       {0.75, 245, 130, 30},
                                       {0.90, 250, 210, 60},
                                       {1.00, 255, 255, 230}}};

// A 256-entry lookup table [256, 3] for a colour map.
torch::Tensor colormap_table(const std::string& name) {
  torch::Tensor lut = torch::empty({256, 3}, torch::kUInt8);  // [256, 3]
  auto* p = lut.data_ptr<uint8_t>();
  for (int i = 0; i < 256; ++i) {
    const double x = i / 255.0;
    double rgb[3] = {x * 255, x * 255, x * 255};
    if (name == "heat") {
      size_t k = 1;
      while (k + 1 < kHeat.size() && kHeat[k].pos < x) ++k;
      const Anchor& a = kHeat[k - 1];
      const Anchor& b = kHeat[k];
      const double f = (x - a.pos) / (b.pos - a.pos);
      rgb[0] = a.r + f * (b.r - a.r);
      rgb[1] = a.g + f * (b.g - a.g);
      rgb[2] = a.b + f * (b.b - a.b);
    }
    for (int c = 0; c < 3; ++c) p[i * 3 + c] = static_cast<uint8_t>(std::lround(rgb[c]));
  }
  return lut;
}

// Releases libpng's simplified-API state on every path.
struct PngImage {
  png_image image{};
  PngImage() { image.version = PNG_IMAGE_VERSION; }
  ~PngImage() { png_image_free(&image); }
};

}  // namespace

void SpectrogramImageOptions::validate() const {
  check_choice("colormap", colormap, {"heat", "gray"});
  MUDIT_CHECK(dynamic_range >= 0, ConfigError, "dynamic_range must be >= 0, got ", dynamic_range);
  MUDIT_CHECK(!min_value || !max_value || *min_value < *max_value, ConfigError,
              "min_value must be below max_value");
}

torch::Tensor spectrogram_image(const torch::Tensor& spectrogram,
                                const SpectrogramImageOptions& options) {
  options.validate();
  MUDIT_CHECK(spectrogram.dim() == 2, ShapeError, "a spectrogram image needs [F, T], got ",
              spectrogram.sizes());
  torch::Tensor s = spectrogram.detach().to(torch::kCPU, torch::kFloat64);  // [F, T]
  s = torch::nan_to_num(s, 0.0);
  double hi = options.max_value.value_or(s.numel() ? s.max().item<double>() : 1.0);
  double lo = 0;
  if (options.min_value) {
    lo = *options.min_value;
  } else if (options.dynamic_range > 0) {
    lo = hi - options.dynamic_range;
  } else {
    lo = s.numel() ? s.min().item<double>() : 0.0;
  }
  if (!(hi > lo)) hi = lo + 1;  // a constant image maps to the low end
  const torch::Tensor level =
      ((s - lo) / (hi - lo)).clamp(0, 1).mul(255).round().to(torch::kLong);  // [F, T]
  const torch::Tensor lut = colormap_table(options.colormap);                // [256, 3]
  const torch::Tensor rgb = lut.index_select(0, level.flip(0).reshape(-1))
                                .reshape({s.size(0), s.size(1), 3});  // [F, T, 3]
  return rgb;
}

std::string encode_png(const torch::Tensor& image) {
  MUDIT_CHECK(image.dim() == 2 || image.dim() == 3, ShapeError,
              "a PNG image needs [H, W] or [H, W, C], got ", image.sizes());
  torch::Tensor img = image.dim() == 2 ? image.unsqueeze(2) : image;  // [H, W, C]
  MUDIT_CHECK(img.scalar_type() == torch::kUInt8, ShapeError,
              "a PNG image needs uint8 pixels, got ", img.scalar_type());
  const int64_t channels = img.size(2);
  MUDIT_CHECK(channels >= 1 && channels <= 4, ShapeError, "a PNG image has 1 to 4 channels, got ",
              channels);
  MUDIT_CHECK(img.size(0) > 0 && img.size(1) > 0, ShapeError, "a PNG image cannot be empty");
  img = img.to(torch::kCPU).contiguous();

  PngImage png;
  png.image.width = static_cast<png_uint_32>(img.size(1));
  png.image.height = static_cast<png_uint_32>(img.size(0));
  const png_uint_32 formats[] = {PNG_FORMAT_GRAY, PNG_FORMAT_GA, PNG_FORMAT_RGB, PNG_FORMAT_RGBA};
  png.image.format = formats[channels - 1];
  png_alloc_size_t size = 0;
  const bool sized =
      png_image_write_to_memory(&png.image, nullptr, &size, 0, img.data_ptr<uint8_t>(), 0, nullptr);
  MUDIT_CHECK(sized, Error, "PNG encoding failed: ", png.image.message);
  std::string bytes(size, '\0');
  const bool written = png_image_write_to_memory(&png.image, bytes.data(), &size, 0,
                                                 img.data_ptr<uint8_t>(), 0, nullptr);
  MUDIT_CHECK(written, Error, "PNG encoding failed: ", png.image.message);
  bytes.resize(size);
  return bytes;
}

torch::Tensor decode_png(std::string_view bytes, const std::string& source_name) {
  PngImage png;
  if (!png_image_begin_read_from_memory(&png.image, bytes.data(), bytes.size())) {
    MUDIT_THROW(IoError, "cannot read PNG '", source_name, "': ", png.image.message);
  }
  const bool color = png.image.format & PNG_FORMAT_FLAG_COLOR;
  const bool alpha = png.image.format & PNG_FORMAT_FLAG_ALPHA;
  png.image.format = color ? (alpha ? PNG_FORMAT_RGBA : PNG_FORMAT_RGB)
                           : (alpha ? PNG_FORMAT_GA : PNG_FORMAT_GRAY);
  const int64_t channels = PNG_IMAGE_SAMPLE_CHANNELS(png.image.format);
  const auto height = static_cast<int64_t>(png.image.height);
  const auto width = static_cast<int64_t>(png.image.width);
  torch::Tensor out = torch::empty({height, width, channels}, torch::kUInt8);  // [H, W, C]
  if (!png_image_finish_read(&png.image, nullptr, out.data_ptr<uint8_t>(), 0, nullptr)) {
    MUDIT_THROW(IoError, "cannot read PNG '", source_name, "': ", png.image.message);
  }
  return out;
}

void write_png(const std::filesystem::path& path, const torch::Tensor& image) {
  write_file_atomic(path, encode_png(image));
}

}  // namespace mudit::train
