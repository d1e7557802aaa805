"""The command-line interface: one thin module per command (see app.py)."""
