#!/usr/bin/env python3
"""tidemalloc benchmark runner: see bench/README.md or `bench/run.py --help`.
`bench/run.py --rocksdb-matrix [options]` runs the RocksDB matrix instead
(tidebench/rocksmatrix.py; `--rocksdb-matrix --help`)."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

if __name__ == "__main__" and "--rocksdb-matrix" in sys.argv[1:]:
    from tidebench.rocksmatrix import main as matrix_main
    sys.exit(matrix_main([a for a in sys.argv[1:] if a != "--rocksdb-matrix"]))

from tidebench.cli import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
