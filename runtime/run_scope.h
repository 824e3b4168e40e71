// Which run the calling thread is in: Executor::run and Tape::forward open a RunScope, giving the
// run an id unique in the process. A kernel with state that may carry from one call to the next
// within a run (the TV prox's warm start) keys it on the id, so every run starts afresh and runs
// on other threads never see each other's state. Outside any run the id is 0.
#pragma once

#include <cstdint>

namespace podm {

uint64_t currentRunId();

class RunScope {
public:
  RunScope();
  ~RunScope();
  RunScope(const RunScope&) = delete;
  RunScope& operator=(const RunScope&) = delete;

private:
  uint64_t previous_;
};

} // namespace podm
