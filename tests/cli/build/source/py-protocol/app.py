class Tidy:
    """Implements demo:names/tidy without importing the bindings."""

    def initials(self, name, upper, separator):
        return separator.join(word[0] for word in name.split())
