"""Latent Explorer: look inside GAN and VAE decoders.

Layers (imports go down this list, never up):
    ui -> render / training / projection / metrics -> models / latent / checkpoints / data
"""
__version__ = "0.1.0"
