package serial

import (
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

func TestCheckPTY(t *testing.T) {
	err := CheckPTY()
	if runtime.GOOS != "linux" {
		if !errors.Is(err, ErrUnsupported) {
			t.Fatalf("CheckPTY on %s: %v, want ErrUnsupported", runtime.GOOS, err)
		}
		return
	}
	if errors.Is(err, ErrUnsupported) {
		if _, statErr := os.Stat("/dev/ptmx"); statErr != nil {
			t.Skipf("no /dev/ptmx here: %v", err)
		}
	}
	if err != nil {
		t.Fatal(err)
	}
}

func TestOpenErrors(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("unix paths")
	}
	regular := filepath.Join(t.TempDir(), "not-a-tty")
	if err := os.WriteFile(regular, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, path string
		baud       int
		wantSubstr string
	}{
		{"missing device names the path", "/dev/does-not-exist-cup", 115200, "/dev/does-not-exist-cup"},
		{"bad baud names the option", "/dev/null", 12345, "--baud"},
		{"regular file is not a tty", regular, 0, "not a terminal"},
	}
	for _, tc := range tests {
		p, err := Open(tc.path, Config{Baud: tc.baud})
		if err == nil {
			p.Close()
			t.Errorf("%s: Open succeeded", tc.name)
			continue
		}
		if !strings.Contains(err.Error(), tc.wantSubstr) {
			t.Errorf("%s: error %q does not mention %q", tc.name, err, tc.wantSubstr)
		}
	}
}

func TestBaudsSorted(t *testing.T) {
	b := Bauds()
	if len(b) == 0 || b[len(b)-1] < DefaultBaud {
		t.Fatalf("Bauds() = %v", b)
	}
	for i := 1; i < len(b); i++ {
		if b[i] <= b[i-1] {
			t.Fatalf("Bauds() not sorted: %v", b)
		}
	}
}
