"""Map layer builders (folium objects, legends, popups); no Streamlit here.

Every text a layer did not write itself goes through :func:`layers.safe.html_text`,
and importing this package installs :func:`layers.safe.install_render_guard`:
see :mod:`layers.safe` for why user text can never become template source.
"""

from layers import safe  # noqa: F401 - installs the render guard before any map is built
