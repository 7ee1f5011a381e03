"""`python -m explorer.export`: see explorer/cli/export.py."""
import sys

from explorer.cli.export import main

if __name__ == "__main__":
    sys.exit(main())
