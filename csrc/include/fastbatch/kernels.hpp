// The pixel loops, as a table of function pointers: one table per instruction set, all giving the
// same bytes as the scalar reference. Kernels never throw and never allocate.
#pragma once

#include <cstddef>
#include <cstdint>

#include "fastbatch/plan.hpp"

namespace fastbatch {

// Rows the orchestrator hands the horizontal pass at once (kernels may take fewer: the last block).
inline constexpr int kHorizontalRowBlock = 4;

struct Kernels {
    const char* name;

    // `rows` output rows of the horizontal pass for `channels` = 1..4 (index channels - 1):
    // dst[x] = sum over taps of src[plan.start[x] + t] * coeff, row r at src + r * src_stride.
    // Several rows per call let a kernel load each coefficient once for all of them.
    void (*horizontal[4])(const std::uint8_t* src, std::ptrdiff_t src_stride, std::uint8_t* dst,
                          std::ptrdiff_t dst_stride, int rows, const AxisPlan& plan);

    // One output row of the vertical pass: dst[i] = sum over t < count of row_t[i] * coeffs[t],
    // row_t = first_row + t * stride, for i < row_bytes (channel-agnostic).
    void (*vertical)(const std::uint8_t* first_row, std::ptrdiff_t stride, int count,
                     const std::int16_t* coeffs, int precision, std::uint8_t* dst, std::size_t row_bytes);

    // Alpha-last pixels, in place is allowed (src == dst). channels is 2 or 4.
    // premultiply: Pillow's RGBA -> RGBa (c * a / 255 rounded); unpremultiply: RGBa -> RGBA.
    void (*premultiply)(const std::uint8_t* src, std::uint8_t* dst, int width, int channels);
    void (*unpremultiply)(const std::uint8_t* src, std::uint8_t* dst, int width, int channels);

    // The horizontal pass for 3-channel source rows whose pixels are padded to 4 bytes (Pillow's
    // layout): src[4 * (plan.start[x] + t) + c], dst packed, 3 bytes a pixel. Same sums as
    // horizontal[2] on the packed rows, without packing them first.
    void (*horizontal_padded_rgb)(const std::uint8_t* src, std::ptrdiff_t src_stride, std::uint8_t* dst,
                                  std::ptrdiff_t dst_stride, int rows, const AxisPlan& plan);

    // RGB pixels padded to 4 bytes (Pillow's layout) packed to 3: dst gets width * 3 bytes.
    void (*pack_padded_rgb)(const std::uint8_t* src, std::uint8_t* dst, int width);

    // One row of grayscale, by index: 0 = RGB -> L, 1 = RGBA -> LA (alpha copied), 2 = RGB with
    // pixels padded to 4 bytes (Pillow's layout) -> L.
    void (*gray_bt601[3])(const std::uint8_t* src, std::uint8_t* dst, int width);
    void (*gray_bt709[3])(const std::uint8_t* src, std::uint8_t* dst, int width);
};

const Kernels& scalar_kernels();
// Vectorised tables, compiled only where the architecture has them (FASTBATCH_HAVE_*). Callers
// check the CPU first (cpu.cpp).
const Kernels* avx2_kernels();

}  // namespace fastbatch
