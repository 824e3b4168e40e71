// Tensors: dense NCHW f32 images/feature maps and complex64 spectra, in 64-byte aligned storage
// shared between views. Backends see only the shape, dtype and a raw pointer; the CPU backend owns
// host storage, the CUDA backend its own device storage behind the same Shape/DType description.
#pragma once

#include <complex>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

namespace podm {

enum class DType : uint8_t { F32, C64 };

inline size_t bytesPerElement(DType t) {
  return t == DType::F32 ? 4 : 8;
}
const char* dtypeName(DType t);

struct Shape {
  int64_t n = 1, c = 1, h = 1, w = 1;

  int64_t numel() const { return n * c * h * w; }
  int64_t plane() const { return h * w; }
  bool operator==(const Shape&) const = default;
  std::string str() const; // "1x1x256x256"
};

class Tensor {
public:
  Tensor() = default;
  // Zero-initialised storage for `shape` elements of `dtype`.
  explicit Tensor(Shape shape, DType dtype = DType::F32);
  static Tensor image(int64_t h, int64_t w) { return Tensor(Shape{1, 1, h, w}); }
  // A non-owning view of memory the caller keeps alive and aligned (the executor's arenas);
  // nothing is copied or freed. Creating one allocates a small control block.
  static Tensor view(void* data, Shape shape, DType dtype = DType::F32);

  const Shape& shape() const { return shape_; }
  DType dtype() const { return dtype_; }
  int64_t numel() const { return shape_.numel(); }
  size_t bytes() const { return static_cast<size_t>(numel()) * bytesPerElement(dtype_); }
  bool empty() const { return !storage_; }

  float* data() { return static_cast<float*>(storage_.get()); }
  const float* data() const { return static_cast<const float*>(storage_.get()); }
  std::complex<float>* cdata() { return static_cast<std::complex<float>*>(storage_.get()); }
  const std::complex<float>* cdata() const {
    return static_cast<const std::complex<float>*>(storage_.get());
  }
  float& at(int64_t y, int64_t x) { return data()[y * shape_.w + x]; }
  float at(int64_t y, int64_t x) const { return data()[y * shape_.w + x]; }

  // A deep copy (views share storage; clone does not).
  Tensor clone() const;
  // Same storage, new shape with the same element count.
  Tensor reshaped(Shape shape) const;
  void fill(float value);

private:
  Shape shape_{0, 0, 0, 0};
  DType dtype_ = DType::F32;
  std::shared_ptr<void> storage_;
};

} // namespace podm
