"""`python -m explorer.prepare`: see explorer/cli/prepare.py."""
import sys

from explorer.cli.prepare import main

if __name__ == "__main__":
    sys.exit(main())
