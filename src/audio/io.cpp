#include "mudit/audio/io.h"

#include <sndfile.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstring>
#include <memory>
#include <sstream>
#include <vector>

#include "mudit/core/config.h"
#include "mudit/core/error.h"
#include "mudit/core/fs.h"
#include "mudit/core/log.h"

namespace mudit::audio {
namespace {

// ---------------------------------------------------------------------------------------------
// libsndfile handles over files and memory

struct SndfileCloser {
  void operator()(SNDFILE* f) const { sf_close(f); }
};
using SndfileHandle = std::unique_ptr<SNDFILE, SndfileCloser>;

// A read-only view of bytes for libsndfile's virtual I/O.
struct MemoryReader {
  const char* data = nullptr;
  sf_count_t size = 0;
  sf_count_t pos = 0;
};

// A growable, seekable buffer that libsndfile writes into (it seeks back to fix headers).
struct MemoryWriter {
  std::string bytes;
  sf_count_t pos = 0;
};

sf_count_t seek_to(sf_count_t& pos, sf_count_t size, sf_count_t offset, int whence) {
  sf_count_t target = offset;
  if (whence == SEEK_CUR) target = pos + offset;
  if (whence == SEEK_END) target = size + offset;
  if (target < 0) return -1;
  pos = target;
  return pos;
}

SF_VIRTUAL_IO reader_io() {
  SF_VIRTUAL_IO io{};
  io.get_filelen = [](void* user) { return static_cast<MemoryReader*>(user)->size; };
  io.seek = [](sf_count_t offset, int whence, void* user) {
    auto* m = static_cast<MemoryReader*>(user);
    return seek_to(m->pos, m->size, offset, whence);
  };
  io.read = [](void* ptr, sf_count_t count, void* user) -> sf_count_t {
    auto* m = static_cast<MemoryReader*>(user);
    const sf_count_t n = std::max<sf_count_t>(0, std::min(count, m->size - m->pos));
    if (n > 0) std::memcpy(ptr, m->data + m->pos, static_cast<size_t>(n));
    m->pos += n;
    return n;
  };
  io.write = [](const void*, sf_count_t, void*) -> sf_count_t { return 0; };
  io.tell = [](void* user) { return static_cast<MemoryReader*>(user)->pos; };
  return io;
}

SF_VIRTUAL_IO writer_io() {
  SF_VIRTUAL_IO io{};
  io.get_filelen = [](void* user) {
    return static_cast<sf_count_t>(static_cast<MemoryWriter*>(user)->bytes.size());
  };
  io.seek = [](sf_count_t offset, int whence, void* user) {
    auto* m = static_cast<MemoryWriter*>(user);
    return seek_to(m->pos, static_cast<sf_count_t>(m->bytes.size()), offset, whence);
  };
  io.read = [](void* ptr, sf_count_t count, void* user) -> sf_count_t {
    auto* m = static_cast<MemoryWriter*>(user);
    const sf_count_t size = static_cast<sf_count_t>(m->bytes.size());
    const sf_count_t n = std::max<sf_count_t>(0, std::min(count, size - m->pos));
    if (n > 0) std::memcpy(ptr, m->bytes.data() + m->pos, static_cast<size_t>(n));
    m->pos += n;
    return n;
  };
  io.write = [](const void* ptr, sf_count_t count, void* user) -> sf_count_t {
    auto* m = static_cast<MemoryWriter*>(user);
    const size_t end = static_cast<size_t>(m->pos + count);
    if (end > m->bytes.size()) m->bytes.resize(end);
    std::memcpy(m->bytes.data() + m->pos, ptr, static_cast<size_t>(count));
    m->pos += count;
    return count;
  };
  io.tell = [](void* user) { return static_cast<MemoryWriter*>(user)->pos; };
  return io;
}

// libsndfile's messages end with a period and sometimes start with "System error : ".
std::string clean_reason(std::string reason) {
  const std::string system_prefix = "System error : ";
  if (reason.rfind(system_prefix, 0) == 0) reason = reason.substr(system_prefix.size());
  while (!reason.empty() && (reason.back() == '.' || reason.back() == ' ')) reason.pop_back();
  if (!reason.empty()) reason[0] = static_cast<char>(std::tolower(reason[0]));
  return reason;
}

[[noreturn]] void throw_read_error(const std::string& name, const std::string& reason) {
  MUDIT_THROW(IoError, "cannot read audio '", name, "': ", reason);
}

// libsndfile opens a WAV/AIFF file whose data chunk is cut short and silently reads what is
// there; its header log says "data : 64000 (should be 29956)". Sizes 0 and 0xFFFFFFFF are
// what streaming writers put when they do not know the length yet, and are not truncation.
void check_not_truncated(SNDFILE* file, const std::string& name) {
  std::string log(8192, '\0');
  sf_command(file, SFC_GET_LOG_INFO, log.data(), static_cast<int>(log.size()));
  log.resize(std::strlen(log.c_str()));
  std::istringstream lines(log);
  std::string line;
  while (std::getline(lines, line)) {
    long long declared = 0, actual = 0;
    if (std::sscanf(line.c_str(), "data : %lld (should be %lld)", &declared, &actual) == 2 ||
        std::sscanf(line.c_str(), "SSND : %lld (should be %lld)", &declared, &actual) == 2) {
      if (declared > actual && declared != 0 && declared != 0xFFFFFFFFLL &&
          declared != 0x7FFFFFFFLL) {
        throw_read_error(name, "truncated: the header declares " + std::to_string(declared) +
                                   " bytes of audio data, the file holds " +
                                   std::to_string(actual));
      }
    }
  }
}

struct OpenedFile {
  SndfileHandle file;
  SF_INFO info{};
};

OpenedFile open_path(const std::filesystem::path& path) {
  const std::string name = path.string();
  std::error_code ec;
  const auto status = std::filesystem::status(path, ec);
  if (!std::filesystem::exists(status)) throw_read_error(name, "no such file");
  if (std::filesystem::is_directory(status)) throw_read_error(name, "is a folder, not a file");
  OpenedFile out;
  out.file.reset(sf_open(name.c_str(), SFM_READ, &out.info));
  if (!out.file) throw_read_error(name, clean_reason(sf_strerror(nullptr)));
  check_not_truncated(out.file.get(), name);
  return out;
}

OpenedFile open_memory(MemoryReader& reader, SF_VIRTUAL_IO& io, const std::string& name) {
  if (reader.size == 0) throw_read_error(name, "no data (0 bytes)");
  OpenedFile out;
  out.file.reset(sf_open_virtual(&io, SFM_READ, &out.info, &reader));
  if (!out.file) throw_read_error(name, clean_reason(sf_strerror(nullptr)));
  check_not_truncated(out.file.get(), name);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Format names

std::string lowercase_name(const char* name) {
  std::string s = name ? name : "";
  for (char& c : s) c = c == ' ' ? '_' : static_cast<char>(std::tolower(c));
  return s;
}

// libsndfile's description of a major format or a subtype.
std::string format_description(int format) {
  SF_FORMAT_INFO fi{};
  fi.format = format;
  if (sf_command(nullptr, SFC_GET_FORMAT_INFO, &fi, sizeof(fi)) == 0 && fi.name) return fi.name;
  return "unknown";
}

std::string container_short_name(int format) {
  switch (format & SF_FORMAT_TYPEMASK) {
    case SF_FORMAT_WAV:
    case SF_FORMAT_WAVEX:
      return "wav";
    case SF_FORMAT_RF64:
      return "rf64";
    case SF_FORMAT_W64:
      return "w64";
    case SF_FORMAT_FLAC:
      return "flac";
    case SF_FORMAT_OGG:
      return "ogg";
    case SF_FORMAT_MPEG:
      return "mp3";
    case SF_FORMAT_AIFF:
      return "aiff";
    case SF_FORMAT_AU:
      return "au";
    case SF_FORMAT_CAF:
      return "caf";
    case SF_FORMAT_RAW:
      return "raw";
    default:
      return lowercase_name(format_description(format & SF_FORMAT_TYPEMASK).c_str());
  }
}

std::string subtype_short_name(int format) {
  switch (format & SF_FORMAT_SUBMASK) {
    case SF_FORMAT_PCM_S8:
      return "pcm8";
    case SF_FORMAT_PCM_U8:
      return "pcm_u8";
    case SF_FORMAT_PCM_16:
      return "pcm16";
    case SF_FORMAT_PCM_24:
      return "pcm24";
    case SF_FORMAT_PCM_32:
      return "pcm32";
    case SF_FORMAT_FLOAT:
      return "float32";
    case SF_FORMAT_DOUBLE:
      return "float64";
    case SF_FORMAT_ULAW:
      return "ulaw";
    case SF_FORMAT_ALAW:
      return "alaw";
    case SF_FORMAT_VORBIS:
      return "vorbis";
    case SF_FORMAT_OPUS:
      return "opus";
    case SF_FORMAT_MPEG_LAYER_I:
      return "mp1";
    case SF_FORMAT_MPEG_LAYER_II:
      return "mp2";
    case SF_FORMAT_MPEG_LAYER_III:
      return "mp3";
    case SF_FORMAT_ALAC_16:
      return "alac16";
    case SF_FORMAT_ALAC_24:
      return "alac24";
    default:
      return lowercase_name(format_description(format & SF_FORMAT_SUBMASK).c_str());
  }
}

AudioInfo info_of(const SF_INFO& info) {
  AudioInfo out;
  out.channels = info.channels;
  out.frames = info.frames;
  out.sample_rate = info.samplerate;
  out.duration = info.samplerate > 0 ? double(info.frames) / info.samplerate : 0.0;
  out.container = container_short_name(info.format);
  out.container_name = format_description(info.format & SF_FORMAT_TYPEMASK);
  out.subtype = subtype_short_name(info.format);
  out.subtype_name = format_description(info.format & SF_FORMAT_SUBMASK);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Reading

Audio read_opened(OpenedFile& opened, const std::string& name, const AudioReadOptions& options) {
  options.validate();
  const SF_INFO& info = opened.info;
  MUDIT_CHECK(info.channels > 0 && info.samplerate > 0, IoError, "cannot read audio '", name,
              "': the header declares ", info.channels, " channels at ", info.samplerate, " Hz");
  const int64_t total = info.frames;
  const int64_t start = std::min<int64_t>(total, std::llround(options.offset * info.samplerate));
  int64_t count = total - start;
  if (options.duration > 0) {
    count = std::min<int64_t>(count, std::llround(options.duration * info.samplerate));
  }
  if (start > 0 && sf_seek(opened.file.get(), start, SEEK_SET) < 0) {
    throw_read_error(name, "cannot seek to frame " + std::to_string(start) + ": " +
                               clean_reason(sf_strerror(opened.file.get())));
  }

  torch::Tensor interleaved = torch::empty({count, info.channels}, torch::kFloat32);  // [T, C]
  float* data = interleaved.data_ptr<float>();
  int64_t done = 0;
  while (done < count) {
    const sf_count_t chunk = std::min<int64_t>(count - done, 1 << 16);
    const sf_count_t n = sf_readf_float(opened.file.get(), data + done * info.channels, chunk);
    if (n <= 0) break;
    done += n;
  }
  if (sf_error(opened.file.get()) != SF_ERR_NO_ERROR) {
    throw_read_error(name, "corrupt data after frame " + std::to_string(start + done) + ": " +
                               clean_reason(sf_strerror(opened.file.get())));
  }
  if (done < count) {
    throw_read_error(name, "truncated: the header declares " + std::to_string(total) +
                               " frames, only " + std::to_string(start + done) +
                               " could be decoded");
  }

  Audio audio;
  audio.samples = interleaved.t().contiguous();  // [C, T]
  audio.sample_rate = info.samplerate;
  if (options.channels > 0) audio.samples = convert_channels(audio.samples, options.channels);
  if (options.sample_rate > 0 && options.sample_rate != audio.sample_rate) {
    audio.samples = resample(audio.samples, audio.sample_rate, options.sample_rate,
                             options.resample);  // [C, T']
    audio.sample_rate = options.sample_rate;
  }
  return audio;
}

// ---------------------------------------------------------------------------------------------
// Writing

std::string extension_of(const std::filesystem::path& path) {
  std::string ext = path.extension().string();
  for (char& c : ext) c = static_cast<char>(std::tolower(c));
  return ext;
}

int sndfile_format(const std::string& format, const std::string& encoding) {
  if (format == "ogg") return SF_FORMAT_OGG | SF_FORMAT_VORBIS;  // lossy; encoding unused
  int major = format == "flac" ? SF_FORMAT_FLAC : SF_FORMAT_WAV;
  int sub = SF_FORMAT_PCM_16;
  if (encoding == "pcm24") sub = SF_FORMAT_PCM_24;
  if (encoding == "float32") sub = SF_FORMAT_FLOAT;
  MUDIT_CHECK(!(major == SF_FORMAT_FLAC && sub == SF_FORMAT_FLOAT), ConfigError,
              "FLAC stores integer samples only: use encoding pcm16 or pcm24, or format wav for "
              "float32");
  return major | sub;
}

// Encodes into memory. `name` is the file the bytes are meant for (errors mention it).
std::string encode(const torch::Tensor& samples, int sample_rate, const std::string& format,
                   const AudioWriteOptions& options, const std::string& name) {
  MUDIT_CHECK(samples.dim() == 1 || samples.dim() == 2, ShapeError,
              "audio to write must be [C, T] or [T], got ", samples.sizes(), " for '", name, "'");
  MUDIT_CHECK(sample_rate > 0, ConfigError, "sample rate must be positive, got ", sample_rate);
  torch::Tensor x = samples.detach().to(torch::kCPU, torch::kFloat32);
  if (x.dim() == 1) x = x.unsqueeze(0);  // [1, T]
  const int64_t channels = x.size(0);
  MUDIT_CHECK(channels > 0, ShapeError, "audio to write has no channels (", name, ")");
  MUDIT_CHECK(torch::isfinite(x).all().item<bool>(), DataError, "audio to write to '", name,
              "' holds NaN or infinite samples");
  const int sf_format = sndfile_format(format, options.encoding);
  const bool integer_pcm = options.encoding != "float32" && format != "ogg";
  if (integer_pcm && x.numel() > 0) {
    const int64_t clipped = (x.abs() > 1.0f).sum().item<int64_t>();
    if (clipped > 0) {
      log::warn("audio '", name, "': ", clipped, " samples beyond full scale clipped (peak ",
                x.abs().max().item<float>(), ")");
    }
  }
  SF_INFO info{};
  info.samplerate = sample_rate;
  info.channels = static_cast<int>(channels);
  info.format = sf_format;
  MUDIT_CHECK(sf_format_check(&info), IoError, "cannot write audio '", name,
              "': ", container_short_name(sf_format), " cannot hold ", channels, " channels of ",
              options.encoding, " at ", sample_rate, " Hz");
  MemoryWriter writer;
  SF_VIRTUAL_IO io = writer_io();
  SndfileHandle file(sf_open_virtual(&io, SFM_WRITE, &info, &writer));
  MUDIT_CHECK(file != nullptr, IoError, "cannot write audio '", name,
              "': ", clean_reason(sf_strerror(nullptr)));
  sf_count_t written = 0;
  int64_t frames = x.size(1);
  if (integer_pcm) {
    // Quantise here rather than in libsndfile, which scales writes by 2^(b-1) - 1 but reads by
    // 2^(b-1): with one scale both ways a round trip is off by at most half a step.
    const int bits = options.encoding == "pcm24" ? 24 : 16;
    const double scale = std::ldexp(1.0, bits - 1);
    const torch::Tensor q = (x.to(torch::kFloat64) * scale)
                                .round()
                                .clamp(-scale, scale - 1)
                                .to(torch::kInt32)
                                .mul(1 << (32 - bits))
                                .t()
                                .contiguous();  // [T, C] as left-aligned 32-bit integers
    written = sf_writef_int(file.get(), q.data_ptr<int32_t>(), frames);
  } else {
    const torch::Tensor interleaved = x.t().contiguous();  // [T, C]
    written = sf_writef_float(file.get(), interleaved.data_ptr<float>(), frames);
  }
  MUDIT_CHECK(written == frames, IoError, "cannot write audio '", name,
              "': ", clean_reason(sf_strerror(file.get())));
  const int rc = sf_close(file.release());
  MUDIT_CHECK(rc == 0, IoError, "cannot write audio '", name,
              "': ", clean_reason(sf_error_number(rc)));
  return std::move(writer.bytes);
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Public API

void AudioReadOptions::validate() const {
  MUDIT_CHECK(offset >= 0, ConfigError, "offset must be >= 0 seconds, got ", offset);
  MUDIT_CHECK(duration >= 0, ConfigError, "duration must be >= 0 seconds, got ", duration);
  MUDIT_CHECK(sample_rate >= 0, ConfigError, "sample_rate must be >= 0, got ", sample_rate);
  MUDIT_CHECK(channels >= 0, ConfigError, "channels must be >= 0, got ", channels);
  resample.validate();
}

void AudioWriteOptions::validate() const {
  check_choice("format", format, {"auto", "wav", "flac", "ogg"});
  check_choice("encoding", encoding, {"pcm16", "pcm24", "float32"});
  if (format == "flac") sndfile_format(format, encoding);
}

Audio read_audio(const std::filesystem::path& path, const AudioReadOptions& options) {
  OpenedFile opened = open_path(path);
  return read_opened(opened, path.string(), options);
}

AudioInfo probe_audio(const std::filesystem::path& path) {
  return info_of(open_path(path).info);
}

Audio decode_audio(std::string_view bytes, const std::string& source_name,
                   const AudioReadOptions& options) {
  MemoryReader reader{bytes.data(), static_cast<sf_count_t>(bytes.size()), 0};
  SF_VIRTUAL_IO io = reader_io();
  OpenedFile opened = open_memory(reader, io, source_name);
  return read_opened(opened, source_name, options);
}

std::string encode_audio(const torch::Tensor& samples, int sample_rate,
                         const AudioWriteOptions& options) {
  options.validate();
  const std::string format = options.format == "auto" ? "wav" : options.format;
  return encode(samples, sample_rate, format, options, "<memory>");
}

void write_audio(const std::filesystem::path& path, const torch::Tensor& samples, int sample_rate,
                 const AudioWriteOptions& options) {
  options.validate();
  std::string format = options.format;
  if (format == "auto") {
    const std::string ext = extension_of(path);
    if (ext == ".wav") {
      format = "wav";
    } else if (ext == ".flac") {
      format = "flac";
    } else {
      MUDIT_THROW(ConfigError, "cannot tell the audio format of '", path.string(),
                  "' from its extension: use .wav or .flac, or set the format");
    }
  }
  const std::string bytes = encode(samples, sample_rate, format, options, path.string());
  write_file_atomic(path, bytes);
}

torch::Tensor convert_channels(const torch::Tensor& samples, int64_t channels) {
  MUDIT_CHECK(samples.dim() == 2, ShapeError, "channel conversion needs samples [C, T], got ",
              samples.sizes());
  MUDIT_CHECK(channels > 0, ConfigError, "channel count must be positive, got ", channels);
  const int64_t have = samples.size(0);
  if (have == channels) return samples;
  if (channels == 1) return samples.mean(0, /*keepdim=*/true);                // [1, T]
  if (have == 1) return samples.expand({channels, samples.size(1)}).clone();  // [C, T]
  MUDIT_THROW(ShapeError, "cannot convert ", have, " channels to ", channels,
              ": only to mono (average) or from mono (copy)");
}

}  // namespace mudit::audio
