// Descriptions of a synthetic song in two registers and two languages.
//
// Professional descriptions state the labels exactly (key, tempo, meter, harmony, orchestration,
// form, vocal range). Amateur descriptions go through a listener model: the song's labels set a
// perceived arousal (tempo, style, drums) and valence (mode, style), each blurred by per-listener
// noise, and the words come from that perception — so fast songs are usually, not always,
// "energetic", and minor keys usually, not always, "sad". Several listeners describe each song.
#include <algorithm>
#include <cctype>
#include <cmath>
#include <map>
#include <random>
#include <set>
#include <sstream>

#include "mudit/core/error.h"
#include "mudit/data/synth.h"

namespace mudit::data::synth {
namespace {

using Rng = std::mt19937_64;

template <class T>
const T& pick(const std::vector<T>& items, Rng& rng) {
  MUDIT_CHECK(!items.empty(), DataError, "describe: empty word pool");
  return items[std::uniform_int_distribution<size_t>(0, items.size() - 1)(rng)];
}

bool chance(double p, Rng& rng) {
  return std::uniform_real_distribution<double>(0, 1)(rng) < p;
}

std::string join(const std::vector<std::string>& items, const std::string& sep) {
  std::string out;
  for (size_t i = 0; i < items.size(); ++i) out += (i ? sep : "") + items[i];
  return out;
}

/// English list: "a", "a and b", "a, b and c".
std::string and_list(const std::vector<std::string>& items, const std::string& conj = "and") {
  if (items.size() <= 1) return items.empty() ? "" : items[0];
  std::vector<std::string> head(items.begin(), items.end() - 1);
  return join(head, ", ") + " " + conj + " " + items.back();
}

/// Chinese list: "甲", "甲与乙", "甲、乙与丙".
std::string zh_list(const std::vector<std::string>& items) {
  if (items.size() <= 1) return items.empty() ? "" : items[0];
  std::vector<std::string> head(items.begin(), items.end() - 1);
  return join(head, "、") + "与" + items.back();
}

std::string capitalise(std::string s) {
  if (!s.empty() && s[0] >= 'a' && s[0] <= 'z') s[0] = static_cast<char>(s[0] - 'a' + 'A');
  return s;
}

// --- Facts ------------------------------------------------------------------------------------

const char* kPitchZh[12] = {"C", "#C", "D", "bE", "E", "F", "#F", "G", "bA", "A", "bB", "B"};
const char* kPitchEn[12] = {"C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B"};

bool is_pentatonic(Mode m) {
  return m != Mode::kMajor && m != Mode::kMinor;
}

std::string key_zh(const SongLabels& s) {
  const std::string tonic = kPitchZh[((s.tonic_pc % 12) + 12) % 12];
  switch (s.mode) {
    case Mode::kMajor:
      return tonic + "大调";
    case Mode::kMinor:
      return tonic + "小调";
    case Mode::kGong:
      return tonic + "宫调式";
    case Mode::kShang:
      return tonic + "商调式";
    case Mode::kJue:
      return tonic + "角调式";
    case Mode::kZhi:
      return tonic + "徵调式";
    case Mode::kYu:
      return tonic + "羽调式";
  }
  return tonic;
}

std::string key_en(const SongLabels& s) {
  const std::string tonic = kPitchEn[((s.tonic_pc % 12) + 12) % 12];
  if (is_pentatonic(s.mode)) return tonic + " " + mode_name(s.mode) + " pentatonic";
  return tonic + " " + mode_name(s.mode);
}

std::string bpm_text(const SongLabels& s) {
  return std::to_string(static_cast<int>(std::lround(s.bpm))) + " BPM";
}

/// Professional tempo terms (Italian markings as Chinese conservatories teach them).
std::string tempo_term_zh(double bpm) {
  if (bpm < 76) return "慢板";
  if (bpm < 108) return "中板";
  if (bpm < 132) return "小快板";
  return "快板";
}
std::string tempo_term_en(double bpm) {
  if (bpm < 76) return "adagio";
  if (bpm < 108) return "moderato";
  if (bpm < 132) return "allegretto";
  return "allegro";
}
std::string tempo_bucket_zh(double bpm) {
  if (bpm < 76) return "慢速";
  if (bpm < 108) return "中速";
  if (bpm < 132) return "中快速";
  return "快速";
}

std::string style_zh(Style st) {
  switch (st) {
    case Style::kBallad:
      return "抒情流行";
    case Style::kRock:
      return "摇滚";
    case Style::kFolk:
      return "民谣";
    case Style::kElectronicDance:
      return "电子舞曲";
    case Style::kJazz:
      return "爵士";
    case Style::kChineseTraditional:
      return "中国传统音乐";
  }
  return "流行";
}
std::string style_en(Style st) {
  switch (st) {
    case Style::kBallad:
      return "pop ballad";
    case Style::kRock:
      return "rock";
    case Style::kFolk:
      return "folk";
    case Style::kElectronicDance:
      return "electronic dance";
    case Style::kJazz:
      return "jazz";
    case Style::kChineseTraditional:
      return "Chinese traditional";
  }
  return "pop";
}

/// Chinese names of the 128 General MIDI programs, in program order.
const char* const kGmZh[128] = {
    "大钢琴",       "明亮钢琴",     "电钢琴",       "酒吧钢琴",       "电钢琴",     "电钢琴",
    "羽管键琴",     "击弦古钢琴",   "钢片琴",       "钟琴",           "八音盒",     "颤音琴",
    "马林巴",       "木琴",         "管钟",         "扬琴",           "拉杆风琴",   "打击风琴",
    "摇滚风琴",     "管风琴",       "簧风琴",       "手风琴",         "口琴",       "探戈手风琴",
    "尼龙弦吉他",   "钢弦吉他",     "爵士电吉他",   "清音电吉他",     "闷音电吉他", "过载电吉他",
    "失真电吉他",   "吉他泛音",     "原声贝斯",     "指弹电贝斯",     "拨片电贝斯", "无品贝斯",
    "击勾贝斯",     "击勾贝斯",     "合成贝斯",     "合成贝斯",       "小提琴",     "中提琴",
    "大提琴",       "低音提琴",     "颤弓弦乐",     "拨弦",           "竖琴",       "定音鼓",
    "弦乐",         "弦乐",         "合成弦乐",     "合成弦乐",       "人声合唱",   "人声",
    "合成人声",     "管弦乐齐奏",   "小号",         "长号",           "大号",       "弱音小号",
    "圆号",         "铜管组",       "合成铜管",     "合成铜管",       "高音萨克斯", "中音萨克斯",
    "次中音萨克斯", "上低音萨克斯", "双簧管",       "英国管",         "巴松",       "单簧管",
    "短笛",         "长笛",         "竖笛",         "排箫",           "吹瓶",       "尺八",
    "口哨",         "陶笛",         "方波合成主音", "锯齿波合成主音", "合成主音",   "合成主音",
    "合成主音",     "合成主音",     "合成主音",     "合成主音",       "合成铺底",   "合成铺底",
    "合成铺底",     "合成铺底",     "合成铺底",     "合成铺底",       "合成铺底",   "合成铺底",
    "合成音效",     "合成音效",     "合成音效",     "合成音效",       "合成音效",   "合成音效",
    "合成音效",     "合成音效",     "西塔琴",       "班卓琴",         "三味线",     "古筝",
    "卡林巴",       "风笛",         "提琴",         "唢呐",           "碰铃",       "阿哥哥铃",
    "钢鼓",         "木鱼",         "太鼓",         "通通鼓",         "合成鼓",     "反向镲",
    "吉他擦弦",     "呼吸声",       "海浪声",       "鸟鸣",           "电话铃",     "直升机",
    "掌声",         "枪声"};

/// Chinese names of the General MIDI families (program / 8).
const char* const kGmFamilyZh[16] = {
    "钢琴", "色彩打击乐", "风琴",     "吉他",     "贝斯",     "弦乐",     "合奏",   "铜管",
    "簧管", "吹管",       "合成主音", "合成铺底", "合成音效", "民族乐器", "打击乐", "音效"};

bool is_drums(const Part& p) {
  return p.channel == 9 || p.role == "drums";
}

std::string part_zh(const Part& p) {
  if (is_drums(p)) return "架子鼓";
  return kGmZh[std::clamp(p.program, 0, 127)];
}
std::string part_en(const Part& p) {
  if (is_drums(p)) return "drum kit";
  std::string name = p.name.empty() ? "instrument " + std::to_string(p.program) : p.name;
  std::transform(name.begin(), name.end(), name.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  // GM numbers its variants ("string ensemble 1"); a description names the instrument.
  while (!name.empty() &&
         (std::isdigit(static_cast<unsigned char>(name.back())) || name.back() == ' ')) {
    name.pop_back();
  }
  return name;
}

/// Distinct instrument names in part order (two string parts say "弦乐" once).
std::vector<std::string> instruments(const SongLabels& s, bool zh) {
  std::vector<std::string> out;
  for (const auto& p : s.parts) {
    const std::string n = zh ? part_zh(p) : part_en(p);
    if (std::find(out.begin(), out.end(), n) == out.end()) out.push_back(n);
  }
  return out;
}

/// The first full cycle of the chord progression: Roman numerals of the first section with at
/// least four bars (verse or chorus preferred), consecutive repeats merged, cut where it repeats.
std::vector<std::string> progression(const SongLabels& s) {
  int first = 0, bars = static_cast<int>(s.chords.size());
  for (const auto& sec : s.sections) {
    const auto k = sec.tag.section;
    if ((k == text::Section::kVerse || k == text::Section::kChorus) && sec.bars >= 4) {
      first = sec.first_bar;
      bars = sec.bars;
      break;
    }
  }
  std::vector<std::string> romans;
  for (const auto& c : s.chords) {
    if (c.bar < first || c.bar >= first + bars) continue;
    if (romans.empty() || romans.back() != c.roman) romans.push_back(c.roman);
  }
  // Cut at the first repetition of the opening pattern of length n (n = 2..4).
  for (size_t n = 2; n <= 4 && n * 2 <= romans.size(); ++n) {
    if (std::equal(romans.begin(), romans.begin() + static_cast<long>(n),
                   romans.begin() + static_cast<long>(n))) {
      romans.resize(n);
      break;
    }
  }
  if (romans.size() > 8) romans.resize(8);
  return romans;
}

std::string section_zh(text::Section k) {
  switch (k) {
    case text::Section::kIntro:
      return "前奏";
    case text::Section::kVerse:
      return "主歌";
    case text::Section::kPrechorus:
      return "导歌";
    case text::Section::kChorus:
      return "副歌";
    case text::Section::kBridge:
      return "桥段";
    case text::Section::kInterlude:
      return "间奏";
    case text::Section::kOutro:
      return "尾奏";
  }
  return "段落";
}
std::string section_en(text::Section k) {
  return k == text::Section::kPrechorus ? "pre-chorus" : text::section_name(k);
}

std::vector<std::string> form(const SongLabels& s, bool zh) {
  std::vector<std::string> out;
  for (const auto& sec : s.sections)
    out.push_back(zh ? section_zh(sec.tag.section) : section_en(sec.tag.section));
  return out;
}

std::string note_name(int pitch) {
  return std::string(kPitchEn[((pitch % 12) + 12) % 12]) + std::to_string(pitch / 12 - 1);
}

std::pair<int, int> melody_range(const SongLabels& s) {
  if (s.melody.empty()) return {s.voice.low_pitch, s.voice.high_pitch};
  int lo = 127, hi = 0;
  for (const auto& n : s.melody) {
    lo = std::min(lo, n.pitch);
    hi = std::max(hi, n.pitch);
  }
  return {lo, hi};
}

std::string voice_zh(const Voice& v) {
  const bool female = v.gender == "female";
  const std::string reg = v.register_ == "soprano" || v.register_ == "tenor" ? "高音区" : "中音区";
  return std::string(female ? "女声" : "男声") + reg;
}
std::string voice_en(const Voice& v) {
  return v.gender + " " + (v.register_.empty() ? std::string("vocal") : v.register_ + " vocal");
}

bool has_english(const SongLabels& s) {
  return std::any_of(s.lyrics.begin(), s.lyrics.end(),
                     [](const LyricLine& l) { return l.lang == "en"; });
}

/// Themes of the sung words, from keywords (the lyric writer draws its lines from themed lists).
std::vector<std::string> lyric_themes(const SongLabels& s) {
  static const std::vector<std::pair<std::vector<std::string>, std::string>> kThemes = {
      {{"爱", "心", "你", "love", "heart", "kiss"}, "爱情"},
      {{"夜", "月", "星", "night", "moon", "star"}, "夜晚"},
      {{"家", "乡", "home"}, "思乡"},
      {{"路", "远方", "风", "road", "away", "wind"}, "旅途"},
      {{"梦", "dream"}, "梦想"},
      {{"雨", "rain"}, "雨天"},
      {{"春", "花", "spring", "flower"}, "春天"},
      {{"海", "sea", "ocean"}, "大海"}};
  std::string all;
  for (const auto& l : s.lyrics) all += l.text + " ";
  std::transform(all.begin(), all.end(), all.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  std::vector<std::string> out;
  for (const auto& [keys, theme] : kThemes) {
    const bool hit = std::any_of(keys.begin(), keys.end(),
                                 [&](const std::string& k) { return all.find(k) != all.npos; });
    if (hit) out.push_back(theme);
  }
  return out;
}

double mode_valence(Mode m);

// --- Professional -----------------------------------------------------------------------------

struct ProFacts {
  std::string key, tempo, term, meter, style, instruments, progression, form, voice, range, lang;
};

ProFacts pro_facts(const SongLabels& s, bool zh) {
  ProFacts f;
  const auto insts = instruments(s, zh);
  const auto prog = progression(s);
  const auto [lo, hi] = melody_range(s);
  f.key = zh ? key_zh(s) : key_en(s);
  f.tempo = bpm_text(s);
  f.term = zh ? tempo_term_zh(s.bpm) : tempo_term_en(s.bpm);
  f.meter = zh ? std::string(meter_name(s.meter)) + "拍" : std::string(meter_name(s.meter));
  f.style = zh ? style_zh(s.style) : style_en(s.style);
  f.instruments = zh ? zh_list(insts) : and_list(insts);
  f.progression = join(prog, "–");
  f.form = join(form(s, zh), "–");
  f.voice = zh ? voice_zh(s.voice) : voice_en(s.voice);
  f.range = note_name(lo) + "–" + note_name(hi);
  const bool en = has_english(s);
  f.lang = zh ? (en ? "英文演唱" : "中文演唱") : (en ? "sung in English" : "sung in Mandarin");
  return f;
}

std::vector<Description> professional(const SongLabels& s, Rng& rng) {
  std::vector<Description> out;
  const ProFacts z = pro_facts(s, true);
  const ProFacts e = pro_facts(s, false);
  const bool prog = !z.progression.empty();
  auto add = [&](std::string text, const char* lang, const char* length) {
    out.push_back({std::move(text), lang, length});
  };
  // Short: key, tempo, meter (+ style).
  add(z.key + "，" + z.tempo + "，" + z.meter, "zh", "short");
  add(z.style + "，" + z.key + "，" + z.tempo, "zh", "short");
  add(e.key + ", " + e.tempo + ", " + e.meter, "en", "short");
  add(capitalise(e.style) + " in " + e.key + " at " + e.tempo, "en", "short");
  // Medium: + orchestration, harmony, voice.
  add(z.key + "，" + z.tempo + "，" + z.meter + "，" + z.instruments +
          (prog ? "，" + z.progression + " 和声进行" : "") + "，" + z.voice,
      "zh", "medium");
  add("一首" + z.meter + "的" + z.style + "作品，" + z.key + "，速度" + z.tempo + "（" + z.term +
          "），由" + z.instruments + "伴奏，" + z.voice + "演唱",
      "zh", "medium");
  add(e.key + ", " + e.tempo + ", " + e.meter + ", " + e.instruments +
          (prog ? ", " + e.progression + " progression" : "") + ", " + e.voice,
      "en", "medium");
  add(capitalise(e.style) + " piece in " + e.meter + ", " + e.key + " at " + e.tempo + " (" +
          e.term + "), arranged for " + e.instruments + " with a " + e.voice,
      "en", "medium");
  // Long: everything, with form and range, two orders.
  add("这是一首" + z.style + "风格的歌曲，" + z.key + "，" + z.meter + "，速度" + z.tempo + "（" +
          z.term + "）。配器为" + z.instruments + "。" +
          (prog ? "和声以 " + z.progression + " 进行为主。" : "") + "曲式结构为" + z.form + "。" +
          z.voice + "，" + z.lang + "，旋律音域 " + z.range + "。",
      "zh", "long");
  add("曲式：" + z.form + "；调性：" + z.key + "；节拍：" + z.meter + "；速度：" + z.tempo +
          "；和声：" + (prog ? z.progression : std::string("持续低音")) + "；配器：" +
          z.instruments + "；人声：" + z.voice + "（" + z.range + "），" + z.lang + "。",
      "zh", "long");
  add("A " + e.style + " song in " + e.key + ", " + e.meter + " time at " + e.tempo + " (" +
          e.term + "). The arrangement uses " + e.instruments + ". " +
          (prog ? "The harmony follows a " + e.progression + " progression. " : "") + "Form: " +
          e.form + ". " + capitalise(e.voice) + ", " + e.lang + ", melodic range " + e.range + ".",
      "en", "long");
  add("Form " + e.form + "; key " + e.key + "; meter " + e.meter + "; tempo " + e.tempo +
          "; harmony " + (prog ? e.progression : std::string("a pedal")) + "; orchestration " +
          e.instruments + "; " + e.voice + " spanning " + e.range + ", " + e.lang + ".",
      "en", "long");
  std::shuffle(out.begin(), out.end(), rng);  // no position carries meaning
  std::stable_sort(out.begin(), out.end(), [](const Description& a, const Description& b) {
    auto rank = [](const std::string& l) { return l == "short" ? 0 : l == "medium" ? 1 : 2; };
    return rank(a.length) < rank(b.length);
  });
  return out;
}

TagMap professional_tags(const SongLabels& s) {
  TagMap t;
  t["风格或流派"] = {style_zh(s.style)};
  t["速度与节奏"] = {tempo_bucket_zh(s.bpm), bpm_text(s), std::string(meter_name(s.meter)) + "拍"};
  t["配器与音效"] = instruments(s, true);
  t["歌唱和人声"] = {voice_zh(s.voice), s.voice.gender == "female" ? "女声演唱" : "男声演唱"};
  t["调性"] = {key_zh(s)};
  const auto prog = progression(s);
  if (!prog.empty()) t["和声"] = {join(prog, "–")};
  t["曲式"] = {join(form(s, true), "–")};
  t["文化与地域"] = {s.style == Style::kChineseTraditional || is_pentatonic(s.mode)
                         ? "中国风"
                         : "没有地域文化特点"};
  t["演唱语言"] = {has_english(s) ? "英语" : "国语"};
  const auto themes = lyric_themes(s);
  if (!themes.empty()) t["歌词和主题内容"] = themes;
  t["情绪感受（歌词和旋律）"] = {mode_valence(s.mode) >= 0 ? "明亮" : "忧郁"};
  return t;
}

// --- Amateur ----------------------------------------------------------------------------------

/// A listener's perception of the song: arousal (calm → energetic) and valence (sad → happy),
/// each roughly in [-1, 1], computed from the labels and blurred by the listener's own noise.
struct Perception {
  double arousal = 0;
  double valence = 0;
};

double style_energy(Style st) {
  switch (st) {
    case Style::kRock:
      return 0.5;
    case Style::kElectronicDance:
      return 0.6;
    case Style::kJazz:
      return 0.0;
    case Style::kFolk:
      return -0.2;
    case Style::kBallad:
      return -0.4;
    case Style::kChineseTraditional:
      return -0.3;
  }
  return 0;
}

double mode_valence(Mode m) {
  switch (m) {
    case Mode::kMajor:
      return 0.5;
    case Mode::kMinor:
      return -0.5;
    case Mode::kGong:
      return 0.4;
    case Mode::kZhi:
      return 0.3;
    case Mode::kShang:
      return 0.0;
    case Mode::kJue:
      return -0.2;
    case Mode::kYu:
      return -0.4;
  }
  return 0;
}

Perception perceive(const SongLabels& s, Rng& rng) {
  std::normal_distribution<double> noise(0.0, 0.35);
  const double tempo = std::clamp((s.bpm - 115.0) / 55.0, -1.0, 1.0);
  Perception p;
  p.arousal = 0.6 * tempo + 0.4 * style_energy(s.style) + noise(rng);
  // Fast songs lift the mood a little; ballads pull it down a little.
  p.valence =
      mode_valence(s.mode) + 0.2 * tempo + (s.style == Style::kBallad ? -0.15 : 0.0) + noise(rng);
  return p;
}

struct Words {
  std::vector<std::string> zh, en;
};

/// Mood words by quadrant of the perception.
const Words& mood_words(const Perception& p) {
  static const Words happy_energetic{
      {"很开心", "特别欢快", "很有活力", "让人想跟着跳起来", "热血沸腾", "很燃"},
      {"happy", "upbeat", "full of energy",
       "makes me want to "
       "dance",
       "exciting", "pumped up"}};
  static const Words happy_calm{{"很温暖", "很温柔", "很治愈", "轻松惬意", "甜甜的", "很舒服"},
                                {"warm", "gentle", "soothing", "relaxed", "sweet", "cosy"}};
  static const Words sad_energetic{
      {"有点压抑", "很激动", "有点愤怒", "很挣扎", "紧张", "情绪很强烈"},
      {"intense", "restless", "a bit angry", "tense", "dramatic", "stormy"}};
  static const Words sad_calm{
      {"有点伤感", "很孤独", "淡淡的忧伤", "让人想哭", "很怀旧", "有点惆怅"},
      {"a little sad", "lonely", "melancholy", "heartbreaking", "nostalgic", "wistful"}};
  if (p.valence >= 0) return p.arousal >= 0 ? happy_energetic : happy_calm;
  return p.arousal >= 0 ? sad_energetic : sad_calm;
}

/// Scenes and uses: what a listener would play it for.
const Words& scene_words(const Perception& p) {
  static const Words active{
      {"适合开车的时候听", "适合跑步健身", "适合在派对上放", "适合运动", "适合早上起床听"},
      {"good for a drive", "great for running", "perfect for a party", "good for the gym",
       "nice for a morning start"}};
  static const Words calm{
      {"适合睡前听", "适合在咖啡馆里听", "适合一个人散步", "适合看书的时候听", "适合发呆"},
      {"good before sleep", "nice in a café", "for a walk alone", "good for reading",
       "for staring out of the window"}};
  static const Words sad{
      {"像下雨天一个人走在街上", "适合失恋的时候听", "适合深夜一个人听", "让人想起从前"},
      {"like walking alone in the rain", "for a breakup", "for late nights alone",
       "reminds me of the past"}};
  if (p.valence < -0.2 && p.arousal < 0.2) return sad;
  return p.arousal >= 0 ? active : calm;
}

std::string speed_feel_zh(const Perception& p) {
  if (p.arousal > 0.5) return "较快";
  if (p.arousal > 0.15) return "轻快";
  if (p.arousal > -0.25) return "中速";
  if (p.arousal > -0.6) return "舒缓";
  return "较慢";
}
std::string speed_feel_en(const Perception& p) {
  if (p.arousal > 0.5) return "fast";
  if (p.arousal > 0.15) return "bouncy";
  if (p.arousal > -0.25) return "mid-paced";
  if (p.arousal > -0.6) return "laid-back";
  return "slow";
}

/// What a casual listener names: the most audible instrument, often vaguely.
struct Heard {
  std::string zh, en, tag;  // the phrase in both languages, and the tag word
};

Heard heard_instrument(const SongLabels& s, Rng& rng) {
  std::vector<const Part*> melodic;
  for (const auto& p : s.parts) {
    if (!is_drums(p) && p.role != "bass") melodic.push_back(&p);
  }
  const bool drums = std::any_of(s.parts.begin(), s.parts.end(), is_drums);
  if (drums && (melodic.empty() || chance(0.3, rng))) {
    return {"鼓点很带劲", "the beat hits hard", "鼓组"};
  }
  if (melodic.empty()) return {"伴奏很简单", "the backing is simple", "简单伴奏"};
  const Part& p = *melodic[std::uniform_int_distribution<size_t>(0, melodic.size() - 1)(rng)];
  const int family = std::clamp(p.program, 0, 127) / 8;
  // Listeners often say the family, not the instrument ("弦乐" for a cello).
  const std::string zh = chance(0.5, rng) ? kGmFamilyZh[family] : part_zh(p);
  return {"有" + zh + "的声音", "I can hear the " + part_en(p), zh};
}

std::string singer_zh(const SongLabels& s) {
  return s.voice.gender == "female" ? "女生唱的" : "男生唱的";
}
std::string singer_en(const SongLabels& s) {
  return s.voice.gender == "female" ? "a woman sings it" : "a man sings it";
}

std::vector<Description> amateur(const SongLabels& s, Rng& rng, std::vector<Perception>& heard) {
  std::vector<Description> out;
  const int listeners = 2;
  for (int l = 0; l < listeners; ++l) {
    const Perception p = perceive(s, rng);
    heard.push_back(p);
    const auto& mood = mood_words(p);
    const auto& scene = scene_words(p);
    const size_t m = std::uniform_int_distribution<size_t>(0, mood.zh.size() - 1)(rng);
    const size_t c = std::uniform_int_distribution<size_t>(0, scene.zh.size() - 1)(rng);
    const std::string mood_zh = mood.zh[m], mood_en = mood.en[m];
    const std::string scene_zh = scene.zh[c], scene_en = scene.en[c];
    const Heard inst = heard_instrument(s, rng);
    const std::string opener_zh = pick<std::string>({"听起来", "感觉", "整首歌", "这首歌"}, rng);
    out.push_back({opener_zh + mood_zh, "zh", "short"});
    out.push_back(
        {capitalise(pick<std::string>({"sounds ", "feels ", "", "kind of "}, rng) + mood_en), "en",
         "short"});
    out.push_back({opener_zh + mood_zh + "，" + scene_zh, "zh", "medium"});
    out.push_back({capitalise(mood_en) + ", " + scene_en + ".", "en", "medium"});
    out.push_back({opener_zh + mood_zh + "，节奏" + speed_feel_zh(p) + "，" + inst.zh + "，" +
                       singer_zh(s) + "。" + scene_zh + "。",
                   "zh", "long"});
    out.push_back({"It feels " + mood_en + " and " + speed_feel_en(p) + "; " + inst.en + ", and " +
                       singer_en(s) + ". " + capitalise(scene_en) + ".",
                   "en", "long"});
  }
  return out;
}

TagMap amateur_tags(const SongLabels& s, const Perception& p, Rng& rng) {
  TagMap t;
  const auto& mood = mood_words(p);
  t["特色感受"] = {pick(mood.zh, rng)};
  if (s.style == Style::kBallad && chance(0.7, rng)) t["特色感受"].push_back("抒情");
  if (s.style == Style::kChineseTraditional && chance(0.7, rng)) t["特色感受"].push_back("古风");
  t["快慢感受"] = {speed_feel_zh(p)};
  t["配器与音效"] = {heard_instrument(s, rng).tag};
  t["歌唱和人声"] = {s.voice.gender == "female" ? "女声" : "男声"};
  if (chance(0.5, rng)) t["歌唱和人声"].push_back(pick<std::string>({"独唱", "好听", "温柔"}, rng));
  const auto& scene = scene_words(p);
  t["歌曲用途"] = {pick(scene.zh, rng)};
  t["文化与地域"] = {s.style == Style::kChineseTraditional ? "古风" : "没有地域文化特点"};
  t["表现力感受（歌手）"] = {pick<std::string>({"好听", "深情", "温柔", "有感染力", "真挚"}, rng)};
  const auto themes = lyric_themes(s);
  if (!themes.empty() && chance(0.8, rng)) t["歌词和主题内容"] = {pick(themes, rng)};
  t["情绪感受（歌词）"] = {p.valence >= 0 ? pick<std::string>({"甜蜜", "温暖", "快乐"}, rng)
                                          : pick<std::string>({"伤感", "无奈", "怀念"}, rng)};
  t["适用人群"] = {p.arousal > 0.3 ? "年轻人"
                                   : pick<std::string>({"年轻人", "中年人", "全年龄"}, rng)};
  return t;
}

}  // namespace

SongDescriptions describe_song(const SongLabels& song, uint64_t seed) {
  Rng rng(seed ^ 0x6465736372696265ull);  // "describe": this step's own stream
  SongDescriptions d;
  d.professional = professional(song, rng);
  d.professional_tags = professional_tags(song);
  std::vector<Perception> heard;
  d.amateur = amateur(song, rng, heard);
  d.amateur_tags = amateur_tags(song, heard.front(), rng);
  return d;
}

}  // namespace mudit::data::synth
