/* A program with known leaks, for the leak check and valgrind to agree on:
 *   leaked:       3 blocks lost outright (100, 2000 and 50000 bytes), and a
 *                 list of 5 nodes whose head is lost (the 4 others are only
 *                 pointed to by leaked blocks: "indirectly" leaked)
 *   maybe leaked: 1 block (300 bytes) whose only pointer points inside it
 *   reached:      a table of 10 blocks reachable from a global, one block
 *                 held only through another reached block, and a list of
 *                 5,000 nodes hanging off a global (deep marking, many blocks)
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct node {
    struct node *next;
    char pad[56];
};

void *reached_table[10];
void **reached_holder;
char *maybe_interior;
struct node *reached_list;

__attribute__((noinline)) void *leak_small(void) { return malloc(100); }
__attribute__((noinline)) void *leak_medium(void) { return malloc(2000); }
__attribute__((noinline)) void *leak_large(void) { return malloc(50000); }

__attribute__((noinline)) struct node *leak_list(void)
{
    struct node *head = NULL;
    for (int i = 0; i < 5; i++) {
        struct node *n = malloc(sizeof *n);
        memset(n, 0, sizeof *n);
        n->next = head;
        head = n;
    }
    return head;
}

/* Overwrite a pointer so that no copy survives in a register or on the
 * stack (volatile stores, then the slot is cleared). */
__attribute__((noinline)) static void forget(void *volatile *slot)
{
    *slot = NULL;
}

int main(void)
{
    void *volatile p;
    p = leak_small();
    memset(p, 1, 100);
    forget(&p);
    p = leak_medium();
    memset(p, 2, 2000);
    forget(&p);
    p = leak_large();
    memset(p, 3, 50000);
    forget(&p);
    p = leak_list();
    forget(&p);

    char *m = malloc(300);
    memset(m, 4, 300);
    maybe_interior = m + 100;
    m = NULL;

    for (int i = 0; i < 10; i++)
        reached_table[i] = malloc(64 + (size_t)i);
    for (int i = 0; i < 5000; i++) {
        struct node *n = malloc(sizeof *n);
        memset(n, 0, sizeof *n);
        n->next = reached_list;
        reached_list = n;
    }
    reached_holder = malloc(sizeof(void *));
    *reached_holder = malloc(48);

    /* Scrub the stack below us of stale copies. */
    volatile char scrub[16384];
    memset((char *)scrub, 0, sizeof scrub);
    puts("leaky: done");
    return 0;
}
