// The order of a training pass over a network plan (network_plan.h), written once for the cuDNN
// trainer (network_training.cpp) and its host mirror (tests/runtime/cuda/network_host_train.h),
// so the tests that run the mirror against the CPU's oneDNN gradients check the control flow the
// GPU runs: which step reads which gradient buffer, which steps differentiate in place, when the
// two gradient buffers swap, and where the input's gradient is skipped. Only the primitives
// differ (cuDNN calls and network.cu kernels, or host loops).
//
// Forward keeps every step's output (step k writes its own buffer, read back by backward);
// backward starts from the output's gradient in one of two buffers and leaves the input's
// gradient in the buffer it returns (when `wantInput`, or the plan has more than one step).
// Host-only and header-only, C++17.
#pragma once

#include "runtime/cuda/network_plan.h"

#include <cstddef>
#include <stdexcept>
#include <string>
#include <utility>

namespace podm::cuda::training {

// Steps without a backward pass (upsampling, input concatenation): trainers refuse such layers
// before planning, so reaching one is a logic error.
[[noreturn]] inline void noBackward(size_t step) {
  throw std::logic_error("network trainer: step " + std::to_string(step) + " has no backward pass");
}

// Runs step k forward for every step, in order. Device provides conv(k), pad(k), activation(k)
// and copy(k), each reading step k's source (the input or step k-1's output) and writing step
// k's output.
template <class Device>
void forwardPass(const NetPlan& plan, Device& device) {
  for (size_t k = 0; k < plan.steps.size(); ++k) {
    switch (plan.steps[k].kind) {
    case NetStepKind::Conv:
      device.conv(k);
      break;
    case NetStepKind::Pad:
      device.pad(k);
      break;
    case NetStepKind::Activation:
      device.activation(k);
      break;
    case NetStepKind::Copy:
      device.copy(k);
      break;
    case NetStepKind::Upsample:
    case NetStepKind::ConcatInput:
      noBackward(k);
    }
  }
}

// The backward pass from the output's gradient in `grad` (the network's own output, before a
// residual: the caller negates it for one) with `spare` a second buffer as large; returns the
// buffer that holds the input's gradient. Device provides, for step k:
//   activationGrad(k, g)  g <- g * act'(z), from step k's output (in place)
//   biasGrad(k, g), filterGrad(k, g)  the convolution's parameter gradients from its output's g
//   dataGrad(k, g, dx), padGrad(k, g, dx)  the gradient of step k's source into dx
template <class Device, class Buffer>
Buffer backwardPass(const NetPlan& plan, Device& device, Buffer grad, Buffer spare,
                    bool wantInput) {
  for (size_t k = plan.steps.size(); k-- > 0;) {
    const NetStep& s = plan.steps[k];
    const bool propagate = k > 0 || wantInput; // the source's gradient is read further down
    switch (s.kind) {
    case NetStepKind::Conv:
      if (s.activation != NetActivation::None)
        device.activationGrad(k, grad);
      device.biasGrad(k, grad);
      device.filterGrad(k, grad);
      if (propagate) {
        device.dataGrad(k, grad, spare);
        std::swap(grad, spare);
      }
      break;
    case NetStepKind::Pad:
      if (propagate) {
        device.padGrad(k, grad, spare);
        std::swap(grad, spare);
      }
      break;
    case NetStepKind::Activation:
      if (propagate)
        device.activationGrad(k, grad);
      break;
    case NetStepKind::Copy:
      break;
    case NetStepKind::Upsample:
    case NetStepKind::ConcatInput:
      noBackward(k);
    }
  }
  return grad;
}

} // namespace podm::cuda::training
