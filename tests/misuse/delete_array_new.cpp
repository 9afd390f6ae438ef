// delete (not delete[]) of an array allocated with new[]: the element type
// has a destructor, so new[] put its element count before the array and
// returned a pointer into its block.
#include <cstdio>
#include <new>
struct Item {
    char name[24];
    ~Item() { std::fputs("", stdout); }
};
int main()
{
    Item *items = new Item[10];
    __asm__ volatile("" : "+r"(items));
    delete items; // should be delete[]
    return 0;
}
