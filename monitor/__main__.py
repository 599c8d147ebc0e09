"""The `monitor` command's entry point, and `python -m monitor`. Guarded, because reader
processes re-import the main module."""

import gc


def run() -> int:
    """Run the command line. Its imports allocate about a million objects that live as long
    as the process; the cyclic collector would walk them over and over while they load, at
    every full collection after, and once more as the interpreter exits: ~0.2 s of a
    listing command's ~0.5 s (bench/README.md, "Listing commands"). So it is off while they
    load, and then they are frozen out of its sight; it collects whatever comes after."""
    gc.disable()
    from monitor.cli import main

    gc.freeze()
    gc.enable()
    try:
        return main()
    finally:
        gc.freeze()


if __name__ == "__main__":
    raise SystemExit(run())
