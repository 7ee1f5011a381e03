#!/usr/bin/env bash
# Retrain the shipped models with the project's own CLI (the exact commands are also in each
# model card). Needs the 60 000 Fashion-MNIST training images: Debian's dataset-fashion-mnist,
# or EXPLORER_DATA / --data-dir. Minutes on a GPU; many hours on a 2-core CPU.
# Usage: bash checkpoints/train-shipped.sh [OUTPUT_DIR]    (default: checkpoints/)
set -euo pipefail
out=${1:-checkpoints}
mkdir -p "$out"
common=(--dataset fashion-mnist --seed 0 --log-every 200 --without-optimizer --sample-every 0)
python -m explorer.train --model classifier --epochs 25 "${common[@]}" \
  --title "Fashion-MNIST classifier (evaluation features)" \
  --description "Small CNN whose penultimate layer is the feature space of the evaluation (FD, precision/recall, class coverage)." \
  --out "$out/fashion_classifier.safetensors" &
python -m explorer.train --model dcgan --epochs 40 --latent-dim 64 "${common[@]}" \
  --title "Fashion-MNIST DCGAN" \
  --description "A DCGAN (upsample + convolution generator) that draws clothes from 64 random numbers." \
  --out "$out/fashion_dcgan.safetensors" &
python -m explorer.train --model vae --epochs 40 --latent-dim 16 "${common[@]}" \
  --title "Fashion-MNIST VAE, 16-d" \
  --description "A convolutional VAE: it encodes a picture of clothing into 16 numbers and decodes them back." \
  --out "$out/fashion_vae16.safetensors" &
python -m explorer.train --model vae --epochs 40 --latent-dim 2 "${common[@]}" \
  --title "Fashion-MNIST VAE, 2-d (decoded manifold)" \
  --description "A VAE with only two latent numbers: its whole latent plane can be drawn as a map of clothes." \
  --out "$out/fashion_vae2.safetensors" &
for job in $(jobs -p); do wait "$job"; done
