package selftest

import (
	"encoding/json"
	"errors"
	"runtime"
	"testing"
)

func TestRunPasses(t *testing.T) {
	r := Run()
	if !r.OK {
		b, _ := json.Marshal(r)
		t.Fatalf("selftest failed: %s", b)
	}
	if r.GOOS != runtime.GOOS || r.GOARCH != runtime.GOARCH || r.Passed+r.Skipped != len(checks) {
		t.Fatalf("result header wrong: %+v", r)
	}
}

func TestRunReportsFailuresAndPanics(t *testing.T) {
	saved := checks
	defer func() { checks = saved }()
	checks = []struct {
		name string
		fn   func() error
	}{
		{"fine", func() error { return nil }},
		{"broken", func() error { return errors.New("boom") }},
		{"panics", func() error { panic("oops") }},
		{"skipped", func() error { return errSkip{"n/a"} }},
	}
	r := Run()
	if r.OK || r.Passed != 1 || r.Failed != 2 || r.Skipped != 1 {
		t.Fatalf("Run() = %+v", r)
	}
	if r.Checks[2].Detail != "panic: oops" {
		t.Errorf("panic detail %q", r.Checks[2].Detail)
	}
}
