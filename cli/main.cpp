// The podm command: a table of verbs, global --help and --version.
#include "cli/verbs.h"
#include "engine/allocator_policy.h"

#include <iostream>
#include <string>
#include <vector>

#ifndef PODM_VERSION
#define PODM_VERSION "unknown"
#endif

namespace podm::cli {

// The longest help texts, kept out of the table so that it reads as one verb per entry.
constexpr const char* kEvalHelp =
    "usage: podm eval MODEL.podm --gt DIR [degradation | --inputs DIR [--kernel F]]\n"
    "                 [--input NAME=FILE|NUMBER]... [--obs NAME] [--shave N]\n"
    "                 [--csv F.csv] [--markdown F.md] [--save DIR] [--weights-dir DIR]\n\n"
    "Scores every image of --gt in one process: degrades it as `podm degrade` would write\n"
    "it (cropped to a multiple of the scale, rounded to --bits), restores it as `podm run`\n"
    "would, and measures PSNR/SSIM against it (Y channel of RGB, border shave = the SR\n"
    "scale unless --shave). Prints a line per image and a Markdown table with the means.\n"
    "Model, weights, FFT plans and the graph per image size are made once.\n\n"
    "  --gt DIR          the ground truths (PNG, TIFF, BMP, JPEG, .npy), in name order\n"
    "  --bicubic S | --decimate S   downscale by S (MATLAB imresize / every S-th pixel)\n"
    "  --blur SPEC | --kernel F     blur: gaussian:SIZE:SIGMA, motion:LEN:ANGLE,\n"
    "                               shake:SIZE:SEED, or a file\n"
    "  --kernels DIR     every image with every kernel of DIR (.txt, .npy, image)\n"
    "  --boundary B      blur boundary: periodic (default), symmetric or zero\n"
    "  --kernel-as A     the kernel files are convolution (default) or correlation\n"
    "                    kernels: applied so, and given to the model flipped as needed\n"
    "  --mask random:F | FILE   inpainting: keep a random fraction F of the pixels, or\n"
    "                    the nonzero pixels of a gray FILE; the mask (1 = kept) goes to\n"
    "                    the model's image input --mask-input NAME (default m)\n"
    "  --poisson PEAK    Poisson noise, x <- Poisson(PEAK x) / PEAK\n"
    "  --noise SIGMA     Gaussian noise, 0-255 scale;  --seed N (default 0, every image)\n"
    "  --bits 8|16       the observation is rounded as a PNG of that depth (default 8)\n"
    "  --inputs DIR      pre-degraded observations instead, matched to --gt by file stem\n"
    "  --inputs-name P   their stem: {image} (default), with --kernels {image}_{kernel};\n"
    "                    e.g. \"{image}_{kernel}_img\" for Levin's captures\n"
    "  --input NAME=...  an input that is the same for every image (e.g. sigma=0.01)\n"
    "  --obs NAME        the model input that takes the observation (default: its only\n"
    "                    image input other than ref)\n"
    "  --align N         score the best shift within +-N px (misregistered GT)\n"
    "  --align-step S    ... in steps of S = 1/n px, bilinear (default 1; Levin et al.'s\n"
    "                    protocol: --align 5 --align-step 0.25 --shave 15)\n"
    "  --csv F           image,kernel,psnr,ssim,stages,accepted,seconds per image\n"
    "  --markdown F      the table printed at the end\n"
    "  --save DIR        keep the restorations (IMAGE[_KERNEL].png)\n"
    "  --weights-dir DIR, --plugin LIB, --no-wisdom, --precision P, --set NAME=VALUE,\n"
    "  --device D        as for `podm run`\n\n"
    "A bad image is reported by name and skipped; the exit status is then 1.\n"
    "exit status: 0 every image scored, 1 model or data errors, 2 usage error\n";

constexpr const char* kDegradeHelp =
    "usage: podm degrade IN -o OUT [options]\n"
    "       podm degrade --synthetic NAME -o OUT [--size HxW] [--seed N] [options]\n\n"
    "Applies, in this order: blur, decimation or bicubic downscaling, the inpainting mask,\n"
    "Poisson noise, Gaussian noise (noise on the kept pixels only).\n"
    "Colour images are degraded channel by channel. Input: PNG, TIFF, BMP, JPEG or .npy;\n"
    "output by extension: .png (clamped to [0,1], --bits 8|16), .tif (float32), .npy.\n\n"
    "  --blur gaussian:SIZE:SIGMA   Gaussian kernel (MATLAB fspecial('gaussian'))\n"
    "  --blur motion:LEN:ANGLE      linear motion of LEN pixels at ANGLE degrees\n"
    "  --blur shake:SIZE:SEED       a random camera-shake path within SIZE x SIZE (odd)\n"
    "  --kernel FILE                kernel from a text file (one row per line), .npy or image;\n"
    "                               normalised to sum 1\n"
    "  --boundary B                 periodic (default: the FFT model), symmetric or zero\n"
    "  --kernel-as convolution|correlation  how the kernel is applied (default convolution;\n"
    "                               correlation = the kernel flipped, as Levin's captures)\n"
    "  --kernel-out K.txt           write the kernel used, one row per line\n"
    "  --decimate S                 keep every S-th pixel (the model's S)\n"
    "  --bicubic S                  MATLAB imresize(x, 1/S, 'bicubic')\n"
    "                               (both crop the input to a multiple of S first)\n"
    "  --gt-out FILE                write the (cropped) clean image too\n"
    "  --mask random:FRACTION       keep a random FRACTION of the pixels (exactly), drop the\n"
    "                               rest to 0\n"
    "  --mask FILE                  keep the nonzero pixels of a gray image of the output's\n"
    "                               size (after downscaling)\n"
    "  --mask-out M.png             write the mask used (1 = kept), e.g. for a model input\n"
    "  --poisson PEAK               Poisson noise: x <- Poisson(PEAK x) / PEAK\n"
    "  --noise SIGMA                add Gaussian noise, SIGMA on the 0-255 scale\n"
    "  --seed N                     mask, noise and synthetic-image seed (default 0)\n"
    "  --synthetic NAME             make a synthetic test image: scene, scene-rgb\n"
    "  --size HxW                   its size (default 256x256)\n"
    "  --bits 8|16                  PNG bit depth (default 8)\n\n"
    "exit status: 0 success, 1 bad input data, 2 usage error\n";

const std::vector<Verb>& verbs() {
  static const std::vector<Verb> table = {
      {"check", "parse and check model files",
       "usage: podm check [--plugin LIB.so]... FILE...\n\n"
       "Parses and checks each model file and prints a summary of the model it defines.\n"
       "Errors are printed as file:line:col: error: message, with the source line and a caret.\n\n"
       "  --plugin LIB  load user prox functions from a shared library first\n\n"
       "exit status: 0 all files are valid, 1 a file has errors, 2 usage error\n",
       runCheck},
      {"compile", "compile a model file: print a stage of the pipeline or save a .pgraph",
       "usage: podm compile [--plugin LIB.so]... FILE --emit=ast|graph|graph-opt|plan [-v]\n"
       "                    [--shape NAME=HxW]... [--input NAME=FILE]... [-o OUT.pgraph]\n"
       "       podm compile [--plugin LIB.so]... FILE -o OUT.pgraph [-v]\n"
       "                    [--shape NAME=HxW]... [--input NAME=FILE]...\n\n"
       "  --emit=ast        print the abstract syntax tree, with source locations\n"
       "  --emit=graph      print the lowered operator graph (F-step solver in the labels)\n"
       "  --emit=graph-opt  print the graph after the pass pipeline\n"
       "  --emit=plan       print the execution plan: memory per backend, fallbacks\n"
       "  -v                log the graph after every pass (to stderr)\n"
       "  --shape NAME=HxW  the size of an image or kernel input (graphs have static shapes)\n"
       "  --input NAME=FILE take the size from a file (PNG, TIFF, BMP, JPEG, .npy)\n"
       "  -o OUT.pgraph     save the graph for `podm run`: with --emit=graph, graph-opt or\n"
       "                    plan the emitted one; without --emit the optimized graph,\n"
       "                    printing no stage\n"
       "  --set NAME=VALUE  give the model's const NAME another value (checked as if written)\n"
       "  --plugin LIB      load user prox functions from a shared library first\n\n"
       "exit status: 0 success, 1 the model has errors, 2 usage error\n",
       runCompile},
      {"run", "compile and run a model (or a saved .pgraph) on input images",
       "usage: podm run MODEL.podm|FILE.pgraph --input NAME=FILE|NUMBER... -o OUT\n"
       "                [--trace TRACE.csv] [--ref GT] [--shave N] [--profile]\n"
       "                [--weights-dir DIR] [--plugin LIB.so]...\n\n"
       "Runs on the CPU backend. Inputs are read with the image I/O (PNG, TIFF, BMP, JPEG, .npy;\n"
       "gray, or RGB restored on its Y channel and recombined with the first RGB input's\n"
       "colour); OUT is written atomically by extension (.png, .tif, .npy). On a terminal,\n"
       "a progress line is rewritten at the end of every stage.\n\n"
       "  --trace FILE  the per-stage monitors as CSV (stage,phi,rel_change,...; `podm plot`);\n"
       "                the stage time is always filled, unmonitored columns are empty\n"
       "  --ref GT      print the final PSNR/SSIM against GT (Y channel of RGB, border shave\n"
       "                = the super-resolution scale); also the model's `ref` input if any\n"
       "  --shave N     the border left out by --ref (default: as the model's monitors)\n"
       "  --save-stages DIR  the variable after every stage as DIR/stage_001.png, ...\n"
       "  --kernel-as correlation  the kernel files hold correlation kernels (flipped when\n"
       "                read, for the model's true convolution), as Levin's captures\n"
       "  --quiet, -q   print errors only (no notes, warnings, progress or summary; the --ref\n"
       "                line on stdout stays)\n"
       "  --align N     --ref scores the best shift of the result within +-N pixels\n"
       "                (misregistered ground truths such as real captures), and says so\n"
       "  --align-step S  ... in steps of S = 1/n pixel, sampled bilinearly (default 1)\n"
       "  --profile     per-node time table on stderr, then the set-up before stage 1 by\n"
       "                phase, the FFT plans (measured or from the plan cache) and the loop\n"
       "  --weights-dir DIR  resolve relative net weight paths against DIR (default: the\n"
       "                model file's folder)\n"
       "  --no-wisdom   neither read nor write the FFT plan cache (also PODM_FFTW_WISDOM=off)\n"
       "  --precision fp32|bf16  the networks' convolutions in bfloat16 with f32 accumulation\n"
       "                (about twice as fast on CPUs with AVX512_BF16 or AMX; elsewhere a note\n"
       "                says so and they stay fp32). Default fp32\n"
       "  --set NAME=VALUE  give the model's const NAME another value, checked where it is used\n"
       "                as if written in the file (e.g. --set s=3 for another SR scale)\n"
       "  --device cpu|cuda|auto  where the graph runs (default cpu): cuda on the first GPU,\n"
       "                nodes without a GPU kernel on the CPU (listed on stderr); auto = cuda\n"
       "                when a GPU is visible, else cpu with a note. The summary names it\n\n"
       "FFT plans measured once are kept in $XDG_CACHE_HOME/podm (else ~/.cache/podm), so\n"
       "later runs start at once and compute the same bits (docs/io.md).\n\n"
       "exit status: 0 success, 1 model or data errors, 2 usage error\n",
       runRun},
      {"eval", "score a model on a folder of ground-truth images (dataset means)", kEvalHelp,
       runEval},
      {"degrade", "make test data: blur, downscale, mask, add noise, or a synthetic image",
       kDegradeHelp, runDegrade},
      {"plot", "plot convergence curves of run traces (the paper's Fig. 2)",
       "usage: podm plot TRACE.csv [MORE.csv ...] -o FIG.png [--labels a,b,...] [--size WxH]\n\n"
       "One panel per monitor with data in some trace, over the stages: relative error,\n"
       "reconstruction error (log y), PSNR (dB), SSIM, and optimality error with the check\n"
       "bound dashed (log y); one line per trace. Trace columns: stage,phi,rel_change,\n"
       "recon_error,psnr,ssim,opt_error,check_bound,branch,primal_res,dual_res,time,best;\n"
       "empty cells or absent columns are skipped.\n\n"
       "exit status: 0 success, 1 unreadable trace or nothing to plot, 2 usage error\n",
       runPlot},
      {"test-prox", "run the prox property tests on a (plugin) prox function",
       "usage: podm test-prox PLUGIN NAME [--arg NAME=VALUE]...\n"
       "       podm test-prox PLUGIN\n\n"
       "Loads the shared library PLUGIN (or 'builtin' for the standard library) and runs the\n"
       "generic property checks on the prox NAME: prox optimality, agreement with a brute-force\n"
       "1-D minimisation for separable ones, firm non-expansiveness for convex ones.\n"
       "Without NAME, lists the proxes PLUGIN provides (all built-in ones for 'builtin'):\n"
       "name, traits, summary and every argument with its default and range.\n\n"
       "  --arg NAME=VALUE  a parameter of the prox (required ones must be given)\n\n"
       "exit status: 0 all checks pass, 1 a check fails, 2 usage error or unloadable plugin\n",
       runTestProx},
      {"train", "learn a model's network A (and, end to end, its params) from images",
       "usage: podm train MODEL.podm --data DIR --mode greedy|e2e (--steps N | --time SECONDS)\n"
       "                  -o WEIGHTS.safetensors [options]\n\n"
       "Greedy mode trains the model's net as a Gaussian denoiser for its stages' noise level\n"
       "(the way the PODM paper trains its per-stage networks): one network per distinct noise\n"
       "level, written to every weight file of the stages at that level. Images (PNG, TIFF,\n"
       "BMP, JPEG; colour reduced to Y) are cropped, flipped and rotated at random, noise is\n"
       "added, and the loss is taken against the clean crop. Deterministic under --seed;\n"
       "--resume continues a checkpoint bit for bit. Ctrl-C / SIGTERM save a checkpoint and\n"
       "exit 130.\n\n"
       "  --data DIR            training images (other files are skipped)\n"
       "  --mode greedy|e2e     e2e: end-to-end relaxed PODM on blurred, noisy crops: the\n"
       "                        model's params (mu mlp, learnable filters) and its net through\n"
       "                        the unrolled stages; -o gets the net and the param.* tensors\n"
       "  --kernels DIR         (e2e) blur kernels, one drawn per sample (default: generated\n"
       "                        Gaussian and motion kernels); shake:COUNT:SIZE draws COUNT\n"
       "                        camera-shake kernels; --sigma is one level (0-255),\n"
       "                        the model's `sigma` input gets it on the [0,1] scale\n"
       "  --freeze-net          (e2e) keep the network's weights   --net-lr X (1e-4)\n"
       "  --net NAME            the net to train when the model has several\n"
       "  --sigma S | LOW:HIGH  noise level (0-255) for every stage, or a range (blind);\n"
       "                        default: the model's `schedule sigma = [...]`, one per stage\n"
       "  --sigma-schedule NAME (greedy) the levels per stage from the model's schedule NAME\n"
       "  --init-from FILE      (greedy) every network starts from the net's weights in FILE\n"
       "                        (e.g. a denoiser for a nearby level) instead of He init\n"
       "  --steps N             steps per network     --time SECONDS  total time bound\n"
       "  --crop N (40)  --batch N (16)  --lr X (1e-3)  --seed N (0)  --loss l2|l1\n"
       "  --optimizer adam|sgd  --lr-schedule constant|cosine|step  --clip NORM\n"
       "  --no-augment          no flips or rotations\n"
       "  --val DIR             validation images (default: a fixed split of --data by\n"
       "                        file name, --val-count K images, about 1 in 10)\n"
       "  --val-crop N (128)    centre crop of each validation image (0: whole images)\n"
       "  --val-every K         validation PSNR every K steps (always at the end)\n"
       "  --log-every K         a progress line every K steps when stderr is not a terminal\n"
       "  --checkpoint FILE     checkpoint at the end, on Ctrl-C, and every N steps with\n"
       "  --checkpoint-every N\n"
       "  --resume              continue from --checkpoint (same options required)\n"
       "  -o OUT                the weights (safetensors, the names `podm run` binds); a folder\n"
       "                        when the net has several weight files\n"
       "  --device cpu|cuda|auto  where the networks train (default cpu): cuda runs their\n"
       "                        forward and backward passes on the first GPU (cuDNN), auto\n"
       "                        when one is visible; data, loss and optimizer stay on the CPU\n"
       "  --debug-nan-at N      (testing) make the loss of step N NaN\n\n"
       "exit status: 0 success, 1 bad model or data, or a non-finite loss/gradient, 2 usage\n"
       "error, 130 interrupted (checkpoint saved)\n",
       runTrain},
      {"weights", "inspect network weight files (safetensors, Keras HDF5)",
       "usage: podm weights inspect FILE...\n\n"
       "Lists each file's tensors with their stored dtypes and shapes. For Keras HDF5 files\n"
       "also prints the architecture read from model_config and the podm tensor names the\n"
       "import produces (conv{k}.weight in OIHW, conv{k}.bias, bn{k}.*, fc{k}.*).\n\n"
       "exit status: 0 success, 1 unreadable or malformed file, 2 usage error\n",
       runWeights},
  };
  return table;
}

namespace {

void printUsage(std::ostream& out) {
  out << "usage: podm VERB [options] [args]\n\n"
         "podm compiles optimization-derived deep models (PODM) written in the podm model\n"
         "language and runs them.\n\nverbs:\n";
  for (const Verb& v : verbs())
    out << "  " << v.name << std::string(10 - std::string(v.name).size(), ' ') << v.summary << "\n";
  out << "\noptions:\n  --help       show this help, or a verb's help with 'podm VERB --help'\n"
         "  --version    print the version\n";
}

} // namespace
} // namespace podm::cli

int main(int argc, char** argv) {
  using namespace podm::cli;
  podm::engine::useImageSizedHeapPolicy();
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty()) {
    printUsage(std::cerr);
    return kUsageError;
  }
  const std::string& first = args[0];
  if (first == "--help" || first == "-h" || first == "help") {
    printUsage(std::cout);
    return kOk;
  }
  if (first == "--version") {
    std::cout << "podm " << PODM_VERSION << "\n";
    return kOk;
  }
  for (const Verb& v : verbs()) {
    if (first != v.name)
      continue;
    std::vector<std::string> rest(args.begin() + 1, args.end());
    for (const std::string& a : rest) {
      if (a == "--help" || a == "-h") {
        std::cout << v.help;
        return kOk;
      }
    }
    try {
      return v.run(rest);
    } catch (const std::exception& e) {
      std::cerr << "podm " << v.name << ": internal error: " << e.what() << "\n";
      return 3;
    }
  }
  return usageError("", "unknown verb '" + first + "'");
}
