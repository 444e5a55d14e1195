//! Keeps a Go module's `cabi_realloc` from calling out of the component.
//!
//! The canonical ABI forbids a guest to call an import while the host is inside its
//! `cabi_realloc` (wasmtime traps: "cannot leave component instance"). Go's allocator can run
//! a garbage collection there, and the collector reads the wall and monotonic clocks and polls
//! timers: each is a `wasi_snapshot_preview1` import, answered by the adapter through WASI
//! imports. The adapter of wasmtime 48 pauses only the monotonic clock (wasmtime#14318), so a
//! Go library traps after a few thousand calls that pass large strings.
//!
//! weld rewrites the core module before the adapter is attached:
//! - `cabi_realloc` is exported through a wrapper that raises a flag while it runs;
//! - every call to `clock_time_get` goes through a shim: outside the flag it calls the import
//!   and remembers the answer, inside it answers with the last time read (the clock stands still
//!   during one allocation, as the adapter's own pause does);
//! - every call to `poll_oneoff` goes through a shim that, inside the flag, reports that no
//!   event is ready (the scheduler only asks whether a timer fired).
//!
//! Garbage collection keeps running with the default GOGC; only its clock readings inside the
//! allocation are frozen.

use wasm_encoder::reencode::{self, Reencode};
use wasm_encoder::{
    BlockType, CodeSection, ConstExpr, ExportSection, Function, FunctionSection, GlobalSection,
    GlobalType, Instruction, MemArg, Module, ValType,
};
use wasmparser::{ExternalKind, Parser, Payload, TypeRef};

const PREVIEW1: &str = "wasi_snapshot_preview1";

/// What the first pass learned about the module.
#[derive(Debug, Default)]
struct Layout {
    imported_funcs: u32,
    defined_funcs: u32,
    globals: u32,
    /// (function index, type index) of the two imports.
    clock: Option<(u32, u32)>,
    poll: Option<(u32, u32)>,
    /// The exported `cabi_realloc`: function index, and its parameter count.
    realloc: Option<u32>,
    func_types: Vec<u32>,
    type_params: Vec<(usize, usize)>,
    has_memory: bool,
    has_global_section: bool,
}

/// Rewrites `module` as described above. A module without `cabi_realloc` or without the two
/// imports is returned unchanged (a command built without a world has neither concern).
pub(crate) fn guard(module: &[u8]) -> anyhow::Result<Vec<u8>> {
    let layout = scan(module)?;
    let Some(realloc) = layout.realloc else {
        return Ok(module.to_vec());
    };
    if (layout.clock.is_none() && layout.poll.is_none())
        || !layout.has_memory
        || !layout.has_global_section
    {
        return Ok(module.to_vec());
    }
    let realloc_type = layout.type_of(realloc)?;
    let Some(&(params, results)) = layout.type_params.get(realloc_type as usize) else {
        anyhow::bail!("cabi_realloc's type {realloc_type} is not in the type section");
    };
    if results != 1 || params != 4 {
        anyhow::bail!(
            "cabi_realloc has an unexpected signature ({params} parameters, {results} results)"
        );
    }
    let first_new = layout.imported_funcs + layout.defined_funcs;
    let mut next = first_new;
    let mut take = || {
        next += 1;
        next - 1
    };
    let clock_shim = layout.clock.map(|_| take());
    let poll_shim = layout.poll.map(|_| take());
    let wrapper = take();
    let mut guard = Guard {
        flag: layout.globals,
        wall: layout.globals + 1,
        mono: layout.globals + 2,
        clock: layout.clock,
        poll: layout.poll,
        clock_shim,
        poll_shim,
        realloc,
        realloc_type,
        wrapper,
    };
    let mut out = Module::new();
    guard
        .parse_core_module(&mut out, Parser::new(0), module)
        .map_err(|e| anyhow::anyhow!("cannot rewrite the Go module: {e}"))?;
    Ok(out.finish())
}

impl Layout {
    fn type_of(&self, func: u32) -> anyhow::Result<u32> {
        func.checked_sub(self.imported_funcs)
            .and_then(|i| self.func_types.get(i as usize).copied())
            .ok_or_else(|| anyhow::anyhow!("cabi_realloc is not a function defined by the module"))
    }
}

fn scan(module: &[u8]) -> anyhow::Result<Layout> {
    let mut layout = Layout::default();
    for payload in Parser::new(0).parse_all(module) {
        match payload? {
            Payload::TypeSection(types) => {
                for group in types {
                    for sub in group?.into_types() {
                        let counts = match &sub.composite_type.inner {
                            wasmparser::CompositeInnerType::Func(f) => {
                                (f.params().len(), f.results().len())
                            }
                            _ => (usize::MAX, usize::MAX),
                        };
                        layout.type_params.push(counts);
                    }
                }
            }
            Payload::ImportSection(imports) => {
                for import in imports.into_imports() {
                    let import = import?;
                    match import.ty {
                        TypeRef::Func(ty) | TypeRef::FuncExact(ty) => {
                            let index = layout.imported_funcs;
                            layout.imported_funcs += 1;
                            if import.module == PREVIEW1 {
                                match import.name {
                                    "clock_time_get" => layout.clock = Some((index, ty)),
                                    "poll_oneoff" => layout.poll = Some((index, ty)),
                                    _ => {}
                                }
                            }
                        }
                        TypeRef::Global(_) => layout.globals += 1,
                        TypeRef::Memory(_) => layout.has_memory = true,
                        _ => {}
                    }
                }
            }
            Payload::FunctionSection(funcs) => {
                for ty in funcs {
                    layout.func_types.push(ty?);
                }
                layout.defined_funcs = layout.func_types.len() as u32;
            }
            Payload::GlobalSection(globals) => {
                layout.globals += globals.count();
                layout.has_global_section = true;
            }
            Payload::MemorySection(memories) => layout.has_memory |= memories.count() > 0,
            Payload::ExportSection(exports) => {
                for export in exports {
                    let export = export?;
                    if export.name == "cabi_realloc" && export.kind == ExternalKind::Func {
                        layout.realloc = Some(export.index);
                    }
                }
            }
            _ => {}
        }
    }
    // A shim is only put in front of an import with the signature preview1 gives it.
    let shaped = |import: Option<(u32, u32)>, params| {
        import.filter(|&(_, ty)| layout.type_params.get(ty as usize) == Some(&(params, 1)))
    };
    layout.clock = shaped(layout.clock, 3);
    layout.poll = shaped(layout.poll, 4);
    Ok(layout)
}

struct Guard {
    /// Globals appended: the "inside cabi_realloc" flag and the last wall and monotonic times.
    flag: u32,
    wall: u32,
    mono: u32,
    clock: Option<(u32, u32)>,
    poll: Option<(u32, u32)>,
    clock_shim: Option<u32>,
    poll_shim: Option<u32>,
    realloc: u32,
    realloc_type: u32,
    wrapper: u32,
}

impl Reencode for Guard {
    type Error = std::convert::Infallible;

    fn function_index(&mut self, func: u32) -> Result<u32, reencode::Error> {
        Ok(match (self.clock, self.poll) {
            (Some((clock, _)), _) if func == clock => self.clock_shim.unwrap_or(func),
            (_, Some((poll, _))) if func == poll => self.poll_shim.unwrap_or(func),
            _ => func,
        })
    }

    // Names stay with the functions they named (the shims are nameless).
    fn parse_custom_section(
        &mut self,
        module: &mut Module,
        section: wasmparser::CustomSectionReader<'_>,
    ) -> Result<(), reencode::Error> {
        module.section(&wasm_encoder::CustomSection {
            name: section.name().into(),
            data: section.data().into(),
        });
        Ok(())
    }

    fn parse_function_section(
        &mut self,
        functions: &mut FunctionSection,
        section: wasmparser::FunctionSectionReader<'_>,
    ) -> Result<(), reencode::Error> {
        reencode::utils::parse_function_section(self, functions, section)?;
        if let Some((_, ty)) = self.clock {
            functions.function(ty);
        }
        if let Some((_, ty)) = self.poll {
            functions.function(ty);
        }
        functions.function(self.realloc_type);
        Ok(())
    }

    fn parse_global_section(
        &mut self,
        globals: &mut GlobalSection,
        section: wasmparser::GlobalSectionReader<'_>,
    ) -> Result<(), reencode::Error> {
        reencode::utils::parse_global_section(self, globals, section)?;
        let mutable = |val_type| GlobalType {
            val_type,
            mutable: true,
            shared: false,
        };
        globals.global(mutable(ValType::I32), &ConstExpr::i32_const(0));
        globals.global(mutable(ValType::I64), &ConstExpr::i64_const(0));
        globals.global(mutable(ValType::I64), &ConstExpr::i64_const(0));
        Ok(())
    }

    fn parse_export(
        &mut self,
        exports: &mut ExportSection,
        export: wasmparser::Export<'_>,
    ) -> Result<(), reencode::Error> {
        if export.name == "cabi_realloc" && export.kind == ExternalKind::Func {
            exports.export(export.name, wasm_encoder::ExportKind::Func, self.wrapper);
            return Ok(());
        }
        reencode::utils::parse_export(self, exports, export)
    }

    fn parse_code_section(
        &mut self,
        code: &mut CodeSection,
        section: wasmparser::CodeSectionReader<'_>,
    ) -> Result<(), reencode::Error> {
        reencode::utils::parse_code_section(self, code, section)?;
        if let Some((clock, _)) = self.clock {
            code.function(&self.clock_shim_body(clock));
        }
        if let Some((poll, _)) = self.poll {
            code.function(&self.poll_shim_body(poll));
        }
        code.function(&self.wrapper_body());
        Ok(())
    }
}

impl Guard {
    /// `clock_time_get(id: i32, precision: i64, out: i32) -> errno`.
    fn clock_shim_body(&self, clock: u32) -> Function {
        let mut f = Function::new([(1, ValType::I32)]);
        let (id, precision, out, errno) = (0, 1, 2, 3);
        let store = MemArg {
            offset: 0,
            align: 0,
            target: wasm_encoder::MemArgTarget::Memory(0),
            ordering: None,
        };
        // Inside the flag: the wall clock (id 0) answers with the last wall time, every other
        // clock with the last monotonic time, which never runs backwards.
        f.instruction(&Instruction::GlobalGet(self.flag))
            .instruction(&Instruction::If(BlockType::Result(ValType::I32)))
            .instruction(&Instruction::LocalGet(out))
            .instruction(&Instruction::LocalGet(id))
            .instruction(&Instruction::I32Eqz)
            .instruction(&Instruction::If(BlockType::Result(ValType::I64)))
            .instruction(&Instruction::GlobalGet(self.wall))
            .instruction(&Instruction::Else)
            .instruction(&Instruction::GlobalGet(self.mono))
            .instruction(&Instruction::End)
            .instruction(&Instruction::I64Store(store))
            .instruction(&Instruction::I32Const(0))
            .instruction(&Instruction::Else)
            // Outside it: the import, whose answer is remembered when it is the wall (0) or
            // the monotonic (1) clock's.
            .instruction(&Instruction::LocalGet(id))
            .instruction(&Instruction::LocalGet(precision))
            .instruction(&Instruction::LocalGet(out))
            .instruction(&Instruction::Call(clock))
            .instruction(&Instruction::LocalTee(errno))
            .instruction(&Instruction::I32Eqz)
            .instruction(&Instruction::If(BlockType::Empty));
        for (clock_id, slot) in [(0, self.wall), (1, self.mono)] {
            f.instruction(&Instruction::LocalGet(id))
                .instruction(&Instruction::I32Const(clock_id))
                .instruction(&Instruction::I32Eq)
                .instruction(&Instruction::If(BlockType::Empty))
                .instruction(&Instruction::LocalGet(out))
                .instruction(&Instruction::I64Load(store))
                .instruction(&Instruction::GlobalSet(slot))
                .instruction(&Instruction::End);
        }
        f.instruction(&Instruction::End)
            .instruction(&Instruction::LocalGet(errno))
            .instruction(&Instruction::End)
            .instruction(&Instruction::End);
        f
    }

    /// `poll_oneoff(in: i32, out: i32, subscriptions: i32, events: i32) -> errno`.
    fn poll_shim_body(&self, poll: u32) -> Function {
        let mut f = Function::new([]);
        let events = 3;
        f.instruction(&Instruction::GlobalGet(self.flag))
            .instruction(&Instruction::If(BlockType::Result(ValType::I32)))
            .instruction(&Instruction::LocalGet(events))
            .instruction(&Instruction::I32Const(0))
            .instruction(&Instruction::I32Store(MemArg {
                offset: 0,
                align: 0,
                target: wasm_encoder::MemArgTarget::Memory(0),
                ordering: None,
            }))
            .instruction(&Instruction::I32Const(0))
            .instruction(&Instruction::Else);
        for param in 0..4 {
            f.instruction(&Instruction::LocalGet(param));
        }
        f.instruction(&Instruction::Call(poll))
            .instruction(&Instruction::End)
            .instruction(&Instruction::End);
        f
    }

    /// `cabi_realloc(old: i32, old_size: i32, align: i32, new_size: i32) -> i32`, flagged.
    fn wrapper_body(&self) -> Function {
        let mut f = Function::new([]);
        f.instruction(&Instruction::I32Const(1))
            .instruction(&Instruction::GlobalSet(self.flag));
        for param in 0..4 {
            f.instruction(&Instruction::LocalGet(param));
        }
        f.instruction(&Instruction::Call(self.realloc))
            .instruction(&Instruction::I32Const(0))
            .instruction(&Instruction::GlobalSet(self.flag))
            .instruction(&Instruction::End);
        f
    }
}

#[cfg(test)]
mod tests {
    use wasmtime::{Caller, Engine, Linker, Module, Store};

    /// A stand-in for Go's module: its `cabi_realloc` reads both clocks and polls, as a
    /// collection does; `now` reads a clock outside of it.
    const MODULE: &str = r#"
        (module
          (import "wasi_snapshot_preview1" "clock_time_get" (func $clock (param i32 i64 i32) (result i32)))
          (import "wasi_snapshot_preview1" "poll_oneoff" (func $poll (param i32 i32 i32 i32) (result i32)))
          (memory (export "memory") 1)
          (global $unused (mut i32) (i32.const 0))
          (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32)
            (drop (call $clock (i32.const 0) (i64.const 1) (i32.const 16)))
            (drop (call $clock (i32.const 1) (i64.const 1) (i32.const 24)))
            (i32.store (i32.const 32) (i32.const 7))
            (drop (call $poll (i32.const 0) (i32.const 0) (i32.const 1) (i32.const 32)))
            (i32.const 1024))
          (func (export "now") (param i32) (result i64)
            (drop (call $clock (local.get 0) (i64.const 1) (i32.const 8)))
            (i64.load (i32.const 8))))
    "#;

    /// Host calls so far; a clock answers `calls * 1000 + id`.
    fn instantiate(module: &[u8]) -> (Store<u32>, wasmtime::Instance) {
        let engine = Engine::default();
        let module = Module::new(&engine, module).unwrap();
        let mut linker = Linker::new(&engine);
        let memory = |caller: &mut Caller<'_, u32>| {
            caller
                .get_export("memory")
                .and_then(|e| e.into_memory())
                .unwrap()
        };
        linker
            .func_wrap(
                "wasi_snapshot_preview1",
                "clock_time_get",
                move |mut caller: Caller<'_, u32>, id: i32, _precision: i64, out: i32| -> i32 {
                    *caller.data_mut() += 1;
                    let time = u64::from(*caller.data()) * 1000 + id as u64;
                    let mem = memory(&mut caller);
                    mem.write(&mut caller, out as usize, &time.to_le_bytes())
                        .unwrap();
                    0
                },
            )
            .unwrap();
        linker
            .func_wrap(
                "wasi_snapshot_preview1",
                "poll_oneoff",
                move |mut caller: Caller<'_, u32>, _: i32, _: i32, _: i32, events: i32| -> i32 {
                    *caller.data_mut() += 1;
                    let mem = memory(&mut caller);
                    mem.write(&mut caller, events as usize, &1u32.to_le_bytes())
                        .unwrap();
                    0
                },
            )
            .unwrap();
        let mut store = Store::new(&engine, 0u32);
        let instance = linker.instantiate(&mut store, &module).unwrap();
        (store, instance)
    }

    fn read<const N: usize>(
        store: &mut Store<u32>,
        instance: &wasmtime::Instance,
        at: usize,
    ) -> [u8; N] {
        let memory = instance.get_memory(&mut *store, "memory").unwrap();
        let mut bytes = [0; N];
        memory.read(&*store, at, &mut bytes).unwrap();
        bytes
    }

    #[test]
    fn inside_cabi_realloc_the_clocks_stand_still_and_nothing_calls_out() {
        let original = wat::parse_str(MODULE).unwrap();
        let guarded = super::guard(&original).unwrap();
        wasmparser::Validator::new().validate_all(&guarded).unwrap();

        // Unguarded, the allocation calls the host three times: what wasmtime refuses.
        let (mut store, instance) = instantiate(&original);
        let realloc = instance
            .get_typed_func::<(i32, i32, i32, i32), i32>(&mut store, "cabi_realloc")
            .unwrap();
        realloc.call(&mut store, (0, 0, 8, 16)).unwrap();
        assert_eq!(*store.data(), 3);

        let (mut store, instance) = instantiate(&guarded);
        let now = instance
            .get_typed_func::<i32, i64>(&mut store, "now")
            .unwrap();
        let realloc = instance
            .get_typed_func::<(i32, i32, i32, i32), i32>(&mut store, "cabi_realloc")
            .unwrap();
        assert_eq!(
            now.call(&mut store, 0).unwrap(),
            1000,
            "wall clock, first call"
        );
        assert_eq!(
            now.call(&mut store, 1).unwrap(),
            2001,
            "monotonic clock, second call"
        );
        assert_eq!(now.call(&mut store, 2).unwrap(), 3002, "a CPU-time clock");
        assert_eq!(realloc.call(&mut store, (0, 0, 8, 16)).unwrap(), 1024);
        assert_eq!(*store.data(), 3, "no host call inside cabi_realloc");
        assert_eq!(
            u64::from_le_bytes(read(&mut store, &instance, 16)),
            1000,
            "the last wall time"
        );
        assert_eq!(
            u64::from_le_bytes(read(&mut store, &instance, 24)),
            2001,
            "the last monotonic time"
        );
        assert_eq!(
            u32::from_le_bytes(read(&mut store, &instance, 32)),
            0,
            "no event is ready"
        );
        // Outside the allocation, calls reach the host again.
        assert_eq!(now.call(&mut store, 0).unwrap(), 4000);
        assert_eq!(*store.data(), 4);
    }

    #[test]
    fn a_module_without_cabi_realloc_is_left_alone() {
        let module = wat::parse_str(
            r#"(module (import "wasi_snapshot_preview1" "clock_time_get" (func (param i32 i64 i32) (result i32))) (memory 1) (global (mut i32) (i32.const 0)))"#,
        )
        .unwrap();
        assert_eq!(super::guard(&module).unwrap(), module);
    }
}
