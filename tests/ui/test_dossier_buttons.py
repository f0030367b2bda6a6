"""The dossier download buttons: on the drawing page (territory and scenario), and the proposal's dossier
built from an unsaved scenario in memory (ui/dossier.py)."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from tests.support.apptest import protos, run_page

FOIX, PAMIERS = "09122", "09225"


def test_drawing_page_offers_the_dossiers(isolated_data, communes):
    from geo.store.scenarios import ScenarioStore

    store = ScenarioStore()
    store.create("Dossier Ariège", scope="dep:09")
    tid = store.add_territory("Dossier Ariège", "CPTS de Foix")
    store.change_communes("Dossier Ariège", tid, add=[FOIX])
    app = run_page(
        "pages/2_Dessiner_un_territoire.py",
        **{"draw-scope": "dep:09", "scenario-wanted": "Dossier Ariège"},
    )
    assert not app.exception, [e.value for e in app.exception]
    labels = [p.label for p in protos(app) if type(p).__name__ == "DownloadButton"]
    assert "Dossier PDF du territoire" in labels and "Dossier PDF du scénario" in labels


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils absent")
def test_proposal_dossier(isolated_data, communes):
    from geo.coverage.proposals import propose
    from geo.report.build import build_dossier
    from geo.territory.context import context
    from ui.dossier import proposal_scenario

    ctx = context()
    codes = sorted(
        communes.loc[communes["epci"] == communes.set_index("insee").at[FOIX, "epci"], "insee"]
    )
    proposal = propose(codes, ctx, min_pop=10000, seed=1, around_msp=False)
    scenario = proposal_scenario(proposal, "Zone <b>{{x}}</b>", "dep:09")
    assert [t.communes for t in scenario.territories] == [
        set(t["communes"]) for t in proposal.territories
    ]
    pdf = build_dossier(scenario, ctx, zone=("Zone <b>{{x}}</b>", codes))
    text = subprocess.run(
        ["pdftotext", "-raw", "-", "-"], input=pdf, capture_output=True, check=True
    ).stdout
    text = text.decode()
    assert "Proposition — Zone <b>{{x}}</b>" in text
    assert "Vérification de la couverture (périmètre Zone <b>{{x}}</b>)" in text
    for code in codes:
        assert code in text
