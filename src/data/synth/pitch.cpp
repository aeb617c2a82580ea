#include "data/synth/pitch.h"

#include <algorithm>
#include <cmath>

namespace mudit::data::synth::vocal {

double F0Track::at(double t) const {
  if (f0.empty()) return 0;
  const double pos = (t - 0.5 * double(window)) / double(hop);
  if (pos <= 0) return f0.front();
  const auto i = static_cast<size_t>(pos);
  if (i + 1 >= f0.size()) return f0.back();
  const double a = f0[i], b = f0[i + 1], w = pos - double(i);
  if (a <= 0 || b <= 0) return w < 0.5 ? a : b;
  return a + (b - a) * w;
}

double F0Track::median() const {
  std::vector<float> v;
  for (float f : f0) {
    if (f > 0) v.push_back(f);
  }
  if (v.empty()) return 0;
  std::nth_element(v.begin(), v.begin() + static_cast<long>(v.size() / 2), v.end());
  return v[v.size() / 2];
}

F0Track estimate_f0(const float* x, size_t n, int sample_rate, double fmin, double fmax,
                    double hop_seconds) {
  F0Track track;
  track.sample_rate = sample_rate;
  track.hop = std::max<size_t>(1, static_cast<size_t>(std::lround(hop_seconds * sample_rate)));
  const auto tau_max = static_cast<size_t>(std::ceil(sample_rate / fmin));
  const auto tau_min = std::max<size_t>(2, static_cast<size_t>(std::floor(sample_rate / fmax)));
  track.window = tau_max + 1;
  if (n < track.window + tau_max) return track;
  const size_t frames = (n - track.window - tau_max) / track.hop + 1;
  track.f0.assign(frames, 0.f);

  std::vector<double> energy(frames);
  double loudest = 0;
  for (size_t i = 0; i < frames; ++i) {
    double e = 0;
    for (size_t j = 0; j < track.window; ++j)
      e += double(x[i * track.hop + j]) * x[i * track.hop + j];
    energy[i] = e / double(track.window);
    loudest = std::max(loudest, energy[i]);
  }
  const double gate = loudest * std::pow(10.0, -35.0 / 10.0);

  std::vector<double> d(tau_max + 2);
  for (size_t i = 0; i < frames; ++i) {
    if (energy[i] < gate || loudest <= 0) continue;
    const float* f = x + i * track.hop;
    d[0] = 0;
    for (size_t tau = 1; tau <= tau_max + 1; ++tau) {
      double s = 0;
      for (size_t j = 0; j < track.window; ++j) {
        const double diff = double(f[j]) - f[j + tau];
        s += diff * diff;
      }
      d[tau] = s;
    }
    // Cumulative-mean-normalised difference, in place.
    double running = 0;
    for (size_t tau = 1; tau <= tau_max + 1; ++tau) {
      running += d[tau];
      d[tau] = running > 0 ? d[tau] * double(tau) / running : 1.0;
    }
    size_t best = 0;
    for (size_t tau = tau_min; tau <= tau_max; ++tau) {
      if (d[tau] < 0.15) {
        while (tau + 1 <= tau_max && d[tau + 1] < d[tau]) ++tau;
        best = tau;
        break;
      }
    }
    if (best == 0) {
      size_t arg = tau_min;
      for (size_t tau = tau_min; tau <= tau_max; ++tau) {
        if (d[tau] < d[arg]) arg = tau;
      }
      if (d[arg] < 0.3) best = arg;
    }
    if (best == 0) continue;
    double refined = double(best);
    const double a = d[best - 1], b = d[best], c = d[best + 1];
    const double denom = a - 2 * b + c;
    if (denom > 0) refined += 0.5 * (a - c) / denom;
    track.f0[i] = static_cast<float>(sample_rate / refined);
  }

  // Fold octave errors towards the median, then drop isolated voiced frames.
  const double med = track.median();
  if (med > 0) {
    for (float& f : track.f0) {
      if (f <= 0) continue;
      while (f > 1.6 * med && f / 2 >= fmin) f /= 2;
      while (f < 0.62 * med && f * 2 <= fmax) f *= 2;
    }
  }
  std::vector<float> cleaned = track.f0;
  for (size_t i = 0; i < frames; ++i) {
    const bool left = i > 0 && track.f0[i - 1] > 0;
    const bool right = i + 1 < frames && track.f0[i + 1] > 0;
    if (!left && !right) cleaned[i] = 0;
    // A 3-frame median on voiced neighbours smooths single-frame glitches.
    if (cleaned[i] > 0 && left && right) {
      float v[3] = {track.f0[i - 1], track.f0[i], track.f0[i + 1]};
      std::sort(v, v + 3);
      cleaned[i] = v[1];
    }
  }
  track.f0 = cleaned;
  return track;
}

std::vector<Span> voiced_spans(const F0Track& track, size_t n) {
  std::vector<Span> spans;
  const double half_hop = 0.5 * double(track.hop);
  for (size_t i = 0; i < track.f0.size(); ++i) {
    if (track.f0[i] <= 0) continue;
    const double b = std::max(0.0, track.centre(i) - half_hop);
    const double e = std::min(double(n), track.centre(i) + half_hop);
    if (!spans.empty() && b <= spans.back().end + 1) {
      spans.back().end = e;
    } else {
      spans.push_back({b, e});
    }
  }
  // Spans shorter than two of their periods carry no usable pitch.
  std::vector<Span> out;
  for (const auto& s : spans) {
    const double f = track.at(0.5 * (s.begin + s.end));
    if (f > 0 && s.end - s.begin >= 2.0 * track.sample_rate / f) out.push_back(s);
  }
  return out;
}

std::vector<PitchMark> pitch_marks(const float* x, size_t n, const F0Track& track,
                                   const std::vector<Span>& voiced) {
  // Marks sit on the peaks of the fundamental alone: the signal band-passed around the median
  // F0 (RBJ band-pass, Q 0.8, run forward and backward twice: zero phase, the second harmonic
  // down 20 dB), where each period has one clear peak at the same phase. The raw waveform's
  // formant ringing offers several peaks per period and makes the marks jitter.
  const double median = track.median();
  if (median <= 0 || n == 0) return {};
  const double w = 2.0 * 3.14159265358979323846 * median / track.sample_rate;
  const double alpha = std::sin(w) / (2 * 0.8);
  const double b0 = alpha / (1 + alpha), a1 = -2 * std::cos(w) / (1 + alpha),
               a2 = (1 - alpha) / (1 + alpha);
  std::vector<double> y(x, x + n);
  auto filter = [&](auto begin, auto end) {
    double x1 = 0, x2 = 0, y1 = 0, y2 = 0;
    for (auto it = begin; it != end; ++it) {
      const double in = *it;
      const double out = b0 * in - b0 * x2 - a1 * y1 - a2 * y2;
      x2 = x1;
      x1 = in;
      y2 = y1;
      y1 = out;
      *it = out;
    }
  };
  for (int pass = 0; pass < 2; ++pass) {
    filter(y.begin(), y.end());
    filter(y.rbegin(), y.rend());
  }
  auto argmax = [&](double from, double to) {
    auto i = static_cast<size_t>(std::max(0.0, std::floor(from)));
    const auto b = static_cast<size_t>(std::min(double(n) - 1, std::ceil(to)));
    size_t best = i;
    for (; i <= b; ++i) {
      if (y[i] > y[best]) best = i;
    }
    return best;
  };
  std::vector<PitchMark> marks;
  for (const auto& s : voiced) {
    double f = track.at(s.begin + 1);
    if (f <= 0) f = median;
    double period = track.sample_rate / f;
    double m = double(argmax(s.begin, s.begin + period));
    while (m < s.end) {
      marks.push_back({m, period});
      const double fm = track.at(m);
      if (fm > 0) period = track.sample_rate / fm;
      const double pred = m + period;
      if (pred >= s.end) break;
      const double next = double(argmax(pred - 0.25 * period, pred + 0.25 * period));
      m = next > m + 0.5 * period ? next : pred;
    }
  }
  return marks;
}

}  // namespace mudit::data::synth::vocal
