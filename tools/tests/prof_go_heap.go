// A Go program that writes its own heap profile (runtime/pprof): the
// canonical pprof writer, for the tide prof reader test (prof_go.sh).
package main

import (
	"os"
	"runtime"
	"runtime/pprof"
)

var keep [][]byte

// hotSite keeps 16 MiB in 4 KiB slices.
//
//go:noinline
func hotSite() {
	for i := 0; i < 4096; i++ {
		keep = append(keep, make([]byte, 4096)) // HOT
	}
}

func main() {
	runtime.MemProfileRate = 1 // every allocation: the totals are exact, not a random estimate
	hotSite()
	runtime.GC()
	f, _ := os.Create(os.Args[1])
	pprof.WriteHeapProfile(f)
	f.Close()
}
