# tide prof names the functions of a stripped C++ library (only .dynsym
# left, as in Debian's libraries) by their demangled names, as addr2line -C
# names those of an unstripped one.
source "$(dirname "$0")/lib.sh"

cat > "$WORK/keeper.cc" <<'CC'
#include <cstdlib>
namespace store {
struct Cache {
    // Out of line and exported: the profile's frame lands in this library.
    __attribute__((noinline)) void *insert_block(unsigned long n, int tag);
};
void *Cache::insert_block(unsigned long n, int tag)
{
    char *p = static_cast<char *>(std::malloc(n));
    if (p)
        p[0] = static_cast<char>(tag);
    return p;
}
}
CC
cat > "$WORK/main.cc" <<'CC'
namespace store { struct Cache { void *insert_block(unsigned long n, int tag); }; }
static void *keep[4096];
int main()
{
    store::Cache c;
    for (int i = 0; i < 4096; i++)
        keep[i] = c.insert_block(4096, i); // live at exit: the exit profile holds them
    return keep[4095] ? 0 : 1;
}
CC
c++ -O1 -fPIC -shared -fno-omit-frame-pointer -o "$WORK/libkeeper.so" "$WORK/keeper.cc" || fail "build libkeeper"
strip --strip-all "$WORK/libkeeper.so"
readelf -S "$WORK/libkeeper.so" | grep -q '\.symtab' && fail "strip left .symtab"
c++ -O1 -fno-omit-frame-pointer -o "$WORK/main" "$WORK/main.cc" -L"$WORK" -lkeeper -Wl,-rpath,"$WORK" ||
    fail "build main"
(cd "$WORK" && TIDE_CONF=prof:true,lg_prof_sample:12,prof_prefix:"$WORK/p" \
    LD_PRELOAD=$TIDE_BUILD/libtidemalloc.so ./main) || fail "main under tidemalloc"
prof=$(ls "$WORK"/p.*.exit.heap 2>/dev/null | head -1)
[[ -n $prof ]] || fail "no exit profile in $WORK"
"$TIDE" prof top -n 3 "$prof" > "$WORK/top" || fail "tide prof top"
cat "$WORK/top"
top_row() { awk -v k="$2" 'f && ++n == k { print; exit } /^ *flat +flat%/ { f = 1 }' "$1"; }
top_row "$WORK/top" 1 | grep -q ' store::Cache::insert_block(unsigned long, int)$' ||
    fail "first row is not store::Cache::insert_block(unsigned long, int)"
! grep -q '_ZN5store' "$WORK/top" || fail "a mangled name is left"
ok "stripped C++ library: store::Cache::insert_block(unsigned long, int), demangled"
