"""Numba kernels: pure functions over arrays, no Python objects, no I/O.

Every kernel is compiled with the one decorator in :mod:`prcore._kernels.jit`.
"""
