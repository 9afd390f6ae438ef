// Sized operator delete with a size other than the one allocated.
#include <cstdlib>
#include <cstring>
#include <new>
int main()
{
    void *p = ::operator new(100);
    std::memset(p, 1, 100);
    __asm__ volatile("" : "+r"(p));
    ::operator delete(p, 300);
    return 0;
}
