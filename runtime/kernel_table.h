// The kernel registry of one backend: an explicit table from op to kernel entry, filled by one
// function per backend that lists one line per op (no static initializers). Ops a backend does
// not implement yet are listed as pending with a reason, so that `podm` and the consistency tests
// can say exactly what is missing and why.
#pragma once

#include "ir/op_table.h"

#include <array>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace podm {

template <class Entry>
class KernelTable {
public:
  void add(ir::Op op, Entry entry) {
    size_t i = index(op);
    if (entries_[i] || !pending_[i].empty())
      throw std::logic_error("kernel table: op '" + std::string(ir::opName(op)) +
                             "' registered twice");
    entries_[i] = std::move(entry);
  }
  void pending(ir::Op op, std::string reason) {
    size_t i = index(op);
    if (entries_[i] || !pending_[i].empty() || reason.empty())
      throw std::logic_error("kernel table: op '" + std::string(ir::opName(op)) +
                             "' registered twice or pending without a reason");
    pending_[i] = std::move(reason);
  }

  const Entry* find(ir::Op op) const {
    const auto& e = entries_[index(op)];
    return e ? &*e : nullptr;
  }
  // The reason an op is pending, or empty.
  const std::string& pendingReason(ir::Op op) const { return pending_[index(op)]; }

  // Ops with a kernel op, ops pending, and ops neither registered nor pending (kernel-less ops,
  // trait::NoKernel, are never listed: the executor binds them).
  std::vector<ir::Op> registered() const {
    return collect([](bool e, bool) { return e; });
  }
  std::vector<ir::Op> pendingOps() const {
    return collect([](bool, bool p) { return p; });
  }
  std::vector<ir::Op> missing() const {
    return collect([](bool e, bool p) { return !e && !p; });
  }

private:
  static size_t index(ir::Op op) {
    size_t i = static_cast<size_t>(op);
    if (i >= ir::kOpCount)
      throw std::logic_error("kernel table: op code out of range");
    return i;
  }
  template <class Pred>
  std::vector<ir::Op> collect(Pred pred) const {
    std::vector<ir::Op> out;
    for (const ir::OpInfo& info : ir::allOps()) {
      if (info.has(ir::trait::NoKernel))
        continue;
      size_t i = static_cast<size_t>(info.op);
      if (pred(entries_[i].has_value(), !pending_[i].empty()))
        out.push_back(info.op);
    }
    return out;
  }

  std::array<std::optional<Entry>, ir::kOpCount> entries_{};
  std::array<std::string, ir::kOpCount> pending_{};
};

} // namespace podm
