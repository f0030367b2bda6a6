"""A map legend drawn as plain HTML inside the map (no JavaScript library).

branca's colormaps are not used: streamlit-folium would load d3 from a CDN
for them. Legends stand in a column on the map's right side (``LEGEND_COLUMN`` pixels, kept free of the
area of interest by the maps' fitting) and fold up on a click on their title (``<details>``, keyboard
operable), so that none ever hides a place the reader wants to see.
"""

from __future__ import annotations

from branca.element import MacroElement
from jinja2 import Template

from layers.safe import css_colour, html_text

LEGEND_COLUMN = (
    210  # px: the width legends take on the map's right side (max-width below, plus margins)
)


class Legend(MacroElement):
    """A titled list of colour swatches in a corner of the map."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function() {
            var legend = L.control({position: {{ this.position|tojson }}});
            legend.onAdd = function() {
                var div = L.DomUtil.create('div', 'cartocpts-legend');
                div.innerHTML = {{ this.html|tojson }};
                return div;
            };
            legend.addTo({{ this._parent.get_name() }});
        })();
        {% endmacro %}
        """
    )

    def __init__(self, title: str, entries: list[tuple[str, str]], position: str = "bottomright"):
        super().__init__()
        self._name = "Legend"
        self.position = position
        self.title = title
        self.entries = list(entries)
        rows = "".join(
            f'<div><span style="display:inline-block;width:14px;height:14px;margin-right:6px;'
            f'vertical-align:middle;border:1px solid #555;background:{css_colour(color)}"></span>'
            f"{html_text(label)}</div>"
            for color, label in entries
        )
        self.html = (
            '<details open style="background:rgba(255,255,255,.94);padding:6px 8px;border-radius:4px;'
            "font:12px/1.5 sans-serif;color:#111;box-shadow:0 0 4px rgba(0,0,0,.3);max-width:190px;"
            'max-height:45vh;overflow:auto"><summary style="cursor:pointer;font-weight:bold">'
            f"{html_text(title)}</summary>{rows}</details>"
        )

    def safe_entries(self) -> tuple[str, list[list[str]]]:
        """Title and (colour, label) rows, escaped, for a legend drawn by a browser-side map."""
        return html_text(self.title), [
            [css_colour(c), html_text(label)] for c, label in self.entries
        ]
