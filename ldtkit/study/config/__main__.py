"""``python -m ldtkit.study.config > docs/city-config.md``: regenerate the reference of ``city.toml``."""

import sys

from ldtkit.study.config.reference import reference_markdown

sys.stdout.write(reference_markdown())
