//! `weld::host`'s call into a small Rust plugin against the same call through raw wasmtime, as
//! an embedder would write it with a pre-instantiated component: each call a fresh instance,
//! timed one by one; p50, p99 and the mean, and instantiation alone on the raw side.
//!
//! benches/host.sh builds the plugin and runs this (`cargo bench --bench host`); `N=20000`
//! sets the calls per side.

use std::path::Path;
use std::time::{Duration, Instant};

use wasmtime::component::{Component, Linker, ResourceTable, Val};
use wasmtime::{Config, Engine, Store};
use wasmtime_wasi::{WasiCtx, WasiCtxBuilder, WasiCtxView, WasiView};

struct State {
    ctx: WasiCtx,
    table: ResourceTable,
}

impl WasiView for State {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.ctx,
            table: &mut self.table,
        }
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let wasm = root.join("fixtures/plugins/target/weld/shout.wasm");
    if !wasm.is_file() {
        eprintln!("{} is missing: run benches/host.sh", wasm.display());
        std::process::exit(2);
    }
    let n: usize = std::env::var("N")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000);
    let input = Val::String("hello, world".into());
    let expected = [Val::String("HELLO, WORLD".into())];

    // weld::host, as the contract has it: limits on, nothing granted.
    let host = weld::host::Host::new(root.join("fixtures/plugins/wit"), "plugin")?.func(
        "example:text/log@0.1.0",
        "log",
        |_| Ok(vec![]),
    );
    let plugin = host.load(&wasm)?;
    let mut weld_calls = Vec::with_capacity(n);
    for i in 0..n + n / 10 {
        let start = Instant::now();
        let out = plugin.call_values("transform", std::slice::from_ref(&input))?;
        let elapsed = start.elapsed();
        assert_eq!(out, expected);
        // The first tenth warms up.
        if i >= n / 10 {
            weld_calls.push(elapsed);
        }
    }

    // `ONLY=weld` stops here, for profiling weld's side alone.
    if std::env::var_os("ONLY").is_some_and(|v| v == "weld") {
        println!("weld::host call_values   {}", row(stats(&mut weld_calls)));
        return Ok(());
    }

    // Raw wasmtime: Cranelift, WASI 0.2 linked, the same `log`, no limits; with the default
    // (on-demand) instance allocator, and with the pooling one that weld::host uses.
    let (mut raw_calls, mut raw_instantiate) = raw(&wasm, Config::new(), n, &input, &expected)?;
    let mut pooled = Config::new();
    pooled.allocation_strategy(wasmtime::InstanceAllocationStrategy::Pooling(
        wasmtime::PoolingAllocationConfig::new(),
    ));
    let (mut pool_calls, mut pool_instantiate) = raw(&wasm, pooled, n, &input, &expected)?;

    let (w, r, p) = (
        stats(&mut weld_calls),
        stats(&mut raw_calls),
        stats(&mut pool_calls),
    );
    println!("{n} calls of transform(\"hello, world\") into shout.wasm, each a fresh instance");
    println!("                                       p50        p99       mean");
    println!("weld::host call_values            {}", row(w));
    println!("raw wasmtime                      {}", row(r));
    println!(
        "  its instantiation alone         {}",
        row(stats(&mut raw_instantiate))
    );
    println!("raw wasmtime, pooling             {}", row(p));
    println!(
        "  its instantiation alone         {}",
        row(stats(&mut pool_instantiate))
    );
    for (name, other) in [("raw", r), ("raw pooling", p)] {
        println!(
            "ratio weld / {name}: p50 {:.2}, p99 {:.2}, mean {:.2}",
            ratio(w.0, other.0),
            ratio(w.1, other.1),
            ratio(w.2, other.2)
        );
    }
    Ok(())
}

/// `n` timed calls (after a tenth as many to warm up) through raw wasmtime with `config`: each
/// call's time, and its instantiation's.
fn raw(
    wasm: &Path,
    config: Config,
    n: usize,
    input: &Val,
    expected: &[Val],
) -> Result<(Vec<Duration>, Vec<Duration>), Box<dyn std::error::Error>> {
    let engine = Engine::new(&config)?;
    let mut linker = Linker::<State>::new(&engine);
    wasmtime_wasi::p2::add_to_linker_sync(&mut linker)?;
    linker
        .instance("example:text/log@0.1.0")?
        .func_new("log", |_, _, _, _| Ok(()))?;
    let component = Component::from_file(&engine, wasm)?;
    let pre = linker.instantiate_pre(&component)?;
    let iface = component
        .get_export_index(None, "example:text/transform@0.1.0")
        .ok_or("no transform interface")?;
    let index = component
        .get_export_index(Some(&iface), "transform")
        .ok_or("no transform function")?;
    let mut calls = Vec::with_capacity(n);
    let mut instantiations = Vec::with_capacity(n);
    for i in 0..n + n / 10 {
        let start = Instant::now();
        let mut store = Store::new(
            &engine,
            State {
                ctx: WasiCtxBuilder::new().build(),
                table: ResourceTable::new(),
            },
        );
        let instance = pre.instantiate(&mut store)?;
        let instantiated = start.elapsed();
        let func = instance.get_func(&mut store, index).ok_or("no func")?;
        let mut out = [Val::Bool(false)];
        func.call(&mut store, std::slice::from_ref(input), &mut out)?;
        drop(store);
        let elapsed = start.elapsed();
        assert_eq!(out, expected);
        if i >= n / 10 {
            calls.push(elapsed);
            instantiations.push(instantiated);
        }
    }
    Ok((calls, instantiations))
}

/// (p50, p99, mean) of `samples`.
fn stats(samples: &mut [Duration]) -> (Duration, Duration, Duration) {
    samples.sort();
    let at = |q: f64| samples[((samples.len() - 1) as f64 * q) as usize];
    let mean = samples.iter().sum::<Duration>() / samples.len() as u32;
    (at(0.5), at(0.99), mean)
}

fn row((p50, p99, mean): (Duration, Duration, Duration)) -> String {
    let us = |d: Duration| format!("{:8.1} µs", d.as_secs_f64() * 1e6);
    format!("{} {} {}", us(p50), us(p99), us(mean))
}

fn ratio(a: Duration, b: Duration) -> f64 {
    a.as_secs_f64() / b.as_secs_f64()
}
