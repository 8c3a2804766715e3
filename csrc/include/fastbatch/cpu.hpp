// Which instruction sets this CPU has, and which kernel table is in use. Detected once; tests and
// benchmarks may force a path (FASTBATCH_ISA=scalar|avx2|avx512, or select_kernels()).
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "fastbatch/kernels.hpp"

namespace fastbatch {

// Names of the kernel tables this build has and this CPU can run, best last ("scalar" first).
std::vector<std::string> available_isas();

// The table in use.
const Kernels& active_kernels();

// Switches the table; false (and no change) when `name` is not available. Not thread-safe with
// running calls: meant for tests and benchmarks between calls.
bool select_kernels(const std::string& name);

// One core's L2 cache in bytes, as the OS reports it (Linux); kFallbackL2Bytes where it does not.
inline constexpr std::size_t kFallbackL2Bytes = 256 * 1024;
std::size_t l2_cache_bytes();

}  // namespace fastbatch
