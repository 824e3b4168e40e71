// L2 and L1 losses: values against direct sums, gradients against central differences, and
// the error messages for mismatched inputs.
#include "train/loss.h"

#include <cmath>
#include <doctest/doctest.h>
#include <random>
#include <stdexcept>

using namespace podm;
using namespace podm::train;

namespace {

Tensor randomTensor(Shape s, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  Tensor t(s);
  for (int64_t i = 0; i < t.numel(); ++i)
    t.data()[i] = u(rng);
  return t;
}

// Central-difference derivative of the loss in every entry, against the analytic gradient.
void checkGradient(LossKind kind) {
  Shape s{2, 1, 3, 5};
  Tensor pred = randomTensor(s, 1), target = randomTensor(s, 2);
  Tensor grad;
  loss(kind, pred, target, &grad);
  REQUIRE(grad.shape() == s);
  const double h = 1e-3;
  for (int64_t i = 0; i < pred.numel(); ++i) {
    float keep = pred.data()[i];
    pred.data()[i] = float(keep + h);
    double up = loss(kind, pred, target);
    pred.data()[i] = float(keep - h);
    double down = loss(kind, pred, target);
    pred.data()[i] = keep;
    double fd = (up - down) / (2 * h);
    CHECK(std::abs(fd - grad.data()[i]) < 1e-4);
  }
}

} // namespace

TEST_CASE("l2 and l1 losses are the mean squared and mean absolute errors") {
  Shape s{1, 2, 4, 3};
  Tensor pred = randomTensor(s, 3), target = randomTensor(s, 4);
  double sq = 0, ab = 0;
  for (int64_t i = 0; i < pred.numel(); ++i) {
    double r = double(pred.data()[i]) - double(target.data()[i]);
    sq += r * r;
    ab += std::abs(r);
  }
  CHECK(l2Loss(pred, target) == doctest::Approx(sq / double(pred.numel())).epsilon(1e-12));
  CHECK(l1Loss(pred, target) == doctest::Approx(ab / double(pred.numel())).epsilon(1e-12));
  CHECK(l2Loss(pred, pred) == 0.0);
}

TEST_CASE("loss gradients match central differences") {
  SUBCASE("l2") {
    checkGradient(LossKind::L2);
  }
  SUBCASE("l1") {
    checkGradient(LossKind::L1);
  }
}

TEST_CASE("loss names and input errors") {
  CHECK(parseLoss("mse") == LossKind::L2);
  CHECK(parseLoss("l1") == LossKind::L1);
  CHECK(std::string(lossName(LossKind::L1)) == "l1");
  CHECK_THROWS_WITH_AS(parseLoss("huber"), doctest::Contains("unknown loss 'huber'"),
                       std::invalid_argument);
  Tensor a(Shape{1, 1, 2, 2}), b(Shape{1, 1, 2, 3});
  CHECK_THROWS_WITH_AS(l2Loss(a, b), doctest::Contains("differ in shape"), std::invalid_argument);
  CHECK_THROWS_AS(l1Loss(Tensor(), a), std::invalid_argument);
}
