// mudit serve --bundle: /api/generate's songs through the generation pipeline.
#include "mudit/audio/io.h"
#include "mudit/pipeline/generate.h"
#include "mudit/retrieval/server.h"

namespace mudit::retrieval {

SongGenerator bundle_song_generator(const std::filesystem::path& dir, c10::Device device) {
  auto bundle = std::make_shared<pipeline::Bundle>(pipeline::load_bundle(dir, device));
  return [bundle](const GenerateRequest& g, const std::filesystem::path& wav) {
    pipeline::SongRequest r;
    r.description = g.description;
    r.lyrics = g.lyrics;
    r.duration = g.duration;
    r.seed = g.seed;
    r.steps = g.steps;
    const pipeline::Song song = pipeline::generate(*bundle, r);
    audio::write_audio(wav, song.audio, static_cast<int>(bundle->codec->sample_rate()));
  };
}

}  // namespace mudit::retrieval
