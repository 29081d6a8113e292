package main

import (
	"context"
	"fmt"

	"github.com/vow-sandbox/vow/host"
)

func main() {
	host.Init() // the same binary is the sandboxed worker: call this first
	pool, err := host.NewPool(host.Config{Workers: 2, Memory: 64 << 20,
		Script: `function greet(name) return "hello, " .. name end`}) // pledged "stdio", nothing unveiled
	if err != nil {
		panic(err)
	}
	defer pool.Close()
	fmt.Println(pool.Call(context.Background(), "greet", "gopher")) // [hello, gopher] <nil>
}
