"""Core's default minifier: shrink Python source for a board with little RAM, keeping line numbers.

`minify` works on the token stream (`tokenize`), so it never has to guess what is code and what is
text. It removes comments and docstrings, shrinks indentation to one space per level, and drops the
white space between tokens that the tokenizer does not need. String literals (and whole f-strings,
whose replacement fields may hold significant white space since Python 3.12) are copied unchanged,
and every line keeps its number, so a traceback on the board points at the host's line.
"""

from __future__ import annotations

import ast
import io
import re
import textwrap
import token
import tokenize
from collections.abc import Sequence

__all__ = ["minify"]

_COMMENT, _NL, _NEWLINE = tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE
_INDENT, _DEDENT, _ENDMARKER = tokenize.INDENT, tokenize.DEDENT, tokenize.ENDMARKER
_NAME, _NUMBER, _OP, _STRING = tokenize.NAME, tokenize.NUMBER, tokenize.OP, tokenize.STRING
# Python 3.12+ splits f-strings (3.14+: t-strings) into several tokens; copy each one whole.
_FSTART = {t for t in (getattr(tokenize, "FSTRING_START", None), getattr(tokenize, "TSTRING_START", None)) if t}
_FEND = {t for t in (getattr(tokenize, "FSTRING_END", None), getattr(tokenize, "TSTRING_END", None)) if t}

# Operators of two or more characters, plus ".." and "<>": two operator tokens whose joined text crosses
# one of these are kept apart, so they never merge into another operator ("." "." "." is not "...").
_LONG_OPS = frozenset([op for op in token.EXACT_TOKEN_TYPES if len(op) > 1] + ["..", "<>"])
_SKIPPED = frozenset((_COMMENT, _ENDMARKER, _NEWLINE, _NL, _INDENT, _DEDENT))  # no text of their own
_OP_CHARS = frozenset("".join(_LONG_OPS))
_QUOTES = "'\""
_TAB_INDENT = re.compile(r"^[ \f]*\t", re.MULTILINE)


def _word(char: str) -> bool:
    return char.isalnum() or char == "_" or char > "\x7f"


def _space(prev: str, prev_type: int, text: str, text_type: int) -> bool:
    """Whether a space must separate ``prev`` from ``text`` so both stay the same tokens."""
    if not prev:
        return False
    last, first = prev[-1], text[0]
    if prev_type == _NUMBER:
        return _word(first) or first == "."  # 1 if, 1 .real, 1. else (not 1.e...)
    if _word(last):
        # Names and keywords; a quote after a word could read as a string prefix, ``if .5`` as ``if.5``.
        return _word(first) or first in _QUOTES or text_type == _NUMBER
    if last in _QUOTES:
        return first == last  # '' 'x' must not become '''x'
    if last == ".":
        return first == "." or first.isdigit()
    if last in _OP_CHARS and first in _OP_CHARS and prev_type == _OP and text_type == _OP:
        joined = prev[-2:] + text[:2]
        cut = len(prev[-2:])
        return any(joined[start:end] in _LONG_OPS for start in range(cut) for end in range(cut + 1, len(joined) + 1))
    return False


def _plain_string(text: str) -> bool:
    """Whether a STRING token is a str literal (not bytes, not an f-string before Python 3.12)."""
    prefix = text[: min(i for i in (text.find("'"), text.find('"')) if i >= 0)].lower()
    return not any(c in prefix for c in "bft")


def _skip(tokens: Sequence[tokenize.TokenInfo], i: int) -> int:
    """Index of the first token at or after ``i`` that is not a comment or a blank line."""
    while tokens[i].type in (_NL, _COMMENT):
        i += 1
    return i


def _fstring_end(tokens: Sequence[tokenize.TokenInfo], i: int) -> int:
    """Index of the token that closes the f-string opened at ``i`` (Python 3.12+)."""
    nesting = 0
    while True:
        kind = tokens[i].type
        if kind in _FSTART:
            nesting += 1
        elif kind in _FEND:
            nesting -= 1
            if nesting == 0:
                return i
        i += 1


def _docstrings(tokens: Sequence[tokenize.TokenInfo]) -> dict[int, tuple[int, bool]]:
    """Find docstrings: index of the first string token -> (index of its NEWLINE, whether to replace it).

    A docstring is replaced (by ``0``) when it is the only statement of a ``def`` or ``class`` body;
    otherwise it is removed. Only docstrings that are bare string tokens ending their line are found.
    """
    found: dict[int, tuple[int, bool]] = {}

    def check(j: int, where: str) -> None:
        k = j
        while tokens[k].type == _STRING and _plain_string(tokens[k].string):
            k += 1
        if k == j:
            return
        if tokens[k].type == _COMMENT:
            k += 1
        if tokens[k].type != _NEWLINE:
            return  # followed by ``;`` or part of a bigger expression
        if where == "module":
            replace = False
        elif where == "inline":
            replace = True
        else:
            replace = tokens[_skip(tokens, k + 1)].type in (_DEDENT, _ENDMARKER)
        found[j] = (k, replace)

    check(_skip(tokens, 0), "module")
    count = len(tokens)
    for i, tok in enumerate(tokens):
        if tok.type != _NAME or tok.string not in ("def", "class"):
            continue
        # The header's colon: the first ':' outside brackets that does not belong to a lambda.
        depth = lambdas = 0
        j = i + 1
        while j < count:
            kind, text = tokens[j].type, tokens[j].string
            if kind in _FSTART:
                j = _fstring_end(tokens, j)
            elif kind in (_NEWLINE, _ENDMARKER):
                break
            elif kind == _OP and text in "([{":
                depth += 1
            elif kind == _OP and text in ")]}":
                depth -= 1
            elif depth == 0 and kind == _NAME and text == "lambda":
                lambdas += 1
            elif depth == 0 and kind == _OP and text == ":":
                if not lambdas:
                    break
                lambdas -= 1
            j += 1
        else:
            continue
        if tokens[j].type != _OP:
            continue
        after = j + 1 + (tokens[j + 1].type == _COMMENT)
        if tokens[after].type == _NEWLINE:
            body = _skip(tokens, after + 1)
            if tokens[body].type == _INDENT:
                check(body + 1, "block")
        else:
            check(j + 1, "inline")
    return found


def minify(source: str) -> str:
    """Shrink Python source without changing its meaning or any line number.

    Comments and docstrings are removed (a docstring that is a body's only statement becomes ``0``,
    and the lines it spanned stay as blank lines), indentation becomes one space per level (an indented
    snippet is dedented first), and white
    space between tokens is dropped wherever the tokenizer does not need it. String literals and
    f-strings are kept unchanged; backslash continuations are kept so each token stays on its line.
    Line endings become ``\\n`` (Python reads ``\\r\\n`` and ``\\r`` as ``\\n`` anyway).

    Parameters
    ----------
    source
        Python source code.

    Returns
    -------
    str
        The minified source, with exactly the same number of lines; ``source`` itself when it does
        not tokenize (the board then reports the error at the right line).

    Examples
    --------
    >>> minify("def f(x):\\n    '''Double.'''\\n    return x * 2  # twice\\n")
    'def f(x):\\n\\n return x*2\\n'
    """
    text = source[1:] if source.startswith("\ufeff") else source
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    if text[:1] in (" ", "\t"):
        text = textwrap.dedent(text)  # an indented snippet, as the original belay's minify took it
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(text).readline))
    except (tokenize.TokenError, SyntaxError, ValueError):  # IndentationError is a SyntaxError
        return source
    for tok in tokens:  # Python 3.12+ gives stray characters such as "$" as OP tokens
        if tok[0] == tokenize.ERRORTOKEN or (tok[0] == _OP and tok[1] not in token.EXACT_TOKEN_TYPES):
            return source
    if _TAB_INDENT.search(text):
        # `tokenize` does not reject ambiguous tabs: let the compiler decide (TabError).
        try:
            compile(text, "<minify>", "exec", ast.PyCF_ONLY_AST, dont_inherit=True)
        except (SyntaxError, ValueError):
            return source

    docstrings = _docstrings(tokens)
    offsets: list[int] = []  # start of each line in ``text``, computed on the first f-string
    out: list[str] = []
    row = 1  # the line ``out`` currently ends on
    depth = 0
    line_start = True
    prev, prev_type = "", _NEWLINE
    i, count = 0, len(tokens)
    while i < count:
        tok = tokens[i]
        kind = tok[0]
        if kind in _SKIPPED:
            if kind in (_NEWLINE, _NL):
                out.append(tok[1])
                row += tok[1].count("\n")
                prev = ""
                line_start = line_start or kind == _NEWLINE
            elif kind == _INDENT:
                depth += 1
            elif kind == _DEDENT:
                depth -= 1
            i += 1
            continue
        if i in docstrings:
            end, replace = docstrings[i]
            if replace:
                if line_start:
                    out.append(" " * depth)
                    line_start = False
                out.append(" 0" if _space(prev, prev_type, "0", _NUMBER) else "0")
            out.append("\n" * (tokens[end].start[0] - row))
            row = tokens[end].start[0]
            prev, prev_type = ("0", _NUMBER) if replace else ("", _NEWLINE)
            i = end
            continue
        if line_start:
            out.append(" " * depth)
            line_start = False
        if kind in _FSTART:
            end = _fstring_end(tokens, i)
            if not offsets:
                offsets = [0, 0]
                at = text.find("\n")
                while at >= 0:
                    offsets.append(at + 1)
                    at = text.find("\n", at + 1)
            (srow, scol), (erow, ecol) = tok.start, tokens[end].end
            piece = text[offsets[srow] + scol : offsets[erow] + ecol]
            kind = _STRING
        else:
            end = i
            piece = tok[1]
        gap = tok[2][0] - row
        if _space(prev, prev_type, piece, kind):
            out.append(" ")
        if gap > 0:  # a backslash continuation: keep it, so the next token stays on its line
            out.append("\\\n" * gap)
            row += gap
        out.append(piece)
        row += piece.count("\n")
        prev, prev_type = piece, kind
        i = end + 1
    return "".join(out)
