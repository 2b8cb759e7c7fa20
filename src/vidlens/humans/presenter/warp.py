"""Moving a still face: jaw, lips, eyelids and head, by one backward warp per frame, plus a mouth interior.

Every movement is a displacement field over a region around the face, built once from the
landmarks in a frame of reference the face defines (the mouth's axis and width, each eye's axis
and width), so a field is linear in its control value: the frame's field is a weighted sum of
precomputed fields (jaw open, lips spread, lips round, each eyelid, head turn and shift) and one
``cv2.remap`` moves the pixels. The jaw field tears along the line where the lips meet: below it
the lower lip and chin drop, above it the upper lip lifts a little; beyond the mouth corners the
tear widens into a smooth stretch of the cheeks. The gap the tear opens is painted as a mouth:
a dark cavity, the upper teeth under the upper lip, the lower teeth and tongue when wide open,
with soft edges. The head moves only inside a feathered mask of the face oval, so hair and
background stay exactly as they were.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from vidlens.humans.presenter import face as fm

JAW_DROP = 0.32  # lower lip and chin travel at full opening, in mouth widths
LIP_LIFT = 0.07  # upper lip travel at full opening
SPREAD = 0.10  # corners outward at full spread, in half mouth widths
ROUND = 0.22  # corners inward at full rounding
CAVITY_BGR = np.array([28, 22, 58], np.float32)
TEETH_BGR = np.array([180, 196, 208], np.float32)
TONGUE_BGR = np.array([80, 72, 160], np.float32)


def _smoothstep(x: np.ndarray) -> np.ndarray:
    x = np.clip(x, 0.0, 1.0)
    return x * x * (3 - 2 * x)


def _window(x: np.ndarray, flat: float, zero: float) -> np.ndarray:
    """1 for |x| <= flat, a cosine down to 0 at |x| = zero."""
    a = np.clip((np.abs(x) - flat) / (zero - flat), 0.0, 1.0)
    return 0.5 + 0.5 * np.cos(np.pi * a)


@dataclass(frozen=True)
class Pose:
    """One frame's controls."""

    open: float = 0.0
    spread: float = 0.0
    round: float = 0.0
    blink: tuple[float, float] = (0.0, 0.0)  # each eye, 0 open .. 1 shut
    head: tuple[float, float, float] = (0.0, 0.0, 0.0)  # dx px, dy px, turn in radians


class FaceRig:
    """The fields and mouth geometry of one face on one canvas."""

    def __init__(self, canvas: np.ndarray, landmarks: np.ndarray, *, mouth_only: bool = False) -> None:
        self.canvas = canvas
        h, w = canvas.shape[:2]
        lm = landmarks.astype(np.float64)
        oval = lm[list(fm.FACE_OVAL)]
        fx0, fy0 = oval.min(axis=0)
        fx1, fy1 = oval.max(axis=0)
        fw, fh = fx1 - fx0, fy1 - fy0
        # region the fields cover: the face and what the jaw pulls below the chin; a mouth alone moves nothing
        # above the nose
        top = lm[fm.NOSE_BASE][1] - 0.05 * fh if mouth_only else fy0 - 0.10 * fh
        x0, x1 = int(max(0, fx0 - 0.12 * fw)), int(min(w, fx1 + 0.12 * fw + 1))
        y0, y1 = int(max(0, top)), int(min(h, fy1 + 0.30 * fh + 1))
        x0, y0 = x0 - x0 % 2, y0 - y0 % 2  # even corners and sides: the region maps onto whole chroma samples
        x1, y1 = min(w - w % 2, x1 + (x1 - x0) % 2), min(h - h % 2, y1 + (y1 - y0) % 2)
        self.roi = (x0, y0, x1, y1)
        gy, gx = np.mgrid[y0:y1, x0:x1].astype(np.float32)
        self.gx, self.gy = gx, gy
        self.lm = lm
        self._mouth_frame(lm)
        u, v = self._uv(gx, gy)
        s = v - np.interp(u, self.seam_u, self.seam_v).astype(np.float32)  # signed distance below the lips' seam
        self.fields: dict[str, tuple[np.ndarray, np.ndarray]] = {"open": self._open_field(u, s)}
        self.fields["spread"], self.fields["round"] = self._lip_fields(u, s)
        if not mouth_only:  # a dubbed face keeps its own eyes and head: only the mouth is moved
            for i, eye in enumerate(fm.EYES):
                self.fields[f"blink{i}"] = self._blink_field(lm, eye, gx, gy)
        self.pivot = np.array([(fx0 + fx1) / 2, fy1 + 0.35 * fh], np.float32)  # the neck: heads turn about it
        self.head_masks: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None
        if not mouth_only:
            mask = self._face_mask(oval, fw, gx.shape, (x0, y0))
            self.head_masks = (mask, mask * (gx - self.pivot[0]), mask * (gy - self.pivot[1]))
        self._tighten()
        self.crops = {name: self._crop(*f) for name, f in self.fields.items()}
        self.painted: tuple[int, int, int, int] | None = None  # where the last ``warp`` painted a mouth (roi pixels)

    def _tighten(self) -> None:
        """Cut the region (its grids, fields and masks) to the box where anything can move: a field moving a pixel
        more than 1e-3 px, or the face mask over 1e-4 (a head shift or turn of 10 px moves it less than 1e-3 px).
        What lies outside is the canvas in every frame either way; each frame's work shrinks with the box (by a
        fifth on a portrait at 720x1280). Corners and sides stay even (whole chroma samples)."""
        moving = np.zeros(self.gx.shape, bool)
        for fx, fy in self.fields.values():
            moving |= (np.abs(fx) > 1e-3) | (np.abs(fy) > 1e-3)
        if self.head_masks is not None:
            moving |= self.head_masks[0] > 1e-4
        rows, cols = np.nonzero(moving.any(axis=1))[0], np.nonzero(moving.any(axis=0))[0]
        if rows.size == 0:
            return
        r0, c0 = int(rows[0]) & ~1, int(cols[0]) & ~1  # the region's corner is even: so are these offsets
        r1, c1 = r0 + ((int(rows[-1]) + 2 - r0) & ~1), c0 + ((int(cols[-1]) + 2 - c0) & ~1)
        box = (slice(r0, r1), slice(c0, c1))
        x0, y0, _, _ = self.roi
        self.roi = (x0 + c0, y0 + r0, x0 + c1, y0 + r1)
        self.gx, self.gy = np.ascontiguousarray(self.gx[box]), np.ascontiguousarray(self.gy[box])
        self.fields = {k: (np.ascontiguousarray(fx[box]), np.ascontiguousarray(fy[box]))
                       for k, (fx, fy) in self.fields.items()}
        if self.head_masks is not None:
            self.head_masks = tuple(np.ascontiguousarray(m[box]) for m in self.head_masks)  # type: ignore[assignment]

    @staticmethod
    def _crop(fx: np.ndarray, fy: np.ndarray) -> tuple[tuple[slice, slice], np.ndarray, np.ndarray]:
        """A field cut to the box where it moves anything: the sum per frame then touches only that box."""
        moving = (np.abs(fx) > 1e-3) | (np.abs(fy) > 1e-3)
        rows, cols = np.nonzero(moving.any(axis=1))[0], np.nonzero(moving.any(axis=0))[0]
        if rows.size == 0:
            box = (slice(0, 0), slice(0, 0))
        else:
            box = (slice(int(rows[0]), int(rows[-1]) + 1), slice(int(cols[0]), int(cols[-1]) + 1))
        return box, np.ascontiguousarray(fx[box]), np.ascontiguousarray(fy[box])

    # -- geometry ------------------------------------------------------------------------------
    def _mouth_frame(self, lm: np.ndarray) -> None:
        left, right = lm[fm.MOUTH_LEFT], lm[fm.MOUTH_RIGHT]
        self.mw = float(np.hypot(*(right - left)))
        self.eu = (right - left) / self.mw
        ev = np.array([-self.eu[1], self.eu[0]])
        self.ev = ev if float(np.dot(lm[fm.CHIN] - (left + right) / 2, ev)) > 0 else -ev
        self.origin = (lm[13] + lm[14]) / 2
        # the same as plain floats: a float32 grid stays float32 through the per-pixel maths (half the traffic)
        self._axes = (*(float(x) for x in self.origin), *(float(x) for x in self.eu), *(float(x) for x in self.ev))
        upper, lower = lm[list(fm.INNER_UPPER)], lm[list(fm.INNER_LOWER)]
        self.inner_upper, self.inner_lower = upper, lower
        uu, vu = self._uv(upper[:, 0], upper[:, 1])
        ul, vl = self._uv(lower[:, 0], lower[:, 1])
        order = np.argsort(uu)
        self.seam_u = uu[order]
        self.seam_v = (vu[order] + np.interp(uu[order], np.sort(ul), vl[np.argsort(ul)])) / 2
        self.chin_v = float(self._uv(*lm[fm.CHIN])[1])
        self.nose_v = float(self._uv(*lm[fm.NOSE_BASE])[1])

    def _uv(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Mouth coordinates: u along the mouth (±1 at the corners), v towards the chin in mouth widths."""
        ox, oy, eu0, eu1, ev0, ev1 = self._axes
        dx, dy = x - ox, y - oy
        u = (dx * eu0 + dy * eu1) / (self.mw / 2)
        v = (dx * ev0 + dy * ev1) / self.mw
        return u, v

    def _vec(self, along_u: np.ndarray, along_v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Pixel displacement from components along the mouth axes."""
        _, _, eu0, eu1, ev0, ev1 = self._axes
        return ((along_u * eu0 + along_v * ev0).astype(np.float32, copy=False),
                (along_u * eu1 + along_v * ev1).astype(np.float32, copy=False))

    def _open_field(self, u: np.ndarray, s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The jaw's field; ``s`` is each pixel's signed distance below the lips' meeting line."""
        chin = self.chin_v - float(np.interp(0.0, self.seam_u, self.seam_v))
        low = _window(u, 0.45, 2.3) * np.where(s <= chin, 1.0, _window(s - chin, 0.0, 0.7))
        up = _window(u, 0.6, 1.35) * np.clip(1 - s / min(self.nose_v, -0.05), 0, 1)
        eps = np.maximum(0.012, 0.55 * (np.abs(u) - 0.9))  # a tear inside the mouth, a stretch beyond the corners
        below = _smoothstep((s + eps) / (2 * eps))
        along_v = self.mw * (below * JAW_DROP * low - (1 - below) * LIP_LIFT * up)
        return self._vec(np.zeros_like(along_v), along_v)

    def _lip_fields(self, u: np.ndarray, s: np.ndarray) -> tuple[tuple[np.ndarray, np.ndarray], ...]:
        near = _window(s, 0.28, 0.7) * np.clip(1 - (np.abs(u) - 1) / 0.9, 0, 1)
        profile = np.clip(u, -1, 1) * near * (self.mw / 2)
        zero = np.zeros_like(u)
        return self._vec(SPREAD * profile, zero), self._vec(-ROUND * profile, zero)

    @staticmethod
    def _blink_field(lm: np.ndarray, eye: tuple[int, int, int, int], gx: np.ndarray, gy: np.ndarray
                     ) -> tuple[np.ndarray, np.ndarray]:
        outer, inner, top, bottom = (lm[i] for i in eye)
        ew = float(np.hypot(*(inner - outer)))
        ea = (inner - outer) / ew
        down = np.array([-ea[1], ea[0]])
        if float(np.dot(lm[fm.CHIN] - outer, down)) < 0:
            down = -down
        centre = (outer + inner) / 2
        dx, dy = gx - centre[0], gy - centre[1]
        a = (dx * ea[0] + dy * ea[1]) / (ew / 2)
        b = (dx * down[0] + dy * down[1]) / ew
        bt = float(np.dot(top - centre, down)) / ew
        bb = float(np.dot(bottom - centre, down)) / ew
        gap = max(bb - bt, 0.02)
        rise = np.clip((b - (bt - 0.45)) / 0.45, 0, 1)  # the lid's skin above the lashes comes down too
        fall = np.clip((bb + 0.04 - b) / 0.06, 0, 1)  # nothing below the lower lid moves
        weight = _window(a, 0.75, 1.2) * rise * fall
        along = weight * 0.97 * gap * ew
        return (along * down[0]).astype(np.float32), (along * down[1]).astype(np.float32)

    @staticmethod
    def _face_mask(oval: np.ndarray, fw: float, shape: tuple[int, ...], offset: tuple[int, int]) -> np.ndarray:
        m = np.zeros(shape, np.uint8)
        centre = oval.mean(axis=0)
        pts = centre + (oval - centre) * 1.04 - np.array(offset)
        cv2.fillPoly(m, [np.round(pts).astype(np.int32)], 255)
        k = int(0.12 * fw) | 1
        return cv2.GaussianBlur(m, (k, k), 0).astype(np.float32) / 255.0

    # -- one frame -------------------------------------------------------------------------------
    def field(self, pose: Pose) -> tuple[np.ndarray, np.ndarray]:
        """The forward displacement of every pixel of the region for ``pose``."""
        hx, hy, turn = pose.head
        if self.head_masks is not None and (hx or hy or turn):
            mask, mask_rx, mask_ry = self.head_masks  # the head moves inside the face mask
            dx = cv2.addWeighted(mask, float(hx), mask_ry, -float(turn), 0.0)  # one pass, no temporaries
            dy = cv2.addWeighted(mask, float(hy), mask_rx, float(turn), 0.0)
        else:
            dx, dy = np.zeros(self.gx.shape, np.float32), np.zeros(self.gx.shape, np.float32)
        for name, k in (("open", pose.open), ("spread", pose.spread), ("round", pose.round),
                        ("blink0", pose.blink[0]), ("blink1", pose.blink[1])):
            if abs(k) > 1e-3 and name in self.crops:
                box, fx, fy = self.crops[name]
                for field, part in ((dx[box], fx), (dy[box], fy)):
                    cv2.scaleAdd(part, float(k), field, dst=field)  # in place, no temporary
        return dx, dy

    def moved(self, x: np.ndarray, y: np.ndarray, pose: Pose, part: str) -> np.ndarray:
        """Where landmark points go for ``pose`` (the lips: ``part`` is 'upper' or 'lower' of the tear)."""
        u, v = self._uv(x, y)
        corner = 0.5 * _smoothstep((np.abs(u) - 0.7) / 0.3)  # both lips meet at the corners
        drop, lift = self.mw * JAW_DROP * _window(u, 0.45, 2.3), -self.mw * LIP_LIFT * _window(u, 0.6, 1.35)
        own, other = (lift, drop) if part == "upper" else (drop, lift)
        along_v = pose.open * ((1 - corner) * own + corner * other)
        profile = np.clip(u, -1, 1) * (self.mw / 2)
        along_u = (SPREAD * pose.spread - ROUND * pose.round) * profile
        px, py = self._vec(along_u, along_v)
        out = np.stack([x + px, y + py], axis=1)
        hx, hy, turn = pose.head
        if hx or hy or turn:
            rx, ry = out[:, 0] - self.pivot[0], out[:, 1] - self.pivot[1]
            out += np.stack([hx - turn * ry, hy + turn * rx], axis=1)
        return out

    def render(self, pose: Pose) -> np.ndarray:
        """The canvas with the face in ``pose`` (a new array; the canvas itself is never changed)."""
        x0, y0, x1, y1 = self.roi
        frame = self.canvas.copy()
        frame[y0:y1, x0:x1] = self.render_region(pose)
        return frame

    def render_region(self, pose: Pose) -> np.ndarray:
        """Only the region that moves (``roi``) in ``pose``: the rest of every frame is the canvas. ``warp``'s
        region, its sampling maps made in the field's own arrays."""
        dx, dy = self.field(pose)
        return self._drawn(pose, cv2.subtract(self.gx, dx, dst=dx), cv2.subtract(self.gy, dy, dst=dy))

    def warp(self, pose: Pose) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The region (``roi``) in ``pose``, and each of its pixels' displacement (x, y)."""
        dx, dy = self.field(pose)
        return self._drawn(pose, self.gx - dx, self.gy - dy), dx, dy

    def _drawn(self, pose: Pose, map_x: np.ndarray, map_y: np.ndarray) -> np.ndarray:
        """The region sampled from the canvas where the maps say, the open mouth painted in. A pixel that did not
        move is the canvas's own: the remap samples it at its integer place."""
        x0, y0, _, _ = self.roi
        region = cv2.remap(self.canvas, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        self.painted = self._paint_mouth(region, pose, (x0, y0)) if pose.open > 0.04 else None
        return region

    def _paint_mouth(self, frame: np.ndarray, pose: Pose, origin: tuple[int, int]) -> tuple[int, int, int, int] | None:
        """Paint the open mouth into ``frame`` (whose top-left is at ``origin``); the box painted in, if any."""
        up = self.moved(self.inner_upper[:, 0], self.inner_upper[:, 1], pose, "upper")
        low = self.moved(self.inner_lower[:, 0], self.inner_lower[:, 1], pose, "lower")
        up, low = up - np.array(origin), low - np.array(origin)  # into ``frame``'s pixels
        poly = np.concatenate([up, low[::-1]])
        pad = int(0.1 * self.mw) + 2
        bx0, by0 = np.floor(poly.min(axis=0)).astype(int) - pad
        bx1, by1 = np.ceil(poly.max(axis=0)).astype(int) + pad
        h, w = frame.shape[:2]
        bx0, by0, bx1, by1 = max(bx0, 0), max(by0, 0), min(bx1, w), min(by1, h)
        if bx1 <= bx0 or by1 <= by0:
            return None
        shift = 4  # sub-pixel polygon edges
        scale = 1 << shift

        def fill(points: np.ndarray) -> np.ndarray:
            m = np.zeros((by1 - by0, bx1 - bx0), np.uint8)
            p = np.round((points - [bx0, by0]) * scale).astype(np.int32)
            cv2.fillPoly(m, [p], 255, lineType=cv2.LINE_AA, shift=shift)
            return m.astype(np.float32) / 255.0

        mouth = fill(poly)
        gap = float(np.median(np.hypot(*(low[1:-1] - up[1:-1]).T)))
        toward = (low - up)
        unit = toward / np.maximum(np.hypot(*toward.T)[:, None], 1e-6)
        teeth_h = min(0.35 * gap, 0.09 * self.mw)
        lower_h = max(0.0, min(0.2 * gap - 0.03 * self.mw, 0.06 * self.mw))
        u, _ = self._uv(*np.meshgrid(np.arange(bx0, bx1, dtype=np.float32) + origin[0],
                                     np.arange(by0, by1, dtype=np.float32) + origin[1]))
        front = _window(u, 0.4, 0.85)  # teeth show between the canines, not in the corners
        upper_teeth = fill(np.concatenate([up, (up + unit * teeth_h)[::-1]])) * mouth * front
        lower_teeth = (fill(np.concatenate([low, (low - unit * lower_h)[::-1]])) * mouth * front
                       if lower_h > 0.5 else 0.0)
        shade = np.clip(1.0 - 0.55 * np.abs(u) ** 2, 0.3, 1.0)[..., None]  # darker towards the corners
        colour = np.broadcast_to(CAVITY_BGR, mouth.shape + (3,)).copy()
        if pose.open > 0.45:
            centre = (up[len(up) // 2] + low[len(low) // 2]) / 2 + unit[len(unit) // 2] * 0.2 * gap
            tongue = np.zeros(mouth.shape, np.float32)
            axes = (int(0.28 * self.mw), max(1, int(0.22 * gap)))
            cv2.ellipse(tongue, (int(centre[0] - bx0), int(centre[1] - by0)), axes, 0, 0, 360, 1.0, -1)
            k = max(3, int(0.08 * self.mw) | 1)
            tongue = cv2.GaussianBlur(tongue, (k, k), 0)[..., None] * min(1.0, (pose.open - 0.45) * 3)
            colour = colour * (1 - tongue) + TONGUE_BGR * tongue
        for teeth, tone in ((upper_teeth, 1.0), (lower_teeth, 0.85)):
            if isinstance(teeth, np.ndarray):
                t = teeth[..., None]
                colour = colour * (1 - t) + TEETH_BGR * tone * t
        colour *= shade
        k = max(3, int(0.03 * self.mw) | 1)
        alpha = cv2.GaussianBlur(mouth, (k, k), 0)[..., None] * min(1.0, (pose.open - 0.04) * 8)
        patch = frame[by0:by1, bx0:bx1].astype(np.float32)
        frame[by0:by1, bx0:bx1] = np.clip(patch * (1 - alpha) + colour * alpha, 0, 255).astype(np.uint8)
        return int(bx0), int(by0), int(bx1), int(by1)
