// How many threads a loop gets: what the caller asked (0 = every core), but never so many that a
// thread has less than a minimum amount of work, so small images don't pay for thread start-up.
#pragma once

#include <cstddef>

namespace fastbatch {

// Below this many multiply-adds (or bytes touched, for cheap loops) per thread, adding a thread
// costs more in OpenMP wake-up (~5-20 us) than it saves.
inline constexpr std::size_t kMinWorkPerThread = std::size_t{1} << 17;

int resolve_threads(int requested, std::size_t work_items, std::size_t rows);

}  // namespace fastbatch
