"""``report --synthetic``: a row whose condition is not one of the set's classes is one line (issue 17 §5)."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from rdface_hf._errors import InputError
from rdface_hf.dataset.synthetic import SyntheticImage, SyntheticSetWriter, synthetic_card
from rdface_hf.reports.config import ReportConfig
from rdface_hf.reports.run import make_reports


@pytest.mark.parametrize("label", [7, -1])
def test_an_unknown_condition_is_one_line(tmp_path, landmark_build, label):
    build = landmark_build()
    names = ["Normal-looking syndrome", "Hypertelorism syndrome"]
    writer = SyntheticSetWriter(tmp_path / "syn", names)
    for k in range(2):
        pixels = np.full((64, 64, 3), 40 * k, np.uint8)
        writer.add(SyntheticImage(image=pixels, condition=k, generator="morph", source="t", seed=k, trained_on="test"))
    writer.finish(synthetic_card(title="t", description="t", generator="morph", source_dataset="t", gated=False))
    shard = next((tmp_path / "syn" / "data").glob("*.parquet"))
    table = pq.read_table(shard)
    index = table.schema.get_field_index("condition")
    table = table.set_column(
        index, table.schema.field(index), pa.array([0, label], type=table.schema.field(index).type)
    )
    pq.write_table(table, shard)
    config = ReportConfig(output_dir=str(tmp_path / "rep"), dataset=str(build), synthetic=str(tmp_path / "syn"),
                          model="landmarks", progress=False)  # fmt: skip
    with pytest.raises(InputError, match="unknown condition"):
        make_reports(config)
    assert not (tmp_path / "rep").exists()
