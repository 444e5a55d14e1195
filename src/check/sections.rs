//! The top-level sections of a component binary, one payload each: nested modules and
//! components are skipped whole, unparsed. What the run, compose and check stages read of a
//! component's outer structure (imports, names, instances) they read through this.

use std::ops::Range;

use wasmparser::{Chunk, Parser, Payload};

/// An offset wasmparser reports (a `u64`, for files past 4 GiB) as an index into the bytes it
/// parsed, which are in memory and so index within `usize`.
pub fn index(offset: u64) -> usize {
    usize::try_from(offset).unwrap_or(usize::MAX)
}

/// [`index`] for a range.
pub fn indices(range: Range<u64>) -> Range<usize> {
    index(range.start)..index(range.end)
}

/// An iterator over the top-level payloads of `bytes`, each with the byte range it takes;
/// it ends after `End`, or with one `Err` where the binary does not parse.
pub fn top_level(bytes: &[u8]) -> TopLevel<'_> {
    TopLevel {
        bytes,
        parser: Parser::new(0),
        pos: 0,
        done: false,
    }
}

/// See [`top_level`].
pub struct TopLevel<'a> {
    bytes: &'a [u8],
    parser: Parser,
    pos: usize,
    done: bool,
}

impl<'a> Iterator for TopLevel<'a> {
    type Item = Result<(Range<usize>, Payload<'a>), ()>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let bytes: &'a [u8] = self.bytes;
        let start = self.pos;
        let parsed = bytes
            .get(start..)
            .and_then(|rest| self.parser.parse(rest, true).ok());
        let Some(Chunk::Parsed { consumed, payload }) = parsed else {
            self.done = true;
            return Some(Err(()));
        };
        self.pos += consumed;
        match &payload {
            // The parser hands over a nested section's header; its body is skipped here.
            Payload::ModuleSection {
                unchecked_range, ..
            }
            | Payload::ComponentSection {
                unchecked_range, ..
            } => self.pos = index(unchecked_range.end),
            Payload::End(_) => self.done = true,
            _ => {}
        }
        Some(Ok((start..self.pos, payload)))
    }
}
