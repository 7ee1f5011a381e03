"""The Map: encode a dataset, lay it out in 2-D with UMAP, cache it, place new points on it."""
