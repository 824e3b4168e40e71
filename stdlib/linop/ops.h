// The standard linear operators as C++ classes, for callers that need their parameters (the
// lowering reads a conv's kernel and boundary to build the closed-form FFT solve) or want to build
// one without going through the registry. Each is registered under its language name in
// standard.cpp; the per-operator files hold the math and the registry entry.
#pragma once

#include "numerics/bicubic.h"
#include "numerics/conv.h"
#include "numerics/dct_filters.h"
#include "numerics/finite_diff.h"
#include "numerics/pad.h"
#include "stdlib/linop/linop.h"
#include "stdlib/linop/size_cache.h"

namespace podm::stdlib {

// identity: x -> x. Every structure flag holds.
class IdentityOperator final : public LinearOperator {
public:
  std::string name() const override { return "identity"; }
  Shape outputShape(const Shape& in) const override { return in; }
  Shape inputShape(const Shape& out) const override { return out; }
  void apply(const Tensor& x, Tensor& y) const override;
  void adjoint(const Tensor& y, Tensor& x) const override;
  LinopStructure structure() const override { return {true, true, true, true}; }
};

// conv: every plane convolved with one kernel (conv.h conventions: true convolution, origin at
// (kh/2, kw/2), same-size output). Circulant with the periodic boundary; self-adjoint when the
// kernel is symmetric (point-symmetric for periodic/zero, mirror-symmetric on both axes for the
// symmetric boundary).
class ConvOperator final : public LinearOperator {
public:
  // kernel: f32, N*C == 1, any kh x kw.
  ConvOperator(Tensor kernel, numerics::Boundary boundary,
               numerics::ConvMethod method = numerics::ConvMethod::Auto);
  const Tensor& kernel() const { return kernel_; }
  numerics::Boundary boundary() const { return boundary_; }

  std::string name() const override { return "conv"; }
  Shape outputShape(const Shape& in) const override;
  Shape inputShape(const Shape& out) const override { return outputShape(out); }
  void apply(const Tensor& x, Tensor& y) const override;
  void adjoint(const Tensor& y, Tensor& x) const override;
  LinopStructure structure() const override;

private:
  std::shared_ptr<const numerics::Convolution2d> prepared(const Shape& s) const;

  Tensor kernel_;
  numerics::Boundary boundary_;
  numerics::ConvMethod method_;
  bool selfAdjoint_;
  SizeCache<numerics::Convolution2d> cache_;
};

// pad(k, mode, margin) and crop(k, margin): the border a convolution with a kh x kw kernel cannot
// compute without a boundary rule (kh-1-kh/2 rows above, kh/2 below, the same for columns), plus
// `margin` pixels on every side. pad extends an image by it (numerics/pad.h modes); crop keeps the
// inside, the valid part of the convolution, and is the adjoint of pad with mode zero.
class PaddingOperator final : public LinearOperator {
public:
  PaddingOperator(int64_t kernelH, int64_t kernelW, int64_t margin, numerics::PadMode mode,
                  bool crop);
  numerics::PadSides sides() const { return sides_; }
  std::string name() const override { return crop_ ? "crop" : "pad"; }
  Shape outputShape(const Shape& in) const override;
  Shape inputShape(const Shape& out) const override;
  void apply(const Tensor& x, Tensor& y) const override;
  void adjoint(const Tensor& y, Tensor& x) const override;
  LinopStructure structure() const override { return {}; }

private:
  Shape grown(const Shape& s) const;
  Shape shrunk(const Shape& s) const;
  void pad(const Tensor& small, Tensor& large) const;
  void unpad(const Tensor& large, Tensor& small) const;

  numerics::PadSides sides_;
  numerics::PadMode mode_;
  bool crop_;
};

// decimate(s): keep pixel (i*s, j*s). Sizes must be divisible by s (so that the adjoint's input
// shape is determined).
class DecimateOperator final : public LinearOperator {
public:
  explicit DecimateOperator(int64_t factor);
  int64_t factor() const { return factor_; }
  std::string name() const override { return "decimate"; }
  Shape outputShape(const Shape& in) const override;
  Shape inputShape(const Shape& out) const override;
  void apply(const Tensor& x, Tensor& y) const override;
  void adjoint(const Tensor& y, Tensor& x) const override;
  // A factor of 1 is the identity.
  LinopStructure structure() const override {
    return factor_ == 1 ? LinopStructure{true, true, true, true} : LinopStructure{};
  }

private:
  int64_t factor_;
};

// upsample(s): zero-filling upsampling, the adjoint of decimate(s); output is s times larger.
class UpsampleOperator final : public LinearOperator {
public:
  explicit UpsampleOperator(int64_t factor);
  int64_t factor() const { return factor_; }
  std::string name() const override { return "upsample"; }
  Shape outputShape(const Shape& in) const override;
  Shape inputShape(const Shape& out) const override;
  void apply(const Tensor& x, Tensor& y) const override;
  void adjoint(const Tensor& y, Tensor& x) const override;
  // A factor of 1 is the identity.
  LinopStructure structure() const override {
    return factor_ == 1 ? LinopStructure{true, true, true, true} : LinopStructure{};
  }

private:
  int64_t factor_;
};

// bicubic_down(s) / bicubic_up(s): MATLAB imresize(x, 1/s) / imresize(x, s), bicubic with
// antialiasing (bicubic.h). Downscaling needs sizes divisible by s.
class BicubicOperator final : public LinearOperator {
public:
  enum class Direction { Down, Up };
  BicubicOperator(int64_t factor, Direction direction);
  int64_t factor() const { return factor_; }
  Direction direction() const { return direction_; }
  std::string name() const override {
    return direction_ == Direction::Down ? "bicubic_down" : "bicubic_up";
  }
  Shape outputShape(const Shape& in) const override;
  Shape inputShape(const Shape& out) const override;
  void apply(const Tensor& x, Tensor& y) const override;
  void adjoint(const Tensor& y, Tensor& x) const override;
  // A factor of 1 is the identity.
  LinopStructure structure() const override {
    return factor_ == 1 ? LinopStructure{true, true, true, true} : LinopStructure{};
  }

private:
  std::shared_ptr<const numerics::BicubicResize2d> prepared(const Shape& in) const;

  int64_t factor_;
  Direction direction_;
  SizeCache<numerics::BicubicResize2d> cache_;
};

// haar(levels): orthonormal multi-level 2-D Haar (haar.h layout). Sizes divisible by 2^levels.
class HaarOperator final : public LinearOperator {
public:
  explicit HaarOperator(int levels);
  int levels() const { return levels_; }
  std::string name() const override { return "haar"; }
  Shape outputShape(const Shape& in) const override;
  Shape inputShape(const Shape& out) const override { return outputShape(out); }
  void apply(const Tensor& x, Tensor& y) const override;
  void adjoint(const Tensor& y, Tensor& x) const override;
  LinopStructure structure() const override { return {false, false, true, false}; }

private:
  int levels_;
};

// dct: orthonormal 2-D DCT-II of every plane (MATLAB dct2).
class DctOperator final : public LinearOperator {
public:
  std::string name() const override { return "dct"; }
  Shape outputShape(const Shape& in) const override;
  Shape inputShape(const Shape& out) const override { return outputShape(out); }
  void apply(const Tensor& x, Tensor& y) const override;
  void adjoint(const Tensor& y, Tensor& x) const override;
  LinopStructure structure() const override { return {false, false, true, false}; }
};

// grad: forward differences, C channels in, 2C out (channel 2c = d/dx, 2c+1 = d/dy of channel c).
class GradOperator final : public LinearOperator {
public:
  explicit GradOperator(numerics::DiffBoundary boundary);
  numerics::DiffBoundary boundary() const { return boundary_; }
  std::string name() const override { return "grad"; }
  Shape outputShape(const Shape& in) const override;
  Shape inputShape(const Shape& out) const override;
  void apply(const Tensor& x, Tensor& y) const override;
  void adjoint(const Tensor& y, Tensor& x) const override;
  LinopStructure structure() const override;

private:
  numerics::DiffBoundary boundary_;
};

// mask(m): pointwise product with m, either one 1x1xHxW plane broadcast over all planes or a
// tensor of exactly the input shape. Diagonal and self-adjoint.
class MaskOperator final : public LinearOperator {
public:
  explicit MaskOperator(Tensor mask);
  const Tensor& mask() const { return mask_; }
  std::string name() const override { return "mask"; }
  Shape outputShape(const Shape& in) const override;
  Shape inputShape(const Shape& out) const override { return outputShape(out); }
  void apply(const Tensor& x, Tensor& y) const override;
  void adjoint(const Tensor& y, Tensor& x) const override { apply(y, x); }
  LinopStructure structure() const override { return {true, false, false, true}; }

private:
  Tensor mask_;
};

// dct_filters(size): the size*size - 1 non-constant DCT basis filters (dct_filters.h), C channels
// in, C*(size*size-1) out (channel c*N + n = filter n on channel c). Circulant when periodic.
class DctFiltersOperator final : public LinearOperator {
public:
  DctFiltersOperator(int64_t size, numerics::Boundary boundary,
                     numerics::ConvMethod method = numerics::ConvMethod::Auto);
  int64_t size() const { return size_; }
  int64_t filterCount() const { return size_ * size_ - 1; }
  numerics::Boundary boundary() const { return boundary_; }
  // filterCount() filters of size x size floats (the same for every plane size).
  const std::vector<float>& filters() const { return filters_; }

  std::string name() const override { return "dct_filters"; }
  Shape outputShape(const Shape& in) const override;
  Shape inputShape(const Shape& out) const override;
  void apply(const Tensor& x, Tensor& y) const override;
  void adjoint(const Tensor& y, Tensor& x) const override;
  LinopStructure structure() const override;

private:
  std::shared_ptr<const numerics::DctFilterBank2d> prepared(const Shape& s) const;

  int64_t size_;
  numerics::Boundary boundary_;
  numerics::ConvMethod method_;
  std::vector<float> filters_;
  SizeCache<numerics::DctFilterBank2d> cache_;
};

} // namespace podm::stdlib
