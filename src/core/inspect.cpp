#include "mudit/core/inspect.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <sstream>

#include "mudit/audio/io.h"
#include "mudit/audio/loudness.h"
#include "mudit/core/checkpoint.h"
#include "mudit/core/error.h"
#include "mudit/core/safetensors.h"

namespace mudit {
namespace fs = std::filesystem;

namespace {

std::string human_bytes(uint64_t n) {
  char buf[32];
  if (n < 1024) {
    std::snprintf(buf, sizeof buf, "%llu B", static_cast<unsigned long long>(n));
  } else if (n < (1ull << 20)) {
    std::snprintf(buf, sizeof buf, "%.1f KiB", n / 1024.0);
  } else if (n < (1ull << 30)) {
    std::snprintf(buf, sizeof buf, "%.1f MiB", n / 1048576.0);
  } else {
    std::snprintf(buf, sizeof buf, "%.2f GiB", n / 1073741824.0);
  }
  return buf;
}

std::string with_commas(uint64_t n) {
  std::string s = std::to_string(n);
  for (int i = static_cast<int>(s.size()) - 3; i > 0; i -= 3) s.insert(static_cast<size_t>(i), ",");
  return s;
}

std::string shape_str(const std::vector<int64_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

void describe_safetensors(std::ostringstream& out, const fs::path& path,
                          const InspectOptions& options) {
  SafetensorsReader reader(path);
  out << "file: " << path.string() << " (safetensors, " << human_bytes(fs::file_size(path))
      << ", header " << human_bytes(reader.header_bytes()) << ")\n";
  const auto& meta = reader.metadata();
  if (meta.count("mudit.format")) {
    const ModelMeta m = ModelMeta::from_metadata(meta, path.string());
    out << "model: " << m.arch << " rev " << m.arch_rev << ", step " << m.step << ", format "
        << m.format << ", written by mudit " << m.mudit_version << " / LibTorch " << m.torch_version
        << "\n";
  }
  if (!meta.empty()) {
    out << "metadata:\n";
    for (const auto& [k, v] : meta) {
      if (v.find('\n') == std::string::npos) {
        out << "  " << k << ": " << v << "\n";
        continue;
      }
      out << "  " << k << ": |\n";
      // Long values (a text tower's vocabulary) show their start and their length.
      const auto total = std::count(v.begin(), v.end(), '\n') + (v.back() == '\n' ? 0 : 1);
      std::istringstream lines(v);
      int64_t shown = 0;
      for (std::string line; std::getline(lines, line) && shown < 60; ++shown)
        out << "    " << line << "\n";
      if (total > shown) out << "    ... (" << total << " lines)\n";
    }
  }
  uint64_t elements = 0;
  size_t name_width = 4;
  for (const auto& e : reader.entries()) {
    uint64_t n = 1;
    for (int64_t d : e.shape) n *= static_cast<uint64_t>(d);
    elements += n;
    name_width = std::max(name_width, e.name.size());
  }
  out << "tensors: " << reader.entries().size() << " (" << with_commas(elements) << " elements, "
      << human_bytes(reader.data_bytes()) << ")\n";
  std::vector<TensorEntry> rows = reader.entries();
  std::sort(rows.begin(), rows.end(),
            [](const TensorEntry& a, const TensorEntry& b) { return a.name < b.name; });
  const size_t limit =
      options.max_tensors == 0 ? rows.size() : std::min(rows.size(), options.max_tensors);
  char line[512];
  for (size_t i = 0; i < limit; ++i) {
    const auto& e = rows[i];
    std::snprintf(line, sizeof line, "  %-*s  %-4s  %-20s  %s\n", static_cast<int>(name_width),
                  e.name.c_str(), safetensors_dtype_name(e.dtype).c_str(),
                  shape_str(e.shape).c_str(), human_bytes(e.nbytes()).c_str());
    out << line;
  }
  if (limit < rows.size()) out << "  ... " << rows.size() - limit << " more\n";
}

void describe_checkpoint_folder(std::ostringstream& out, const fs::path& path,
                                const InspectOptions& options) {
  out << "checkpoint: " << path.string() << "\n";
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(path)) {
    if (e.is_regular_file()) files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  for (const auto& f : files) {
    out << "  " << f.filename().string() << "  " << human_bytes(fs::file_size(f)) << "\n";
  }
  const fs::path model = path / "model.safetensors";
  if (fs::exists(model)) {
    out << "\n";
    describe_safetensors(out, model, options);
  }
}

void describe_checkpoints_root(std::ostringstream& out, const fs::path& path) {
  CheckpointManager mgr(path);
  const auto steps = mgr.steps();
  const auto latest = mgr.latest();
  out << "checkpoints: " << path.string() << " (" << steps.size() << " published";
  if (latest) out << ", latest step-" << *latest;
  out << ")\n";
  for (int64_t s : steps) {
    uint64_t bytes = 0;
    for (const auto& e : fs::recursive_directory_iterator(mgr.dir(s))) {
      if (e.is_regular_file()) bytes += e.file_size();
    }
    out << "  step-" << s << "  " << human_bytes(bytes)
        << (latest && *latest == s ? "  (latest)" : "") << "\n";
  }
}

bool is_audio_file(const fs::path& path) {
  std::string ext = path.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  static const char* kAudio[] = {".wav", ".flac", ".ogg", ".oga", ".opus", ".mp3", ".aif", ".aiff"};
  return std::any_of(std::begin(kAudio), std::end(kAudio), [&](const char* e) { return ext == e; });
}

void describe_audio(std::ostringstream& out, const fs::path& path) {
  const audio::AudioInfo info = audio::probe_audio(path);
  out << "file: " << path.string() << " (" << info.container_name << ", " << info.subtype_name
      << ", " << human_bytes(fs::file_size(path)) << ")\n";
  char line[160];
  std::snprintf(line, sizeof line, "audio: %d channel%s, %d Hz, %lld frames, %.3f s\n",
                info.channels, info.channels == 1 ? "" : "s", info.sample_rate,
                static_cast<long long>(info.frames), info.duration);
  out << line;
  const audio::Audio a = audio::read_audio(path);
  const audio::LoudnessStats stats = audio::measure_loudness(a.samples, a.sample_rate);
  std::snprintf(line, sizeof line, "level: %.2f LUFS integrated, sample peak %.2f dBFS\n",
                stats.integrated_lufs, 20.0 * std::log10(std::max(stats.sample_peak, 1e-12)));
  out << line;
}

}  // namespace

std::string inspect(const fs::path& path, const InspectOptions& options) {
  std::error_code ec;
  MUDIT_CHECK(fs::exists(path, ec), IoError, path.string(), ": no such file or folder");
  std::ostringstream out;
  if (fs::is_directory(path, ec)) {
    if (fs::exists(path / "latest", ec) || !CheckpointManager(path).steps().empty()) {
      describe_checkpoints_root(out, path);
    } else {
      describe_checkpoint_folder(out, path, options);
    }
    return out.str();
  }
  if (is_audio_file(path)) {
    describe_audio(out, path);
  } else {
    describe_safetensors(out, path, options);
  }
  return out.str();
}

}  // namespace mudit
