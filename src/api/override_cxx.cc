// The nothrow forms of operator new: the standard has them call the
// throwing form and turn any exception (a throwing new_handler's, say) into
// nullptr, which only C++ can catch. The build weakens this object's
// references to the C++ runtime, so a C program (where nothing can throw)
// does not need libstdc++ loaded.
#include <cstddef>
#include <new>

extern "C" __attribute__((visibility("hidden"))) void *tide_cxx_new_nothrow(std::size_t n, std::size_t align) noexcept
{
    try {
        return align > 16 ? ::operator new(n, std::align_val_t(align)) : ::operator new(n);
    } catch (...) {
        return nullptr;
    }
}
