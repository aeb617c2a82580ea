#include "data/synth/espeak_voice.h"

#include <mutex>

#include "mudit/core/log.h"

#ifdef MUDIT_HAVE_ESPEAK
#include <espeak-ng/speak_lib.h>
#endif

namespace mudit::data::synth::vocal {

#ifdef MUDIT_HAVE_ESPEAK
namespace {

std::mutex& espeak_mutex() {
  static std::mutex m;
  return m;
}

// The buffer the synthesis callback appends to; only touched under espeak_mutex().
std::vector<short>* g_sink = nullptr;

int collect(short* wav, int count, espeak_EVENT*) {
  if (wav != nullptr && count > 0 && g_sink != nullptr)
    g_sink->insert(g_sink->end(), wav, wav + count);
  return 0;  // continue
}

// Initialises once; the rate, or 0 when espeak cannot start. Call under espeak_mutex().
int espeak_rate_locked() {
  static const int rate = [] {
    const int r =
        espeak_Initialize(AUDIO_OUTPUT_SYNCHRONOUS, 0, nullptr, espeakINITIALIZE_DONT_EXIT);
    if (r <= 0) {
      log::warn("espeak-ng did not initialise (", r, "): English lines use the formant voice");
      return 0;
    }
    espeak_SetSynthCallback(collect);
    return r;
  }();
  return rate;
}

}  // namespace

bool espeak_available() {
  std::lock_guard<std::mutex> lock(espeak_mutex());
  return espeak_rate_locked() > 0;
}

std::vector<float> espeak_speak(const std::string& text, const std::string& voice,
                                int& sample_rate) {
  std::lock_guard<std::mutex> lock(espeak_mutex());
  sample_rate = espeak_rate_locked();
  if (sample_rate <= 0) return {};
  if (espeak_SetVoiceByName(voice.c_str()) != EE_OK) {
    log::debug("espeak-ng has no voice '", voice, "'");
    return {};
  }
  espeak_SetParameter(espeakRATE, 130, 0);
  espeak_SetParameter(espeakPITCH, 50, 0);
  espeak_SetParameter(espeakRANGE, 20, 0);  // flatter intonation: closer to singing
  std::vector<short> pcm;
  g_sink = &pcm;
  const espeak_ERROR err = espeak_Synth(text.c_str(), text.size() + 1, 0, POS_CHARACTER, 0,
                                        espeakCHARS_UTF8, nullptr, nullptr);
  espeak_Synchronize();
  g_sink = nullptr;
  if (err != EE_OK) return {};
  std::vector<float> out(pcm.size());
  for (size_t i = 0; i < pcm.size(); ++i) out[i] = static_cast<float>(pcm[i] / 32768.0);
  return out;
}

#else

bool espeak_available() {
  return false;
}

std::vector<float> espeak_speak(const std::string&, const std::string&, int& sample_rate) {
  sample_rate = 0;
  return {};
}

#endif

}  // namespace mudit::data::synth::vocal
