"""Synthetic data generator (``upgrade-warehouse generate``, issue 5).

``generate(out_dir, GeneratorConfig(...))`` writes every table of the data contract and
``manifest.json``; see ``docs/generator.md``. Imports are lazy so that the CLI starts
fast.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .config import GeneratorConfig
    from .core import GENERATOR_VERSION, generate

__all__ = ["GENERATOR_VERSION", "GeneratorConfig", "generate"]


def __getattr__(name: str):
    if name == "generate":
        from .core import generate

        return generate
    if name == "GENERATOR_VERSION":
        from .core import GENERATOR_VERSION

        return GENERATOR_VERSION
    if name == "GeneratorConfig":
        from .config import GeneratorConfig

        return GeneratorConfig
    raise AttributeError(name)
