package host

import (
	"testing"

	"github.com/vow-sandbox/vow/internal/testutil"
)

// TestAsNobody runs the main paths again as the unprivileged user nobody:
// Landlock and seccomp need no privileges, and neither do the limits.
func TestAsNobody(t *testing.T) {
	if testing.Short() {
		t.Skip("slow: runs the main tests again in a child")
	}
	if testutil.InChild(t) {
		for _, tt := range []struct {
			name string
			fn   func(*testing.T)
		}{
			{"RunKinds", TestRunKinds},
			{"RunPromisesAndUnveil", TestRunPromisesAndUnveil},
			{"VowRunLua", TestVowRunLua},
			{"RoundTripGolden", TestRoundTripGolden},
			{"PoolCalls", TestPoolCalls},
			{"PoolHostFuncs", TestPoolHostFuncs},
			{"PoolContainment", TestPoolContainment},
			{"PoolPromises", TestPoolPromises},
			{"PoolClose", TestPoolClose},
			{"RunViolationReports", TestRunViolationReports},
			{"PoolViolationReports", TestPoolViolationReports},
		} {
			t.Run(tt.name, tt.fn)
		}
		return
	}
	res := testutil.RunChild(t, &testutil.Options{UID: testutil.Nobody, GID: testutil.Nobody})
	if res.ExitCode != 0 {
		t.Errorf("as nobody: exit status %d\n%s%s", res.ExitCode, res.Stdout, res.Stderr)
	}
}
