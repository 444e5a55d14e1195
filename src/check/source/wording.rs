//! What weld reads of mypy's and tsc's wording: one table per tool. Their error codes decide
//! what a message is about (mypy's `override`, `abstract`, `assignment`, `call-arg`; tsc's
//! `TS2322`); the rows here only pick apart what a code cannot carry: the names in a message,
//! the two signatures in a hint, which of a code's shapes of message this is. Each row has a
//! unit test on a message the pinned tool prints (mypy 2.4, TypeScript 7), so that a release
//! that rewords one fails here, by name, rather than quietly dropping findings.

/// mypy (`-O json`: `code`, `message`, `hint`).
pub(super) mod mypy {
    use std::sync::LazyLock;

    use regex::Regex;

    /// `override`, a signature that differs as a whole: `Signature of "initials" incompatible
    /// with supertype "wit_world.exports.Tidy"`, both signatures in the hint.
    pub const SIGNATURE: &str = "Signature of";
    /// The hint's line before the supertype's signature.
    pub const SUPERCLASS: &str = "Superclass:";
    /// The hint's line before the override's signature.
    pub const SUBCLASS: &str = "Subclass:";
    /// `override`, a result that differs: `Return type "int" of "initials" incompatible with
    /// return type "str" in supertype "…"` (quoted: returned, method, the supertype's).
    /// Otherwise it is a parameter: `Argument 1 of "count" is incompatible with supertype "…";
    /// supertype defines the argument type as "int"`.
    pub const RETURN_TYPE: &str = "Return type";
    /// `override`: the binding's protocol a class overrides, `supertype
    /// "wit_world.exports.Tidy"` (or `"wit_world.WitWorld"` for the world's own exports).
    pub static SUPERTYPE: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r#"supertype "wit_world\.(?:exports\.)?(\w+)""#).unwrap());
    /// `abstract`: `Cannot instantiate abstract class "C" with abstract attribute "count"` (or
    /// `attributes "a" and "b"`): the quoted names after this.
    pub const ABSTRACT_NAMES: &str = " attribute";
    /// `assignment`'s hint: `"D" is missing following "Tidy" protocol member:\n    count` (or
    /// `members:`), one name per line after it.
    pub const MISSING_MEMBERS: [&str; 2] = ["protocol member:", "protocol members:"];
    /// `assignment`'s hint: `Following member(s) of "D" have conflicts:\n    Expected:\n
    ///     def …\n    Got:\n        def …`, a pair per conflicting member.
    pub const EXPECTED: &str = "Expected:";
    /// See [`EXPECTED`].
    pub const GOT: &str = "Got:";
    /// `call-arg`, `arg-type`, `call-overload`, `misc` on a call: `Too many arguments for
    /// "write"`, `Argument 1 to "write" has incompatible type "int"; expected "str"`: the
    /// callee, the last quoted name after `for` or `to`.
    pub static CALLEE: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r#"(?:for|to) "(\w+)""#).unwrap());
}

/// tsc (`file(line,col): error TSnnnn: message`, its elaboration on the indented lines after).
pub(super) mod tsc {
    use std::sync::LazyLock;

    use regex::Regex;

    /// `TS2322` on an export held to its binding's type: `Type '(name: number) => string' is
    /// not assignable to type '…'.`: the type the code has.
    pub static TYPE: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"^Type '(.*)' is not assignable to type '").unwrap());
    /// `TS2322` on the arity probe: `Type '3' is not assignable to type '0 | 1 | 2'.`: how many
    /// parameters the function declares.
    pub static COUNT: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"^Type '(\d+)'").unwrap());
    /// The elaboration of a `TS2322` whose cause is the parameter count, which the arity probe
    /// reports already.
    pub const TOO_FEW_ARGUMENTS: &str = "Target signature provides too few arguments";
}

#[cfg(test)]
mod tests {
    use super::{mypy, tsc};

    #[test]
    fn mypy_override_signature() {
        let message =
            r#"Signature of "initials" incompatible with supertype "wit_world.exports.Tidy""#;
        let hint = "     Superclass:\n         def initials(self, name: str) -> str\n     Subclass:\n         def initials(self, name: str, extra: int) -> str";
        assert!(message.starts_with(mypy::SIGNATURE));
        assert!(hint.contains(mypy::SUPERCLASS) && hint.contains(mypy::SUBCLASS));
        assert_eq!(&mypy::SUPERTYPE.captures(message).unwrap()[1], "Tidy");
    }

    #[test]
    fn mypy_override_return_and_argument() {
        let returns = r#"Return type "int" of "initials" incompatible with return type "str" in supertype "wit_world.WitWorld""#;
        assert!(returns.starts_with(mypy::RETURN_TYPE));
        assert_eq!(&mypy::SUPERTYPE.captures(returns).unwrap()[1], "WitWorld");
        let argument = r#"Argument 1 of "count" is incompatible with supertype "wit_world.exports.Tidy"; supertype defines the argument type as "int""#;
        assert!(!argument.starts_with(mypy::RETURN_TYPE));
        assert!(!argument.starts_with(mypy::SIGNATURE));
    }

    #[test]
    fn mypy_abstract_names() {
        let one = r#"Cannot instantiate abstract class "C" with abstract attribute "count""#;
        assert_eq!(
            one.split_once(mypy::ABSTRACT_NAMES).unwrap().1,
            r#" "count""#
        );
        let two = r#"Cannot instantiate abstract class "C" with abstract attributes "a" and "b""#;
        assert_eq!(
            two.split_once(mypy::ABSTRACT_NAMES).unwrap().1,
            r#"s "a" and "b""#
        );
    }

    #[test]
    fn mypy_assignment_hint() {
        let hint = "\"D\" is missing following \"Tidy\" protocol member:\n    count\nFollowing member(s) of \"D\" have conflicts:\n    Expected:\n        def initials(self, name: str) -> str\n    Got:\n        def initials(self, name: int) -> str";
        assert!(hint.contains(mypy::MISSING_MEMBERS[0]));
        let several = "\"D\" is missing following \"Tidy\" protocol members:\n    a\n    b";
        assert!(several.contains(mypy::MISSING_MEMBERS[1]));
        let expected = hint.find(mypy::EXPECTED).unwrap();
        assert!(hint[expected..].contains(mypy::GOT));
    }

    #[test]
    fn mypy_callee() {
        for message in [
            r#"Too many arguments for "write""#,
            r#"Argument 1 to "write" has incompatible type "int"; expected "str""#,
            r#"Missing named argument "text" for "write""#,
        ] {
            let last = mypy::CALLEE.captures_iter(message).last().unwrap();
            assert_eq!(&last[1], "write", "{message}");
        }
    }

    #[test]
    fn tsc_type_and_count() {
        let message =
            "Type '(name: number) => string' is not assignable to type '(name: string) => string'.";
        assert_eq!(
            &tsc::TYPE.captures(message).unwrap()[1],
            "(name: number) => string"
        );
        let count = "Type '3' is not assignable to type '0 | 1 | 2'.";
        assert_eq!(&tsc::COUNT.captures(count).unwrap()[1], "3");
        let elaborated = "Type '(a: string, b: string) => string' is not assignable to type '(a: string) => string'.\nTarget signature provides too few arguments. Expected 2 or more, but got 1.";
        assert!(elaborated.contains(tsc::TOO_FEW_ARGUMENTS));
    }
}
