"""The package manager: resolve ``[tool.belay]`` dependencies, lock them, keep them on disk, stage them.

Downloaded dependencies live in ``<project>/<dependencies_path>/<group>/``, laid out as the board's
``/lib``: a package's files go to ``<package>/`` (a single-file source with ``rename_to_init``
becomes ``<package>/__init__.py``), package-index files go where their manifest says.
``belay.lock`` pins every source and records the sha256 of every file.
"""

from __future__ import annotations

import ast
import tempfile
from collections.abc import Collection, Iterable
from pathlib import Path
from typing import Callable, Optional, Union

from attrs import define, field

from belay_core.errors import BelayError
from belay_packages.downloaders import DownloadContext, DownloadError, DownloadProgress, Fetched, IntegrityError
from belay_packages.lock import (
    LOCK_NAME,
    LockedPackage,
    LockedSource,
    LockError,
    LockFile,
    compare,
    read_lock,
    sha256,
    source_key,
)
from belay_packages.lock import write_lock as _write_lock
from belay_packages.project import BelayConfig, DependencySource, find_pyproject, load_config

Report = Callable[[str], None]
"""Called with a line of news (``main.aiohttp: downloaded 3 files``)."""

PY_SUFFIXES = (".py", ".mpy")


@define
class Project:
    """A project: its ``pyproject.toml`` and parsed ``[tool.belay]``.

    Examples
    --------
    >>> project = Project.load()          # the nearest pyproject.toml upward
    >>> project.group_folder("main")
    PosixPath('/home/me/blink/.belay/dependencies/main')
    """

    pyproject: Path
    config: BelayConfig

    @classmethod
    def load(cls, start: Union[str, Path, None] = None) -> Project:
        """The project whose ``pyproject.toml`` is nearest ``start`` (default: the working directory)."""
        path = find_pyproject(start)
        return cls(path, load_config(path))

    @property
    def root(self) -> Path:
        """The project folder."""
        return self.pyproject.parent

    @property
    def dependencies_folder(self) -> Path:
        """Where downloaded dependencies are kept."""
        return self.root / self.config.dependencies_path

    @property
    def lock_path(self) -> Path:
        return self.root / LOCK_NAME

    def group_folder(self, group: str) -> Path:
        """The folder holding ``group``'s downloaded dependencies (laid out as ``/lib``)."""
        return self.dependencies_folder / group

    def read_lock(self) -> Optional[LockFile]:
        return read_lock(self.lock_path)

    def write_lock(self, lock: LockFile) -> None:
        _write_lock(self.lock_path, lock)

    def context(self, progress: Optional[DownloadProgress] = None) -> DownloadContext:
        """A download context for this project (its folder, indices and mpy version)."""
        return DownloadContext(
            project=self.root,
            package_indices=list(self.config.package_indices),
            mpy_version=self.config.mpy_version,
            progress=progress,
        )

    def select_groups(self, with_groups: Iterable[str] = ()) -> list[str]:
        """``main``, every non-optional group, and the optional ones asked for.

        Raises
        ------
        BelayError
            When a group asked for does not exist.
        """
        groups = self.config.groups
        wanted = list(dict.fromkeys(with_groups))
        unknown = [name for name in wanted if name not in groups]
        if unknown:
            raise BelayError(
                f"no dependency group {', '.join(map(repr, unknown))} in {self.pyproject}; groups: {', '.join(groups)}"
            )
        return [name for name, group in groups.items() if not group.optional or name in wanted]


@define
class PackageContent:
    """A downloaded package: its lock entry and its files (path in the group folder → bytes)."""

    locked: LockedPackage
    files: dict[str, bytes] = field(factory=dict)


def _check_python(uri: str, name: str, data: bytes) -> None:
    try:
        ast.parse(data.decode("utf-8"), filename=name)
    except UnicodeDecodeError:
        raise DownloadError(f"{uri}: {name} is not UTF-8 text, so not a Python file") from None
    except SyntaxError as exc:
        raise DownloadError(f"{uri}: {name} is not valid Python (line {exc.lineno}: {exc.msg})") from None


def _target(package: str, source: DependencySource, fetched: Fetched, file: str) -> str:
    if fetched.lib_root:
        return file
    suffix = Path(file).suffix
    if fetched.single_file and source.rename_to_init and suffix in PY_SUFFIXES:
        return f"{package}/__init__{suffix}"
    return f"{package}/{file}"


def download_package(
    context: DownloadContext,
    group: str,
    name: str,
    sources: list[DependencySource],
    pins: Optional[list[Optional[str]]] = None,
) -> PackageContent:
    """Download every source of one package, check each ``.py`` parses, and lay them out.

    Parameters
    ----------
    pins
        ``resolved`` values from the lock, one per source, to download exactly what was locked.

    Raises
    ------
    DownloadError
        Naming the package and source.
    """
    files: dict[str, bytes] = {}
    locked = []
    for index, source in enumerate(sources):
        pin = pins[index] if pins is not None and index < len(pins) else None
        with tempfile.TemporaryDirectory(prefix="belay-") as tmp:
            folder = Path(tmp)
            try:
                fetched = context.download(source.uri, folder, pin)
            except DownloadError as exc:
                raise type(exc)(f"{group}.{name}: {exc}") from None
            hashes = {}
            for file in fetched.files:
                data = (folder / file).read_bytes()
                if file.endswith(".py"):
                    _check_python(source.uri, file, data)
                target = _target(name, source, fetched, file)
                if target in files and files[target] != data:
                    raise DownloadError(f"{group}.{name}: two of its sources write different {target}")
                files[target] = data
                hashes[target] = sha256(data)
        locked.append(
            LockedSource(
                uri=source.uri,
                develop=source.develop,
                rename_to_init=source.rename_to_init,
                resolved=fetched.resolved,
                files={} if source.develop else hashes,
            )
        )
    return PackageContent(LockedPackage(group=group, name=name, source=locked), files)


def _check_group_conflicts(packages: Iterable[LockedPackage]) -> None:
    owner: dict[str, tuple[str, str]] = {}
    for package in packages:
        for path, digest in package.files.items():
            if path in owner and owner[path][1] != digest:
                raise LockError(
                    f"{package.group}: packages {owner[path][0]} and {package.name} both install {path}, "
                    "with different contents"
                )
            owner.setdefault(path, (package.name, digest))


def lock(
    project: Project,
    context: DownloadContext,
    refresh: Union[bool, Collection[str]] = False,
    report: Optional[Report] = None,
) -> tuple[LockFile, dict[tuple[str, str], PackageContent]]:
    """Resolve the configured dependencies into a lock.

    Parameters
    ----------
    refresh
        ``False``: keep every lock entry whose sources are unchanged and resolve only new or changed
        packages. ``True``: resolve everything again. Package names: resolve those again.

    Returns
    -------
    tuple
        The new lock and the packages downloaded on the way (keyed by ``(group, name)``).
    """
    report = report or (lambda line: None)
    previous = project.read_lock()
    configured = {name for _, name, _ in project.config.sources()}
    if not isinstance(refresh, bool):
        unknown = sorted(set(refresh) - configured)
        if unknown:
            raise BelayError(f"no dependency named {', '.join(map(repr, unknown))} in {project.pyproject}")
    packages = []
    contents = {}
    for group_name, group in project.config.groups.items():
        for name, sources in group.dependencies.items():
            old = previous.get(group_name, name) if previous is not None else None
            fresh = refresh is True or (not isinstance(refresh, bool) and name in refresh)
            if old is not None and not fresh and [s.key() for s in old.source] == [source_key(s) for s in sources]:
                packages.append(old)
                continue
            content = download_package(context, group_name, name, list(sources))
            report(f"{group_name}.{name}: resolved {_files_and_pins(content.locked)}")
            packages.append(content.locked)
            contents[(group_name, name)] = content
    for group_name in project.config.groups:
        _check_group_conflicts(p for p in packages if p.group == group_name)
    return LockFile(package=packages), contents


def _files_and_pins(package: LockedPackage) -> str:
    pins = [s.resolved for s in package.source if s.resolved]
    count = len(package.files)
    text = f"{count} file{'s' if count != 1 else ''}"
    return f"{text} ({'; '.join(pins)})" if pins else text


def _on_disk_matches(folder: Path, files: dict[str, str]) -> bool:
    for path, digest in files.items():
        try:
            if sha256((folder / path).read_bytes()) != digest:
                return False
        except OSError:
            return False
    return True


def _verify(package: LockedPackage, content: PackageContent) -> None:
    expected = package.files
    got = content.locked.files
    for path in sorted(set(expected) | set(got)):
        if expected.get(path) == got.get(path):
            continue
        label = f"{package.group}.{package.name}"
        fix = f"if the change is expected, run: belay update {package.name}"
        if path not in got:
            raise IntegrityError(f"{label}: {path} is in {LOCK_NAME} but the download no longer has it; {fix}")
        if path not in expected:
            raise IntegrityError(f"{label}: the download has {path}, which {LOCK_NAME} does not list; {fix}")
        raise IntegrityError(
            f"{label}: {path} has sha256 {got[path][:12]}… but {LOCK_NAME} says {expected[path][:12]}…; "
            f"the source changed since it was locked; {fix}"
        )


WRITTEN_NAME = ".belay-written"
"""In the dependencies folder: the files Belay wrote there, one ``group/path`` a line. Only these are deleted."""


@define
class WrittenFiles:
    """The files Belay wrote in a project's dependencies folder, so it never deletes one it did not write.

    Files recorded before this record existed are recognised by content: a file whose sha256 is the
    one ``belay.lock`` records for it is Belay's.
    """

    root: Path
    files: set[str] = field(factory=set)

    @classmethod
    def load(cls, project: Project, lock_file: Optional[LockFile]) -> WrittenFiles:
        """What Belay wrote in ``project``'s dependencies folder (the record, plus files matching the lock)."""
        root = project.dependencies_folder
        record = root / WRITTEN_NAME
        files = set(record.read_text(encoding="utf-8").split("\n")) - {""} if record.is_file() else set()
        for package in lock_file.package if lock_file is not None else []:
            for path, digest in package.files.items():
                on_disk = root / package.group / path
                if on_disk.is_file() and sha256(on_disk.read_bytes()) == digest:
                    files.add(f"{package.group}/{path}")
        return cls(root, files)

    def save(self) -> None:
        record = self.root / WRITTEN_NAME
        if self.files:
            self.root.mkdir(parents=True, exist_ok=True)
            record.write_text("".join(f"{path}\n" for path in sorted(self.files)), encoding="utf-8")
        elif record.is_file():
            record.unlink()

    def write(self, group: str, files: dict[str, bytes]) -> None:
        """Write ``files`` (paths relative to the group's folder) and record them."""
        for path, data in files.items():
            _write_file(self.root / group / path, data)
            self.files.add(f"{group}/{path}")
        self.save()

    def prune(self, group: str, keep: Collection[str] = ()) -> list[str]:
        """Delete the files Belay wrote for ``group`` that are not in ``keep``; return them (group-relative).

        Folders left empty by that go too; anything else in the folder stays.
        """
        prefix = f"{group}/"
        removed = sorted(p[len(prefix) :] for p in self.files if p.startswith(prefix) and p[len(prefix) :] not in keep)
        folder = self.root / group
        for relative in removed:
            path = folder / relative
            if path.is_file() or path.is_symlink():
                path.unlink()
            self.files.discard(prefix + relative)
            parent = path.parent
            while parent != self.root and parent.is_dir() and not any(parent.iterdir()):
                parent.rmdir()
                parent = parent.parent
        self.save()
        return removed

    def groups(self) -> set[str]:
        return {path.split("/", 1)[0] for path in self.files}


def _write_file(target: Path, data: bytes) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(data)


def _write_files(folder: Path, files: dict[str, bytes]) -> None:
    for path, data in files.items():
        _write_file(folder / path, data)


def materialize(
    project: Project,
    context: DownloadContext,
    lock_file: LockFile,
    groups: Iterable[str],
    contents: Optional[dict[tuple[str, str], PackageContent]] = None,
    report: Optional[Report] = None,
) -> None:
    """Make the group folders hold exactly what the lock says, downloading pinned sources as needed.

    Raises
    ------
    IntegrityError
        When a download differs from the lock's hashes (nothing is written for that package).
    """
    report = report or (lambda line: None)
    contents = contents or {}
    written = WrittenFiles.load(project, project.read_lock())
    for group in groups:
        folder = project.group_folder(group)
        keep: set[str] = set()
        for package in lock_file.group(group):
            files = package.files
            keep.update(files)
            content = contents.get((group, package.name))
            if content is None:
                if _on_disk_matches(folder, files):
                    continue
                sources = [
                    DependencySource(uri=s.uri, develop=s.develop, rename_to_init=s.rename_to_init)
                    for s in package.source
                ]
                content = download_package(context, group, package.name, sources, [s.resolved for s in package.source])
                _verify(package, content)
                report(f"{group}.{package.name}: downloaded {_files_and_pins(package)}")
            written.write(group, {path: content.files[path] for path in files})
        written.prune(group, keep)


def ensure_locked(
    project: Project, context: DownloadContext, report: Optional[Report] = None
) -> tuple[LockFile, dict[tuple[str, str], PackageContent]]:
    """The lock, created when missing.

    Raises
    ------
    LockError
        When ``belay.lock`` exists but disagrees with ``pyproject.toml``.
    """
    existing = project.read_lock()
    if existing is None:
        new, contents = lock(project, context, report=report)
        project.write_lock(new)
        return new, contents
    problems = compare(project.config, existing)
    if problems:
        raise LockError(
            f"{project.lock_path} does not match {project.pyproject}:\n  "
            + "\n  ".join(problems)
            + "\nrun belay lock to update it"
        )
    return existing, {}


def stage(
    project: Project, context: DownloadContext, lock_file: LockFile, groups: Iterable[str], dst: Path
) -> list[str]:
    """Copy the groups' dependencies into ``dst`` (laid out as ``/lib``), develop sources fresh from disk.

    Returns
    -------
    list[str]
        The files staged (POSIX paths relative to ``dst``).

    Raises
    ------
    BelayError
        When two groups install the same path with different contents.
    """
    staged: dict[str, str] = {}
    for group in groups:
        for package in lock_file.group(group):
            files: dict[str, bytes] = {}
            for path in package.files:
                files[path] = (project.group_folder(group) / path).read_bytes()
            develop = [s for s in project.config.groups[group].dependencies.get(package.name, []) if s.develop]
            if develop:
                files.update(download_package(context, group, package.name, develop).files)
            for path, data in files.items():
                digest = sha256(data)
                if path in staged and staged[path] != digest:
                    raise BelayError(f"{path} is installed by two groups with different contents ({group} and another)")
                staged[path] = digest
            _write_files(dst, files)
    return sorted(staged)


def relock(
    project: Project,
    context: DownloadContext,
    refresh: Union[bool, Collection[str]] = False,
    report: Optional[Report] = None,
) -> LockFile:
    """`lock`, write ``belay.lock``, and bring every group's folder in line with it."""
    new, contents = lock(project, context, refresh, report)
    project.write_lock(new)
    materialize(project, context, new, project.config.groups, contents)
    return new


def _is_local(context: DownloadContext, uri: str) -> bool:
    """Whether ``uri`` is a path on this computer (the downloader handling ``file:`` takes it)."""
    try:
        return "file:" in context.record_for(uri).schemes
    except DownloadError:
        return False


def changed_local_sources(
    context: DownloadContext,
    lock_file: LockFile,
    groups: Iterable[str],
    skip: Collection[tuple[str, str]] = (),
) -> list[str]:
    """One line for each local, non-develop source whose files on disk differ from what the lock records.

    Such a source is installed from the copy in the dependencies folder (the one the lock's hashes
    name), so an edit of the original is not installed until it is locked again.

    Parameters
    ----------
    context
        The download context of the project (local paths are relative to its folder).
    lock_file
        The lock the install follows.
    groups
        The groups being installed.
    skip
        ``(group, package)`` pairs not to check (those just resolved, so fresh from disk).

    Returns
    -------
    list[str]
        ``"main.mylib: ../vendor/mylib.py changed since belay.lock was written; ..."``, naming the
        package and ``belay update NAME``; empty when every local source matches.
    """
    lines = []
    for group in groups:
        for package in lock_file.group(group):
            if (group, package.name) in skip:
                continue
            for locked in package.source:
                if locked.develop or not _is_local(context, locked.uri):
                    continue
                source = DependencySource(uri=locked.uri, rename_to_init=locked.rename_to_init)
                label = f"{group}.{package.name}"
                fix = f"run `belay update {package.name}` to take the change"
                try:
                    now = download_package(context, group, package.name, [source]).locked.source[0].files
                except DownloadError as exc:  # gone, or no longer valid Python
                    problem = str(exc) if str(exc).startswith(f"{label}: ") else f"{label}: {exc}"
                    lines.append(f"{problem}; the copy {LOCK_NAME} records is used ({fix})")
                    continue
                if now != locked.files:
                    lines.append(
                        f"{label}: {locked.uri} changed since {LOCK_NAME} was written; the locked copy is used ({fix})"
                    )
    return lines


def prepare_lib(
    project: Project,
    context: DownloadContext,
    groups: Iterable[str],
    dst: Path,
    report: Optional[Report] = None,
    warn: Optional[Report] = None,
) -> list[str]:
    """What a board's ``/lib`` gets, staged in ``dst``: locked (a lock is made when missing), checked, copied.

    Parameters
    ----------
    report
        Called with a line of news per package resolved or downloaded.
    warn
        Called with a line per local, non-develop source edited since it was locked
        (`changed_local_sources`): the locked copy is staged all the same.

    Returns
    -------
    list[str]
        The files staged, as `stage` returns them.
    """
    groups = list(groups)
    lock_file, contents = ensure_locked(project, context, report=report)
    materialize(project, context, lock_file, groups, contents, report=report)
    if warn is not None:
        for line in changed_local_sources(context, lock_file, groups, skip=contents):
            warn(line)
    return stage(project, context, lock_file, groups, dst)


def clean(project: Project) -> list[str]:
    """Remove downloaded dependencies the configuration no longer names; prune the lock to match.

    Returns
    -------
    list[str]
        What was removed, relative to the dependencies folder.
    """
    removed: list[str] = []
    groups = project.config.groups
    lock_file = project.read_lock()
    written = WrittenFiles.load(project, lock_file)  # before the lock is pruned: its hashes name old files
    if lock_file is not None:
        configured = {(g, n) for g, group in groups.items() for n in group.dependencies}
        kept = [p for p in lock_file.package if (p.group, p.name) in configured]
        if len(kept) != len(lock_file.package):
            lock_file = LockFile(package=kept)
            project.write_lock(lock_file)
    for group in sorted(written.groups() - set(groups)):
        files = written.prune(group)
        gone = not project.group_folder(group).exists()
        removed.extend([f"{group}/"] if gone else [f"{group}/{path}" for path in files])
    if lock_file is None:  # without a lock nothing says which file belongs to which package
        return removed
    for group in groups:
        keep: set[str] = set()
        for package in lock_file.group(group):
            keep.update(package.files)
        removed.extend(f"{group}/{path}" for path in written.prune(group, keep))
    return removed


__all__ = [
    "PackageContent",
    "Project",
    "changed_local_sources",
    "clean",
    "download_package",
    "ensure_locked",
    "lock",
    "materialize",
    "prepare_lib",
    "relock",
    "stage",
]
