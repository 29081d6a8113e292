package lualib

import (
	"errors"
	"fmt"
	"syscall"
	"testing"

	lua "github.com/yuin/gopher-lua"
)

func TestErrnoName(t *testing.T) {
	tests := []struct {
		errno syscall.Errno
		want  string
	}{
		{syscall.ENOENT, "ENOENT"},
		{syscall.EAGAIN, "EAGAIN"},   // not EWOULDBLOCK
		{syscall.EDEADLK, "EDEADLK"}, // not EDEADLOCK
		{95, "ENOTSUP"},              // not EOPNOTSUPP
		{79, "ELIBACC"},              // not EFTYPE: Linux's name from x/sys
		{syscall.EKEYEXPIRED, "EKEYEXPIRED"},
		{4000, "4000"}, // never ""
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			if got := ErrnoName(tt.errno); got != tt.want {
				t.Errorf("ErrnoName(%d) = %q, want %q", int(tt.errno), got, tt.want)
			}
		})
	}
}

func TestErrnoDoc(t *testing.T) {
	tests := []struct {
		errno syscall.Errno
		want  string
	}{
		{syscall.ENOENT, "No such file or directory"},
		{syscall.EPERM, "Operation not permitted"},
		{syscall.EAGAIN, "Resource temporarily unavailable"},
		{syscall.EINVAL, "Invalid argument"},
		{syscall.EACCES, "Permission denied"},
	}
	for _, tt := range tests {
		if got := ErrnoDoc(tt.errno); got != tt.want {
			t.Errorf("ErrnoDoc(%d) = %q, want %q", int(tt.errno), got, tt.want)
		}
	}
}

func TestErrnoFromError(t *testing.T) {
	tests := []struct {
		name      string
		err       error
		wantErrno syscall.Errno
		wantDoc   string
		wantText  string
	}{
		{"bare errno", syscall.ENOENT, syscall.ENOENT, "No such file or directory", "pledge() failed: No such file or directory"},
		{"NewErrno", NewErrno(syscall.EINVAL, "unknown promise 'stdoi' (did you mean 'stdio'?)"), syscall.EINVAL,
			"unknown promise 'stdoi' (did you mean 'stdio'?)", "pledge() failed: unknown promise 'stdoi' (did you mean 'stdio'?)"},
		{"wrapped NewErrno", fmt.Errorf("ctx: %w", NewErrno(syscall.EPERM, "not now")), syscall.EPERM, "not now", "pledge() failed: not now"},
		{"wrapped errno", fmt.Errorf("landlock_create_ruleset: %w", syscall.ENOSYS), syscall.ENOSYS,
			"landlock_create_ruleset: function not implemented", "pledge() failed: landlock_create_ruleset: function not implemented"},
		{"no errno", errors.New("bad rule"), syscall.EINVAL, "bad rule", "pledge() failed: bad rule"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := errnoFromError(tt.err, "pledge")
			if e.Errno != tt.wantErrno {
				t.Errorf("errno = %v, want %v", e.Errno, tt.wantErrno)
			}
			doc := e.Doc
			if doc == "" {
				doc = ErrnoDoc(e.Errno)
			}
			if doc != tt.wantDoc {
				t.Errorf("doc = %q, want %q", doc, tt.wantDoc)
			}
			if e.Error() != tt.wantText {
				t.Errorf("text = %q, want %q", e.Error(), tt.wantText)
			}
			if !errors.Is(e, tt.wantErrno) {
				t.Errorf("errors.Is(%v, %v) is false", e, tt.wantErrno)
			}
		})
	}
}

// TestErrnoObject checks the Lua object from Go: methods, tostring, and
// that the call name is the binding's.
func TestErrnoObject(t *testing.T) {
	L := lua.NewState()
	defer L.Close()
	OpenUnix(L, nil)
	if err := L.DoString(`
		local fd, err = unix.open("/nonexistent/x")
		return fd, err, err:errno(), err:name(), err:doc(), err:call(), tostring(err), err:winerr(), type(err)`); err != nil {
		t.Fatal(err)
	}
	want := []lua.LValue{lua.LNil, nil, lua.LNumber(2), lua.LString("ENOENT"), lua.LString("No such file or directory"),
		lua.LString("open"), lua.LString("open() failed: No such file or directory"), lua.LNumber(0), lua.LString("userdata")}
	base := L.GetTop() - len(want)
	for i, w := range want {
		got := L.Get(base + i + 1)
		if w == nil {
			ud, ok := got.(*lua.LUserData)
			if !ok {
				t.Fatalf("result %d = %v, want a userdata", i+1, got)
			}
			if e, ok := ud.Value.(*Errno); !ok || e.Errno != syscall.ENOENT || e.Call != "open" {
				t.Errorf("userdata value = %#v", ud.Value)
			}
			continue
		}
		if got != w {
			t.Errorf("result %d = %v, want %v", i+1, got, w)
		}
	}
}
