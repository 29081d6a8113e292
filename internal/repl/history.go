package repl

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// DefaultHistoryLimit is how many lines the history file keeps when
// Options.HistoryLimit is 0.
const DefaultHistoryLimit = 1000

// DefaultHistoryFile returns ~/.vow_history, or "" when there is no home
// directory (then the REPL keeps no history file).
func DefaultHistoryFile() string {
	home, err := os.UserHomeDir()
	if err != nil || home == "" {
		return ""
	}
	return filepath.Join(home, ".vow_history")
}

// history is the REPL's history file: one entered line per file line,
// oldest first. It is opened (and trimmed) once, before anything runs, so
// appending keeps working under any pledge (writing to an open descriptor
// needs only "stdio") and under a committed unveil.
type history struct {
	f     *os.File // nil: no file
	lines []string // what the file held at start, after trimming
	last  string
}

// openHistory opens path for appending, creating it with mode 0600 (and
// narrowing a looser mode to 0600: history holds whatever was typed). When
// it holds more than limit lines it is rewritten with the newest limit.
func openHistory(path string, limit int) (*history, error) {
	h := &history{}
	if path == "" {
		return h, nil
	}
	if limit <= 0 {
		limit = DefaultHistoryLimit
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return h, err
	}
	if st, err := f.Stat(); err == nil && st.Mode().Perm()&0o077 != 0 {
		_ = f.Chmod(0o600)
	}
	var lines []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	for sc.Scan() {
		if l := sc.Text(); strings.TrimSpace(l) != "" {
			lines = append(lines, l)
		}
	}
	if err := sc.Err(); err != nil {
		f.Close()
		return h, fmt.Errorf("reading %s: %w", path, err)
	}
	if len(lines) > limit {
		lines = lines[len(lines)-limit:]
		if err := rewriteHistory(path, lines); err != nil {
			f.Close()
			return h, err
		}
		f.Close()
		if f, err = os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0); err != nil {
			return h, err
		}
	}
	h.f, h.lines = f, lines
	if len(lines) > 0 {
		h.last = lines[len(lines)-1]
	}
	return h, nil
}

// rewriteHistory replaces path with lines through a temporary file in the
// same directory, so a crash leaves the old or the new file.
func rewriteHistory(path string, lines []string) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".vow_history.*")
	if err != nil {
		return fmt.Errorf("trimming %s: %w", path, err)
	}
	defer os.Remove(tmp.Name()) // after a successful rename: ENOENT, ignored
	w := bufio.NewWriter(tmp)
	for _, l := range lines {
		w.WriteString(l)
		w.WriteByte('\n')
	}
	err = w.Flush()
	if err == nil {
		err = tmp.Chmod(0o600)
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		return fmt.Errorf("trimming %s: %w", path, err)
	}
	return nil
}

// add appends line to the file, skipping blank lines and a repeat of the
// previous line. A line holding a newline (which cannot happen for typed
// lines) is stored as several.
func (h *history) add(line string) error {
	if strings.TrimSpace(line) == "" || line == h.last {
		return nil
	}
	h.last = line
	if h.f == nil {
		return nil
	}
	_, err := h.f.WriteString(line + "\n")
	return err
}

func (h *history) close() {
	if h.f != nil {
		h.f.Close()
	}
}
