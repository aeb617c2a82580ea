#pragma once

// The plan file: a MusicalPlan as JSON, what `mudit plan` writes and a `mudit sample` line's
// `plan` field reads. Readable by hand:
//   {"format": 1, "duration": 30.0, "latent_rate": 5.859375, "bpm": 120.0, "meter": "4/4",
//    "beats_per_bar": 4, "first_downbeat": 0, "beats": [0.0, 0.5, ...],
//    "chords": [{"start": 0.0, "symbol": "Am"}, ...], "chords_end": 30.0, "key": "A minor",
//    "sources": {"beats": "request", "chords": "request", "key": "description"}}
// A group left out (no "beats", no "chords", no "key") is absent from the plan.

#include <string>

#include "mudit/generation/plan.h"

namespace mudit::generation {

/// `latent_rate`: the codec frame rate the plan was made for (0: any).
std::string plan_to_json(const MusicalPlan& plan, double latent_rate = 0);

/// Reads plan_to_json()'s output. `latent_rate` (when > 0) must match the file's (when it has
/// one) within 1e-6: a plan made for another codec is refused. Throws DataError naming the field.
MusicalPlan plan_from_json(const std::string& json, double latent_rate = 0);

}  // namespace mudit::generation
