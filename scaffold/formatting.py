"""black, as scaffold runs it on every generated Python file: one mode, one error type.

A leaf module: rendering (`scaffold.render`) and the formatter worker (`scaffold.format_worker`)
both format through it, so neither imports the other for it.
"""

from __future__ import annotations

BLACK_LINE_LENGTH = 100


class RenderError(RuntimeError):
    """The template produced output that is not valid Python (a bug in scaffold, not the user)."""


def format_python(source: str, filename: str = "<generated>") -> str:
    """Format with black in process.

    Raises:
        RenderError: if the source does not parse.
    """
    import black

    try:
        return black.format_str(source, mode=black.Mode(line_length=BLACK_LINE_LENGTH))
    except black.InvalidInput as exc:
        raise RenderError(f"{filename}: rendered code does not parse: {exc}") from None
