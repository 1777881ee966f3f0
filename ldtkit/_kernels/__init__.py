"""Numba kernels: the only place with hot loops. One module per model (assignment, noise, air)."""
