from wit_world import exports


class Tidy(exports.Tidy):
    # Written when the WIT said `initials: func(name: string) -> string`.
    def initials(self, name: str) -> str:
        return "".join(word[0] for word in name.split())

    def count(self, text: str) -> int:
        return len(text.split())
