package main

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

// TestReadmeQuickstart keeps the README's promises checkable: its
// quickstart is the two make targets, and CI runs its test command.
func TestReadmeQuickstart(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	block := regexp.MustCompile("(?s)## Quickstart.*?```sh\n(.*?)```").FindSubmatch(readme)
	if block == nil {
		t.Fatal("README has no Quickstart sh block")
	}
	var cmds []string
	for _, line := range strings.Split(strings.TrimSpace(string(block[1])), "\n") {
		cmd, _, _ := strings.Cut(line, "#")
		cmds = append(cmds, strings.TrimSpace(cmd))
	}
	if len(cmds) != 2 || cmds[0] != "make demo" || cmds[1] != "make test" {
		t.Fatalf("quickstart commands = %q, want make demo and make test", cmds)
	}
	ci, err := os.ReadFile("../../.ci/run")
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`(?m)^make test$`).Match(ci) {
		t.Errorf(".ci/run does not run the README's test command %q", cmds[1])
	}
	makefile, err := os.ReadFile("../../Makefile")
	if err != nil {
		t.Fatal(err)
	}
	for _, target := range []string{"help", "build", "test", "fuzz", "bench", "demo", "check"} {
		if !regexp.MustCompile(`(?m)^` + target + `:.*## \S`).Match(makefile) {
			t.Errorf("Makefile target %s is missing or has no ## comment", target)
		}
	}
}
