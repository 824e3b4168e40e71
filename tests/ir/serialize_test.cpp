// The .pgraph format: exact round trips, atomic saves, and loads that fail with a clear message
// on another version, truncation, corruption and absurd sizes -- never a crash.
#include "ir/errors.h"
#include "ir/printer.h"
#include "ir/serialize.h"
#include "ir/verifier.h"
#include "sample_graph.h"
#include "tests/support/scratch_dir.h"

#include <cstring>
#include <doctest/doctest.h>
#include <filesystem>
#include <fstream>
#include <random>

using namespace podm::ir;
namespace fs = std::filesystem;

namespace {

void putU32(std::vector<uint8_t>& b, size_t at, uint32_t v) {
  REQUIRE(at + 4 <= b.size());
  for (int i = 0; i < 4; ++i)
    b[at + i] = static_cast<uint8_t>(v >> (8 * i));
}
void putU64(std::vector<uint8_t>& b, size_t at, uint64_t v) {
  REQUIRE(at + 8 <= b.size());
  for (int i = 0; i < 8; ++i)
    b[at + i] = static_cast<uint8_t>(v >> (8 * i));
}
// Makes the header agree with the payload again, so that the parser itself is exercised.
void fixHeader(std::vector<uint8_t>& b) {
  if (b.size() < kPgraphHeaderBytes)
    return;
  putU64(b, 16, b.size() - kPgraphHeaderBytes);
  putU64(b, 24, pgraphChecksum(std::span<const uint8_t>(b).subspan(kPgraphHeaderBytes)));
}

std::string loadError(const std::vector<uint8_t>& bytes) {
  try {
    deserialize(bytes, "test.pgraph");
  } catch (const IrError& e) {
    return e.what();
  }
  return "";
}

} // namespace

TEST_CASE("pgraph: save then load is identical") {
  Graph g = testing::sampleGraph();
  std::vector<uint8_t> bytes = serialize(g);
  Graph back = deserialize(bytes);
  CHECK(back == g);
  CHECK(dump(back) == dump(g));
  CHECK(serialize(back) == bytes);

  podm::test::ScratchDir dir;
  fs::path path = dir.path() / "sample.pgraph";
  save(g, path.string());
  Graph loaded = load(path.string());
  CHECK(loaded == g);
  // The temporary file of the atomic write is gone.
  size_t files = 0;
  for (const auto& e : fs::directory_iterator(path.parent_path()))
    files += e.path().filename().string().find(".tmp.") == std::string::npos ? 1 : 100;
  CHECK(files == 1);
  // Overwriting replaces the file in one step.
  Graph other("other");
  Builder(other).input("a", Type::scalar());
  save(other, path.string());
  CHECK(load(path.string()) == other);
}

TEST_CASE("pgraph: graphs without a loop and with an empty loop body round trip") {
  Graph g("plain");
  Builder b(g);
  ValueId x = b.input("x", Type::real({1, 2, 4, 4}));
  b.output("y", b.op(Op::Haar, {x}, {{"levels", int64_t{2}}}));
  CHECK(deserialize(serialize(g)) == g);
}

TEST_CASE("pgraph: clear messages for missing files, other versions, truncation, corruption") {
  CHECK_THROWS_WITH_AS(load("/nonexistent/x.pgraph"),
                       doctest::Contains("cannot open graph file '/nonexistent/x.pgraph'"),
                       IrError);
  std::vector<uint8_t> good = serialize(testing::sampleGraph());

  std::vector<uint8_t> v2 = good;
  putU32(v2, 8, 2);
  CHECK(loadError(v2) == "test.pgraph: graph file format version 2 is not supported; this podm "
                         "reads version 1 (recompile the model)");

  std::vector<uint8_t> magic = good;
  magic[0] = 'X';
  CHECK(loadError(magic) == "test.pgraph: not a podm graph file (bad magic)");

  CHECK(loadError({good.begin(), good.begin() + 10}).find("truncated graph file (10 bytes") !=
        std::string::npos);
  // Every truncation of the file is refused.
  for (size_t n = 0; n < good.size(); ++n)
    CHECK_MESSAGE(!loadError({good.begin(), good.begin() + n}).empty(), n);

  std::vector<uint8_t> flipped = good;
  flipped[good.size() / 2] ^= 0x10;
  CHECK(loadError(flipped) == "test.pgraph: corrupt graph file (checksum mismatch)");

  std::vector<uint8_t> longer = good;
  longer.push_back(0);
  CHECK(loadError(longer).find("corrupt graph file (") != std::string::npos);
}

TEST_CASE("pgraph: absurd sizes are refused before allocation") {
  std::vector<uint8_t> good = serialize(testing::sampleGraph());
  // Payload: name (4 + 6 bytes), loop flag, stages (8), then the node count.
  const size_t nodeCount = kPgraphHeaderBytes + 4 + 6 + 1 + 8;
  std::vector<uint8_t> many = good;
  putU32(many, nodeCount, 0xffffffffu);
  fixHeader(many);
  CHECK(loadError(many).find("node count 4294967295 exceeds the file") != std::string::npos);

  std::vector<uint8_t> longName = good;
  putU32(longName, kPgraphHeaderBytes, 0x7fffffffu);
  fixHeader(longName);
  CHECK(loadError(longName).find("graph name of 2147483647 bytes runs past the end") !=
        std::string::npos);

  // The first node is input "y": op name (4 + 5), region, kind, elem, then dims n, c, h, w.
  std::vector<uint8_t> hugeDims = good;
  const size_t dimH = nodeCount + 4 + 4 + 5 + 3 + 16;
  putU64(hugeDims, dimH, uint64_t{1} << 40);
  fixHeader(hugeDims);
  CHECK(loadError(hugeDims).find("outside [1, 16777216]") != std::string::npos);

  std::vector<uint8_t> wrongOp = good;
  wrongOp[nodeCount + 4 + 4] = 'X'; // "input" -> "Xnput"
  fixHeader(wrongOp);
  CHECK(loadError(wrongOp).find("unknown op 'Xnput'") != std::string::npos);
}

TEST_CASE("pgraph: random mutations never crash the loader") {
  const std::vector<uint8_t> good = serialize(testing::sampleGraph());
  std::mt19937 rng(12345);
  int loaded = 0, refused = 0;
  for (int trial = 0; trial < 4000; ++trial) {
    std::vector<uint8_t> b = good;
    int edits = 1 + static_cast<int>(rng() % 4);
    for (int e = 0; e < edits && !b.empty(); ++e) {
      switch (rng() % 5) {
      case 0: // flip bits
        b[rng() % b.size()] ^= static_cast<uint8_t>(1u << (rng() % 8));
        break;
      case 1: // random byte
        b[rng() % b.size()] = static_cast<uint8_t>(rng());
        break;
      case 2: // a large little-endian number somewhere in the payload
        if (b.size() > kPgraphHeaderBytes + 8)
          putU32(b, kPgraphHeaderBytes + rng() % (b.size() - kPgraphHeaderBytes - 4),
                 rng() % 2 ? 0xffffffffu : static_cast<uint32_t>(rng()));
        break;
      case 3: // truncate
        b.resize(rng() % b.size());
        break;
      case 4: // insert bytes
        b.insert(b.begin() + static_cast<long>(rng() % b.size()), rng() % 8,
                 static_cast<uint8_t>(rng()));
        break;
      }
    }
    // Most mutants get a consistent header, so that the payload parser sees them.
    if (trial % 4 != 0)
      fixHeader(b);
    try {
      Graph g = deserialize(b, "fuzz");
      CHECK(verificationErrors(g).empty());
      ++loaded;
    } catch (const IrError& e) {
      CHECK(std::string(e.what()).rfind("fuzz: ", 0) == 0);
      ++refused;
    }
  }
  CHECK(refused > 3000);
  MESSAGE("fuzz: " << loaded << " mutants loaded as valid graphs, " << refused << " refused");
}
