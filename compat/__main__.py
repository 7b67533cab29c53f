import sys

from compat._run import main

sys.exit(main())
