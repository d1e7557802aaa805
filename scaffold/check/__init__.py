"""`scaffold check`: a static analyser for the classic PyTorch training-loop mistakes.

Every rule reports an ID from `scaffold.catalogue`. Entry points: `check_source` for one string,
`check_paths` for files and directories. Neither imports torch. This package only re-exports:
the engine lives in `engine`, the result types in `findings`.
"""

from __future__ import annotations

from scaffold.check.engine import CheckError, check_paths, check_source, decode_source, parse_ids
from scaffold.check.findings import FileError, Finding, Report

__all__ = [
    "CheckError",
    "FileError",
    "Finding",
    "Report",
    "check_paths",
    "check_source",
    "decode_source",
    "parse_ids",
]
