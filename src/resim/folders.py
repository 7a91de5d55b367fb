"""Where results land: a new folder under the results directory the user chose, named from a
scenario's (or sweep's, calibration's) name made safe, plus a collision-free run id; written
hidden and renamed when whole, so an interrupted write never looks finished."""

from __future__ import annotations

import datetime as dt
import json
import math
import os
import re
import secrets
import shutil
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

from pydantic import AfterValidator

from resim.errors import InputError

NAME_MAX = 100  # characters of a results folder name derived from a user's name
_UNSAFE = re.compile(r"[^A-Za-z0-9._+-]+")


def slug(name: str) -> str:
    """The folder name resim derives from a scenario (or sweep, calibration) name: runs of anything
    but letters, digits, '.', '_', '+' and '-' become '_', no leading or trailing dots or dashes, at most
    NAME_MAX characters; '' if nothing is left (the caller's input error)."""
    return _UNSAFE.sub("_", name).strip("._-")[:NAME_MAX].rstrip("._-")


def name_error(name: str) -> str:
    """Why `name` cannot name a results folder, or '' if it can (for validators)."""
    if not slug(name):
        return (f"{name!r} leaves no safe folder name; allowed: a name with letters or digits (runs of other "
                "characters become '_', at most 100 characters are used)")
    return ""


def _checked(name: str) -> str:
    problem = name_error(name)
    if problem:
        raise ValueError(problem)
    return name


FolderName = Annotated[str, AfterValidator(_checked)]  # a user's name that results folders derive from


def run_id(tag: str = "") -> str:
    """A collision-free run id: UTC time, an optional tag and a random suffix (two runs started in
    the same second get distinct folders)."""
    return "-".join(part for part in (timestamp(), tag, secrets.token_hex(3)) if part)


def check_writable(root: Path, field: str = "--results") -> None:
    """Before long work starts: the results directory exists or can be made, and takes a file
    (read-only, full, a file in the way and missing permissions are input errors, not tracebacks)."""
    try:
        root.mkdir(parents=True, exist_ok=True)
        probe = root / f".write-test-{os.getpid()}"
        probe.write_bytes(b"resim")
        probe.unlink()
    except OSError as exc:
        raise InputError.one(root, f"files cannot be written here ({exc.strerror or exc}); allowed: a writable "
                                   f"folder, chosen with {field}", field=field) from None


def folder_for(root: Path, *names: str) -> Path:
    """A new run folder under `root`: root/<slug of each name>/<run id>; always inside `root`."""
    parts = [slug(n) for n in names]
    if not all(parts):
        bad = next(n for n, p in zip(names, parts, strict=True) if not p)
        raise InputError.one(None, name_error(bad), field="name")
    folder = root.joinpath(*parts, run_id())
    if not folder.resolve().is_relative_to(root.resolve()):  # slugs have no '/' or '..': a guard, not a path
        raise InputError.one(None, f"{folder} would land outside {root}", field="name")
    return folder


@contextmanager
def staged(final: Path) -> Iterator[Path]:
    """A hidden temporary folder beside `final`, renamed to it on success and removed on any
    error, so that an interrupted write never looks finished. It records its owner's process id, so
    that the next write beside it removes staging folders whose owner is dead (a kill -9 leaves one)."""
    clean_stale(final.parent)
    tmp = final.parent / f".incomplete-{final.name}"
    # made under another name with its owner inside, then renamed: a staging folder never exists
    # without its owner (a kill -9 between the two writes left one that no later run could judge)
    claim = final.parent / f".claim-{final.name}"
    claim.mkdir(parents=True)
    try:
        (claim / OWNER_FILE).write_text(owner_id())
        claim.rename(tmp)
        yield tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        shutil.rmtree(claim, ignore_errors=True)
        raise
    (tmp / OWNER_FILE).unlink()
    tmp.rename(final)


OWNER_FILE = ".owner-pid"


def owner_id() -> str:
    """Who owns a staging folder: host, boot, PID namespace and process id. A process id alone is
    ambiguous across containers and hosts sharing a drive: another PID namespace's live run looks
    dead from here."""
    return " ".join([socket.gethostname(), _read("/proc/sys/kernel/random/boot_id"), _pid_namespace(),
                     str(os.getpid())])


def _read(path: str) -> str:
    try:
        return Path(path).read_text().strip() or "-"
    except OSError:
        return "-"


def _pid_namespace() -> str:
    try:
        return os.readlink("/proc/self/ns/pid")
    except OSError:
        return "-"


def _owner_gone(owner: str) -> bool:
    """Provably gone: this host has rebooted since, or it ran in this host's boot and PID namespace
    and that process no longer runs. Anything else (another host, container or namespace) is left."""
    fields = owner.split()
    if len(fields) == 1:  # written by an earlier resim: a process id only
        return not _alive(int(fields[0]))
    host, boot, namespace, pid = fields[0], fields[1], fields[2], int(fields[3])
    if host != socket.gethostname():
        return False
    here_boot = _read("/proc/sys/kernel/random/boot_id")
    if boot != here_boot:
        return boot != "-" and here_boot != "-"  # the machine rebooted: its processes are gone
    return namespace == _pid_namespace() and not _alive(pid)


def atomic_write_table(table: Any, path: Path) -> None:
    """Write a pyarrow table to `path` as Parquet, whole or not at all (written hidden, renamed)."""
    import pyarrow.parquet as pq

    tmp = path.with_name(f".{path.name}")
    pq.write_table(table, tmp)
    tmp.rename(path)


def read_table(path: Path, columns: list[str] | None = None) -> Any:
    """A Parquet table resim wrote, or the one-screen input error naming the file when it is cut
    short, damaged or lacks a column (a folder that was not written whole, or not by resim)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        return pq.read_table(path, columns=columns)
    except (OSError, pa.ArrowException) as exc:
        raise InputError.one(path, f"cannot be read as a resim table ({exc}); allowed: a file that resim wrote "
                                   "whole", field=path.name) from None


def clean_stale(folder: Path) -> list[Path]:
    """Remove the staging folders in `folder` whose owner is provably gone (never a live run's,
    whatever container or host it runs in); return what was removed."""
    removed = []
    for tmp in [*folder.glob(".incomplete-*"), *folder.glob(".claim-*")] if folder.is_dir() else []:
        try:
            gone = _owner_gone((tmp / OWNER_FILE).read_text())
        except (OSError, ValueError, IndexError):
            continue  # not ours to judge (no owner recorded, or in a form we cannot read)
        if gone:
            shutil.rmtree(tmp, ignore_errors=True)
            removed.append(tmp)
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def timestamp() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")


MANIFEST = "manifest.json"  # every results folder's record: what was run, how, and what came out


def write_json(path: Path, document: dict[str, Any]) -> None:
    """Write a JSON document whole or not at all (written hidden, then renamed over any old one);
    numpy numbers as JSON numbers, dates as ISO dates."""
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(document, indent=2, default=_jsonable))
    os.replace(tmp, path)


def write_manifest(folder: Path, manifest: dict[str, Any]) -> None:
    """Write `folder`'s manifest atomically (`write_json`)."""
    write_json(folder / MANIFEST, manifest)


def read_manifest(folder: Path | str, what: str = "resim results folder", field: str = "",
                  needs: tuple[str, ...] = (), files: tuple[str, ...] = ()) -> dict[str, Any]:
    """`folder`'s manifest, checked to hold the keys `needs` and to stand beside `files`; otherwise
    the one-screen input error saying why `folder` is not a `what`."""
    folder = Path(folder)

    def refuse(why: str) -> InputError:
        return InputError.one(folder, f"not a {what}: {why}; allowed: a folder that resim wrote whole", field=field)

    try:
        manifest = json.loads((folder / MANIFEST).read_text())
    except FileNotFoundError:
        raise refuse(f"no {MANIFEST}") from None
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise refuse(f"its {MANIFEST} cannot be read ({exc})") from None
    if not isinstance(manifest, dict):
        raise refuse(f"its {MANIFEST} is not a JSON object")
    missing = [k for k in needs if k not in manifest] + [f for f in files if not (folder / f).is_file()]
    if missing:
        raise refuse(f"{', '.join(missing)} missing")
    return manifest


def read_resumable(folder: Path | str, what: str, needs: tuple[str, ...]) -> dict[str, Any]:
    """The manifest of long work that `--resume` may finish: a `what` started by this resim version."""
    from resim import __version__

    manifest = read_manifest(folder, what, "--resume", needs)
    if manifest.get("resim_version") != __version__:
        raise InputError.one(Path(folder), f"started with resim {manifest.get('resim_version')}, this is "
                                           f"{__version__}; allowed: resume with the same version, or start anew",
                             field="--resume")
    return manifest


def json_text(document: Any) -> str:
    """A document as strict JSON (what `--json` prints): numpy numbers and booleans as JSON numbers
    and booleans, dates as ISO dates, NaN and infinities as null (JSON has neither)."""
    return json.dumps(_plain(document), allow_nan=False)


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if hasattr(value, "tolist"):  # a numpy scalar (np.bool_ included) or array
        return _plain(value.tolist())
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return value.isoformat() if isinstance(value, dt.date) else str(value)


def _jsonable(value: Any) -> Any:
    """What json cannot write by itself: numpy scalars and arrays, dates, paths."""
    if hasattr(value, "tolist"):  # numpy scalar or array
        return value.tolist()
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)
