package oauthcli

import (
	"strings"
	"testing"
)

func TestSteps(t *testing.T) {
	var out strings.Builder
	s := NewSteps(&out)
	s.Step("first %d", 1)
	s.Detail("about %s", "it")
	s.Line("open: %s", "u")
	s.Step("second")
	want := "step 1: first 1\n        about it\nopen: u\nstep 2: second\n"
	if out.String() != want {
		t.Errorf("output:\n%s\nwant:\n%s", out.String(), want)
	}
	if OrNone("") != "(none)" || OrNone("x") != "x" {
		t.Errorf("OrNone: %q, %q", OrNone(""), OrNone("x"))
	}
}
