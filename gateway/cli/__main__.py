"""`python -m gateway.cli …`: the `ledgergate` command."""

import sys

from . import main

sys.exit(main())
