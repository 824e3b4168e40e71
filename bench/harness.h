// A minimal timing harness for ratio benchmarks: the candidate and its baseline run interleaved
// (A, B, A, B, ...) after a warm-up, so drift in machine load hits both alike; each reports the
// median over the runs; and the stage time of a loop by the difference of two run lengths. Never a
// pass/fail on time.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <sstream>
#include <string>
#include <vector>

namespace podm::bench {

struct PairTiming {
  double candidateMs, baselineMs;
  double ratio() const { return candidateMs / baselineMs; }
};

// "256,512,1024" -> {256, 512, 1024} (the benchmarks' --sizes).
inline std::vector<int64_t> parseSizes(const std::string& list) {
  std::vector<int64_t> sizes;
  std::stringstream s(list);
  for (std::string item; std::getline(s, item, ',');)
    sizes.push_back(std::stoll(item));
  return sizes;
}

inline double nowMs() {
  using Clock = std::chrono::steady_clock;
  return std::chrono::duration<double, std::milli>(Clock::now().time_since_epoch()).count();
}

inline double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

// Runs each side `warmup` times, then enough interleaved repetitions to spend about `budgetMs`
// (at least minRuns, at most maxRuns).
inline PairTiming timePair(const std::function<void()>& candidate,
                           const std::function<void()>& baseline, double budgetMs = 400.0,
                           int warmup = 2, int minRuns = 5, int maxRuns = 200) {
  for (int i = 0; i < warmup; ++i) {
    candidate();
    baseline();
  }
  double t0 = nowMs();
  candidate();
  baseline();
  double once = std::max(nowMs() - t0, 1e-3);
  int runs = std::clamp(static_cast<int>(budgetMs / once), minRuns, maxRuns);
  std::vector<double> a, b;
  for (int i = 0; i < runs; ++i) {
    double s = nowMs();
    candidate();
    double m = nowMs();
    baseline();
    double e = nowMs();
    a.push_back(m - s);
    b.push_back(e - m);
  }
  return {median(a), median(b)};
}

inline void printHeader() {
  std::printf("%-44s %6s %12s %12s %8s\n", "kernel (candidate vs baseline)", "size", "podm ms",
              "baseline ms", "ratio");
}

inline void printRow(const std::string& label, int n, const PairTiming& t) {
  std::printf("%-44s %5d² %12.3f %12.3f %8.2f\n", label.c_str(), n, t.candidateMs, t.baselineMs,
              t.ratio());
  std::fflush(stdout);
}

// The stage time of podm and of the hand loop by difference -- a `longStages` run minus a one-stage
// run, so set-up and the first stage cancel -- each pair interleaved `reps` times; medians in ms.
struct StageTimes {
  double podm = 0, hand = 0;
};
inline StageTimes stageTimesByDifference(int reps, int longStages,
                                         const std::function<void(int stages)>& podmRun,
                                         const std::function<void(int stages)>& handRun) {
  std::vector<double> podmStage, handStage;
  for (int rep = 0; rep < reps; ++rep) {
    const double a = nowMs();
    podmRun(1);
    const double b = nowMs();
    podmRun(longStages);
    const double c = nowMs();
    handRun(1);
    const double d = nowMs();
    handRun(longStages);
    const double e = nowMs();
    podmStage.push_back(((c - b) - (b - a)) / (longStages - 1));
    handStage.push_back(((e - d) - (d - c)) / (longStages - 1));
  }
  return {median(podmStage), median(handStage)};
}

} // namespace podm::bench
