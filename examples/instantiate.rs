//! Times a fresh instance of an HTTP app, as `weld serve` makes one per request (a store with
//! the default grants and limits, an instance from the pooling allocator), and prints the
//! median and 99th percentile in microseconds. benches/serve.sh runs it.
//!
//!   cargo run --release --example instantiate -- APP.wasm [N]

use weld::run::{Pool, Profile, Runtime, RuntimeOptions};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let path = args.next().ok_or("usage: instantiate APP.wasm [N]")?;
    let n: usize = args
        .next()
        .map(|n| n.parse())
        .transpose()?
        .unwrap_or(10_000);
    let settings = weld::serve::defaults().settings;
    let runtime = Runtime::new(RuntimeOptions {
        cache_dir: std::env::var_os("WELD_CACHE_DIR").map(Into::into),
        pool: Some(Pool {
            instances: u32::try_from(settings.max_concurrency)?,
            max_memory: settings.run.max_memory,
        }),
        profile: Profile::Release,
        functions: Vec::new(),
    })?;
    let app = runtime.load(std::path::Path::new(&path), "app")?;
    // The first instances touch memory the pool then keeps: leave them out.
    weld::serve::instantiation_times(&runtime, &app, &settings.run, 100)?;
    let mut times = weld::serve::instantiation_times(&runtime, &app, &settings.run, n)?;
    times.sort();
    let at = |q: f64| times[((times.len() as f64 * q) as usize).min(times.len() - 1)];
    println!(
        "{} {:.1} {:.1}",
        n,
        at(0.5).as_secs_f64() * 1e6,
        at(0.99).as_secs_f64() * 1e6
    );
    Ok(())
}
