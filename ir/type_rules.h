// Result-type rules named by the op table (ops.def). Each checks the shape relations between
// operands and attributes that the signature letters cannot express, and returns the result type.
#pragma once

#include "ir/op_table.h"

namespace podm::ir::rules {

Type ruleDeclared(const TypeContext& c);          // sources: the declared type
Type ruleConstant(const TypeContext& c);          // declared type, payload size must match
Type ruleSame(const TypeContext& c);              // type of operand 0
Type ruleScalar(const TypeContext& c);            // f32 scalar
Type ruleBroadcast(const TypeContext& c);         // tensors of one type, scalars broadcast
Type ruleBroadcastMixed(const TypeContext& c);    // as ruleBroadcast, c64 with f32 of one shape
Type ruleAxpby(const TypeContext& c);             // x and y of one type
Type ruleClamp(const TypeContext& c);             // lo <= hi
Type ruleSelect(const TypeContext& c);            // both branches of one type
Type ruleToReal(const TypeContext& c);            // f32 of operand 0's shape
Type ruleDot(const TypeContext& c);               // two tensors of one shape -> scalar
Type ruleMask(const TypeContext& c);              // 1x1xhxw mask of the operand's plane
Type ruleRfft2(const TypeContext& c);             // w -> w/2+1, c64
Type ruleIrfft2(const TypeContext& c);            // w/2+1 -> width, f32
Type ruleConv2d(const TypeContext& c);            // kernel 1x1xkhxkw
Type rulePad2d(const TypeContext& c);             // h + top + bottom, w + left + right
Type rulePad2dAdjoint(const TypeContext& c);      // h - top - bottom, w - left - right (>= 1)
Type ruleDecimate(const TypeContext& c);          // h, w divisible by factor
Type ruleUpsample(const TypeContext& c);          // h*factor, w*factor
Type ruleResize(const TypeContext& c);            // h x w from attributes, scale > 0
Type ruleHaar(const TypeContext& c);              // h, w divisible by 2^levels
Type ruleFdGrad(const TypeContext& c);            // c -> 2c
Type ruleFdGradAdjoint(const TypeContext& c);     // 2c -> c
Type ruleFilterBank(const TypeContext& c);        // c -> c*(size^2-1)
Type ruleFilterBankAdjoint(const TypeContext& c); // c*(size^2-1) -> c
Type ruleProx(const TypeContext& c);              // operand 0's type
Type ruleNetwork(const TypeContext& c);           // operand 0's type (a 4-D f32 tensor)

Type ruleParam(const TypeContext& c);               // as ruleConstant, f32 only, non-empty name
Type rulePickStage(const TypeContext& c);           // n x c x h x w -> 1 x c x h x w
Type rulePlaceStage(const TypeContext& c);          // 1 x c x h x w -> n x c x h x w
Type ruleMatvec(const TypeContext& c);              // 1x1xMxK, K elements -> 1x1xMx1
Type ruleMatvecT(const TypeContext& c);             // 1x1xMxK, M elements -> 1x1xKx1
Type ruleOuter(const TypeContext& c);               // M, K elements -> 1x1xMxK
Type ruleFilterBankRt(const TypeContext& c);        // c -> c*K for K runtime filters
Type ruleFilterBankRtAdjoint(const TypeContext& c); // c*K -> c
Type ruleFilterBankGrad(const TypeContext& c);      // x, dy -> 1 x K x size x size
Type ruleFilterSpectrum(const TypeContext& c);      // filters -> 1 x 1 x h x (w/2+1)
Type ruleFilterSpectrumGrad(const TypeContext& c);  // filters, dS -> filters' type
// The ssim monitor: two 1x1xhxw images of one shape, at least 11x11 after removing `shave`.
Type ruleSsim(const TypeContext& c);

// Fused ops (compiler/passes/fuse_elementwise.cpp).
Type ruleFused(const TypeContext& c);         // the tensor operands' type, or a scalar (reduction)
Type ruleIrfft2Product(const TypeContext& c); // as irfft2 of operand 0; operand 1 of its shape
Type ruleFusedOutput(const TypeContext& c);
Type ruleSpectrumEnergy(const TypeContext& c); // every operand of one shape -> scalar   // operand
                                               // 0's type, or a scalar with reduction=1

} // namespace podm::ir::rules
