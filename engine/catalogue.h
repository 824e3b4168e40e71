// The catalogue sema checks against: the language's built-ins plus the prox functions of the
// stdlib registry (plugins included, so load plugins before the first call).
#pragma once

#include "frontend/sema/catalogue.h"

namespace podm::engine {

const sema::Catalogue& languageCatalogue();

} // namespace podm::engine
