"""`py`: implements world `kinds` (wit/kinds.wit).

Made by `weld new --world`: every export is here, with the signature componentize-py's
bindings give it. Replace each `raise NotImplementedError` with the real thing.
"""

from componentize_py_types import Some
from typing import List, Optional, Tuple

import wit_world
from wit_world import exports
from wit_world.exports import ids
from wit_world.exports import shapes


class WitWorld(wit_world.WitWorld):
    """The world's own exports."""

    def hello(self, name: str) -> str:
        # WIT: hello: func(name: string) -> string
        raise NotImplementedError("hello is not written yet (see wit/kinds.wit)")


class Ids(exports.Ids):
    """Exports demo:kinds/ids@0.1.0."""

    def next_id(self) -> int:
        # WIT: next-id: func() -> id
        raise NotImplementedError("Ids.next_id is not written yet (see wit/kinds.wit)")


class Shapes(exports.Shapes):
    """Exports demo:kinds/shapes@0.1.0."""

    def area(self, s: shapes.Shape) -> float:
        # WIT: area: func(s: shape) -> f64
        raise NotImplementedError("Shapes.area is not written yet (see wit/kinds.wit)")

    def mix(self, a: shapes.Color, b: Optional[shapes.Color]) -> List[shapes.Color]:
        # WIT: mix: func(a: color, b: option<color>) -> list<color>
        raise NotImplementedError("Shapes.mix is not written yet (see wit/kinds.wit)")

    def parse_point(self, text: str) -> shapes.Point:
        # WIT: parse-point: func(text: string) -> result<point, string>
        # Return the ok value; fail with `raise componentize_py_types.Err(value)`.
        raise NotImplementedError("Shapes.parse_point is not written yet (see wit/kinds.wit)")

    def validate(self, p: List[shapes.Point]) -> None:
        # WIT: validate: func(p: points) -> result<_, string>
        # Return the ok value; fail with `raise componentize_py_types.Err(value)`.
        raise NotImplementedError("Shapes.validate is not written yet (see wit/kinds.wit)")

    def styled(self, s: shapes.Style, bytes: bytes) -> Tuple[shapes.Style, int]:
        # WIT: styled: func(s: style, bytes: list<u8>) -> tuple<style, u64>
        raise NotImplementedError("Shapes.styled is not written yet (see wit/kinds.wit)")

    def total(self, c: shapes.Counter) -> int:
        # WIT: total: func(c: borrow<counter>) -> u32
        raise NotImplementedError("Shapes.total is not written yet (see wit/kinds.wit)")

    def numbers(self, a: int, b: int, c: int, d: int, e: float, f: str, g: bool) -> Optional[Some[Optional[int]]]:
        # WIT: numbers: func(a: s8, b: s16, c: s64, d: u16, e: f32, f: char, g: bool) -> option<option<s8>>
        raise NotImplementedError("Shapes.numbers is not written yet (see wit/kinds.wit)")

    def tag(self, id: int, label: str) -> ids.Tagged:
        # WIT: tag: func(id: id, label: string) -> tagged
        raise NotImplementedError("Shapes.tag is not written yet (see wit/kinds.wit)")

    def nothing(self) -> None:
        # WIT: nothing: func()
        raise NotImplementedError("Shapes.nothing is not written yet (see wit/kinds.wit)")
