"""Imports every domain's tables so ``Base.metadata`` is complete (migrations, tests).

Each domain keeps its tables in ``rapidresponse/<domain>/model.py``; they are found here by
walking the package, so adding a domain needs no edit to this file.
"""

from __future__ import annotations

import importlib
import pkgutil

import rapidresponse
from rapidresponse.db import Base


def _import_domain_models() -> list[str]:
    found = []
    for module in pkgutil.iter_modules(rapidresponse.__path__):
        if module.ispkg:
            name = f"rapidresponse.{module.name}.model"
            try:
                importlib.import_module(name)
            except ModuleNotFoundError as exc:
                if exc.name != name:
                    raise
                continue
            found.append(name)
    return found


DOMAIN_MODELS = _import_domain_models()
metadata = Base.metadata

__all__ = ["DOMAIN_MODELS", "metadata"]
