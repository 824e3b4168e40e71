// Internal to compiler/lower: the state one lowering shares between its passes (one concern per
// file: scalars.cpp evaluates numbers and settings, linops.cpp turns operator expressions into
// chains of IR ops, terms.cpp reads f and d, prior.cpp g, fstep.cpp solves the F-step, network.cpp
// turns a net into a `network` node, solvers.cpp writes the stage loop, monitors.cpp the monitors,
// lower.cpp drives them in order).
#pragma once

#include "compiler/lower/lower.h"
#include "ir/builder.h"
#include "stdlib/linop/registry.h"
#include "stdlib/nn/network.h"

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace podm::lower {

[[noreturn]] inline void fail(SourceLoc loc, const std::string& message) {
  throw LowerError(loc, message);
}

// The terms of a sum `a + b + ...` in source order (a single term for anything else).
void summands(const ast::Expr& e, std::vector<const ast::Expr*>& out);

// The stages block's setting `name`, or nullptr (also when there is no stages block).
const ast::Setting* findSetting(const ast::Decl* stages, const std::string& name);

// A scalar of the model: known when compiling, or a graph value (f32 scalar node).
struct Scalar {
  std::optional<double> value;
  ir::ValueId node;
  static Scalar constant(double v) { return {v, {}}; }
  static Scalar of(ir::ValueId n) { return {std::nullopt, n}; }
};

// One primitive linear operator: a call of a stdlib operator, which its declaration
// (stdlib/linop/registry.h) lowers to IR ops, or a learnable filter bank (params.cpp).
struct Prim {
  const stdlib::LinopEntry* entry = nullptr; // nullptr: the learnable filter bank
  stdlib::LinopIrArgs args;                  // the call's arguments, defaults filled in
  ir::ValueId bank;                          // learnable filter bank: the param 1 x K x s x s
  bool adjoint = false;
  std::string text; // source text, for messages
  SourceLoc loc;    // where the operator is written
  bool learnable() const { return entry == nullptr; }
  // Structure of the matrix (the same for the adjoint); filter banks are periodic convolutions.
  bool diagonal() const { return entry && entry->traits.diagonal; }
  bool circulant() const { return !entry || entry->circulant(args); }
  bool orthogonal() const { return entry && entry->traits.orthogonal; }
  bool sameOperator(const Prim& o) const {
    return entry == o.entry && adjoint == o.adjoint && args == o.args && bank == o.bank;
  }
};

// The argument of a call by name, else the position-th unnamed one; nullptr when absent.
const ast::Expr* callArgument(const ast::Expr& call, size_t position, const std::string& name);
// The argument for the stdlib operator parameter `name`, at its declared position.
const ast::Expr* declaredArgument(const ast::Expr& call, const stdlib::LinopEntry& entry,
                                  const std::string& name);

// scale * prims[n-1](...prims[0](x)): applied first to last. No prims is scale * identity.
struct Chain {
  double scale = 1;
  std::vector<Prim> prims;
  // Whether the last prim is a selection (crop) applied as itself: C K, whose normal operator
  // K'C'C K is bounded by, and preconditioned with, K'K.
  bool endsInSelection() const {
    return !prims.empty() && prims.back().entry && prims.back().entry->traits.selection &&
           !prims.back().adjoint;
  }
};

// A sum of chains (a linear operator of the model: K, W, A = 3 * identity, K' K + D).
struct LinOp {
  std::vector<Chain> terms;
  bool allDiagonal() const;
  bool allCirculant() const;
  // A single chain of orthogonal prims with scale +-1 (W, W', haar dct): W' W = I.
  bool orthogonal() const;
  LinOp adjoint() const;
  static LinOp identity() { return {{Chain{}}}; }
};

// One least-squares term w * ||A x + c||^2 of f (c absent when the term is linear).
struct LsqTerm {
  Scalar weight;
  LinOp op;
  std::optional<ir::ValueId> offset; // Pre image
  SourceLoc loc;
};

// One prox term lambda * name(W x, args) of g. For the splitting solvers (admm, hqs, pdhg) W is
// any linear operator K: the term is split as z = K x and its prox runs on z.
struct ProxTerm {
  Scalar weight;
  std::string name;
  ir::NamedFloats args;                                         // known when compiling, sorted
  std::vector<std::pair<std::string, ir::ValueId>> runtimeArgs; // Pre scalars (lo = min(o))
  std::optional<LinOp> transform; // W (orthogonal unless splitting), or none for the variable
  bool indicator = false, separable = false, convex = false;
  SourceLoc loc;
  std::string text;  // as written, for messages
  std::string fused; // tv + box lowered as one prox: what was fused, for notes and labels
};

// d(x, a) = weight * ||F (x - a)||^2, so H = weight * F'F.
struct Distance {
  std::vector<std::pair<Scalar, LinOp>> parts; // usually one; weights set by distanceWeights()
  std::vector<std::vector<std::pair<const ast::Expr*, bool>>> weightExprs; // (expr, divides)
  bool present = false;
};

// A `param` declaration lowered to param nodes (params.cpp).
struct LearnedParam {
  const ast::Decl* decl = nullptr;
  bool perStage = false, mlp = false;
  double init = 0;
  std::vector<ir::ValueId> tensors; // learned: the value; mlp: w1, b1, w2, b2, ...
  ir::ValueId input;                // mlp: its scalar input (Pre)
  std::optional<ir::ValueId> value; // the scalar it denotes (Pre; Body for per-stage params)
};

struct Context {
  const ast::Model& model;
  const sema::CheckedModel& checked;
  const LowerOptions& options;
  ir::Graph& graph;
  ir::Builder b;
  std::vector<std::string> notes;

  std::map<std::string, const ast::Decl*> decls; // by name (inputs, consts, ops, ...)
  std::map<std::string, const ast::Decl*> terms; // f, g, d
  const ast::Decl* stages = nullptr;
  std::map<std::string, ir::ValueId> inputs; // graph inputs made so far
  std::map<std::string, Scalar> settings;    // gamma, mu, c (Pre or Body values)
  std::optional<int64_t> stage;              // set while evaluating a per-stage value
  bool splitting = false; // a splitting solver: every g term is split, K need not be orthogonal
  bool staged = false;    // evaluating a per-stage setting symbolically (l -> schedules)
  std::optional<ir::ValueId> lipschitz; // L(f), once computed

  std::string var;  // the variable's name
  ir::Type varType; // 1x1xHxW
  ir::ValueId x0;   // the start point, when lower.cpp had to evaluate it to learn the shape
  std::vector<LsqTerm> f;
  std::vector<ProxTerm> g;
  Distance d;

  Context(const ast::Model& m, const sema::CheckedModel& c, const LowerOptions& o, ir::Graph& g)
      : model(m), checked(c), options(o), graph(g), b(g) {}

  // --- scalars.cpp
  Scalar number(const ast::Expr& e);
  ir::ValueId node(const Scalar& s);
  Scalar mul(const Scalar& a, const Scalar& b);
  Scalar add(const Scalar& a, const Scalar& b);
  Scalar div(const Scalar& a, const Scalar& b);
  // A stages setting: a Pre value, or a schedule when it depends on the stage index l.
  Scalar setting(const ast::Setting& s);
  bool usesStageIndex(const ast::Expr& e) const;
  bool callsL(const ast::Expr& e) const;
  ir::ValueId input(const std::string& name, SourceLoc use);
  // x * s for a tensor x (scale for a constant, mul for a node; x itself for 1).
  ir::ValueId scaled(ir::ValueId x, const Scalar& s, std::string label = {});

  // --- linops.cpp
  LinOp linop(const ast::Expr& e);
  // `K x` (Apply), or `K (x - o)`, which parses as a call of the op K: the operator and its
  // argument. False for anything else.
  bool splitApply(const ast::Expr& e, LinOp& op, const ast::Expr*& arg);
  ir::ValueId apply(const LinOp& op, ir::ValueId x, std::string label = {});
  ir::ValueId applyPrim(const Prim& p, ir::ValueId x);
  // The arguments of a stdlib operator call, by name or position, defaults filled in.
  stdlib::LinopIrArgs callArguments(const ast::Expr& call, const stdlib::LinopEntry& entry);
  // An image expression evaluated once (Pre): inputs, operators applied to inputs, sums.
  ir::ValueId image(const ast::Expr& e);

  // --- terms.cpp
  void readFidelity();
  void readDistance();    // the operators F (Pre)
  void distanceWeights(); // the weights w, which may read per-stage settings such as mu (Body)
  Scalar weightOf(const std::vector<std::pair<const ast::Expr*, bool>>& weights);
  ir::ValueId gradF(ir::ValueId x, std::string label = {});
  ir::ValueId normalOp(ir::ValueId v, std::string label = {}); // Σ 2 w A'A v
  // For a circulant normal operator: its real half spectrum (the DFT of N(delta)) and the offset
  // Σ 2 w A'c of ∇f, each built once (loop-invariant: hoisted to Pre) and shared by ∇f, L_f and
  // the FFT F-step.
  bool normalCirculant() const; // every prim of every term of f is a periodic convolution-like op
  ir::ValueId normalSpectrum();
  ir::ValueId impulse(); // the unit impulse at the origin, one constant per graph
  std::optional<ir::ValueId> normalSpec_, gradOffset_, impulse_;
  ir::ValueId fValue(ir::ValueId x);
  // ||A x + c||^2 of one term through the spectrum of x when A is circulant, else nullopt.
  std::optional<ir::ValueId> residualNormBySpectrum(const LsqTerm& t, ir::ValueId x);
  ir::ValueId applyH(ir::ValueId v, std::string label = {}); // H v = Σ w F'F v
  ir::ValueId lipschitzConstant(SourceLoc use);              // L_f (Pre)
  // When every term of f is one chain C K (a selection after circulant prims): the real spectrum
  // of Σ 2w K'K, whose largest entry bounds L_f from above.
  std::optional<ir::ValueId> selectedNormalBound();
  // The largest eigenvalue of a symmetric positive semidefinite operator on `type` (Pre): power
  // iteration from a seeded random start, options.powerIterations steps.
  ir::ValueId largestEigenvalue(const std::function<ir::ValueId(ir::ValueId)>& op,
                                const ir::Type& type, const std::string& what);

  // --- prior.cpp: g
  void readPrior();
  ir::ValueId proxG(ir::ValueId v, ir::ValueId gamma, std::string label = {});
  ir::ValueId gValue(ir::ValueId x, SourceLoc use);
  // prox_{step λ h}(v) of one term, its operator not applied (the splitting solvers' z-update).
  ir::ValueId proxTerm(const ProxTerm& t, ir::ValueId v, ir::ValueId step, std::string label = {});

  // --- fstep.cpp: x~ = argmin f(x) + d(x, xA)
  ir::ValueId fstep(ir::ValueId xA);
  // The same quadratic with any right-hand side: (N + 2H) x = -Σ 2 w A'c + extra, from `start`
  // (CG, PCG, gradient). The splitting solvers' x-update, with H = ρ/2 Σ K'K set as d.parts.
  ir::ValueId solveQuadratic(ir::ValueId extra, ir::ValueId start);
  // What the quadratic solve is called in notes and labels: the splitting solvers' x-update.
  std::string fstepName() const { return splitting ? "x-update" : "F-step"; }
  // The model text being lowered now (an operator's use), so that a node the graph builder refuses
  // for these input sizes is reported there, in the model's words (lowerModel).
  SourceLoc where;
  // monitors.cpp: per-stage monitors of Proposition 1's assumptions (lower.h, kProp1*) for podm
  // stages that monitor phi and branch, so `podm run` can name the one that fails when phi rises.
  void admissibility(ir::ValueId gamma, const std::optional<Scalar>& mu);
  std::string fstepChoice;  // what was chosen, for notes and labels
  void planFStep();         // Pre part (spectra, denominators)
  void fstepPreValues();    // planFStep's Pre values for the chosen solver
  void planSelectedTerms(); // pcg: fs.selected and fs.hCirculant
  ir::ValueId applyMBySpectrum(ir::ValueId v, ir::ValueId spectrum, ir::ValueId twoWH);
  struct FStepState {
    enum Kind { Elementwise, Fft, Orthogonal, Cg, Pcg, Gradient } kind = Cg;
    int64_t iters = 10;
    double step = 0;
    ir::ValueId diagN, diagH;    // elementwise: N(1), F'F(1)
    ir::ValueId specN, specH;    // fft: real spectra of N and F'F; pcg: of their periodic variants
    std::vector<Prim> transform; // orthogonal: W; diagN, diagH are then W N W'(1), W F'F W'(1)
    ir::ValueId rhsF;            // -Σ 2 w A' c
    // pcg, when every term of f is C K (K circulant, C a selection such as crop, or none): the
    // spectrum of each K, so that N v = Σ 2w K'C'C K v is applied through FFTs rather than
    // convolutions; hCirculant: H too, through specH (exact then).
    struct SelectedTerm {
      ir::ValueId kSpec;             // rfft2(K δ), c64
      std::optional<Prim> selection; // C, applied after K
      Scalar weight;
    };
    std::vector<SelectedTerm> selected;
    bool hCirculant = false;
  } fs;

  // --- network.cpp: A as a `network` node
  nn::NetworkSpec netSpec(const ast::Expr& body, int depth);
  int64_t netInteger(const ast::Expr* e, int64_t fallback, SourceLoc use);
  std::string netWeightPath(const ast::Decl& net, int64_t stage); // the weights string at stage
  ir::ValueId applyNet(const ast::Decl& net, ir::ValueId x);

  // --- params.cpp: learnable parameters (param declarations, learnable dct_filters)
  std::map<std::string, LearnedParam> params;
  std::map<const ast::Expr*, ir::ValueId> learnableFilters; // dct_filters call -> param bank
  void declareParams();                                     // Pre: every param node
  bool usesParam(const ast::Expr& e) const;
  // The scalar a param denotes; `index` is the `[l]` of a per-stage one (Body only).
  Scalar paramValue(const std::string& name, const ast::Expr* index, SourceLoc use);
  ir::ValueId buildParamValue(const LearnedParam& p);
  std::optional<ir::ValueId> learnableFilterBank(const ast::Expr& call) const;
  // sum_n |F^_n|^2 (times the chain's scale squared) when op is one learnable filter bank.
  std::optional<ir::ValueId> filterBankSpectrum(const LinOp& op);

  // --- solvers.cpp
  void buildLoop();

  // --- splitting.cpp: what the splitting solvers (admm, hqs, pdhg) share
  // One split z = K x: a term of g (its prox runs on z), the denoiser's split z = x (plug-and-
  // play: the network replaces the prox), or, for pdhg, a term of f as a dual block.
  struct Split {
    const ProxTerm* term = nullptr;    // a term of g
    const LsqTerm* fidelity = nullptr; // pdhg: a term w ||A x + c||^2 of f, K = A
    LinOp K = LinOp::identity();
    ir::ValueId start; // where the split's state starts (Pre): K x0 (admm's z), 0 (pdhg's y)
  };
  std::vector<Split> splits;
  const ast::Decl* denoiser = nullptr;  // the `denoiser = A` setting: its network
  const ProxTerm* primalTerm = nullptr; // pdhg: the term of g on the variable, proxed on x
  // Pre (admm, hqs): one split per term of g (and the denoiser's), and the x-update's quadratic
  // (N + ρ Σ K'K), planned as an F-step with d.parts = {(ρ/2, K)}. pdhg plans its own blocks.
  void planSplits();
  // The x-update argmin f(x) + penalty/2 Σ ||K_j x - v_j||^2, from `start` (CG, PCG, gradient).
  ir::ValueId xUpdate(const Scalar& penalty, const std::vector<ir::ValueId>& v, ir::ValueId start);
  // z = argmin h(z) + penalty/2 ||z - v||^2 for the split's term (prox_{λh/penalty}(v)), or the
  // denoiser's output at v.
  ir::ValueId zUpdate(const Split& s, ir::ValueId v, const Scalar& penalty, std::string label);

  // --- monitors.cpp
  // `output K x`: the image a run writes and psnr/ssim/recon_error score (default: x itself).
  // Carried through the loop as its own state, so that every stage's output can be read
  // (`--save-stages`) and `stages 0` writes K x0.
  const ast::Decl* outputDecl = nullptr;
  LinOp outputOp = LinOp::identity();
  ir::Type outputType;     // varType, or K's result type
  ir::ValueId outputStart; // K x0 (Pre), with an output declaration
  void planOutput(ir::ValueId x0);
  ir::ValueId outputImage(ir::ValueId x);
  std::map<const ast::Expr*, ir::ValueId> monitorRefs; // monitor item -> reference image (Pre)
  void monitorInputs();                                // Pre: the references monitors read
  // Body: one `monitor` node per monitored quantity of the stage whose output image is `shown`
  // (its iterate without an output declaration).
  void buildMonitors(ir::ValueId shown, const std::map<std::string, ir::ValueId>& q,
                     const std::function<ir::ValueId(SourceLoc)>& phi);
  // Border pixels psnr/ssim leave out: `shave = N`, else defaultShave().
  int64_t monitorShave(const ast::Expr& item);
  // The super-resolution scale s when the variable is s times the observation of f, else 0.
  int64_t defaultShave() const;
};

} // namespace podm::lower
