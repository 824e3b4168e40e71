// safetensors: round trip, f16/bf16/f64 reading, and hostile files (huge or lying header
// lengths, bad JSON, unsupported dtypes, overflowing shapes, offsets outside the file,
// overlapping tensors) that must give a clear WeightsError and never crash or over-allocate;
// plus a deterministic fuzz of a few thousand mutations of a valid file.
#include "nn_test_util.h"
#include "stdlib/nn/json.h"
#include "stdlib/nn/safetensors.h"

#include <cstring>
#include <doctest/doctest.h>
#include <filesystem>
#include <random>

using namespace podm::nn;
using namespace podm::nn::testutil;

namespace {

std::string errorOf(const std::string& bytes) {
  ScratchDir dir;
  std::string path = dir.file("hostile.safetensors");
  writeBytes(path, bytes);
  try {
    readSafetensors(path);
  } catch (const WeightsError& e) {
    return e.what();
  }
  return "no error";
}

std::string f32bytes(std::initializer_list<float> v) {
  std::string s(4 * v.size(), '\0');
  std::memcpy(s.data(), std::data(v), s.size());
  return s;
}

} // namespace

TEST_CASE("safetensors round trip keeps names, shapes, values and metadata") {
  ScratchDir dir;
  TensorMap t;
  t["conv0.weight"] = HostTensor{{2, 1, 3, 3}, {}};
  for (int i = 0; i < 18; ++i)
    t["conv0.weight"].data.push_back(0.25f * float(i) - 1.0f);
  t["conv0.bias"] = HostTensor{{2}, {1.5f, -3.0e-7f}};
  t["scalar"] = HostTensor{{}, {42.0f}};
  t["empty"] = HostTensor{{0, 4}, {}};
  std::string path = dir.file("rt.safetensors");
  writeSafetensors(path, t, {{"source", "test \"quoted\"\n"}});
  SafetensorsFile f = readSafetensors(path);
  CHECK(f.metadata.at("source") == "test \"quoted\"\n");
  REQUIRE(f.tensors.size() == t.size());
  for (const auto& [name, ht] : t) {
    CAPTURE(name);
    CHECK(f.tensors.at(name).shape == ht.shape);
    CHECK(f.tensors.at(name).data == ht.data);
  }
  std::vector<TensorInfo> info = inspectSafetensors(path);
  REQUIRE(info.size() == 4);
  CHECK(info[0].name == "conv0.bias");
  CHECK(info[0].dtype == "F32");
  // The data section starts 8-byte aligned, as the format recommends.
  std::string raw = readBytes(path);
  uint64_t n = 0;
  std::memcpy(&n, raw.data(), 8);
  CHECK((n + 8) % 8 == 0);
}

TEST_CASE("safetensors reads F16, BF16 and F64 as f32") {
  ScratchDir dir;
  // 1.0, -2.0, 65504 (max half), 2^-24 (smallest subnormal half), inf
  std::string f16 = std::string("\x00\x3c\x00\xc0\xff\x7b\x01\x00\x00\x7c", 10);
  // bf16 1.0, -3.0
  std::string bf16 = std::string("\x80\x3f\x40\xc0", 4);
  double d[2] = {0.5, -1e-3};
  std::string f64(reinterpret_cast<const char*>(d), 16);
  std::string header = R"({"a":{"dtype":"F16","shape":[5],"data_offsets":[0,10]},)"
                       R"("b":{"dtype":"BF16","shape":[2],"data_offsets":[10,14]},)"
                       R"("c":{"dtype":"F64","shape":[2,1],"data_offsets":[14,30]}})";
  std::string path = dir.file("half.safetensors");
  writeBytes(path, safetensorsBytes(header, f16 + bf16 + f64));
  SafetensorsFile f = readSafetensors(path);
  const auto& a = f.tensors.at("a").data;
  CHECK(a[0] == 1.0f);
  CHECK(a[1] == -2.0f);
  CHECK(a[2] == 65504.0f);
  CHECK(a[3] == std::ldexp(1.0f, -24));
  CHECK(std::isinf(a[4]));
  CHECK(f.tensors.at("b").data == std::vector<float>{1.0f, -3.0f});
  CHECK(f.tensors.at("c").data == std::vector<float>{0.5f, -1e-3f});
  CHECK(f.tensors.at("c").shape == std::vector<int64_t>{2, 1});
}

TEST_CASE("hostile safetensors files give clear errors") {
  ScratchDir dir;
  std::string ok = R"({"t":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})";
  std::string data = f32bytes({1, 2});
  CHECK(errorOf(safetensorsBytes(ok, data)) == "no error");
  CHECK(errorOf("abc").find("too short") != std::string::npos);
  CHECK(errorOf(safetensorsBytes(ok, data, 1ull << 60)).find("exceeds the file size") !=
        std::string::npos);
  CHECK(errorOf(safetensorsBytes(ok, data, ok.size() + 9)).find("exceeds the file size") !=
        std::string::npos);
  CHECK(errorOf(safetensorsBytes(ok, data, ok.size() - 1)).find("malformed header") !=
        std::string::npos);
  auto withEntry = [&](const std::string& entry) {
    return errorOf(safetensorsBytes("{\"t\":" + entry + "}", data));
  };
  CHECK(withEntry(R"({"dtype":"I64","shape":[1],"data_offsets":[0,8]})")
            .find("unsupported dtype 'I64'") != std::string::npos);
  CHECK(withEntry(R"({"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,8]})")
            .find("overflows") != std::string::npos);
  CHECK(withEntry(R"({"dtype":"F32","shape":[3037000500,3037000500],"data_offsets":[0,8]})")
            .find("overflows") != std::string::npos);
  CHECK(withEntry(R"({"dtype":"F32","shape":[3],"data_offsets":[0,8]})").find("needs 12 bytes") !=
        std::string::npos);
  CHECK(withEntry(R"({"dtype":"F32","shape":[2],"data_offsets":[4,12]})")
            .find("outside the data section") != std::string::npos);
  CHECK(withEntry(R"({"dtype":"F32","shape":[2],"data_offsets":[8,0]})")
            .find("outside the data section") != std::string::npos);
  CHECK(withEntry(R"({"dtype":"F32","shape":[2],"data_offsets":[0,99999999999999999999]})")
            .find("non-negative integers") != std::string::npos);
  CHECK(withEntry(R"({"dtype":"F32","shape":[-2],"data_offsets":[0,8]})")
            .find("non-negative integers") != std::string::npos);
  CHECK(withEntry(R"({"dtype":"F32","shape":[2.0],"data_offsets":[0,8]})")
            .find("non-negative integers") != std::string::npos);
  CHECK(withEntry(R"({"dtype":"F32","shape":[2]})").find("data_offsets") != std::string::npos);
  CHECK(withEntry(R"({"dtype":"F32","shape":[2],"data_offsets":[0,8],"x":1})")
            .find("unexpected keys") != std::string::npos);
  CHECK(withEntry("[1,2]").find("not an object") != std::string::npos);
  CHECK(errorOf(safetensorsBytes(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                                 R"("b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})",
                                 data))
            .find("overlap") != std::string::npos);
  CHECK(errorOf(safetensorsBytes(R"({"t":1,"t":2})", data)).find("duplicate key") !=
        std::string::npos);
  CHECK(errorOf(safetensorsBytes(R"({"t":{},})", data)).find("malformed header") !=
        std::string::npos);
  CHECK(errorOf(safetensorsBytes(std::string(100000, '['), data)).find("nesting deeper") !=
        std::string::npos);
  CHECK(errorOf(safetensorsBytes(R"({"__metadata__":{"a":1}})", "")).find("not a string") !=
        std::string::npos);
  // A header longer than 100 MB is refused before anything is read or allocated for it.
  std::string big = dir.file("big.safetensors");
  writeBytes(big, safetensorsBytes("", "", 101ull << 20));
  std::filesystem::resize_file(big, (101ull << 20) + 8);
  try {
    readSafetensors(big);
    FAIL("expected an error");
  } catch (const WeightsError& e) {
    CHECK(std::string(e.what()).find("100 MB limit") != std::string::npos);
  }
  std::filesystem::remove(big);
  CHECK_THROWS_AS(readSafetensors(dir.file("does-not-exist")), WeightsError);
}

TEST_CASE("strict JSON reader") {
  CHECK(json::parse(R"( {"a":[1,-2.5e3,true,null,"\u00e9\ud83d\ude00"]} )")
            .find("a")
            ->items[4]
            .text == "\xc3\xa9\xf0\x9f\x98\x80");
  for (const char* bad : {"", "01", "[1,]", "{\"a\":1,}", "\"\x01\"", "[1 2]", "tru", "\"\\ud800\"",
                          "1 1", "-", "1.", "{\"a\" 1}", "\"\\x\""}) {
    CAPTURE(bad);
    CHECK_THROWS_AS(json::parse(bad), json::ParseError);
  }
  int64_t v;
  CHECK(json::parse("9223372036854775807").asIndex(v));
  CHECK(!json::parse("9223372036854775808").asIndex(v));
  CHECK(!json::parse("1e3").asIndex(v));
}

TEST_CASE("fuzz: mutated safetensors files load or fail cleanly") {
  ScratchDir dir;
  TensorMap t;
  t["conv0.weight"] = HostTensor{{2, 1, 3, 3}, std::vector<float>(18, 0.5f)};
  t["conv0.bias"] = HostTensor{{2}, {1.0f, 2.0f}};
  std::string path = dir.file("fuzz-base.safetensors");
  writeSafetensors(path, t, {{"k", "v"}});
  const std::string base = readBytes(path);
  std::mt19937 rng(1234);
  int loaded = 0, rejected = 0;
  const char* interesting[] = {"0", "9", "-", "\"", "{", "}", "[", "]", ",", ":", "e", "\\"};
  for (int iter = 0; iter < 3000; ++iter) {
    std::string m = base;
    int edits = 1 + int(rng() % 4);
    for (int e = 0; e < edits; ++e) {
      size_t pos = rng() % m.size();
      switch (rng() % 5) {
      case 0:
        m[pos] = char(rng());
        break;
      case 1:
        m[pos] = interesting[rng() % 12][0];
        break;
      case 2:
        m.resize(pos);
        break;
      case 3:
        m.insert(pos, 1, interesting[rng() % 12][0]);
        break;
      case 4: // the header length
        if (m.size() >= 8)
          m[rng() % 8] = char(rng());
        break;
      }
      if (m.empty())
        m = "x";
    }
    writeBytes(path, m);
    try {
      SafetensorsFile f = readSafetensors(path);
      for (const auto& [name, ht] : f.tensors)
        REQUIRE(ht.data.size() == size_t(checkedNumel(ht.shape)));
      ++loaded;
    } catch (const WeightsError& e) {
      REQUIRE(std::string(e.what()).rfind(path, 0) == 0); // the message names the file
      ++rejected;
    }
  }
  MESSAGE("safetensors fuzz: " << loaded << " loaded, " << rejected << " rejected");
  CHECK(rejected > 1000);
}
