"""User preferences: the last scope, and each user's last scenario, kept in the data directory."""

import json

from geo.store import preferences


def test_each_user_has_own_last_scenario(isolated_data):
    assert preferences.get_for("Marc", "scenario") is None
    preferences.put_for("Marc", "scenario", "Ariège 2027")
    preferences.put_for("Claire (ARS)", "scenario", "Occitanie — variante")
    preferences.put("scope", "dep:09")
    assert preferences.get_for("Marc", "scenario") == "Ariège 2027"
    assert preferences.get_for("Claire (ARS)", "scenario") == "Occitanie — variante"
    assert preferences.get_for("poste local", "scenario", "x") == "x"
    assert preferences.get("scope") == "dep:09"
    preferences.put_for("Marc", "scenario", "Autre")
    assert preferences.get_for("Marc", "scenario") == "Autre"
    assert preferences.get_for("Claire (ARS)", "scenario") == "Occitanie — variante"


def test_damaged_file_gives_defaults(isolated_data):
    (isolated_data / "preferences.json").write_text('{"users": [1, 2]}', encoding="utf-8")
    assert preferences.get_for("Marc", "scenario") is None
    preferences.put_for("Marc", "scenario", "A")
    assert json.loads((isolated_data / "preferences.json").read_text())["users"] == {
        "Marc": {"scenario": "A"}
    }
    (isolated_data / "preferences.json").write_text("[]", encoding="utf-8")
    assert preferences.get("scope") == "reg:76"
