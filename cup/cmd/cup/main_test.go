package main

import (
	"bytes"
	"context"
	"encoding/json"
	"runtime"
	"strings"
	"testing"

	"cupcross.dev/cup/internal/version"
)

func runCup(args ...string) (int, string, string) {
	var out, errb bytes.Buffer
	code := run(context.Background(), args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestCommandLine(t *testing.T) {
	tests := []struct {
		name      string
		args      []string
		code      int
		outSubstr string
		errSubstr string
	}{
		{"no args", nil, exitUsage, "", "usage:"},
		{"unknown command", []string{"brew"}, exitUsage, "", `unknown command "brew"`},
		{"version", []string{"version"}, exitOK, version.Version, ""},
		{"help", []string{"help"}, exitOK, "cup serve", ""},
		{"send needs a device", []string{"send", "--pattern", "solid"}, exitUsage, "", "--device"},
		{"send needs a pattern", []string{"send", "--sim"}, exitUsage, "", "--pattern is required"},
		{"send bad pattern", []string{"send", "--sim", "--pattern", "disco"}, exitUsage, "", "unknown pattern"},
		{"send bad colour", []string{"send", "--sim", "--pattern", "solid", "--color", "#12"}, exitUsage, "", "--color"},
		{"send bad brightness", []string{"send", "--sim", "--pattern", "solid", "--brightness", "300"}, exitUsage, "", "--brightness"},
		{"send device and sim", []string{"send", "--sim", "--device", "/dev/null", "--pattern", "solid"}, exitUsage, "", "exclude"},
		{"send to sim", []string{"send", "--sim", "--pattern", "rainbow", "--color", "#00ff00"}, exitOK, "rainbow #00ff00", ""},
		{"send to missing device", []string{"send", "--device", "/dev/cup-missing", "--pattern", "solid"}, exitFailure, "", "/dev/cup-missing"},
		{"serve refuses public addr without token", []string{"serve", "--addr", "0.0.0.0:0"}, exitUsage, "", "--token"},
		{"serve token file missing", []string{"serve", "--token-file", "/nonexistent/cup-token"}, exitUsage, "", "/nonexistent/cup-token"},
		{"serve bad flag", []string{"serve", "--colour", "red"}, exitUsage, "", "flag provided but not defined"},
		{"stray argument", []string{"selftest", "extra"}, exitUsage, "", "unexpected argument"},
	}
	for _, tc := range tests {
		code, out, errs := runCup(tc.args...)
		if code != tc.code || !strings.Contains(out, tc.outSubstr) || !strings.Contains(errs, tc.errSubstr) {
			t.Errorf("%s: cup %v = %d\nstdout: %s\nstderr: %s\nwant %d, stdout ~ %q, stderr ~ %q",
				tc.name, tc.args, code, out, errs, tc.code, tc.outSubstr, tc.errSubstr)
		}
	}
}

func TestSelftestJSON(t *testing.T) {
	code, out, errs := runCup("selftest")
	if code != exitOK {
		t.Fatalf("selftest exit %d: %s %s", code, out, errs)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 1 {
		t.Fatalf("selftest printed %d lines, want 1", len(lines))
	}
	var r map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &r); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"goos", "goarch", "goarm", "cgo", "ok", "checks"} {
		if _, ok := r[k]; !ok {
			t.Errorf("selftest JSON has no %q", k)
		}
	}
	if r["goos"] != runtime.GOOS || r["ok"] != true {
		t.Errorf("selftest JSON: %v", r)
	}
}
