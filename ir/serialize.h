// The .pgraph file format: a compiled graph on disk, read back by `podm run`.
//
// Layout (little-endian throughout):
//   header  "PODMGRPH" | u32 format version | u32 flags (0) | u64 payload bytes | u64 FNV-1a-64
//           of the payload                                                       (32 bytes)
//   payload graph name, loop header, nodes (op by name, region, type, label, operands,
//           attributes), carries and stop predicate, outputs -- see serialize.cpp.
// Ops are stored by name, so reordering ops.def does not change the format; renaming or removing
// an op, or changing any field's encoding, bumps kPgraphFormatVersion.
//
// Loading never trusts the file: sizes are checked against the bytes actually present before
// anything is allocated, the checksum catches corruption, and the graph is rebuilt through the
// validating Builder and verified, so a file that loads is a valid graph.
#pragma once

#include "ir/graph.h"

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace podm::ir {

inline constexpr uint32_t kPgraphFormatVersion = 1;
inline constexpr size_t kPgraphHeaderBytes = 32;

std::vector<uint8_t> serialize(const Graph& g);
// `source` names the bytes in error messages (a path, or "<memory>").
Graph deserialize(std::span<const uint8_t> bytes, std::string_view source = "<memory>");

// Writes atomically: a temporary file in the same directory, fsync, then rename over `path`.
void save(const Graph& g, const std::string& path);
// Throws IrError with the path and the reason (missing file, other version, truncated, corrupt).
Graph load(const std::string& path);

// FNV-1a 64 of `bytes`, as stored in the header.
uint64_t pgraphChecksum(std::span<const uint8_t> bytes);

} // namespace podm::ir
