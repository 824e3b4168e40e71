// Execution tracing: per-node call counts and time, printable as the table `podm run --profile`
// shows. Rows are created when the executor prepares (one per kernel step, one per transfer, one
// for the stage-end bookkeeping); recording is a counter increment and a clock read.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <span>
#include <string>
#include <vector>

namespace podm {

struct TraceRow {
  std::string what;    // "%12 conv2d \"x_A\"", "transfer %12 cuda -> cpu", "stage end"
  std::string op;      // op name ("transfer", "stage end" for the others)
  std::string backend; // where it ran
  bool fallback = false;
  int64_t calls = 0;
  double seconds = 0;
  int64_t skipped = 0; // times a lazy select arm skipped it (exec_plan.h)
  size_t bytes = 0;    // per call: what a transfer row moves between backends
};

class Trace {
public:
  size_t addRow(TraceRow row);
  void record(size_t row, double seconds) {
    rows_[row].calls += 1;
    rows_[row].seconds += seconds;
  }
  void skip(size_t row) { rows_[row].skipped += 1; }
  void reset(); // zero all counts and times, keep the rows

  std::span<const TraceRow> rows() const { return rows_; }
  const TraceRow& row(size_t i) const { return rows_.at(i); }
  double totalSeconds() const;
  // Bytes the transfer rows moved between backends (host <-> device on a GPU), all calls.
  size_t bytesMoved() const;

  // One line per row with calls > 0, slowest first; at most maxRows rows plus a total line.
  void print(std::ostream& out, size_t maxRows = SIZE_MAX) const;
  // The same aggregated per op and backend.
  void printByOp(std::ostream& out) const;
  std::string table() const;

private:
  std::vector<TraceRow> rows_;
};

} // namespace podm
