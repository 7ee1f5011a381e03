"""`python -m explorer.bench`: see explorer/cli/bench/."""
import sys

from explorer.cli.bench.__main__ import main

if __name__ == "__main__":
    sys.exit(main())
