"""Who is using the app, for the scenario store's roles and journal (team mode, README « Déploiement en équipe »).

In order: Streamlit's own authentication (OpenID Connect, ``st.login``) when an ``[auth]`` section is in
the app's secrets; else a trusted reverse-proxy header when ``CARTOCPTS_USER_HEADER`` names it (for example
``X-Remote-User``; the proxy must strip it from clients' requests); else « poste local », the single user
of a planner's own machine.
"""

from __future__ import annotations

import os

import streamlit as st

from geo.store.users import LOCAL_USER, clean_user

HEADER_VAR = "CARTOCPTS_USER_HEADER"


def _auth_configured() -> bool:
    try:
        return "auth" in st.secrets
    except Exception:  # noqa: BLE001 - no secrets file at all: no authentication configured
        return False


def _utf8(value: str) -> str:
    """A header value as the proxy sent it: HTTP headers are read as Latin-1, names come in UTF-8."""
    try:
        return value.encode("latin-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return value


def current_user() -> str | None:
    """The user's name, or None when authentication is configured and nobody is logged in yet."""
    if _auth_configured():
        if not st.user.is_logged_in:
            return None
        return clean_user(st.user.get("email") or st.user.get("name") or "")
    header = os.environ.get(HEADER_VAR, "").strip()
    if header:
        value = _utf8(st.context.headers.get(header) or "").strip()
        return clean_user(value) if value else None
    return LOCAL_USER


def require_user() -> str:
    """The user's name; else a French invitation to log in (or an explanation) and the page stops."""
    user = current_user()
    if user is not None:
        return user
    if _auth_configured():
        st.info("Connectez-vous pour consulter et modifier les scénarios de l'équipe.")
        if st.button("Se connecter"):
            st.login()
    else:
        st.error(
            "Identité absente : l'application attend le nom de l'utilisateur du proxy d'authentification "
            "(en-tête configuré par CARTOCPTS_USER_HEADER). Passez par l'adresse habituelle de l'ARS."
        )
    st.stop()
    raise AssertionError("unreachable")  # st.stop() ends the script run
