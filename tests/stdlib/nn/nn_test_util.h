// Small helpers for the nn tests: a scratch folder per test and raw file writing.
#pragma once

#include "tests/support/scratch_dir.h"

#include <fstream>
#include <iterator>
#include <string>

namespace podm::nn::testutil {

// Each test's files live in its own scratch folder (tests/support/scratch_dir.h).
using podm::test::ScratchDir;

inline void writeBytes(const std::string& path, const std::string& bytes) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

inline std::string readBytes(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(f), {});
}

// A safetensors file from a header text and a data section; `len` overrides the stored length.
inline std::string safetensorsBytes(const std::string& header, const std::string& data,
                                    unsigned long long len = ~0ull) {
  unsigned long long n = len == ~0ull ? header.size() : len;
  std::string out(8, '\0');
  for (int i = 0; i < 8; ++i)
    out[size_t(i)] = char((n >> (8 * i)) & 0xFF);
  return out + header + data;
}

} // namespace podm::nn::testutil
