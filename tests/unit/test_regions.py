"""Region planning, merging across regions and seams, motion boxes, size priors (no model needed)."""

from __future__ import annotations

import numpy as np

from vidlens.analyze.motion import MotionMap
from vidlens.analyze.object_priors import CARRIED, SceneScale, Sighting, moves_on_its_own, reach, travelled_alone
from vidlens.analyze.regions import RegionPlanner, in_region, merge
from vidlens.analyze.tracking import Tracker
from vidlens.types import Detections

HD = (720, 1280, 3)


def _dets(rows: list[tuple[str, float, tuple[float, float, float, float]]]) -> Detections:
    return Detections(np.array([r[2] for r in rows], np.float32).reshape(-1, 4),
                      np.array([r[1] for r in rows], np.float32), np.array([r[0] for r in rows], dtype=object))


def test_a_small_box_gets_a_full_resolution_region_around_it() -> None:
    planner = RegionPlanner(model_size=416)
    regions = planner.around(HD, np.array([[600, 300, 620, 350]], np.float32))  # 50 px: 16 px in the whole frame
    assert regions.tolist() == [[402, 117, 818, 533]]  # 416 px square, centred, not enlarged
    assert planner.around(HD, np.array([[100, 100, 400, 500]], np.float32)).shape == (0, 4)  # large: seen whole


def test_nearby_boxes_share_a_region_and_far_ones_do_not() -> None:
    planner = RegionPlanner(model_size=416, max_regions=4)
    near = planner.around(HD, np.array([[100, 100, 130, 160], [200, 150, 230, 210]], np.float32))
    assert len(near) == 1
    x0, y0, x1, y1 = near[0]
    assert x0 <= 100 and y0 <= 100 and x1 >= 230 and y1 >= 210
    far = planner.around(HD, np.array([[100, 100, 130, 160], [1100, 600, 1130, 660]], np.float32))
    assert len(far) == 2
    assert len(RegionPlanner(model_size=416, max_regions=1).around(
        HD, np.array([[100, 100, 130, 160], [1100, 600, 1130, 660]], np.float32))) == 1


def test_no_region_where_the_frame_is_hardly_larger_than_the_model_input() -> None:
    planner = RegionPlanner(model_size=416)
    assert planner.around((270, 480, 3), np.array([[10, 10, 30, 40]], np.float32)).shape == (0, 4)
    assert planner.gain((270, 480)) < 1.5 <= planner.gain((432, 768))


def test_tiles_cover_the_frame_with_overlap() -> None:
    planner = RegionPlanner(model_size=416)
    assert planner.tiles((432, 768)).tolist() == [[0, 0, 432, 432], [336, 0, 768, 432]]
    tiles = planner.tiles(HD)
    covered = np.zeros(HD[:2], bool)
    for x0, y0, x1, y1 in tiles:
        assert x1 - x0 == y1 - y0 == 416
        covered[y0:y1, x0:x1] = True
    assert covered.all()
    xs = sorted({int(t[0]) for t in tiles})
    assert all(b - a <= 416 * 0.8 for a, b in zip(xs, xs[1:]))  # neighbours overlap by at least 20 %


def test_in_region_moves_boxes_and_marks_cuts_on_inner_edges_only() -> None:
    d = in_region(_dets([("car", 0.9, (0, 10, 50, 60)), ("car", 0.8, (100, 100, 200, 200))]), (300, 0, 716, 416), HD)
    assert d.xyxy[0].tolist() == [300, 10, 350, 60]
    assert d.data["cut"][0].tolist() == [True, False, False, False]  # the top of the region is the frame's top
    assert not d.data["cut"][1].any()


def test_merge_keeps_one_box_per_object_and_drops_cut_pieces() -> None:
    full = in_region(_dets([("person", 0.6, (500, 100, 540, 200))]), (0, 0, 1280, 720), HD)
    region = in_region(_dets([("person", 0.9, (102, 98, 141, 203)),  # the same person, seen closer
                              ("person", 0.7, (0, 300, 30, 380)),  # a piece cut by the region's left edge ...
                              ("dog", 0.5, (10, 310, 40, 360))]), (400, 0, 816, 416), HD)
    whole = in_region(_dets([("person", 0.8, (380, 295, 440, 385))]), (0, 0, 1280, 720), HD)  # ... seen whole
    out = merge([full, region, whole])
    assert sorted((str(n), round(float(c), 1)) for n, c in zip(out.class_name, out.confidence)) == [
        ("dog", 0.5), ("person", 0.8), ("person", 0.9)]


def test_merge_joins_the_halves_of_an_object_across_a_tile_seam() -> None:
    # tiles (0, 332)-(416, 748) and (301, 332)-(717, 748) overlap by 115 px; a 250-px bus spans the seam
    left = in_region(_dets([("bus", 0.6, (250, 318, 410, 468))]), (0, 332, 416, 748), (1080, 1920, 3))
    right = in_region(_dets([("bus", 0.7, (6, 323, 200, 470))]), (301, 332, 717, 748), (1080, 1920, 3))
    out = merge([left, right])
    assert len(out) == 1 and out.xyxy[0].tolist() == [250, 650, 501, 802] and out.confidence[0] == np.float32(0.7)
    apart = in_region(_dets([("bus", 0.7, (150, 323, 300, 470))]), (301, 332, 717, 748), (1080, 1920, 3))
    assert len(merge([left, apart])) == 2  # a whole bus beside a cut one: two objects


def _scene(x: int | None, bg: int = 90) -> np.ndarray:
    img = np.full((360, 640, 3), bg, np.uint8)
    img[200:, :] = bg + 50
    if x is not None:
        img[150:230, x:x + 40] = 250
    return img


def test_motion_map_shows_a_walker_where_it_is_now() -> None:
    motion = MotionMap()
    assert motion.update(_scene(100)).boxes.shape == (0, 4)
    motion.update(_scene(200))
    m = motion.update(_scene(300))
    assert len(m.boxes) == 1 and m.share < 0.05 and m.changed
    x0, y0, x1, y1 = m.boxes[0]
    assert 285 <= x0 <= 300 and 340 <= x1 <= 355 and 135 <= y0 <= 150 and 230 <= y1 <= 245  # not also at 200
    gone = motion.update(_scene(None))  # the walker left: nothing moves, but something changed
    assert len(gone.boxes) == 0 and gone.changed
    assert not motion.update(_scene(None)).changed
    assert motion.update(_scene(None, bg=160)).share > 0.5  # the light changed: most of the view moved
    cheap = MotionMap()  # the share alone, as the objects analyzer measures it where it takes no closer looks
    shares = [cheap.update(_scene(x), blobs=False) for x in (100, 200, 300)]
    assert shares[-1].share == m.share and len(shares[-1].boxes) == 0


def test_a_phone_the_size_of_a_car_beside_people_is_implausible() -> None:
    scale = SceneScale()
    assert not scale.implausible("cell phone", np.array([100, 180, 290, 400]))  # nothing to compare with yet
    scale.add(_dets([("person", 0.9, (240, 30, 270, 100))]))  # a person 70 px tall: at most 70 px a metre
    assert scale.implausible("cell phone", np.array([100, 180, 290, 400]))  # 220 px: 0.7 m even at 30 cm
    assert not scale.implausible("cell phone", np.array([250, 60, 262, 75]))  # in the person's hand
    assert not scale.implausible("car", np.array([100, 180, 290, 400]))  # a car can be that large here
    assert not scale.implausible("person", np.array([0, 0, 500, 700]))  # anchors set the scale, they are not judged


def test_a_car_called_phone_among_cars_seen_from_above_stays_implausible_when_more_are_found() -> None:
    """Overhead view: people 20 px, cars about 50 px long, and the detector calls one car "cell phone".

    Each car found (by a closer look, say) raises the shot's largest scale; a longer car must not make a
    car-sized phone possible, since beside the cars the phone is at their distance."""
    scale = SceneScale()
    scale.add(_dets([("person", 0.8, (400, 300, 412, 320)), ("car", 0.7, (100, 200, 150, 225))]))
    phone = np.array([160, 200, 208, 224])  # a car from above: 48 px, next to the car at x 100-150
    assert scale.implausible("cell phone", phone)
    scale.add(_dets([("car", 0.6, (100, 240, 164, 268))]))  # one more small car beside it, 64 px long
    assert scale.px_per_m > 40  # the shot's largest scale now allows a 4x-generous 51-px phone
    assert scale.implausible("cell phone", phone)
    assert not scale.implausible("cell phone", np.array([404, 306, 410, 312]))  # a phone in the person's hand
    assert not scale.implausible("bench", np.array([220, 200, 300, 230]))  # a bench may be as long as a car


def test_a_phone_held_near_the_camera_beside_a_near_person_is_kept() -> None:
    scale = SceneScale()
    far, near = ("person", 0.9, (600, 100, 640, 200)), ("person", 0.9, (100, 50, 400, 700))
    scale.add(_dets([far, near]))  # the near one holds the phone out towards the camera
    assert not scale.implausible("cell phone", np.array([420, 300, 560, 380]))  # 140 px, beside both people


def test_fast_classes_stay_one_track_when_sampled_once_a_second() -> None:
    assert moves_on_its_own("bicycle") and not moves_on_its_own("cell phone") and reach("cell phone") is None
    bike = [_dets([("bicycle", 0.6, (600, 50, 670, 100))]), _dets([("bicycle", 0.6, (690, 57, 764, 104))])]
    for r, tracks in ((None, 2), (reach, 1)):
        tracker = Tracker(reach=r, min_hits=1)
        tracker.update(12.0, bike[0])
        tracker.update(13.0, bike[1])  # 90 px on, 1.3 of its lengths: out of the default gate
        assert len(tracker.finish()) == tracks


def _travel(scene: list[list[tuple[str, float, tuple[float, float, float, float]]]], still: bool = True) -> dict:
    """The analyzer's tracker over one made-up shot, one sample a second, with each carried-class track's
    sightings recorded and joined as the analyzer does: label -> whether it travelled alone."""
    from vidlens.analyze.builtin.objects import ObjectsConfig, _journeys, make_tracker

    tracker = make_tracker(ObjectsConfig())
    for t, rows in enumerate(scene):
        d = _dets(rows)
        for tr, i in tracker.update(float(t), d):
            if tr.label in CARRIED:
                tr.data.setdefault("sightings", []).append(Sighting.at(d.xyxy[i], d, still))
    tracks = tracker.finish()
    alone = {tr.id for chain in _journeys(tracks, 1.5)
             if travelled_alone([s for tr in chain for s in tr.data["sightings"]]) for tr in chain}
    return {tr.label: tr.id in alone for tr in tracks}


def _drive(x: float, y: float, w: float, h: float, step: float, n: int) -> list[tuple[float, float, float, float]]:
    return [(x + step * k, y, x + step * k + w, y + h) for k in range(n)]


def test_a_phone_and_a_suitcase_driving_through_an_empty_car_park_travelled_alone() -> None:
    """Overhead car park, no person or vehicle detected: two moving cars are called "cell phone" and
    "suitcase". Neither class moves by itself, and no one is beside them: they cannot have got there."""
    phone = _drive(40, 100, 60, 30, 22, 8)  # 60 px long, 22 px a sample: 2.6 of its lengths in 7 samples
    case = _drive(400, 200, 50, 28, -15, 8)  # the other way, 15 px a sample
    parked = [(300 + (k % 2) * 3, 40, 358 + (k % 2) * 3, 70) for k in range(8)]  # a parked car: its box jitters
    scene = [[("cell phone", 0.8, phone[k]), ("suitcase", 0.6, case[k]), ("remote", 0.5, parked[k])]
             for k in range(8)]
    assert _travel(scene) == {"cell phone": True, "suitcase": True, "remote": False}
    # seen while the camera pans, everything moves across the view: nothing can be told
    assert _travel(scene, still=False) == {"cell phone": False, "suitcase": False, "remote": False}


def test_a_suitcase_pulled_by_a_walker_and_a_phone_in_a_hand_are_kept() -> None:
    walker = _drive(100, 100, 30, 90, 12, 8)  # a person 90 px tall walking 12 px a sample
    case = _drive(132, 150, 28, 40, 12, 8)  # the suitcase beside them, rolled along
    scene = [[("person", 0.9, walker[k]), ("suitcase", 0.7, case[k])] for k in range(8)]
    assert _travel(scene) == {"person": False, "suitcase": False}
    # someone strolling with a phone in their hand (a faster phone leaves the tracker's gate between samples)
    stroller, phone = _drive(300, 100, 30, 90, 5, 8), _drive(308, 130, 8, 14, 5, 8)
    held = [[("person", 0.9, stroller[k]), ("cell phone", 0.6, phone[k])] for k in range(8)]
    assert _travel(held) == {"person": False, "cell phone": False}
    assert _travel([[r for r in rows if r[0] == "cell phone"] for rows in held]) == {"cell phone": True}
    # the walker is missed at two samples in a row: one step alone is not a journey
    gaps = [[r for r in rows if not (r[0] == "person" and k in (3, 4))] for k, rows in enumerate(scene)]
    assert _travel(gaps)["suitcase"] is False
    # the same suitcase, on its own, along the same path: it would have to have rolled by itself
    alone = [[r for r in rows if r[0] == "suitcase"] for rows in scene]
    assert _travel(alone) == {"suitcase": True}


def test_luggage_on_a_roof_rack_rides_with_its_car() -> None:
    car = _drive(50, 200, 180, 80, 20, 8)
    case = _drive(110, 205, 50, 24, 20, 8)  # on the car's roof, inside its box
    scene = [[("car", 0.9, car[k]), ("suitcase", 0.6, case[k])] for k in range(8)]
    assert _travel(scene) == {"car": False, "suitcase": False}
    # a "car" box no larger than the "suitcase" on it is the same object named twice, not its carrier
    twin = [[("car", 0.5, case[k]), ("suitcase", 0.6, case[k])] for k in range(8)]
    assert _travel(twin)["suitcase"] is True


def test_a_car_named_suitcase_then_phone_is_one_journey() -> None:
    """A car seen from above, 150 px long, drives 30 px a sample: "suitcase" for two samples, then "cell
    phone" for two. Each name alone moved a fifth of its length; the object moved 90 px in three steps."""
    car = _drive(200, 60, 90, 150, 30, 4)
    scene = [[("suitcase" if k < 2 else "cell phone", 0.7, car[k])] for k in range(4)]
    assert _travel(scene) == {"suitcase": True, "cell phone": True}
    assert _travel(scene[:2]) == {"suitcase": False}  # two sightings: one step is no path
    # a walker's bag, named "handbag" then "backpack", beside them all the way: carried
    walker = _drive(100, 100, 30, 90, 8, 4)
    bag = _drive(128, 140, 20, 26, 8, 4)
    carried = [[("person", 0.9, walker[k]), ("handbag" if k < 2 else "backpack", 0.6, bag[k])] for k in range(4)]
    assert _travel(carried) == {"person": False, "handbag": False, "backpack": False}
