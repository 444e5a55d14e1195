// Package export_demo_kinds_ids is what component `go` exports for world `kinds`
// (wit/kinds.wit). weld new wrote it from wit-bindgen-go's stubs: every function panics
// until it is written; weld generates the glue that calls them at build time.
package export_demo_kinds_ids

func NextId() uint64 {
	panic("NextId is not written yet (see wit/kinds.wit)")
}
