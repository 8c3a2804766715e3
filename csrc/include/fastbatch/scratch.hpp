// Uninitialised scratch memory, recycled per thread. Large intermediates (tens of MB) allocated
// fresh on every call are mmap'ed and page-faulted in zeroed by the kernel each time: profiling
// a 5120x2880 RGBA resize showed 40% of its time in the kernel doing that. Each thread keeps the
// last buffer of each role (up to kMaxCachedBytes) for the next call.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

namespace fastbatch {

// Buffers larger than this are returned to the system after use rather than kept.
inline constexpr std::size_t kMaxCachedBytes = std::size_t{256} << 20;

enum class ScratchRole { Intermediate = 0, Staged = 1 };

class ScratchBuffer {
public:
    explicit ScratchBuffer(ScratchRole role) : role_(role) {}
    ~ScratchBuffer();
    ScratchBuffer(const ScratchBuffer&) = delete;
    ScratchBuffer& operator=(const ScratchBuffer&) = delete;

    // At least `bytes` of uninitialised memory (contents unspecified). May throw std::bad_alloc.
    void resize(std::size_t bytes);
    std::uint8_t* data() const { return data_.get(); }

private:
    ScratchRole role_;
    std::unique_ptr<std::uint8_t[]> data_;
    std::size_t capacity_ = 0;
};

}  // namespace fastbatch
