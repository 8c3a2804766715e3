// Grayscale entry point: RGB -> L, RGBA -> LA.
#pragma once

#include <optional>
#include <string_view>

#include "fastbatch/image.hpp"

namespace fastbatch {

enum class LumaWeights {
    Bt601,  // (19595 R + 38470 G + 7471 B + 32768) >> 16: Pillow's convert("L"), bit for bit
    Bt709,  // (2126 R + 7152 G + 722 B) / 10000, truncated: the Rust image crate's grayscale()
};

inline constexpr std::string_view kWeightNames = "bt601, bt709";
std::optional<LumaWeights> parse_weights(std::string_view name);

// src has 3 or 4 channels; dst the same size with 1 or 2. Never throws.
void grayscale(const ImageView& src, const MutableImageView& dst, LumaWeights weights, int threads) noexcept;

}  // namespace fastbatch
