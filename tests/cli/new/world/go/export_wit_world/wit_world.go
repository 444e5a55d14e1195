// Package export_wit_world is what component `go` exports for world `kinds`
// (wit/kinds.wit). weld new wrote it from wit-bindgen-go's stubs: every function panics
// until it is written; weld generates the glue that calls them at build time.
package export_wit_world

func Hello(_name string) string {
	panic("Hello is not written yet (see wit/kinds.wit)")
}
