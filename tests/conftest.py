"""Test set-up: a temporary data directory holding a commune base built once per session."""

import os
import tempfile
from pathlib import Path

import pytest

# Browser fixtures (server, browser, page) are session-wide: one Playwright for all modules.
pytest_plugins = ["tests.support.browser", "tests.support.postgres"]

REPO = Path(__file__).resolve().parents[1]
# ../shared/data beside the checkout; CARTOCPTS_SHARED_DATA overrides it (a git worktree elsewhere).
SHARED_DATA = Path(os.environ.get("CARTOCPTS_SHARED_DATA") or REPO.parent / "shared" / "data")

# Every test runs against a temporary data directory, never the user's cache.
_SESSION_DIR = Path(tempfile.mkdtemp(prefix="cartocpts-test-"))
os.environ["CARTOCPTS_DATA_DIR"] = str(_SESSION_DIR)


@pytest.fixture(scope="session")
def base_dir() -> Path:
    """The session's data directory, with the commune base built (once)."""
    from geo.base.communes import build_base

    os.environ["CARTOCPTS_DATA_DIR"] = str(_SESSION_DIR)
    build_base()
    return _SESSION_DIR


@pytest.fixture(scope="session")
def populations(base_dir):
    """The populations in use by default (pd.Series by INSEE code): what every figure must add up.

    Tests compute their expectations from it, never from the base's 2017 ``population`` column.
    """
    from geo.sources.population import current_populations

    series, _ = current_populations()
    return series


@pytest.fixture(scope="session")
def communes_in_use(base_dir, populations):
    """The commune base with the populations in use (not 2017) in its ``population`` column.

    A module whose expectations add populations up overrides ``communes`` with it.
    """
    from geo.base.communes import load

    out = load("communes").copy()
    out["population"] = populations.reindex(out["insee"]).astype("Int64").to_numpy()
    return out


@pytest.fixture(scope="session")
def communes(base_dir):
    from geo.base.communes import load

    return load("communes")


@pytest.fixture
def shared_data() -> Path:
    """The real sample data beside the checkout (../shared/data)."""
    if not SHARED_DATA.is_dir():
        pytest.skip(
            f"données d'exemple absentes : {SHARED_DATA} (dossier ../shared/data attendu à côté du dépôt)"
        )
    return SHARED_DATA


def pytest_sessionfinish(session, exitstatus):
    import shutil

    shutil.rmtree(_SESSION_DIR, ignore_errors=True)


# « population »: the legal populations in force that build_base() installs by default (geo.base.cog)
BASE_LAYERS = ("communes", "departements", "regions", "adjacency", "population", "shapes_france")


@pytest.fixture
def isolated_data(base_dir, tmp_path, monkeypatch) -> Path:
    """A fresh data directory holding only the commune base (linked, not copied).

    Tests that import or remove optional layers (FINESS, APL, CPTS...) use it so
    they never change what other tests see.
    """
    from geo.base.adjacency import graph

    graph()  # make sure the adjacency layer exists in the session directory
    target = link_base(base_dir, tmp_path / "data")
    monkeypatch.setenv("CARTOCPTS_DATA_DIR", str(target))
    return target


def link_base(base_dir: Path, target: Path) -> Path:
    """A new data directory holding links to the session's commune base layers only.

    A layer is one ``NAME.parquet`` file holding its provenance (geo.store.layers).
    """
    target.mkdir(parents=True)
    for name in BASE_LAYERS:
        src = base_dir / f"{name}.parquet"
        if src.exists():
            (target / src.name).symlink_to(src)
    points = base_dir / "chef_lieux.json"  # the communes without a contour (geo.base.chef_lieux)
    if points.exists():
        (target / points.name).symlink_to(points)
    return target
