;; A valid component that WIT cannot express: it exports again the instance it imports, so the
;; resource `handle` would appear in its world twice. wac composes it; weld's plug check cannot
;; read its world, and says so.
(component
  (import "weld:res/handles@0.1.0" (instance $handles
    (export "handle" (type (sub resource)))
  ))
  (export "weld:res/handles@0.1.0" (instance $handles))
)
