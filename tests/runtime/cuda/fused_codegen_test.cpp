// The fused programs compiled at run time (runtime/cuda/fused_codegen.h, fused_nvrtc.h), on the
// host: the generated kernel has one call of the interpreter's own functions per instruction,
// literals as their exact bits, and NVRTC compiles it (for sm_80 and sm_90; NVRTC needs no GPU)
// with the headers embedded at build time. That the compiled kernels compute what the CPU does
// is checked on a GPU: scripts/gpu-check.sh runs the consistency table again with
// PODM_CUDA_FUSED=nvrtc.
#include "ir/fused_program.h"
#include "runtime/cuda/fused_codegen.h"
#include "runtime/cuda/fused_nvrtc.h"

#include <cstdlib>
#include <doctest/doctest.h>
#include <string>

using namespace podm::cuda::fused;

namespace {

EncodedProgram encoded(const std::string& program, const std::vector<bool>& scalar) {
  std::string why;
  auto e = encodeProgram(podm::ir::parseFusedProgram(program, scalar.size()), scalar, &why);
  INFO(why);
  REQUIRE(e);
  return *e;
}

size_t occurrences(const std::string& text, const std::string& what) {
  size_t count = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1))
    ++count;
  return count;
}

} // namespace

TEST_CASE("fused codegen: one interpreter call per instruction, and NVRTC compiles it") {
  struct Case {
    std::string program;
    std::vector<bool> scalar;
  };
  const Case cases[] = {
      {"t0 = sub(in0, in1); t1 = mul(0.5, t0); t2 = fma(in2, t1, in0); t3 = clamp(t2, -1, 1); "
       "axpby(in2, t3, in2, in1)",
       {false, false, true}},
      {"t0 = div(in0, in2); t1 = max(t0, in1); t2 = min(t1, 0.75); t3 = neg(t2); "
       "t4 = sign(in1); t5 = mul(t4, t3); t6 = abs(in0); t7 = add(t6, 0.5); t8 = sqrt(t7); "
       "t9 = log(t8); t10 = exp(t5); t11 = sub(t10, t9); axpby(in3, t11, 0.25, t8)",
       {false, false, true, true}},
      {"t0 = add(in1, in2); t1 = mul(in3, t0); t2 = sub(in0, t1); t3 = sign(t2); t4 = abs(t2); "
       "t5 = sub(t4, in4); t6 = max(t5, 0); t7 = mul(t3, t6); t8 = sub(t7, in5); "
       "t9 = fma(in6, t8, t7); t10 = norm2sq(t8); t11 = norm2sq(t7); t12 = abs(t7); "
       "t13 = sum(t12); return t7, t9, t10, t11, t13",
       {false, false, false, true, true, false, true}},
      {"t0 = sub(in0, in1); t1 = dot(t0, in1); t2 = mul(t0, t0); t3 = maxabs(t2); "
       "t4 = add(t2, t0); return t2, t1, t4, t3",
       {false, false}},
      {"t0 = mul(in0, in1); t1 = abs(t0); t2 = add(t1, 2); t3 = sqrt(t2); sub(t3, in0)",
       {true, true}},
  };
  for (const Case& c : cases) {
    INFO(c.program);
    const EncodedProgram e = encoded(c.program, c.scalar);
    const std::string source = kernelSource(e);
    INFO(source);
    CHECK(occurrences(source, "pf::evaluate(") + occurrences(source, "pf::term(") == e.code.size());
    CHECK(occurrences(source, "pf::blockCombine(") == size_t(e.accumulators));
    for (int arch : {80, 90}) {
      std::vector<char> cubin;
      CHECK_NOTHROW(cubin = compileKernel(source, arch));
      CHECK(cubin.size() > 100);
    }
  }
}

TEST_CASE("fused codegen: literals keep their exact bits, scalars broadcast, tensors index") {
  const std::string source =
      kernelSource(encoded("t0 = mul(in0, 0.1); t1 = add(t0, in1); sub(t1, -3.5)", {false, true}));
  // 0.1f = 0x3dcccccd = 1036831949, -3.5f = 0xc0600000 = -1067450368 as int32.
  CHECK(source.find("__int_as_float(1036831949)") != std::string::npos);
  CHECK(source.find("__int_as_float(-1067450368)") != std::string::npos);
  CHECK(source.find("b.in[0][i]") != std::string::npos);
  CHECK(source.find("b.in[1][0]") != std::string::npos);
  CHECK(source.find("b.result[0][i] = t") != std::string::npos);
}

TEST_CASE("fused codegen: a source that does not compile throws with NVRTC's log") {
  CHECK_THROWS_WITH_AS(compileKernel("extern \"C\" __global__ void k() { undeclared(); }", 90),
                       doctest::Contains("undeclared"), std::runtime_error);
}

TEST_CASE("fused codegen: PODM_CUDA_FUSED selects the compiled kernels") {
  const char* before = std::getenv("PODM_CUDA_FUSED");
  const std::string saved = before ? before : "";
  unsetenv("PODM_CUDA_FUSED");
  CHECK_FALSE(compiledProgramsWanted());
  setenv("PODM_CUDA_FUSED", "nvrtc", 1);
  CHECK(compiledProgramsWanted());
  setenv("PODM_CUDA_FUSED", "interpreter", 1);
  CHECK_FALSE(compiledProgramsWanted());
  if (before)
    setenv("PODM_CUDA_FUSED", saved.c_str(), 1);
  else
    unsetenv("PODM_CUDA_FUSED");
}
