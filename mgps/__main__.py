"""``python -m mgps ...``: see :mod:`mgps.cli`."""

from .cli import main

raise SystemExit(main())
