#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <torch/types.h>

#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

#include "mudit/audio/io.h"
#include "mudit/core/config.h"
#include "mudit/train/image.h"
#include "mudit/train/metrics_log.h"
#include "mudit/train/progress.h"
#include "mudit/train/tensorboard.h"
#include "tensorboard/crc32c.h"
#include "tensorboard/events.h"
#include "tensorboard/proto.h"
#include "tensorboard/record.h"
#include "unit/test_util.h"

namespace mudit::train {
namespace {

namespace fs = std::filesystem;
using test::TempDir;
using ::testing::HasSubstr;
using ::testing::StartsWith;

// ---------------------------------------------------------------------------------------------
// CRC-32C, TFRecord framing, protobuf fields

TEST(TensorBoardEncoding, Crc32cCheckValues) {
  // RFC 3720 B.4 and the customary "123456789" check value.
  EXPECT_EQ(tbevent::crc32c("123456789"), 0xE3069283u);
  EXPECT_EQ(tbevent::crc32c(std::string(32, '\0')), 0x8A9136AAu);
  EXPECT_EQ(tbevent::crc32c(std::string(32, '\xFF')), 0x62A8AB43u);
  std::string ascending(32, '\0');
  for (int i = 0; i < 32; ++i) ascending[i] = static_cast<char>(i);
  EXPECT_EQ(tbevent::crc32c(ascending), 0x46DD794Eu);
  EXPECT_EQ(tbevent::crc32c(""), 0u);
  for (uint32_t crc : {0u, 1u, 0xE3069283u, 0xFFFFFFFFu}) {
    EXPECT_EQ(tbevent::unmask_crc(tbevent::mask_crc(crc)), crc);
  }
  EXPECT_EQ(tbevent::mask_crc(0), 0xA282EAD8u);
}

TEST(TensorBoardEncoding, RecordFramingAndCrcChecks) {
  std::string file;
  tbevent::append_record(file, "hello");
  tbevent::append_record(file, std::string(1000, 'z'));
  ASSERT_EQ(file.size(), (8 + 4 + 5 + 4) + (8 + 4 + 1000 + 4u));
  EXPECT_EQ(file.substr(0, 8), std::string("\x05\0\0\0\0\0\0\0", 8));  // little-endian length
  const auto records = tbevent::read_records(file);
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[0], "hello");
  EXPECT_EQ(records[1], std::string(1000, 'z'));

  std::string corrupt = file;
  corrupt[14] ^= 1;  // inside the first payload
  EXPECT_THROW(
      {
        try {
          tbevent::read_records(corrupt);
        } catch (const std::runtime_error& e) {
          EXPECT_THAT(e.what(), HasSubstr("record at byte 0: data CRC mismatch"));
          throw;
        }
      },
      std::runtime_error);
  corrupt = file;
  corrupt[21] ^= 1;  // the second record's length
  EXPECT_THROW(tbevent::read_records(corrupt), std::runtime_error);
  EXPECT_THROW(tbevent::read_records(file.substr(0, file.size() - 1)), std::runtime_error);
}

TEST(TensorBoardEncoding, ProtobufWireFormat) {
  tbevent::ProtoWriter w;
  w.add_varint(1, 150);  // the protobuf guide's example: 08 96 01
  EXPECT_EQ(w.bytes(), std::string("\x08\x96\x01"));
  w.add_bytes(2, "testing");
  w.add_varint(3, static_cast<uint64_t>(int64_t{-1}));
  w.add_float(4, 0.5f);
  w.add_double(5, -2.25);

  tbevent::ProtoReader r(w.bytes());
  tbevent::ProtoReader::Field f;
  ASSERT_TRUE(r.next(f));
  EXPECT_EQ(f.number, 1u);
  EXPECT_EQ(f.varint, 150u);
  ASSERT_TRUE(r.next(f));
  EXPECT_EQ(f.bytes, "testing");
  ASSERT_TRUE(r.next(f));
  EXPECT_EQ(static_cast<int64_t>(f.varint), -1);
  ASSERT_TRUE(r.next(f));
  EXPECT_EQ(f.as_float(), 0.5f);
  ASSERT_TRUE(r.next(f));
  EXPECT_EQ(f.as_double(), -2.25);
  EXPECT_FALSE(r.next(f));
  EXPECT_EQ(w.bytes().size(), 3u + 9u + 11u + 5u + 9u);
}

// ---------------------------------------------------------------------------------------------
// Reading events back (a minimal decoder over ProtoReader)

struct DecodedValue {
  std::string tag;
  std::optional<float> simple_value;
  std::string image;  // Summary.Image bytes
  std::string audio;  // Summary.Audio bytes
};

struct DecodedEvent {
  double wall_time = 0;
  int64_t step = 0;
  std::string file_version;
  std::vector<DecodedValue> values;
};

DecodedEvent decode_event(std::string_view bytes) {
  DecodedEvent ev;
  tbevent::ProtoReader r(bytes);
  tbevent::ProtoReader::Field f;
  while (r.next(f)) {
    if (f.number == 1) ev.wall_time = f.as_double();
    if (f.number == 2) ev.step = static_cast<int64_t>(f.varint);
    if (f.number == 3) ev.file_version = std::string(f.bytes);
    if (f.number == 5) {
      tbevent::ProtoReader summary(f.bytes);
      tbevent::ProtoReader::Field v;
      while (summary.next(v)) {
        DecodedValue dv;
        tbevent::ProtoReader value(v.bytes);
        tbevent::ProtoReader::Field g;
        while (value.next(g)) {
          if (g.number == 1) dv.tag = std::string(g.bytes);
          if (g.number == 2) dv.simple_value = g.as_float();
          if (g.number == 4) dv.image = std::string(g.bytes);
          if (g.number == 6) dv.audio = std::string(g.bytes);
        }
        ev.values.push_back(dv);
      }
    }
  }
  return ev;
}

/// The bytes of field `number` in a message (the last one when repeated).
std::string field_bytes(std::string_view message, uint32_t number) {
  tbevent::ProtoReader r(message);
  tbevent::ProtoReader::Field f;
  std::string out;
  while (r.next(f)) {
    if (f.number == number) out = std::string(f.bytes);
  }
  return out;
}

std::vector<DecodedEvent> read_events(const fs::path& file) {
  std::vector<DecodedEvent> events;
  for (const auto& rec : tbevent::read_records(test::read_file(file))) {
    events.push_back(decode_event(rec));
  }
  return events;
}

TEST(TensorBoardWriter, ScalarsAudioAndImagesReadBack) {
  TempDir dir;
  double now = 1700000000.0;
  fs::path file;
  const auto sine = (0.5 * torch::sin(torch::arange(800) * (2 * M_PI * 1000 / 16000)))
                        .to(torch::kFloat32)
                        .unsqueeze(0);                                  // [1, 800]
  const auto image = torch::randint(0, 256, {5, 7, 3}, torch::kUInt8);  // [H, W, 3]
  {
    TensorBoardWriter tb(dir / "tb", [&] { return now += 1.0; });
    file = tb.file();
    tb.add_scalar("loss", 0.25, 10);
    tb.add_scalars({{"lr", 1e-4}, {"grad_norm", 3.5}}, 11);
    tb.add_audio("audio/sine", sine, 16000, 12);
    tb.add_image("spec", image, 13);
  }
  EXPECT_THAT(file.filename().string(), StartsWith("events.out.tfevents.1700000001."));

  const auto events = read_events(file);
  ASSERT_EQ(events.size(), 5u);
  EXPECT_EQ(events[0].file_version, "brain.Event:2");
  EXPECT_EQ(events[0].wall_time, 1700000002.0);

  EXPECT_EQ(events[1].step, 10);
  ASSERT_EQ(events[1].values.size(), 1u);
  EXPECT_EQ(events[1].values[0].tag, "loss");
  EXPECT_EQ(events[1].values[0].simple_value, 0.25f);

  ASSERT_EQ(events[2].values.size(), 2u);  // map order
  EXPECT_EQ(events[2].values[0].tag, "grad_norm");
  EXPECT_EQ(events[2].values[0].simple_value, 3.5f);
  EXPECT_EQ(events[2].values[1].simple_value, 1e-4f);

  // Summary.Audio: sample_rate 1, num_channels 2, length_frames 3, encoded 4, content_type 5.
  EXPECT_EQ(events[3].step, 12);
  tbevent::ProtoReader audio(events[3].values.at(0).audio);
  tbevent::ProtoReader::Field f;
  std::string wav, content_type;
  float rate = 0;
  int64_t channels = 0, frames = 0;
  while (audio.next(f)) {
    if (f.number == 1) rate = f.as_float();
    if (f.number == 2) channels = static_cast<int64_t>(f.varint);
    if (f.number == 3) frames = static_cast<int64_t>(f.varint);
    if (f.number == 4) wav = std::string(f.bytes);
    if (f.number == 5) content_type = std::string(f.bytes);
  }
  EXPECT_EQ(rate, 16000.0f);
  EXPECT_EQ(channels, 1);
  EXPECT_EQ(frames, 800);
  EXPECT_EQ(content_type, "audio/wav");
  const auto clip = audio::decode_audio(wav, "tb audio");
  EXPECT_EQ(clip.sample_rate, 16000);
  EXPECT_LE((clip.samples - sine).abs().max().item<float>(), 0.5f / 32768);

  // Summary.Image: height 1, width 2, colorspace 3, encoded 4.
  tbevent::ProtoReader img(events[4].values.at(0).image);
  std::string png;
  int64_t h = 0, w = 0, cs = 0;
  while (img.next(f)) {
    if (f.number == 1) h = static_cast<int64_t>(f.varint);
    if (f.number == 2) w = static_cast<int64_t>(f.varint);
    if (f.number == 3) cs = static_cast<int64_t>(f.varint);
    if (f.number == 4) png = std::string(f.bytes);
  }
  EXPECT_EQ(h, 5);
  EXPECT_EQ(w, 7);
  EXPECT_EQ(cs, 3);
  EXPECT_TRUE(torch::equal(decode_png(png), image));
}

TEST(TensorBoardWriter, TwoWritersGetTwoFiles) {
  TempDir dir;
  TensorBoardWriter a(dir.path());
  TensorBoardWriter b(dir.path());
  EXPECT_NE(a.file(), b.file());
  EXPECT_THROW(TensorBoardWriter(dir.write("file", "x") / "tb"), IoError);
}

// ---------------------------------------------------------------------------------------------
// PNG and spectrogram images

TEST(Png, RoundTripsEveryChannelCount) {
  torch::manual_seed(1);
  for (int64_t c = 1; c <= 4; ++c) {
    SCOPED_TRACE(c);
    const auto image = torch::randint(0, 256, {9, 13, c}, torch::kUInt8);  // [H, W, C]
    const std::string png = encode_png(image);
    EXPECT_EQ(png.substr(0, 8), std::string("\x89PNG\r\n\x1a\n", 8));
    EXPECT_TRUE(torch::equal(decode_png(png), image));
  }
  const auto grey = torch::arange(6, torch::kUInt8).reshape({2, 3});  // [H, W]
  EXPECT_TRUE(torch::equal(decode_png(encode_png(grey)), grey.unsqueeze(2)));
}

TEST(Png, WritesAtomicallyAndRejectsBadInput) {
  TempDir dir;
  const auto image = torch::full({2, 2, 3}, 7, torch::kUInt8);
  write_png(dir / "a.png", image);
  EXPECT_TRUE(torch::equal(decode_png(test::read_file(dir / "a.png")), image));
  EXPECT_EQ(std::distance(fs::directory_iterator(dir.path()), fs::directory_iterator()), 1);
  EXPECT_THROW(encode_png(torch::zeros({2, 2, 3})), ShapeError);  // float
  EXPECT_THROW(encode_png(torch::zeros({2, 2, 5}, torch::kUInt8)), ShapeError);
  try {
    decode_png("not a png", "x.png");
    ADD_FAILURE() << "no error";
  } catch (const IoError& e) {
    EXPECT_THAT(e.what(), HasSubstr("cannot read PNG 'x.png': "));
  }
}

TEST(SpectrogramImage, LowFrequenciesAtTheBottomAndKnownColours) {
  // Bin f holds the value f: the lowest bin is the minimum, the highest the maximum.
  const auto spec = torch::arange(4, torch::kFloat32).unsqueeze(1).expand({4, 3});  // [F, T]
  const auto img = spectrogram_image(spec);                                         // [4, 3, 3]
  ASSERT_EQ(img.sizes(), (std::vector<int64_t>{4, 3, 3}));
  EXPECT_EQ(img.scalar_type(), torch::kUInt8);
  EXPECT_TRUE(torch::equal(img[3][0], torch::tensor({0, 0, 0}, torch::kUInt8)));        // bottom
  EXPECT_TRUE(torch::equal(img[0][0], torch::tensor({255, 255, 230}, torch::kUInt8)));  // top
  EXPECT_TRUE(torch::equal(img[0][0], img[0][2]));

  SpectrogramImageOptions gray;
  gray.colormap = "gray";
  const auto g = spectrogram_image(spec, gray);
  // Levels 0, 1/3, 2/3, 1 of 255 from bottom to top.
  EXPECT_EQ(g[3][1][0].item<uint8_t>(), 0);
  EXPECT_EQ(g[2][1][0].item<uint8_t>(), 85);
  EXPECT_EQ(g[1][1][0].item<uint8_t>(), 170);
  EXPECT_EQ(g[0][1][0].item<uint8_t>(), 255);

  // A fixed range clamps: everything at or above max is the top colour.
  SpectrogramImageOptions fixed;
  fixed.colormap = "gray";
  fixed.min_value = 0;
  fixed.max_value = 1;
  EXPECT_EQ(spectrogram_image(spec, fixed)[1][0][0].item<uint8_t>(), 255);
  // A dynamic range of 1 below the maximum (3): bins 0..2 all map to black.
  SpectrogramImageOptions range;
  range.colormap = "gray";
  range.dynamic_range = 1;
  EXPECT_EQ(spectrogram_image(spec, range)[2][0][0].item<uint8_t>(), 0);
  EXPECT_THROW(spectrogram_image(torch::zeros({2, 2, 2})), ShapeError);
  gray.colormap = "grey";
  EXPECT_THROW(spectrogram_image(spec, gray), ConfigError);
}

TEST(SpectrogramImage, HeatMapBrightnessRisesSteadily) {
  const auto ramp = torch::linspace(0, 1, 256).unsqueeze(1);     // [256, 1]
  const auto img = spectrogram_image(ramp).to(torch::kFloat64);  // [256, 1, 3]; row 0 = top
  const auto luma =
      (img.select(2, 0) * 0.2126 + img.select(2, 1) * 0.7152 + img.select(2, 2) * 0.0722)
          .flip(0)
          .squeeze(1);  // [256], from the lowest value up
  EXPECT_TRUE((luma.diff() >= -0.5).all().item<bool>());
  EXPECT_GT(luma[255].item<double>() - luma[0].item<double>(), 240);
}

// ---------------------------------------------------------------------------------------------
// Progress

struct Captured {
  std::vector<std::pair<std::string, bool>> lines;
  ProgressBar::Writer writer() {
    return [this](std::string_view line, bool redraw) { lines.emplace_back(line, redraw); };
  }
};

TEST(Progress, FormatsDurations) {
  EXPECT_EQ(format_duration(0), "0:00");
  EXPECT_EQ(format_duration(69), "1:09");
  EXPECT_EQ(format_duration(3600 + 62), "1:01:02");
  EXPECT_EQ(format_duration(NAN), "?");
}

TEST(Progress, PlainLinesEveryIntervalWithRateAndEta) {
  Captured out;
  double now = 0;
  ProgressOptions opts;
  opts.total = 100;
  opts.interval = 30;
  {
    ProgressBar bar(opts, out.writer(), /*tty=*/false, [&] { return now; });
    for (int step = 1; step <= 100; ++step) {
      now = step - 1;  // one step a second, starting at step 1
      bar.update(step, {{"loss", 1.0 / step}});
    }
  }
  // t = 30, 60, 90 and the final line from the destructor.
  ASSERT_EQ(out.lines.size(), 4u);
  EXPECT_EQ(out.lines[0].first, "train step 31/100 (31%) [0:30 < 1:09, 1 it/s] loss=0.03226");
  EXPECT_FALSE(out.lines[0].second);
  EXPECT_EQ(out.lines[3].first, "train step 100/100 (100%) [1:39 < 0:00, 1 it/s] loss=0.01");
}

TEST(Progress, PlainLinesEveryNSteps) {
  Captured out;
  double now = 0;
  ProgressOptions opts;
  opts.label = "encode";
  opts.every_steps = 10;
  opts.interval = 1e9;
  ProgressBar bar(opts, out.writer(), false, [&] { return now; });
  for (int step = 0; step <= 25; ++step) {
    now = step * 0.5;
    bar.update(step);
  }
  bar.finish();
  bar.finish();                                                    // once only
  ASSERT_EQ(out.lines.size(), 3u);                                 // steps 10, 20, final 25
  EXPECT_EQ(out.lines[0].first, "encode step 10 [0:05, 2 it/s]");  // unknown total: no ETA
  EXPECT_EQ(out.lines[2].first, "encode step 25 [0:13, 2 it/s]");  // 12.5 s rounds up
}

TEST(Progress, TerminalBarRedrawsInPlace) {
  Captured out;
  double now = 0;
  ProgressOptions opts;
  opts.total = 10;
  opts.bar_width = 10;
  opts.redraw_interval = 1.0;
  ProgressBar bar(opts, out.writer(), /*tty=*/true, [&] { return now; });
  for (int step = 0; step <= 10; ++step) {
    now = step * 0.5;
    bar.update(step, {{"loss", 0.5}});
  }
  bar.finish();
  // Drawn at the first step, then at most once a second (t = 1, 2, 3, 4), and at the end.
  ASSERT_EQ(out.lines.size(), 7u);
  for (size_t i = 0; i + 1 < out.lines.size(); ++i) EXPECT_TRUE(out.lines[i].second);
  EXPECT_EQ(out.lines[0].first, "train   0% |..........| 0/10 [0:00 < ?, 0 it/s] loss=0.5");
  EXPECT_EQ(out.lines[2].first, "train  40% |####......| 4/10 [0:02 < 0:03, 2 it/s] loss=0.5");
  EXPECT_EQ(out.lines[5].first, "train 100% |##########| 10/10 [0:05 < 0:00, 2 it/s] loss=0.5");
  EXPECT_EQ(out.lines[6], (std::pair<std::string, bool>{"", false}));  // ends the line
}

TEST(Progress, SlowStepsShowSecondsPerStep) {
  Captured out;
  double now = 0;
  ProgressOptions opts;
  opts.every_steps = 1;
  ProgressBar bar(opts, out.writer(), false, [&] { return now; });
  bar.update(0);
  now = 4;
  bar.update(1);
  ASSERT_EQ(out.lines.size(), 1u);
  EXPECT_EQ(out.lines[0].first, "train step 1 [0:04, 4 s/it]");
}

// ---------------------------------------------------------------------------------------------
// MetricsLog

std::vector<std::string> lines_of(const fs::path& p) {
  std::vector<std::string> lines;
  std::istringstream in(test::read_file(p));
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

TEST(MetricsLog, WritesJsonlAndTensorBoardAndAppendsOnResume) {
  TempDir dir;
  const auto run = dir / "run";
  Captured out;
  {
    MetricsLog log(
        run, {},
        std::make_unique<ProgressBar>(ProgressOptions{}, out.writer(), false, [] { return 0.0; }));
    log.log_scalars(1, {{"loss", 0.5}, {"lr", 1e-3}});
    log.log_scalars(2, {{"loss", NAN}});
    log.log_spectrogram(2, "mel", torch::rand({8, 16}));
    log.log_audio(2, "audio", torch::zeros({2, 100}), 8000);
  }
  auto lines = lines_of(run / "metrics.jsonl");
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_THAT(lines[0], StartsWith("{\"step\":1,\"time\":"));
  EXPECT_THAT(lines[0], HasSubstr("\"loss\":0.5,\"lr\":0.001}"));
  EXPECT_THAT(lines[1], HasSubstr("\"loss\":null}"));
  EXPECT_EQ(out.lines.size(), 1u);  // the final line

  std::vector<fs::path> event_files;
  for (const auto& e : fs::directory_iterator(run / "tb")) event_files.push_back(e.path());
  ASSERT_EQ(event_files.size(), 1u);
  const auto events = read_events(event_files[0]);
  ASSERT_EQ(events.size(), 5u);  // version, 2 scalar events, image, audio
  EXPECT_EQ(events[3].values.at(0).tag, "mel");
  const std::string png = field_bytes(events[3].values.at(0).image, 4);
  EXPECT_EQ(decode_png(png).sizes(), (std::vector<int64_t>{8, 16, 3}));

  MetricsLogConfig only_jsonl;
  only_jsonl.tensorboard = false;
  only_jsonl.progress = false;
  {
    MetricsLog log(run, only_jsonl);
    EXPECT_EQ(log.tensorboard(), nullptr);
    log.log_scalars(3, {{"loss", 0.25}});
  }
  lines = lines_of(run / "metrics.jsonl");
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_THAT(lines[2], StartsWith("{\"step\":3,"));
}

TEST(MetricsLog, ConfigFromYaml) {
  const auto cfg = bind_config<MetricsLogConfig>(
      parse_config_text("tensorboard: false\nprogress_interval: 5\n", "m.yaml"));
  EXPECT_FALSE(cfg.tensorboard);
  EXPECT_EQ(cfg.progress_interval, 5);
  EXPECT_THROW(bind_config<MetricsLogConfig>(parse_config_text("progress_interval: 0\n", "m.yaml")),
               ConfigError);
}

}  // namespace
}  // namespace mudit::train
