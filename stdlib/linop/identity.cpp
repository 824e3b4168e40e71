// identity: the operator every structure-driven solver special-cases.
#include "stdlib/linop/ops.h"
#include "stdlib/linop/registry.h"

#include <cstring>

namespace podm::stdlib {

void IdentityOperator::apply(const Tensor& x, Tensor& y) const {
  checkOperand(name(), "output", y, x.shape());
  checkOperand(name(), "input", x, x.shape());
  std::memcpy(y.data(), x.data(), x.bytes());
}

void IdentityOperator::adjoint(const Tensor& y, Tensor& x) const {
  apply(y, x);
}

LinopEntry identityLinopEntry() {
  LinopEntry e = declareLinop("identity", "x -> x", {}, [](const LinopArgs&) -> LinopPtr {
    return std::make_shared<IdentityOperator>();
  });
  e.traits = {.orthogonal = true, .diagonal = true, .circulant = Circulance::Always};
  e.lower = [](const LinopApplication& a) { return a.x; };
  return e;
}

} // namespace podm::stdlib
