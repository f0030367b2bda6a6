"""Map and analysis scopes: all of France, a région or a département."""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd

from geo.base.communes import POPULATION_VINTAGE, load
from geo.errors import DataError


@dataclass(frozen=True)
class Scope:
    kind: str  # "fr", "reg" or "dep"
    code: str = ""

    def __iter__(self):
        """``kind, code = parse_scope(text)``."""
        return iter((self.kind, self.code))

    @property
    def spec(self) -> str:
        return "fr" if self.kind == "fr" else f"{self.kind}:{self.code}"

    def label(self) -> str:
        if self.kind == "fr":
            return "France entière"
        table = load("regions" if self.kind == "reg" else "departements").set_index("code")
        name = table.at[self.code, "name"]
        return f"{name} ({self.code})"


def parse_scope(spec: str | Scope) -> Scope:
    """Parse ``fr``, ``reg:76``, ``dep:31`` or ``dep:2a`` (codes checked against the base).

    A Scope is returned as is."""
    if isinstance(spec, Scope):
        return spec
    text = (spec or "").strip()
    if text.lower() in ("fr", "france"):
        return Scope("fr")
    kind, _, code = text.partition(":")
    kind, code = kind.lower(), code.strip().upper()
    if kind not in ("reg", "dep") or not code:
        raise DataError(
            f"Périmètre « {spec} » invalide : écrivez « fr », « reg:CODE » (ex. reg:76) ou « dep:CODE » (ex. dep:31)."
        )
    if kind == "dep" and len(code) == 1:
        code = code.zfill(2)
    table = load("regions" if kind == "reg" else "departements")
    if code not in set(table["code"]):
        what = "région" if kind == "reg" else "département"
        raise DataError(f"Le {what} de code « {code} » n'existe pas dans la base communale.")
    return Scope(kind, code)


def scope_communes(scope: Scope) -> gpd.GeoDataFrame:
    """The communes of a scope."""
    communes = load("communes")
    if scope.kind == "fr":
        return communes
    return communes[communes[scope.kind] == scope.code]


def scope_choices() -> list[tuple[str, str]]:
    """(spec, French label) for every région then every département, sorted by code."""
    regs = load("regions").sort_values("code")
    deps = load("departements").sort_values("code")
    out = [(f"reg:{r.code}", f"Région — {r.name} ({r.code})") for r in regs.itertuples()]
    out += [(f"dep:{d.code}", f"Département — {d.code} {d.name}") for d in deps.itertuples()]
    return out


def scope_totals(scope: Scope, communes: gpd.GeoDataFrame | None = None) -> dict:
    """Communes, population (with vintage) and area of a scope.

    ``communes`` may carry other populations than the base's 2017 ones, with
    their vintage in ``attrs["population_vintage"]``.
    """
    if communes is None:
        communes = scope_communes(scope)
    return {
        "communes": int(len(communes)),
        "population": int(communes["population"].sum()),
        "population_vintage": communes.attrs.get("population_vintage", POPULATION_VINTAGE),
        "area_km2": float(communes["area_km2"].sum()),
        "without_population": int(communes["population"].isna().sum()),
    }


def scope_outlines(scope: Scope) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """The départements and régions to outline over a scope."""
    deps = load("departements")
    regs = load("regions")
    if scope.kind == "fr":
        return deps, regs
    if scope.kind == "reg":
        return deps[deps["reg"] == scope.code], regs[regs["code"] == scope.code]
    dep = deps[deps["code"] == scope.code]
    return dep, regs[regs["code"].isin(dep["reg"])]


def scope_codes(scope: Scope, ctx) -> list[str]:
    """INSEE codes of the communes of a scope, sorted, from a ``geo.territory.context.Context``."""
    if scope.kind == "fr":
        return sorted(ctx.communes.index)
    lookup = ctx.dep if scope.kind == "dep" else ctx.reg
    return sorted(code for code, value in lookup.items() if value == scope.code)
