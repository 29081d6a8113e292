// Package scripts holds vow's Lua recipes: small programs that show how
// to use unix.pledge and unix.unveil from a script, each runnable as
// `vow scripts/NAME.lua`. The package has no Go API; its test runs every
// recipe, including its failure paths, and compares the output with
// testdata/*.golden (go test ./scripts -update rewrites them).
//
//	no-network.lua   pledge("stdio"), then a socket fails with EPERM (or, with --kill, kills)
//	view.lua         a file viewer that pledges "stdio" once the file is open
//	sandbox-run.lua  run an untrusted Lua file with only stdio and no filesystem
//	fetch.lua        an HTTP client that, once connected, can only use that connection
//	build.lua        a build step confined to reading SRC and writing OUT
//	logfilter.lua    a stdin-to-stdout filter under pledge("stdio")
//	ls.lua           list a directory with everything else unveiled away
//	readonly.lua     run a program under execpromises that forbid writing
//	jail.lua         run a program in a child that sees one directory read-only (unix.spawn)
package scripts
