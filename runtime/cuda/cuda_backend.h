// The CUDA backend: device memory through cudaMalloc and a kernel for every op, one family per
// file pair (<family>_kernels.cpp: builders and table lines; <family>.cu: the kernels; cuFFT,
// cuBLAS and cuDNN where they are the fast path). A node a builder declines (a user's host-only
// prox plugin, a program too large for the fused interpreter) runs on the CPU fallback, which the
// executor reports. Work goes to the default stream in order; copies to and from the host are
// synchronous.
#pragma once

#include "runtime/backend.h"
#include "runtime/cuda/cuda_kernels.h"
#include "runtime/kernel_table.h"

#include <memory>
#include <vector>

namespace podm::cuda {

// Device memory owned by one node, returned to the backend that allocated it when the owner goes.
class DeviceBuffer {
public:
  DeviceBuffer() = default;
  DeviceBuffer(Backend& backend, size_t bytes);
  ~DeviceBuffer();
  DeviceBuffer(DeviceBuffer&& other) noexcept;
  DeviceBuffer& operator=(DeviceBuffer&& other) noexcept;
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;

  void* get() const { return ptr_.raw; }
  DevicePtr ptr() const { return ptr_; }
  explicit operator bool() const { return ptr_.raw != nullptr; }

private:
  Backend* backend_ = nullptr;
  DevicePtr ptr_;
};

// What a prepared node owns beyond its launch parameters: device buffers (reduction partials,
// schedule tables) now, cuFFT plans and cuDNN descriptors as those ops arrive. A builder creates
// it at prepare time, the node's kernel record owns it, and its destructor releases what it holds,
// so the program needs no list of resource kinds to free.
//
// Plans and descriptors (cuFFT, cuDNN) are made on the first launch, not in the builder: builders
// also run on hosts without a GPU (probing support, tests/runtime/cuda_state_test.cpp).
class NodeState {
public:
  virtual ~NodeState() = default;
  // Points a launch at what the state holds (its workspace, its table); by default the launch gets
  // the state itself in args.state and casts it back to the type its builder made.
  virtual void bind(LaunchArgs& args) const { args.state = this; }
};

// A prepared node: the launch chosen for its operand classes and what it owns.
struct CudaKernel {
  Launch launch = nullptr;
  int arity = 0; // operands passed to the launch (at most kMaxOperands)
  int64_t n = 0;
  float p0 = 0, p1 = 0;
  std::unique_ptr<NodeState> state; // nullptr when the launch needs nothing more
  // Why launch is nullptr, when the builder knows more than "these operand types" (the executor's
  // fallback note says it).
  std::string unsupported;
};

// The kernels prepared for one executor, in execute() order; destroying the program releases
// every node's state.
struct CudaProgram : BackendProgram {
  std::vector<CudaKernel> kernels;
};

// The arguments of kernel `k` for one execution: the node's buffers, its parameters and state.
LaunchArgs launchArgs(const CudaKernel& k, const KernelIO& io);

struct CudaBuildContext {
  const ir::Graph& graph;
  ir::ValueId id;
  // Where node state lives; nullptr when only probing support: builders then allocate nothing.
  Backend* allocator;
  // The prox and network providers of the executor, also when probing (Backend::supports);
  // nullptr means the process defaults.
  const PrepareContext* context = nullptr;

  const ir::Node& node() const { return graph.node(id); }
  const ir::Type& operand(size_t i) const { return graph.type(node().operands[i]); }
  const ir::Type& result() const { return node().type; }
};

// Returns a kernel with launch == nullptr when the operand types have no kernel.
using CudaKernelBuilder = CudaKernel (*)(const CudaBuildContext& context);
using CudaKernelTable = KernelTable<CudaKernelBuilder>;

// One line per op (kernel_table.cpp); the ops of larger families register from their own files.
void registerCudaKernels(CudaKernelTable& table);
void registerSpectralKernels(CudaKernelTable& table);   // cuFFT, spectra, min/max, ssim
void registerLocalLinopKernels(CudaKernelTable& table); // conv, pad, sampling, masks, fd, Haar
void registerTransformKernels(CudaKernelTable& table);  // bicubic, DCT, DCT filter banks
void registerProxKernels(CudaKernelTable& table);       // the stdlib's built-in prox functions
void registerFusedKernels(CudaKernelTable& table);      // fused elementwise programs
void registerLearnableKernels(CudaKernelTable& table);  // learnable parameters, filter banks
void registerNetworkKernels(CudaKernelTable& table);    // networks on cuDNN

class CudaBackend final : public Backend {
public:
  CudaBackend();

  // Whether a CUDA device is visible; never throws. *why gets the reason when not.
  static bool available(std::string* why = nullptr);

  std::string name() const override { return "cuda"; }
  bool supports(const ir::Graph& g, ir::ValueId v, const PrepareContext& context) const override;
  std::string unsupportedReason(const ir::Graph& g, ir::ValueId v,
                                const PrepareContext& context) const override;
  std::unique_ptr<BackendProgram> prepare(const ir::Graph& g, std::span<const ir::ValueId> nodes,
                                          const PrepareContext& context) override;
  void execute(BackendProgram& program, size_t index, const KernelIO& io) override;

  bool hostAddressable() const override { return false; }
  DevicePtr allocate(size_t bytes) override;
  void deallocate(DevicePtr p) override;
  void upload(DevicePtr dst, const void* src, size_t bytes) override;
  void download(void* dst, DevicePtr src, size_t bytes) override;
  void copy(DevicePtr dst, DevicePtr src, size_t bytes) override;
  void synchronize() override;
  // Networks trained on cuDNN (network_training.cpp).
  std::unique_ptr<NetworkTrainer> makeNetworkTrainer(const std::vector<NetLayer>& layers,
                                                     int64_t inChannels, bool residual,
                                                     std::string* whyNot) override;

  const CudaKernelTable& table() const { return table_; }

private:
  CudaKernelTable table_;
};

// The trainer behind CudaBackend::makeNetworkTrainer: nullptr with *whyNot for a layer without a
// backward pass (upsampling, input concatenation) or a negative activation alpha. Device memory
// comes from `memory`, which must outlive the trainer.
std::unique_ptr<NetworkTrainer> makeCudnnTrainer(Backend& memory,
                                                 const std::vector<NetLayer>& layers,
                                                 int64_t inChannels, bool residual,
                                                 std::string* whyNot);

// The backend when a GPU is visible, else nullptr with *whyNot saying why. makeCudaBackend
// (backend_factory.h) for programs that link this library; the module entry of libpodm_cuda.so
// calls this one by name, since in the podm executable makeCudaBackend is the module loader.
std::unique_ptr<Backend> openCudaBackend(std::string* whyNot);

} // namespace podm::cuda
