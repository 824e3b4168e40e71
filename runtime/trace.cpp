// Trace tables.
#include "runtime/trace.h"

#include <algorithm>
#include <cstdio>
#include <map>
#include <ostream>
#include <sstream>

namespace podm {
namespace {

void printRows(std::ostream& out, std::vector<TraceRow> rows, size_t maxRows, double total,
               const char* firstColumn) {
  std::stable_sort(rows.begin(), rows.end(),
                   [](const TraceRow& a, const TraceRow& b) { return a.seconds > b.seconds; });
  char line[256];
  std::snprintf(line, sizeof line, "%10s %7s %8s %8s %10s  %-8s %s\n", "time ms", "share", "calls",
                "skipped", "mean us", "backend", firstColumn);
  out << line;
  size_t shown = 0;
  for (const TraceRow& r : rows) {
    if ((r.calls == 0 && r.skipped == 0) || shown++ >= maxRows)
      continue;
    std::snprintf(line, sizeof line, "%10.3f %6.1f%% %8lld %8lld %10.2f  %-8s ", r.seconds * 1e3,
                  total > 0 ? 100.0 * r.seconds / total : 0.0, static_cast<long long>(r.calls),
                  static_cast<long long>(r.skipped),
                  r.calls > 0 ? r.seconds * 1e6 / static_cast<double>(r.calls) : 0.0,
                  r.backend.c_str());
    out << line << r.what << (r.fallback ? "  [fallback]" : "") << "\n";
  }
  std::snprintf(line, sizeof line, "%10.3f %6.1f%%", total * 1e3, 100.0);
  out << line << "  total\n";
}

// The traffic between backends under a table (host <-> device on a GPU), when there was any.
void printTransfers(std::ostream& out, const Trace& trace) {
  int64_t transfers = 0;
  for (const TraceRow& r : trace.rows())
    transfers += r.bytes > 0 ? r.calls : 0;
  if (transfers > 0) {
    char line[96];
    std::snprintf(line, sizeof line, "moved between backends: %.3f MB in %lld transfers\n",
                  static_cast<double>(trace.bytesMoved()) / 1e6, static_cast<long long>(transfers));
    out << line;
  }
}

} // namespace

size_t Trace::addRow(TraceRow row) {
  rows_.push_back(std::move(row));
  return rows_.size() - 1;
}

void Trace::reset() {
  for (TraceRow& r : rows_) {
    r.calls = 0;
    r.seconds = 0;
    r.skipped = 0;
  }
}

size_t Trace::bytesMoved() const {
  size_t bytes = 0;
  for (const TraceRow& r : rows_)
    bytes += r.bytes * static_cast<size_t>(r.calls);
  return bytes;
}

double Trace::totalSeconds() const {
  double t = 0;
  for (const TraceRow& r : rows_)
    t += r.seconds;
  return t;
}

void Trace::print(std::ostream& out, size_t maxRows) const {
  printRows(out, rows_, maxRows, totalSeconds(), "node");
  printTransfers(out, *this);
}

void Trace::printByOp(std::ostream& out) const {
  std::map<std::pair<std::string, std::string>, TraceRow> byOp;
  for (const TraceRow& r : rows_) {
    TraceRow& agg = byOp[{r.op, r.backend}];
    agg.what = r.op;
    agg.op = r.op;
    agg.backend = r.backend;
    agg.fallback = agg.fallback || r.fallback;
    agg.calls += r.calls;
    agg.seconds += r.seconds;
    agg.skipped += r.skipped;
  }
  std::vector<TraceRow> rows;
  for (auto& [key, r] : byOp)
    rows.push_back(r);
  printRows(out, rows, SIZE_MAX, totalSeconds(), "op");
  printTransfers(out, *this);
}

std::string Trace::table() const {
  std::ostringstream s;
  print(s);
  return s.str();
}

} // namespace podm
