"""`python -m explorer.encode`: see explorer/cli/encode.py."""
import sys

from explorer.cli.encode import main

if __name__ == "__main__":
    sys.exit(main())
