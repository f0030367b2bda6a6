"""Commune search on the real base: the forms and abbreviations planners type."""

import pytest

from geo.base.search import close_names, name_key, search_communes, words


def first(query, communes, n=1):
    hits = search_communes(query, communes, limit=10)
    return list(zip(hits["name"], hits["insee"]))[:n]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("st girons", ("Saint-Girons", "09261")),
        ("St-Girons", ("Saint-Girons", "09261")),
        ("ST. GIRONS", ("Saint-Girons", "09261")),
        ("Ste Croix Volvestre", ("Sainte-Croix-Volvestre", "09257")),
        ("ste-croix-volvestre", ("Sainte-Croix-Volvestre", "09257")),
        ("Villeneuve s/ Lot", ("Villeneuve-sur-Lot", "47323")),
        ("Villeneuve s/Lot", ("Villeneuve-sur-Lot", "47323")),
        ("Villeneuve /s Lot", ("Villeneuve-sur-Lot", "47323")),
        ("villeneuve sur lot", ("Villeneuve-sur-Lot", "47323")),
        ("l isle jourdain", ("L'Isle-Jourdain", "32160")),  # names carry the COG's article
        ("L'Isle-Jourdain", ("L'Isle-Jourdain", "32160")),
        ("isle jourdain", ("L'Isle-Jourdain", "32160")),  # the article may be left out
        ("L'Herm", ("L'Herm", "09138")),  # before Lherm (31299, 46171)
        ("Le Mas d'Azil", ("Le Mas-d'Azil", "09181")),
        ("mas d azil", ("Le Mas-d'Azil", "09181")),
        ("masdazil", ("Le Mas-d'Azil", "09181")),
        ("La Bastide de Serou", ("La Bastide-de-Sérou", "09042")),
        ("SAINT GIRONS", ("Saint-Girons", "09261")),
        ("foix", ("Foix", "09122")),
        ("09122", ("Foix", "09122")),
        ("2A004", ("Ajaccio", "2A004")),
    ],
)
def test_usual_forms(communes, query, expected):
    assert first(query, communes) == [expected]


def test_lherm_finds_the_lherms_and_l_herm(communes):
    found = first("lherm", communes, n=3)
    assert sorted(found) == [("L'Herm", "09138"), ("Lherm", "31299"), ("Lherm", "46171")]


def test_same_name_before_longer_ones(communes):
    names = [name for name, _ in first("st girons", communes, n=4)]
    assert names[0] == "Saint-Girons" and all("Saint-Girons" in n for n in names)


def test_words_spell_out_abbreviations():
    assert words("Ste-Croix s/ Lot") == ["sainte", "croix", "sur", "lot"]
    assert words("Pont s/s Bois") == ["pont", "sous", "bois"]
    assert words("Saint-Étienne-d’Œuf") == ["saint", "etienne", "d", "oeuf"]
    assert name_key("St-Girons") == name_key("Saint Girons") == "saintgirons"
    assert name_key("Stenay") == "stenay"  # a name starting with « st » is not an abbreviation


def test_nothing_found_gives_nothing(communes):
    assert search_communes("xyzzy", communes).empty
    assert search_communes("  ", communes).empty


def test_close_names_when_nothing_matches(communes):
    assert search_communes("Tooulouse", communes).empty
    assert close_names("Tooulouse", communes)[0] == "Toulouse"
    assert search_communes("Villenueve sur Lot", communes).empty
    assert close_names("Villenueve sur Lot", communes)[0] == "Villeneuve-sur-Lot"
    assert close_names("st gironss", communes)[0] == "Saint-Girons"
    assert close_names("xyzzy", communes) == []


def test_close_communes_are_rows_of_the_base(communes):
    from geo.base.search import close_communes

    rows = close_communes("Tooulouse", communes)
    assert rows["name"].iloc[0] == "Toulouse" and rows["insee"].iloc[0] == "31555"
