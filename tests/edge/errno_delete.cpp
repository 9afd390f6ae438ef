// operator delete in all its forms keeps errno, as free does (tests/edge/
// errno_edges.c has the C entry points). Runs on glibc too, the reference.
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <new>

static int failures;

static void check(const char *what)
{
    if (errno != 4242) {
        std::printf("FAIL: %s changed errno to %d\n", what, errno);
        failures++;
    }
    errno = 4242;
}

struct alignas(256) Aligned {
    char bytes[256];
};

int main()
{
    static const std::size_t sizes[] = { 1, 100, 5000, 20000, 300000, 5u << 20, 50u << 20 };
    errno = 4242;
    for (std::size_t n : sizes) {
        char *a = new char[n];
        a[0] = 1;
        delete[] a;
        check("delete[]");
        void *p = ::operator new(n);
        ::operator delete(p);
        check("operator delete");
        p = ::operator new(n);
        ::operator delete(p, n);
        check("sized operator delete");
        p = ::operator new(n, std::align_val_t(256));
        ::operator delete(p, std::align_val_t(256));
        check("aligned operator delete");
        p = ::operator new(n, std::align_val_t(256));
        ::operator delete(p, n, std::align_val_t(256));
        check("sized aligned operator delete");
        p = ::operator new(n, std::nothrow);
        ::operator delete(p, std::nothrow);
        check("nothrow operator delete");
    }
    Aligned *x = new Aligned[3];
    delete[] x;
    check("aligned delete[]");
    std::printf("%d passed, %d failed\n", failures == 0, failures != 0);
    return failures != 0;
}
