// Run ids (see run_scope.h).
#include "runtime/run_scope.h"

#include <atomic>

namespace podm {

namespace {
std::atomic<uint64_t> nextRunId{1};
thread_local uint64_t runId = 0;
} // namespace

uint64_t currentRunId() {
  return runId;
}

RunScope::RunScope() : previous_(runId) {
  runId = nextRunId.fetch_add(1);
}

RunScope::~RunScope() {
  runId = previous_;
}

} // namespace podm
