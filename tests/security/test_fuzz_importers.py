"""Any bytes given to an importer end in a report or a French DataError, never another exception.

Random bytes and mutations (bit flips, truncation, inserted bytes, shuffled lines) of real files:
the shared FINESS extraction (first 200 lines), the shared communes.json (300 entries), a small
typology CSV and a small APL workbook built from the real DREES one.
"""

import io
import json
import random

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from geo.errors import DataError
from geo.sources.apl import import_apl
from geo.sources.finess import import_finess
from geo.sources.population import update_population
from geo.sources.typology import import_typology

SETTINGS = settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def mutate(data: bytes, seed: int, kind: str) -> bytes:
    rng = random.Random(seed)
    if not data:
        return data
    if kind == "flip":
        out = bytearray(data)
        for _ in range(rng.randint(1, 8)):
            pos = rng.randrange(len(out))
            out[pos] ^= 1 << rng.randrange(8)
        return bytes(out)
    if kind == "truncate":
        return data[: rng.randrange(len(data))]
    if kind == "insert":
        pos = rng.randrange(len(data))
        return (
            data[:pos] + bytes(rng.randrange(256) for _ in range(rng.randint(1, 16))) + data[pos:]
        )
    lines = data.split(b"\n")
    rng.shuffle(lines)
    return b"\n".join(lines)


MUTATION = st.tuples(
    st.integers(0, 2**32 - 1), st.sampled_from(["flip", "truncate", "insert", "shuffle"])
)
RANDOM_BYTES = st.one_of(
    st.binary(max_size=2000),
    st.binary(max_size=500).map(lambda b: b"PK\x03\x04" + b),
    st.binary(max_size=500).map(lambda b: b"\xff\xfe" + b),
)


def accepted_or_refused(call):
    try:
        call()
    except DataError as exc:
        assert str(exc)  # a French message, never empty


_CACHE: dict = {}


@pytest.fixture
def samples(shared_data, communes, tmp_path):
    if not _CACHE:
        _CACHE.update(
            _build_samples(
                shared_data, sorted(c for c in communes["insee"] if c.startswith("09"))[:60]
            )
        )
    folder = tmp_path / "samples"
    folder.mkdir()
    return {**_CACHE, "folder": folder}


def _build_samples(shared_data, codes):
    finess = b"\n".join(
        (shared_data / "finess" / "etalab-cs1100507-occitanie.csv").read_bytes().split(b"\n")[:200]
    )
    communes = json.loads((shared_data / "cog" / "communes.json").read_text(encoding="utf-8"))
    communes = json.dumps(
        [c for c in communes if str(c.get("code", "")).startswith("09")][:300]
    ).encode()
    typology = (
        "code_insee;classe\n" + "".join(f"{c};{1 + i % 6}\n" for i, c in enumerate(codes))
    ).encode()
    source = openpyxl.load_workbook(
        shared_data / "apl" / "apl_generalistes_drees_2022_2023.xlsx", read_only=True
    )
    small = openpyxl.Workbook()
    sheet = small.active
    sheet.title = "APL 2023"
    for number, row in enumerate(source["APL 2023"].iter_rows(values_only=True)):
        if number >= 60:
            break
        sheet.append(list(row))
    source.close()
    buffer = io.BytesIO()
    small.save(buffer)
    return {
        "finess": finess,
        "population": communes,
        "typology": typology,
        "apl": buffer.getvalue(),
    }


IMPORTERS = {
    "finess": ("finess.csv", import_finess),
    "population": ("communes.json", lambda path: update_population(path, vintage=2026)),
    "typology": ("typo.csv", import_typology),
    "apl": ("apl.xlsx", import_apl),
}


def _check(kind, data, folder):
    name, importer = IMPORTERS[kind]
    path = folder / name
    path.write_bytes(data)
    accepted_or_refused(lambda: importer(path))


@pytest.mark.parametrize("kind", list(IMPORTERS))
def test_real_samples_import(isolated_data, samples, kind):
    """The unmutated samples are accepted: the mutations below start from files that import."""
    name, importer = IMPORTERS[kind]
    path = samples["folder"] / name
    path.write_bytes(samples[kind])
    importer(path)


@pytest.mark.parametrize("kind", list(IMPORTERS))
def test_random_bytes(isolated_data, samples, kind):
    @SETTINGS
    @given(data=RANDOM_BYTES)
    def run(data):
        _check(kind, data, samples["folder"])

    run()


@pytest.mark.parametrize("kind", list(IMPORTERS))
def test_mutated_real_files(isolated_data, samples, kind):
    @SETTINGS
    @given(mutation=MUTATION)
    def run(mutation):
        _check(kind, mutate(samples[kind], *mutation), samples["folder"])

    run()
