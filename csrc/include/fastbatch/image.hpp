// Plain views of 8-bit interleaved images. Rows may be strided (even negatively); pixels inside a
// row are contiguous, except that a source may have 3-channel pixels padded to 4 bytes (Pillow's own
// RGB layout). Nothing here knows numpy or Pillow.
#pragma once

#include <cstddef>
#include <cstdint>

namespace fastbatch {

struct ImageView {
    const std::uint8_t* data = nullptr;  // first pixel of row 0
    int width = 0;
    int height = 0;
    int channels = 0;         // 1..4; 2 and 4 carry alpha last
    std::ptrdiff_t stride = 0;  // bytes from one row to the next
    int pixel_bytes = 0;        // bytes from one pixel to the next when padded (4 with 3 channels); 0: channels

    const std::uint8_t* row(int y) const { return data + static_cast<std::ptrdiff_t>(y) * stride; }
    // The packed size of a row's pixels (what a copy without padding holds).
    std::size_t row_bytes() const { return static_cast<std::size_t>(width) * channels; }
    bool padded() const { return pixel_bytes > channels; }
};

struct MutableImageView {
    std::uint8_t* data = nullptr;
    int width = 0;
    int height = 0;
    int channels = 0;
    std::ptrdiff_t stride = 0;

    std::uint8_t* row(int y) const { return data + static_cast<std::ptrdiff_t>(y) * stride; }
    std::size_t row_bytes() const { return static_cast<std::size_t>(width) * channels; }
    ImageView view() const { return ImageView{data, width, height, channels, stride}; }
};

inline bool has_alpha(int channels) { return channels == 2 || channels == 4; }

}  // namespace fastbatch
