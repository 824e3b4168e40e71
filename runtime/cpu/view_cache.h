// Tensor views of arena addresses, for kernels that call Tensor-based interfaces (stdlib prox
// functions, networks) through runtime hooks. An operand moves only between the few slots of a
// carry, so a handful of cached views avoids making one per call.
#pragma once

#include "runtime/tensor.h"

#include <array>
#include <utility>

namespace podm::cpu {

class ViewCache {
public:
  explicit ViewCache(Shape shape = {}) : shape_(shape) {}
  void setShape(Shape shape) { shape_ = shape; }

  Tensor& view(void* address) {
    for (auto& [cached, tensor] : views_)
      if (cached == address) {
        last_ = &tensor;
        return tensor;
      }
    // Never evict the view returned by the previous call: kernels hold it (their input) while
    // asking for the next one (their output). Callers with many addresses (the autodiff tape)
    // would otherwise get their input view overwritten by the output's.
    size_t index = next_++ % views_.size();
    if (&views_[index].second == last_)
      index = next_++ % views_.size();
    auto& slot = views_[index];
    slot = {address, Tensor::view(address, shape_)};
    last_ = &slot.second;
    return slot.second;
  }

private:
  Shape shape_;
  std::array<std::pair<void*, Tensor>, 6> views_{};
  size_t next_ = 0;
  const Tensor* last_ = nullptr;
};

} // namespace podm::cpu
