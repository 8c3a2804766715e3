// Pixel layout work around the resize: contiguous copies of strided views (the transposes and flips
// of EXIF orientation, column steps, Pillow's padded RGB) and alpha flattened onto a background.
#pragma once

#include <cstddef>
#include <cstdint>

#include "fastbatch/image.hpp"

namespace fastbatch {

// Pixels anywhere in memory: every step in bytes, negative allowed. A pixel's channels are
// consecutive bytes; pixel i of row y starts at data + y * row_step + i * pixel_step.
struct StridedView {
    const std::uint8_t* data = nullptr;
    int width = 0;
    int height = 0;
    int channels = 0;  // 1..4
    std::ptrdiff_t row_step = 0;
    std::ptrdiff_t pixel_step = 0;
};

// dst (same size and channels) gets src's pixels. Never throws.
void copy_pixels(const StridedView& src, const MutableImageView& dst, int threads) noexcept;

// Straight-alpha LA -> L or RGBA -> RGB over an opaque colour: each channel becomes
// (c * a + b * (255 - a) + 127) / 255, integer division. `background` holds dst.channels values.
// src.channels == dst.channels + 1. Never throws.
void flatten_alpha(const ImageView& src, const MutableImageView& dst, const std::uint8_t* background,
                   int threads) noexcept;

}  // namespace fastbatch
