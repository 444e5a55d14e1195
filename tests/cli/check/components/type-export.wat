;; A valid component that exports a type beside a function: the Component Model allows it,
;; a WIT world cannot say it.
(component
  (type $point (record (field "x" s32) (field "y" s32)))
  (export $p "point" (type $point))
  (core module $m
    (func (export "origin") (result i32) i32.const 0)
  )
  (core instance $i (instantiate $m))
  (func (export "origin") (result u32) (canon lift (core func $i "origin")))
)
