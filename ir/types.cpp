// Type construction, limits and spelling.
#include "ir/types.h"

#include "ir/errors.h"

namespace podm::ir {

const char* elemTypeName(ElemType t) {
  return t == ElemType::F32 ? "f32" : "c64";
}

std::string Dims::str() const {
  return std::to_string(n) + "x" + std::to_string(c) + "x" + std::to_string(h) + "x" +
         std::to_string(w);
}

void checkDims(const Dims& d, const std::string& what) {
  for (int64_t v : {d.n, d.c, d.h, d.w})
    if (v < 1 || v > kMaxDim)
      throw IrError(what + ": dimension " + std::to_string(v) + " in shape " + d.str() +
                    " is outside [1, " + std::to_string(kMaxDim) + "]");
  // Each factor is <= 2^24, so partial products are checked before they can overflow.
  int64_t nc = d.n * d.c;
  if (nc > kMaxNumel || nc * d.h > kMaxNumel || nc * d.h * d.w > kMaxNumel)
    throw IrError(what + ": shape " + d.str() + " has more than 2^32 elements");
}

Type Type::tensor(ElemType elem, Dims dims) {
  checkDims(dims, "tensor type");
  Type t;
  t.kind = Kind::Tensor;
  t.elem = elem;
  t.dims = dims;
  return t;
}

size_t Type::bytes() const {
  size_t per = elem == ElemType::F32 ? 4 : 8;
  return static_cast<size_t>(numel()) * per;
}

std::string Type::str() const {
  if (isScalar())
    return "f32";
  return std::string(elemTypeName(elem)) + "[" + dims.str() + "]";
}

} // namespace podm::ir
