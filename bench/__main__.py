"""`python -m bench [options]`: run the benchmarks (today: the status query throughput)."""

from __future__ import annotations

import sys

from bench import status_throughput

if __name__ == "__main__":
    sys.exit(status_throughput.main(sys.argv[1:]))
