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
      if (cached == address)
        return tensor;
    auto& slot = views_[next_++ % views_.size()];
    slot = {address, Tensor::view(address, shape_)};
    return slot.second;
  }

private:
  Shape shape_;
  std::array<std::pair<void*, Tensor>, 6> views_{};
  size_t next_ = 0;
};

} // namespace podm::cpu
