// The backward rules and the tape on the CUDA backend, against the CPU. Every row of the
// gradient-check table (rule_rows.h, the rows rule_check_test.cpp checks by finite differences on
// the CPU) is evaluated by both backends on the same random operands and result cotangent: the
// op's result and every operand cotangent must agree to 1e-4 relative. Then the tape
// differentiates the unrolled deblurring model of four solvers on both backends, and the
// outputs and the gradients of the loss with respect to the observation must agree as well.
//
// OpRunner and the tape keep their values in host tensors (tape.h), so they reach the GPU through
// a staging adapter: each node's operands are uploaded, the CUDA kernel runs on device copies,
// the result comes back. Nodes CUDA has no kernel for run on the CPU, and the test says which ran
// where. Without a GPU (or without CUDA in the build) both cases say why and return.
#include "gradcheck.h"
#include "rule_rows.h"
#include "runtime/autodiff/tape.h"
#include "runtime/backend_factory.h"
#include "runtime/cpu/cpu_backend.h"
#include "tests/compiler/lower/lower_helpers.h"

#include <cmath>
#include <cstring>
#include <doctest/doctest.h>
#include <limits>
#include <map>
#include <sstream>
#include <stdexcept>

using namespace podm;
using namespace podm::testing;
using autodiff::Tape;
using autodiff::TapeOptions;

namespace {

constexpr double kTolerance = 1e-4;

// Host-addressable on the outside, a device backend's kernels inside: every node the device
// supports runs there on device copies of its operands (uploaded before, the result downloaded
// after; the device result is filled with NaN first, so a kernel that leaves part of its result
// unwritten shows up as a difference); the others run on the host backend.
class StagedBackend final : public Backend {
public:
  StagedBackend(Backend& device, Backend& host) : device_(device), host_(host) {}

  std::string name() const override { return device_.name() + " (staged)"; }
  bool supports(const ir::Graph& g, ir::ValueId v, const PrepareContext& context) const override {
    return device_.supports(g, v, context) || host_.supports(g, v, context);
  }
  std::string unsupportedReason(const ir::Graph& g, ir::ValueId v,
                                const PrepareContext& context) const override {
    return supports(g, v, context) ? "" : host_.unsupportedReason(g, v, context);
  }

  std::unique_ptr<BackendProgram> prepare(const ir::Graph& g, std::span<const ir::ValueId> nodes,
                                          const PrepareContext& context) override {
    auto program = std::make_unique<Program>(device_);
    std::vector<ir::ValueId> onDevice, onHost;
    for (ir::ValueId v : nodes) {
      Node n;
      n.op = std::string(ir::opName(g.node(v).op));
      n.onDevice = device_.supports(g, v, context);
      n.index = n.onDevice ? onDevice.size() : onHost.size();
      (n.onDevice ? onDevice : onHost).push_back(v);
      if (n.onDevice) {
        for (ir::ValueId operand : g.node(v).operands)
          n.operands.push_back(program->deviceCopy(g.type(operand).bytes()));
        n.result = program->deviceCopy(g.node(v).type.bytes());
      }
      program->nodes.push_back(std::move(n));
    }
    if (!onDevice.empty())
      program->device = device_.prepare(g, onDevice, context);
    if (!onHost.empty())
      program->host = host_.prepare(g, onHost, context);
    return program;
  }

  void execute(BackendProgram& program, size_t index, const KernelIO& io) override {
    auto& p = static_cast<Program&>(program);
    const Node& n = p.nodes[index];
    if (!io.moreOutputs.empty())
      throw std::logic_error("staged backend: nodes with several results are not staged");
    if (!n.onDevice) {
      host_.execute(*p.host, n.index, io);
      ++ranOnHost[n.op];
      return;
    }
    std::vector<DevicePtr> inputs;
    for (size_t i = 0; i < n.operands.size(); ++i) {
      device_.upload(n.operands[i].ptr, io.inputs[i].raw, n.operands[i].bytes);
      inputs.push_back(n.operands[i].ptr);
    }
    const std::vector<unsigned char> poison(n.result.bytes, 0xff); // all-ones floats are NaN
    device_.upload(n.result.ptr, poison.data(), n.result.bytes);
    device_.execute(*p.device, n.index, KernelIO{inputs.data(), n.result.ptr, io.stage});
    device_.download(io.output.raw, n.result.ptr, n.result.bytes);
    ++ranOnDevice[n.op];
  }

  bool hostAddressable() const override { return true; }
  DevicePtr allocate(size_t bytes) override { return host_.allocate(bytes); }
  void deallocate(DevicePtr p) override { host_.deallocate(p); }
  void upload(DevicePtr dst, const void* src, size_t bytes) override {
    host_.upload(dst, src, bytes);
  }
  void download(void* dst, DevicePtr src, size_t bytes) override {
    host_.download(dst, src, bytes);
  }
  void copy(DevicePtr dst, DevicePtr src, size_t bytes) override { host_.copy(dst, src, bytes); }
  void synchronize() override { device_.synchronize(); }

  // Executions per op name, on each side.
  std::map<std::string, int64_t> ranOnDevice, ranOnHost;

private:
  struct Buffer {
    DevicePtr ptr;
    size_t bytes = 0;
  };
  struct Node {
    std::string op;
    bool onDevice = false;
    size_t index = 0; // in the device or the host program
    std::vector<Buffer> operands;
    Buffer result;
  };
  // The device's node state goes before the device copies, and both before the backends.
  struct Program final : BackendProgram {
    explicit Program(Backend& d) : deviceMemory(d) {}
    ~Program() override {
      device.reset();
      host.reset();
      for (DevicePtr p : owned)
        deviceMemory.deallocate(p);
    }
    Buffer deviceCopy(size_t bytes) {
      owned.push_back(deviceMemory.allocate(bytes));
      return Buffer{owned.back(), bytes};
    }
    Backend& deviceMemory;
    std::vector<DevicePtr> owned;
    std::vector<Node> nodes;
    std::unique_ptr<BackendProgram> device, host;
  };

  Backend& device_;
  Backend& host_;
};

// max |got - want| over the largest |want| (at least 0.01, so a cotangent that cancels to almost
// zero is held to 1e-6 absolute); infinite when got is not finite.
double relativeDifference(const float* got, const float* want, int64_t count) {
  double diff = 0, scale = 1e-2;
  for (int64_t i = 0; i < count; ++i) {
    if (!std::isfinite(got[i]))
      return std::numeric_limits<double>::infinity();
    diff = std::max(diff, std::fabs(static_cast<double>(got[i]) - want[i]));
    scale = std::max(scale, std::fabs(static_cast<double>(want[i])));
  }
  return diff / scale;
}

// Infinite as well when the shapes or element types differ, so every row is still compared.
double relativeDifference(const Tensor& got, const Tensor& want) {
  if (!(got.shape() == want.shape()) || got.dtype() != want.dtype())
    return std::numeric_limits<double>::infinity();
  return relativeDifference(got.data(), want.data(),
                            got.numel() * (got.dtype() == DType::F32 ? 1 : 2));
}

double relativeDifference(const Value& got, const Value& want) {
  return relativeDifference(got.tensor, want.tensor);
}

std::unique_ptr<Backend> cudaOrSkip() {
  std::string why;
  std::unique_ptr<Backend> cuda = makeCudaBackend(&why);
  if (!cuda)
    MESSAGE("cuda autodiff checks skipped: " << why);
  return cuda;
}

// "add 12, mul 30" for the MESSAGE that says where the ops ran.
std::string counts(const std::map<std::string, int64_t>& ran) {
  std::ostringstream s;
  for (const auto& [op, n] : ran)
    s << (s.tellp() > 0 ? ", " : "") << op << ' ' << n;
  return ran.empty() ? "none" : s.str();
}

} // namespace

TEST_CASE("cuda: every backward rule gives the CPU's cotangents (the gradient-check table)") {
  std::unique_ptr<Backend> cuda = cudaOrSkip();
  if (!cuda)
    return;
  cpu::CpuBackend cpu;
  StagedBackend staged(*cuda, cpu);
  std::mt19937 rng(20181203);
  // A row whose kernels throw (a CUDA error) is reported and the next row still runs.
  auto checkRow = [&](const Row& row) {
    FakeNetworkProvider networks{{0.7f}};
    PrepareContext context;
    context.prox = &engine::installStdlibProxProvider();
    context.network = &networks;
    OpRunner onCpu(cpu, context), onCuda(staged, context);
    const int64_t stage = stageOf(row);
    const std::vector<Value> x = drawOperands(row, rng);
    const Value yCpu = onCpu.run(row.op, x, row.attrs, stage);
    const Value w = randomValue(yCpu.type, rng);
    const Value yCuda = onCuda.run(row.op, x, row.attrs, stage);
    CHECK_MESSAGE(relativeDifference(yCuda, yCpu) <= kTolerance,
                  "result differs by " << relativeDifference(yCuda, yCpu));
    const std::vector<uint8_t> wants = wantsOf(row);
    const std::vector<Value> dCpu = applyRule(row, onCpu, context, x, yCpu, w, wants);
    const std::vector<Value> dCuda = applyRule(row, onCuda, context, x, yCuda, w, wants);
    for (size_t i = 0; i < x.size(); ++i) {
      if (!wants[i])
        continue;
      INFO("operand " << i);
      CHECK(dCuda[i].tensor.empty() == dCpu[i].tensor.empty());
      if (dCpu[i].tensor.empty() || dCuda[i].tensor.empty())
        continue;
      const double diff = relativeDifference(dCuda[i], dCpu[i]);
      CHECK_MESSAGE(diff <= kTolerance, "cotangent differs by " << diff);
    }
  };
  for (const Row& row : gradientCheckRows()) {
    INFO(rowName(row));
    try {
      checkRow(row);
    } catch (const std::exception& e) {
      FAIL_CHECK(e.what());
    }
  }
  MESSAGE("rule checks ran natively on cuda: "
          << counts(staged.ranOnDevice) << "; fell back to the cpu: " << counts(staged.ranOnHost));
  CHECK(!staged.ranOnDevice.empty());
}

TEST_CASE("cuda: the tape's gradients through unrolled stages match the CPU's") {
  std::unique_ptr<Backend> cuda = cudaOrSkip();
  if (!cuda)
    return;
  cpu::CpuBackend cpu;
  StagedBackend staged(*cuda, cpu);
  std::mt19937 rng(17);
  const int64_t sizes[][2] = {{12, 10}, {64, 56}};
  for (const auto& size : sizes)
    for (const std::string solver : {"proxgrad", "fista", "relaxed", "podm"}) {
      const int64_t h = size[0], w = size[1];
      INFO(solver << " on " << h << "x" << w);
      auto lowered = lowerText(unrolledModel(solver, solver == "relaxed" || solver == "podm"
                                                         ? "d(x, a) = mu / 2 * || x - a ||^2\n"
                                                         : ""),
                               {{"o", {h, w}}, {"k", {5, 5}}});
      const std::map<std::string, Tensor> inputs{{"o", randomImage(h, w, rng, 0.4f, 1.f)},
                                                 {"k", randomKernel(5, rng)}};
      TapeOptions options;
      options.prox = &engine::installStdlibProxProvider();
      options.noGradient = {"k"};
      Tape onCpu(lowered.graph, cpu, options), onCuda(lowered.graph, staged, options);
      const std::string out = lowered.graph.outputs()[0].name;
      const RunResult want = onCpu.forward(inputs), got = onCuda.forward(inputs);
      CHECK(got.stages == want.stages);
      const Tensor& x = want.outputs.at(out);
      CHECK(relativeDifference(got.outputs.at(out), x) <= kTolerance);
      // d ||x - ref||^2 / dx, the same cotangent for both.
      const Tensor ref = randomImage(h, w, rng).reshaped(x.shape());
      Tensor cotangent(x.shape());
      for (int64_t i = 0; i < x.numel(); ++i)
        cotangent.data()[i] = 2.f * (x.data()[i] - ref.data()[i]);
      const Tensor gCpu = onCpu.backward({{out, cotangent}}).at("o");
      const Tensor gCuda = onCuda.backward({{out, cotangent}}).at("o");
      const double diff = relativeDifference(gCuda, gCpu);
      CHECK_MESSAGE(diff <= kTolerance, "gradient with respect to o differs by " << diff);
    }
  MESSAGE("tape ops ran natively on cuda: "
          << counts(staged.ranOnDevice) << "; fell back to the cpu: " << counts(staged.ranOnHost));
}
