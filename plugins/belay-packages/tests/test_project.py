"""``[tool.belay]`` configuration: the written forms, defaults, and one clear message per problem."""

from __future__ import annotations

from pathlib import Path

import pytest

from belay_packages.project import DEFAULT_PACKAGE_INDICES, ConfigError, find_pyproject, load_config

GOOD = """
[project]
name = "demo"

[tool.belay]
name = "my_project"
ignore = ["*.md"]

[tool.belay.dependencies]
aiohttp = "*"
requests = "1.0.0"
ssd1306 = "github:user/repo/ssd1306.py"
sensors = ["https://example.com/a.py", "https://example.com/b.py"]
mylib = {uri = "../mylib", develop = true}

[tool.belay.group.dev]
optional = true

[tool.belay.group.dev.dependencies]
tester = {uri = "github:user/tester", rename_to_init = false}
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "pyproject.toml"
    path.write_text(text)
    return path


def test_all_written_forms(tmp_path):
    config = load_config(write(tmp_path, GOOD))
    assert config.name == "my_project"
    assert config.ignore == ["*.md"]
    deps = config.dependencies
    assert [(s.uri, s.rename_to_init) for s in deps["aiohttp"]] == [("aiohttp", True)]
    assert deps["requests"][0].uri == "requests@1.0.0"
    assert deps["ssd1306"][0].uri == "github:user/repo/ssd1306.py"
    assert [(s.uri, s.rename_to_init) for s in deps["sensors"]] == [
        ("https://example.com/a.py", False),
        ("https://example.com/b.py", False),
    ]
    assert deps["mylib"][0].develop is True
    assert config.group["dev"].optional is True
    assert config.group["dev"].dependencies["tester"][0].rename_to_init is False
    assert list(config.groups) == ["main", "dev"]
    assert len(list(config.sources())) == 7


def test_defaults_without_a_section(tmp_path):
    config = load_config(write(tmp_path, "[project]\nname = 'x'\n"))
    assert config.dependencies_path == Path(".belay/dependencies")
    assert config.mpy_version == "py"
    assert config.package_indices == list(DEFAULT_PACKAGE_INDICES)
    assert config.groups == {"main": config.groups["main"]}


def test_found_by_searching_upward(tmp_path, monkeypatch):
    write(tmp_path, GOOD)
    deep = tmp_path / "src" / "pkg"
    deep.mkdir(parents=True)
    monkeypatch.chdir(deep)
    assert find_pyproject() == tmp_path / "pyproject.toml"
    assert load_config().name == "my_project"


def test_missing_pyproject(tmp_path):
    with pytest.raises(ConfigError, match=r"no pyproject\.toml"):
        find_pyproject(tmp_path)


@pytest.mark.parametrize(
    ("section", "expected"),
    [
        ('[tool.belay]\nnmae = "x"', r"\[tool\.belay\.nmae\]: unknown key"),
        ("[tool.belay]\nignore = 3", r"\[tool\.belay\.ignore\]: .*list"),
        ('[tool.belay]\nname = "my-project"', r"\[tool\.belay\.name\]: 'my-project' is not a valid package name"),
        ('[tool.belay.dependencies]\n"bad-name" = "*"', r"'bad-name' is not a valid package name"),
        ('[tool.belay.dependencies]\nfoo = "^1.0"', r"version ranges are not supported \('\^1\.0'\)"),
        ("[tool.belay.dependencies]\nfoo = 3", r"foo: expected a string, a list of sources or a table"),
        ('[tool.belay.dependencies]\nfoo = {uri = "x", editable = true}', r"unknown key"),
        ('[tool.belay.dependencies]\nfoo = [["a"]]', r"cannot hold another list"),
        ('[tool.belay]\nmpy_version = "six"', r"mpy_version\]: 'six': use 'py'"),
        ('[tool.belay]\npackage_indices = ["ftp://x"]', r"'ftp://x' is not an http\(s\) URL"),
        ('[tool.belay.group.main.dependencies]\nfoo = "*"', r"group\.main"),
        (
            '[tool.belay.dependencies]\nfoo = [{uri = "a", rename_to_init = true}, {uri = "b", rename_to_init = true}]',
            r"more than one source is marked rename_to_init",
        ),
    ],
)
def test_each_invalid_input_names_file_key_and_expectation(tmp_path, section, expected):
    path = write(tmp_path, section)
    with pytest.raises(ConfigError, match=expected) as caught:
        load_config(path)
    assert str(path) in str(caught.value)


def test_invalid_toml(tmp_path):
    path = write(tmp_path, "[tool.belay\nname=")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(path)
