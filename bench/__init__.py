"""Benchmarks of segway-gateway, run with `make bench` (`python -m bench`).

Each benchmark is one module with a `main(argv) -> int`; `harness` holds what
they share: the gateway as a subprocess on loopback and the `wrk` load generator.
"""
