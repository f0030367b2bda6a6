"""CartoCPTS domain: data sources, commune base, territories, indicators (no Streamlit here)."""
