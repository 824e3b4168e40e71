// `podm plot`: the paper's Fig. 2 (relative error, reconstruction error, PSNR, SSIM, optimality
// error per stage, as far as the traces have them) from one or more trace CSVs written by
// `podm run`, as a PNG.
#include "runtime/io/plot.h"

#include "cli/verbs.h"
#include "runtime/io/image.h"

#include <iostream>
#include <sstream>

namespace podm::cli {

int runPlot(const std::vector<std::string>& args) {
  std::vector<std::string> traces, labels;
  std::string output;
  io::PlotOptions options;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "-o" || a == "--output") {
      if (i + 1 >= args.size())
        return usageError("plot", a + " needs a file name");
      output = args[++i];
    } else if (a == "--labels") {
      if (i + 1 >= args.size())
        return usageError("plot", "--labels needs a comma-separated list");
      std::stringstream ss(args[++i]);
      for (std::string l; std::getline(ss, l, ',');)
        labels.push_back(l);
    } else if (a == "--size") {
      int w = 0, h = 0;
      char x = 0;
      std::stringstream ss(i + 1 < args.size() ? args[++i] : "");
      if (!(ss >> w >> x >> h) || x != 'x' || w < 400 || h < 300 || w > 8000 || h > 8000)
        return usageError("plot", "--size expects WxH between 400x300 and 8000x8000");
      options.width = w;
      options.height = h;
    } else if (a.rfind("-", 0) == 0) {
      return usageError("plot", "unknown option '" + a + "'");
    } else {
      traces.push_back(a);
    }
  }
  if (traces.empty())
    return usageError("plot", "no trace CSV given");
  if (output.empty())
    return usageError("plot", "no output file (-o FIG.png)");
  if (io::formatFromExtension(output) != io::FileFormat::Png)
    return usageError("plot", "the output must be a .png file");
  if (!labels.empty() && labels.size() != traces.size())
    return usageError("plot", std::to_string(labels.size()) + " labels for " +
                                  std::to_string(traces.size()) + " traces");
  try {
    std::vector<io::TraceRun> runs;
    for (size_t i = 0; i < traces.size(); ++i) {
      runs.push_back(io::readTraceCsv(traces[i]));
      if (!labels.empty())
        runs.back().label = labels[i];
    }
    io::plotTraces(runs, output, options);
  } catch (const io::IoError& e) {
    std::cerr << "podm plot: error: " << e.what() << "\n";
    return 1;
  }
  std::cout << "wrote " << output << "\n";
  return kOk;
}

} // namespace podm::cli
