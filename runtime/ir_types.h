// Conversions between the IR's value types and runtime tensors (the IR sits below the runtime and
// keeps its own shape type).
#pragma once

#include "ir/types.h"
#include "runtime/tensor.h"

namespace podm {

inline DType toDType(ir::ElemType e) {
  return e == ir::ElemType::F32 ? DType::F32 : DType::C64;
}
inline Shape toShape(const ir::Dims& d) {
  return Shape{d.n, d.c, d.h, d.w};
}
// Scalars are 1x1x1x1 f32 tensors on the runtime side.
inline Shape toShape(const ir::Type& t) {
  return t.isScalar() ? Shape{1, 1, 1, 1} : toShape(t.dims);
}

} // namespace podm
