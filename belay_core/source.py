r"""Preparing user code for the raw REPL: control characters, ``sys.exit()``, indentation.

The raw REPL reads code byte by byte and acts on control characters (``\x01`` restarts the line,
``\x03`` clears it, ``\x04`` ends it), so code holding one would be cut short or run in pieces. A
control character inside a string literal is written as its escape (the string's value is the same);
anywhere else it cannot be carried and the code is refused before anything is sent.

A program's ``sys.exit(n)`` makes the firmware leave the raw REPL (current MicroPython soft-reboots)
without printing the code. Code that mentions ``exit`` or ``SystemExit`` is therefore run through
the board helper ``__belay_x``, which prints the code in a result frame and lets the exit go on.
"""

from __future__ import annotations

import ast
import io
import keyword
import re
import textwrap
import tokenize
from collections.abc import Collection

from belay_core.errors import UsageError

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")
"""Characters the raw REPL may act on (tab, newline, carriage return and form feed are plain text)."""

_EXIT = re.compile(r"\b(?:exit|SystemExit)\b")

_STRING_TYPES = {tokenize.STRING}
for _name in ("FSTRING_MIDDLE", "TSTRING_MIDDLE"):
    if hasattr(tokenize, _name):
        _STRING_TYPES.add(getattr(tokenize, _name))


def dedent(code: str) -> str:
    """Remove the indentation every line of ``code`` shares, so indented snippets run.

    Examples
    --------
    >>> dedent("    x = 1\\n    y = 2\\n")
    'x = 1\\ny = 2\\n'
    """
    if code[:1] in (" ", "\t"):
        return textwrap.dedent(code)
    return code


def escape_controls(code: str) -> str:
    r"""Write the control characters of string literals in ``code`` as escapes.

    Comments lose theirs (they are replaced by ``?``). Code without control characters is returned
    as it is, at the cost of one search.

    Raises
    ------
    UsageError
        For a control character outside a string literal or a comment, or inside a raw string (whose
        escapes would change its value).

    Examples
    --------
    >>> escape_controls("print('a\x04b')")
    "print('a\\x04b')"
    """
    first = _CONTROL.search(code)
    if first is None:
        return code
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(code).readline))
    except (tokenize.TokenError, SyntaxError):
        _refuse(code, first.start(), "in code that does not tokenize")
    lines = code.splitlines(keepends=True)
    offsets = [0]
    for line in lines:
        offsets.append(offsets[-1] + len(line))
    pieces: list[str] = []
    done = 0
    for tok in tokens:
        start = offsets[tok.start[0] - 1] + tok.start[1]
        end = offsets[tok.end[0] - 1] + tok.end[1]
        text = code[start:end]
        if not _CONTROL.search(text):
            continue
        if tok.type == tokenize.COMMENT:
            replacement = _CONTROL.sub("?", text)
        elif tok.type in _STRING_TYPES:
            replacement = _escape_string(code, start, text, tok.type == tokenize.STRING)
        else:
            continue
        pieces.append(code[done:start])
        pieces.append(replacement)
        done = end
    pieces.append(code[done:])
    result = "".join(pieces)
    left = _CONTROL.search(result)
    if left is not None:
        _refuse(result, left.start(), "outside a string literal")
    return result


def _escape_string(code: str, start: int, text: str, whole: bool) -> str:
    prefix = ""
    if whole:
        quote = min(i for i in (text.find("'"), text.find('"')) if i >= 0)
        prefix = text[:quote].lower()
    if "r" in prefix:
        match = _CONTROL.search(text)
        assert match is not None
        _refuse(code, start + match.start(), "inside a raw string, whose value an escape would change")
    out = []
    for index, char in enumerate(text):
        if _CONTROL.match(char):
            backslashes = len(text[:index]) - len(text[:index].rstrip("\\"))
            if backslashes % 2:
                _refuse(code, start + index, "right after a backslash")
            out.append(f"\\x{ord(char):02x}")
        else:
            out.append(char)
    return "".join(out)


def _refuse(code: str, index: int, where: str) -> None:
    line = code.count("\n", 0, index) + 1
    column = index - (code.rfind("\n", 0, index) + 1) + 1
    char = code[index]
    raise UsageError(
        f"the code holds the control character {char!r} at line {line}, column {column}, {where}: the raw REPL "
        f"would act on it (\\x01-\\x04 restart, clear or end the input). Write it as an escape ({char!r}) "
        "in a normal string literal"
    )


def mentions_exit(code: str, names: Collection[str] = ()) -> bool:
    """Whether ``code`` may raise ``SystemExit``: it names ``exit``, ``SystemExit`` or one of ``names``."""
    if ("exit" in code or "Exit" in code) and _EXIT.search(code):
        return True
    return bool(names) and any(name in code and re.search(rf"\b{re.escape(name)}\b", code) for name in names)


def catch_exit(code: str) -> str:
    """``code`` run through the board helper that reports a ``SystemExit``'s code (see the module doc)."""
    return f"__belay_x({code!r})"


def worth_minifying(code: str) -> bool:
    """Whether minifying ``code`` can save anything: one short line without a comment stays as it is."""
    return "\n" in code.strip() or "#" in code or len(code) > 200


def is_expression(code: str) -> bool:
    """Whether ``code`` is one expression (whose value a call returns, and a REPL shows), not statements."""
    if (code.isidentifier() and not keyword.iskeyword(code)) or code.isdigit():  # pass, break: statements
        return True
    try:
        ast.parse(code, mode="eval")
    except SyntaxError:
        return False
    return True


__all__ = ["catch_exit", "dedent", "escape_controls", "is_expression", "mentions_exit", "worth_minifying"]
