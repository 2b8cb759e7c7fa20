import numpy as np
import pytest

from vidlens import errors
from vidlens.types import Detections


def test_detections_are_columnar_and_mask_indexable() -> None:
    d = Detections(np.array([[0, 0, 10, 10], [5, 5, 7, 9], [0, 0, 1, 1]], np.float32),
                   np.array([0.9, 0.4, 0.8], np.float32), np.array(["person", "car", "person"], object),
                   data={"frame": np.array([1, 1, 2])})
    people = d[d.class_name == "person"]
    assert len(people) == 2
    assert people.data["frame"].tolist() == [1, 2]
    assert d.area.tolist() == [100.0, 8.0, 1.0]
    assert len(Detections.empty()) == 0


def test_detections_reject_ragged_columns() -> None:
    with pytest.raises(errors.UsageError, match="confidence"):
        Detections(np.zeros((2, 4), np.float32), np.zeros(3, np.float32), np.array(["a", "b"], object))


def test_every_error_class_maps_to_exit_code_and_http_status() -> None:
    classes = [c for c in vars(errors).values() if isinstance(c, type) and issubclass(c, errors.VidLensError)]
    assert len(classes) > 10
    for c in classes:
        assert isinstance(c.exit_code, int) and c.exit_code != 0
        assert 400 <= c.http_status < 600
    e = errors.CorruptMediaError("x.mp4: broken", path="x.mp4", log_tail="moov atom not found")
    body = e.to_dict()["error"]
    assert body["code"] == "corrupt_media" and body["details"]["log_tail"] == "moov atom not found"
    assert errors.NotFoundError("x").http_status == 404
