// C++ under the hard limit (TIDE_CONF=limit_hard:64M, set by CTest): every
// throwing operator new form throws std::bad_alloc past the limit, the
// nothrow forms return nullptr, a new_handler that frees memory lets the
// retry succeed, and the program carries on.
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <new>
#include <vector>

#include "runner.h"
#include "check.h"
#include "tidemalloc.h"

namespace {

const std::size_t kBig = std::size_t(80) << 20;

template <typename F> bool throws_bad_alloc(F f)
{
    try {
        f();
    } catch (const std::bad_alloc &) {
        return true;
    }
    return false;
}

void *reserve;
int handler_calls;
void free_reserve()
{
    handler_calls++;
    ::operator delete(reserve);
    reserve = nullptr;
    std::set_new_handler(nullptr);
}

} // namespace

TEST(throwing_forms_throw_bad_alloc)
{
    tide_limit_stats_t l;
    tide_stats_limit(&l);
    CHECK_MSG(l.hard == (std::size_t(64) << 20), "run with TIDE_CONF=limit_hard:64M");
    std::uint64_t f0 = l.failures;
    CHECK(throws_bad_alloc([] { ::operator delete(::operator new(kBig)); }));
    CHECK(throws_bad_alloc([] { ::operator delete[](::operator new[](kBig)); }));
    CHECK(throws_bad_alloc([] { ::operator delete(::operator new(kBig, std::align_val_t(4096)), std::align_val_t(4096)); }));
    CHECK(throws_bad_alloc([] { ::operator delete[](::operator new[](kBig, std::align_val_t(65536)), std::align_val_t(65536)); }));
    CHECK(throws_bad_alloc([] { std::vector<char> v(kBig); }));
    tide_stats_limit(&l);
    CHECK_GE(l.failures, f0 + 5);
}

TEST(nothrow_forms_return_nullptr)
{
    CHECK(::operator new(kBig, std::nothrow) == nullptr);
    CHECK(::operator new[](kBig, std::nothrow) == nullptr);
    CHECK(::operator new(kBig, std::align_val_t(4096), std::nothrow) == nullptr);
    CHECK(::operator new[](kBig, std::align_val_t(4096), std::nothrow) == nullptr);
    char *p = new (std::nothrow) char[kBig];
    CHECK(p == nullptr);
}

TEST(new_handler_frees_and_the_retry_succeeds)
{
    // 40 MiB held; 40 more would pass 64 MiB until the handler frees them.
    reserve = ::operator new(std::size_t(40) << 20);
    std::memset(reserve, 1, std::size_t(40) << 20);
    handler_calls = 0;
    std::set_new_handler(free_reserve);
    void *p = ::operator new(std::size_t(40) << 20);
    CHECK(p != nullptr);
    CHECK_EQ(handler_calls, 1);
    std::memset(p, 2, std::size_t(40) << 20);
    ::operator delete(p);
    // and the program carries on with ordinary allocations
    std::vector<int> v(1000, 7);
    CHECK_EQ(v[999], 7);
}
