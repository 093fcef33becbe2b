"""A build whose shards are empty or damaged, or a folder that is not a build (a synthetic set):
every stage that opens it says so in one line, exit 2; no traceback, no log noise, no output."""

from __future__ import annotations

import shutil

import pytest

from rdface_hf._errors import InputError
from rdface_hf.cli import main
from rdface_hf.dataset import RDFaceDataset
from rdface_hf.dataset.hub import publish

NAMES = ["Condition AAA", "Condition BBB"]


def _split(noise_image, n: int, seed: int, *, abbr_column: bool = True):
    import datasets

    columns = {
        "image": datasets.Image(),
        "image_id": datasets.Value("string"),
        "condition": datasets.ClassLabel(names=NAMES),
    }
    if abbr_column:
        columns["disease_abbr"] = datasets.Value("string")
    rows = {
        "image": [noise_image(seed + i, 32) for i in range(n)],
        "image_id": [f"rdf-{seed + i:016x}" for i in range(n)],
        "condition": [i % 2 for i in range(n)],
        "disease_abbr": [("AAA", "BBB")[i % 2] for i in range(n)],
    }
    return datasets.Dataset.from_dict({k: rows[k] for k in columns}, features=datasets.Features(columns))


def _empty_shards(root, how: str) -> None:
    import datasets
    import pyarrow.parquet as pq

    for shard in (root / "data").glob("*.parquet"):
        if how == "pyarrow":  # no row group at all: datasets' reader fails and logs it
            pq.write_table(pq.read_table(shard).slice(0, 0), shard)
        elif how == "datasets":  # zero rows: "Instruction 'train' corresponds to no data"
            datasets.Dataset.from_parquet(str(shard)).select([]).to_parquet(str(shard))
        else:  # not parquet at all
            shard.write_bytes(b"PAR1 this is not a parquet file")


@pytest.fixture
def small_build(tmp_path, write_built_dataset, noise_image):
    def make(name: str = "build", **kw):
        train, test = _split(noise_image, 6, 0, **kw), _split(noise_image, 2, 100, **kw)
        return write_built_dataset(tmp_path / name, train=train, test=test, validation=_split(noise_image, 2, 50, **kw))

    return make


COMMANDS = [
    ["generate", "--generator", "morph", "--dataset", "D", "--fold", "test", "--output-dir", "O"],
    ["report", "--dataset", "D", "--model", "landmarks", "--fold", "test", "--output-dir", "O"],
    ["train-lora", "--dataset", "D", "--fold", "test", "--output-dir", "O"],
    ["train-classifier", "--dataset", "D", "--fold", "0", "--output-dir", "O"],
]


def _one_line(capfd, argv, folder, out) -> str:
    argv = [str(folder) if a == "D" else str(out) if a == "O" else a for a in argv]
    assert main(argv) == 2
    err = [line for line in capfd.readouterr().err.splitlines() if line.strip() and "/s]" not in line]  # tqdm bars
    assert len(err) == 1 and "Traceback" not in err[0], err
    assert not out.exists()
    return err[0]


@pytest.mark.parametrize("how", ["pyarrow", "datasets", "garbage"])
def test_a_build_with_empty_or_damaged_shards_is_one_line(small_build, how, capfd, tmp_path):
    root = small_build()
    _empty_shards(root, how)
    with pytest.raises(InputError, match="cannot load its default config"):
        RDFaceDataset(root).default()
    capfd.readouterr()
    for argv in COMMANDS:
        line = _one_line(capfd, argv, root, tmp_path / "out")
        assert "cannot load its" in line and "rdface build" in line, line


def test_a_folder_without_the_rdface_columns_is_not_a_build(small_build, capfd, tmp_path):
    """A synthetic set (no disease_abbr) given as --dataset: named as such, not a KeyError."""
    root = small_build("synthetic", abbr_column=False)
    with pytest.raises(InputError, match=r"is not an RDFace build \(no column\(s\) \[.disease_abbr.\]\)"):
        _ = RDFaceDataset(root).abbreviations
    for argv in COMMANDS[:3]:  # train-classifier needs no abbreviation: it goes on to the model
        assert "RDFace build" in _one_line(capfd, argv, root, tmp_path / "out")


def test_a_real_synthetic_set_as_dataset_is_one_line(sim_build, capfd, tmp_path):
    synthetic = tmp_path / "syn"
    argv = ["generate", "--generator", "morph", "--dataset", str(sim_build), "--fold", "0", "--per-condition", "1",
            "--workers", "1", "--output-dir", str(synthetic)]  # fmt: skip
    assert main(argv) == 0
    capfd.readouterr()
    for argv in COMMANDS:
        assert "is a synthetic set, not an RDFace build" in _one_line(capfd, argv, synthetic, tmp_path / "out")


@pytest.mark.parametrize("how", ["datasets", "garbage"])
def test_publish_refuses_a_build_without_rows(small_build, how, tmp_path):
    root = small_build()
    (root / "DATA_USE_AGREEMENT.md").write_text("terms")
    shutil.copy(root / "README.md", tmp_path / "card.md")
    _empty_shards(root, how)

    class NoHub:
        def __getattr__(self, name):
            raise AssertionError(f"the Hub was called ({name}) for a build with nothing to publish")

    message = "holds no images" if how == "datasets" else "not a readable parquet shard"
    with pytest.raises(InputError, match=message):
        publish(root, "org/name", api=NoHub())
