//! `--invoke`: a WAVE call like `words.shout("hi")` resolved against a component's exports,
//! its arguments typed by the export's signature, its result printed as WAVE.

use std::time::Instant;

use wasmtime::Store;
use wasmtime::component::types::ComponentItem;
use wasmtime::component::wasm_wave;
use wasmtime::component::{Component, ComponentExportIndex, Val};

pub use crate::call::Call;

use super::host::Host;
use super::{Action, App, RunError, Status};

/// Where a call lands: the export's index and its qualified name.
struct Target {
    index: ComponentExportIndex,
    /// The interface export it is in, if any.
    interface: Option<String>,
    function: String,
}

impl Target {
    /// `weld:example/words@0.1.0.shout`.
    fn qualified(&self) -> String {
        qualified(&(self.interface.clone(), self.function.clone()))
    }
}

/// Every exported function of `component` as (interface export name or `None`, function name).
pub(super) fn exported_functions(
    component: &Component,
    engine: &wasmtime::Engine,
) -> Vec<(Option<String>, String)> {
    let ty = component.component_type();
    let mut out = Vec::new();
    for (name, item) in ty.exports(engine) {
        match item.ty {
            ComponentItem::ComponentFunc(_) => out.push((None, name.to_string())),
            // componentize-py's own pre-initialisation hook (`exports.init`), not the user's.
            ComponentItem::ComponentInstance(ref instance)
                if name == "exports" && instance.exports(engine).any(|(f, _)| f == "init") => {}
            ComponentItem::ComponentInstance(instance) => {
                for (func, item) in instance.exports(engine) {
                    // Resource methods (`[method]res.get`) need a resource to call them on,
                    // which a WAVE call cannot make.
                    if func.starts_with('[') {
                        continue;
                    }
                    if let ComponentItem::ComponentFunc(_) = item.ty {
                        out.push((Some(name.to_string()), func.to_string()));
                    }
                }
            }
            _ => {}
        }
    }
    out
}

/// What an app is loaded for: a component that cannot be used so is refused from its WIT, before
/// its code is compiled (which may take seconds).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Entry<'a> {
    /// Running it as a command: it must export `wasi:cli/run`.
    Command,
    /// Serving it: it must export `wasi:http/incoming-handler` (0.2) or `wasi:http/handler`
    /// (0.3).
    Http,
    /// Calling any of its exports (tests): judged when a call is resolved.
    Any,
    /// Calling this export (`--invoke`): one that takes or returns a stream or future, which
    /// no call from the command line can write or print, is refused now.
    Call(&'a Call),
}

impl Action {
    /// What running this action needs of the component.
    pub fn entry(&self) -> Entry<'_> {
        match self {
            Action::Run { .. } => Entry::Command,
            Action::Invoke(call) => Entry::Call(call),
        }
    }
}

impl Entry<'_> {
    /// The error the link would give later, found now from the component's own WIT.
    pub(super) fn refuse(
        self,
        name: &str,
        path: &std::path::Path,
        resolve: &wit_parser::Resolve,
        world: wit_parser::WorldId,
    ) -> Result<(), RunError> {
        let exports = &resolve.worlds[world].exports;
        let exports_interface = |wanted: &str| {
            exports.keys().any(|key| {
                matches!(key, wit_parser::WorldKey::Interface(id)
                    if resolve.id_of(*id).is_some_and(|i| interface_names(&i).0 == wanted))
            })
        };
        let command = exports_interface("wasi:cli/run");
        let http = exports_interface("wasi:http/incoming-handler")
            || exports_interface("wasi:http/handler");
        match self {
            Entry::Command if !command && http => Err(RunError::HttpApp {
                name: name.to_string(),
                path: Some(path.display().to_string()),
            }),
            Entry::Command if !command => Err(RunError::NotACommand {
                name: name.to_string(),
                available: wit_functions(resolve, world).iter().map(short).collect(),
            }),
            Entry::Http if !http => Err(RunError::NotHttp {
                name: name.to_string(),
            }),
            Entry::Call(call) => refuse_async_values(name, resolve, world, call),
            _ => Ok(()),
        }
    }
}

/// The `AsyncValue` refusal of [`target_and_arguments`], made from the WIT before compiling:
/// when the one export `call` names takes or returns a stream, a future or an error-context.
/// Anything else (no such export, several) is left to the call's resolution after loading.
fn refuse_async_values(
    name: &str,
    resolve: &wit_parser::Resolve,
    world: wit_parser::WorldId,
    call: &Call,
) -> Result<(), RunError> {
    let mut candidates = Vec::new();
    for (key, item) in &resolve.worlds[world].exports {
        match item {
            wit_parser::WorldItem::Function(f) if f.name == call.function => {
                candidates.push((true, f))
            }
            wit_parser::WorldItem::Interface { id, .. }
                if call
                    .interface
                    .as_deref()
                    .is_none_or(|i| interface_matches(i, &resolve.name_world_key(key))) =>
            {
                candidates.extend(
                    resolve.interfaces[*id]
                        .functions
                        .get(&call.function)
                        .map(|f| (false, f)),
                );
            }
            _ => {}
        }
    }
    // As the call resolves: a top-level function wins over interface functions.
    let f = match candidates.as_slice() {
        [(_, f)] => *f,
        many => match many.iter().find(|(top, _)| *top) {
            Some((_, f)) if call.interface.is_none() => *f,
            _ => return Ok(()),
        },
    };
    let refuse = |what: String, verb| RunError::AsyncValue {
        name: name.to_string(),
        call: call.target().to_string(),
        what,
        verb,
    };
    if let Some(kind) = f
        .params
        .iter()
        .find_map(|p| wit_async_value(resolve, &p.ty))
    {
        return Err(refuse(format!("takes a {kind}"), "write"));
    }
    if let Some(kind) = f.result.as_ref().and_then(|t| wit_async_value(resolve, t)) {
        return Err(refuse(format!("returns a {kind}"), "print"));
    }
    Ok(())
}

/// [`async_value`] for a WIT type.
fn wit_async_value(resolve: &wit_parser::Resolve, ty: &wit_parser::Type) -> Option<&'static str> {
    use wit_parser::{Type, TypeDefKind};
    let id = match ty {
        Type::ErrorContext => return Some("error-context"),
        Type::Id(id) => *id,
        _ => return None,
    };
    let inner = |t: &Type| wit_async_value(resolve, t);
    match &resolve.types[id].kind {
        TypeDefKind::Stream(_) => Some("stream"),
        TypeDefKind::Future(_) => Some("future"),
        TypeDefKind::List(t) | TypeDefKind::Option(t) | TypeDefKind::Type(t) => inner(t),
        TypeDefKind::FixedLengthList(t, _) => inner(t),
        TypeDefKind::Map(k, v) => inner(k).or_else(|| inner(v)),
        TypeDefKind::Tuple(t) => t.types.iter().find_map(inner),
        TypeDefKind::Record(r) => r.fields.iter().find_map(|f| inner(&f.ty)),
        TypeDefKind::Variant(v) => v.cases.iter().find_map(|c| c.ty.as_ref().and_then(inner)),
        TypeDefKind::Result(r) => {
            r.ok.as_ref()
                .and_then(inner)
                .or_else(|| r.err.as_ref().and_then(inner))
        }
        _ => None,
    }
}

/// [`exported_functions`] read from a component's WIT instead of its compiled types.
fn wit_functions(
    resolve: &wit_parser::Resolve,
    world: wit_parser::WorldId,
) -> Vec<(Option<String>, String)> {
    let mut out = Vec::new();
    for (key, item) in &resolve.worlds[world].exports {
        match item {
            wit_parser::WorldItem::Function(f) => out.push((None, f.name.clone())),
            wit_parser::WorldItem::Interface { id, .. } => {
                let name = resolve.name_world_key(key);
                let functions = &resolve.interfaces[*id].functions;
                // componentize-py's own pre-initialisation hook, as in `exported_functions`.
                if name == "exports" && functions.contains_key("init") {
                    continue;
                }
                for func in functions.keys().filter(|f| !f.starts_with('[')) {
                    out.push((Some(name.clone()), func.clone()));
                }
            }
            wit_parser::WorldItem::Type { .. } => {}
        }
    }
    out
}

/// Whether an interface as written (`words`, `weld:example/words`, `weld:example/words@0.1.0`)
/// names the export `export`.
fn interface_matches(written: &str, export: &str) -> bool {
    let (unversioned, short) = interface_names(export);
    written == export || written == unversioned || written == short
}

/// The shorter names an interface export goes by: `weld:example/words` and `words` for
/// `weld:example/words@0.1.0`.
fn interface_names(export: &str) -> (&str, &str) {
    let unversioned = export.split('@').next().unwrap_or(export);
    (
        unversioned,
        unversioned.rsplit('/').next().unwrap_or(unversioned),
    )
}

fn resolve(
    component: &Component,
    name: &str,
    engine: &wasmtime::Engine,
    call: &Call,
) -> Result<Target, RunError> {
    let functions = exported_functions(component, engine);
    let candidates: Vec<&(Option<String>, String)> = functions
        .iter()
        .filter(|(iface, func)| {
            *func == call.function
                && match (&call.interface, iface) {
                    (Some(written), Some(export)) => interface_matches(written, export),
                    (Some(_), None) => false,
                    // A bare name: a top-level function, or the only one of that name.
                    (None, _) => true,
                }
        })
        .collect();
    // A top-level function wins over interface functions of the same bare name.
    let chosen = match candidates.as_slice() {
        [] => None,
        [one] => Some(*one),
        many => match many.iter().find(|(iface, _)| iface.is_none()) {
            Some(top) => Some(*top),
            None => {
                return Err(RunError::AmbiguousExport {
                    name: name.to_string(),
                    call: call.target(),
                    candidates: many.iter().map(|c| qualified(c)).collect(),
                });
            }
        },
    };
    let Some((iface, func)) = chosen else {
        let available: Vec<String> = functions.iter().map(short).collect();
        let written = call.target();
        // Against the short names (`arith.divide`) and the bare function names alike.
        let suggestion = crate::suggest::closest(&written, available.iter().map(String::as_str))
            .or_else(|| {
                crate::suggest::closest(&call.function, functions.iter().map(|(_, f)| f.as_str()))
                    .and_then(|f| {
                        available
                            .iter()
                            .find(|a| a.ends_with(&format!(".{f}")) || *a == f)
                    })
                    .map(String::as_str)
            })
            .map(str::to_string);
        return Err(RunError::NoSuchExport {
            name: name.to_string(),
            call: written,
            available,
            suggestion,
        });
    };
    let parent = match iface {
        Some(i) => Some(
            component
                .get_export_index(None, i.as_str())
                .ok_or_else(|| RunError::internal(format!("export `{i}` has no index")))?,
        ),
        None => None,
    };
    let index = component
        .get_export_index(parent.as_ref(), func.as_str())
        .ok_or_else(|| RunError::internal(format!("export `{func}` has no index")))?;
    Ok(Target {
        index,
        interface: iface.clone(),
        function: func.clone(),
    })
}

fn qualified((iface, func): &(Option<String>, String)) -> String {
    match iface {
        Some(i) => format!("{i}.{func}"),
        None => func.clone(),
    }
}

/// How a user would most briefly write an export: `types.translate` for
/// `weld:guests/types@0.1.0.translate`.
fn short((iface, func): &(Option<String>, String)) -> String {
    match iface {
        Some(i) => format!("{}.{func}", interface_names(i).1),
        None => func.clone(),
    }
}

/// Whether two WAVE texts are the same value of the result type of `call`'s function:
/// `6` and `6.0` are the same `f64`, `{x: 1, y: 2}` and `{y: 2, x: 1}` the same record.
pub(super) fn same_result(
    app: &App,
    engine: &wasmtime::Engine,
    call: &Call,
    a: &str,
    b: &str,
) -> Result<bool, String> {
    let component = app.pre.component();
    let target = resolve(component, &app.name, engine, call).map_err(|e| e.to_string())?;
    let func_ty = func_type(component, engine, &target)
        .ok_or_else(|| format!("`{}` is not a function", target.qualified()))?;
    let Some(result) = func_ty.results().next() else {
        return Ok(a.trim() == b.trim());
    };
    let parse = |text: &str| {
        wasm_wave::from_str::<Val>(&result, text).map_err(|e| {
            let message = e.to_string();
            let message = message
                .rsplit_once(" at ")
                .map_or(message.as_str(), |(m, _)| m);
            format!("`{text}` is not a value of the function's result type: {message}")
        })
    };
    Ok(parse(a)? == parse(b)?)
}

/// The type of the function `target` names.
fn func_type(
    component: &Component,
    engine: &wasmtime::Engine,
    target: &Target,
) -> Option<wasmtime::component::types::ComponentFunc> {
    let ty = component.component_type();
    let func = &target.function;
    let item = match &target.interface {
        Some(i) => match ty.get_export(engine, i).map(|e| e.ty) {
            Some(ComponentItem::ComponentInstance(inst)) => {
                inst.get_export(engine, func).map(|e| e.ty)
            }
            _ => None,
        },
        None => ty.get_export(engine, func).map(|e| e.ty),
    };
    match item {
        Some(ComponentItem::ComponentFunc(f)) => Some(f),
        _ => None,
    }
}

/// The export `call` names in `component` (called `name` in messages) and its arguments typed
/// by that export's signature: a missing export or a wrong argument is a usage error found
/// before anything is instantiated. `bytes` are the component's, for the signature in the help.
pub fn typed_arguments(
    component: &Component,
    name: &str,
    bytes: &[u8],
    engine: &wasmtime::Engine,
    call: &Call,
) -> Result<Vec<Val>, RunError> {
    Ok(target_and_arguments(component, name, bytes, engine, call)?.1)
}

fn target_and_arguments(
    component: &Component,
    name: &str,
    bytes: &[u8],
    engine: &wasmtime::Engine,
    call: &Call,
) -> Result<(Target, Vec<Val>), RunError> {
    let target = resolve(component, name, engine, call)?;
    let func_ty = func_type(component, engine, &target)
        .ok_or_else(|| RunError::internal(format!("`{}` is not a function", target.qualified())))?;
    let param_types: Vec<_> = func_ty.params().map(|(_, t)| t).collect();
    let param_names: Vec<String> = func_ty.params().map(|(n, _)| n.to_string()).collect();
    let refuse = |what: String, verb| RunError::AsyncValue {
        name: name.to_string(),
        call: call.target().to_string(),
        what,
        verb,
    };
    if let Some(kind) = param_types.iter().find_map(async_value) {
        return Err(refuse(format!("takes a {kind}"), "write"));
    }
    if let Some(kind) = func_ty.results().find_map(|t| async_value(&t)) {
        return Err(refuse(format!("returns a {kind}"), "print"));
    }
    let untyped = call.untyped()?;
    let params = untyped
        .to_wasm_params::<Val>(param_types.iter())
        .map_err(|e| {
            let (span, message) = call.place(&e);
            // Name the argument the error is in: "invalid value type" alone does not say which.
            let at = e.span().start;
            let index = untyped
                .params_node()
                .and_then(|p| p.as_tuple().ok())
                .and_then(|mut args| args.position(|a| a.span().contains(&at)));
            let message = match index.and_then(|i| Some((i, param_names.get(i)?))) {
                Some((i, name)) => format!("argument {} (`{name}`): {message}", i + 1),
                None => message,
            };
            RunError::invoke_arguments(
                call.target(),
                &call.text,
                span,
                message,
                signature(bytes, &target),
            )
        })?;
    Ok((target, params))
}

/// The stream or future inside a value of type `ty`, if any: `stream`, `future`.
fn async_value(ty: &wasmtime::component::types::Type) -> Option<&'static str> {
    use wasmtime::component::types::Type;
    match ty {
        Type::Stream(_) => Some("stream"),
        Type::Future(_) => Some("future"),
        Type::ErrorContext => Some("error-context"),
        Type::List(l) => async_value(&l.ty()),
        Type::FixedLengthList(l) => async_value(&l.ty()),
        Type::Map(m) => async_value(&m.key()).or_else(|| async_value(&m.value())),
        Type::Record(r) => r.fields().find_map(|f| async_value(&f.ty)),
        Type::Tuple(t) => t.types().find_map(|t| async_value(&t)),
        Type::Variant(v) => v.cases().find_map(|c| c.ty.as_ref().and_then(async_value)),
        Type::Option(o) => async_value(&o.ty()),
        Type::Result(r) => r
            .ok()
            .as_ref()
            .and_then(async_value)
            .or_else(|| r.err().as_ref().and_then(async_value)),
        _ => None,
    }
}

/// Why a run stopped early: a usage error found only now, or what the guest did.
pub(super) enum Failure {
    Usage(RunError),
    Error(wasmtime::Error),
}

/// The `wasi:cli/run` a command exports: 0.3's (an async function) or 0.2's.
enum Command {
    P2(wasmtime_wasi::p2::bindings::CommandPre<Host>),
    P3(wasmtime_wasi::p3::bindings::CommandPre<Host>),
}

impl Command {
    fn of(app: &App) -> Result<Command, ()> {
        if let Ok(pre) = wasmtime_wasi::p3::bindings::CommandPre::new(app.pre.clone()) {
            return Ok(Command::P3(pre));
        }
        wasmtime_wasi::p2::bindings::CommandPre::new(app.pre.clone())
            .map(Command::P2)
            .map_err(drop)
    }
}

/// Instantiates `app` in `store` and does `action`.
pub(super) async fn execute(
    app: &App,
    store: &mut Store<Host>,
    action: &Action,
) -> Result<Status, Failure> {
    match action {
        Action::Run { .. } => {
            let command = Command::of(app).map_err(|()| {
                if app.is_http() {
                    return Failure::Usage(RunError::HttpApp {
                        name: app.name.clone(),
                        path: Some(app.path.display().to_string()),
                    });
                }
                Failure::Usage(RunError::NotACommand {
                    name: app.name.clone(),
                    available: exported_functions(app.pre.component(), store.engine())
                        .iter()
                        .map(short)
                        .collect(),
                })
            })?;
            let start = Instant::now();
            app.instantiate_providers(store)
                .await
                .map_err(Failure::Error)?;
            let ran = match command {
                Command::P2(pre) => {
                    let command = pre
                        .instantiate_async(&mut *store)
                        .await
                        .map_err(Failure::Error)?;
                    store.data_mut().instantiated = Some(start.elapsed());
                    command.wasi_cli_run().call_run(&mut *store).await
                }
                Command::P3(pre) => {
                    let command = pre
                        .instantiate_async(&mut *store)
                        .await
                        .map_err(Failure::Error)?;
                    store.data_mut().instantiated = Some(start.elapsed());
                    // An async export runs inside the store's event loop, which also drives
                    // the streams and futures it uses.
                    store
                        .run_concurrent(async |store| command.wasi_cli_run().call_run(store).await)
                        .await
                        .and_then(|r| r)
                }
            };
            match ran {
                Ok(Ok(())) => Ok(Status::Exited(0)),
                // `run` returning `err` is how a command says "failed" without a code.
                Ok(Err(())) => Ok(Status::Exited(1)),
                Err(e) => Err(Failure::Error(e)),
            }
        }
        Action::Invoke(call) => {
            let engine = store.engine().clone();
            let (target, params) =
                target_and_arguments(app.pre.component(), &app.name, app.bytes(), &engine, call)
                    .map_err(Failure::Usage)?;
            let instance = instantiate(app, store).await?;
            let results = call_export(store, &instance, &target, &params).await?;
            Ok(match results.first() {
                None => Status::Returned(None),
                Some(value) => {
                    let text = wasm_wave::to_string(value).map_err(|e| {
                        Failure::Usage(RunError::internal(format!(
                            "cannot print the result as WAVE: {e}"
                        )))
                    })?;
                    match value {
                        Val::Result(Err(_)) => Status::ReturnedErr(text),
                        _ => Status::Returned(Some(text)),
                    }
                }
            })
        }
    }
}

/// Instantiates `app` in `store` and calls the export `call` names with `params` (already
/// values: the call's own arguments are not read), returning its results.
pub(super) async fn call_values(
    app: &App,
    store: &mut Store<Host>,
    call: &Call,
    params: &[Val],
) -> Result<Vec<Val>, Failure> {
    let engine = store.engine().clone();
    let target = resolve(app.pre.component(), &app.name, &engine, call).map_err(Failure::Usage)?;
    let instance = instantiate(app, store).await?;
    call_export(store, &instance, &target, params).await
}

/// Instantiates `app` (its providing parts first, for an app run as its parts) in `store`,
/// recording how long that took.
async fn instantiate(
    app: &App,
    store: &mut Store<Host>,
) -> Result<wasmtime::component::Instance, Failure> {
    let start = Instant::now();
    app.instantiate_providers(store)
        .await
        .map_err(Failure::Error)?;
    let instance = app
        .pre
        .instantiate_async(&mut *store)
        .await
        .map_err(Failure::Error)?;
    store.data_mut().instantiated = Some(start.elapsed());
    Ok(instance)
}

/// Calls `target` of `instance` with `params`, concurrently as an async export needs (a sync
/// one runs the same way).
async fn call_export(
    store: &mut Store<Host>,
    instance: &wasmtime::component::Instance,
    target: &Target,
    params: &[Val],
) -> Result<Vec<Val>, Failure> {
    let func = instance
        .get_func(&mut *store, target.index)
        .ok_or_else(|| {
            Failure::Usage(RunError::internal(format!(
                "`{}` is not a function",
                target.qualified()
            )))
        })?;
    let ty = func.ty(&*store);
    if ty.params().len() != params.len() {
        return Err(Failure::Usage(RunError::internal(format!(
            "`{}` takes {} arguments, {} given",
            target.qualified(),
            ty.params().len(),
            params.len()
        ))));
    }
    let mut results = vec![Val::Bool(false); ty.results().len()];
    store
        .run_concurrent(async |store| func.call_concurrent(store, params, &mut results).await)
        .await
        .and_then(|r| r)
        .map_err(Failure::Error)?;
    Ok(results)
}

/// The WIT signature of an export, `shout: func(text: string) -> string`, from the component's
/// own types; `None` if they cannot be read.
fn signature(bytes: &[u8], target: &Target) -> Option<String> {
    let (resolve, world) = crate::check::load::decode(bytes).ok()?;
    let (iface, func) = (target.interface.as_deref(), target.function.as_str());
    let world = &resolve.worlds[world];
    for (key, item) in &world.exports {
        match item {
            wit_parser::WorldItem::Function(f) if iface.is_none() && f.name == func => {
                return Some(format!(
                    "{}: {}",
                    f.name,
                    crate::check::wit_text::func_sig(&resolve, f)
                ));
            }
            wit_parser::WorldItem::Interface { id, .. }
                if iface.is_some_and(|i| resolve.name_world_key(key) == i) =>
            {
                let id: wit_parser::InterfaceId = *id;
                let f = resolve.interfaces[id].functions.get(func)?;
                return Some(format!(
                    "{}: {}",
                    f.name,
                    crate::check::wit_text::func_sig(&resolve, f)
                ));
            }
            _ => {}
        }
    }
    None
}
