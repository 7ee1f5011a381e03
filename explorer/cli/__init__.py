"""Command lines: `python -m explorer.train | evaluate | prepare | bench` (thin modules at the top forward here)."""
