"""Map layer builders (folium objects, legends, popups); no Streamlit here.

One module per thing drawn; the maps of the pages are put together in :mod:`layers.maps`::

    layers.maps         the maps of the pages, one module each: home, coverage, proposals
    layers.basemap      the empty map: local Leaflet assets, optional IGN tiles, metric scale, fitted to bounds
    layers.assets       the local Leaflet files (no CDN) and the message when they are missing
    layers.communes     the commune frame sent to the browser, colouring by population or density
    layers.indicators   the DREES APL choropleth and colouring (fixed reading thresholds)
    layers.typology     the IRDES typology choropleth and colouring (the nomenclature's colours)
    layers.cpts         the imported CPTS perimeters: dashed outlines with their figures
    layers.structures   the FINESS structures (MSP, centres de santé, CPTS seats) as markers
    layers.territories  territories of a scenario or a proposal, and reference CPTS outlines
    layers.coverage     uncovered and overlapping communes, uncovered zones, territory outlines
    layers.outlines     département and région outlines
    layers.legend       the legend drawn inside a map
    layers.fastgeojson  a GeoJSON layer serialised once, styled and with tooltips in the browser
    layers.safe         the one way user text enters a map (escaping, render guard)

Every text a layer did not write itself goes through :func:`layers.safe.html_text`,
and importing this package installs :func:`layers.safe.install_render_guard`:
see :mod:`layers.safe` for why user text can never become template source.
Numbers shown on a map are written by :mod:`geo.formats.french`.
"""

from layers import safe  # noqa: F401 - installs the render guard before any map is built
