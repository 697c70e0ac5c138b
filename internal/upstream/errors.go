package upstream

import "errors"

// errNoPrincipal means a tool ran without the gateway's authorization in
// front of it; it is a wiring bug and fails closed.
var errNoPrincipal = errors.New("no verified principal on this request")
