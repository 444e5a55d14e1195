from wit_world import exports


class Tidy(exports.Tidy):
    def initials(self, name, upper):
        initials = "".join(word[0] for word in name.split())
        return initials.upper() if upper else initials
