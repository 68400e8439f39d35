"""`python -m flowrag` = the `flowrag` command."""

from flowrag.cli import main

main()
