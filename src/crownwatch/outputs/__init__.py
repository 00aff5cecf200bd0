"""Outputs: what crownwatch hands to people and other tools (the HTML report, OCSF)."""
