"""The copy of a planner's SQLite store into the team's PostgreSQL brings the change journal, the dossiers
made and the disputes ledger, on the target's territory numbers, once (real SQLite file, real cluster)."""

from __future__ import annotations

from geo.store.copy import copy_scenarios
from geo.store.disputes import DisputeLedger
from geo.store.dossiers import previous_dossier, record_dossier
from geo.store.scenarios import ScenarioStore

FOIX, PAMIERS, SAINT_GIRONS = "09122", "09225", "09261"


def _counts(store: ScenarioStore) -> dict[str, int]:
    with store.db.connect() as con:
        return {
            table: con.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]
            for table in ("scenarios", "territories", "history", "changes", "dossiers", "disputes")
            + ("dispute_events",)
        }


def test_copy_brings_journal_dossiers_and_disputes_once(tmp_path, postgres_url):
    local = ScenarioStore(tmp_path / "local.sqlite")
    local.create("Ariège 2027")
    foix = local.add_territory("Ariège 2027", "CPTS du Pays de Foix", session="a")
    local.change_communes("Ariège 2027", foix, add=[FOIX, PAMIERS], session="a")
    local.create("Variante")
    rival = local.add_territory("Variante", "Basse Ariège")
    local.change_communes("Variante", rival, add=[FOIX, PAMIERS, SAINT_GIRONS])
    local.create("Brouillon")
    gone = local.add_territory("Brouillon", "Éphémère")
    local.change_communes("Brouillon", gone, add=[SAINT_GIRONS])
    ledger = DisputeLedger(local)
    ledger.decide(FOIX, f"territoire:{foix}", note="Foix reste au Pays de Foix")
    ledger.decide(SAINT_GIRONS, f"territoire:{gone}")
    local.delete_territory("Brouillon", gone)  # the winner of Saint-Girons is gone since
    ledger.contest(PAMIERS, note="À discuter")
    record_dossier(local, local.get("Ariège 2027"))

    # The team's store already has territories (numbers differ) and its own dispute on Pamiers.
    team = ScenarioStore(postgres_url)
    for name in ("Déjà là", "Déjà là bis"):
        team.create(name)
        team.change_communes(name, team.add_territory(name, "Existant"), add=[PAMIERS])
    DisputeLedger(team).note(PAMIERS, "Vu par l'équipe")

    report = copy_scenarios(local, team)
    assert report.copied == ["Ariège 2027", "Brouillon", "Variante"]
    assert report.dossiers == 1 and report.disputes == 2  # Pamiers: the team's ledger is kept

    copied = team.get("Ariège 2027")
    new_foix = copied.territories[0]
    assert new_foix.id != foix and new_foix.communes == {FOIX, PAMIERS}
    # The journal came along, on the new numbers.
    assert [(c["action"], c["territory"], c["added"]) for c in team.history("Ariège 2027")] == [
        (c["action"], c["territory"], c["added"]) for c in local.history("Ariège 2027")
    ]
    # The decision on Foix names the copied territory; Basse Ariège is told it lost Foix.
    decided = DisputeLedger(team).dispute(FOIX)
    assert decided.winner == f"territoire:{new_foix.id}" and decided.status == "arbitré"
    assert decided.winner_label == ledger.dispute(FOIX).winner_label
    assert decided.notes[0]["text"] == "Foix reste au Pays de Foix"
    assert [row["code_insee"] for row in DisputeLedger(team).decided_against("Variante")] == [
        FOIX,
        SAINT_GIRONS,
    ]
    assert DisputeLedger(team).decided_against("Ariège 2027") == []
    # A winner the target lacks keeps its label, without a key (never another territory's number).
    lost = DisputeLedger(team).dispute(SAINT_GIRONS)
    assert lost.winner == "" and "Éphémère" in lost.winner_label
    assert [e["action"] for e in DisputeLedger(team).history(SAINT_GIRONS)] == ["statut"]
    # The team's own dispute is untouched.
    kept = DisputeLedger(team).dispute(PAMIERS)
    assert kept.status == "ouvert" and [n["text"] for n in kept.notes] == ["Vu par l'équipe"]
    # The dossier record is on the new numbers: the next dossier compares with it.
    record = previous_dossier(team, copied.id, new_foix.id)
    assert record == previous_dossier(local, local.get("Ariège 2027").id, foix)

    # Copying again adds nothing; a dossier made since is added, once.
    before = _counts(team)
    again = copy_scenarios(local, team)
    assert again.copied == [] and again.dossiers == 0 and again.disputes == 0
    assert _counts(team) == before
    record_dossier(local, local.get("Variante"))
    assert copy_scenarios(local, team).dossiers == 1
    assert copy_scenarios(local, team).dossiers == 0
    assert _counts(team) == {**before, "dossiers": before["dossiers"] + 1}
    basse = team.get("Variante").territories[0]
    assert previous_dossier(team, team.get("Variante").id, basse.id).communes == {
        FOIX,
        PAMIERS,
        SAINT_GIRONS,
    }


def test_copy_gives_a_workstation_scenario_to_whoever_copies(tmp_path, postgres_url):
    """A scenario of « poste local » belongs to the person copying; one with an owner keeps him."""
    local = ScenarioStore(tmp_path / "local.sqlite")
    local.create("Poste")
    with (
        local.db.transaction() as con
    ):  # a scenario drawn under a name (CARTOCPTS_USER on the workstation)
        con.execute("UPDATE scenarios SET owner='Marc' WHERE name='Poste'")
    local.create("Sans nom")
    assert local.get("Sans nom").owner in ("", "poste local")

    report = copy_scenarios(local, ScenarioStore(postgres_url, user="Claire (ARS)"))
    assert report.copied == ["Poste", "Sans nom"]
    team = ScenarioStore(postgres_url, user="Claire (ARS)")
    assert team.get("Poste").owner == "Marc"
    assert team.get("Sans nom").owner == "Claire (ARS)"
    assert team.get("Sans nom").sharing == "ecriture"  # the copied work stays editable by the team
