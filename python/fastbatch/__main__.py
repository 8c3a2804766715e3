"""`python -m fastbatch`: the same command as the `fastbatch` console script."""

from .cli import main

if __name__ == "__main__":
    raise SystemExit(main())
