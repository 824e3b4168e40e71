// The table of standard prox functions: adding one is a file pair in this folder plus one line
// here. Registration is explicit so that the order and the set are visible in one place.
#include "stdlib/prox/box.h"
#include "stdlib/prox/hardthre_box.h"
#include "stdlib/prox/l0.h"
#include "stdlib/prox/l1.h"
#include "stdlib/prox/l21.h"
#include "stdlib/prox/lp.h"
#include "stdlib/prox/nonneg.h"
#include "stdlib/prox/prox.h"
#include "stdlib/prox/tv.h"

namespace podm::stdlib {

void registerStandardProxes(ProxRegistry& registry) {
  registry.add(makeL1Entry());
  registry.add(makeLpEntry());
  registry.add(makeL0Entry());
  registry.add(makeBoxEntry());
  registry.add(makeNonnegEntry());
  registry.add(makeHardThreBoxEntry());
  registry.add(makeTvIsoEntry());
  registry.add(makeTvAnisoEntry());
  registry.add(makeL21Entry());
}

} // namespace podm::stdlib
