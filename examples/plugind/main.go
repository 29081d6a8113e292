// Command plugind serves the Lua plugins of a directory over HTTP, each
// in its own pool of sandboxed worker processes (package host).
//
//	plugind [-dir plugins] [-listen 127.0.0.1:8080] [-workers 2] [-promises stdio]
//	        [-memory 64MiB] [-cpu 10s] [-timeout 2s]
//
// Every NAME.lua in the directory becomes the plugin NAME; its global
// functions are called with
//
//	POST /call/NAME/FUNCTION   body: a JSON array of arguments
//
// which answers {"results": [...]} or, with status 4xx or 5xx,
// {"error": {"kind": ..., "message": ...}}. GET /plugins lists the
// plugins. Plugins may call back into plugind with host.log(message),
// host.get(key) and host.set(key, value), a key-value store they share
// and could not otherwise reach: by default their workers are pledged
// to "stdio" with nothing unveiled.
//
// The program is its own worker: main calls host.Init first.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/vow-sandbox/vow/host"
)

func main() {
	host.Init() // a sandboxed worker started by package host runs here and never returns
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "plugind:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	fs := flag.NewFlagSet("plugind", flag.ContinueOnError)
	dir := fs.String("dir", "plugins", "directory of *.lua plugins")
	listen := fs.String("listen", "127.0.0.1:8080", "address to serve HTTP on")
	workers := fs.Int("workers", 2, "worker processes per plugin")
	promises := fs.String("promises", "stdio", "pledge promises of the workers")
	memory := fs.String("memory", "64MiB", "memory a worker may allocate (bytes, or with KiB, MiB, GiB)")
	cpu := fs.Duration("cpu", 10*time.Second, "CPU time a worker may use in its life")
	timeout := fs.Duration("timeout", 2*time.Second, "deadline of one call")
	if err := fs.Parse(args); err != nil {
		return err
	}
	mem, err := parseBytes(*memory)
	if err != nil {
		return fmt.Errorf("-memory: %w", err)
	}
	s, err := NewServer(Options{
		Dir: *dir, Workers: *workers, Promises: *promises,
		Memory: mem, CPU: *cpu, Timeout: *timeout,
	})
	if err != nil {
		return err
	}
	defer s.Close()
	srv := &http.Server{Addr: *listen, Handler: s}
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, os.Interrupt, syscall.SIGTERM)
	go func() {
		<-stop
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
	}()
	log.Printf("plugind: serving %s on http://%s", strings.Join(s.Plugins(), ", "), *listen)
	if err := srv.ListenAndServe(); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// parseBytes reads "64MiB", "512KiB", "1GiB" or a plain number of bytes.
func parseBytes(s string) (int64, error) {
	mult := int64(1)
	for suffix, m := range map[string]int64{"KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30} {
		if strings.HasSuffix(s, suffix) {
			s, mult = strings.TrimSuffix(s, suffix), m
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("%q is not a size (use a number of bytes, or KiB, MiB, GiB)", s)
	}
	return n * mult, nil
}
