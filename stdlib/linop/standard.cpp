// The table of standard linear operators. Adding one: write its file (class + a function returning
// its LinopEntry) and add one line to the list below.
#include "stdlib/linop/registry.h"

namespace podm::stdlib {

// X(entry function): one line per operator, in the order `podm` lists them.
#define PODM_STANDARD_LINOPS(X)                                                                    \
  X(identityLinopEntry)                                                                            \
  X(convLinopEntry)                                                                                \
  X(decimateLinopEntry)                                                                            \
  X(upsampleLinopEntry)                                                                            \
  X(bicubicDownLinopEntry)                                                                         \
  X(bicubicUpLinopEntry)                                                                           \
  X(haarLinopEntry)                                                                                \
  X(dctLinopEntry)                                                                                 \
  X(gradLinopEntry)                                                                                \
  X(dxLinopEntry)                                                                                  \
  X(dyLinopEntry)                                                                                  \
  X(maskLinopEntry)                                                                                \
  X(padLinopEntry)                                                                                 \
  X(cropLinopEntry)                                                                                \
  X(dctFiltersLinopEntry)

#define PODM_DECLARE_LINOP_ENTRY(entry) LinopEntry entry();
PODM_STANDARD_LINOPS(PODM_DECLARE_LINOP_ENTRY)
#undef PODM_DECLARE_LINOP_ENTRY

void registerStandardLinops(LinopRegistry& registry) {
#define PODM_ADD_LINOP_ENTRY(entry) registry.add(entry());
  PODM_STANDARD_LINOPS(PODM_ADD_LINOP_ENTRY)
#undef PODM_ADD_LINOP_ENTRY
}

} // namespace podm::stdlib
