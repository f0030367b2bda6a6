"""Issue #9 §4: any bytes given to the CPTS importer give a report or a French DataError, nothing else.

Seeds are real: a commune list of Ariège communes (EPCI as pseudo-CPTS) and
a GeoJSON of polygons dissolved from the commune base's Ariège shapes.
"""

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from geo.errors import DataError
from geo.sources.cpts import import_cpts

SETTINGS = settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.fixture(scope="module")
def seeds(communes):
    ariege = communes[communes["dep"] == "09"]
    lines = ["cpts_id;cpts_nom;code_insee;statut"]
    for i, (_epci, grp) in enumerate(ariege.groupby("epci")):
        lines += [
            f"E{i};CPTS {grp['epci_name'].iloc[0]};{code};projet"
            for code in sorted(grp["insee"])[:6]
        ]
    table = ("\n".join(lines[:40]) + "\n").encode("utf-8")
    shapes = ariege.head(60).dissolve(by="epci")[["epci_name", "geometry"]].reset_index()
    shapes["geometry"] = shapes.geometry.simplify(0.01)
    shapes = shapes.rename(columns={"epci": "cpts_id", "epci_name": "nom"})
    polygons = shapes.to_json(drop_id=True).encode("utf-8")
    assert json.loads(polygons)["features"]
    return {"csv": table, "geojson": polygons}


def mutate(data: bytes, draw) -> bytes:
    buf = bytearray(data)
    for _ in range(draw(st.integers(1, 4))):
        op = draw(st.sampled_from(["flip", "truncate", "insert", "shuffle", "delete"]))
        if op == "flip" and buf:
            at = draw(st.integers(0, len(buf) - 1))
            buf[at] ^= 1 << draw(st.integers(0, 7))
        elif op == "truncate" and buf:
            del buf[draw(st.integers(0, len(buf) - 1)) :]
        elif op == "insert":
            at = draw(st.integers(0, len(buf)))
            buf[at:at] = draw(
                st.sampled_from(
                    [
                        b";",
                        b'"',
                        b"\n",
                        b"{",
                        b"[",
                        b"]",
                        b"}",
                        b",",
                        b"null",
                        b"1e999",
                        b"\x00",
                        b"\xff",
                        b"=cmd",
                        b"'",
                        b"-1",
                        b"NaN",
                        b"\xef\xbb\xbf",
                    ]
                )
            )
        elif op == "delete" and buf:
            at = draw(st.integers(0, len(buf) - 1))
            del buf[at : at + draw(st.integers(1, 50))]
        elif op == "shuffle":
            lines = bytes(buf).split(b"\n")
            buf = bytearray(b"\n".join(draw(st.permutations(lines))))
    return bytes(buf)


def check(path: Path, data: bytes) -> None:
    path.write_bytes(data)
    try:
        report = import_cpts(path)
    except DataError as exc:
        assert str(exc).strip()
        return
    assert (
        report.to_dict()["cpts_count"] >= 1
        and report.to_dict()["memberships"] >= report.to_dict()["communes_count"] >= 1
    )


@pytest.mark.parametrize("kind", ["csv", "geojson"])
@SETTINGS
@given(data=st.data())
def test_mutated_real_files(isolated_data, tmp_path, seeds, kind, data):
    check(tmp_path / f"cpts.{kind}", mutate(seeds[kind], data.draw))


@pytest.mark.parametrize("suffix", [".csv", ".geojson", ".gpkg", ".xlsx"])
@SETTINGS
@given(raw=st.binary(max_size=400))
def test_random_bytes(isolated_data, tmp_path, suffix, raw):
    check(tmp_path / f"hasard{suffix}", raw)
