#pragma once

// `mudit eval`: scores a folder of generated songs against references and writes metrics.json
// and a self-contained report.html.
//
// Generated songs are the audio files (.wav, .flac, .ogg) of a folder, each optionally with the
// JSON sidecar `mudit sample` writes (`<name>.json`, its "request" giving the description and
// lyrics) and a `<name>.txt` holding lyrics to score instead of the request's. The reference is
// a manifest (songs with ids, audio, descriptions, lyrics and `meta` labels) or a folder of
// audio files. A generated song pairs with the reference whose id equals its name, or is the
// longest id that its name extends after a dot ("synth_000012.amateur" → "synth_000012"). Its
// prompt register is "style" when it was conditioned on an audio file (the request's `style`),
// "plan" without a description but with a plan from the request (bpm / key / chords / a plan
// file), "none" with neither, "professional" / "amateur" when the description is one of its
// reference's, else "other".
//
// Metrics (--metrics; default: every one the inputs allow, except `reconstruction` and `tags`):
//   control         tempo, key and mode hits against the reference's meta (per register), and
//                   instrument presence with an instrument probe (--instruments)
//   saa             ChinMu cosine of the song with its prompt and with its reference's
//                   professional and amateur descriptions (per register)
//   ara             ChinMu audio-tower layer similarity with the paired reference
//   fad             FAD and FAD∞ of ChinMu window embeddings against all references; per song
//   lyrics          the seed's lyric score of the song's lyrics against its reference's template
//   reconstruction  mel L1, MR-STFT, SI-SDR, LSD against the paired reference (codec outputs)
//   plan            beat F-measure, tempo within 8 %, chord per bar and key of the song's
//                   estimated plan (eval::plan_from_audio) against the plan it was given (the
//                   sidecar's) and against its reference's labels (a synthetic song's
//                   labels.json), per register
//   tags            MuChin tag similarity per dimension through a text tower (--text-tower: a
//                   `mudit convert hf-bert` file or ChinMu; default --chinmu): the references'
//                   amateur against their professional tags, and with --tags the generated
//                   songs' tags against their references' professional and amateur tags

#include <c10/core/Device.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace mudit::eval {

struct EvalOptions {
  std::filesystem::path generated;
  std::filesystem::path reference;    ///< manifest (.jsonl) or folder of audio
  std::filesystem::path out;          ///< folder for metrics.json and report.html
  std::filesystem::path chinmu;       ///< ChinMu model file or run (saa, ara, fad, tags)
  std::filesystem::path instruments;  ///< instrument probe (mudit fit-instruments) for control
  std::filesystem::path text_tower;   ///< text tower for tags (default: chinmu)
  /// Tags of the generated songs: JSON lines {"id": <song name>, "tags": {dimension: [tag]}}.
  std::filesystem::path tags;
  std::vector<std::string> metrics;
  int64_t fad_steps = 5;     ///< FAD∞ subset sizes
  uint64_t seed = 0;         ///< FAD∞ subsets
  bool report_audio = true;  ///< embed players (Ogg Vorbis) in report.html
  c10::Device device = c10::kCPU;
};

/// The metric names, in report order.
const std::vector<std::string>& metric_names();

/// Runs the evaluation and writes `out`/metrics.json and `out`/report.html (each atomically).
/// Throws ConfigError for an unknown or impossible metric (naming what is missing), IoError /
/// DataError for unreadable inputs. Returns the metrics.json text.
std::string evaluate(const EvalOptions& options);

}  // namespace mudit::eval
