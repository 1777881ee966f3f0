"""Network loaders, re-exported by :mod:`ldtkit.network`."""
