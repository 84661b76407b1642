"""The default minifier: shorter source, same meaning, same line numbers."""

from __future__ import annotations

import ast
import multiprocessing
import os
import sys
import sysconfig
import textwrap
import time
import tokenize
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from belay_core.minifier import minify

NEW_FSTRINGS = sys.version_info >= (3, 12)


def check(source: str) -> str:
    """Minify ``source``, assert it is shorter, keeps its lines and means the same; return it."""
    source = textwrap.dedent(source)
    result = minify(source)
    assert len(result) < len(source), result
    assert result.count("\n") == source.count("\n"), result
    assert_same_code(source, result)
    return result


def assert_same_code(before: str, after: str) -> None:
    """Same AST apart from docstrings, and every statement on the same line."""
    error = compare(ast.parse(before), ast.parse(after))
    assert not error, f"{error}:\n{after}"


def is_docstring(node: ast.stmt) -> bool:
    return isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)


def strip_docstrings(tree: ast.Module, lines: set[int] | None = None) -> tuple[list[int], set[int]]:
    """Remove docstrings from ``tree``; return the line of each statement left, and each docstring's line.

    A body left empty gets the minifier's placeholder ``0`` at the docstring's line. With ``lines``,
    only docstrings starting on one of those lines are removed (once a docstring is removed, a second
    string statement becomes the body's first: it was no docstring in the original).
    """
    statements: list[int] = []
    docstrings: set[int] = set()

    def visit(owner: ast.AST, body: list[ast.stmt]) -> None:
        if (
            isinstance(owner, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
            and body
            and is_docstring(body[0])
            and (lines is None or body[0].lineno in lines)
        ):
            first = body.pop(0)
            docstrings.add(first.lineno)
            if not body and not isinstance(owner, ast.Module):
                body.append(ast.Expr(ast.Constant(0), lineno=first.lineno))
        for node in body:  # statements only nest in lists of statements, handlers and match cases
            statements.append(node.lineno)
            for name in node._fields:
                value = getattr(node, name, None)
                if isinstance(value, list) and value:
                    if isinstance(value[0], ast.stmt):
                        visit(node, value)
                    elif isinstance(value[0], (ast.excepthandler, getattr(ast, "match_case", ast.excepthandler))):
                        for inner in value:
                            visit(inner, inner.body)

    visit(tree, tree.body)
    return statements, docstrings


def compare(before: ast.Module, after: ast.Module) -> str:
    """Why two trees differ apart from docstrings (the AST, or a statement's line), or ``""``."""
    old_lines, docstrings = strip_docstrings(before)
    new_lines, _ = strip_docstrings(after, docstrings)
    if ast.dump(before, include_attributes=False) != ast.dump(after, include_attributes=False):
        return "AST differs"
    if old_lines != new_lines:
        return "statement line numbers differ"
    return ""


# --------------------------------------------------------------------------------------------------
# Unit cases
# --------------------------------------------------------------------------------------------------


def test_comments_removed() -> None:
    result = check(
        """\
        #!/usr/bin/env python
        # -*- coding: utf-8 -*-
        x = 1  # one
            # odd indent in a comment
        y = [1,  # inside brackets
             2]
        """
    )
    assert "#" not in result
    assert result == "\n\nx=1\n\ny=[1,\n2]\n"


def test_hash_inside_strings_kept() -> None:
    result = check(
        """\
        a = "# not a comment"  # comment
        b = '#' + '''
        # still text
        '''
        """
    )
    assert result == "a=\"# not a comment\"\nb='#'+'''\n# still text\n'''\n"


def test_module_docstring() -> None:
    result = check(
        '''\
        """Module docstring,
        on two lines."""

        import os
        '''
    )
    assert result == "\n\n\nimport os\n"


def test_module_only_docstring() -> None:
    assert check('"""Only a docstring."""\n') == "\n"


def test_class_and_function_docstrings() -> None:
    result = check(
        '''\
        class A:
            """Class doc."""

            def f(self):
                """Method doc."""
                return 1

            async def g(self):
                r"""Async doc."""
                await self.f()
        '''
    )
    assert '"""' not in result
    assert "return 1" in result
    assert result.splitlines()[5] == "  return 1"


def test_docstring_only_bodies_get_a_placeholder() -> None:
    result = check(
        '''\
        class Error(Exception):
            """An error.

            With details.
            """


        def stub():
            "Only a docstring."  # and a comment


        async def astub(): """Inline."""
        def inline(x=lambda: 1) -> "str": 'doc'
        '''
    )
    lines = result.splitlines()
    assert lines[0:5] == ["class Error(Exception):", " 0", "", "", ""]
    assert lines[7:9] == ["def stub():", " 0"]
    assert lines[11] == "async def astub():0"
    assert lines[12] == 'def inline(x=lambda:1)->"str":0'


def test_string_statements_that_are_not_docstrings_stay() -> None:
    result = check(
        '''\
        def f():
            x = 1
            """Not a docstring: not the first statement."""
            return x

        def g(): "doc"; return 1

        def h():
            b"bytes are no docstring"
        '''
    )
    assert "Not a docstring" in result
    assert 'b"bytes are no docstring"' in result


def test_fstring_first_statement_is_no_docstring() -> None:
    result = check(
        """\
        def f(x):
            f"{x}"
            return x
        """
    )
    assert 'f"{x}"' in result


def test_nested_indentation_one_space_per_level() -> None:
    result = check(
        """\
        def f(x):
            for i in range(x):
                if i:
                    while True:
                        break
                else:
                    pass
            return x
        """
    )
    assert result == "def f(x):\n for i in range(x):\n  if i:\n   while True:\n    break\n  else:\n   pass\n return x\n"


def test_tabs_and_mixed_indentation() -> None:
    source = "if x:\n\tif y:\n\t    z = 1\n\telse:\n\t\tz = 2\n"
    result = minify(source)
    assert result == "if x:\n if y:\n  z=1\n else:\n  z=2\n"
    assert_same_code(source, result)


def test_ambiguous_tabs_unchanged() -> None:
    source = "if x:\n        a = 1\n\tb = 2\n"  # TabError in CPython
    assert minify(source) == source


def test_fstrings_kept_verbatim() -> None:
    source = textwrap.dedent(
        """\
        name = "x"
        a = f"{name!r:>{10}} { name = }"
        b = f'{"nested"}' f"{name:{'>'}10}"  # comment
        c = rf"\\d{{2}} {name}"
        """
    )
    result = check(source)
    for literal in ('f"{name!r:>{10}} { name = }"', "f'{\"nested\"}'f\"{name:{'>'}10}\"", 'rf"\\d{{2}} {name}"'):
        assert literal in result


def test_pep701_fstrings_kept_verbatim() -> None:
    source = (
        'x = f"{"same quotes"} {f"{"nested"!r}"}"  # c\n'
        'y = f"""{\n    x  # a comment inside\n    + "1"\n}"""\n'
        'z = f"{x = }"\n'
    )
    result = minify(source)
    if not NEW_FSTRINGS:  # before Python 3.12 this is not valid source: it must come back untouched
        assert result == source
        return
    assert result == (
        'x=f"{"same quotes"} {f"{"nested"!r}"}"\ny=f"""{\n    x  # a comment inside\n    + "1"\n}"""\nz=f"{x = }"\n'
    )
    assert_same_code(source, result)


def test_line_continuations_kept() -> None:
    result = check(
        """\
        total = 1 + \\
                2 + \\
                3
        if total and \\
           not total:
            pass
        values = (1,
                  2,

                  3)
        text = ("implicit "
                "concatenation")
        """
    )
    assert result == (
        "total=1+\\\n2+\\\n3\nif total and \\\nnot total:\n pass\nvalues=(1,\n2,\n\n3)\n"
        'text=("implicit "\n"concatenation")\n'
    )


def test_decorators_lambdas_walrus() -> None:
    result = check(
        """\
        @property
        @functools.lru_cache(maxsize = None)
        def f(self, key = lambda item : item [0]):
            if (n := len(self)) > 10:
                return sorted(self, key = key)
            return n
        """
    )
    assert result.splitlines()[:4] == [
        "@property",
        "@functools.lru_cache(maxsize=None)",
        "def f(self,key=lambda item:item[0]):",
        " if(n:=len(self))>10:",
    ]


def test_keywords_next_to_numbers_and_strings() -> None:
    result = check(
        """\
        a = 1 if b else 2
        c = 1 .real
        d = not -1
        e = x in "abc" and "a" in x or 1. if y else 0x1f
        f = [i for i in range(3) if i is not 0]
        g = 1.0 if a else .5
        """
    )
    assert result == (
        'a=1 if b else 2\nc=1 .real\nd=not-1\ne=x in "abc"and "a"in x or 1. if y else 0x1f\n'
        "f=[i for i in range(3)if i is not 0]\ng=1.0 if a else .5\n"
    )


def test_operators_never_merge() -> None:
    source = "a = b - -c\nd = e < -f\ng = x[::2]\nh = ...\ni = -x ** -y\nj = ('' '')\n"
    result = minify(source)
    assert_same_code(source, result)
    assert "a=b--c" in result
    assert "j=('' '')" in result


def test_empty_and_blank_input() -> None:
    assert minify("") == ""
    assert minify("\n\n") == "\n\n"
    assert minify("# only a comment\n") == "\n"


def test_no_trailing_newline() -> None:
    source = "def f():\n    return 1  # end"
    result = minify(source)
    assert result == "def f():\n return 1"
    assert_same_code(source, result)


def test_crlf_line_endings() -> None:
    source = "x = 1\r\ny = '''a\r\nb'''\r\n"
    result = minify(source)
    assert result == "x=1\ny='''a\nb'''\n"
    assert_same_code(source, result)


def test_untokenizable_source_unchanged() -> None:
    for source in ("x = (1,\n", "s = 'unterminated\n", "if x:\n    a\n  b\n", 'x = """never closed\n', "a = $b\n"):
        assert minify(source) == source


def test_registered_as_default_minifier() -> None:
    from belay_core.plugins import load_plugins

    assert load_plugins({}).get("minifiers", "default").load() is minify


# --------------------------------------------------------------------------------------------------
# The standard library, every file
# --------------------------------------------------------------------------------------------------


def _stdlib_files() -> list[str]:
    root = Path(sysconfig.get_paths()["stdlib"])
    return sorted(str(path) for path in root.rglob("*.py") if "site-packages" not in path.relative_to(root).parts)


def _check_file(path: str) -> tuple[int, int, str]:
    """(bytes before, bytes after, error) for one file; (0, 0, "") when it does not parse."""
    try:
        with tokenize.open(path) as handle:
            source = handle.read()
        before = ast.parse(source)
    except (SyntaxError, UnicodeDecodeError, ValueError):
        return 0, 0, ""
    result = minify(source)
    try:
        after = ast.parse(result)
    except SyntaxError as exc:
        return 0, 0, f"{path}: minified text does not parse: {exc}"
    if result.count("\n") != source.replace("\r\n", "\n").replace("\r", "\n").count("\n"):
        return 0, 0, f"{path}: line count changed"
    error = compare(before, after)
    if error:
        return 0, 0, f"{path}: {error}"
    return len(source.encode()), len(result.encode()), ""


def test_stdlib_corpus_same_ast_and_lines() -> None:
    files = sorted(_stdlib_files(), key=os.path.getsize, reverse=True)  # biggest first: workers finish together
    started = time.perf_counter()
    workers = os.cpu_count() or 1
    if workers > 1 and "fork" in multiprocessing.get_all_start_methods():
        # fork: the workers inherit this module, however pytest imported it
        with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork")) as pool:
            results = list(pool.map(_check_file, files, chunksize=4))
    else:
        results = [_check_file(path) for path in files]
    elapsed = time.perf_counter() - started
    errors = [error for _, _, error in results if error]
    checked = sum(1 for before, _, error in results if before or error)
    before = sum(r[0] for r in results)
    after = sum(r[1] for r in results)
    summary = f"{checked} files checked in {elapsed:.1f}s, {before} -> {after} bytes"
    print(summary)
    assert not errors, f"{summary}; {len(errors)} failed:\n" + "\n".join(errors[:20])
    assert checked > 500, summary
    assert after < before * 0.8, summary
