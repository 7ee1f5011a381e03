"""`python -m explorer.train`: see explorer/cli/train.py."""
import sys

from explorer.cli.train import main

if __name__ == "__main__":
    sys.exit(main())
