"""Datasets: IDX files, the shipped Fashion-MNIST test split, image folders (decoded once into a
cache), prepared datasets (emoji), sklearn digits, 2-D toy distributions; uint8 images <-> float tensors."""
from explorer.core.data.datasets import (
                       CLASS_NAMES,
                       DATASETS,
                       IDX_DATASETS,
                       DataNotFound,
                       ImageDataset,
                       find_idx_split,
                       load_dataset,
                       load_digits,
                       load_idx_dataset,
                       resize_images,
                       to_uint8,
                       to_unit,
)
from explorer.core.data.folder import guess_picture_shape, load_image_folder
from explorer.core.data.prepared import PreparedInfo, list_prepared, load_prepared
from explorer.core.data.idx import IdxError, parse_idx, read_idx, read_idx_pair
from explorer.core.data.toy2d import TOY_NAMES, mode_coverage, modes, sample_toy

__all__ = [
    "CLASS_NAMES", "DATASETS", "IDX_DATASETS", "DataNotFound", "ImageDataset", "find_idx_split",
    "load_dataset", "load_digits", "load_idx_dataset", "resize_images", "to_uint8", "to_unit", "load_image_folder",
    "guess_picture_shape", "PreparedInfo", "list_prepared", "load_prepared",
    "IdxError", "parse_idx", "read_idx", "read_idx_pair", "TOY_NAMES", "mode_coverage", "modes", "sample_toy",
]
