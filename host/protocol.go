package host

import (
	"fmt"

	"github.com/vow-sandbox/vow/host/internal/wire"
)

// The protocol between a host and a sandboxed child. The host starts the
// child with three extra descriptors: fd 3 carries frames to the child,
// fd 4 frames from it, and fd 5 is the child's last words (its Go
// runtime's crash output, and a line naming the limit that ended it). The
// child answers every message in order, so the host always knows which
// frame it waits for.
const (
	protocolVersion = 1

	// host → child
	msgInit   = 'I' // initMsg; the child answers with msgResult id 0 (ready) in plugin mode
	msgCall   = 'C' // id, function name, timeout in ns (0: none), values
	msgCancel = 'X' // id: stop the call if it still runs
	msgReply  = 'H' // answer to msgHostCall: seq, ok byte, values or message
	msgAck    = 'A' // the host has taken the seccomp listener (answer to msgListener)

	// child → host
	msgResult   = 'R' // id, status, then per status (see writeResult)
	msgHostCall = 'h' // seq, function name, values: call a host function
	msgListener = 'L' // descriptor number of the seccomp listener, for the host to take
)

// Result status bytes.
const (
	statusOK       = 0 // values
	statusError    = 1 // message, traceback, value
	statusTimeout  = 2 // message
	statusCanceled = 3 // message
	statusSetup    = 4 // message: the sandbox could not be set up; the child exits
)

// Modes of a child.
const (
	modeRun    = 'r' // run the code once with the arguments, answer, exit
	modePlugin = 'p' // run the code, answer ready, then serve calls
)

// Descriptor numbers in the child.
const (
	fdFromHost = 3
	fdToHost   = 4
	fdStatus   = 5
)

// workerEnv marks a process started as a sandboxed child; its value is
// the protocol version.
const workerEnv = "VOW_HOST_WORKER"

// initMsg configures a child before it restricts itself.
type initMsg struct {
	mode     byte
	name     string // chunk name
	code     string
	args     []byte // run mode: encoded value list
	promises string
	penalty  uint64 // sandbox.Mode
	unveil   []Rule
	memory   uint64 // bytes on top of the start-up footprint; 0: no limit
	cpu      uint64 // seconds; 0: no limit
	libs     uint64 // Library
	funcs    []string
	maxFrame uint64
	notify   bool // pledge with a listener: the host supervises violations
}

func (m *initMsg) encode(w *wire.Buffer) {
	w.Reset(msgInit)
	w.Uvarint(protocolVersion)
	w.Byte(m.mode)
	w.String(m.name)
	w.String(m.code)
	w.String(string(m.args))
	w.String(m.promises)
	w.Uvarint(m.penalty)
	w.Uvarint(uint64(len(m.unveil)))
	for _, r := range m.unveil {
		w.String(r.Path)
		w.String(r.Perms)
	}
	w.Uvarint(m.memory)
	w.Uvarint(m.cpu)
	w.Uvarint(m.libs)
	w.Uvarint(uint64(len(m.funcs)))
	for _, f := range m.funcs {
		w.String(f)
	}
	w.Uvarint(m.maxFrame)
	w.Bool(m.notify)
}

func decodeInit(p []byte) (*initMsg, error) {
	r := wire.NewReader(p)
	if t := r.Byte(); t != msgInit {
		return nil, fmt.Errorf("expected the init message, got type %q", t)
	}
	if v := r.Uvarint(); v != protocolVersion && r.Err() == nil {
		return nil, fmt.Errorf("the host speaks protocol version %d and this worker binary version %d: "+
			"build the worker from the same version of vow as the host", v, protocolVersion)
	}
	m := &initMsg{}
	m.mode = r.Byte()
	m.name = r.String()
	m.code = r.String()
	m.args = []byte(r.String())
	m.promises = r.String()
	m.penalty = r.Uvarint()
	n := r.Count(2)
	for i := 0; i < n; i++ {
		m.unveil = append(m.unveil, Rule{Path: r.String(), Perms: r.String()})
	}
	m.memory = r.Uvarint()
	m.cpu = r.Uvarint()
	m.libs = r.Uvarint()
	n = r.Count(1)
	for i := 0; i < n; i++ {
		m.funcs = append(m.funcs, r.String())
	}
	m.maxFrame = r.Uvarint()
	m.notify = r.Byte() == wire.TagTrue
	if r.Err() != nil {
		return nil, r.Err()
	}
	if r.Left() != 0 {
		return nil, fmt.Errorf("wire: malformed message: %d bytes after the init message", r.Left())
	}
	return m, nil
}
