"""CSV for people who open it in a spreadsheet: a text cell that starts like a formula is
run as one by Excel, LibreOffice and Google Sheets (CSV injection: a glitch id or reason
'=HYPERLINK(...)' from an imported file name or a form)."""

from __future__ import annotations

# A cell starting with one of these is run as a formula by spreadsheets.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_cell(value: object) -> object:
    """A text cell that a spreadsheet would run as a formula gets a leading apostrophe,
    which spreadsheets show as text (OWASP's advice on CSV injection); anything else (a
    number, a negative one included) is written as it is."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value
