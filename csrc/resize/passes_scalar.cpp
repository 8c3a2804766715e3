// Scalar reference kernels: the definition every vectorised path must reproduce byte for byte.
#include <algorithm>
#include <cstring>

#include "fastbatch/kernels.hpp"

namespace fastbatch {
namespace {

inline std::uint8_t clip_fixed(std::int32_t acc, int precision) {
    // Arithmetic shift, then clamp: Pillow's clip8() for a rounded accumulator.
    return static_cast<std::uint8_t>(std::clamp(acc >> precision, 0, 255));
}

// C channels out of Step bytes a source pixel (Step > C: Pillow's padded RGB).
template <int C, int Step = C>
void horizontal_scalar_row(const std::uint8_t* src, std::uint8_t* dst, const AxisPlan& plan) {
    const std::int32_t half = std::int32_t{1} << (plan.precision - 1);
    for (int x = 0; x < plan.out_size; ++x) {
        const std::int16_t* k = plan.coeffs_of(x);
        const std::uint8_t* s = src + static_cast<std::size_t>(plan.start[x]) * Step;
        std::int32_t acc[C];
        for (int c = 0; c < C; ++c) acc[c] = half;
        for (int t = 0; t < plan.count[x]; ++t) {
            for (int c = 0; c < C; ++c) acc[c] += s[t * Step + c] * k[t];
        }
        for (int c = 0; c < C; ++c) dst[x * C + c] = clip_fixed(acc[c], plan.precision);
    }
}

template <int C, int Step = C>
void horizontal_scalar(const std::uint8_t* src, std::ptrdiff_t src_stride, std::uint8_t* dst,
                       std::ptrdiff_t dst_stride, int rows, const AxisPlan& plan) {
    for (int r = 0; r < rows; ++r) horizontal_scalar_row<C, Step>(src + r * src_stride, dst + r * dst_stride, plan);
}

void vertical_scalar(const std::uint8_t* first_row, std::ptrdiff_t stride, int count, const std::int16_t* coeffs,
                     int precision, std::uint8_t* dst, std::size_t row_bytes) {
    // Blocks of accumulators that stay in L1 while every tap's row streams through them.
    constexpr std::size_t kBlock = 1024;
    std::int32_t acc[kBlock];
    const std::int32_t half = std::int32_t{1} << (precision - 1);
    for (std::size_t x0 = 0; x0 < row_bytes; x0 += kBlock) {
        const std::size_t n = std::min(kBlock, row_bytes - x0);
        std::fill(acc, acc + n, half);
        for (int t = 0; t < count; ++t) {
            const std::uint8_t* row = first_row + t * stride + x0;
            const std::int32_t k = coeffs[t];
            for (std::size_t i = 0; i < n; ++i) acc[i] += row[i] * k;
        }
        for (std::size_t i = 0; i < n; ++i) dst[x0 + i] = clip_fixed(acc[i], precision);
    }
}

inline std::uint8_t mul_div255(unsigned value, unsigned alpha) {
    // value * alpha / 255 rounded, exactly as Pillow's MULDIV255.
    unsigned tmp = value * alpha + 128;
    return static_cast<std::uint8_t>(((tmp >> 8) + tmp) >> 8);
}

void premultiply_scalar(const std::uint8_t* src, std::uint8_t* dst, int width, int channels) {
    const int colors = channels - 1;
    for (int x = 0; x < width; ++x, src += channels, dst += channels) {
        const unsigned alpha = src[colors];
        for (int c = 0; c < colors; ++c) dst[c] = mul_div255(src[c], alpha);
        dst[colors] = static_cast<std::uint8_t>(alpha);
    }
}

void unpremultiply_scalar(const std::uint8_t* src, std::uint8_t* dst, int width, int channels) {
    const int colors = channels - 1;
    for (int x = 0; x < width; ++x, src += channels, dst += channels) {
        const unsigned alpha = src[colors];
        for (int c = 0; c < colors; ++c) {
            // Pillow: untouched at alpha 0 and 255, else 255 * c / alpha truncated and clipped.
            dst[c] = (alpha == 0 || alpha == 255)
                         ? src[c]
                         : static_cast<std::uint8_t>(std::min(255u, 255u * src[c] / alpha));
        }
        dst[colors] = static_cast<std::uint8_t>(alpha);
    }
}

void pack_padded_rgb_scalar(const std::uint8_t* src, std::uint8_t* dst, int width) {
    for (int x = 0; x < width; ++x) std::memcpy(dst + 3 * x, src + 4 * x, 3);
}

// Step: bytes per source pixel (3, or 4 for RGBA and padded RGB); KeepAlpha: copy byte 3 after L.
template <int Step, bool KeepAlpha>
void gray_bt601_scalar(const std::uint8_t* src, std::uint8_t* dst, int width) {
    for (int x = 0; x < width; ++x, src += Step) {
        *dst++ = static_cast<std::uint8_t>((src[0] * 19595u + src[1] * 38470u + src[2] * 7471u + 0x8000u) >> 16);
        if constexpr (KeepAlpha) *dst++ = src[3];
    }
}

template <int Step, bool KeepAlpha>
void gray_bt709_scalar(const std::uint8_t* src, std::uint8_t* dst, int width) {
    for (int x = 0; x < width; ++x, src += Step) {
        *dst++ = static_cast<std::uint8_t>((src[0] * 2126u + src[1] * 7152u + src[2] * 722u) / 10000u);
        if constexpr (KeepAlpha) *dst++ = src[3];
    }
}

}  // namespace

const Kernels& scalar_kernels() {
    static const Kernels table = {
        "scalar",
        {horizontal_scalar<1>, horizontal_scalar<2>, horizontal_scalar<3>, horizontal_scalar<4>},
        vertical_scalar,
        premultiply_scalar,
        unpremultiply_scalar,
        horizontal_scalar<3, 4>,
        pack_padded_rgb_scalar,
        {gray_bt601_scalar<3, false>, gray_bt601_scalar<4, true>, gray_bt601_scalar<4, false>},
        {gray_bt709_scalar<3, false>, gray_bt709_scalar<4, true>, gray_bt709_scalar<4, false>},
    };
    return table;
}

}  // namespace fastbatch
