"""The web shell: the JSON API and the portal, over the library's queries."""
