"""``python -m optimizer.cli``: the ``eastwest`` command."""

from optimizer.cli import main

main()
