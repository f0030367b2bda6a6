"""CartoCPTS domain (no Streamlit here): data sources, commune base, territories, coverage, storage, CLI.

One subpackage per concept; each ``__init__`` re-exports its public names::

    geo.base       the commune base: communes, adjacency, scopes, search, geometry, browser shapes
    geo.sources    outside data coming in: one importer per source, limits, download, the importer registry
    geo.territory  a territory and a scenario in memory: context, diagnostics, running tallies, ACI, export
    geo.coverage   « zones blanches », overlaps, proposals of territories (regionalisation)
    geo.report     the PDF dossier of a territory or a scenario (typst, offline map)
    geo.store      what is kept on disk: layers with provenance, scenarios with history, preferences
    geo.cli        ``python -m geo ...``
    geo.errors     ``DataError`` and ``DownloadError``: French messages shown to users as they are

Dependencies flow one way: cli → report → coverage → territory → sources → base → store → errors.
Importing ``geo`` itself is light: the subpackages load when used.
"""

__all__ = ["base", "cli", "coverage", "errors", "report", "sources", "store", "territory"]
