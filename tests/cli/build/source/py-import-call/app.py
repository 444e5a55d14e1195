from wit_world import exports
from wit_world.imports import log


class Tidy(exports.Tidy):
    def initials(self, name: str, upper: bool) -> str:
        log.write(log.Entry(level=1, text=name), upper)
        return name[:1]

    def count(self, text: str) -> int:
        log.write(text)
        return len(text.split())
