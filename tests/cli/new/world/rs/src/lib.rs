//! `rs`: implements world `kinds` (wit/kinds.wit).
//!
//! Made by `weld new --world`: every export is here, with the signature wit-bindgen's
//! traits give it. Replace each `todo!` with the real thing.

wit_bindgen::generate!({
    world: "kinds",
    path: "../wit",
});

#[allow(unused_imports)]
use exports::demo::kinds::ids::{Id, Tagged};
#[allow(unused_imports)]
use exports::demo::kinds::shapes::{Color, Counter, CounterBorrow, Point, Points, Shape, Style};

struct Component;

/// Exports world `kinds`.
#[allow(unused_variables)]
impl Guest for Component {
    /// WIT: `hello: func(name: string) -> string`
    fn hello(name: String) -> String {
        todo!("hello is not written yet (see wit/kinds.wit)")
    }
}

/// Exports demo:kinds/ids@0.1.0.
#[allow(unused_variables)]
impl exports::demo::kinds::ids::Guest for Component {
    /// WIT: `next-id: func() -> id`
    fn next_id() -> Id {
        todo!("next-id is not written yet (see wit/kinds.wit)")
    }
}

/// Exports demo:kinds/shapes@0.1.0.
#[allow(unused_variables)]
impl exports::demo::kinds::shapes::Guest for Component {
    type Counter = CounterImpl;

    /// WIT: `area: func(s: shape) -> f64`
    fn area(s: Shape) -> f64 {
        todo!("area is not written yet (see wit/kinds.wit)")
    }

    /// WIT: `mix: func(a: color, b: option<color>) -> list<color>`
    fn mix(a: Color, b: Option<Color>) -> Vec<Color> {
        todo!("mix is not written yet (see wit/kinds.wit)")
    }

    /// WIT: `parse-point: func(text: string) -> result<point, string>`
    fn parse_point(text: String) -> Result<Point, String> {
        todo!("parse-point is not written yet (see wit/kinds.wit)")
    }

    /// WIT: `validate: func(p: points) -> result<_, string>`
    fn validate(p: Points) -> Result<(), String> {
        todo!("validate is not written yet (see wit/kinds.wit)")
    }

    /// WIT: `styled: func(s: style, bytes: list<u8>) -> tuple<style, u64>`
    fn styled(s: Style, bytes: Vec<u8>) -> (Style, u64) {
        todo!("styled is not written yet (see wit/kinds.wit)")
    }

    /// WIT: `total: func(c: borrow<counter>) -> u32`
    fn total(c: CounterBorrow<'_>) -> u32 {
        todo!("total is not written yet (see wit/kinds.wit)")
    }

    /// WIT: `numbers: func(a: s8, b: s16, c: s64, d: u16, e: f32, f: char, g: bool) -> option<option<s8>>`
    fn numbers(a: i8, b: i16, c: i64, d: u16, e: f32, f: char, g: bool) -> Option<Option<i8>> {
        todo!("numbers is not written yet (see wit/kinds.wit)")
    }

    /// WIT: `tag: func(id: id, label: string) -> tagged`
    fn tag(id: Id, label: String) -> Tagged {
        todo!("tag is not written yet (see wit/kinds.wit)")
    }

    /// WIT: `nothing: func()`
    fn nothing() {
        todo!("nothing is not written yet (see wit/kinds.wit)")
    }
}

/// Resource `counter` of demo:kinds/shapes@0.1.0.
struct CounterImpl;

#[allow(unused_variables)]
impl exports::demo::kinds::shapes::GuestCounter for CounterImpl {
    /// WIT: `constructor(start: u32)`
    fn new(start: u32) -> Self {
        todo!("counter.constructor is not written yet (see wit/kinds.wit)")
    }

    /// WIT: `add: func(n: u32) -> u32`
    fn add(&self, n: u32) -> u32 {
        todo!("counter.add is not written yet (see wit/kinds.wit)")
    }

    /// WIT: `get: func() -> u32`
    fn get(&self) -> u32 {
        todo!("counter.get is not written yet (see wit/kinds.wit)")
    }

    /// WIT: `make: static func() -> own<counter>`
    fn make() -> Counter {
        todo!("counter.make is not written yet (see wit/kinds.wit)")
    }
}

export!(Component);
