"""python -m surgewatch.cli …"""

import sys

from surgewatch.cli import main

sys.exit(main())
