"""A PEP 517 / PEP 660 build backend written with the standard library alone.

It builds the pure-Python wheel of the ``leasehold`` package (``leasehold/*.py`` and ``py.typed``), an
sdist, and an editable wheel (a ``.pth`` file pointing at this folder), reading the name, version and
metadata from ``pyproject.toml``. No setuptools, so an install needs no package index.
"""

from __future__ import annotations

import base64
import hashlib
import io
import os
import re
import tarfile
import time
import zipfile
from typing import Any, Dict, List, Optional, Tuple

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PACKAGE = "leasehold"
TAG = "py3-none-any"


def _project() -> Dict[str, Any]:
    with open(os.path.join(ROOT, "pyproject.toml"), "rb") as f:
        raw = f.read()
    try:
        import tomllib  # Python 3.11+

        return dict(tomllib.loads(raw.decode("utf-8"))["project"])
    except ImportError:
        # Before 3.11: the few flat `key = "value"` lines of [project] this backend needs.
        project: Dict[str, Any] = {}
        section = None
        for line in raw.decode("utf-8").splitlines():
            line = line.strip()
            if line.startswith("["):
                section = line.strip("[]").strip()
                continue
            m = re.match(r'^([A-Za-z_-]+)\s*=\s*"(.*)"\s*$', line)
            if section == "project" and m:
                project[m.group(1)] = m.group(2)
        return project


def _names() -> Tuple[str, str, str]:
    project = _project()
    name = str(project["name"])
    version = str(project["version"])
    return name, version, re.sub(r"[-_.]+", "_", name).lower()


def _metadata() -> str:
    project = _project()
    name, version, _ = _names()
    lines = [
        "Metadata-Version: 2.1",
        "Name: " + name,
        "Version: " + version,
    ]
    if project.get("description"):
        lines.append("Summary: " + str(project["description"]))
    if project.get("requires-python"):
        lines.append("Requires-Python: " + str(project["requires-python"]))
    for classifier in project.get("classifiers", []) or []:
        lines.append("Classifier: " + str(classifier))
    readme = os.path.join(ROOT, "README.md")
    body = ""
    if os.path.exists(readme):
        lines.append("Description-Content-Type: text/markdown")
        with open(readme, encoding="utf-8") as f:
            body = f.read()
    return "\n".join(lines) + "\n\n" + body


def _wheel_file() -> str:
    return "Wheel-Version: 1.0\nGenerator: leasehold_build\nRoot-Is-Purelib: true\nTag: %s\n" % TAG


def _package_files() -> List[str]:
    out: List[str] = []
    base = os.path.join(ROOT, PACKAGE)
    for dirpath, dirnames, filenames in os.walk(base):
        dirnames[:] = sorted(d for d in dirnames if d != "__pycache__")
        for filename in sorted(filenames):
            if filename.endswith(".py") or filename == "py.typed":
                full = os.path.join(dirpath, filename)
                out.append(os.path.relpath(full, ROOT).replace(os.sep, "/"))
    return out


def _record_line(path: str, data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode("ascii")
    return "%s,sha256=%s,%d" % (path, digest, len(data))


def _write_wheel(directory: str, files: List[Tuple[str, bytes]]) -> str:
    _, version, dist = _names()
    info = "%s-%s.dist-info" % (dist, version)
    wheel_name = "%s-%s-%s.whl" % (dist, version, TAG)
    entries = list(files)
    entries.append((info + "/METADATA", _metadata().encode("utf-8")))
    entries.append((info + "/WHEEL", _wheel_file().encode("utf-8")))
    entries.append((info + "/top_level.txt", (PACKAGE + "\n").encode("utf-8")))
    record = [_record_line(p, d) for p, d in entries] + [info + "/RECORD,,"]
    entries.append((info + "/RECORD", ("\n".join(record) + "\n").encode("utf-8")))
    # A fixed timestamp: the same sources give the same wheel, byte for byte.
    stamp = (2020, 1, 1, 0, 0, 0)
    with zipfile.ZipFile(os.path.join(directory, wheel_name), "w", zipfile.ZIP_DEFLATED) as z:
        for path, data in entries:
            item = zipfile.ZipInfo(path, stamp)
            item.external_attr = 0o644 << 16
            item.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(item, data)
    return wheel_name


# PEP 517 hooks.


def get_requires_for_build_wheel(config_settings: Optional[Dict[str, Any]] = None) -> List[str]:
    return []


def get_requires_for_build_sdist(config_settings: Optional[Dict[str, Any]] = None) -> List[str]:
    return []


def get_requires_for_build_editable(config_settings: Optional[Dict[str, Any]] = None) -> List[str]:
    return []


def prepare_metadata_for_build_wheel(metadata_directory: str, config_settings: Optional[Dict[str, Any]] = None) -> str:
    _, version, dist = _names()
    info = "%s-%s.dist-info" % (dist, version)
    os.makedirs(os.path.join(metadata_directory, info), exist_ok=True)
    with open(os.path.join(metadata_directory, info, "METADATA"), "w", encoding="utf-8") as f:
        f.write(_metadata())
    with open(os.path.join(metadata_directory, info, "WHEEL"), "w", encoding="utf-8") as f:
        f.write(_wheel_file())
    return info


prepare_metadata_for_build_editable = prepare_metadata_for_build_wheel


def build_wheel(wheel_directory: str, config_settings: Optional[Dict[str, Any]] = None, metadata_directory: Optional[str] = None) -> str:
    files = []
    for path in _package_files():
        with open(os.path.join(ROOT, path), "rb") as f:
            files.append((path, f.read()))
    return _write_wheel(wheel_directory, files)


def build_editable(wheel_directory: str, config_settings: Optional[Dict[str, Any]] = None, metadata_directory: Optional[str] = None) -> str:
    _, _, dist = _names()
    return _write_wheel(wheel_directory, [("_%s_editable.pth" % dist, (ROOT + "\n").encode("utf-8"))])


def build_sdist(sdist_directory: str, config_settings: Optional[Dict[str, Any]] = None) -> str:
    _, version, dist = _names()
    base = "%s-%s" % (dist, version)
    name = base + ".tar.gz"
    members = ["pyproject.toml", "README.md", "_build/leasehold_build.py"] + _package_files()
    pkg_info = _metadata().encode("utf-8")
    with tarfile.open(os.path.join(sdist_directory, name), "w:gz", format=tarfile.PAX_FORMAT) as tar:
        for member in members:
            full = os.path.join(ROOT, member)
            if os.path.exists(full):
                with open(full, "rb") as f:
                    _add(tar, base + "/" + member, f.read())
        _add(tar, base + "/PKG-INFO", pkg_info)
    return name


def _add(tar: tarfile.TarFile, path: str, data: bytes) -> None:
    item = tarfile.TarInfo(path)
    item.size = len(data)
    item.mtime = int(time.mktime((2020, 1, 1, 0, 0, 0, 0, 1, -1)))
    item.mode = 0o644
    tar.addfile(item, io.BytesIO(data))
