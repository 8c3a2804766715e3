// How many threads a loop gets: what the caller asked (0 = every core), but never so many that a
// thread has less than a minimum amount of work, so small images don't pay for thread start-up.
#pragma once

#include <cstddef>

namespace fastbatch {

// Below this many multiply-adds (or bytes touched, for cheap loops) per thread, adding a thread
// costs more in OpenMP wake-up than it saves. Measured on the 2-core machine, RGB halving with
// Lanczos3, 2 threads vs 1: 64x48 0.97x, 128x96 1.13x, 256x192 1.26x, 512x384 1.40x (medians of
// 201 calls, quiet machine); 128K multiply-adds per thread keeps the smallest case on one thread.
inline constexpr std::size_t kMinWorkPerThread = std::size_t{1} << 17;

int resolve_threads(int requested, std::size_t work_items, std::size_t rows);

}  // namespace fastbatch
