"""Resources of demo:kinds/shapes@0.1.0 for `py`.

componentize-py looks for them in a module named `shapes`. Made by `weld new --world`.
"""

from typing import Self

from wit_world.exports import shapes


class Counter(shapes.Counter):
    """Resource `counter` of demo:kinds/shapes@0.1.0."""

    def __init__(self, start: int) -> None:
        # WIT: constructor(start: u32)
        raise NotImplementedError("Counter.__init__ is not written yet (see wit/kinds.wit)")

    def add(self, n: int) -> int:
        # WIT: add: func(n: u32) -> u32
        raise NotImplementedError("Counter.add is not written yet (see wit/kinds.wit)")

    def get(self) -> int:
        # WIT: get: func() -> u32
        raise NotImplementedError("Counter.get is not written yet (see wit/kinds.wit)")

    @classmethod
    def make(cls) -> Self:
        # WIT: make: static func() -> own<counter>
        raise NotImplementedError("Counter.make is not written yet (see wit/kinds.wit)")
