// The per-op graphs of the backend-consistency table (op_cases.h).
#include "op_cases.h"

namespace podm::testing {
namespace {

using ir::Op;
using ir::ValueId;
const ir::Dims kD{1, 2, 8, 8};    // two planes, so plane loops are exercised
const ir::Dims kSpec{1, 2, 8, 5}; // rfft2 of kD
const ir::Dims kKernel{1, 1, 3, 3};

ir::Attrs str(const char* name, const char* value) {
  return {{name, std::string(value)}};
}

// op on every pairing of f32 tensor / scalar (and c64 pairings when complex), one output each.
OpCase binary(Op op, bool complex, bool mixed, Gen gen = Gen::Normal) {
  CaseBuilder c(std::string(ir::opName(op)));
  ValueId r = c.real(kD), r2 = c.real(kD, gen), s = c.scalar(), s2 = c.scalar(gen);
  c.out(c.b().op(op, {r, r2}));
  c.out(c.b().op(op, {r, s2}));
  c.out(c.b().op(op, {s, r2}));
  c.out(c.b().op(op, {s, s2}));
  if (complex) {
    ValueId z = c.complex(kSpec), z2 = c.complex(kSpec);
    ValueId rs = c.real(kSpec, gen);
    c.out(c.b().op(op, {z, z2}));
    c.out(c.b().op(op, {z, s2}));
    c.out(c.b().op(op, {s, z2}));
    if (mixed) {
      c.out(c.b().op(op, {z, rs}));
      c.out(c.b().op(op, {c.real(kSpec), z2}));
    }
  }
  return c.take();
}

OpCase unary(Op op, bool real, bool complex, Gen gen = Gen::Normal, ir::Attrs attrs = {}) {
  CaseBuilder c(std::string(ir::opName(op)));
  if (real) {
    c.out(c.b().op(op, {c.real(kD, gen)}, attrs));
    c.out(c.b().op(op, {c.scalar(gen)}, attrs));
  }
  if (complex)
    c.out(c.b().op(op, {c.complex(kSpec)}, attrs));
  return c.take();
}

OpCase plane(Op op, ir::Dims in, ir::Attrs attrs) {
  CaseBuilder c(std::string(ir::opName(op)));
  c.out(c.b().op(op, {c.real(in)}, attrs));
  return c.take();
}

// pad2d or its adjoint in every mode, with sides of four different widths.
OpCase pad(Op op, const ir::Dims& dims) {
  CaseBuilder c(std::string(ir::opName(op)));
  ValueId x = c.real(dims);
  for (const char* mode : {"zero", "replicate", "smooth"})
    c.out(c.b().op(op, {x},
                   {{"top", int64_t{2}},
                    {"left", int64_t{1}},
                    {"bottom", int64_t{3}},
                    {"right", int64_t{4}},
                    {"mode", std::string(mode)}}));
  return c.take();
}

OpCase conv(Op op) {
  CaseBuilder c(std::string(ir::opName(op)));
  ValueId x = c.real(kD), k = c.real(kKernel);
  for (const char* boundary : {"zero", "periodic", "symmetric"})
    c.out(c.b().op(op, {x, k}, str("boundary", boundary)));
  // A constant kernel is planned at prepare time.
  ValueId ck = c.b().constant(ir::Type::real({1, 1, 3, 5}),
                              {1, 2, 3, 4, 5, 0, 1, 0, 1, 0, -1, -2, -3, -4, -5});
  c.out(c.b().op(op, {x, ck}, str("boundary", "symmetric")));
  return c.take();
}

OpCase resize(Op op, bool adjoint) {
  CaseBuilder c(std::string(ir::opName(op)));
  // Forward 8x8 -> 4x4 (scale 0.5, antialiased) and 8x8 -> 16x16 (scale 2).
  ir::Attrs down{{"scale", 0.5}, {"h", int64_t{adjoint ? 8 : 4}}, {"w", int64_t{adjoint ? 8 : 4}}};
  ir::Attrs up{{"scale", 2.0}, {"h", int64_t{adjoint ? 8 : 16}}, {"w", int64_t{adjoint ? 8 : 16}}};
  c.out(c.b().op(op, {c.real(adjoint ? ir::Dims{1, 2, 4, 4} : kD)}, down));
  c.out(c.b().op(op, {c.real(adjoint ? ir::Dims{1, 2, 16, 16} : kD)}, up));
  return c.take();
}

OpCase reduction(Op op, bool complex) {
  CaseBuilder c(std::string(ir::opName(op)));
  c.out(c.b().op(op, {c.real(kD)}));
  if (complex)
    c.out(c.b().op(op, {c.complex(kSpec)}));
  return c.take();
}

OpCase loopCase(Op) {
  // schedule and monitor live in a loop: x <- x * s_l + 1, monitored.
  CaseBuilder c("loop");
  ValueId x0 = c.real(kD);
  c.b().beginLoop(3);
  ValueId x = c.b().loopState(x0, "x");
  ValueId s = c.b().schedule("s", {0.5, -1.0, 2.0});
  ValueId next = c.b().op(Op::Fma, {x, s, c.b().scalar(1.f)});
  ValueId m = c.b().monitor("norm", c.b().op(Op::Norm2Sq, {next}));
  c.b().carry(x, c.b().op(Op::Add, {next, c.b().op(Op::Mul, {m, c.b().scalar(0.f)})}));
  c.b().endLoop();
  c.out(c.b().loopResult(x));
  return c.take();
}

OpCase compare(Op op) {
  CaseBuilder c(std::string(ir::opName(op)));
  ValueId a = c.scalar(), b = c.scalar();
  c.out(c.b().op(op, {a, b}));
  c.out(c.b().op(op, {b, a}));
  c.out(c.b().op(op, {a, a}));
  return c.take();
}

const std::map<Op, CaseFn> kCases = {
    {Op::Add, [] { return binary(Op::Add, true, false); }},
    {Op::Sub, [] { return binary(Op::Sub, true, false); }},
    {Op::Mul, [] { return binary(Op::Mul, true, true); }},
    {Op::Div, [] { return binary(Op::Div, true, true, Gen::NonZero); }},
    {Op::Max, [] { return binary(Op::Max, false, false); }},
    {Op::Min, [] { return binary(Op::Min, false, false); }},
    {Op::Neg, [] { return unary(Op::Neg, true, true); }},
    {Op::Scale,
     [] {
       return unary(Op::Scale, true, true, Gen::Normal, {{"alpha", -1.5}});
     }},
    {Op::Abs, [] { return unary(Op::Abs, true, false); }},
    {Op::Sign, [] { return unary(Op::Sign, true, false); }},
    {Op::Clamp,
     [] {
       return unary(Op::Clamp, true, false, Gen::Normal, {{"lo", -0.5}, {"hi", 0.25}});
     }},
    {Op::Sqrt, [] { return unary(Op::Sqrt, true, false, Gen::Positive); }},
    {Op::Exp, [] { return unary(Op::Exp, true, false); }},
    {Op::Log, [] { return unary(Op::Log, true, false, Gen::Positive); }},
    {Op::Conj, [] { return unary(Op::Conj, false, true); }},
    {Op::Real, [] { return unary(Op::Real, false, true); }},
    {Op::Abs2,
     [] {
       CaseBuilder c("abs2");
       c.out(c.b().op(Op::Abs2, {c.real(kD)}));
       c.out(c.b().op(Op::Abs2, {c.complex(kSpec)}));
       return c.take();
     }},
    {Op::Axpby,
     [] {
       CaseBuilder c("axpby");
       ValueId a = c.scalar(), b = c.scalar();
       c.out(c.b().op(Op::Axpby, {a, c.real(kD), b, c.real(kD)}));
       c.out(c.b().op(Op::Axpby, {a, c.complex(kSpec), b, c.complex(kSpec)}));
       return c.take();
     }},
    {Op::Fma,
     [] {
       CaseBuilder c("fma");
       ValueId r = c.real(kD), r2 = c.real(kD), r3 = c.real(kD), s = c.scalar(), s2 = c.scalar();
       c.out(c.b().op(Op::Fma, {r, r2, r3}));
       c.out(c.b().op(Op::Fma, {s, r2, s2}));
       c.out(c.b().op(Op::Fma, {r, s, r3}));
       c.out(c.b().op(Op::Fma, {s, s2, s}));
       return c.take();
     }},
    {Op::FusedElementwise,
     [] {
       // Tensors across block boundaries (1x1x37x29: not a multiple of the block or the lanes),
       // a scalar operand, literals, and a program ending in a reduction.
       CaseBuilder c("fused_elementwise");
       const ir::Dims d{1, 1, 37, 29};
       ValueId a = c.real(d), b = c.real(d), s = c.scalar();
       auto fused = [&](std::initializer_list<ValueId> in, const char* program) {
         return c.b().op(Op::FusedElementwise, in, {{"program", std::string(program)}});
       };
       c.out(fused({a, b, s}, "t0 = sub(in0, in1); t1 = mul(0.5, t0); t2 = fma(in2, t1, in0); "
                              "t3 = clamp(t2, -1, 1); axpby(in2, t3, in2, in1)"));
       c.out(fused({a, b}, "t0 = sub(in0, in1); t1 = abs(t0); norm2sq(t1)"));
       c.out(fused({a, s}, "t0 = mul(in1, in0); maxabs(t0)"));
       return c.take();
     }},
    {Op::Irfft2Product,
     [] {
       CaseBuilder c("irfft2_product");
       ValueId a = c.complex(kSpec), b = c.complex(kSpec);
       ValueId r = c.real(kSpec), nz = c.real(kSpec, Gen::NonZero);
       auto inv = [&](ValueId x, ValueId y, const char* op) {
         return c.b().op(Op::Irfft2Product, {x, y}, {{"op", std::string(op)}, {"width", kD.w}});
       };
       c.out(inv(a, r, "mul"));
       c.out(inv(a, nz, "div"));
       c.out(inv(a, b, "mul"));
       c.out(inv(a, b, "div"));
       return c.take();
     }},
    {Op::SpectrumEnergy,
     [] {
       CaseBuilder c("spectrum_energy");
       ValueId a = c.complex(kSpec), b = c.complex(kSpec), off = c.complex(kSpec);
       ValueId w = c.real(kSpec);
       c.out(c.b().op(Op::SpectrumEnergy, {a, b, w}));
       c.out(c.b().op(Op::SpectrumEnergy, {a, b, w, off}));
       return c.take();
     }},
    {Op::Le, [] { return compare(Op::Le); }},
    {Op::Lt, [] { return compare(Op::Lt); }},
    {Op::Select,
     [] {
       CaseBuilder c("select");
       ValueId yes = c.b().scalar(1.f), no = c.b().scalar(0.f);
       ValueId a = c.real(kD), b = c.real(kD);
       c.out(c.b().op(Op::Select, {yes, a, b}));
       c.out(c.b().op(Op::Select, {no, a, b}));
       c.out(c.b().op(Op::Select, {c.scalar(), c.complex(kSpec), c.complex(kSpec)}));
       c.out(c.b().op(Op::Select, {no, c.scalar(), c.scalar()}));
       return c.take();
     }},
    {Op::Schedule, [] { return loopCase(Op::Schedule); }},
    {Op::Monitor, [] { return loopCase(Op::Monitor); }},
    {Op::Dot,
     [] {
       CaseBuilder c("dot");
       c.out(c.b().op(Op::Dot, {c.real(kD), c.real(kD)}));
       return c.take();
     }},
    {Op::Sum, [] { return reduction(Op::Sum, false); }},
    {Op::Norm2Sq, [] { return reduction(Op::Norm2Sq, true); }},
    {Op::MaxAbs, [] { return reduction(Op::MaxAbs, true); }},
    {Op::MinVal, [] { return reduction(Op::MinVal, false); }},
    {Op::MaxVal, [] { return reduction(Op::MaxVal, false); }},
    {Op::Ssim,
     [] {
       CaseBuilder c("ssim");
       const ir::Dims d{1, 1, 19, 23}; // 11x11 window fits with shave 0 and 2
       ValueId a = c.real(d), b = c.real(d);
       c.out(c.b().op(Op::Ssim, {a, b}, {{"shave", int64_t{0}}}));
       c.out(c.b().op(Op::Ssim, {a, b}, {{"shave", int64_t{2}}}));
       return c.take();
     }},
    {Op::Rfft2, [] { return plane(Op::Rfft2, kD, {}); }},
    {Op::Irfft2,
     [] {
       // A valid half spectrum (Hermitian where it must be) comes from rfft2.
       CaseBuilder c("irfft2");
       ValueId spectrum = c.b().op(Op::Rfft2, {c.real({1, 2, 8, 7})});
       c.out(c.b().op(Op::Irfft2, {spectrum}, {{"width", int64_t{7}}}));
       return c.take();
     }},
    {Op::Conv2d, [] { return conv(Op::Conv2d); }},
    {Op::Conv2dAdjoint, [] { return conv(Op::Conv2dAdjoint); }},
    {Op::Pad2d, [] { return pad(Op::Pad2d, kD); }},
    {Op::Pad2dAdjoint,
     [] {
       return pad(Op::Pad2dAdjoint, {1, 2, 13, 13});
     }},
    {Op::Decimate,
     [] {
       return plane(Op::Decimate, kD, {{"factor", int64_t{2}}});
     }},
    {Op::UpsampleZero,
     [] {
       return plane(Op::UpsampleZero, kD, {{"factor", int64_t{3}}});
     }},
    {Op::ResizeBicubic, [] { return resize(Op::ResizeBicubic, false); }},
    {Op::ResizeBicubicAdjoint, [] { return resize(Op::ResizeBicubicAdjoint, true); }},
    {Op::Haar,
     [] {
       return plane(Op::Haar, kD, {{"levels", int64_t{2}}});
     }},
    {Op::HaarInv,
     [] {
       return plane(Op::HaarInv, kD, {{"levels", int64_t{3}}});
     }},
    {Op::Dct2,
     [] {
       return plane(Op::Dct2, {1, 2, 8, 6}, {});
     }},
    {Op::Idct2,
     [] {
       return plane(Op::Idct2, {1, 2, 6, 8}, {});
     }},
    {Op::FdGrad,
     [] {
       CaseBuilder c("fd_grad");
       ValueId x = c.real(kD);
       c.out(c.b().op(Op::FdGrad, {x}, str("boundary", "neumann")));
       c.out(c.b().op(Op::FdGrad, {x}, str("boundary", "periodic")));
       return c.take();
     }},
    {Op::FdGradAdjoint,
     [] {
       CaseBuilder c("fd_grad_adjoint");
       ValueId g = c.real({1, 4, 8, 8});
       c.out(c.b().op(Op::FdGradAdjoint, {g}, str("boundary", "neumann")));
       c.out(c.b().op(Op::FdGradAdjoint, {g}, str("boundary", "periodic")));
       return c.take();
     }},
    {Op::Mask,
     [] {
       CaseBuilder c("mask");
       c.out(c.b().op(Op::Mask, {c.real(kD), c.real({1, 1, 8, 8})}));
       return c.take();
     }},
    {Op::DctFilters,
     [] {
       return plane(Op::DctFilters, kD, {{"size", int64_t{3}}});
     }},
    {Op::DctFiltersAdjoint,
     [] {
       return plane(Op::DctFiltersAdjoint, {1, 16, 8, 8},
                    {{"size", int64_t{3}}, {"boundary", std::string("symmetric")}});
     }},
    {Op::Prox,
     [] {
       CaseBuilder c("prox");
       c.out(c.b().op(Op::Prox, {c.real(kD), c.scalar(Gen::Positive)},
                      {{"fn", std::string("l1")}, {"args", ir::NamedFloats{{"lambda", 0.3}}}}));
       // Run-time arguments: the box bounds as scalar operands.
       ValueId v = c.real(kD);
       c.out(c.b().op(Op::Prox,
                      {v, c.scalar(Gen::Positive), c.b().scalar(-0.25f), c.b().scalar(0.5f)},
                      {{"fn", std::string("box")}, {"operand_args", std::string("lo,hi")}}));
       return c.take();
     }},
    {Op::Network,
     [] {
       // In a loop, so the kernel sees stage indices 0, 1, 2 (the test provider scales by l + 1).
       CaseBuilder c("network");
       ValueId x0 = c.real(kD);
       c.b().beginLoop(3);
       ValueId x = c.b().loopState(x0, "x");
       ir::Attrs a{{"net", std::string("A")},
                   {"spec", std::string("scale 0.5")},
                   {"weights", std::string("w0\nw1\nw2")}};
       c.b().carry(x, c.b().op(Op::Network, {x}, a));
       c.b().endLoop();
       c.out(c.b().loopResult(x));
       return c.take();
     }},
    // Learnable parameters (runtime/cpu/learnable_kernels.cpp).
    {Op::PickStage,
     [] {
       CaseBuilder c("pick_stage");
       ValueId p = c.real({3, 2, 8, 8}), x0 = c.real(kD);
       c.b().beginLoop(3);
       ValueId x = c.b().loopState(x0, "x");
       c.b().carry(x, c.b().op(Op::Add, {x, c.b().op(Op::PickStage, {p})}));
       c.b().endLoop();
       c.out(c.b().loopResult(x));
       return c.take();
     }},
    {Op::PlaceStage,
     [] {
       CaseBuilder c("place_stage");
       ValueId p = c.real(kD), x0 = c.real({3, 2, 8, 8});
       c.b().beginLoop(3);
       ValueId x = c.b().loopState(x0, "x");
       c.b().carry(x, c.b().op(Op::Add, {x, c.b().op(Op::PlaceStage, {p}, {{"n", int64_t{3}}})}));
       c.b().endLoop();
       c.out(c.b().loopResult(x));
       return c.take();
     }},
    {Op::Matvec,
     [] {
       CaseBuilder c("matvec");
       c.out(c.b().op(Op::Matvec, {c.real({1, 1, 4, 3}), c.real({1, 1, 3, 1})}));
       c.out(c.b().op(Op::Matvec, {c.real({1, 1, 4, 1}), c.scalar()}));
       return c.take();
     }},
    {Op::MatvecT,
     [] {
       CaseBuilder c("matvec_t");
       c.out(c.b().op(Op::MatvecT, {c.real({1, 1, 4, 3}), c.real({1, 1, 4, 1})}));
       return c.take();
     }},
    {Op::Outer,
     [] {
       CaseBuilder c("outer");
       c.out(c.b().op(Op::Outer, {c.real({1, 1, 4, 1}), c.real({1, 1, 3, 1})}));
       c.out(c.b().op(Op::Outer, {c.real({1, 1, 4, 1}), c.scalar()}));
       return c.take();
     }},
    {Op::Elu, [] { return unary(Op::Elu, true, false); }},
    {Op::EluGrad, [] { return binary(Op::EluGrad, false, false); }},
    {Op::Softplus, [] { return unary(Op::Softplus, true, false); }},
    {Op::Sigmoid, [] { return unary(Op::Sigmoid, true, false); }},
    {Op::FilterBank,
     [] {
       CaseBuilder c("filter_bank");
       c.out(c.b().op(Op::FilterBank, {c.real(kD), c.real({1, 5, 3, 3})}));
       return c.take();
     }},
    {Op::FilterBankAdjoint,
     [] {
       CaseBuilder c("filter_bank_adjoint");
       c.out(c.b().op(Op::FilterBankAdjoint, {c.real({1, 10, 8, 8}), c.real({1, 5, 3, 3})}));
       return c.take();
     }},
    {Op::FilterBankGrad,
     [] {
       CaseBuilder c("filter_bank_grad");
       c.out(c.b().op(Op::FilterBankGrad, {c.real(kD), c.real({1, 10, 8, 8})},
                      {{"size", int64_t{3}}}));
       return c.take();
     }},
    {Op::FilterSpectrum,
     [] {
       CaseBuilder c("filter_spectrum");
       ValueId f = c.real({1, 5, 3, 3});
       c.out(c.b().op(Op::FilterSpectrum, {f}, {{"h", int64_t{8}}, {"w", int64_t{8}}}));
       c.out(c.b().op(Op::FilterSpectrum, {f}, {{"h", int64_t{6}}, {"w", int64_t{7}}}));
       return c.take();
     }},
    {Op::FilterSpectrumGrad,
     [] {
       CaseBuilder c("filter_spectrum_grad");
       c.out(c.b().op(Op::FilterSpectrumGrad, {c.real({1, 5, 3, 3}), c.real({1, 1, 8, 5})},
                      {{"h", int64_t{8}}, {"w", int64_t{8}}}));
       return c.take();
     }},
};

} // namespace

const std::map<ir::Op, CaseFn>& opCases() {
  return kCases;
}

} // namespace podm::testing
