// 2-D convolution of every plane of an image with one small kernel, its exact adjoint, and the
// periodic spectrum of a kernel (psf2otf) that the closed-form FFT solves of the F-step divide by.
//
// Conventions (all kernels in this folder follow them):
//   - a kernel is kh x kw floats, row-major; its origin is element (kh/2, kw/2) (integer division),
//     as in MATLAB's psf2otf;
//   - "convolution" is true convolution: y[i,j] = sum_{a,b} k[a,b] * xe[i - (a - kh/2), j - (b -
//   kw/2)]
//     where xe is x extended beyond the plane by the boundary rule. It equals correlation with the
//     flipped kernel, and MATLAB's imfilter(x, k, boundary, 'conv', 'same') for odd kernel sizes;
//   - the output has the size of the input;
//   - boundaries: Periodic (xe wraps around), Symmetric (half-sample reflection, MATLAB's
//     'symmetric': x[-1] = x[0], x[-2] = x[1], x[h] = x[h-1]; reflection repeats for kernels larger
//     than the plane), Zero (xe = 0 outside).
// The adjoint of each variant is exact (not "correlation with the same boundary"):
//   Periodic: correlation with wrap-around; Zero: full correlation cropped to the plane;
//   Symmetric: full correlation, then every value outside the plane is folded back (added) onto the
//   pixel it was reflected from.
//
// Direct loops or FFTs compute the same thing; ConvMethod::Auto picks by the cost model in
// chooseConvMethod (see conv.cpp for the measured constants).
#pragma once

#include <complex>
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

namespace podm::numerics {

enum class Boundary { Periodic, Symmetric, Zero };

const char* boundaryName(Boundary boundary);
// "periodic", "symmetric" or "zero"; nullopt for anything else.
std::optional<Boundary> parseBoundary(std::string_view name);

// How a kernel file is read (docs/language.md, "Kernels"): as the kernel of a true convolution
// (podm's default, MATLAB conv2 / imfilter(..., 'conv')), or as a correlation kernel (imfilter's
// default; Levin et al.'s captures match their kernels applied so). Correlation with k is
// convolution with k rotated by 180 degrees, so a correlation kernel is flipped once when read.
enum class KernelOrientation { Convolution, Correlation };
// "convolution" or "correlation"; nullopt for anything else.
std::optional<KernelOrientation> parseKernelOrientation(std::string_view name);
// The kh x kw kernel rotated by 180 degrees (row-major in and out).
std::vector<float> flippedKernel(const float* kernel, int64_t kh, int64_t kw);

// The index of the plane sample that position i (any integer) of the extended line reads, or -1
// where the extension is zero. n is the line length.
int64_t extendedIndex(int64_t i, int64_t n, Boundary boundary);

enum class ConvMethod { Auto, Direct, Fft };

// The padded grid on which a convolution with a kh x kw kernel reads an h x w plane: the plane
// extended by the boundary rule to (h + kh - 1) x (w + kw - 1), so that the convolution becomes a
// "valid" correlation with the flipped kernel on it.
struct ConvGeometry {
  int64_t h, w, kh, kw;
  Boundary boundary;

  int64_t paddedH() const { return h + kh - 1; }
  int64_t paddedW() const { return w + kw - 1; }
  // Where plane pixel (0,0) sits on the padded grid.
  int64_t top() const { return kh - 1 - kh / 2; }
  int64_t left() const { return kw - 1 - kw / 2; }

  // Writes the extended plane into the first paddedH() rows of `padded`, whose rows are `stride`
  // floats apart (stride >= paddedW(); the rest of each row is left untouched).
  void pad(const float* plane, float* padded, int64_t stride) const;
  // The adjoint of pad: plane = sum of the padded values that pad copied from each pixel.
  void fold(const float* padded, int64_t stride, float* plane) const;

  // FFT-grid forms (grid rows are gridW floats; the grid is at least paddedH() x paddedW()):
  // pad into a zero frame / crop the valid output / place an output where crop took it from.
  void padIntoGrid(const float* plane, float* grid, int64_t gridH, int64_t gridW) const;
  void cropFromGrid(const float* grid, int64_t gridW, float* plane) const;
  void embedIntoGrid(const float* plane, float* grid, int64_t gridH, int64_t gridW) const;
};

// The FFT length used for a padded line of n samples: the smallest n' >= n that FFTW transforms
// fast (2^a * small odd part; see conv.cpp for the measurements behind the choice).
int64_t fastFftSize(int64_t n);

// The cost model (estimated nanoseconds) behind the Auto choices: a direct convolution of one
// plane, and one FFT-domain pass on an fh x fw grid (a transform plus a spectrum product).
double directConvCost(int64_t kh, int64_t kw, int64_t h, int64_t w);
double fftPassCost(int64_t fh, int64_t fw);
// The FFT grid a convolution uses: the plane itself for Periodic, else the padded plane rounded up
// to fast FFT sizes (the zero frame keeps circular wrap-around out of the kept part).
int64_t convFftLength(int64_t n, int64_t k, Boundary boundary);

// Direct or Fft by the cost model (never Auto): direct cost vs two FFT passes.
ConvMethod chooseConvMethod(int64_t kh, int64_t kw, int64_t h, int64_t w, Boundary boundary);

// Half spectrum (h x (w/2+1), as fftForward lays it out) of the kernel embedded periodically in an
// h x w plane with its origin at (0,0); kernels larger than the plane wrap around and add up.
// Periodic convolution is then y = fftInverse(spectrum .* fftForward(x)) / (h*w), and its adjoint
// uses conj(spectrum).
void kernelSpectrum(const float* kernel, int64_t kh, int64_t kw, int64_t h, int64_t w,
                    std::complex<float>* spectrum);

// A convolution prepared for one plane size: flipped kernel, FFT grid and kernel spectrum are
// computed once here and reused by every apply/adjoint. Thread-safe for concurrent const calls.
class Convolution2d {
public:
  Convolution2d(const float* kernel, int64_t kh, int64_t kw, int64_t h, int64_t w,
                Boundary boundary, ConvMethod method = ConvMethod::Auto);

  // y = k * x for `planes` consecutive h x w planes. x and y must not overlap.
  void apply(const float* x, float* y, int64_t planes) const;
  // x = adjoint applied to y, for `planes` consecutive planes. x and y must not overlap.
  void adjoint(const float* y, float* x, int64_t planes) const;

  ConvMethod method() const { return method_; }
  const ConvGeometry& geometry() const { return geometry_; }
  // The FFT grid (h x w for Periodic, padded to fast sizes otherwise); 0 x 0 for Direct.
  int64_t fftH() const { return fftH_; }
  int64_t fftW() const { return fftW_; }

private:
  void applyDirect(const float* x, float* y) const;
  void adjointDirect(const float* y, float* x) const;
  void applyFft(const float* x, float* y) const;
  void adjointFft(const float* y, float* x) const;

  ConvGeometry geometry_;
  ConvMethod method_;
  std::vector<float> flipped_; // kernel rotated by 180 degrees: the direct loops correlate with it
  int64_t fftH_ = 0, fftW_ = 0;
  std::vector<std::complex<float>> spectrum_; // kernelSpectrum on the FFT grid, times 1/(fftH*fftW)
};

// One-shot form (it builds a Convolution2d; prefer keeping one for repeated calls).
void conv2d(const float* x, float* y, int64_t planes, int64_t h, int64_t w, const float* kernel,
            int64_t kh, int64_t kw, Boundary boundary, ConvMethod method = ConvMethod::Auto);

// Pointwise product of half spectra, out = a .* b (conjugateB: a .* conj(b)), written out in real
// arithmetic so that it vectorizes (std::complex multiplication calls a NaN-checking helper).
void multiplySpectra(const std::complex<float>* a, const std::complex<float>* b,
                     std::complex<float>* out, int64_t count, bool conjugateB);
// acc += a .* conj(b)
void accumulateSpectraConj(const std::complex<float>* a, const std::complex<float>* b,
                           std::complex<float>* acc, int64_t count);

} // namespace podm::numerics
