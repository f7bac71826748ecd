"""Browser tests of the embed script (a package so that its conftest does not
shadow tests/conftest.py, which other test modules import)."""
