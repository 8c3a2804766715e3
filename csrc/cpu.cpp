// Kernel selection: the best table this build has and this CPU runs, unless FASTBATCH_ISA asks for
// another. Vectorised tables register here as they are added.
#include "fastbatch/cpu.hpp"

#include <atomic>
#include <cstdlib>

#if defined(__linux__)
#include <unistd.h>
#endif

namespace fastbatch {
namespace {

struct Entry {
    const char* name;
    const Kernels* (*table)();  // nullptr result: not built or not supported by this CPU
};

const Kernels* scalar_entry() { return &scalar_kernels(); }

#if defined(FASTBATCH_HAVE_AVX2)
const Kernels* avx2_entry() { return __builtin_cpu_supports("avx2") ? avx2_kernels() : nullptr; }
#endif

// Worst to best: the last one available is the default.
const Entry kEntries[] = {
    {"scalar", scalar_entry},
#if defined(FASTBATCH_HAVE_AVX2)
    {"avx2", avx2_entry},
#endif
};

const Kernels* find(const std::string& name) {
    for (const Entry& e : kEntries) {
        if (name == e.name) return e.table();
    }
    return nullptr;
}

const Kernels* initial_table() {
    if (const char* forced = std::getenv("FASTBATCH_ISA")) {
        if (const Kernels* k = find(forced)) return k;
    }
    const Kernels* best = nullptr;
    for (const Entry& e : kEntries) {
        if (const Kernels* k = e.table()) best = k;
    }
    return best;
}

std::atomic<const Kernels*>& current() {
    static std::atomic<const Kernels*> table{initial_table()};
    return table;
}

}  // namespace

std::vector<std::string> available_isas() {
    std::vector<std::string> names;
    for (const Entry& e : kEntries) {
        if (e.table()) names.emplace_back(e.name);
    }
    return names;
}

const Kernels& active_kernels() { return *current().load(std::memory_order_acquire); }

std::size_t l2_cache_bytes() {
    static const std::size_t bytes = [] {
#if defined(__linux__) && defined(_SC_LEVEL2_CACHE_SIZE)
        const long reported = sysconf(_SC_LEVEL2_CACHE_SIZE);  // glibc reads it from the CPU; 0 or -1 if unknown
        if (reported >= 64 * 1024 && reported <= 64L * 1024 * 1024) return static_cast<std::size_t>(reported);
#endif
        return kFallbackL2Bytes;
    }();
    return bytes;
}

bool select_kernels(const std::string& name) {
    const Kernels* k = find(name);
    if (!k) return false;
    current().store(k, std::memory_order_release);
    return true;
}

}  // namespace fastbatch
