// The launch interface of the device prox kernels (prox.cu), seen from their builders
// (prox_kernels.cpp): which built-in, its arguments and, for the FGP solver of TV, the device
// buffers and the host-side warm-start bookkeeping. Plain C++17 for nvcc, like cuda_kernels.h.
//
// Every launch reads gamma (operand 1) and the run-time arguments (operands 2...) on the device:
// the host never waits for them.
#pragma once

#include "runtime/cuda/cuda_kernels.h"
#include "runtime/prox_math.h"

#include <cstdint>

namespace podm::cuda {

// One prox argument: a constant bound at prepare time, or a run-time scalar operand (an index into
// LaunchArgs::in) that the kernel reads from device memory. The value is the double the CPU's
// factory receives (lp computes in double; box bounds are rounded to float there and here).
struct ProxArg {
  double value = 0;
  int operand = -1; // >= 2 for a run-time argument
};

// The built-ins computed one element per thread.
enum class SeparableProx : uint8_t { L1, L0, Nonneg, Box, HardThreBoxThreshold, Lp };

struct SeparableProxParams {
  ProxArg a, b, c; // box: lo, hi; hardthre_box: lo, hi, threshold; lp: p
};

// hardthre_box with `count`: per sample (n) of `sampleSize` = c*h*w entries, keep the `count`
// entries of largest gain, ties in index order.
struct HardThreBoxCountParams {
  ProxArg lo, hi, count;
  int64_t samples = 0, sampleSize = 0;
};

// l21: groups are one pixel's channel vector in each sample.
struct GroupShrinkParams {
  int64_t samples = 0, channels = 0, plane = 0;
};

// One plane's FGP state on the device: the CPU's iteration control for that plane and what the
// next kernels read of it.
struct TvPlaneControl {
  proxmath::TvControl fgp;
  float momentum; // of the coming iteration
  int done;       // stopped: later iterations leave this plane alone
  int iterations; // taken so far
  double change;  // relative dual change of the last iteration
};

// What the planes of one TV node share on the device: how many still iterate (the host's one
// download per check) and the run-time arguments of the previous call. A call whose run-time
// arguments differ from the previous call's starts cold, as the CPU does when it re-binds.
struct TvNodeControl {
  int active;
  int cold;       // this call starts from a zero dual
  int hasBound;   // bound[] holds the previous call's values
  float bound[3]; // tolerance, lo, hi as read at the previous call
};

// TV + box by FGP on every h x w plane at once (stdlib/prox/tv.cpp's iteration, one kernel per
// phase). The buffers are the node's (prox_kernels.cpp allocates them); the warm start is keyed
// on the run like the CPU's (runtime/run_scope.h).
struct TvProxParams {
  bool isotropic = true;
  int64_t planes = 0, h = 0, w = 0;
  int maxIterations = 0;
  ProxArg tolerance, lo, hi; // lo, hi default to -inf, +inf (no box)
  bool warmStart = true;
  // p, q (the dual), r, s (its extrapolation) and u (the primal), planes*h*w floats each, one
  // after the other: a cold start zeroes the first four in one memset, a warm one copies (p, q)
  // to (r, s) in one copy.
  float* buffers = nullptr;
  double* partials = nullptr;             // planes x tvBlocksPerPlane(h * w) x 3
  TvPlaneControl* planeControl = nullptr; // planes
  TvNodeControl* nodeControl = nullptr;   // one
  // Host-side: the run whose dual p, q holds (0: none), for the warm start.
  mutable uint64_t dualRun = 0;
};

// Blocks the dual update of one plane is spread over (each writes three partial sums).
int64_t tvBlocksPerPlane(int64_t planePixels);

// The launches; args.state points at the params above.
Launch separableProxLaunch(SeparableProx f);
Launch hardThreBoxCountLaunch();
Launch groupShrinkLaunch();
Launch tvProxLaunch();

} // namespace podm::cuda
