"""python -m surgewatch.cli …"""

from surgewatch.cli import run

run()
