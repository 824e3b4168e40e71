// Training losses between a prediction and a target of the same shape: L2 (mean squared error)
// and L1 (mean absolute error), each returning the value and, on request, the gradient with
// respect to the prediction (the cotangent a backward pass starts from). Means are over every
// element, so the loss scale does not depend on batch or crop size. Sums run in double.
#pragma once

#include "runtime/tensor.h"

#include <string>

namespace podm::train {

enum class LossKind { L2, L1 };

// "l2"/"mse" or "l1"/"mae"; throws std::invalid_argument naming the text otherwise.
LossKind parseLoss(const std::string& text);
const char* lossName(LossKind kind);

// mean((pred − target)²); grad (when given) = 2(pred − target)/n, overwritten (reallocated
// unless it already has pred's shape).
double l2Loss(const Tensor& pred, const Tensor& target, Tensor* grad = nullptr);
// mean|pred − target|; grad = sign(pred − target)/n, 0 where they are equal.
double l1Loss(const Tensor& pred, const Tensor& target, Tensor* grad = nullptr);
// Either, by kind. All throw std::invalid_argument when the shapes differ or a tensor is not a
// non-empty f32 tensor.
double loss(LossKind kind, const Tensor& pred, const Tensor& target, Tensor* grad = nullptr);

} // namespace podm::train
