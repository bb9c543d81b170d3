"""surgewatch: what usually happens after a month like this?"""

__version__ = "0.1.0"
