// Per-plane-size cache of prepared kernels (FFT spectra, resampling weights) inside an operator:
// an operator is built once from the model but meets its input size only at apply time, and then
// meets the same size on every stage.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <utility>

namespace podm::stdlib {

template <typename Prepared>
class SizeCache {
public:
  // The prepared object for an h x w plane, built by make() on first use. Thread-safe.
  template <typename Make>
  std::shared_ptr<const Prepared> get(int64_t h, int64_t w, Make&& make) const {
    std::lock_guard lock(mutex_);
    auto& slot = entries_[{h, w}];
    if (!slot)
      slot = std::make_shared<const Prepared>(make());
    return slot;
  }

private:
  mutable std::mutex mutex_;
  mutable std::map<std::pair<int64_t, int64_t>, std::shared_ptr<const Prepared>> entries_;
};

} // namespace podm::stdlib
