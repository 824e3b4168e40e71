// Value types of the graph IR: f32 scalars, f32 real tensors and c64 complex spectra, all with a
// static NCHW shape. The IR keeps its own Dims instead of runtime's Shape because the IR sits below
// the runtime in the dependency order (docs/architecture.md); the runtime converts at prepare time.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace podm::ir {

enum class ElemType : uint8_t { F32 = 0, C64 = 1 };

const char* elemTypeName(ElemType t);

struct Dims {
  int64_t n = 1, c = 1, h = 1, w = 1;

  int64_t numel() const { return n * c * h * w; }
  bool operator==(const Dims&) const = default;
  std::string str() const; // "1x1x64x64"
};

// Limits that keep every size computation in 64-bit range and make an absurd shape (from a
// corrupt file or a typo) an error at build time rather than a failed allocation at run time.
inline constexpr int64_t kMaxDim = int64_t{1} << 24;
inline constexpr int64_t kMaxNumel = int64_t{1} << 32;

struct Type {
  enum class Kind : uint8_t { Scalar = 0, Tensor = 1 };

  Kind kind = Kind::Scalar;
  ElemType elem = ElemType::F32;
  Dims dims{};

  static Type scalar() { return Type{}; }
  // Throws IrError when a dimension is < 1 or > kMaxDim, or numel() > kMaxNumel.
  static Type tensor(ElemType elem, Dims dims);
  static Type real(Dims dims) { return tensor(ElemType::F32, dims); }
  static Type complex(Dims dims) { return tensor(ElemType::C64, dims); }

  bool isScalar() const { return kind == Kind::Scalar; }
  bool isTensor() const { return kind == Kind::Tensor; }
  bool isRealTensor() const { return isTensor() && elem == ElemType::F32; }
  bool isComplexTensor() const { return isTensor() && elem == ElemType::C64; }
  int64_t numel() const { return isScalar() ? 1 : dims.numel(); }
  size_t bytes() const;
  bool operator==(const Type&) const = default;
  std::string str() const; // "f32", "f32[1x1x64x64]", "c64[1x1x64x33]"
};

// Validates dims against the limits above; `what` names the thing for the message.
void checkDims(const Dims& dims, const std::string& what);

} // namespace podm::ir
