from wit_world import exports


class Greeter(exports.Greeter)
    def greet(self, name: str) -> str:
        return "Hello, " + name
