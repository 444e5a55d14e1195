//! weld: build, check, compose and run WebAssembly components written in Rust, Python and
//! JavaScript.
//!
//! The library holds every stage of the pipeline; the `weld` binary only parses flags and calls
//! it. Stages are modules named after the pipeline (see docs/architecture.md):
//! [`project`] (weld.toml → [`project::Plan`]), [`build`], [`check`], [`compose`], [`run`] and
//! [`test`]; [`pipeline`] runs the project-level stages on a plan for `weld up` and `weld test`.
//! [`report`] prints results and diagnostics; [`toolchain`] finds the language toolchains.

#![deny(missing_docs)]

pub mod build;
pub mod check;
pub mod compose;
pub mod error;
pub mod fsutil;
pub mod pipeline;
pub mod project;
pub mod report;
pub mod run;
pub mod test;
pub mod toolchain;
pub mod units;
pub mod wit;
