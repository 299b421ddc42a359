package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/journeyd/journeyd/sql/store/erase"
)

func TestEraseRefusesBadFlags(t *testing.T) {
	for _, args := range [][]string{
		{"--site", "shop"},
		{"--person", "u1"},
		{"--site", "shop", "--person", "u1", "--format", "xml"},
	} {
		if err := runErase(context.Background(), args); err == nil {
			t.Errorf("journeyd erase %v: no error", args)
		}
	}
}

func TestErasePlanOutput(t *testing.T) {
	p := &erase.Plan{Site: "shop", Person: "u1", UserIDs: []string{"u1"}, AnonIDs: []string{"u1", "a1"}, Sessions: []string{"s1"}, Events: 4, Links: 1}
	var text bytes.Buffer
	if err := writePlan(&text, p, false, "text"); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(text.String(), "would erase u1 on shop: 4 events, 1 session, 1 identity link") || !strings.Contains(text.String(), "--yes") {
		t.Errorf("dry run output:\n%s", text.String())
	}
	var js bytes.Buffer
	if err := writePlan(&js, p, true, "json"); err != nil {
		t.Fatal(err)
	}
	var got struct {
		Events int  `json:"events"`
		Erased bool `json:"erased"`
	}
	if err := json.Unmarshal(js.Bytes(), &got); err != nil || got.Events != 4 || !got.Erased {
		t.Errorf("json output %s: %+v, %v", js.String(), got, err)
	}
}
