package host_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"
	"strings"
	"time"

	lua "github.com/yuin/gopher-lua"

	"github.com/vow-sandbox/vow/host"
)

// A program that runs sandboxed Lua calls host.Init first in main: its
// own binary is then also the sandboxed child.
func ExampleInit() {
	// func main() {
	host.Init() // returns at once, except in a sandboxed child
	// ... the program as usual
	// }
}

// A plugin runs in sandboxed worker processes; the host calls its
// functions by name.
func ExampleNewPool() {
	pool, err := host.NewPool(host.Config{
		Script:  `function greet(name) return "hello, " .. name, #name end`,
		Workers: 2,
		Policy:  host.Policy{Promises: "stdio"}, // the default: compute, nothing else
		Memory:  64 << 20,
	})
	if err != nil {
		log.Fatal(err)
	}
	defer pool.Close()

	out, err := pool.Call(context.Background(), "greet", "gopher")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(out[0], out[1])
	// Output: hello, gopher 6
}

// Tables cross as Go slices and maps; every Lua number is a float64.
func ExamplePool_Call() {
	pool, err := host.NewPool(host.Config{Script: `
		function stats(xs)
			local sum, max = 0, -math.huge
			for _, x in ipairs(xs) do sum = sum + x; max = math.max(max, x) end
			return {sum = sum, max = max, n = #xs}
		end`})
	if err != nil {
		log.Fatal(err)
	}
	defer pool.Close()
	out, err := pool.Call(context.Background(), "stats", []int{3, 1, 4, 1, 5})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(out[0])
	// Output: map[max:5 n:5 sum:14]
}

// Host functions are the plugin's only way to what its promises forbid:
// here a lookup the Go program answers.
func ExampleFunc() {
	prices := map[string]float64{"apple": 0.5, "pear": 0.75}
	pool, err := host.NewPool(host.Config{
		Script: `function total(items)
			local sum = 0
			for _, item in ipairs(items) do sum = sum + host.price(item) end
			return sum
		end`,
		Funcs: map[string]host.Func{
			"price": func(ctx context.Context, args []any) ([]any, error) {
				name, _ := args[0].(string)
				p, ok := prices[name]
				if !ok {
					return nil, fmt.Errorf("no price for %q", name)
				}
				return []any{p}, nil
			},
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	defer pool.Close()
	out, err := pool.Call(context.Background(), "total", []string{"apple", "pear", "apple"})
	fmt.Println(out, err)
	_, err = pool.Call(context.Background(), "total", []string{"plum"})
	fmt.Println(err)
	// Output:
	// [1.75] <nil>
	// plugin function "total": error: plugin:3: host.price: no price for "plum"
}

// What went wrong is in the *Error's Kind; a worker that dies is replaced.
func ExampleError() {
	pool, err := host.NewPool(host.Config{
		Script: `function spin() while true do end end
		         function hog() local t = {} for i = 1, 1e9 do t[i] = i end end
		         function ok() return "fine" end`,
		Memory:      32 << 20,
		CallTimeout: time.Second,        // hog reaches Memory well before this, even on a loaded machine
		Stderr:      &strings.Builder{}, // the Go runtime's out-of-memory report
	})
	if err != nil {
		log.Fatal(err)
	}
	defer pool.Close()
	for _, fn := range []string{"spin", "hog", "ok"} {
		out, err := pool.Call(context.Background(), fn)
		var e *host.Error
		if errors.As(err, &e) {
			fmt.Println(fn, e.Kind)
		} else {
			fmt.Println(fn, out[0])
		}
	}
	// Output:
	// spin timeout
	// hog memory
	// ok fine
}

// Run runs code once in a fresh sandboxed child.
func ExampleRun() {
	out, err := host.Run(context.Background(), `
		local path = ...
		local f = assert(io.open(path))
		local first = f:read("*l")
		local _, err = io.open("/etc/hostname")
		return #first > 0, err`,
		&host.RunOptions{
			Policy: host.Policy{
				Promises: "stdio rpath",
				Unveil:   []host.Rule{{Path: "/etc/passwd", Perms: "r"}},
			},
			Libraries: host.LibSafe | host.LibIO,
			Timeout:   5 * time.Second,
		}, "/etc/passwd")
	fmt.Println(out, err)
	// Output: [true open /etc/hostname: permission denied] <nil>
}

// The vow module gives Lua scripts vow.run.
func ExampleOpenVow() {
	L := lua.NewState()
	defer L.Close()
	host.OpenVow(L, nil)
	err := L.DoString(`
		local ok, sum = vow.run("local a, b = ... return a + b", nil, 2, 3)
		print(ok, sum)
		local ok, err = vow.run("while true do end", {timeout = 0.1})
		print(ok, err.kind)
		print(vow.run("return io.open('/etc/passwd')"))
		local ok, err = vow.run("return print")
		print(ok, err.kind, err.message)`)
	if err != nil {
		log.Fatal(err)
	}
	// Output:
	// true	5
	// nil	timeout
	// true	nil	open /etc/passwd: operation not permitted	1
	// nil	error	result #1 cannot be returned: a function cannot be sent (only nil, booleans, numbers, strings and tables of these can cross to or from a sandboxed process)
}

// A restricted state in this process: only the chosen libraries, and
// a budget of instructions.
func ExampleNewState() {
	L, err := host.NewState(&host.StateOptions{
		Libraries: host.LibSafe, // no io, os, require, dofile
		Context:   host.LimitInstructions(context.Background(), 10000),
	})
	if err != nil {
		log.Fatal(err)
	}
	defer L.Close()
	fmt.Println(L.DoString(`x = type(io) .. " " .. type(string)`), L.GetGlobal("x"))
	err = L.DoString(`while true do end`)
	fmt.Println(err.(*lua.ApiError).Object)
	// Output:
	// <nil> nil table
	// <string>:1: instruction limit exceeded
}

// LimitInstructions bounds the work of one call: give each call a fresh
// budget with SetContext.
func ExampleLimitInstructions() {
	L, _ := host.NewState(nil)
	defer L.Close()
	for _, n := range []int{10, 100000} {
		L.SetContext(host.LimitInstructions(context.Background(), 5000))
		err := L.DoString(fmt.Sprintf(`for i = 1, %d do end`, n))
		fmt.Println(n, err != nil)
	}
	// Output:
	// 10 false
	// 100000 true
}

// Pledging this whole process, for a program that exists to run one
// script (irreversible; not run here).
func ExampleStateOptions_pledge() {
	L, err := host.NewState(&host.StateOptions{
		Libraries: host.LibSafe | host.LibIO,
		Pledge: &host.Policy{
			Promises: "stdio rpath",
			Unveil:   []host.Rule{{Path: "data", Perms: "r"}},
		},
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	defer L.Close()
	// L can now read files below data/, and the process can do nothing
	// else that "stdio rpath" does not allow.
}
