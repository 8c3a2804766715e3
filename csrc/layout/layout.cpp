// Strided copies and alpha flattening (see layout.hpp). Plain loops the compiler vectorises well
// enough: both run once per file on output-sized images, where numpy's generic element-by-element
// versions cost 11-14 ms (a 1280x960 RGB transpose) and 42 ms (flattening 1280x960 RGBA).
#include "fastbatch/layout.hpp"

#include <algorithm>
#include <cstring>

#include "fastbatch/parallel.hpp"

namespace fastbatch {

namespace {

// Square tiles of destination pixels: a transposed source walks down its columns, touching one
// cache line per destination column, and a tile's worth of those lines stays in L1 while its rows
// are written.
constexpr int kTile = 32;

template <int C>
void copy_tile_rows(const StridedView& src, const MutableImageView& dst, int y0, int y1) noexcept {
    for (int x0 = 0; x0 < src.width; x0 += kTile) {
        const int x1 = std::min(src.width, x0 + kTile);
        for (int y = y0; y < y1; ++y) {
            const std::uint8_t* in = src.data + y * src.row_step + x0 * src.pixel_step;
            std::uint8_t* out = dst.row(y) + static_cast<std::ptrdiff_t>(x0) * C;
            for (int x = x0; x < x1; ++x, in += src.pixel_step, out += C) std::memcpy(out, in, C);
        }
    }
}

template <int C>
void copy_rows(const StridedView& src, const MutableImageView& dst, int threads) noexcept {
    const std::size_t row_bytes = static_cast<std::size_t>(src.width) * C;
    const int n = resolve_threads(threads, row_bytes * src.height, src.height);
    if (src.pixel_step == C) {  // rows already packed (a row flip, a crop): one memcpy each
#pragma omp parallel for num_threads(n) if (n > 1) schedule(static)
        for (int y = 0; y < src.height; ++y) std::memcpy(dst.row(y), src.data + y * src.row_step, row_bytes);
        return;
    }
    const int bands = (src.height + kTile - 1) / kTile;
#pragma omp parallel for num_threads(n) if (n > 1) schedule(dynamic, 1)
    for (int band = 0; band < bands; ++band) {
        copy_tile_rows<C>(src, dst, band * kTile, std::min(src.height, (band + 1) * kTile));
    }
}

// x / 255 rounded down, exact for 0 <= x < 65535 (checked exhaustively); flattening reaches 65152.
inline std::uint32_t div255(std::uint32_t x) { return (x + 1 + (x >> 8)) >> 8; }

template <int C>  // colour channels: 1 (LA) or 3 (RGBA)
void flatten_rows(const ImageView& src, const MutableImageView& dst, const std::uint8_t* background,
                  int threads) noexcept {
    std::uint32_t bg[C];
    for (int i = 0; i < C; ++i) bg[i] = background[i];
    const int n = resolve_threads(threads, src.row_bytes() * src.height, src.height);
#pragma omp parallel for num_threads(n) if (n > 1) schedule(static)
    for (int y = 0; y < src.height; ++y) {
        const std::uint8_t* in = src.row(y);
        std::uint8_t* out = dst.row(y);
        for (int x = 0; x < src.width; ++x, in += C + 1, out += C) {
            const std::uint32_t a = in[C];
            for (int i = 0; i < C; ++i) out[i] = static_cast<std::uint8_t>(div255(in[i] * a + bg[i] * (255 - a) + 127));
        }
    }
}

}  // namespace

void copy_pixels(const StridedView& src, const MutableImageView& dst, int threads) noexcept {
    switch (src.channels) {
        case 1: return copy_rows<1>(src, dst, threads);
        case 2: return copy_rows<2>(src, dst, threads);
        case 3: return copy_rows<3>(src, dst, threads);
        default: return copy_rows<4>(src, dst, threads);
    }
}

void flatten_alpha(const ImageView& src, const MutableImageView& dst, const std::uint8_t* background,
                   int threads) noexcept {
    if (src.channels == 2) return flatten_rows<1>(src, dst, background, threads);
    flatten_rows<3>(src, dst, background, threads);
}

}  // namespace fastbatch
