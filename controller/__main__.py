"""`python -m controller` is the same as the `gardener-extension-networking` console script."""

from controller.cli import main

raise SystemExit(main())
