package sandbox_test

import (
	"os"
	"testing"

	"github.com/vow-sandbox/vow/internal/testutil"
	"github.com/vow-sandbox/vow/sandbox"
)

func TestMain(m *testing.M) {
	sandbox.Init() // the tests start sandbox.Cmd launchers: this binary re-executed
	code := m.Run()
	testutil.CleanupProbe()
	os.Exit(code)
}
