#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sndfile.h>
#include <torch/fft.h>
#include <torch/types.h>

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <string>
#include <vector>

#include "mudit/audio/io.h"
#include "mudit/audio/loudness.h"
#include "mudit/audio/resample.h"
#include "mudit/core/config.h"
#include "mudit/core/log.h"
#include "unit/test_util.h"

namespace mudit::audio {
namespace {

namespace fs = std::filesystem;
using test::TempDir;
using ::testing::HasSubstr;

constexpr double kPi = 3.14159265358979323846;

/// A sine [C, T] in double precision, rounded to float once; channel c has phase c * 0.5 rad so
/// a swapped channel order shows.
torch::Tensor sine(double freq, int rate, double seconds, double amp = 0.5, int64_t channels = 1) {
  const auto n = static_cast<int64_t>(std::llround(seconds * rate));
  auto t = torch::arange(n, torch::kFloat64) / rate;  // [T]
  std::vector<torch::Tensor> rows;
  for (int64_t c = 0; c < channels; ++c)
    rows.push_back(amp * torch::sin(2 * kPi * freq * t + 0.5 * c));
  return torch::stack(rows).to(torch::kFloat32);  // [C, T]
}

/// The frequency (Hz) of the strongest FFT bin of a mono signal [T].
double peak_frequency(const torch::Tensor& x, int rate) {
  const auto n = x.size(0);
  const auto window = torch::hann_window(n, torch::kFloat64);
  const auto spectrum = torch::fft::rfft(x.to(torch::kFloat64) * window).abs();  // [T/2+1]
  return spectrum.argmax().item<int64_t>() * double(rate) / n;
}

double max_abs_diff(const torch::Tensor& a, const torch::Tensor& b) {
  return (a.to(torch::kFloat64) - b.to(torch::kFloat64)).abs().max().item<double>();
}

/// Runs `fn`, which must throw exactly one mudit::Error of type E and log nothing at warn or
/// above; returns its message.
template <class E, class Fn>
std::string single_error(Fn fn) {
  std::vector<std::string> logged;
  log::set_sink([&](log::Level level, std::string_view msg) {
    if (level >= log::Level::kWarn) logged.emplace_back(msg);
  });
  int caught = 0;
  std::string message;
  try {
    fn();
  } catch (const E& e) {
    ++caught;
    message = e.what();
  } catch (const std::exception& e) {
    message = std::string("wrong exception type: ") + e.what();
  }
  log::set_sink(nullptr);
  EXPECT_EQ(caught, 1) << message;
  EXPECT_TRUE(logged.empty()) << logged.front();
  return message;
}

size_t count_of(const std::string& text, const std::string& needle) {
  size_t n = 0;
  for (size_t pos = text.find(needle); pos != std::string::npos; pos = text.find(needle, pos + 1)) {
    ++n;
  }
  return n;
}

/// Writes a file in any libsndfile format (the library itself writes WAV and FLAC only).
void write_with_sndfile(const fs::path& path, const torch::Tensor& samples, int rate, int format) {
  SF_INFO info{};
  info.samplerate = rate;
  info.channels = static_cast<int>(samples.size(0));
  info.format = format;
  SNDFILE* f = sf_open(path.c_str(), SFM_WRITE, &info);
  ASSERT_NE(f, nullptr) << sf_strerror(nullptr);
  const auto interleaved = samples.t().contiguous();  // [T, C]
  EXPECT_EQ(sf_writef_float(f, interleaved.data_ptr<float>(), interleaved.size(0)),
            interleaved.size(0));
  sf_close(f);
}

// ---------------------------------------------------------------------------------------------
// Round trips

struct FormatCase {
  const char* file;
  const char* encoding;
  double tolerance;  // half a quantisation step of the format (rounding to nearest)
  const char* container;
  const char* subtype;
};

void PrintTo(const FormatCase& c, std::ostream* os) {
  *os << c.file << " " << c.encoding;
}

class AudioRoundTrip : public ::testing::TestWithParam<FormatCase> {};

TEST_P(AudioRoundTrip, SineSurvivesWithinQuantisation) {
  const FormatCase& fc = GetParam();
  TempDir dir;
  const auto x = sine(1000, 48000, 0.5, 0.9, 2);  // [2, 24000]
  AudioWriteOptions opts;
  opts.encoding = fc.encoding;
  write_audio(dir / fc.file, x, 48000, opts);

  const Audio back = read_audio(dir / fc.file);
  EXPECT_EQ(back.sample_rate, 48000);
  ASSERT_EQ(back.samples.sizes(), x.sizes());
  EXPECT_EQ(back.samples.dtype(), torch::kFloat32);
  EXPECT_LE(max_abs_diff(back.samples, x), fc.tolerance);

  const AudioInfo info = probe_audio(dir / fc.file);
  EXPECT_EQ(info.channels, 2);
  EXPECT_EQ(info.frames, 24000);
  EXPECT_EQ(info.sample_rate, 48000);
  EXPECT_DOUBLE_EQ(info.duration, 0.5);
  EXPECT_EQ(info.container, fc.container);
  EXPECT_EQ(info.subtype, fc.subtype);
  EXPECT_FALSE(info.container_name.empty());
  EXPECT_FALSE(info.subtype_name.empty());
}

INSTANTIATE_TEST_SUITE_P(
    Formats, AudioRoundTrip,
    ::testing::Values(FormatCase{"a.wav", "pcm16", 0.5 / 32768, "wav", "pcm16"},
                      FormatCase{"a.wav", "pcm24", 0.5 / 8388608, "wav", "pcm24"},
                      FormatCase{"a.wav", "float32", 0.0, "wav", "float32"},
                      FormatCase{"a.flac", "pcm16", 0.5 / 32768, "flac", "pcm16"},
                      FormatCase{"a.flac", "pcm24", 0.5 / 8388608, "flac", "pcm24"}),
    [](const auto& info) {
      return std::string(fs::path(info.param.file).extension().string().substr(1)) + "_" +
             info.param.encoding;
    });

TEST(AudioIo, DecodeOfEncodeIsIdentityForFloatWav) {
  torch::manual_seed(3);
  const auto x = torch::randn({3, 4801}) * 1.5;  // [3, T], also beyond full scale
  AudioWriteOptions opts;
  opts.encoding = "float32";
  const std::string bytes = encode_audio(x, 44100, opts);
  EXPECT_EQ(bytes.substr(0, 4), "RIFF");
  EXPECT_EQ(bytes.substr(8, 4), "WAVE");
  const Audio back = decode_audio(bytes, "clip");
  EXPECT_EQ(back.sample_rate, 44100);
  EXPECT_TRUE(torch::equal(back.samples, x));
}

TEST(AudioIo, EncodesFlacInMemory) {
  const auto x = sine(440, 16000, 0.25);
  AudioWriteOptions opts;
  opts.format = "flac";
  const std::string bytes = encode_audio(x, 16000, opts);
  EXPECT_EQ(bytes.substr(0, 4), "fLaC");
  EXPECT_LE(max_abs_diff(decode_audio(bytes).samples, x), 0.5 / 32768);
}

TEST(AudioIo, IntegerPcmClipsInsteadOfWrapping) {
  const auto x = torch::tensor({{1.5f, -1.5f, 0.5f}});  // [1, 3]
  log::set_sink([](log::Level, std::string_view) {});
  const Audio back = decode_audio(encode_audio(x, 8000));
  log::set_sink(nullptr);
  EXPECT_EQ(back.samples[0][0].item<float>(), 32767.0f / 32768);
  EXPECT_EQ(back.samples[0][1].item<float>(), -1.0f);
  EXPECT_EQ(back.samples[0][2].item<float>(), 0.5f);
}

TEST(AudioIo, ReadsOggVorbisAndMp3) {
  TempDir dir;
  const auto x = sine(1000, 44100, 1.0, 0.5, 2);  // [2, 44100]
  write_with_sndfile(dir / "a.ogg", x, 44100, SF_FORMAT_OGG | SF_FORMAT_VORBIS);
  write_with_sndfile(dir / "a.mp3", x, 44100, SF_FORMAT_MPEG | SF_FORMAT_MPEG_LAYER_III);
  for (const char* name : {"a.ogg", "a.mp3"}) {
    SCOPED_TRACE(name);
    const Audio a = read_audio(dir / name);
    EXPECT_EQ(a.sample_rate, 44100);
    ASSERT_EQ(a.channels(), 2);
    EXPECT_NEAR(a.frames(), 44100, 2048);               // codec padding
    const auto mid = a.samples.narrow(1, 8192, 32768);  // [2, 32768], away from the edges
    EXPECT_NEAR(peak_frequency(mid[0], 44100), 1000, 44100.0 / 32768);
    // RMS of a 0.5 sine is 0.354; lossy codecs keep it within a few percent.
    EXPECT_NEAR(mid.pow(2).mean().sqrt().item<double>(), 0.5 / std::sqrt(2.0), 0.02);
  }
  EXPECT_EQ(probe_audio(dir / "a.ogg").container, "ogg");
  EXPECT_EQ(probe_audio(dir / "a.ogg").subtype, "vorbis");
  EXPECT_EQ(probe_audio(dir / "a.mp3").container, "mp3");
}

TEST(AudioIo, ReadsAWindowAndConvertsOnTheWay) {
  TempDir dir;
  const auto x = sine(1000, 48000, 1.0, 0.5, 2);  // [2, 48000]
  AudioWriteOptions wopts;
  wopts.encoding = "float32";
  write_audio(dir / "a.wav", x, 48000, wopts);

  AudioReadOptions window;
  window.offset = 0.5;
  window.duration = 0.25;
  const Audio part = read_audio(dir / "a.wav", window);
  EXPECT_TRUE(torch::equal(part.samples, x.narrow(1, 24000, 12000)));

  AudioReadOptions convert;
  convert.channels = 1;
  convert.sample_rate = 16000;
  const Audio mono = read_audio(dir / "a.wav", convert);
  EXPECT_EQ(mono.sample_rate, 16000);
  ASSERT_EQ(mono.samples.sizes(), (std::vector<int64_t>{1, 16000}));
  EXPECT_NEAR(peak_frequency(mono.samples[0], 16000), 1000, 1.0);

  AudioReadOptions past_end;
  past_end.offset = 5.0;
  EXPECT_EQ(read_audio(dir / "a.wav", past_end).frames(), 0);
}

// ---------------------------------------------------------------------------------------------
// Errors: one IoError naming the file and the reason

TEST(AudioIoErrors, MissingFile) {
  TempDir dir;
  const auto path = (dir / "nope.wav").string();
  const std::string msg = single_error<IoError>([&] { read_audio(path); });
  EXPECT_EQ(count_of(msg, path), 1u) << msg;
  EXPECT_THAT(msg, HasSubstr("no such file"));
  EXPECT_THAT(single_error<IoError>([&] { probe_audio(path); }), HasSubstr(path));
}

TEST(AudioIoErrors, TruncatedWav) {
  TempDir dir;
  write_audio(dir / "full.wav", sine(1000, 16000, 1.0), 16000);  // 32044 bytes
  const std::string bytes = test::read_file(dir / "full.wav");
  const auto path = dir.write("cut.wav", bytes.substr(0, 20000)).string();
  const std::string msg = single_error<IoError>([&] { read_audio(path); });
  EXPECT_EQ(count_of(msg, path), 1u) << msg;
  EXPECT_THAT(msg, HasSubstr("truncated"));
  EXPECT_THAT(single_error<IoError>([&] { probe_audio(path); }), HasSubstr("truncated"));
  EXPECT_THAT(single_error<IoError>([&] { decode_audio(bytes.substr(0, 20000), "cut"); }),
              HasSubstr("'cut': truncated"));
}

TEST(AudioIoErrors, TruncatedFlac) {
  TempDir dir;
  write_audio(dir / "full.flac", sine(1000, 16000, 1.0, 0.5, 2), 16000);
  const std::string bytes = test::read_file(dir / "full.flac");
  const auto path = dir.write("cut.flac", bytes.substr(0, bytes.size() / 2)).string();
  const std::string msg = single_error<IoError>([&] { read_audio(path); });
  EXPECT_EQ(count_of(msg, path), 1u) << msg;
  EXPECT_THAT(msg, HasSubstr("truncated"));
}

TEST(AudioIoErrors, CorruptHeaderAndEmptyFile) {
  TempDir dir;
  const auto garbage = dir.write("noise.wav", std::string(1000, 'x')).string();
  std::string msg = single_error<IoError>([&] { read_audio(garbage); });
  EXPECT_EQ(count_of(msg, garbage), 1u) << msg;
  EXPECT_THAT(msg, HasSubstr("format not recognised"));

  // A WAV whose header stops right after the fmt chunk: no data chunk at all.
  write_audio(dir / "full.wav", sine(1000, 16000, 0.1), 16000);
  const auto header_only = dir.write("header.wav", test::read_file(dir / "full.wav").substr(0, 36));
  msg = single_error<IoError>([&] { read_audio(header_only); });
  EXPECT_THAT(msg, HasSubstr(header_only.string() + "': "));

  const auto empty = dir.write("empty.flac", "").string();
  msg = single_error<IoError>([&] { read_audio(empty); });
  EXPECT_THAT(msg, HasSubstr(empty));
  EXPECT_THAT(single_error<IoError>([&] { decode_audio("", "blob"); }),
              HasSubstr("cannot read audio 'blob': no data"));
  EXPECT_THAT(single_error<IoError>([&] { read_audio(dir.path()); }), HasSubstr("is a folder"));
}

// ---------------------------------------------------------------------------------------------
// Writes are atomic

std::vector<std::string> listing(const fs::path& dir) {
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(dir)) names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

TEST(AudioIoWrite, LeavesOnlyTheFinalFile) {
  TempDir dir;
  write_audio(dir / "sub" / "a.wav", sine(1000, 16000, 0.1), 16000);
  EXPECT_EQ(listing(dir / "sub"), std::vector<std::string>{"a.wav"});
  EXPECT_EQ(fs::status(dir / "sub" / "a.wav").permissions() & fs::perms::others_read,
            fs::perms::others_read);
}

TEST(AudioIoWrite, FailedWritesLeaveNothingBehind) {
  TempDir dir;
  const auto x = sine(1000, 16000, 0.1);
  write_audio(dir / "keep.wav", x, 16000);
  const std::string before = test::read_file(dir / "keep.wav");

  // Bad options fail before anything is written, and the existing file stays as it was.
  AudioWriteOptions flac_float;
  flac_float.encoding = "float32";
  EXPECT_THROW(write_audio(dir / "keep.flac", x, 16000, flac_float), ConfigError);
  EXPECT_THROW(write_audio(dir / "keep.mp3", x, 16000), ConfigError);
  EXPECT_THROW(write_audio(dir / "keep.wav", x * NAN, 16000), DataError);
  EXPECT_EQ(test::read_file(dir / "keep.wav"), before);

  // The target folder cannot exist (a file is in the way).
  dir.write("blocker", "x");
  const auto target = (dir / "blocker" / "a.wav").string();
  EXPECT_THAT(single_error<IoError>([&] { write_audio(target, x, 16000); }), HasSubstr(target));
  EXPECT_EQ(listing(dir.path()), (std::vector<std::string>{"blocker", "keep.wav"}));

  // A read-only folder: the temp file cannot be created (root ignores permissions, so skip).
  if (geteuid() != 0) {
    fs::create_directory(dir / "ro");
    fs::permissions(dir / "ro", fs::perms::owner_read | fs::perms::owner_exec);
    EXPECT_THROW(write_audio(dir / "ro" / "a.wav", x, 16000), IoError);
    EXPECT_TRUE(listing(dir / "ro").empty());
    fs::permissions(dir / "ro", fs::perms::owner_all);
  }
}

TEST(AudioIoWrite, OptionsComeFromYaml) {
  const auto opts = bind_config<AudioWriteOptions>(
      parse_config_text("format: flac\nencoding: pcm24\n", "w.yaml"));
  EXPECT_EQ(opts.format, "flac");
  EXPECT_EQ(opts.encoding, "pcm24");
  try {
    bind_config<AudioWriteOptions>(parse_config_text("encoding: pcm42\n", "w.yaml"));
    ADD_FAILURE() << "no error";
  } catch (const ConfigError& e) {
    EXPECT_THAT(e.what(), HasSubstr("pcm24"));
  }
  EXPECT_THROW(bind_config<AudioWriteOptions>(
                   parse_config_text("format: flac\nencoding: float32\n", "w.yaml")),
               ConfigError);
}

// ---------------------------------------------------------------------------------------------
// Channels

TEST(ChannelConversion, KnownArrays) {
  const auto stereo = torch::tensor({{1.0f, 2.0f, -4.0f}, {3.0f, 4.0f, 0.0f}});  // [2, 3]
  EXPECT_TRUE(torch::equal(convert_channels(stereo, 1), torch::tensor({{2.0f, 3.0f, -2.0f}})));
  EXPECT_TRUE(torch::equal(convert_channels(stereo, 2), stereo));

  const auto mono = torch::tensor({{0.5f, -0.25f}});  // [1, 2]
  EXPECT_TRUE(torch::equal(convert_channels(mono, 3),
                           torch::tensor({{0.5f, -0.25f}, {0.5f, -0.25f}, {0.5f, -0.25f}})));
  EXPECT_THROW(convert_channels(torch::zeros({3, 4}), 2), ShapeError);
  EXPECT_THROW(convert_channels(torch::zeros({4}), 1), ShapeError);
}

// ---------------------------------------------------------------------------------------------
// Resampling

TEST(Resample, HalvingKeepsATonesFrequencyAndAmplitude) {
  TempDir dir;
  write_audio(dir / "a48.wav", sine(1000, 48000, 1.0, 0.5, 2), 48000,
              AudioWriteOptions{"wav", "float32"});
  const Audio in = read_audio(dir / "a48.wav");
  const torch::Tensor out = resample(in.samples, 48000, 24000);  // [2, 24000]
  ASSERT_EQ(out.sizes(), (std::vector<int64_t>{2, 24000}));
  EXPECT_NEAR(peak_frequency(out[0], 24000), 1000, 1.0);

  // Away from the edges the output is the same sine sampled at 24 kHz: no delay, no gain change.
  const auto expected = sine(1000, 24000, 1.0, 0.5, 2);  // [2, 24000]
  EXPECT_LE(max_abs_diff(out.narrow(1, 1000, 22000), expected.narrow(1, 1000, 22000)), 1e-3);
  const double amp = out.narrow(1, 1000, 22000).abs().max().item<double>();
  EXPECT_NEAR(amp, 0.5, 1e-3);
}

TEST(Resample, OddRatiosAndShapes) {
  const auto x = sine(440, 44100, 0.5, 0.5, 1);  // [1, 22050]
  const auto y = resample(x[0], 44100, 48000);   // [T'] from [T]
  EXPECT_EQ(y.dim(), 1);
  EXPECT_EQ(y.size(0), 24000);
  EXPECT_LE(max_abs_diff(y.narrow(0, 1000, 22000), sine(440, 48000, 0.5)[0].narrow(0, 1000, 22000)),
            1e-3);
  const auto batch = resample(torch::zeros({2, 3, 441}), 44100, 16000);  // [2, 3, 160]
  EXPECT_EQ(batch.sizes(), (std::vector<int64_t>{2, 3, 160}));
  EXPECT_TRUE(resample(x, 44100, 44100).is_same(x));
  // No samples at all (found by fuzz_audio: a WAV whose data chunk is empty) is no error.
  EXPECT_EQ(resample(torch::zeros({2, 0}), 44100, 16000).sizes(), (std::vector<int64_t>{2, 0}));
}

TEST(Resample, EveryQualityWorksAndBadOnesAreNamed) {
  const auto x = sine(1000, 48000, 0.5);
  for (const char* q : {"quick", "low", "medium", "high", "very_high"}) {
    SCOPED_TRACE(q);
    ResampleConfig cfg;
    cfg.quality = q;
    const auto y = resample(x, 48000, 32000, cfg);  // [1, 16000]
    EXPECT_NEAR(peak_frequency(y[0], 32000), 1000, 2.0);
  }
  ResampleConfig bad;
  bad.quality = "hihg";
  try {
    resample(x, 48000, 32000, bad);
    ADD_FAILURE() << "no error";
  } catch (const ConfigError& e) {
    EXPECT_THAT(e.what(), HasSubstr("high"));
  }
  EXPECT_THROW(resample(x, 0, 32000), ConfigError);
}

// ---------------------------------------------------------------------------------------------
// Loudness (BS.1770)

TEST(Loudness, FullScale997HzSineIsMinus3Lufs) {
  const auto mono = sine(997, 48000, 10.0, 1.0);  // [1, 480000]
  const LoudnessStats s = measure_loudness(mono, 48000);
  EXPECT_NEAR(s.integrated_lufs, -3.01, 0.05);
  EXPECT_NEAR(s.sample_peak, 1.0, 1e-4);
  // The same sine on both channels of a stereo signal is 3 dB louder.
  EXPECT_NEAR(measure_loudness(sine(997, 48000, 10.0, 1.0, 2), 48000).integrated_lufs, 0.0, 0.05);
  // A 20 dB quieter sine at 44.1 kHz.
  EXPECT_NEAR(measure_loudness(sine(997, 44100, 10.0, 0.1), 44100).integrated_lufs, -23.01, 0.05);
}

TEST(Loudness, NormalisesToTheTarget) {
  const auto x = sine(997, 48000, 5.0, 0.05, 2);  // about -26 LUFS
  LoudnessConfig cfg;
  cfg.target_lufs = -23;
  const NormalizeResult r = normalize_loudness(x, 48000, cfg);
  EXPECT_FALSE(r.peak_limited);
  EXPECT_NEAR(r.output_lufs, -23, 1e-9);
  EXPECT_NEAR(measure_loudness(r.samples, 48000).integrated_lufs, -23, 0.1);
  EXPECT_NEAR(r.gain_db, r.output_lufs - r.input_lufs, 1e-9);
}

TEST(Loudness, NeverClipsAboveTheCeiling) {
  // A quiet tone with loud clicks: reaching -14 LUFS would need peaks far above full scale.
  auto x = sine(997, 48000, 5.0, 0.05, 1);  // [1, T]
  x.index_put_({0, torch::arange(0, x.size(1), 4800)}, 0.9);
  LoudnessConfig cfg;  // -14 LUFS, ceiling -1 dBFS, true peak
  const NormalizeResult r = normalize_loudness(x, 48000, cfg);
  EXPECT_TRUE(r.peak_limited);
  EXPECT_LT(r.output_lufs, cfg.target_lufs);
  const LoudnessStats after = measure_loudness(r.samples, 48000, /*true_peak=*/true);
  EXPECT_LE(20 * std::log10(after.true_peak), cfg.peak_ceiling_db + 0.01);
  EXPECT_LE(after.sample_peak, 1.0);
  EXPECT_NEAR(after.integrated_lufs, r.output_lufs, 0.1);
}

TEST(Loudness, SilenceIsLeftAlone) {
  const auto silence = torch::zeros({2, 48000});
  EXPECT_TRUE(std::isinf(measure_loudness(silence, 48000).integrated_lufs));
  const NormalizeResult r = normalize_loudness(silence, 48000);
  EXPECT_EQ(r.gain_db, 0);
  EXPECT_TRUE(torch::equal(r.samples, silence));
}

TEST(Loudness, ConfigFromYaml) {
  const auto cfg = bind_config<LoudnessConfig>(
      parse_config_text("target_lufs: -23\npeak_ceiling_db: -2\ntrue_peak: false\n", "l.yaml"));
  EXPECT_EQ(cfg.target_lufs, -23);
  EXPECT_EQ(cfg.peak_ceiling_db, -2);
  EXPECT_FALSE(cfg.true_peak);
  EXPECT_THROW(bind_config<LoudnessConfig>(parse_config_text("peak_ceiling_db: 3\n", "l.yaml")),
               ConfigError);
}

}  // namespace
}  // namespace mudit::audio
