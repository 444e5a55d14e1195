class Tidier:
    def initials(self, name: str, upper: bool) -> str:
        return name[:1]

    def count(self, text: str) -> int:
        return len(text.split())
