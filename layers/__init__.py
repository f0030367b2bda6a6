"""Map layer builders (folium objects, legends, popups); no Streamlit here."""
