//! WIT as text: types, function signatures and type definitions rendered the way they are
//! written in a .wit file, for explanations and for `weld wit --format json`.

use wit_parser::{Function, FunctionKind, Handle, Resolve, Type, TypeDefKind, TypeId};

/// A type as it is written where it is used: `list<f64>`, `result<stats, string>`, `own<file>`.
pub fn type_str(resolve: &Resolve, ty: &Type) -> String {
    match ty {
        Type::Bool => "bool".into(),
        Type::U8 => "u8".into(),
        Type::U16 => "u16".into(),
        Type::U32 => "u32".into(),
        Type::U64 => "u64".into(),
        Type::S8 => "s8".into(),
        Type::S16 => "s16".into(),
        Type::S32 => "s32".into(),
        Type::S64 => "s64".into(),
        Type::F32 => "f32".into(),
        Type::F64 => "f64".into(),
        Type::Char => "char".into(),
        Type::String => "string".into(),
        Type::ErrorContext => "error-context".into(),
        Type::Id(id) => id_str(resolve, *id),
    }
}

fn id_str(resolve: &Resolve, id: TypeId) -> String {
    let def = &resolve.types[id];
    match &def.name {
        Some(name) => name.clone(),
        None => kind_str(resolve, &def.kind),
    }
}

/// An anonymous type's spelling.
fn kind_str(resolve: &Resolve, kind: &TypeDefKind) -> String {
    let t = |ty: &Type| type_str(resolve, ty);
    let opt = |ty: &Option<Type>| ty.as_ref().map_or("_".to_string(), t);
    match kind {
        TypeDefKind::Option(ty) => format!("option<{}>", t(ty)),
        TypeDefKind::List(ty) => format!("list<{}>", t(ty)),
        TypeDefKind::FixedLengthList(ty, n) => format!("list<{}, {n}>", t(ty)),
        TypeDefKind::Map(k, v) => format!("map<{}, {}>", t(k), t(v)),
        TypeDefKind::Tuple(tuple) => {
            let parts: Vec<String> = tuple.types.iter().map(t).collect();
            format!("tuple<{}>", parts.join(", "))
        }
        TypeDefKind::Result(r) => match (&r.ok, &r.err) {
            (None, None) => "result".into(),
            (Some(ok), None) => format!("result<{}>", t(ok)),
            (ok, Some(err)) => format!("result<{}, {}>", opt(ok), t(err)),
        },
        TypeDefKind::Handle(Handle::Own(r)) => format!("own<{}>", id_str(resolve, *r)),
        TypeDefKind::Handle(Handle::Borrow(r)) => format!("borrow<{}>", id_str(resolve, *r)),
        TypeDefKind::Future(ty) => match ty {
            Some(ty) => format!("future<{}>", t(ty)),
            None => "future".into(),
        },
        TypeDefKind::Stream(ty) => match ty {
            Some(ty) => format!("stream<{}>", t(ty)),
            None => "stream".into(),
        },
        TypeDefKind::Type(ty) => t(ty),
        // Anonymous records, variants and the like do not occur in valid WIT.
        other => format!("<anonymous {}>", other.as_str()),
    }
}

/// A function's signature: `func(a: f64, b: f64) -> result<f64, string>`.
pub fn func_sig(resolve: &Resolve, func: &Function) -> String {
    let params: Vec<String> = func
        .params
        .iter()
        .filter(|p| {
            !matches!(
                func.kind,
                FunctionKind::Method(_) | FunctionKind::AsyncMethod(_)
            ) || p.name != "self"
        })
        .map(|p| format!("{}: {}", p.name, type_str(resolve, &p.ty)))
        .collect();
    let asyncness = match func.kind {
        FunctionKind::AsyncFreestanding
        | FunctionKind::AsyncMethod(_)
        | FunctionKind::AsyncStatic(_) => "async ",
        _ => "",
    };
    let result = func
        .result
        .as_ref()
        .map(|r| format!(" -> {}", type_str(resolve, r)))
        .unwrap_or_default();
    format!("{asyncness}func({}){result}", params.join(", "))
}

/// A named type's definition, on one line: `record stats { count: u32, sum: f64 }`.
pub fn typedef_str(resolve: &Resolve, id: TypeId) -> String {
    let def = &resolve.types[id];
    let name = def.name.clone().unwrap_or_default();
    let t = |ty: &Type| type_str(resolve, ty);
    match &def.kind {
        TypeDefKind::Record(r) => {
            let fields: Vec<String> = r
                .fields
                .iter()
                .map(|f| format!("{}: {}", f.name, t(&f.ty)))
                .collect();
            format!("record {name} {{ {} }}", fields.join(", "))
        }
        TypeDefKind::Variant(v) => {
            let cases: Vec<String> = v
                .cases
                .iter()
                .map(|c| match &c.ty {
                    Some(ty) => format!("{}({})", c.name, t(ty)),
                    None => c.name.clone(),
                })
                .collect();
            format!("variant {name} {{ {} }}", cases.join(", "))
        }
        TypeDefKind::Enum(e) => {
            let cases: Vec<&str> = e.cases.iter().map(|c| c.name.as_str()).collect();
            format!("enum {name} {{ {} }}", cases.join(", "))
        }
        TypeDefKind::Flags(f) => {
            let flags: Vec<&str> = f.flags.iter().map(|c| c.name.as_str()).collect();
            format!("flags {name} {{ {} }}", flags.join(", "))
        }
        TypeDefKind::Resource => format!("resource {name}"),
        TypeDefKind::Type(ty) => format!("type {name} = {}", t(ty)),
        other => format!("type {name} = {}", kind_str(resolve, other)),
    }
}
