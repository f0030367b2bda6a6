"""Streamlit helpers shared by the pages (caching, errors, base loading)."""
