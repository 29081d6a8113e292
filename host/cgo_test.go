//go:build cgo

package host

func init() { cgoEnabled = true }
