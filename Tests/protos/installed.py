"""Where a reference package installed without its dependencies (`pip install --no-deps -r
Tests/requirements-reference.txt`) keeps its files: read as source, never imported."""

import importlib.metadata
import pathlib


def package_path(distribution: str, relative: str) -> pathlib.Path:
    try:
        dist = importlib.metadata.distribution(distribution)
    except importlib.metadata.PackageNotFoundError:
        raise RuntimeError(
            f"{distribution} is not installed: pip install --no-deps -r Tests/requirements-reference.txt"
        ) from None
    return pathlib.Path(dist.locate_file(relative))
