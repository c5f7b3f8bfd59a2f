"""`python -m evalverse ...` is the `evalverse` command."""
from evalverse.cli import main

main()
