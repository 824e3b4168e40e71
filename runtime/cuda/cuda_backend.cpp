// The CUDA backend: device memory, kernel preparation and launch, and the factory.
#include "runtime/cuda/cuda_backend.h"

#include "ir/builder.h"
#include "runtime/backend_factory.h"

#include <algorithm>
#include <cuda_runtime.h>
#include <stdexcept>
#include <vector>

namespace podm::cuda {

void checkCuda(cudaError_t status, const char* what) {
  if (status != cudaSuccess)
    throw std::runtime_error(std::string("cuda: ") + what + ": " + cudaGetErrorString(status));
}

DeviceBuffer::DeviceBuffer(Backend& backend, size_t bytes)
    : backend_(&backend), ptr_(backend.allocate(bytes)) {
}

DeviceBuffer::~DeviceBuffer() {
  if (ptr_.raw)
    backend_->deallocate(ptr_);
}

DeviceBuffer::DeviceBuffer(DeviceBuffer&& other) noexcept
    : backend_(other.backend_), ptr_(other.ptr_) {
  other.ptr_ = DevicePtr{};
}

DeviceBuffer& DeviceBuffer::operator=(DeviceBuffer&& other) noexcept {
  if (this != &other) {
    if (ptr_.raw)
      backend_->deallocate(ptr_);
    backend_ = other.backend_;
    ptr_ = other.ptr_;
    other.ptr_ = DevicePtr{};
  }
  return *this;
}

LaunchArgs launchArgs(const CudaKernel& k, const KernelIO& io) {
  LaunchArgs args;
  args.arity = k.arity;
  for (int i = 0; i < k.arity; ++i)
    args.in[i] = io.inputs[i].raw;
  args.out = io.output.raw;
  args.more_outs = static_cast<int>(std::min<size_t>(io.moreOutputs.size(), kMaxOperands));
  for (int i = 0; i < args.more_outs; ++i)
    args.more_out[i] = io.moreOutputs[i].raw;
  args.n = k.n;
  args.p0 = k.p0;
  args.p1 = k.p1;
  args.stage = io.stage;
  if (k.state)
    k.state->bind(args);
  return args;
}

CudaBackend::CudaBackend() {
  registerCudaKernels(table_);
  checkCuda(cudaSetDevice(0), "cudaSetDevice");
}

bool CudaBackend::available(std::string* why) {
  int count = 0;
  cudaError_t e = cudaGetDeviceCount(&count);
  if (e != cudaSuccess || count == 0) {
    if (why)
      *why = std::string("no CUDA device visible (cudaGetDeviceCount: ") +
             (e != cudaSuccess ? cudaGetErrorString(e) : "0 devices") + ")";
    cudaGetLastError(); // clear the sticky error state of the runtime
    return false;
  }
  return true;
}

// Probing: the builder with no allocator (it allocates nothing) and the executor's providers.
bool CudaBackend::supports(const ir::Graph& g, ir::ValueId v, const PrepareContext& context) const {
  const CudaKernelBuilder* build = table_.find(g.node(v).op);
  return build && (*build)(CudaBuildContext{g, v, nullptr, &context}).launch != nullptr;
}

std::string CudaBackend::unsupportedReason(const ir::Graph& g, ir::ValueId v,
                                           const PrepareContext& context) const {
  if (supports(g, v, context))
    return "";
  const ir::Op op = g.node(v).op;
  const std::string& pending = table_.pendingReason(op);
  if (const CudaKernelBuilder* build = table_.find(op)) {
    const std::string why = (*build)(CudaBuildContext{g, v, nullptr, &context}).unsupported;
    return "has no kernel for " + std::string(ir::opName(op)) +
           (why.empty() ? " on these operand types" : " (" + why + ")");
  }
  return "has no kernel for " + std::string(ir::opName(op)) +
         (pending.empty() ? "" : " (" + pending + ")");
}

std::unique_ptr<BackendProgram> CudaBackend::prepare(const ir::Graph& g,
                                                     std::span<const ir::ValueId> nodes,
                                                     const PrepareContext& context) {
  auto program = std::make_unique<CudaProgram>();
  for (ir::ValueId v : nodes) {
    const CudaKernelBuilder* build = table_.find(g.node(v).op);
    if (g.node(v).operands.size() > static_cast<size_t>(kMaxOperands))
      throw std::runtime_error(ir::describeNode(v.index, g.node(v).op, g.node(v).label) +
                               ": cuda launches take at most " + std::to_string(kMaxOperands) +
                               " operands");
    CudaKernel k = build ? (*build)(CudaBuildContext{g, v, this, &context}) : CudaKernel{};
    k.arity = static_cast<int>(g.node(v).operands.size());
    const bool launchable = k.launch != nullptr;
    program->kernels.push_back(std::move(k));
    if (!launchable)
      throw std::runtime_error(ir::describeNode(v.index, g.node(v).op, g.node(v).label) +
                               ": cuda " + unsupportedReason(g, v, context));
  }
  return program;
}

void CudaBackend::execute(BackendProgram& program, size_t index, const KernelIO& io) {
  const CudaKernel& k = static_cast<CudaProgram&>(program).kernels[index];
  k.launch(launchArgs(k, io));
}

DevicePtr CudaBackend::allocate(size_t bytes) {
  void* p = nullptr;
  checkCuda(cudaMalloc(&p, bytes == 0 ? 256 : bytes), "cudaMalloc");
  return DevicePtr{p};
}

void CudaBackend::deallocate(DevicePtr p) {
  cudaFree(p.raw);
}

void CudaBackend::upload(DevicePtr dst, const void* src, size_t bytes) {
  checkCuda(cudaMemcpy(dst.raw, src, bytes, cudaMemcpyHostToDevice), "upload");
}

void CudaBackend::download(void* dst, DevicePtr src, size_t bytes) {
  checkCuda(cudaMemcpy(dst, src.raw, bytes, cudaMemcpyDeviceToHost), "download");
}

void CudaBackend::copy(DevicePtr dst, DevicePtr src, size_t bytes) {
  checkCuda(cudaMemcpy(dst.raw, src.raw, bytes, cudaMemcpyDeviceToDevice), "copy");
}

void CudaBackend::synchronize() {
  checkCuda(cudaDeviceSynchronize(), "synchronize");
}

std::unique_ptr<NetworkTrainer> CudaBackend::makeNetworkTrainer(const std::vector<NetLayer>& layers,
                                                                int64_t inChannels, bool residual,
                                                                std::string* whyNot) {
  return makeCudnnTrainer(*this, layers, inChannels, residual, whyNot);
}

} // namespace podm::cuda

namespace podm::cuda {

std::unique_ptr<Backend> openCudaBackend(std::string* whyNot) {
  if (!CudaBackend::available(whyNot))
    return nullptr;
  try {
    return std::make_unique<CudaBackend>();
  } catch (const std::exception& e) {
    if (whyNot)
      *whyNot = e.what();
    return nullptr;
  }
}

} // namespace podm::cuda

namespace podm {

std::unique_ptr<Backend> makeCudaBackend(std::string* whyNot) {
  return cuda::openCudaBackend(whyNot);
}

bool cudaCompiledIn() {
  return true;
}

} // namespace podm
