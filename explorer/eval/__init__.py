"""How good is a model: feature networks per dataset, Frechet distance, coverage, precision/recall, ELBO."""
