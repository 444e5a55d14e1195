//! Exit codes, shared by every stage's error type. A leaf module: stages name their codes here
//! without depending on `crate::error`, which gathers the stages' errors.

/// Success.
pub const EXIT_OK: u8 = 0;
/// The thing checked is wrong (incompatible components, a failing test, user code that does
/// not compile).
pub const EXIT_FAILURE: u8 = 1;
/// Usage or environment error (bad flag, missing file, missing toolchain).
pub const EXIT_USAGE: u8 = 2;
/// A limit ended a run (deadline, memory), as `timeout(1)` reports it.
pub const EXIT_LIMIT: u8 = 124;
