// dx(boundary), dy(boundary): forward differences along x (columns) and y (rows), one plane at a
// time: (dx u)[i,j] = u[i,j+1] - u[i,j]. A convolution with the fixed two-tap kernel [1, -1]
// (origin at the second tap, conv.h conventions), so it is declared on ConvOperator and lowered to
// conv2d: periodic wrap-around makes it circulant (the FFT F-step applies), the symmetric
// boundary gives Neumann differences (zero at the last column), zero assumes u = 0 outside.
#include "stdlib/linop/ops.h"
#include "stdlib/linop/registry.h"

#include <stdexcept>

namespace podm::stdlib {
namespace {

// The two-tap kernel, 1x2 along x or 2x1 along y.
Tensor differenceKernel(bool alongX) {
  Tensor k(alongX ? Shape{1, 1, 1, 2} : Shape{1, 1, 2, 1});
  k.data()[0] = 1.0f;
  k.data()[1] = -1.0f;
  return k;
}

LinopEntry differenceEntry(const char* name, bool alongX) {
  LinopEntry e = declareLinop(
      name,
      alongX ? "forward differences along x: u[i,j+1] - u[i,j]"
             : "forward differences along y: u[i+1,j] - u[i,j]",
      {LinopParam::text("boundary", "periodic", false,
                        "periodic, symmetric (Neumann: zero at the last row/column) or zero")
           .oneOf({"periodic", "symmetric", "zero"})},
      [alongX, name](const LinopArgs& args) -> LinopPtr {
        auto boundary = numerics::parseBoundary(args.strings.at("boundary"));
        if (!boundary)
          throw std::invalid_argument(std::string(name) +
                                      ": boundary must be periodic, symmetric or zero");
        return std::make_shared<ConvOperator>(differenceKernel(alongX), *boundary);
      });
  e.traits.circulant = Circulance::WhenPeriodic;
  e.lower = [alongX](const LinopApplication& a) {
    const Tensor k = differenceKernel(alongX);
    ir::ValueId kernel = a.b.constant(ir::Type::real({1, 1, k.shape().h, k.shape().w}),
                                      std::vector<float>(k.data(), k.data() + k.numel()));
    return a.b.op(a.adjoint ? ir::Op::Conv2dAdjoint : ir::Op::Conv2d, {a.x, kernel},
                  {{"boundary", a.args.strings.at("boundary")}, {"orientation", "convolution"}});
  };
  return e;
}

} // namespace

LinopEntry dxLinopEntry() {
  return differenceEntry("dx", true);
}

LinopEntry dyLinopEntry() {
  return differenceEntry("dy", false);
}

} // namespace podm::stdlib
