module github.com/vow-sandbox/vow

go 1.26.0

require (
	github.com/chzyer/readline v1.5.1
	github.com/yuin/gopher-lua v1.1.2
	golang.org/x/sys v0.49.0
)
