// Package export_demo_kinds_shapes is what component `go` exports for world `kinds`
// (wit/kinds.wit). weld new wrote it from wit-bindgen-go's stubs: every function panics
// until it is written; weld generates the glue that calls them at build time.
package export_demo_kinds_shapes

import (
	witTypes "go.bytecodealliance.org/pkg/wit/types"
	"runtime"
	"wit_component/demo_kinds_ids"
	"wit_component/demo_kinds_shapes"
)

type Counter struct {
	pinner runtime.Pinner
	handle int32
}

func (self *Counter) OnDrop() {}

func MakeCounter(_start uint32) *Counter {
	panic("MakeCounter is not written yet (see wit/kinds.wit)")
}

func (self *Counter) Add(_n uint32) uint32 {
	panic("Counter.Add is not written yet (see wit/kinds.wit)")
}

func (self *Counter) Get() uint32 {
	panic("Counter.Get is not written yet (see wit/kinds.wit)")
}

func CounterMake() *Counter {
	panic("CounterMake is not written yet (see wit/kinds.wit)")
}

func Area(_s demo_kinds_shapes.Shape) float64 {
	panic("Area is not written yet (see wit/kinds.wit)")
}

func Mix(_a demo_kinds_shapes.Color, _b witTypes.Option[demo_kinds_shapes.Color]) []demo_kinds_shapes.Color {
	panic("Mix is not written yet (see wit/kinds.wit)")
}

func ParsePoint(_text string) witTypes.Result[demo_kinds_shapes.Point, string] {
	panic("ParsePoint is not written yet (see wit/kinds.wit)")
}

func Validate(_p []demo_kinds_shapes.Point) witTypes.Result[witTypes.Unit, string] {
	panic("Validate is not written yet (see wit/kinds.wit)")
}

func Styled(_s demo_kinds_shapes.Style, _bytes []uint8) (demo_kinds_shapes.Style, uint64) {
	panic("Styled is not written yet (see wit/kinds.wit)")
}

func Total(_c *Counter) uint32 {
	panic("Total is not written yet (see wit/kinds.wit)")
}

func Numbers(_a int8, _b int16, _c int64, _d uint16, _e float32, _f rune, _g bool) witTypes.Option[witTypes.Option[int8]] {
	panic("Numbers is not written yet (see wit/kinds.wit)")
}

func Tag(_id uint64, _label string) demo_kinds_ids.Tagged {
	panic("Tag is not written yet (see wit/kinds.wit)")
}

func Nothing() {
	panic("Nothing is not written yet (see wit/kinds.wit)")
}
