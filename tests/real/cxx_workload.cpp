// A small C++ program for the real-program test: standard containers,
// strings, exceptions, shared/unique pointers, over-aligned types, threads
// and cross-thread deletes.  Deterministic output.  Not linked against
// tidemalloc: run plain and under LD_PRELOAD.
//
//   cxx_workload [--expect-tidemalloc]
// With --expect-tidemalloc it looks up tide_stats_get with dlsym and
// requires it to exist and report live memory while the program holds some
// (reported on stderr, so stdout stays comparable with the glibc run).
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <deque>
#include <functional>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <numeric>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include <dlfcn.h>

namespace {

std::uint64_t fnv(const std::string &s, std::uint64_t h = 1469598103934665603ULL)
{
    for (unsigned char c : s)
        h = (h ^ c) * 1099511628211ULL;
    return h;
}

struct alignas(64) Cell {
    double v[6];
    int id;
};

struct Tree {
    int key;
    std::unique_ptr<Tree> left, right;
    explicit Tree(int k) : key(k) {}
};

void insert(std::unique_ptr<Tree> &root, int key)
{
    std::unique_ptr<Tree> *cur = &root;
    while (*cur)
        cur = key < (*cur)->key ? &(*cur)->left : &(*cur)->right;
    *cur = std::make_unique<Tree>(key);
}

void walk(const Tree *t, std::vector<int> &out)
{
    std::vector<const Tree *> stack;
    while (t || !stack.empty()) {
        while (t) {
            stack.push_back(t);
            t = t->left.get();
        }
        t = stack.back();
        stack.pop_back();
        out.push_back(t->key);
        t = t->right.get();
    }
}

void free_tree(std::unique_ptr<Tree> root)
{
    std::vector<std::unique_ptr<Tree>> stack;
    if (root)
        stack.push_back(std::move(root));
    while (!stack.empty()) {
        auto n = std::move(stack.back());
        stack.pop_back();
        if (n->left)
            stack.push_back(std::move(n->left));
        if (n->right)
            stack.push_back(std::move(n->right));
    }
}

typedef struct {
    std::uint64_t f[13];
} stats_blob; // large enough for tide_stats_t; only the first field is read

} // namespace

int main(int argc, char **argv)
{
    bool expect_tide = argc > 1 && std::strcmp(argv[1], "--expect-tidemalloc") == 0;
    std::uint64_t lcg = 42;
    auto rnd = [&lcg]() {
        lcg = lcg * 6364136223846793005ULL + 1442695040888963407ULL;
        return (std::uint32_t)(lcg >> 33);
    };

    // Strings and maps.
    std::map<std::string, std::vector<std::string>> index;
    std::unordered_map<std::string, int> counts;
    for (int i = 0; i < 120000; i++) {
        std::string w;
        int len = 2 + (int)(rnd() % 14);
        for (int k = 0; k < len; k++)
            w.push_back((char)('a' + rnd() % 26));
        index[w.substr(0, 2)].push_back(w);
        counts[w]++;
    }
    std::uint64_t h = 0;
    std::size_t words = 0;
    for (auto &kv : index) {
        std::sort(kv.second.begin(), kv.second.end());
        for (auto &w : kv.second)
            h = fnv(w, h);
        words += kv.second.size();
    }
    std::printf("index: %zu keys, %zu words, %zu distinct, hash %016llx\n", index.size(), words,
                counts.size(), (unsigned long long)h);

    // Streams.
    std::ostringstream os;
    for (int i = 0; i < 50000; i++)
        os << i << ':' << (i * 37 % 1000) << ';';
    std::string big = os.str();
    std::istringstream is(big);
    long sum = 0;
    std::string tok;
    while (std::getline(is, tok, ';'))
        sum += std::stol(tok.substr(tok.find(':') + 1));
    std::printf("stream: %zu bytes, sum %ld, hash %016llx\n", big.size(), sum, (unsigned long long)fnv(big));

    // Exceptions (each allocates its exception object).
    int caught = 0;
    for (int i = 0; i < 20000; i++) {
        try {
            if (i % 3 == 0)
                throw std::runtime_error("error number " + std::to_string(i));
            std::vector<int> v(5);
            (void)v.at((std::size_t)(i % 7));
        } catch (const std::out_of_range &) {
            caught += 2;
        } catch (const std::runtime_error &e) {
            caught += (int)std::strlen(e.what()) % 3;
        }
    }
    std::printf("exceptions: %d\n", caught);

    // Over-aligned objects.
    std::vector<Cell> cells(20000);
    for (std::size_t i = 0; i < cells.size(); i++) {
        cells[i].id = (int)i;
        for (double &d : cells[i].v)
            d = (double)(rnd() % 1000) / 10.0;
    }
    bool aligned = ((std::uintptr_t)cells.data() % 64) == 0;
    auto *heap_cells = new Cell[333];
    aligned = aligned && ((std::uintptr_t)heap_cells % 64) == 0;
    delete[] heap_cells;
    double acc = 0;
    for (auto &c : cells)
        acc += c.v[c.id % 6];
    std::printf("aligned: %s, acc %.1f\n", aligned ? "yes" : "NO", acc);

    // A binary tree of unique_ptrs, shared_ptr graphs, lists and deques.
    std::unique_ptr<Tree> root;
    for (int i = 0; i < 100000; i++)
        insert(root, (int)(rnd() % 1000000));
    std::vector<int> keys;
    walk(root.get(), keys);
    bool sorted = std::is_sorted(keys.begin(), keys.end());
    free_tree(std::move(root));
    std::vector<std::shared_ptr<std::string>> shared;
    for (int i = 0; i < 30000; i++)
        shared.push_back(std::make_shared<std::string>(std::to_string(i * 7)));
    std::vector<std::shared_ptr<std::string>> copy(shared.begin(), shared.end());
    shared.clear();
    std::list<std::string> lst(copy.size());
    std::transform(copy.begin(), copy.end(), lst.begin(), [](auto &p) { return *p + "!"; });
    std::deque<int> dq;
    for (int i = 0; i < 200000; i++) {
        dq.push_back(i);
        if (i % 3 == 0)
            dq.pop_front();
    }
    std::printf("tree: %zu keys sorted %s, list %zu, deque %zu front %d\n", keys.size(), sorted ? "yes" : "NO",
                lst.size(), dq.size(), dq.front());

    // Threads: producers allocate, consumers delete (cross-thread frees).
    std::mutex mu;
    std::vector<std::vector<std::string> *> handoff;
    std::vector<std::thread> producers;
    for (int t = 0; t < 4; t++) {
        producers.emplace_back([t, &mu, &handoff] {
            for (int b = 0; b < 200; b++) {
                auto *v = new std::vector<std::string>();
                for (int k = 0; k < 100; k++)
                    v->push_back(std::string((std::size_t)(k % 50) + 1, (char)('A' + (t + b + k) % 26)));
                std::lock_guard<std::mutex> g(mu);
                handoff.push_back(v);
            }
        });
    }
    for (auto &th : producers)
        th.join();
    std::vector<std::uint64_t> partial(2, 0);
    std::vector<std::thread> consumers;
    for (int c = 0; c < 2; c++) {
        consumers.emplace_back([c, &handoff, &partial] {
            for (std::size_t i = (std::size_t)c; i < handoff.size(); i += 2) {
                for (auto &s : *handoff[i])
                    partial[(std::size_t)c] += s.size();
                delete handoff[i];
            }
        });
    }
    for (auto &th : consumers)
        th.join();
    std::printf("threads: %zu batches, %llu chars\n", handoff.size(),
                (unsigned long long)(partial[0] + partial[1]));

    if (expect_tide) {
        // Hold some memory live and ask the allocator about it.
        std::vector<char> hold(8u << 20, 'x');
        using stats_fn = int (*)(void *);
        auto fn = reinterpret_cast<stats_fn>(dlsym(RTLD_DEFAULT, "tide_stats_get"));
        if (fn == nullptr) {
            std::fprintf(stderr, "tide_stats_get not found: not running on tidemalloc\n");
            return 1;
        }
        stats_blob st{};
        if (fn(&st) != 0) {
            std::fprintf(stderr, "tide_stats_get failed\n");
            return 1;
        }
        std::uint64_t live = st.f[0]; // live_usable
        std::fprintf(stderr, "tide_stats_get: live_usable %llu bytes, active %llu, mapped %llu\n",
                     (unsigned long long)live, (unsigned long long)st.f[1], (unsigned long long)st.f[2]);
        if (live < hold.size()) {
            std::fprintf(stderr, "live_usable %llu is below the %zu bytes held live\n",
                         (unsigned long long)live, hold.size());
            return 1;
        }
    }
    std::printf("cxx workload done\n");
    return 0;
}
