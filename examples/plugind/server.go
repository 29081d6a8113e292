package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/vow-sandbox/vow/host"
)

// Options configures a Server.
type Options struct {
	// Dir holds the plugins, one NAME.lua per plugin.
	Dir string
	// Workers, Promises, Memory and CPU configure every plugin's pool.
	Workers  int
	Promises string
	Memory   int64
	CPU      time.Duration
	// Timeout is the deadline of one call.
	Timeout time.Duration
	// Executable is the worker binary; "" means this program.
	Executable string
	// Logf receives host.log messages; nil means log.Printf.
	Logf func(format string, args ...any)
}

// Server serves the plugins of a directory.
type Server struct {
	opts  Options
	pools map[string]*host.Pool
	mux   *http.ServeMux

	mu    sync.Mutex
	store map[string]any // what plugins keep with host.set
}

// NewServer starts a pool for every plugin in opts.Dir.
func NewServer(opts Options) (*Server, error) {
	if opts.Logf == nil {
		opts.Logf = log.Printf
	}
	files, err := filepath.Glob(filepath.Join(opts.Dir, "*.lua"))
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("no plugins (*.lua files) in %s", opts.Dir)
	}
	s := &Server{opts: opts, pools: map[string]*host.Pool{}, store: map[string]any{}}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".lua")
		src, err := os.ReadFile(f)
		if err != nil {
			s.Close()
			return nil, err
		}
		p, err := host.NewPool(host.Config{
			Script:      string(src),
			Name:        filepath.Base(f),
			Workers:     opts.Workers,
			Policy:      host.Policy{Promises: opts.Promises},
			Memory:      opts.Memory,
			CPU:         opts.CPU,
			CallTimeout: opts.Timeout,
			Libraries:   host.LibSafe | host.LibIO | host.LibOS,
			Funcs:       s.funcs(name),
			Executable:  opts.Executable,
		})
		if err != nil {
			s.Close()
			return nil, fmt.Errorf("plugin %s: %w", name, err)
		}
		s.pools[name] = p
	}
	s.mux = http.NewServeMux()
	s.mux.HandleFunc("POST /call/{plugin}/{fn}", s.call)
	s.mux.HandleFunc("GET /plugins", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{"plugins": s.Plugins()})
	})
	return s, nil
}

// funcs are the host functions of plugin name.
func (s *Server) funcs(name string) map[string]host.Func {
	return map[string]host.Func{
		"log": func(ctx context.Context, args []any) ([]any, error) {
			s.opts.Logf("plugin %s: %s", name, fmt.Sprint(args...))
			return nil, nil
		},
		"get": func(ctx context.Context, args []any) ([]any, error) {
			key, ok := arg[string](args, 0)
			if !ok {
				return nil, errors.New("usage: host.get(key: string)")
			}
			s.mu.Lock()
			defer s.mu.Unlock()
			return []any{s.store[key]}, nil
		},
		"set": func(ctx context.Context, args []any) ([]any, error) {
			key, ok := arg[string](args, 0)
			if !ok || len(args) != 2 {
				return nil, errors.New("usage: host.set(key: string, value)")
			}
			s.mu.Lock()
			defer s.mu.Unlock()
			s.store[key] = args[1]
			return nil, nil
		},
	}
}

func arg[T any](args []any, i int) (T, bool) {
	var zero T
	if i >= len(args) {
		return zero, false
	}
	v, ok := args[i].(T)
	return v, ok
}

// Plugins lists the plugin names.
func (s *Server) Plugins() []string {
	var names []string
	for n := range s.pools {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Close stops every pool.
func (s *Server) Close() {
	for _, p := range s.pools {
		p.Close()
	}
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

func (s *Server) call(w http.ResponseWriter, r *http.Request) {
	p := s.pools[r.PathValue("plugin")]
	if p == nil {
		writeJSON(w, http.StatusNotFound, errorBody("request", fmt.Sprintf("no plugin %q", r.PathValue("plugin"))))
		return
	}
	var args []any
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(&args); err != nil {
		writeJSON(w, http.StatusBadRequest, errorBody("request", "the body must be a JSON array of arguments: "+err.Error()))
		return
	}
	results, err := p.Call(r.Context(), r.PathValue("fn"), args...)
	var e *host.Error
	switch {
	case err == nil:
		writeJSON(w, http.StatusOK, map[string]any{"results": jsonable(results)})
	case errors.As(err, &e):
		status := http.StatusBadGateway // the plugin's worker died
		switch e.Kind {
		case host.KindError:
			status = http.StatusUnprocessableEntity
		case host.KindTimeout:
			status = http.StatusGatewayTimeout
		case host.KindCanceled:
			status = http.StatusServiceUnavailable
		}
		writeJSON(w, status, errorBody(string(e.Kind), e.Message))
	default:
		writeJSON(w, http.StatusBadRequest, errorBody("request", err.Error()))
	}
}

func errorBody(kind, msg string) map[string]any {
	return map[string]any{"error": map[string]any{"kind": kind, "message": msg}}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// jsonable turns results into something encoding/json accepts: tables
// with keys that are not strings get their keys printed, and NaN and the
// infinities become strings.
func jsonable(v any) any {
	switch v := v.(type) {
	case float64:
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Sprint(v)
		}
	case []any:
		out := make([]any, len(v))
		for i, x := range v {
			out[i] = jsonable(x)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, x := range v {
			out[k] = jsonable(x)
		}
		return out
	case map[any]any:
		out := make(map[string]any, len(v))
		for k, x := range v {
			out[fmt.Sprint(k)] = jsonable(x)
		}
		return out
	}
	return v
}
