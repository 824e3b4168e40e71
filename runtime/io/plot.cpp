// The trace plotter: CSV parsing, a grid of the panels that have data with log or linear y axes,
// and the raster primitives behind it (see plot.h).
#include "runtime/io/plot.h"

#include "runtime/io/atomic_file.h"
#include "runtime/io/image.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <sstream>

namespace podm::io {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

std::string trim(const std::string& s) {
  size_t a = s.find_first_not_of(" \t\r\n\"");
  if (a == std::string::npos)
    return "";
  size_t b = s.find_last_not_of(" \t\r\n\"");
  return s.substr(a, b - a + 1);
}

std::vector<std::string> splitCsv(const std::string& line) {
  std::vector<std::string> out;
  std::stringstream ss(line);
  for (std::string cell; std::getline(ss, cell, ',');)
    out.push_back(trim(cell));
  if (!line.empty() && line.back() == ',')
    out.emplace_back();
  return out;
}

double parseCell(const std::string& cell) {
  if (cell.empty())
    return kNaN;
  char* end = nullptr;
  double v = std::strtod(cell.c_str(), &end);
  return end == cell.c_str() + cell.size() ? v : kNaN;
}

// Tick positions: 1, 2 or 5 times a power of ten, about `target` of them across [lo, hi].
std::vector<double> niceTicks(double lo, double hi, int target) {
  double span = hi - lo;
  double raw = span / std::max(1, target);
  double mag = std::pow(10.0, std::floor(std::log10(raw)));
  double step = mag;
  for (double m : {1.0, 2.0, 5.0, 10.0})
    if (m * mag >= raw) {
      step = m * mag;
      break;
    }
  std::vector<double> ticks;
  for (double t = std::ceil(lo / step - 1e-9) * step; t <= hi + step * 1e-9; t += step)
    ticks.push_back(std::abs(t) < step * 1e-9 ? 0.0 : t);
  return ticks;
}

std::string formatTick(double v) {
  char buf[32];
  if (v != 0 && (std::abs(v) >= 1e5 || std::abs(v) < 1e-3))
    std::snprintf(buf, sizeof buf, "%.0e", v);
  else
    std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

// The candidates in the order they are laid out; only those with data are drawn.
constexpr PanelSpec kPanelCandidates[] = {
    {"relative error ||x(l)-x(l-1)||/||x(l-1)||", "rel_change", nullptr, true},
    {"reconstruction error ||x(l)-x_gt||/||x_gt||", "recon_error", nullptr, true},
    {"PSNR (dB)", "psnr", nullptr, false},
    {"SSIM", "ssim", nullptr, false},
    {"optimality error ||psi|| (dashed: check bound)", "opt_error", "check_bound", true},
    {"primal residual (dashed: dual residual)", "primal_res", "dual_res", true},
};

// Text and margins grow with the figure: the font's scale is 2 at the default 1400x1000 and
// follows the smaller side from there (1 for small figures, up to 4), so ticks, labels and titles
// keep their size relative to the panels.
int textScale(int width, int height) {
  return std::clamp(int(std::lround(std::min(width / 700.0, height / 500.0))), 1, 4);
}

// A value a panel can place: finite, and positive on a log axis.
bool usable(const PanelSpec& panel, double v) {
  return std::isfinite(v) && (!panel.logY || v > 0);
}

constexpr uint32_t kColours[] = {0x1f77b4, 0xd62728, 0x2ca02c, 0xff7f0e, 0x9467bd,
                                 0x8c564b, 0xe377c2, 0x7f7f7f, 0xbcbd22, 0x17becf};

} // namespace

void writeTraceCsv(const std::string& path, const std::vector<TraceRecord>& rows) {
  std::ostringstream out;
  out << kTraceHeader << "\n";
  out.precision(17);
  auto cell = [&](double v) {
    out << ",";
    if (!std::isnan(v))
      out << v;
  };
  for (const TraceRecord& r : rows) {
    out << r.stage;
    for (double v : {r.phi, r.relChange, r.reconError, r.psnr, r.ssim, r.optError, r.checkBound})
      cell(v);
    out << "," << r.branch;
    cell(r.primalRes);
    cell(r.dualRes);
    cell(r.time);
    out << "," << r.best << "\n";
  }
  writeFileAtomic(path, out.str());
}

TraceRun readTraceCsv(const std::string& path) {
  std::string text = readFileBytes(path);
  std::istringstream in(text);
  std::string line;
  TraceRun run;
  run.path = path;
  run.label =
      path.substr(path.find_last_of('/') == std::string::npos ? 0 : path.find_last_of('/') + 1);
  if (run.label.size() > 4 && run.label.ends_with(".csv"))
    run.label.resize(run.label.size() - 4);
  std::vector<std::string> header;
  int lineNo = 0;
  while (header.empty() && std::getline(in, line)) {
    ++lineNo;
    if (!trim(line).empty() && trim(line)[0] != '#')
      header = splitCsv(line);
  }
  if (header.empty())
    throw IoError(path + ": empty trace (expected a CSV header line)");
  if (std::all_of(header.begin(), header.end(),
                  [](const std::string& h) { return !h.empty() && !std::isnan(parseCell(h)); }))
    throw IoError(path + ":" + std::to_string(lineNo) + ": the first line is not a header");
  std::vector<std::vector<double>> cols(header.size());
  while (std::getline(in, line)) {
    ++lineNo;
    if (trim(line).empty() || trim(line)[0] == '#')
      continue;
    std::vector<std::string> cells = splitCsv(line);
    if (cells.size() != header.size())
      throw IoError(path + ":" + std::to_string(lineNo) + ": " + std::to_string(cells.size()) +
                    " cells, the header has " + std::to_string(header.size()));
    for (size_t i = 0; i < cells.size(); ++i)
      cols[i].push_back(parseCell(cells[i]));
  }
  size_t rows = cols.front().size();
  for (size_t i = 0; i < header.size(); ++i) {
    if (header[i] == "stage")
      run.stage = cols[i];
    else if (!header[i].empty())
      run.columns[header[i]] = cols[i];
  }
  if (run.stage.empty())
    for (size_t r = 0; r < rows; ++r)
      run.stage.push_back(double(r + 1));
  return run;
}

Canvas::Canvas(int width, int height, uint32_t background)
    : w_(width), h_(height), rgb_(size_t(width) * size_t(height) * 3) {
  fillRect(0, 0, width - 1, height - 1, background);
}

uint32_t Canvas::pixel(int x, int y) const {
  const uint8_t* p = &rgb_[(size_t(y) * w_ + x) * 3];
  return uint32_t(p[0]) << 16 | uint32_t(p[1]) << 8 | p[2];
}

void Canvas::set(int x, int y, uint32_t rgb) {
  if (x < 0 || y < 0 || x >= w_ || y >= h_)
    return;
  uint8_t* p = &rgb_[(size_t(y) * w_ + x) * 3];
  p[0] = uint8_t(rgb >> 16);
  p[1] = uint8_t(rgb >> 8);
  p[2] = uint8_t(rgb);
}

void Canvas::fillRect(int x0, int y0, int x1, int y1, uint32_t rgb) {
  for (int y = std::max(0, y0); y <= std::min(h_ - 1, y1); ++y)
    for (int x = std::max(0, x0); x <= std::min(w_ - 1, x1); ++x)
      set(x, y, rgb);
}

void Canvas::line(double x0, double y0, double x1, double y1, uint32_t rgb, int thickness,
                  int dashLength) {
  double len = std::hypot(x1 - x0, y1 - y0);
  int steps = std::max(1, int(std::ceil(len * 2)));
  int lo = -(thickness - 1) / 2, hi = thickness / 2;
  for (int i = 0; i <= steps; ++i) {
    double t = double(i) / steps;
    if (dashLength > 0) {
      // The phase carries across segments so a polyline dashes evenly.
      double along = dashPhase_ + t * len;
      if (int(along / dashLength) % 2 == 1)
        continue;
    }
    int x = int(std::lround(x0 + t * (x1 - x0))), y = int(std::lround(y0 + t * (y1 - y0)));
    for (int dy = lo; dy <= hi; ++dy)
      for (int dx = lo; dx <= hi; ++dx)
        set(x + dx, y + dy, rgb);
  }
  dashPhase_ = dashLength > 0 ? dashPhase_ + len : 0;
}

void Canvas::text(int x, int y, const std::string& s, uint32_t rgb, int scale, bool vertical) {
  for (size_t i = 0; i < s.size(); ++i) {
    const uint8_t* g = glyph5x7(s[i]);
    if (!g)
      g = glyph5x7('?');
    for (int r = 0; r < 7; ++r)
      for (int c = 0; c < 5; ++c) {
        if (!(g[r] & (0x10 >> c)))
          continue;
        int gx = int(i) * 6 + c; // along the text
        for (int sy = 0; sy < scale; ++sy)
          for (int sx = 0; sx < scale; ++sx) {
            if (vertical)
              set(x + r * scale + sy, y - gx * scale - sx, rgb);
            else
              set(x + gx * scale + sx, y + r * scale + sy, rgb);
          }
      }
  }
}

void Canvas::writePng(const std::string& path) const {
  Tensor t(Shape{1, 3, h_, w_});
  float* d = t.data();
  size_t plane = size_t(w_) * h_;
  for (size_t i = 0; i < plane; ++i)
    for (size_t c = 0; c < 3; ++c)
      d[c * plane + i] = rgb_[i * 3 + c] / 255.0f;
  io::writePng(path, t, 8);
}

namespace {

// Axes, ticks, grid and one line per run for one panel in the box (ox, oy, w, h).
void drawPanel(Canvas& cv, const PanelSpec& panel, const std::string& title,
               const std::vector<TraceRun>& runs, int ox, int oy, int panelW, int panelH,
               double xmin, double xmax, int scale) {
  const int charH = 7 * scale, unit = 5 * scale; // margins in units of the font's size
  // Plot area inside the panel: room for the title above, tick labels left and below.
  int left = ox + 11 * unit, right = ox + panelW - 3 * unit, top = oy + 2 * unit + charH + 14,
      bottom = oy + panelH - 2 * charH - 26;
  // A title wider than its panel (three columns) steps down to the largest scale that fits
  // rather than overlap its neighbour.
  int titleScale = scale;
  while (titleScale > 1 && Canvas::textWidth(title, titleScale) > panelW - 10)
    --titleScale;
  cv.text(ox + (panelW - Canvas::textWidth(title, titleScale)) / 2,
          oy + 2 * unit + (charH - 7 * titleScale) / 2, title, 0x000000, titleScale);

  double ymin = INFINITY, ymax = -INFINITY;
  for (const TraceRun& run : runs)
    for (const char* col : {panel.column, panel.dashedColumn}) {
      if (!col || !run.columns.count(col))
        continue;
      const std::vector<double>& ys = run.columns.at(col);
      for (size_t i = 0; i < ys.size() && i < run.stage.size(); ++i)
        if (usable(panel, ys[i]) && std::isfinite(run.stage[i])) {
          double y = panel.logY ? std::log10(ys[i]) : ys[i];
          ymin = std::min(ymin, y);
          ymax = std::max(ymax, y);
        }
    }
  if (panel.logY) {
    ymin = std::floor(ymin);
    ymax = std::ceil(ymax);
    if (ymax == ymin)
      ymax += 1;
  } else {
    double pad = ymax == ymin ? std::max(1e-3, std::abs(ymax) * 0.05) : (ymax - ymin) * 0.05;
    ymin -= pad;
    ymax += pad;
  }
  auto px = [&](double x) { return left + (x - xmin) / (xmax - xmin) * (right - left); };
  auto py = [&](double y) { return bottom - (y - ymin) / (ymax - ymin) * (bottom - top); };

  // Ticks, labels and light grid lines.
  for (double t : niceTicks(xmin, xmax, 6)) {
    double x = px(t);
    cv.line(x, top + 1, x, bottom - 1, 0xe6e6e6);
    cv.line(x, bottom, x, bottom - 6, 0x000000);
    std::string s = formatTick(t);
    cv.text(int(x) - Canvas::textWidth(s, scale) / 2, bottom + 8, s, 0x000000, scale);
  }
  std::vector<double> yticks;
  if (panel.logY) {
    int decades = int(ymax - ymin);
    int every = std::max(1, (decades + 5) / 6);
    for (int k = int(ymin); k <= int(ymax); k += every)
      yticks.push_back(k);
  } else {
    yticks = niceTicks(ymin, ymax, 6);
  }
  for (double t : yticks) {
    double y = py(t);
    cv.line(left + 1, y, right - 1, y, 0xe6e6e6);
    cv.line(left, y, left + 6, y, 0x000000);
    std::string s = panel.logY ? "1e" + std::to_string(int(t)) : formatTick(t);
    cv.text(left - 8 - Canvas::textWidth(s, scale), int(y) - charH / 2, s, 0x000000, scale);
  }
  if (panel.logY) // minor ticks at 2..9 times each decade
    for (int k = int(ymin); k < int(ymax); ++k)
      for (int m = 2; m <= 9; ++m)
        cv.line(left, py(k + std::log10(m)), left + 3, py(k + std::log10(m)), 0x000000);
  // The frame goes on top of the grid.
  cv.line(left, top, right, top, 0x000000);
  cv.line(left, bottom, right, bottom, 0x000000);
  cv.line(left, top, left, bottom, 0x000000);
  cv.line(right, top, right, bottom, 0x000000);
  cv.text((left + right - Canvas::textWidth("stage", scale)) / 2, bottom + charH + 18, "stage",
          0x000000, scale);

  for (size_t r = 0; r < runs.size(); ++r) {
    uint32_t colour = kColours[r % std::size(kColours)];
    for (const char* col : {panel.dashedColumn, panel.column}) {
      if (!col || !runs[r].columns.count(col))
        continue;
      const std::vector<double>& ys = runs[r].columns.at(col);
      bool dashed = col == panel.dashedColumn;
      bool have = false;
      double lx = 0, ly = 0;
      size_t points = 0;
      for (size_t i = 0; i < ys.size() && i < runs[r].stage.size(); ++i) {
        if (!usable(panel, ys[i]) || !std::isfinite(runs[r].stage[i])) {
          have = false; // a gap: missing values are skipped, not bridged
          continue;
        }
        double x = px(runs[r].stage[i]), y = py(panel.logY ? std::log10(ys[i]) : ys[i]);
        if (have)
          cv.line(lx, ly, x, y, colour, dashed ? 1 : 2, dashed ? 6 : 0);
        lx = x;
        ly = y;
        have = true;
        ++points;
      }
      if (points == 1) // a single stage still shows
        cv.fillRect(int(lx) - 2, int(ly) - 2, int(lx) + 2, int(ly) + 2, colour);
    }
  }
}

// One entry per run along the bottom, four per row, starting at height y0.
void drawLegend(Canvas& cv, const std::vector<TraceRun>& runs, int y0, int scale) {
  const int charH = 7 * scale;
  for (size_t r = 0; r < runs.size(); ++r) {
    int col = int(r % 4), row = int(r / 4);
    int x = 40 + col * (cv.width() - 80) / 4, y = y0 + row * (charH + 10);
    uint32_t colour = kColours[r % std::size(kColours)];
    cv.fillRect(x, y + charH / 2 - 1, x + 20 * scale, y + charH / 2 + 1, colour);
    std::string label =
        runs[r].label.size() > 28 ? runs[r].label.substr(0, 27) + "~" : runs[r].label;
    cv.text(x + 25 * scale, y, label, 0x000000, scale);
  }
}

} // namespace

std::vector<PanelSpec> panelsWithData(const std::vector<TraceRun>& runs) {
  std::vector<PanelSpec> chosen;
  for (const PanelSpec& panel : kPanelCandidates) {
    bool have = false;
    for (const TraceRun& run : runs)
      for (const char* col : {panel.column, panel.dashedColumn})
        if (col && run.columns.count(col)) {
          const std::vector<double>& ys = run.columns.at(col);
          for (size_t i = 0; i < ys.size() && i < run.stage.size() && !have; ++i)
            have = usable(panel, ys[i]) && std::isfinite(run.stage[i]);
        }
    if (have)
      chosen.push_back(panel);
  }
  return chosen;
}

void plotTraces(const std::vector<TraceRun>& runs, const std::string& pngPath,
                const PlotOptions& options) {
  const std::vector<PanelSpec> panels = panelsWithData(runs);
  if (panels.empty()) {
    std::string files;
    for (const TraceRun& run : runs)
      files += (files.empty() ? "" : ", ") + (run.path.empty() ? run.label : run.path);
    throw IoError(files +
                  ": nothing to plot: no finite value in any of the columns rel_change, "
                  "recon_error, psnr, ssim, opt_error, check_bound; run the model with monitors "
                  "such as rel_change, recon_error(ref), psnr(ref), ssim(ref) or opt_error");
  }
  const int W = options.width, H = options.height;
  Canvas cv(W, H);
  const int scale = textScale(W, H);
  const int legendH = 20 + int((runs.size() + 3) / 4) * (7 * scale + 10);
  // 1 -> 1x1, 2 -> 1x2, 3-4 -> 2x2, 5-6 -> 2x3.
  const int n = int(panels.size());
  const int cols = n == 1 ? 1 : n <= 4 ? 2 : 3, rows = n <= 2 ? 1 : 2;
  const int panelW = W / cols, panelH = (H - legendH) / rows;
  double xmin = INFINITY, xmax = -INFINITY; // shared by all panels: every run's stages
  for (const TraceRun& run : runs)
    for (double x : run.stage)
      if (std::isfinite(x)) {
        xmin = std::min(xmin, x);
        xmax = std::max(xmax, x);
      }
  if (xmax == xmin) {
    xmin -= 1;
    xmax += 1;
  }
  for (int p = 0; p < n; ++p) {
    const std::string title = std::string("(") + char('a' + p) + ") " + panels[size_t(p)].title;
    drawPanel(cv, panels[size_t(p)], title, runs, (p % cols) * panelW, (p / cols) * panelH, panelW,
              panelH, xmin, xmax, scale);
  }
  drawLegend(cv, runs, H - legendH + 10, scale);
  cv.writePng(pngPath);
}

} // namespace podm::io
