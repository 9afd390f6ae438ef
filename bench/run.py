#!/usr/bin/env python3
"""tidemalloc benchmark runner: see bench/README.md or `bench/run.py --help`."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from tidebench.cli import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
