// Convergence plots of run traces, after Fig. 2 of the PODM paper: one panel per monitor that has
// data -- relative error ||x^l - x^{l-1}||/||x^{l-1}|| (log y), reconstruction error
// ||x^l - x_gt||/||x_gt|| (log y), PSNR in dB (linear y), SSIM (linear y) and optimality error
// ||psi|| with the check bound c_l ||x_G - x^{l-1}|| dashed (log y) -- in a grid sharing the stage
// axis, one line per run, with a legend. A trace without any of these monitors is an error rather
// than a figure of empty frames. Rendered by a small raster plotter (lines, axes, ticks, a built-in
// 5x7 font) and written as PNG, so figures need no plotting stack.
#pragma once

#include <cmath>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace podm::io {

// One trace CSV (`podm run --trace`): header `stage,phi,rel_change,recon_error,psnr,ssim,
// opt_error,check_bound,branch,primal_res,dual_res,time,best`. Numeric columns are kept by header
// name; empty or non-numeric cells (and "nan") become NaN and are skipped when plotted. A missing
// `stage` column numbers rows 1, 2, ...
struct TraceRun {
  std::string path; // the file it was read from (messages); empty when built in memory
  std::string label;
  std::vector<double> stage;
  std::map<std::string, std::vector<double>> columns; // each as long as `stage`
};
// Throws IoError naming the file for unreadable files, a missing header or ragged rows.
TraceRun readTraceCsv(const std::string& path);

// One row of a trace, as `podm run` records it per stage; NaN fields are written as empty cells.
struct TraceRecord {
  int64_t stage = 0;
  double phi = NAN, relChange = NAN, reconError = NAN, psnr = NAN, ssim = NAN, optError = NAN,
         checkBound = NAN;
  std::string branch;                    // "accept", "feedback" (Eq. 6), or empty (no check)
  double primalRes = NAN, dualRes = NAN; // the splitting solvers' residuals (admm, hqs, pdhg)
  double time = NAN;                     // seconds for the stage
  std::string best; // "psnr", "ssim" or "psnr+ssim" on the stage that scored best, else empty
};
// The header readTraceCsv and `podm plot` expect.
inline constexpr const char* kTraceHeader = "stage,phi,rel_change,recon_error,psnr,ssim,opt_error,"
                                            "check_bound,branch,primal_res,dual_res,time,best";
// Writes the header and the rows with full double precision (atomically).
void writeTraceCsv(const std::string& path, const std::vector<TraceRecord>& rows);

struct PlotOptions {
  int width = 1400, height = 1000;
};
// One panel of the figure: its title (without the letter), the column it plots, a column drawn
// dashed in the same colour (the check bound) or nullptr, and whether the y axis is logarithmic.
struct PanelSpec {
  const char* title;
  const char* column;
  const char* dashedColumn;
  bool logY;
};
// The panels plotTraces draws, in order: of relative change, reconstruction error, PSNR, SSIM and
// optimality error, those with a plottable value (finite; positive on a log axis) in some run.
std::vector<PanelSpec> panelsWithData(const std::vector<TraceRun>& runs);

// Draws panelsWithData(runs), lettered (a), (b), ... in a grid (1x1, 1x2, 2x2 or 2x3) with one
// stage range for all, and writes `pngPath` (atomically). Throws IoError, writing nothing, when no
// panel has data (naming the trace files and the monitors that would give data) or when the PNG
// cannot be written.
void plotTraces(const std::vector<TraceRun>& runs, const std::string& pngPath,
                const PlotOptions& options = {});

// An RGB raster with the primitives the plot needs; exposed for tests.
class Canvas {
public:
  Canvas(int width, int height, uint32_t background = 0xffffff);
  int width() const { return w_; }
  int height() const { return h_; }
  uint32_t pixel(int x, int y) const;
  void set(int x, int y, uint32_t rgb);
  void fillRect(int x0, int y0, int x1, int y1, uint32_t rgb); // inclusive corners
  // A line of the given thickness; dashLength > 0 draws dashes of that many pixels.
  void line(double x0, double y0, double x1, double y1, uint32_t rgb, int thickness = 1,
            int dashLength = 0);
  // Text with the 5x7 font scaled by `scale`, top-left at (x, y); vertical draws bottom-to-top.
  void text(int x, int y, const std::string& s, uint32_t rgb, int scale = 2, bool vertical = false);
  static int textWidth(const std::string& s, int scale = 2) { return int(s.size()) * 6 * scale; }
  // Writes an 8-bit RGB PNG (atomically).
  void writePng(const std::string& path) const;

private:
  int w_, h_;
  std::vector<uint8_t> rgb_;
  double dashPhase_ = 0;
};

// The font's 7 rows (5 bits each, MSB leftmost) for a character, nullptr if it has no glyph.
const uint8_t* glyph5x7(char ch);

} // namespace podm::io
