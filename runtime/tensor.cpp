// Aligned tensor storage.
#include "runtime/tensor.h"

#include <cstdlib>
#include <cstring>
#include <new>
#include <stdexcept>

namespace podm {

const char* dtypeName(DType t) {
  return t == DType::F32 ? "f32" : "c64";
}

std::string Shape::str() const {
  return std::to_string(n) + "x" + std::to_string(c) + "x" + std::to_string(h) + "x" +
         std::to_string(w);
}

Tensor::Tensor(Shape shape, DType dtype) : shape_(shape), dtype_(dtype) {
  if (shape.n < 0 || shape.c < 0 || shape.h < 0 || shape.w < 0)
    throw std::invalid_argument("tensor shape " + shape.str() + " has a negative dimension");
  size_t size = bytes();
  size_t rounded = (size + 63) / 64 * 64;
  void* p = std::aligned_alloc(64, rounded == 0 ? 64 : rounded);
  if (!p)
    throw std::bad_alloc();
  std::memset(p, 0, rounded == 0 ? 64 : rounded);
  storage_ = std::shared_ptr<void>(p, std::free);
}

Tensor Tensor::view(void* data, Shape shape, DType dtype) {
  if (shape.n < 0 || shape.c < 0 || shape.h < 0 || shape.w < 0)
    throw std::invalid_argument("tensor shape " + shape.str() + " has a negative dimension");
  Tensor t;
  t.shape_ = shape;
  t.dtype_ = dtype;
  t.storage_ = std::shared_ptr<void>(data, [](void*) {});
  return t;
}

Tensor Tensor::clone() const {
  if (empty())
    return {};
  Tensor copy(shape_, dtype_);
  std::memcpy(copy.storage_.get(), storage_.get(), bytes());
  return copy;
}

Tensor Tensor::reshaped(Shape shape) const {
  if (shape.numel() != numel())
    throw std::invalid_argument("cannot reshape " + shape_.str() + " to " + shape.str());
  Tensor view = *this;
  view.shape_ = shape;
  return view;
}

void Tensor::fill(float value) {
  if (dtype_ == DType::F32) {
    float* p = data();
    for (int64_t i = 0; i < numel(); ++i)
      p[i] = value;
  } else {
    std::complex<float>* p = cdata();
    for (int64_t i = 0; i < numel(); ++i)
      p[i] = value;
  }
}

} // namespace podm
