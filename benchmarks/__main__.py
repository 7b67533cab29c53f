"""``python -m benchmarks``: see ``benchmarks.run`` and benchmarks/README.md."""

from benchmarks.run import main

raise SystemExit(main())
