"""How each model family's slider directions are found: `Family.directions` names one of these."""
from __future__ import annotations

from explorer.explore.directions import encoded_pca_directions, ganspace_directions, picture_pca_directions
from explorer.explore.w_directions import w_pca_directions

# each takes the family, `classifier` (names directions; None: principal ones only), `looks` (the dataset's
# classifier, whatever the model's classes), `check`, `class_samples`, and a size (`samples` or `max_images`)
METHODS = {"encoded-pca": encoded_pca_directions, "ganspace": ganspace_directions,
           "picture-pca": picture_pca_directions, "w-pca": w_pca_directions}
