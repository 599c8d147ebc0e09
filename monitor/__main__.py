"""`python -m monitor`. Guarded, because reader processes re-import the main module."""

from monitor.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
