"""Numba kernels: pure functions over arrays, no Python objects, no I/O.

Every kernel is compiled with the one decorator in :mod:`prcore._kernels.jit`.
Callers outside this package call the handles below, not the modules'
dispatchers: a handle runs the ahead-of-time build where one is present
(:mod:`prcore._kernels.native`, no numba import) and numba's JIT otherwise.
"""

from prcore._kernels.native import Kernel

accumulate_curves = Kernel("accumulate_curves")
cell_keys = Kernel("cell_keys")
dense_index = Kernel("dense_index")
descending_score_keys = Kernel("descending_score_keys")
match_cells = Kernel("match_cells")
place_in_cells = Kernel("place_in_cells")
radix_sort = Kernel("radix_sort")
scan_ground_truth_kernel = Kernel("scan_ground_truth_kernel")
scan_results_kernel = Kernel("scan_results_kernel")
scatter_by_key = Kernel("scatter_by_key")
scatter_selected = Kernel("scatter_selected")

HANDLES = (
    accumulate_curves, cell_keys, dense_index, descending_score_keys, match_cells,
    place_in_cells, radix_sort, scan_ground_truth_kernel, scan_results_kernel, scatter_by_key,
    scatter_selected,
)  # fmt: skip
