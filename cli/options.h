// Command-line options shared by the verbs: --plugin, --set, --input/--shape, and strict number
// parsing of flag values. Each `take*` removes its options from `args` and leaves the rest.
#pragma once

#include "engine/graph_build.h"
#include "engine/model_loader.h"

#include <string>
#include <vector>

namespace podm::cli {

// Takes `--plugin PATH` / `--plugin=PATH` out of `args`; returns false (after a usage message)
// when --plugin has no path.
bool takePluginOptions(const std::string& verb, std::vector<std::string>& args,
                       std::vector<std::string>& plugins);

// Takes `--set NAME=VALUE` / `--set=NAME=VALUE` out of `args`; returns false (after a usage
// message) when one is malformed or VALUE is not a number.
bool takeSetOptions(const std::string& verb, std::vector<std::string>& args,
                    std::vector<engine::ConstOverride>& overrides);

// Takes --input NAME=FILE|NUMBER and --shape NAME=HxW (also --opt=VALUE forms) out of `args`,
// reading the files. Returns false after printing `podm VERB: error: ...`; `status` is then the
// exit code (2 usage, 1 unreadable or unsuitable data).
bool takeInputOptions(const std::string& verb, std::vector<std::string>& args,
                      engine::GraphInputs& in, int& status);

// Flag values: the whole string must be a number (an integer within [lo, hi]; a finite double).
bool parseInt(const std::string& s, long long lo, long long hi, long long& out);
bool parseDouble(const std::string& s, double& out);
// --align-step S: a pixel divided into whole parts, S = 1/n for n in 1..16 ("0.25" gives 4), so
// that whole shifts stay on the search grid.
bool parseAlignStep(const std::string& s, int& subdivisions);

// An output a verb writes at its end, checked before the work (runtime/io/atomic_file.h): a typo
// in -o must not cost a whole run. Prints `podm VERB: error: FLAG PATH: why` and returns false.
// Image: writeImage's extensions too; Folder: created when missing, so its nearest existing
// ancestor must take new files.
enum class OutputKind { File, Image, Folder };
bool checkOutput(const std::string& verb, const std::string& flag, const std::string& path,
                 OutputKind kind);
// Refuses an output that is one of the command's own input files or folders (the same file by
// identity, not spelling: `./a.png` is `a.png`): the result written there would replace what the
// user had. `inputs`: (what it is, e.g. "the file of --input o", path). Prints the error.
bool checkNotAnInput(const std::string& verb, const std::string& flag, const std::string& path,
                     const std::vector<std::pair<std::string, std::string>>& inputs);

} // namespace podm::cli
