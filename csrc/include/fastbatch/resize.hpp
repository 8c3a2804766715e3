// Resize entry point. Two steps so that validation and allocation happen with the caller's locks
// held (the GIL) and the pixel work without: prepare() may throw, run() never does.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "fastbatch/filters.hpp"
#include "fastbatch/image.hpp"
#include "fastbatch/kernels.hpp"
#include "fastbatch/plan.hpp"
#include "fastbatch/scratch.hpp"

namespace fastbatch {

// Largest accepted side, input or output. Larger is surely a mistake and risks overflow.
inline constexpr int kMaxSide = 1 << 24;
// Largest accepted source, in bytes: a sanity bound on what the caller claims to hold.
inline constexpr std::uint64_t kMaxImageBytes = std::uint64_t{1} << 36;
// Largest result we allocate (4 GiB): a bigger target is almost surely a typo, and letting the
// allocation through risks the out-of-memory killer rather than a clear error.
inline constexpr std::uint64_t kMaxOutputBytes = std::uint64_t{1} << 32;

// The source rectangle a resize samples (Pillow's resize box), in source pixels; single precision
// as Pillow takes it. Windows near its edges still read the pixels around it, as Pillow's do.
struct SourceBox {
    float left, top, right, bottom;
};

// Which pass goes first when both are needed. Pillow: Pillow 13's choice, which keeps the pixels
// within 1 of Pillow's. Fastest: when both sides shrink, whichever order this core runs faster;
// the 8-bit intermediate is then rounded and clamped at another stage, a few levels apart on
// photos (more on hard synthetic edges). For callers that trade exact parity for speed.
enum class PassOrder { Pillow, Fastest };

class ResizeJob {
public:
    // Throws std::invalid_argument on bad sizes or channels, std::bad_alloc when out of memory.
    // padded_source: 3-channel source pixels padded to 4 bytes (Pillow's RGB), read in place by
    // both passes (a vertical pass filters the fourth byte too; it is dropped when packing).
    // box: the part of the source to sample (the whole source when null), 0 <= left < right <=
    // src_width and 0 <= top < bottom <= src_height, checked by the caller.
    ResizeJob(int src_width, int src_height, int channels, int dst_width, int dst_height, Filter filter,
              int threads, bool padded_source = false, const SourceBox* box = nullptr,
              PassOrder order = PassOrder::Pillow);

    // src must be src_width x src_height x channels (its pixels padded to 4 bytes when the job was
    // made with padded_source), dst dst_width x dst_height x channels.
    void run(const ImageView& src, const MutableImageView& dst) noexcept;

private:
    // Bytes from one source pixel to the next: 4 for padded RGB, which every pass reads as it is.
    int source_pixel_bytes() const { return padded_source_ ? 4 : channels_; }
    // The pass order, when both passes are needed; shrinks: no side of the sampled region grows.
    bool prefer_vertical_first(bool shrinks) const;
    void run_nearest(const ImageView& src, const MutableImageView& dst) noexcept;
    // Columns [first_column, first_column + columns) of an alpha source row premultiplied, at the
    // same place in `out`'s row.
    void stage_row(const std::uint8_t* in, std::uint8_t* out, int first_column, int columns) const noexcept;
    void stage_rows(const ImageView& src, int first_row, int last_row) noexcept;
    // Filters every row of `out` from the same row of `in` (source rows), in parallel blocks of
    // horizontal_rows, unpremultiplying on the way as asked.
    void horizontal_pass(const ImageView& in, const MutableImageView& out, bool unpremultiply) noexcept;
    // padded_rows: `in` holds padded RGB, filtered four bytes a pixel and packed into `out`.
    void vertical_pass(const ImageView& in, int first_row, const MutableImageView& out, bool unpremultiply,
                       bool padded_rows) noexcept;
    // Source rows [first, first + count) filtered horizontally by `plan` into `out` (rows out_stride apart),
    // on the calling thread, staged through `stage` (kHorizontalRowBlock rows) when not null.
    void horizontal_rows(const AxisPlan& plan, const ImageView& in, int first, int count, std::uint8_t* out,
                         std::ptrdiff_t out_stride, std::uint8_t* stage) const noexcept;
    // Both passes, the intermediate streamed: a window of rows on one thread (horizontal first), or a
    // block of four rows per thread (vertical first).
    void run_horizontal_first(const ImageView& src, const MutableImageView& dst) noexcept;
    void run_vertical_first(const ImageView& in, int first_row, const MutableImageView& dst) noexcept;

    // Rows the horizontal-first stream filters ahead of need, so the kernels get whole blocks of rows.
    static constexpr int kFillAhead = 2 * kHorizontalRowBlock;

    int src_width_, src_height_, channels_, dst_width_, dst_height_;
    bool alpha_, padded_source_;
    PassOrder order_;
    Filter filter_;
    bool need_horizontal_ = false, need_vertical_ = false;
    bool vertical_first_ = false;
    bool stream_horizontal_first_ = false;  // see the constructor
    AxisPlan horizontal_, vertical_;
    int threads_horizontal_ = 1, threads_vertical_ = 1, threads_both_ = 1;
    int window_rows_ = 0;  // streamed horizontal first: filtered rows kept
    // Scratch images, uninitialised (every byte is written before it is read) and recycled.
    // The first pass's rows: a window of them or a block per thread (streamed), or all of them.
    ScratchBuffer intermediate_{ScratchRole::Intermediate};
    ScratchBuffer staged_{ScratchRole::Staged};  // staged source rows, or a block of them per thread
    std::vector<std::int32_t> nearest_x_;     // nearest: source column of each output column
    std::vector<std::int32_t> nearest_y_;     // nearest: source row of each output row
};

// Throws std::invalid_argument when a side is out of range or the image above `max_bytes`.
void check_image_size(int width, int height, int channels, const char* what, std::uint64_t max_bytes);

}  // namespace fastbatch
