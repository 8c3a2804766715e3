#include "fastbatch/scratch.hpp"

namespace fastbatch {
namespace {

struct Cached {
    std::unique_ptr<std::uint8_t[]> data;
    std::size_t capacity = 0;
};

Cached& cache_for(ScratchRole role) {
    thread_local Cached slots[2];
    return slots[static_cast<int>(role)];
}

}  // namespace

void ScratchBuffer::resize(std::size_t bytes) {
    if (bytes <= capacity_) return;
    Cached& cached = cache_for(role_);
    if (cached.capacity >= bytes) {
        data_ = std::move(cached.data);
        capacity_ = cached.capacity;
        cached.capacity = 0;
        return;
    }
    data_.reset(new std::uint8_t[bytes]);  // default-initialised: no zeroing
    capacity_ = bytes;
}

ScratchBuffer::~ScratchBuffer() {
    if (!data_ || capacity_ > kMaxCachedBytes) return;
    Cached& cached = cache_for(role_);
    if (capacity_ >= cached.capacity) {  // keep the larger of the two
        cached.data = std::move(data_);
        cached.capacity = capacity_;
    }
}

}  // namespace fastbatch
