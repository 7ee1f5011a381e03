"""The bottom layer: models, data, latent maths, checkpoints, pictures, validation. Imports nothing above it."""
