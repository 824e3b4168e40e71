// L2 and L1 training losses (see loss.h). One pass each, sums in double so large crops do not
// lose the small residuals that dominate late in training.
#include "train/loss.h"

#include <cmath>
#include <stdexcept>

namespace podm::train {
namespace {

void checkPair(const char* what, const Tensor& pred, const Tensor& target) {
  auto bad = [](const Tensor& t) { return t.empty() || t.dtype() != DType::F32; };
  if (bad(pred) || bad(target))
    throw std::invalid_argument(std::string(what) +
                                " loss: prediction and target must be non-empty f32 tensors");
  if (!(pred.shape() == target.shape()))
    throw std::invalid_argument(std::string(what) + " loss: prediction " + pred.shape().str() +
                                " and target " + target.shape().str() + " differ in shape");
}

float* gradBuffer(const Tensor& pred, Tensor* grad) {
  if (!grad)
    return nullptr;
  if (grad->empty() || grad->dtype() != DType::F32 || !(grad->shape() == pred.shape()))
    *grad = Tensor(pred.shape());
  return grad->data();
}

} // namespace

LossKind parseLoss(const std::string& text) {
  if (text == "l2" || text == "mse")
    return LossKind::L2;
  if (text == "l1" || text == "mae")
    return LossKind::L1;
  throw std::invalid_argument("unknown loss '" + text + "' (expected l2, mse, l1 or mae)");
}

const char* lossName(LossKind kind) {
  return kind == LossKind::L2 ? "l2" : "l1";
}

double l2Loss(const Tensor& pred, const Tensor& target, Tensor* grad) {
  checkPair("l2", pred, target);
  const float* p = pred.data();
  const float* t = target.data();
  float* g = gradBuffer(pred, grad);
  int64_t n = pred.numel();
  double sum = 0, scale = 2.0 / double(n);
  for (int64_t i = 0; i < n; ++i) {
    double r = double(p[i]) - double(t[i]);
    sum += r * r;
    if (g)
      g[i] = float(scale * r);
  }
  return sum / double(n);
}

double l1Loss(const Tensor& pred, const Tensor& target, Tensor* grad) {
  checkPair("l1", pred, target);
  const float* p = pred.data();
  const float* t = target.data();
  float* g = gradBuffer(pred, grad);
  int64_t n = pred.numel();
  double sum = 0, scale = 1.0 / double(n);
  for (int64_t i = 0; i < n; ++i) {
    double r = double(p[i]) - double(t[i]);
    sum += std::abs(r);
    if (g)
      g[i] = r > 0 ? float(scale) : r < 0 ? float(-scale) : 0.0f;
  }
  return sum / double(n);
}

double loss(LossKind kind, const Tensor& pred, const Tensor& target, Tensor* grad) {
  return kind == LossKind::L2 ? l2Loss(pred, target, grad) : l1Loss(pred, target, grad);
}

} // namespace podm::train
