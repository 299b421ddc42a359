package main

import (
	"context"
	"strings"
	"testing"
)

func TestReplayNeedsFile(t *testing.T) {
	err := runReplay(context.Background(), nil)
	if err == nil || !strings.Contains(err.Error(), "--file") {
		t.Errorf("journeyd replay without --file: %v, want an error naming --file", err)
	}
}
