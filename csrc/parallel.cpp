#include "fastbatch/parallel.hpp"

#include <algorithm>

#include <omp.h>

namespace fastbatch {

int resolve_threads(int requested, std::size_t work_items, std::size_t rows) {
    const std::size_t wanted = requested > 0 ? static_cast<std::size_t>(requested)
                                             : static_cast<std::size_t>(std::max(1, omp_get_num_procs()));
    const std::size_t by_work = std::max<std::size_t>(1, work_items / kMinWorkPerThread);
    return static_cast<int>(std::max<std::size_t>(1, std::min({wanted, by_work, rows})));
}

}  // namespace fastbatch
