from wit_world import exports


class Tidy(exports.Tidy):
    def initials(self, name, upper):
        return name[:1]

    def count(self, text: bytes) -> str:
        return str(len(text.split()))
