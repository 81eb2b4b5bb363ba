"""``python -m batch_constructs``: the operations CLI (the same as the ``batch-constructs`` console script)."""

from batch_constructs.cli import main

raise SystemExit(main())
