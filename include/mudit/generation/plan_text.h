#pragma once

// Musical facts stated in a description, Chinese or English: "140 BPM", "每分钟120拍",
// "A小调", "降B大调", "#C大调", "C major", "F# minor", "D宫调式", "3/4拍", "6/8", "三拍子", and
// tempo words (快板, adagio, ...) mapped to the middle of their range. What is not stated is left
// unset: the plan's other sources (the control head) fill it.

#include <string>

#include "mudit/generation/plan.h"

namespace mudit::generation {

struct PlanHints {
  double bpm = 0;              ///< quarter-note BPM as written (0: not stated)
  bool bpm_from_word = false;  ///< bpm came from a tempo word (快板, allegro), not a number
  bool has_key = false;
  PlanKey key;
  std::string meter;  ///< "3/4", "6/8", ... ("": not stated)
};

/// Reads the facts of a description. A stated BPM outside [30, 300] throws DataError.
PlanHints parse_plan_hints(const std::string& text);

/// The felt beat of a quarter-note tempo in a meter: compound meters (6/8, 9/8, 12/8) feel
/// dotted quarters (bpm / 1.5), 2/2 half notes (bpm / 2), the rest quarters.
double felt_bpm(double quarter_bpm, const std::string& meter);

/// The middle of a tempo word's range in BPM (快板 / allegro 138, 慢板 / adagio 71, ...); 0 for
/// a word it does not know.
double tempo_word_bpm(const std::string& word);

}  // namespace mudit::generation
