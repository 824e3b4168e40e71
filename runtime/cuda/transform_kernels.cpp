// CUDA kernels for bicubic resampling, the DCT and DCT filter banks: the builders and their table
// lines. The builders compute every table on the host at prepare time with numerics' own code
// (bicubic weights, DCT basis filters) and upload it once; the resize and filter-bank kernels are
// in transform.cu, and the DCT is two cuBLAS products per plane, launched from here.
#include "numerics/dct_filters.h"
#include "runtime/cuda/cuda_backend.h"
#include "runtime/cuda/transform_math.h"

#include <climits>
#include <cublas_v2.h>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

namespace podm::cuda {
namespace {

using namespace transform;

bool realOperand(const CudaBuildContext& c) {
  return c.operand(0).elem == ir::ElemType::F32 && !c.operand(0).isScalar();
}

int64_t planeCount(const ir::Type& t) {
  return t.dims.n * t.dims.c;
}

// Copies a host vector into `buffer` at byte `offset`; returns the device address it landed at.
template <class T>
const T* uploadAt(Backend& memory, const DeviceBuffer& buffer, size_t& offset,
                  const std::vector<T>& values) {
  const DevicePtr at = buffer.ptr() + offset;
  memory.upload(at, values.data(), values.size() * sizeof(T));
  offset += values.size() * sizeof(T);
  return static_cast<const T*>(at.raw);
}

template <class T>
size_t bytesOf(const std::vector<T>& values) {
  return values.size() * sizeof(T);
}

// One axis table in one device buffer (start, index, weight: all 4-byte entries, so each array
// stays aligned after the one before it).
AxisTaps uploadTaps(Backend& memory, DeviceBuffer& buffer, const AxisTapTable& table) {
  buffer =
      DeviceBuffer(memory, bytesOf(table.start) + bytesOf(table.index) + bytesOf(table.weight));
  size_t offset = 0;
  AxisTaps taps;
  taps.start = uploadAt(memory, buffer, offset, table.start);
  taps.index = uploadAt(memory, buffer, offset, table.index);
  taps.weight = uploadAt(memory, buffer, offset, table.weight);
  return taps;
}

ConvTaps uploadTaps(Backend& memory, DeviceBuffer& buffer, const ConvTapTable& table) {
  buffer = DeviceBuffer(memory, bytesOf(table.start) + bytesOf(table.source) + bytesOf(table.tap));
  size_t offset = 0;
  ConvTaps taps;
  taps.start = uploadAt(memory, buffer, offset, table.start);
  taps.source = uploadAt(memory, buffer, offset, table.source);
  taps.tap = uploadAt(memory, buffer, offset, table.tap);
  return taps;
}

// The resize's two axis tables and the scratch between its passes; the launch reads the plan.
struct ResizeState final : NodeState {
  DeviceBuffer widthTaps, heightTaps, scratch;
  SeparablePlan plan;
  void bind(LaunchArgs& args) const override { args.state = &plan; }
};

// The adjoint is a gather over the transposed tables of the forward resize from the adjoint's
// result size to its operand size (transform::resizeTables), so it needs no atomics.
template <bool Adjoint>
CudaKernel buildResize(const CudaBuildContext& c) {
  CudaKernel k;
  if (!realOperand(c))
    return k;
  k.launch = separableResampleLaunch();
  k.n = c.result().numel();
  if (!c.allocator)
    return k;
  const ir::Dims& in = c.operand(0).dims;
  const ir::Dims& out = c.result().dims;
  const ir::Attrs& a = c.node().attrs;
  const ResizeTables tables = resizeTables(in.h, in.w, out.h, out.w, a.getFloat("scale"),
                                           a.getInt("antialias") != 0, Adjoint);
  auto s = std::make_unique<ResizeState>();
  SeparablePlan& p = s->plan;
  p.width = uploadTaps(*c.allocator, s->widthTaps, tables.width);
  p.height = uploadTaps(*c.allocator, s->heightTaps, tables.height);
  p.widthFirst = tables.widthFirst;
  p.planes = planeCount(c.operand(0));
  p.inH = in.h;
  p.inW = in.w;
  p.outH = out.h;
  p.outW = out.w;
  const int64_t scratchFloats = p.planes * (p.widthFirst ? p.inH * p.outW : p.outH * p.inW);
  s->scratch = DeviceBuffer(*c.allocator, static_cast<size_t>(scratchFloats) * sizeof(float));
  p.scratch = static_cast<float*>(s->scratch.get());
  k.state = std::move(s);
  return k;
}

CudaKernel buildResizeBicubic(const CudaBuildContext& c) {
  return buildResize<false>(c);
}
CudaKernel buildResizeBicubicAdjoint(const CudaBuildContext& c) {
  return buildResize<true>(c);
}

void checkBlas(cublasStatus_t status, const char* what) {
  if (status != CUBLAS_STATUS_SUCCESS)
    throw std::runtime_error(std::string("cublas: ") + what + ": " + cublasGetStatusName(status) +
                             " (" + cublasGetStatusString(status) + ")");
}

// One cuBLAS handle for every DCT node of the process, made on the first launch (builders run on
// hosts without a GPU) and destroyed with the last node that holds it. Its stream is the default
// stream, like every other kernel of the backend; its math mode is the default, so sgemm stays
// in full fp32 (no TF32).
class BlasHandle {
public:
  BlasHandle() { checkBlas(cublasCreate(&handle_), "cublasCreate"); }
  ~BlasHandle() { cublasDestroy(handle_); }
  BlasHandle(const BlasHandle&) = delete;
  BlasHandle& operator=(const BlasHandle&) = delete;
  cublasHandle_t get() const { return handle_; }

private:
  cublasHandle_t handle_ = nullptr;
};

std::shared_ptr<BlasHandle> sharedBlasHandle() {
  static std::mutex mutex;
  static std::weak_ptr<BlasHandle> shared;
  std::lock_guard lock(mutex);
  std::shared_ptr<BlasHandle> handle = shared.lock();
  if (!handle) {
    handle = std::make_shared<BlasHandle>();
    shared = handle;
  }
  return handle;
}

// The DCT matrices of both axes (one when the planes are square), the intermediate product and
// the handle, made on the first launch.
struct DctState final : NodeState {
  DeviceBuffer heightMatrix, widthMatrix, scratch;
  int h = 0, w = 0, planes = 0;
  bool inverse = false;
  mutable std::shared_ptr<BlasHandle> blas;

  const float* matrixH() const { return static_cast<const float*>(heightMatrix.get()); }
  const float* matrixW() const {
    return static_cast<const float*>(widthMatrix ? widthMatrix.get() : heightMatrix.get());
  }
};

void gemm(cublasHandle_t handle, const PlaneProduct& p, const float* a, const float* b, float* c,
          int planes, const char* what) {
  const float one = 1.0f, zero = 0.0f;
  checkBlas(cublasSgemmStridedBatched(handle, p.transposeA ? CUBLAS_OP_T : CUBLAS_OP_N,
                                      p.transposeB ? CUBLAS_OP_T : CUBLAS_OP_N, p.m, p.n, p.k, &one,
                                      a, p.lda, p.strideA, b, p.ldb, p.strideB, &zero, c, p.ldc,
                                      p.strideC, planes),
            what);
}

// Two products over all planes at once (transform::dctProducts has the algebra).
void dctLaunch(const LaunchArgs& args) {
  const auto& s = *static_cast<const DctState*>(args.state);
  if (!s.blas)
    s.blas = sharedBlasHandle();
  const DctProducts products = dctProducts(s.h, s.w, s.inverse);
  auto* t = static_cast<float*>(s.scratch.get());
  gemm(s.blas->get(), products.first, s.matrixW(), static_cast<const float*>(args.in[0]), t,
       s.planes, s.inverse ? "idct2 width product" : "dct2 width product");
  gemm(s.blas->get(), products.second, t, s.matrixH(), static_cast<float*>(args.out), s.planes,
       s.inverse ? "idct2 height product" : "dct2 height product");
  checkLaunch(s.inverse ? "idct2" : "dct2");
}

DeviceBuffer uploadDctMatrix(Backend& memory, int64_t n) {
  const std::vector<float> m = dctMatrix(n);
  DeviceBuffer buffer(memory, bytesOf(m));
  memory.upload(buffer.ptr(), m.data(), bytesOf(m));
  return buffer;
}

// Beyond this side the n x n matrix outgrows its use (64 MiB, n products per output where the
// CPU's FFT does log n): such planes stay on the CPU.
constexpr int64_t kMaxDctMatrixLength = 4096;

// cuBLAS takes int batch counts; more planes stay on the CPU too.
template <bool Inverse>
CudaKernel buildDct(const CudaBuildContext& c) {
  CudaKernel k;
  const ir::Dims& d = c.operand(0).dims;
  if (!realOperand(c) || d.h > kMaxDctMatrixLength || d.w > kMaxDctMatrixLength ||
      planeCount(c.operand(0)) > INT_MAX)
    return k;
  k.launch = dctLaunch;
  k.n = c.result().numel();
  if (!c.allocator)
    return k;
  auto s = std::make_unique<DctState>();
  s->h = static_cast<int>(d.h);
  s->w = static_cast<int>(d.w);
  s->planes = static_cast<int>(planeCount(c.operand(0)));
  s->inverse = Inverse;
  s->heightMatrix = uploadDctMatrix(*c.allocator, d.h);
  if (d.w != d.h)
    s->widthMatrix = uploadDctMatrix(*c.allocator, d.w);
  s->scratch = DeviceBuffer(*c.allocator, static_cast<size_t>(d.numel()) * sizeof(float));
  k.state = std::move(s);
  return k;
}

CudaKernel buildDct2(const CudaBuildContext& c) {
  return buildDct<false>(c);
}
CudaKernel buildIdct2(const CudaBuildContext& c) {
  return buildDct<true>(c);
}

// The filters (numerics::dctBasisFilters, the CPU's) and, for the adjoint, both axes' transposed
// taps.
struct FilterBankState final : NodeState {
  DeviceBuffer filters, rowTaps, colTaps;
  FilterBankPlan plan;
  void bind(LaunchArgs& args) const override { args.state = &plan; }
};

// Both kernels count planes of x: the operand's for dct_filters, the result's for its adjoint.
template <bool Adjoint>
CudaKernel buildFilterBank(const CudaBuildContext& c) {
  CudaKernel k;
  const auto boundary = numerics::parseBoundary(c.node().attrs.getString("boundary"));
  if (!realOperand(c) || !boundary)
    return k;
  k.launch = Adjoint ? filterBankAdjointLaunch() : filterBankLaunch();
  k.n = c.result().numel();
  if (!c.allocator)
    return k;
  const ir::Type& x = Adjoint ? c.result() : c.operand(0);
  auto s = std::make_unique<FilterBankState>();
  FilterBankPlan& p = s->plan;
  p.size = c.node().attrs.getInt("size");
  p.count = numerics::dctFilterCount(p.size);
  p.planes = planeCount(x);
  p.h = x.dims.h;
  p.w = x.dims.w;
  p.edge = edgeOf(*boundary);
  const std::vector<float> filters = numerics::dctBasisFilters(p.size);
  s->filters = DeviceBuffer(*c.allocator, bytesOf(filters));
  c.allocator->upload(s->filters.ptr(), filters.data(), bytesOf(filters));
  p.filters = static_cast<const float*>(s->filters.get());
  if (Adjoint) {
    p.rows = uploadTaps(*c.allocator, s->rowTaps, convTransposeTable(p.h, p.size, p.edge));
    p.cols = uploadTaps(*c.allocator, s->colTaps, convTransposeTable(p.w, p.size, p.edge));
  }
  k.state = std::move(s);
  return k;
}

CudaKernel buildDctFilters(const CudaBuildContext& c) {
  return buildFilterBank<false>(c);
}
CudaKernel buildDctFiltersAdjoint(const CudaBuildContext& c) {
  return buildFilterBank<true>(c);
}

} // namespace

void registerTransformKernels(CudaKernelTable& t) {
  using ir::Op;
  t.add(Op::ResizeBicubic, buildResizeBicubic);
  t.add(Op::ResizeBicubicAdjoint, buildResizeBicubicAdjoint);
  t.add(Op::Dct2, buildDct2);
  t.add(Op::Idct2, buildIdct2);
  t.add(Op::DctFilters, buildDctFilters);
  t.add(Op::DctFiltersAdjoint, buildDctFiltersAdjoint);
}

} // namespace podm::cuda
