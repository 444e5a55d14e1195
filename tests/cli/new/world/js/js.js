// `js`: implements world `kinds` (wit/kinds.wit).
//
// Made by `weld new --world`: every export is here, typed in JSDoc from jco's guest types
// (`weld build` checks the code against them). Replace each `throw` with the real thing.

/**
 * WIT: `hello: func(name: string) -> string`
 * @param {string} name
 * @returns {string}
 */
export function hello(name) {
  throw new Error('hello is not written yet (see wit/kinds.wit)');
}

/** Exports demo:kinds/ids@0.1.0. */
export const ids = {
  /**
   * WIT: `next-id: func() -> id`
   * @returns {import('demo:kinds/ids@0.1.0').Id}
   */
  nextId() {
    throw new Error('ids.nextId is not written yet (see wit/kinds.wit)');
  },
};

/** Exports demo:kinds/shapes@0.1.0. */
export const shapes = {
  /**
   * WIT: `area: func(s: shape) -> f64`
   * @param {import('demo:kinds/shapes@0.1.0').Shape} s
   * @returns {number}
   */
  area(s) {
    throw new Error('shapes.area is not written yet (see wit/kinds.wit)');
  },

  /**
   * WIT: `mix: func(a: color, b: option<color>) -> list<color>`
   * @param {import('demo:kinds/shapes@0.1.0').Color} a
   * @param {import('demo:kinds/shapes@0.1.0').Color | undefined} b
   * @returns {Array<import('demo:kinds/shapes@0.1.0').Color>}
   */
  mix(a, b) {
    throw new Error('shapes.mix is not written yet (see wit/kinds.wit)');
  },

  /**
   * WIT: `parse-point: func(text: string) -> result<point, string>`
   * @param {string} text
   * @returns {import('demo:kinds/shapes@0.1.0').Point}
   */
  parsePoint(text) {
    throw new Error('shapes.parsePoint is not written yet (see wit/kinds.wit)');
  },

  /**
   * WIT: `validate: func(p: points) -> result<_, string>`
   * @param {import('demo:kinds/shapes@0.1.0').Points} p
   */
  validate(p) {
    throw new Error('shapes.validate is not written yet (see wit/kinds.wit)');
  },

  /**
   * WIT: `styled: func(s: style, bytes: list<u8>) -> tuple<style, u64>`
   * @param {import('demo:kinds/shapes@0.1.0').Style} s
   * @param {Uint8Array} bytes
   * @returns {[import('demo:kinds/shapes@0.1.0').Style, bigint]}
   */
  styled(s, bytes) {
    throw new Error('shapes.styled is not written yet (see wit/kinds.wit)');
  },

  /**
   * WIT: `total: func(c: borrow<counter>) -> u32`
   * @param {import('demo:kinds/shapes@0.1.0').Counter} c
   * @returns {number}
   */
  total(c) {
    throw new Error('shapes.total is not written yet (see wit/kinds.wit)');
  },

  /**
   * WIT: `numbers: func(a: s8, b: s16, c: s64, d: u16, e: f32, f: char, g: bool) -> option<option<s8>>`
   * @param {number} a
   * @param {number} b
   * @param {bigint} c
   * @param {number} d
   * @param {number} e
   * @param {string} f
   * @param {boolean} g
   * @returns {import('demo:kinds/shapes@0.1.0').Option<number | undefined>}
   */
  numbers(a, b, c, d, e, f, g) {
    throw new Error('shapes.numbers is not written yet (see wit/kinds.wit)');
  },

  /**
   * WIT: `tag: func(id: id, label: string) -> tagged`
   * @param {import('demo:kinds/shapes@0.1.0').Id} id
   * @param {string} label
   * @returns {import('demo:kinds/shapes@0.1.0').Tagged}
   */
  tag(id, label) {
    throw new Error('shapes.tag is not written yet (see wit/kinds.wit)');
  },

  /**
   * WIT: `nothing: func()`
   */
  nothing() {
    throw new Error('shapes.nothing is not written yet (see wit/kinds.wit)');
  },

  Counter: class Counter {
    /**
     * WIT: `constructor(start: u32)`
     * @param {number} start
     */
    constructor(start) {
      throw new Error('shapes.Counter.constructor is not written yet (see wit/kinds.wit)');
    }

    /**
     * WIT: `add: func(n: u32) -> u32`
     * @param {number} n
     * @returns {number}
     */
    add(n) {
      throw new Error('shapes.Counter.add is not written yet (see wit/kinds.wit)');
    }

    /**
     * WIT: `get: func() -> u32`
     * @returns {number}
     */
    get() {
      throw new Error('shapes.Counter.get is not written yet (see wit/kinds.wit)');
    }

    /**
     * WIT: `make: static func() -> own<counter>`
     * @returns {import('demo:kinds/shapes@0.1.0').Counter}
     */
    static make() {
      throw new Error('shapes.Counter.make is not written yet (see wit/kinds.wit)');
    }
  },
};
