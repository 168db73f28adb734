"""Command-line shells (Typer + Rich): parse options, call one library function, render."""
