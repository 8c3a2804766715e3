// Grayscale orchestration: rows across threads, one kernel call per row.
#include "fastbatch/gray.hpp"

#include "fastbatch/cpu.hpp"
#include "fastbatch/parallel.hpp"

namespace fastbatch {

std::optional<LumaWeights> parse_weights(std::string_view name) {
    if (name == "bt601") return LumaWeights::Bt601;
    if (name == "bt709") return LumaWeights::Bt709;
    return std::nullopt;
}

void grayscale(const ImageView& src, const MutableImageView& dst, LumaWeights weights, int threads) noexcept {
    const Kernels& k = active_kernels();
    const int index = src.padded() ? 2 : src.channels - 3;
    auto row_kernel = (weights == LumaWeights::Bt601 ? k.gray_bt601 : k.gray_bt709)[index];
    const int n = resolve_threads(threads, src.row_bytes() * src.height, src.height);
#pragma omp parallel for num_threads(n) if (n > 1) schedule(dynamic, 4)
    for (int y = 0; y < src.height; ++y) row_kernel(src.row(y), dst.row(y), src.width);
}

}  // namespace fastbatch
