#pragma once
// Toned pinyin syllables for the sung vocal: parsing ("guang1" -> initial "g", final "uang",
// tone 1), the standard pinyin -> zhuyin (bopomofo) correspondence that names gcin-voice's
// syllable folders, and the rhyme group of a final.
#include <optional>
#include <string>
#include <string_view>

namespace mudit::data::synth::vocal {

/// A pinyin syllable split into its parts. `final_` is spelled in full, without the y/w and
/// iu/ui/un contractions and with "v" for ü: "you3" -> initial "", final "iou", tone 3;
/// "xue2" -> "x", "ve", 2; "zhi1" -> "zh", "" (the apical vowel), 1.
struct PinyinSyllable {
  std::string initial;  // "", "b", "p", ..., "zh", "ch", "sh", "r", "z", "c", "s"
  std::string final_;
  int tone = 5;  // 1-4, 5 = neutral
};

/// Parses toned pinyin ("yue4", "lv3", "lü3", "nu:3", "de5", "de"; no digit = neutral).
/// Returns std::nullopt for text that is not a Mandarin syllable.
std::optional<PinyinSyllable> parse_pinyin(std::string_view toned);

/// Zhuyin of the syllable without a tone mark: "guang1" -> "ㄍㄨㄤ", "zhi1" -> "ㄓ",
/// "xue2" -> "ㄒㄩㄝ". Empty for text that is not a syllable.
std::string pinyin_to_zhuyin(std::string_view toned);

/// The folder name gcin-voice uses for a toned syllable: the zhuyin followed by a tone suffix,
/// where tone 1 has no suffix, tones 2-4 are "2".."4" and the neutral tone is "1" (gcin numbers
/// tones by its key order: 1 = ˙, 2 = ˊ, 3 = ˇ, 4 = ˋ). "zhi1" -> "ㄓ", "xue2" -> "ㄒㄩㄝ2",
/// "de5" -> "ㄉㄜ1". Empty for text that is not a syllable.
std::string gcin_folder_name(std::string_view toned);

/// The rhyme group of a syllable's final (a simplified form of the thirteen traditional rhyme
/// classes): "a" (a ia ua), "o" (o uo e), "ie" (ie ve), "ai", "ei" (ei uei), "ao", "ou",
/// "an" (an ian uan van), "en" (en in uen vn), "ang", "eng" (eng ing ong iong ueng),
/// "i" (i v and the apical vowel), "u", "er". Empty when not a syllable.
std::string rhyme_group(std::string_view toned);

}  // namespace mudit::data::synth::vocal
