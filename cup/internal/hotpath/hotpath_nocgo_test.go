//go:build !cgo

package hotpath

import (
	"errors"
	"testing"
)

func TestCompareWithoutCgo(t *testing.T) {
	if _, err := CompareCgoWithGo(1, 10); !errors.Is(err, ErrNoCgo) {
		t.Fatalf("CompareCgoWithGo without cgo: err = %v, want ErrNoCgo", err)
	}
}
