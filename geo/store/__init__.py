"""What the app keeps on disk, written atomically: layers with their provenance, scenarios, preferences.

- ``paths``: the data directory (``CARTOCPTS_DATA_DIR``) and the clean-up of crashed writes.
- ``layers``: one GeoParquet file per layer, its provenance in the file's footer; ``layer_version`` (one ``stat``).
- ``cache``: the domain caches, each value kept while the versions of the layers it was built from are unchanged.
- ``catalogue``: the official sources (publisher, vintage, licence) and the layers present.
- ``scenarios``: scenarios of territories with their history (SQLite).
- ``disputes``: the negotiation ledger (communes claimed by several territories: status, decision, notes).
- ``cog_migration``: a scenario drawn on an older COG brought to the commune base's (``CogMapping``).
- ``shared_layers``: in team mode, the imported layers kept in PostgreSQL for every instance.
- ``preferences``: small user preferences (the last scope used...).
"""

from geo.store.cache import cached_by_layers, cached_layer, clear_all, layers_version
from geo.store.catalogue import sources, status
from geo.store.cog_migration import CogMapping
from geo.store.layers import (
    layer_version,
    list_layers,
    now_iso,
    read_layer,
    read_meta,
    write_bytes_atomic,
    write_error,
)
from geo.store.paths import REPO_ROOT, data_dir
from geo.store.scenarios import PALETTE, STATUSES, ChangeResult, Scenario, ScenarioStore
from geo.store.shared_layers import SHARED as SHARED_LAYERS

__all__ = [
    "PALETTE",
    "REPO_ROOT",
    "SHARED_LAYERS",
    "STATUSES",
    "ChangeResult",
    "CogMapping",
    "Scenario",
    "ScenarioStore",
    "cached_by_layers",
    "cached_layer",
    "clear_all",
    "data_dir",
    "layer_version",
    "layers_version",
    "list_layers",
    "now_iso",
    "read_layer",
    "read_meta",
    "sources",
    "status",
    "write_bytes_atomic",
    "write_error",
]
