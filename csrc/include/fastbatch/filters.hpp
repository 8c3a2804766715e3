// Resampling filters with Pillow's definitions and supports (src/libImaging/Resample.c).
#pragma once

#include <optional>
#include <string_view>

namespace fastbatch {

enum class Filter { Nearest, Box, Bilinear, Hamming, Bicubic, Lanczos3 };

// Names accepted from Python, in the order error messages list them.
inline constexpr std::string_view kFilterNames = "nearest, box, bilinear, hamming, bicubic, lanczos3";

std::optional<Filter> parse_filter(std::string_view name);

// Half-width of the kernel at scale 1, in source pixels. Nearest has none: it is not a convolution.
double filter_support(Filter filter);

// The kernel's value at distance x (in source pixels at scale 1). Not defined for Nearest.
double filter_weight(Filter filter, double x);

}  // namespace fastbatch
