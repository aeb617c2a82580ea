#include "data/synth/psola.h"

#include <algorithm>
#include <cmath>

namespace mudit::data::synth::vocal {
namespace {

constexpr double kPi = 3.14159265358979323846;

// Adds x[centre + i] * hann(i / half) * gain at out[at + i] for |i| < half.
void add_grain(const std::vector<float>& x, double centre, double half, std::vector<float>& out,
               double at, double gain) {
  const long c = std::lround(centre);
  const long a = std::lround(at);
  const long h = std::max(1L, std::lround(half));
  const long n_in = static_cast<long>(x.size());
  const long n_out = static_cast<long>(out.size());
  for (long i = -h + 1; i < h; ++i) {
    const long si = c + i, oi = a + i;
    if (si < 0 || si >= n_in || oi < 0 || oi >= n_out) continue;
    const double w = 0.5 * (1.0 + std::cos(kPi * double(i) / double(h)));
    out[static_cast<size_t>(oi)] += static_cast<float>(gain * w * x[static_cast<size_t>(si)]);
  }
}

}  // namespace

double TimeMap::operator()(double t) const {
  if (out.empty()) return t;
  if (t <= out.front()) return in.front() + (t - out.front());
  if (t >= out.back()) return in.back() + (t - out.back());
  const auto it = std::upper_bound(out.begin(), out.end(), t);
  const size_t k = static_cast<size_t>(it - out.begin());
  const double span = out[k] - out[k - 1];
  const double w = span > 0 ? (t - out[k - 1]) / span : 0.0;
  return in[k - 1] + w * (in[k] - in[k - 1]);
}

SourceUnit analyse_unit(std::vector<float> samples, int sample_rate, double fmin, double fmax,
                        bool vowel_body) {
  SourceUnit unit;
  unit.sample_rate = sample_rate;
  // Trim silence by 10 ms frames.
  const size_t frame = std::max<size_t>(1, static_cast<size_t>(sample_rate / 100));
  const size_t frames = samples.size() / frame;
  std::vector<double> rms(frames);
  double loudest = 0;
  for (size_t i = 0; i < frames; ++i) {
    double e = 0;
    for (size_t j = 0; j < frame; ++j) e += double(samples[i * frame + j]) * samples[i * frame + j];
    rms[i] = std::sqrt(e / double(frame));
    loudest = std::max(loudest, rms[i]);
  }
  if (frames > 0 && loudest > 0) {
    const double gate = loudest * std::pow(10.0, -40.0 / 20.0);
    size_t first = 0, last = frames - 1;
    while (first < last && rms[first] < gate) ++first;
    while (last > first && rms[last] < gate) --last;
    const size_t margin = frame / 2;
    const size_t b = first * frame > margin ? first * frame - margin : 0;
    const size_t e = std::min(samples.size(), (last + 1) * frame + margin);
    samples = std::vector<float>(samples.begin() + static_cast<long>(b),
                                 samples.begin() + static_cast<long>(e));
  }
  const F0Track track = estimate_f0(samples.data(), samples.size(), sample_rate, fmin, fmax);
  unit.voiced = voiced_spans(track, samples.size());
  unit.marks = pitch_marks(samples.data(), samples.size(), track, unit.voiced);
  unit.median_f0 = track.median();
  if (unit.voiced.empty()) {
    unit.voiced_begin = 0;
    unit.voiced_end = double(samples.size());
  } else {
    unit.voiced_begin = unit.voiced.front().begin;
    unit.voiced_end = unit.voiced.back().end;
    if (vowel_body) {
      const auto keep = static_cast<size_t>(unit.voiced_end + 0.03 * sample_rate);
      if (keep < samples.size()) samples.resize(keep);
      unit.voiced = {{unit.voiced_begin, unit.voiced_end}};
    }
  }
  // Level: RMS of the voiced body (or everything) to -20 dBFS.
  double e = 0;
  size_t count = 0;
  const auto vb = static_cast<size_t>(unit.voiced_begin);
  const auto ve = std::min(samples.size(), static_cast<size_t>(unit.voiced_end));
  for (size_t t = vb; t < ve; ++t, ++count) e += double(samples[t]) * samples[t];
  if (count > 0 && e > 0) {
    const double gain = 0.1 / std::sqrt(e / double(count));
    for (float& s : samples) s = static_cast<float>(s * gain);
  }
  unit.samples = std::move(samples);
  return unit;
}

bool singable(const SourceUnit& unit) {
  double voiced = 0;
  for (const auto& s : unit.voiced) voiced += s.end - s.begin;
  return unit.sample_rate > 0 && voiced >= 0.06 * unit.sample_rate && unit.marks.size() >= 6;
}

TimeMap sung_time_map(double in_len, double vb, double ve, double out_len, int sample_rate) {
  TimeMap map;
  const double consonant = std::min(vb, 0.35 * out_len);
  auto push = [&](double o, double i) {
    map.out.push_back(o);
    map.in.push_back(i);
  };
  push(0, 0);
  push(consonant, vb);
  const double body_out = out_len - consonant;
  const double head = std::min(0.05 * sample_rate, 0.2 * (ve - vb));
  const double tail = std::min(0.08 * sample_rate, 0.25 * (ve - vb));
  const double fixed = head + tail + (in_len - ve);  // kept at speed: head, tail and after
  if (body_out > fixed + 1 && ve - vb > head + tail) {
    push(consonant + head, vb + head);
    push(out_len - (in_len - ve) - tail, ve - tail);
  }
  push(std::max(out_len, consonant + 1), std::max(in_len, vb + 1));
  return map;
}

std::vector<float> psola(const SourceUnit& unit, const TimeMap& map, const std::vector<float>& f0) {
  std::vector<float> out(f0.size(), 0.f);
  const auto& marks = unit.marks;
  const double unvoiced_half = 0.004 * unit.sample_rate;
  auto voiced_at = [&](double tau) {
    for (const auto& s : unit.voiced) {
      if (tau >= s.begin && tau < s.end) return true;
    }
    return false;
  };
  double t = 0;
  const double n = double(f0.size());
  while (t < n) {
    const double tau = map(t);
    const auto ti = std::min(f0.size() - 1, static_cast<size_t>(t));
    if (!marks.empty() && voiced_at(tau) && f0[ti] > 0) {
      auto it = std::lower_bound(marks.begin(), marks.end(), tau,
                                 [](const PitchMark& m, double v) { return m.pos < v; });
      if (it == marks.end() || (it != marks.begin() && tau - (it - 1)->pos < it->pos - tau)) --it;
      const double p_out = unit.sample_rate / double(f0[ti]);
      const double p_in = it->period;
      // Raising the pitch, grains narrow to the output period: wider ones would carry parts of
      // the neighbouring source pulses to positions off the new period (heard as roughness).
      add_grain(unit.samples, it->pos, std::min(p_in, p_out), out, t, std::sqrt(p_out / p_in));
      t += p_out;
    } else {
      add_grain(unit.samples, tau, unvoiced_half, out, t, 1.0);
      t += unvoiced_half;
    }
  }
  return out;
}

}  // namespace mudit::data::synth::vocal
