// Delete a derived object through a base pointer without a virtual
// destructor: sized delete passes sizeof(Base), not the size allocated.
#include <cstring>
#include <new>
struct Base {
    long a;
};
struct Derived : Base {
    long more[15];
};
int main()
{
    Derived *d = new Derived;
    std::memset(static_cast<void *>(d), 1, sizeof *d);
    Base *b = d;
    __asm__ volatile("" : "+r"(b));
    delete b; // operator delete(b, sizeof(Base)): the wrong type
    return 0;
}
