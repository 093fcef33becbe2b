"""Publishing (against a recording fake of HfApi) and loading."""

from __future__ import annotations

import shutil

import pytest

from rdface_hf.cli import main
from rdface_hf.dataset import load_rdface
from rdface_hf.dataset.hub import publish


@pytest.fixture
def built(build_release, face_release, tmp_path):
    out = tmp_path / "build"
    build_release(face_release, out)
    return out


def test_republish_removes_shards_of_the_earlier_build(build_release, built, face_release, tmp_path, fake_hub):
    hub = fake_hub(tmp_path / "hub")
    publish(built, "lab/rdface", api=hub)
    rebuilt = tmp_path / "rebuilt"
    build_release(face_release, rebuilt, seed=5)
    publish(rebuilt, "lab/rdface", api=hub)
    on_hub = sorted(p.name for p in (tmp_path / "hub" / "rdface" / "data").iterdir())
    assert on_hub == sorted(p.name for p in (rebuilt / "data").iterdir()), "no stale shard stays on the Hub"


def test_publish_network_failure_is_one_line_without_the_token(built, capsys, monkeypatch, fake_hub):
    class Down(fake_hub):
        def create_repo(self, repo_id, **kw):
            raise ConnectionError("cannot reach hub with token hf_secret")

    monkeypatch.setattr("rdface_hf.dataset.hub.HfApi", lambda token=None: Down(built.parent / "hub"))
    assert main(["publish", str(built), "--repo-id", "lab/rdface", "--token", "hf_secret"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "could not publish to lab/rdface" in err[0] and "hf_secret" not in err[0]


def test_publish_refuses_a_broken_card(built, capsys):
    (built / "README.md").write_text("---\nconfigs: [unclosed\n---\n")
    assert main(["publish", str(built), "--repo-id", "lab/rdface"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "not a valid dataset card" in err[0]


def test_publish_private_and_gated_before_upload_and_round_trip(built, tmp_path, fake_hub):
    hub = fake_hub(tmp_path / "hub")
    (built / "notes.txt").write_text("local only")
    url = publish(built, "lab/rdface", api=hub, token="hf_secret")
    assert url.endswith("datasets/lab/rdface")
    names = [c[0] for c in hub.calls]
    assert names == ["create_repo", "update_repo_settings", "upload_folder"], "gated before any file is uploaded"
    assert hub.calls[0][2]["private"] is True and hub.calls[0][2]["repo_type"] == "dataset"
    assert hub.calls[1][2]["gated"] == "manual" and hub.calls[1][2]["private"] is True
    repo = tmp_path / "hub" / "rdface"
    assert not (repo / "notes.txt").exists(), "only the build's own files are uploaded"
    card = (repo / "README.md").read_text()
    assert 'load_dataset("lab/rdface", "fold_0")' in card and "ORG/rdface" not in card
    assert "ORG/rdface" in (built / "README.md").read_text(), "the local build is left as it was"
    assert not [p for p in built.parent.iterdir() if p.name.startswith(".publish-")]
    original = load_rdface(built, fold=3)
    uploaded = load_rdface(repo, fold=3)
    for split in ("train", "validation", "test"):
        assert original[split]["image_id"] == uploaded[split]["image_id"]


@pytest.mark.parametrize(
    "args, message",
    [
        (["--repo-id", "no-slash"], "ORG/NAME"),
        (["--repo-id", "a/b", "--gated", "never"], "invalid choice"),
    ],
)
def test_publish_bad_arguments(built, capsys, args, message):
    try:
        code = main(["publish", str(built), *args])
    except SystemExit as exc:
        code = exc.code
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and message in err[0]


def test_publish_refuses_incomplete_folder(tmp_path, capsys):
    (tmp_path / "half").mkdir()
    (tmp_path / "half" / "README.md").write_text("---\n---\n")
    assert main(["publish", str(tmp_path / "half"), "--repo-id", "a/b"]) == 2
    assert "not a complete RDFace build" in capsys.readouterr().err


def test_load_rdface_errors(built, tmp_path):
    from rdface_hf._errors import InputError

    with pytest.raises(InputError, match="no config 'fold_9'"):
        load_rdface(built, fold=9)
    with pytest.raises(InputError, match="non-negative"):
        load_rdface(built, fold=-1)
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match="not an RDFace build"):
        load_rdface(tmp_path / "empty")
    assert len(load_rdface(built, fold=1, split="validation")) > 0


def test_load_from_offline_hub_cache(built, tmp_path, monkeypatch):
    """A repo id resolves from the Hub cache layout with HF_HUB_OFFLINE=1 (no network)."""
    cache = tmp_path / "hub-cache"
    snapshot = cache / "datasets--lab--rdface" / "snapshots" / ("0" * 40)
    shutil.copytree(built, snapshot)
    (cache / "datasets--lab--rdface" / "refs").mkdir()
    (cache / "datasets--lab--rdface" / "refs" / "main").write_text("0" * 40)
    monkeypatch.setenv("HF_HUB_CACHE", str(cache))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    import huggingface_hub.constants

    # the constants are read at import time: point them at this test's cache
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(cache))
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)
    ds = load_rdface("lab/rdface", fold=0)
    assert set(ds) == {"train", "validation", "test"}
    assert ds["test"]["image_id"] == load_rdface(built, fold=0)["test"]["image_id"]
