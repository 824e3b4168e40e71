// The FFT plan cache across processes: FFTW wisdom kept in the user's cache folder, so that only
// the first run at a size pays FFTW_MEASURE (0.1-0.7 s at 512²-2048²) and every later run recreates
// the same plans in microseconds -- and so computes the same bits (docs/io.md, "FFT plans").
//
// The file is $XDG_CACHE_HOME/podm (else ~/.cache/podm) / fftw-<key>.wisdom, where the key names
// the FFTW build, the FFT thread count and the CPU (model and flags), so a plan measured elsewhere
// is never reused. It is written atomically (a temporary file renamed over it), merged with what
// another process may have added meanwhile. An unreadable or corrupt file costs a one-line note
// and a fresh measurement, never an error. PODM_FFTW_WISDOM=off (or a verb's --no-wisdom) turns
// the cache off.
#pragma once

#include <string>

namespace podm::engine {

class FftWisdomFile {
public:
  // Reads the environment; when the cache is on, imports the file if there is one. Notes go to
  // stderr as "podm VERB: note: ...". `enabled` false (a --no-wisdom flag) turns it off as well.
  FftWisdomFile(std::string verb, bool enabled = true);
  // Saves what was measured since the import (a no-op when nothing was, or when the cache is off).
  ~FftWisdomFile() { save(); }
  FftWisdomFile(const FftWisdomFile&) = delete;
  FftWisdomFile& operator=(const FftWisdomFile&) = delete;

  // Writes the merged wisdom when plans were measured since the last import or save.
  void save();
  // The file, or "" when the cache is off.
  const std::string& path() const { return path_; }

private:
  void note(const std::string& message) const;

  std::string verb_, path_;
  long long measuredAtLoad_ = 0;
};

} // namespace podm::engine
