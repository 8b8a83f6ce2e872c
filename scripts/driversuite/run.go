package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"regexp"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"
)

// runSuite runs a test binary until every top-level test it lists has an
// outcome, restarting it after a crash with the finished tests skipped.
func runSuite(args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("driversuite run", flag.ContinueOnError)
	out := fs.String("o", "", "append test2json events to `file`")
	pkg := fs.String("p", "", "the test binary's `package`")
	perTest := fs.Duration("t", 3*time.Minute, "stop a top-level test that runs longer than `duration`")
	if err := fs.Parse(args); err != nil || fs.NArg() < 1 || *out == "" {
		fmt.Fprintln(stderr, "usage: driversuite run -o FILE -p PACKAGE TESTBINARY [ARGS...]")
		return 2
	}
	bin, extra := fs.Arg(0), fs.Args()[1:]
	listed, err := exec.Command(bin, append([]string{"-test.list", "."}, runFlags(extra)...)...).Output()
	if err != nil {
		fmt.Fprintf(stderr, "driversuite: listing %s: %v\n", bin, err)
		return 2
	}
	var all []string
	for _, l := range strings.Split(string(listed), "\n") {
		if strings.HasPrefix(l, "Test") {
			all = append(all, l)
		}
	}
	f, err := os.Create(*out)
	if err != nil {
		fmt.Fprintln(stderr, "driversuite:", err)
		return 2
	}
	defer f.Close()
	done := map[string]bool{}
	for round := 1; ; round++ {
		var skip []string
		for n := range done {
			skip = append(skip, regexp.QuoteMeta(n))
		}
		sort.Strings(skip)
		a := []string{"tool", "test2json", "-p", *pkg, bin, "-test.v=test2json", "-test.count=1"}
		a = append(a, extra...)
		if len(skip) > 0 {
			a = append(a, "-test.skip", "^("+strings.Join(skip, "|")+")$")
		}
		var buf bytes.Buffer
		cmd := exec.Command("go", a...)
		cmd.Stderr = stderr
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		pipe, err := cmd.StdoutPipe()
		if err != nil {
			fmt.Fprintln(stderr, "driversuite:", err)
			return 2
		}
		if err := cmd.Start(); err != nil {
			fmt.Fprintln(stderr, "driversuite:", err)
			return 2
		}
		watch(pipe, io.MultiWriter(f, &buf), *perTest, func(name string) {
			fmt.Fprintf(stderr, "driversuite: %s ran longer than %v; stopping it\n", name, *perTest)
			syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		})
		cmd.Wait() // a failing suite exits 1; what ran is in the events
		r, err := parseEvents(&buf, "")
		if err != nil {
			fmt.Fprintln(stderr, "driversuite:", err)
			return 2
		}
		progress := false
		for n := range r {
			if !done[n] {
				done[n] = true
				progress = true
			}
		}
		left := 0
		for _, n := range all {
			if !done[n] {
				left++
			}
		}
		if left == 0 || !progress {
			if left > 0 {
				fmt.Fprintf(stderr, "driversuite: %d tests of %s never ran\n", left, *pkg)
			}
			return 0
		}
		fmt.Fprintf(stderr, "driversuite: %s stopped with %d tests left (round %d); running them\n", *pkg, left, round)
	}
}

// runFlags keeps the flags that select tests, for listing them.
func runFlags(args []string) []string {
	var keep []string
	for i := 0; i < len(args); i++ {
		if (args[i] == "-test.run" || args[i] == "-test.skip") && i+1 < len(args) {
			keep = append(keep, args[i], args[i+1])
			i++
		}
	}
	return keep
}

// watch copies test2json events from r to w and calls stop with the name
// of a top-level test that has run longer than limit.
func watch(r io.Reader, w io.Writer, limit time.Duration, stop func(string)) {
	var mu sync.Mutex
	running := map[string]time.Time{}
	done := make(chan struct{})
	defer close(done)
	go func() {
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case now := <-tick.C:
				mu.Lock()
				for n, t := range running {
					if now.Sub(t) > limit {
						delete(running, n)
						mu.Unlock()
						stop(n)
						mu.Lock()
					}
				}
				mu.Unlock()
			}
		}
	}()
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	for sc.Scan() {
		line := sc.Bytes()
		w.Write(line)
		w.Write([]byte{'\n'})
		var e event
		if json.Unmarshal(line, &e) != nil || e.Test == "" || strings.Contains(e.Test, "/") {
			continue
		}
		mu.Lock()
		switch e.Action {
		case "run":
			running[e.Test] = time.Now()
		case "pause":
			delete(running, e.Test)
		case "cont":
			running[e.Test] = time.Now()
		case "pass", "fail", "skip":
			delete(running, e.Test)
		}
		mu.Unlock()
	}
}
