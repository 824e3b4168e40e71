// The hand-chained cuDNN denoiser podm_bench_gpu_nn measures podm's CUDA `network` node against:
// the calls one would write directly, with the same arithmetic as podm's (fp32, FMA math, no TF32;
// each convolution's algorithm picked by the same rule) so that the ratio is the overhead of
// podm's node and executor, not a different kernel. Per layer one cuDNN call: a convolution
// followed by a ReLU is cudnnConvolutionBiasActivationForward into an activation buffer; the last
// convolution is cudnnConvolutionForward into the output, then one small kernel adds the bias and
// applies the residual (y = x - (conv + b)), where podm runs a bias pass and a residual pass. The
// activations ping-pong between two buffers of the widest layer; weights are uploaded once.
#include "bench/cuda/hand_cudnn.h"

#include <algorithm>
#include <cuda_runtime.h>
#include <cudnn.h>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace podm::bench::gpu {
namespace {

constexpr int kBlock = 256;
constexpr size_t kMaxWorkspaceBytes = size_t(1) << 30; // podm's limit (network_kernels.cpp)

int gridFor(int64_t n) {
  int64_t blocks = (n + kBlock - 1) / kBlock;
  return static_cast<int>(blocks < 1 ? 1 : blocks > 4096 ? 4096 : blocks);
}

void check(cudaError_t e, const char* what) {
  if (e != cudaSuccess)
    throw std::runtime_error(std::string("hand cudnn: ") + what + ": " + cudaGetErrorString(e));
}

void checkCudnn(cudnnStatus_t s, const char* what) {
  if (s != CUDNN_STATUS_SUCCESS)
    throw std::runtime_error(std::string("hand cudnn: ") + what + ": " + cudnnGetErrorString(s));
}

// y = x - act(y + b[c]) (residual) or y = act(y + b[c]), over channels x plane elements.
__global__ void biasResidual(float* y, const float* x, const float* b, bool relu, bool residual,
                             int64_t count, int64_t plane) {
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < count;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    float v = y[i] + b[i / plane];
    if (relu)
      v = fmaxf(v, 0.0f);
    y[i] = residual ? x[i] - v : v;
  }
}

struct Layer {
  HandConvLayer spec;
  cudnnTensorDescriptor_t src = nullptr, dst = nullptr, bias = nullptr;
  cudnnFilterDescriptor_t filter = nullptr;
  cudnnConvolutionDescriptor_t conv = nullptr;
  cudnnConvolutionFwdAlgo_t algo = CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_GEMM;
  size_t workspaceBytes = 0;
  float* deviceWeight = nullptr;
  float* deviceBias = nullptr;
};

// podm's rule (runtime/cuda/network_kernels.cpp, chooseAlgorithm): the fastest measured algorithm
// without tensor-core math and within the workspace limit, else the heuristic's first such, else
// implicit GEMM.
cudnnConvolutionFwdAlgo_t chooseAlgorithm(cudnnHandle_t handle, const Layer& l) {
  cudnnConvolutionFwdAlgoPerf_t perf[CUDNN_CONVOLUTION_FWD_ALGO_COUNT];
  int found = 0;
  auto usable = [](const cudnnConvolutionFwdAlgoPerf_t& p) {
    return p.status == CUDNN_STATUS_SUCCESS && p.memory <= kMaxWorkspaceBytes &&
           p.mathType != CUDNN_TENSOR_OP_MATH &&
           p.mathType != CUDNN_TENSOR_OP_MATH_ALLOW_CONVERSION;
  };
  checkCudnn(cudnnFindConvolutionForwardAlgorithm(handle, l.src, l.filter, l.conv, l.dst,
                                                  CUDNN_CONVOLUTION_FWD_ALGO_COUNT, &found, perf),
             "cudnnFindConvolutionForwardAlgorithm");
  for (int i = 0; i < found; ++i)
    if (usable(perf[i]))
      return perf[i].algo;
  checkCudnn(cudnnGetConvolutionForwardAlgorithm_v7(handle, l.src, l.filter, l.conv, l.dst,
                                                    CUDNN_CONVOLUTION_FWD_ALGO_COUNT, &found, perf),
             "cudnnGetConvolutionForwardAlgorithm_v7");
  for (int i = 0; i < found; ++i)
    if (usable(perf[i]))
      return perf[i].algo;
  return CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_GEMM;
}

void setTensor(cudnnTensorDescriptor_t d, int64_t c, int64_t h, int64_t w) {
  checkCudnn(
      cudnnSetTensor4dDescriptor(d, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, 1, int(c), int(h), int(w)),
      "cudnnSetTensor4dDescriptor");
}

} // namespace

struct HandDenoiserGpu::Impl {
  int64_t size = 0;
  bool residual = false;
  cudnnHandle_t handle = nullptr;
  cudnnActivationDescriptor_t relu = nullptr;
  std::vector<Layer> layers;
  float* image[2] = {nullptr, nullptr}; // the chain's input and output planes, swapped per stage
  float* act[2] = {nullptr, nullptr};   // activations of the widest layer
  void* workspace = nullptr;
  size_t workspaceBytes = 0;

  ~Impl() {
    for (Layer& l : layers) {
      for (cudnnTensorDescriptor_t d : {l.src, l.dst, l.bias})
        if (d)
          cudnnDestroyTensorDescriptor(d);
      if (l.filter)
        cudnnDestroyFilterDescriptor(l.filter);
      if (l.conv)
        cudnnDestroyConvolutionDescriptor(l.conv);
      cudaFree(l.deviceWeight);
      cudaFree(l.deviceBias);
    }
    for (float* p : {image[0], image[1], act[0], act[1]})
      cudaFree(p);
    cudaFree(workspace);
    if (relu)
      cudnnDestroyActivationDescriptor(relu);
    if (handle)
      cudnnDestroy(handle);
  }

  // One application of the network: in -> out (planes of `size` squared, layers[0].in channels).
  void apply(const float* in, float* out) {
    const float one = 1.0f, zero = 0.0f;
    const float* src = in;
    for (size_t i = 0; i < layers.size(); ++i) {
      const Layer& l = layers[i];
      const bool last = i + 1 == layers.size();
      float* dst = last ? out : act[i % 2];
      if (l.spec.relu && !last) {
        checkCudnn(cudnnConvolutionBiasActivationForward(handle, &one, l.src, src, l.filter,
                                                         l.deviceWeight, l.conv, l.algo, workspace,
                                                         workspaceBytes, &zero, l.dst, dst, l.bias,
                                                         l.deviceBias, relu, l.dst, dst),
                   "cudnnConvolutionBiasActivationForward");
      } else {
        checkCudnn(cudnnConvolutionForward(handle, &one, l.src, src, l.filter, l.deviceWeight,
                                           l.conv, l.algo, workspace, workspaceBytes, &zero, l.dst,
                                           dst),
                   "cudnnConvolutionForward");
        const int64_t count = l.spec.out * size * size;
        biasResidual<<<gridFor(count), kBlock>>>(dst, in, l.deviceBias, l.spec.relu,
                                                 last && residual, count, size * size);
        check(cudaGetLastError(), "biasResidual");
      }
      src = dst;
    }
  }
};

HandDenoiserGpu::HandDenoiserGpu(const std::vector<HandConvLayer>& specs, int64_t size,
                                 bool residual)
    : impl_(std::make_unique<Impl>()) {
  Impl& m = *impl_;
  if (specs.empty())
    throw std::invalid_argument("hand cudnn: no layers");
  if (residual && specs.back().out != specs.front().in)
    throw std::invalid_argument("hand cudnn: the residual needs as many output channels as input");
  m.size = size;
  m.residual = residual;
  checkCudnn(cudnnCreate(&m.handle), "cudnnCreate");
  checkCudnn(cudnnCreateActivationDescriptor(&m.relu), "cudnnCreateActivationDescriptor");
  checkCudnn(
      cudnnSetActivationDescriptor(m.relu, CUDNN_ACTIVATION_RELU, CUDNN_NOT_PROPAGATE_NAN, 0.0),
      "cudnnSetActivationDescriptor");
  const size_t plane = static_cast<size_t>(size * size) * sizeof(float);
  int64_t widest = 1;
  for (const HandConvLayer& s : specs)
    widest = std::max(widest, s.out);
  for (float*& p : m.image)
    check(cudaMalloc(&p, plane * static_cast<size_t>(specs.front().in)), "cudaMalloc image");
  for (float*& p : m.act) {
    check(cudaMalloc(&p, plane * static_cast<size_t>(widest)), "cudaMalloc activations");
    // cuDNN reads dst as z (scaled by 0) in the fused call: keep it finite, as podm does.
    check(cudaMemset(p, 0, plane * static_cast<size_t>(widest)), "cudaMemset activations");
  }
  for (const HandConvLayer& s : specs) {
    m.layers.push_back(Layer{});
    Layer& l = m.layers.back();
    l.spec = s;
    checkCudnn(cudnnCreateTensorDescriptor(&l.src), "cudnnCreateTensorDescriptor");
    checkCudnn(cudnnCreateTensorDescriptor(&l.dst), "cudnnCreateTensorDescriptor");
    checkCudnn(cudnnCreateTensorDescriptor(&l.bias), "cudnnCreateTensorDescriptor");
    checkCudnn(cudnnCreateFilterDescriptor(&l.filter), "cudnnCreateFilterDescriptor");
    checkCudnn(cudnnCreateConvolutionDescriptor(&l.conv), "cudnnCreateConvolutionDescriptor");
    setTensor(l.src, s.in, size, size);
    setTensor(l.dst, s.out, size, size);
    setTensor(l.bias, s.out, 1, 1);
    checkCudnn(cudnnSetFilter4dDescriptor(l.filter, CUDNN_DATA_FLOAT, CUDNN_TENSOR_NCHW, int(s.out),
                                          int(s.in), 3, 3),
               "cudnnSetFilter4dDescriptor");
    const int d = static_cast<int>(s.dilation); // 'same' padding of a 3x3 kernel dilated by d
    checkCudnn(cudnnSetConvolution2dDescriptor(l.conv, d, d, 1, 1, d, d, CUDNN_CROSS_CORRELATION,
                                               CUDNN_DATA_FLOAT),
               "cudnnSetConvolution2dDescriptor");
    checkCudnn(cudnnSetConvolutionMathType(l.conv, CUDNN_FMA_MATH), "cudnnSetConvolutionMathType");
    l.algo = chooseAlgorithm(m.handle, l);
    checkCudnn(cudnnSetConvolutionMathType(l.conv, CUDNN_FMA_MATH), "cudnnSetConvolutionMathType");
    checkCudnn(cudnnGetConvolutionForwardWorkspaceSize(m.handle, l.src, l.filter, l.conv, l.dst,
                                                       l.algo, &l.workspaceBytes),
               "cudnnGetConvolutionForwardWorkspaceSize");
    m.workspaceBytes = std::max(m.workspaceBytes, l.workspaceBytes);
    const size_t weightBytes = static_cast<size_t>(s.out * s.in * 9) * sizeof(float);
    const size_t biasBytes = static_cast<size_t>(s.out) * sizeof(float);
    check(cudaMalloc(&l.deviceWeight, weightBytes), "cudaMalloc weights");
    check(cudaMalloc(&l.deviceBias, biasBytes), "cudaMalloc bias");
    check(cudaMemcpy(l.deviceWeight, s.weight, weightBytes, cudaMemcpyHostToDevice), "weights");
    if (s.bias)
      check(cudaMemcpy(l.deviceBias, s.bias, biasBytes, cudaMemcpyHostToDevice), "bias");
    else
      check(cudaMemset(l.deviceBias, 0, biasBytes), "bias");
  }
  if (m.workspaceBytes > 0)
    check(cudaMalloc(&m.workspace, m.workspaceBytes), "cudaMalloc workspace");
}

HandDenoiserGpu::~HandDenoiserGpu() = default;

void HandDenoiserGpu::run(const float* x, float* y, int stages) {
  Impl& m = *impl_;
  const size_t bytes =
      static_cast<size_t>(m.size * m.size * m.layers.front().spec.in) * sizeof(float);
  check(cudaMemcpy(m.image[0], x, bytes, cudaMemcpyHostToDevice), "uploading x");
  float *cur = m.image[0], *next = m.image[1];
  for (int l = 0; l < stages; ++l) {
    m.apply(cur, next);
    std::swap(cur, next);
  }
  check(cudaMemcpy(y, cur, bytes, cudaMemcpyDeviceToHost), "downloading y");
}

std::string HandDenoiserGpu::algorithms() const {
  std::string s;
  for (const Layer& l : impl_->layers)
    s += (s.empty() ? "" : " ") + std::to_string(static_cast<int>(l.algo));
  return s;
}

} // namespace podm::bench::gpu
