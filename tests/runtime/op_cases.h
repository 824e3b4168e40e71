// One small graph per op of the op table, exercising its operand-type variants (tensor/scalar,
// f32/c64) and attribute variants, with generated inputs. The backend-consistency test runs each
// on every backend; adding an op to ops.def without a row here fails that test.
#pragma once

#include "ir/builder.h"
#include "runtime/ir_types.h"
#include "runtime/tensor.h"

#include <map>
#include <random>
#include <string>
#include <vector>

namespace podm::testing {

struct OpCase {
  ir::Graph graph;
  std::map<std::string, Tensor> inputs;
};

// Input value distributions: normal, positive (for sqrt, log), away from zero (denominators).
enum class Gen { Normal, Positive, NonZero };

class CaseBuilder {
public:
  explicit CaseBuilder(std::string name) : g_(std::move(name)), b_(g_), rng_(11) {}

  ir::Builder& b() { return b_; }
  ir::ValueId input(const ir::Type& type, Gen gen = Gen::Normal) {
    std::string name = "in" + std::to_string(inputs_.size());
    Tensor t(toShape(type), toDType(type.elem));
    const int64_t floats = t.numel() * (type.elem == ir::ElemType::C64 ? 2 : 1);
    std::normal_distribution<float> normal;
    std::uniform_real_distribution<float> mag(0.5f, 2.f);
    for (int64_t i = 0; i < floats; ++i) {
      float v = normal(rng_);
      if (gen == Gen::Positive)
        v = mag(rng_);
      else if (gen == Gen::NonZero)
        v = std::copysign(mag(rng_), v);
      t.data()[i] = v;
    }
    inputs_.emplace(name, t);
    return b_.input(name, type);
  }
  ir::ValueId real(ir::Dims d, Gen gen = Gen::Normal) { return input(ir::Type::real(d), gen); }
  ir::ValueId complex(ir::Dims d) { return input(ir::Type::complex(d)); }
  ir::ValueId scalar(Gen gen = Gen::Normal) { return input(ir::Type::scalar(), gen); }
  void out(ir::ValueId v) { b_.output("y" + std::to_string(outputs_++), v); }
  OpCase take() { return OpCase{std::move(g_), std::move(inputs_)}; }

private:
  ir::Graph g_;
  ir::Builder b_;
  std::mt19937 rng_;
  std::map<std::string, Tensor> inputs_;
  int outputs_ = 0;
};

using CaseFn = OpCase (*)();

// The table: every op that has kernels (not trait::NoKernel) maps to its case.
const std::map<ir::Op, CaseFn>& opCases();

} // namespace podm::testing
