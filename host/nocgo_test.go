package host

// cgoEnabled is set by cgo_test.go in builds with cgo.
var cgoEnabled bool
