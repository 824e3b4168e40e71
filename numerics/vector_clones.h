// PODM_VECTOR_CLONES: a hot loop compiled for the baseline x86-64 (SSE2), for AVX2 and for
// AVX-512, the clone picked once at load time by what the CPU has (GCC's target_clones, an ifunc).
// The build targets the baseline so that one binary runs on every x86-64 machine (the GPU pack is
// built on one machine and run on another); without this, our own loops use 128-bit vectors on
// CPUs that have 256 or 512. The clones compute the same bits: the build is ISO C++
// (CMAKE_CXX_EXTENSIONS OFF), so GCC contracts no a*b+c into an FMA in any clone, and it reorders
// no floating-point sum, so each clone runs the same IEEE operations in the same order, on wider
// vectors. The sanitizer build compiles the baseline loop only.
#pragma once

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) &&                             \
    !defined(__SANITIZE_ADDRESS__) && !defined(__CUDACC__)
#define PODM_VECTOR_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define PODM_VECTOR_CLONES
#endif
