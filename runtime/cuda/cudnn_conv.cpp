// cuDNN convolution steps (see cudnn_conv.h): descriptors and algorithm choice.
#include "runtime/cuda/cudnn_conv.h"

#include <algorithm>
#include <optional>
#include <stdexcept>
#include <string>

namespace podm::cuda {

void checkCudnn(cudnnStatus_t status, const char* what) {
  if (status != CUDNN_STATUS_SUCCESS)
    throw std::runtime_error(std::string("cudnn: ") + what + ": " + cudnnGetErrorString(status));
}

void ConvObjects::destroy() {
  if (src)
    cudnnDestroyTensorDescriptor(src);
  if (dst)
    cudnnDestroyTensorDescriptor(dst);
  if (bias)
    cudnnDestroyTensorDescriptor(bias);
  if (filter)
    cudnnDestroyFilterDescriptor(filter);
  if (conv)
    cudnnDestroyConvolutionDescriptor(conv);
  *this = ConvObjects{};
}

void setTensor(cudnnTensorDescriptor_t d, const NetDims& s) {
  checkCudnn(cudnnSetTensor4dDescriptor(d, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, int(s.n), int(s.c),
                                        int(s.h), int(s.w)),
             "cudnnSetTensor4dDescriptor");
}

namespace {

// The most workspace one convolution may ask for: algorithms wanting more (FFT ones on large
// images) are passed over for the next fastest.
constexpr size_t kMaxWorkspaceBytes = size_t(1) << 30;

// The first usable entry of a perf list sorted fastest first (cuDNN's Find and Get_v7 calls).
template <class Perf>
std::optional<decltype(Perf::algo)> firstUsable(const Perf* perf, int found, bool deterministic) {
  for (int i = 0; i < found; ++i) {
    const Perf& p = perf[i];
    if (p.status == CUDNN_STATUS_SUCCESS && p.memory <= kMaxWorkspaceBytes &&
        p.mathType != CUDNN_TENSOR_OP_MATH && p.mathType != CUDNN_TENSOR_OP_MATH_ALLOW_CONVERSION &&
        (!deterministic || p.determinism == CUDNN_DETERMINISTIC))
      return p.algo;
  }
  return std::nullopt;
}

// The fastest usable algorithm cuDNN measures (`measure`), else the first usable one of its
// heuristic (`guess`), else `fallback`. Both fill a perf list of Count entries: (Count, &found,
// perf) -> status. `which` names the direction in errors.
template <class Perf, int Count, class Measure, class Guess>
decltype(Perf::algo) chooseAlgorithm(Measure measure, Guess guess, bool deterministic,
                                     decltype(Perf::algo) fallback, const std::string& which) {
  Perf perf[Count];
  int found = 0;
  checkCudnn(measure(Count, &found, perf), ("measuring the " + which + " algorithms").c_str());
  if (const auto best = firstUsable(perf, found, deterministic))
    return *best;
  checkCudnn(guess(Count, &found, perf), ("the " + which + " heuristic").c_str());
  return firstUsable(perf, found, deterministic).value_or(fallback);
}

} // namespace

void configureConv(cudnnHandle_t handle, const NetStep& s, ConvObjects& c) {
  if (!c.src)
    checkCudnn(cudnnCreateTensorDescriptor(&c.src), "cudnnCreateTensorDescriptor");
  if (!c.dst)
    checkCudnn(cudnnCreateTensorDescriptor(&c.dst), "cudnnCreateTensorDescriptor");
  if (!c.bias)
    checkCudnn(cudnnCreateTensorDescriptor(&c.bias), "cudnnCreateTensorDescriptor");
  if (!c.filter)
    checkCudnn(cudnnCreateFilterDescriptor(&c.filter), "cudnnCreateFilterDescriptor");
  if (!c.conv)
    checkCudnn(cudnnCreateConvolutionDescriptor(&c.conv), "cudnnCreateConvolutionDescriptor");
  setTensor(c.src, s.src);
  setTensor(c.dst, s.dst);
  setTensor(c.bias, NetDims{1, s.dst.c, 1, 1});
  checkCudnn(cudnnSetFilter4dDescriptor(c.filter, CUDNN_DATA_FLOAT, CUDNN_TENSOR_NCHW, int(s.dst.c),
                                        int(s.src.c), int(s.kh), int(s.kw)),
             "cudnnSetFilter4dDescriptor");
  checkCudnn(cudnnSetConvolution2dDescriptor(c.conv, int(s.padH), int(s.padW), int(s.stride),
                                             int(s.stride), int(s.dilation), int(s.dilation),
                                             CUDNN_CROSS_CORRELATION, CUDNN_DATA_FLOAT),
             "cudnnSetConvolution2dDescriptor");
  checkCudnn(cudnnSetConvolutionMathType(c.conv, CUDNN_FMA_MATH), "cudnnSetConvolutionMathType");
  int n = 0, ch = 0, h = 0, w = 0;
  checkCudnn(cudnnGetConvolution2dForwardOutputDim(c.conv, c.src, c.filter, &n, &ch, &h, &w),
             "cudnnGetConvolution2dForwardOutputDim");
  if (!(NetDims{n, ch, h, w} == s.dst))
    throw std::logic_error("cudnn: convolution of layer " + std::to_string(s.layer) + " gives " +
                           NetDims{n, ch, h, w}.str() + ", the plan expects " + s.dst.str());
  // Implicit GEMM supports every geometry without workspace.
  c.algo = chooseAlgorithm<cudnnConvolutionFwdAlgoPerf_t, CUDNN_CONVOLUTION_FWD_ALGO_COUNT>(
      [&](int n, int* found, cudnnConvolutionFwdAlgoPerf_t* perf) {
        return cudnnFindConvolutionForwardAlgorithm(handle, c.src, c.filter, c.conv, c.dst, n,
                                                    found, perf);
      },
      [&](int n, int* found, cudnnConvolutionFwdAlgoPerf_t* perf) {
        return cudnnGetConvolutionForwardAlgorithm_v7(handle, c.src, c.filter, c.conv, c.dst, n,
                                                      found, perf);
      },
      false, CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_GEMM, "forward");
  checkCudnn(cudnnSetConvolutionMathType(c.conv, CUDNN_FMA_MATH), "cudnnSetConvolutionMathType");
  checkCudnn(cudnnGetConvolutionForwardWorkspaceSize(handle, c.src, c.filter, c.conv, c.dst, c.algo,
                                                     &c.workspaceBytes),
             "cudnnGetConvolutionForwardWorkspaceSize");
}

void configureConvBackward(cudnnHandle_t handle, ConvObjects& c) {
  // Algorithm 1 of each is deterministic and supports every geometry.
  using DataPerf = cudnnConvolutionBwdDataAlgoPerf_t;
  using FilterPerf = cudnnConvolutionBwdFilterAlgoPerf_t;
  c.dataAlgo = chooseAlgorithm<DataPerf, CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT>(
      [&](int n, int* found, DataPerf* perf) {
        return cudnnFindConvolutionBackwardDataAlgorithm(handle, c.filter, c.dst, c.conv, c.src, n,
                                                         found, perf);
      },
      [&](int n, int* found, DataPerf* perf) {
        return cudnnGetConvolutionBackwardDataAlgorithm_v7(handle, c.filter, c.dst, c.conv, c.src,
                                                           n, found, perf);
      },
      true, CUDNN_CONVOLUTION_BWD_DATA_ALGO_1, "backward-data");
  c.filterAlgo = chooseAlgorithm<FilterPerf, CUDNN_CONVOLUTION_BWD_FILTER_ALGO_COUNT>(
      [&](int n, int* found, FilterPerf* perf) {
        return cudnnFindConvolutionBackwardFilterAlgorithm(handle, c.src, c.dst, c.conv, c.filter,
                                                           n, found, perf);
      },
      [&](int n, int* found, FilterPerf* perf) {
        return cudnnGetConvolutionBackwardFilterAlgorithm_v7(handle, c.src, c.dst, c.conv, c.filter,
                                                             n, found, perf);
      },
      true, CUDNN_CONVOLUTION_BWD_FILTER_ALGO_1, "backward-filter");
  size_t dataBytes = 0, filterBytes = 0;
  checkCudnn(cudnnGetConvolutionBackwardDataWorkspaceSize(handle, c.filter, c.dst, c.conv, c.src,
                                                          c.dataAlgo, &dataBytes),
             "cudnnGetConvolutionBackwardDataWorkspaceSize");
  checkCudnn(cudnnGetConvolutionBackwardFilterWorkspaceSize(handle, c.src, c.dst, c.conv, c.filter,
                                                            c.filterAlgo, &filterBytes),
             "cudnnGetConvolutionBackwardFilterWorkspaceSize");
  c.backwardWorkspaceBytes = std::max(dataBytes, filterBytes);
}

} // namespace podm::cuda
