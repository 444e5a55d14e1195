//! Does one side's interface give what the other side expects? A structural comparison across two
//! [`Resolve`]s (two components never share one), reporting the first difference of each item in
//! WIT words.

use std::collections::HashSet;

use wit_parser::{
    Function, FunctionKind, Handle, InterfaceId, Resolve, Type, TypeDefKind, TypeId, TypeOwner,
};

use super::Code;
use super::wit_text::{func_sig, type_str, typedef_str};

/// One way in which the provided interface differs from the expected one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Difference {
    /// [`Code::MissingFunction`], [`Code::MissingType`] or [`Code::IncompatibleType`].
    pub code: Code,
    /// Where: `function `divide`, param `a``, `record `stats`, field `mean``.
    pub item: String,
    /// What the expecting side has, as WIT.
    pub expected: String,
    /// What the providing side has, as WIT (`(nothing)` when missing).
    pub found: String,
    /// The difference in a few words.
    pub what: What,
}

/// How two definitions differ, worded for a contract ([`std::fmt::Display`]: "field `mean` is
/// missing") or for a change history ([`What::as_change`]: "field `mean` was removed").
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum What {
    /// The expecting side has a field, case or flag (`kind`) the other lacks.
    Missing {
        /// `field`, `case` or `flag`.
        kind: &'static str,
        /// Its name.
        name: String,
    },
    /// The other side has a field, case or flag the expecting side does not.
    Unexpected {
        /// `field`, `case` or `flag`.
        kind: &'static str,
        /// Its name.
        name: String,
    },
    /// The expecting side has the whole item (`function`, `type`); the other lacks it.
    Absent(&'static str),
    /// The other side has an item (`function`, `type`) that the expecting side lacks.
    Extra(&'static str),
    /// The sides have different numbers of `kind` (`parameter`).
    Count {
        /// What is counted.
        kind: &'static str,
        /// How many the expecting side has.
        expected: usize,
        /// How many the other side has.
        found: usize,
    },
    /// The functions differ in being async (`expected` and `found` are `async` or `sync`).
    Async {
        /// The expecting side's.
        expected: &'static str,
        /// The other side's.
        found: &'static str,
    },
    /// Any other difference, in a few words.
    Other(String),
}

impl What {
    /// The difference as a change from the expecting (older) side to the other (newer) one.
    pub fn as_change(&self) -> String {
        match self {
            What::Missing { kind, name } => format!("{kind} `{name}` was removed"),
            What::Unexpected { kind, name } => format!("{kind} `{name}` was added"),
            What::Absent(kind) => format!("the {kind} was removed"),
            What::Extra(kind) => format!("the {kind} was added"),
            What::Count { .. } | What::Async { .. } | What::Other(_) => self.to_string(),
        }
    }

    /// The same difference seen from the other side.
    fn reversed(self) -> What {
        match self {
            What::Missing { kind, name } => What::Unexpected { kind, name },
            What::Unexpected { kind, name } => What::Missing { kind, name },
            What::Absent(kind) => What::Extra(kind),
            What::Extra(kind) => What::Absent(kind),
            What::Count {
                kind,
                expected,
                found,
            } => What::Count {
                kind,
                expected: found,
                found: expected,
            },
            What::Async { expected, found } => What::Async {
                expected: found,
                found: expected,
            },
            // Every other wording is symmetric ("the types differ").
            What::Other(text) => What::Other(text),
        }
    }
}

impl Difference {
    /// The same difference with the sides exchanged: what was found becomes what is expected.
    /// For a comparison that had to run from one side (an import is judged by what the importer
    /// needs) but is reported from the other's (a world states the contract).
    pub fn reversed(self) -> Difference {
        Difference {
            code: self.code,
            item: self.item,
            expected: self.found,
            found: self.expected,
            what: self.what.reversed(),
        }
    }
}

impl std::fmt::Display for What {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            What::Missing { kind, name } => write!(f, "{kind} `{name}` is missing"),
            What::Unexpected { kind, name } => write!(f, "{kind} `{name}` is not expected"),
            What::Absent(kind) => write!(f, "the {kind} is missing"),
            What::Extra(kind) => write!(f, "the {kind} is not expected"),
            What::Count {
                kind,
                expected,
                found,
            } => write!(
                f,
                "{expected} {kind}{} expected, {found} found",
                if *expected == 1 { "" } else { "s" }
            ),
            What::Async { expected, found } => {
                let article = |w: &str| if w == "async" { "an" } else { "a" };
                write!(
                    f,
                    "{} {expected} function expected, {} {found} one found (the component model does not convert between them)",
                    article(expected),
                    article(found)
                )
            }
            What::Other(text) => f.write_str(text),
        }
    }
}

impl From<&str> for What {
    fn from(text: &str) -> What {
        What::Other(text.to_string())
    }
}

impl From<String> for What {
    fn from(text: String) -> What {
        What::Other(text)
    }
}

/// Compares interface `expected` (the consumer's view, or a target world's) with `found` (the
/// provider's). Items only the provider has are fine: a provider may offer more.
pub fn compare_interfaces(
    expected: (&Resolve, InterfaceId),
    found: (&Resolve, InterfaceId),
) -> Vec<Difference> {
    let mut cx = Cx {
        e: expected.0,
        f: found.0,
        seen: HashSet::new(),
        out: Vec::new(),
    };
    let ei = &cx.e.interfaces[expected.1];
    let fi = &cx.f.interfaces[found.1];
    for (name, &eid) in &ei.types {
        match fi.types.get(name) {
            Some(&fid) => {
                let item = format!("{} `{name}`", kind_word(cx.e, eid));
                cx.types(&Type::Id(eid), &Type::Id(fid), &item);
            }
            None => cx.out.push(Difference {
                code: Code::MissingType,
                item: format!("{} `{name}`", kind_word(cx.e, eid)),
                expected: typedef_str(cx.e, eid),
                found: "(nothing)".into(),
                what: What::Absent("type"),
            }),
        }
    }
    for (name, ef) in &ei.functions {
        match fi.functions.get(name) {
            Some(ff) => cx.function(ef, ff),
            None => cx.out.push(Difference {
                code: Code::MissingFunction,
                item: format!("function `{name}`"),
                expected: format!("{name}: {}", func_sig(cx.e, ef)),
                found: "(nothing)".into(),
                what: What::Absent("function"),
            }),
        }
    }
    cx.out
}

/// Compares two functions (e.g. a world's top-level imports).
pub fn compare_functions(
    expected: (&Resolve, &Function),
    found: (&Resolve, &Function),
) -> Vec<Difference> {
    let mut cx = Cx {
        e: expected.0,
        f: found.0,
        seen: HashSet::new(),
        out: Vec::new(),
    };
    cx.function(expected.1, found.1);
    cx.out
}

struct Cx<'a> {
    e: &'a Resolve,
    f: &'a Resolve,
    /// Named type pairs already compared, so a record used by five functions is explained once.
    seen: HashSet<(TypeId, TypeId)>,
    out: Vec<Difference>,
}

impl Cx<'_> {
    fn diff(&mut self, item: &str, expected: String, found: String, what: impl Into<What>) {
        self.out.push(Difference {
            code: Code::IncompatibleType,
            item: item.to_string(),
            expected,
            found,
            what: what.into(),
        });
    }

    fn function(&mut self, ef: &Function, ff: &Function) {
        let name = ef.item_name();
        let item = format!("function `{name}`");
        let sig = |r: &Resolve, f: &Function| format!("{}: {}", f.item_name(), func_sig(r, f));
        let asyncness = |f: &Function| {
            if matches!(
                f.kind,
                FunctionKind::AsyncFreestanding
                    | FunctionKind::AsyncMethod(_)
                    | FunctionKind::AsyncStatic(_)
            ) {
                "async"
            } else {
                "sync"
            }
        };
        if asyncness(ef) != asyncness(ff) {
            let (e, f) = (sig(self.e, ef), sig(self.f, ff));
            let what = What::Async {
                expected: asyncness(ef),
                found: asyncness(ff),
            };
            self.diff(&item, e, f, what);
            return;
        }
        if std::mem::discriminant(&ef.kind) != std::mem::discriminant(&ff.kind) {
            let (e, f) = (sig(self.e, ef), sig(self.f, ff));
            self.diff(
                &item,
                e,
                f,
                "the function kinds differ (async, method, static or constructor)",
            );
            return;
        }
        if ef.params.len() != ff.params.len() {
            let (e, f) = (sig(self.e, ef), sig(self.f, ff));
            let what = What::Count {
                kind: "parameter",
                expected: ef.params.len(),
                found: ff.params.len(),
            };
            self.diff(&item, e, f, what);
            return;
        }
        for (ep, fp) in ef.params.iter().zip(&ff.params) {
            let at = format!("{item}, param `{}`", ep.name);
            if ep.name != fp.name {
                let e = format!("{}: {}", ep.name, type_str(self.e, &ep.ty));
                let f = format!("{}: {}", fp.name, type_str(self.f, &fp.ty));
                self.diff(
                    &at,
                    e,
                    f,
                    "the parameter names differ (names are part of a component function's type)",
                );
                continue;
            }
            self.types(&ep.ty, &fp.ty, &at);
        }
        match (&ef.result, &ff.result) {
            (Some(er), Some(fr)) => self.types(er, fr, &format!("{item}, result")),
            (None, None) => {}
            (er, fr) => {
                let show = |r: &Resolve, t: &Option<Type>| {
                    t.as_ref()
                        .map_or("(no result)".to_string(), |t| type_str(r, t))
                };
                let (e, f) = (show(self.e, er), show(self.f, fr));
                self.diff(
                    &format!("{item}, result"),
                    e,
                    f,
                    "one side returns a value, the other does not",
                );
            }
        }
    }

    /// Compares two types structurally. Long on purpose: one arm per kind of WIT type, each
    /// short, so that the whole comparison reads in one place against the WIT spec's list.
    fn types(&mut self, et: &Type, ft: &Type, item: &str) {
        let (et, ft) = (unalias(self.e, *et), unalias(self.f, *ft));
        let (eid, fid) = match (et, ft) {
            (Type::Id(e), Type::Id(f)) => (e, f),
            (Type::Id(_), _) | (_, Type::Id(_)) => {
                let (e, f) = (type_str(self.e, &et), type_str(self.f, &ft));
                return self.diff(item, e, f, "the types differ");
            }
            (e, f) if e == f => return,
            (e, f) => {
                let (e, f) = (type_str(self.e, &e), type_str(self.f, &f));
                return self.diff(item, e, f, "the types differ");
            }
        };
        let (ed, fd) = (&self.e.types[eid], &self.f.types[fid]);
        if ed.name.is_some() && !self.seen.insert((eid, fid)) {
            return;
        }
        // Inside a named type, point at the type itself: `record `stats`, field `mean``.
        let here = match &ed.name {
            Some(name) if !item.ends_with(&format!("`{name}`")) => {
                format!("{item} (type `{name}`)")
            }
            _ => item.to_string(),
        };
        let whole = |cx: &Self| {
            let show = |r: &Resolve, id: TypeId| {
                if r.types[id].name.is_some() {
                    typedef_str(r, id)
                } else {
                    type_str(r, &Type::Id(id))
                }
            };
            (show(cx.e, eid), show(cx.f, fid))
        };
        match (&ed.kind, &fd.kind) {
            (TypeDefKind::Record(er), TypeDefKind::Record(fr)) => {
                let names =
                    |r: &wit_parser::Record| r.fields.iter().map(|f| f.name.clone()).collect();
                if let Some(what) = name_change("field", names(er), names(fr)) {
                    let (e, f) = whole(self);
                    return self.diff(&here, e, f, what);
                }
                for (a, b) in er.fields.iter().zip(&fr.fields) {
                    self.types(&a.ty, &b.ty, &format!("{here}, field `{}`", a.name));
                }
            }
            (TypeDefKind::Variant(ev), TypeDefKind::Variant(fv)) => {
                let names =
                    |v: &wit_parser::Variant| v.cases.iter().map(|c| c.name.clone()).collect();
                if let Some(what) = name_change("case", names(ev), names(fv)) {
                    let (e, f) = whole(self);
                    return self.diff(&here, e, f, what);
                }
                for (a, b) in ev.cases.iter().zip(&fv.cases) {
                    self.optional(&a.ty, &b.ty, &format!("{here}, case `{}`", a.name));
                }
            }
            (TypeDefKind::Enum(ee), TypeDefKind::Enum(fe)) => {
                let names = |e: &wit_parser::Enum| e.cases.iter().map(|c| c.name.clone()).collect();
                if let Some(what) = name_change("case", names(ee), names(fe)) {
                    let (e, f) = whole(self);
                    self.diff(&here, e, f, what);
                }
            }
            (TypeDefKind::Flags(ef), TypeDefKind::Flags(ff)) => {
                let names =
                    |f: &wit_parser::Flags| f.flags.iter().map(|c| c.name.clone()).collect();
                if let Some(what) = name_change("flag", names(ef), names(ff)) {
                    let (e, f) = whole(self);
                    self.diff(&here, e, f, what);
                }
            }
            (TypeDefKind::Resource, TypeDefKind::Resource) => {
                let (e, f) = (resource_id(self.e, eid), resource_id(self.f, fid));
                if e != f {
                    self.diff(&here, e, f, "these are different resources");
                }
            }
            (TypeDefKind::Handle(eh), TypeDefKind::Handle(fh)) => match (eh, fh) {
                (Handle::Own(e), Handle::Own(f)) | (Handle::Borrow(e), Handle::Borrow(f)) => {
                    self.types(&Type::Id(*e), &Type::Id(*f), &here)
                }
                _ => {
                    let (e, f) = whole(self);
                    self.diff(
                        &here,
                        e,
                        f,
                        "one side owns the resource, the other borrows it",
                    );
                }
            },
            (TypeDefKind::Tuple(et), TypeDefKind::Tuple(ft))
                if et.types.len() == ft.types.len() =>
            {
                for (i, (a, b)) in et.types.iter().zip(&ft.types).enumerate() {
                    self.types(a, b, &format!("{here}, tuple element {i}"));
                }
            }
            (TypeDefKind::Option(a), TypeDefKind::Option(b)) => {
                self.types(a, b, &format!("{here}, option payload"))
            }
            (TypeDefKind::List(a), TypeDefKind::List(b)) => {
                self.types(a, b, &format!("{here}, list element"))
            }
            (TypeDefKind::FixedLengthList(a, n), TypeDefKind::FixedLengthList(b, m)) if n == m => {
                self.types(a, b, &format!("{here}, list element"))
            }
            (TypeDefKind::Map(ak, av), TypeDefKind::Map(bk, bv)) => {
                self.types(ak, bk, &format!("{here}, map key"));
                self.types(av, bv, &format!("{here}, map value"));
            }
            (TypeDefKind::Result(a), TypeDefKind::Result(b)) => {
                self.optional(&a.ok, &b.ok, &format!("{here}, ok type"));
                self.optional(&a.err, &b.err, &format!("{here}, err type"));
            }
            (TypeDefKind::Future(a), TypeDefKind::Future(b)) => {
                self.optional(a, b, &format!("{here}, future payload"))
            }
            (TypeDefKind::Stream(a), TypeDefKind::Stream(b)) => {
                self.optional(a, b, &format!("{here}, stream element"))
            }
            _ => {
                let (e, f) = whole(self);
                self.diff(&here, e, f, "the types differ");
            }
        }
    }

    fn optional(&mut self, e: &Option<Type>, f: &Option<Type>, item: &str) {
        match (e, f) {
            (Some(e), Some(f)) => self.types(e, f, item),
            (None, None) => {}
            (e, f) => {
                let show = |r: &Resolve, t: &Option<Type>| {
                    t.as_ref().map_or("(none)".to_string(), |t| type_str(r, t))
                };
                let (e, f) = (show(self.e, e), show(self.f, f));
                self.diff(item, e, f, "one side has a payload, the other does not");
            }
        }
    }
}

fn unalias(resolve: &Resolve, mut ty: Type) -> Type {
    while let Type::Id(id) = ty {
        match resolve.types[id].kind {
            TypeDefKind::Type(inner) => ty = inner,
            _ => break,
        }
    }
    ty
}

/// `record`, `variant`, … for a named type.
fn kind_word(resolve: &Resolve, id: TypeId) -> &'static str {
    match resolve.types[id].kind {
        TypeDefKind::Record(_) => "record",
        TypeDefKind::Variant(_) => "variant",
        TypeDefKind::Enum(_) => "enum",
        TypeDefKind::Flags(_) => "flags",
        TypeDefKind::Resource => "resource",
        _ => "type",
    }
}

/// A resource's identity across components: its name and its interface's unversioned name.
fn resource_id(resolve: &Resolve, id: TypeId) -> String {
    let def = &resolve.types[id];
    let name = def.name.clone().unwrap_or_default();
    match def.owner {
        TypeOwner::Interface(i) => {
            let iface = &resolve.interfaces[i];
            let pkg = iface.package.map(|p| {
                let n = &resolve.packages[p].name;
                format!("{}:{}/", n.namespace, n.name)
            });
            format!(
                "resource {name} (from {}{})",
                pkg.unwrap_or_default(),
                iface.name.clone().unwrap_or_default()
            )
        }
        _ => format!("resource {name}"),
    }
}

/// How two lists of field, case or flag names differ: one is missing, one is not expected, or
/// they are in a different order; `None` when they are equal.
fn name_change(kind: &'static str, expected: Vec<String>, found: Vec<String>) -> Option<What> {
    if expected == found {
        None
    } else if let Some(missing) = expected.iter().find(|n| !found.contains(n)) {
        Some(What::Missing {
            kind,
            name: missing.clone(),
        })
    } else if let Some(extra) = found.iter().find(|n| !expected.contains(n)) {
        Some(What::Unexpected {
            kind,
            name: extra.clone(),
        })
    } else {
        Some(What::Other(format!("the {kind}s are in a different order")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn function(wit: &str) -> (Resolve, Function) {
        let mut resolve = Resolve::default();
        let pkg = resolve.push_str("t.wit", wit).expect("valid WIT");
        let iface = resolve.packages[pkg].interfaces["i"];
        let f = resolve.interfaces[iface].functions["f"].clone();
        (resolve, f)
    }

    /// Expected is what the contract says, found what the export has, in the right number.
    #[test]
    fn arity_is_worded_from_the_contract() {
        let one = function("package t:t; interface i { f: func(a: u32); }");
        let two = function("package t:t; interface i { f: func(a: u32, b: u32); }");
        let d = compare_functions((&one.0, &one.1), (&two.0, &two.1));
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].what.to_string(), "1 parameter expected, 2 found");
        assert_eq!(d[0].expected, "f: func(a: u32)");
        let d = compare_functions((&two.0, &two.1), (&one.0, &one.1));
        assert_eq!(d[0].what.to_string(), "2 parameters expected, 1 found");
    }

    /// Async functions and streams, as the validator judges them: `async` must match, and a
    /// stream's element type is compared like any type.
    #[test]
    fn async_and_streams_are_compared() {
        let sync = function("package t:t; interface i { f: func(a: u32) -> u32; }");
        let async_ = function("package t:t; interface i { f: async func(a: u32) -> u32; }");
        let d = compare_functions((&async_.0, &async_.1), (&sync.0, &sync.1));
        assert_eq!(d.len(), 1);
        assert!(
            d[0].what
                .to_string()
                .starts_with("an async function expected, a sync one found"),
            "{}",
            d[0].what
        );
        assert_eq!(d[0].expected, "f: async func(a: u32) -> u32");
        assert_eq!(d[0].found, "f: func(a: u32) -> u32");
        let reversed = d[0].clone().reversed().what.to_string();
        assert!(
            reversed.starts_with("a sync function expected, an async one found"),
            "{reversed}"
        );

        let bytes = function("package t:t; interface i { f: async func() -> stream<u8>; }");
        let words = function("package t:t; interface i { f: async func() -> stream<string>; }");
        let d = compare_functions((&bytes.0, &bytes.1), (&words.0, &words.1));
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].item, "function `f`, result, stream element");
        assert_eq!(
            (d[0].expected.as_str(), d[0].found.as_str()),
            ("u8", "string")
        );
        assert!(compare_functions((&bytes.0, &bytes.1), (&bytes.0, &bytes.1)).is_empty());
    }

    /// A comparison run from the importer's side and reported from the world's reads as if the
    /// world had been the expecting side: the text turns with the sides.
    #[test]
    fn a_reversed_difference_speaks_from_the_other_side() {
        let one = function("package t:t; interface i { f: func(a: u32); }");
        let two = function("package t:t; interface i { f: func(a: u32, b: u32); }");
        let forward = compare_functions((&two.0, &two.1), (&one.0, &one.1));
        let reversed = compare_functions((&one.0, &one.1), (&two.0, &two.1))
            .remove(0)
            .reversed();
        assert_eq!(reversed, forward[0]);

        let r = |wit: &str| {
            let mut resolve = Resolve::default();
            let pkg = resolve.push_str("t.wit", wit).expect("valid WIT");
            let id = resolve.packages[pkg].interfaces["i"];
            (resolve, id)
        };
        let with = r("package t:t; interface i { record r { a: u32, b: u32 } g: func(); }");
        let without = r("package t:t; interface i { record r { a: u32 } }");
        let d = compare_interfaces((&with.0, with.1), (&without.0, without.1));
        let words: Vec<String> = d.iter().map(|d| d.what.to_string()).collect();
        assert_eq!(words, ["field `b` is missing", "the function is missing"]);
        let words: Vec<String> = d
            .into_iter()
            .map(|d| d.reversed().what.to_string())
            .collect();
        assert_eq!(
            words,
            ["field `b` is not expected", "the function is not expected"]
        );
    }
}
