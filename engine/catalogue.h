// The catalogue sema checks against: the language's built-ins plus the prox functions of the
// stdlib registry, plugins included: a plugin loaded after an earlier call joins at the next call
// (load plugins while no model is being checked on another thread).
#pragma once

#include "frontend/sema/catalogue.h"

namespace podm::engine {

const sema::Catalogue& languageCatalogue();

} // namespace podm::engine
