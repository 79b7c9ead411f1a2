"""Coefficient library of gep: coefficient sets, crosswalks and ecosystem types.

* Sets (``coefficients/sets/<id>/set.toml`` + tables): :func:`list_sets`,
  :func:`load_set`, :func:`validate_set`, :func:`apply_overrides`, :func:`diff_sets`.
* Crosswalks land-cover class → Xie 2015 ecosystem type: :func:`list_crosswalks`,
  :func:`load_crosswalk`, :func:`validate_crosswalk`, :func:`apply_crosswalk`.
* The 14 ecosystem types of 谢高地 et al. 2015: :func:`ecosystem_types`,
  :func:`normalize_ecosystem_type`.

Format: docs/contracts.md §6 and docs/coefficients.md.
"""

from __future__ import annotations

from ._rows import DISTRIBUTIONS, STANDARD_COLUMNS, VERIFICATION
from .crosswalks import (
    apply_crosswalk,
    check_crosswalk,
    crosswalk_keys,
    list_crosswalks,
    load_crosswalk,
    match_classes,
    validate_crosswalk,
)
from .sets import (
    CoefficientSet,
    SetManifest,
    TableDecl,
    apply_overrides,
    check_table,
    diff_sets,
    equivalents_by_type,
    list_sets,
    load_overrides,
    load_set,
    validate_set,
)
from .types import ecosystem_types, is_ecosystem_type, normalize_ecosystem_type

__all__ = [
    "DISTRIBUTIONS",
    "STANDARD_COLUMNS",
    "VERIFICATION",
    "CoefficientSet",
    "SetManifest",
    "TableDecl",
    "apply_crosswalk",
    "apply_overrides",
    "check_crosswalk",
    "check_table",
    "crosswalk_keys",
    "diff_sets",
    "ecosystem_types",
    "equivalents_by_type",
    "is_ecosystem_type",
    "list_crosswalks",
    "list_sets",
    "load_crosswalk",
    "load_overrides",
    "load_set",
    "match_classes",
    "normalize_ecosystem_type",
    "validate_crosswalk",
    "validate_set",
]
