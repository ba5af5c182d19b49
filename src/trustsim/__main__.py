"""`python -m trustsim`: the command line, as the installed `trustsim` command runs it."""

from trustsim.cli import main

main()
