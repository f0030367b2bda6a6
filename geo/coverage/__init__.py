"""Coverage of a scope by CPTS and proposals of territories for the communes left out.

- ``gaps``: the « zones blanches » (uncovered communes), overlaps and their clusters.
- ``disputes``: the negotiation ledger over a scope (names, départements, CSV) for the CLI and the page.
- ``proposals``: contiguous territories with a population floor for the uncovered communes.
- ``regionalise``: the calls to libgeoda (max-p, AZP), run in a child process that can be stopped.
  Its module is light on purpose (``python geo/coverage/regionalise.py``, run as a file, is that child).
"""

from geo.coverage.gaps import (
    Cluster,
    CoverageResult,
    assignment_for,
    cluster_of,
    clusters_geojson,
    coverage,
    coverage_json,
    cpts_assignment,
    uncovered_csv,
)
from geo.coverage.proposals import DEFAULT_MIN_POP, Proposal, proposal_json, propose, to_scenario
from geo.coverage.regionalise import Cancelled

__all__ = [
    "DEFAULT_MIN_POP",
    "Cancelled",
    "Cluster",
    "CoverageResult",
    "Proposal",
    "assignment_for",
    "cluster_of",
    "clusters_geojson",
    "coverage",
    "coverage_json",
    "cpts_assignment",
    "proposal_json",
    "propose",
    "to_scenario",
    "uncovered_csv",
]
