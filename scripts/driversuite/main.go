// Command driversuite runs gosnowflake's own test suite against snowsim
// for scripts/driver-suite and reports on it.
//
//	driversuite run -o FILE -p PACKAGE TESTBINARY [ARGS...]
//
// runs a compiled test binary through go tool test2json and writes its
// events to FILE; when the binary dies (a test panics or hangs past the
// timeout), the test it was running counts as failed and the binary runs
// again with every test that has an outcome skipped, until each test has
// one.
//
//	driversuite report [-groups FILE] [-out FILE] EVENTS...
//
// sorts the outcomes into the groups testdata/driver-suite/groups.txt
// lists, writes one line per test, prints pass/fail/skip per group and
// exits 1 when the pipeline group passes below the threshold. Its last
// line gives the pipeline group's passes, total and share.
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: driversuite run|report ...")
		os.Exit(2)
	}
	switch os.Args[1] {
	case "run":
		os.Exit(runSuite(os.Args[2:], os.Stderr))
	case "report":
		os.Exit(report(os.Args[2:], os.Stdout, os.Stderr))
	}
	fmt.Fprintln(os.Stderr, "usage: driversuite run|report ...")
	os.Exit(2)
}

// A rule puts the top-level tests whose names match pattern in group. The
// group's scope is the part of its name before the colon: pipeline,
// offline or out.
type rule struct {
	group   string
	pattern *regexp.Regexp
	reason  string
}

// readRules reads the groups file: one rule a line, "group pattern --
// reason", first match wins; # starts a comment line.
func readRules(name string) ([]rule, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var rules []rule
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		spec, reason, _ := strings.Cut(line, " -- ")
		fields := strings.Fields(spec)
		if len(fields) != 2 || strings.TrimSpace(reason) == "" {
			return nil, fmt.Errorf("%s:%d: want \"group pattern -- reason\"", name, n)
		}
		scope, _, _ := strings.Cut(fields[0], ":")
		if scope != "pipeline" && scope != "out" && scope != "offline" {
			return nil, fmt.Errorf("%s:%d: group %q: want a pipeline:, out: or offline: prefix", name, n, fields[0])
		}
		pattern := fields[1]
		if file, ok := strings.CutPrefix(pattern, "@"); ok {
			// @FILE: the test names FILE lists, one a line.
			b, err := os.ReadFile(filepath.Join(filepath.Dir(name), file))
			if err != nil {
				return nil, fmt.Errorf("%s:%d: %v", name, n, err)
			}
			var names []string
			for _, l := range strings.Fields(string(b)) {
				names = append(names, regexp.QuoteMeta(l))
			}
			pattern = strings.Join(names, "|")
			if pattern == "" {
				pattern = "$^"
			}
		}
		re, err := regexp.Compile("^(?:" + pattern + ")$")
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %v", name, n, err)
		}
		rules = append(rules, rule{fields[0], re, strings.TrimSpace(reason)})
	}
	return rules, sc.Err()
}

type event struct {
	Action  string
	Package string
	Test    string
}

// readResults reads the outcomes in a file of test2json events.
func readResults(name, root string) (map[string]string, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r, err := parseEvents(f, root)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", name, err)
	}
	return r, nil
}

// parseEvents reads test2json output: the outcome of every top-level
// test, keyed by its name (prefixed with the subpackage outside root). A
// test that started and never ended (its binary died) failed. Lines that
// are not events (a crashed binary's last words) are skipped.
func parseEvents(rd io.Reader, root string) (map[string]string, error) {
	out := map[string]string{}
	sc := bufio.NewScanner(rd)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	for sc.Scan() {
		var e event
		if json.Unmarshal(sc.Bytes(), &e) != nil {
			continue
		}
		if e.Test == "" || strings.Contains(e.Test, "/") {
			continue
		}
		key := e.Test
		if root != "" {
			if sub := strings.TrimPrefix(e.Package, root+"/"); sub != e.Package {
				key = sub + "." + e.Test
			}
		}
		switch e.Action {
		case "run":
			if out[key] == "" {
				out[key] = "fail"
			}
		case "pass", "fail", "skip":
			out[key] = e.Action
		}
	}
	return out, sc.Err()
}

func report(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("driversuite report", flag.ContinueOnError)
	groups := fs.String("groups", "testdata/driver-suite/groups.txt", "the groups `file`")
	out := fs.String("out", "", "write the per-test list to `file`")
	header := fs.String("header", "", "first line of the per-test list")
	root := fs.String("root", "github.com/snowflakedb/gosnowflake/v2", "the suite's root `package`")
	min := fs.Float64("min", 90, "the pipeline group's lowest passing `percent`")
	passed := fs.Bool("names-passed", false, "print the names of the tests that passed, and nothing else")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *passed {
		var names []string
		for _, f := range fs.Args() {
			r, err := readResults(f, *root)
			if err != nil {
				fmt.Fprintln(stderr, "driversuite:", err)
				return 2
			}
			for n, v := range r {
				if v == "pass" {
					names = append(names, n)
				}
			}
		}
		sort.Strings(names)
		for _, n := range names {
			fmt.Fprintln(stdout, n)
		}
		return 0
	}
	rules, err := readRules(*groups)
	if err != nil {
		fmt.Fprintln(stderr, "driversuite:", err)
		return 2
	}
	results := map[string]string{}
	for _, f := range fs.Args() {
		r, err := readResults(f, *root)
		if err != nil {
			fmt.Fprintln(stderr, "driversuite:", err)
			return 2
		}
		for k, v := range r {
			results[k] = v
		}
	}
	names := make([]string, 0, len(results))
	for n := range results {
		names = append(names, n)
	}
	sort.Strings(names)
	type tally struct{ pass, fail, skip int }
	byGroup := map[string]*tally{}
	var lines []string
	for _, n := range names {
		group := "pipeline:unlisted"
		for _, r := range rules {
			if r.pattern.MatchString(n) {
				group = r.group
				break
			}
		}
		t := byGroup[group]
		if t == nil {
			t = &tally{}
			byGroup[group] = t
		}
		switch results[n] {
		case "pass":
			t.pass++
		case "fail":
			t.fail++
		case "skip":
			t.skip++
		}
		lines = append(lines, fmt.Sprintf("%-4s  %-28s %s", results[n], group, n))
	}
	if *out != "" {
		text := strings.Join(lines, "\n") + "\n"
		if *header != "" {
			text = "# " + *header + "\n" + text
		}
		if err := os.WriteFile(*out, []byte(text), 0o644); err != nil {
			fmt.Fprintln(stderr, "driversuite:", err)
			return 2
		}
	}
	gnames := make([]string, 0, len(byGroup))
	for g := range byGroup {
		gnames = append(gnames, g)
	}
	sort.Strings(gnames)
	fmt.Fprintf(stdout, "%-28s %5s %5s %5s\n", "group", "pass", "fail", "skip")
	scopes := map[string]*tally{}
	for _, g := range gnames {
		t := byGroup[g]
		fmt.Fprintf(stdout, "%-28s %5d %5d %5d\n", g, t.pass, t.fail, t.skip)
		scope, _, _ := strings.Cut(g, ":")
		s := scopes[scope]
		if s == nil {
			s = &tally{}
			scopes[scope] = s
		}
		s.pass += t.pass
		s.fail += t.fail
		s.skip += t.skip
	}
	for _, sc := range []string{"offline", "out"} {
		if s := scopes[sc]; s != nil {
			fmt.Fprintf(stdout, "%s (not counted): %d pass, %d fail, %d skip\n", sc, s.pass, s.fail, s.skip)
		}
	}
	// Skipped pipeline tests count as not passing: a test the suite skips
	// against snowsim is one snowsim has not shown it can pass.
	p := scopes["pipeline"]
	if p == nil {
		p = &tally{}
	}
	total := p.pass + p.fail + p.skip
	share := 0.0
	if total > 0 {
		share = 100 * float64(p.pass) / float64(total)
	}
	fmt.Fprintf(stdout, "pipeline group: %d/%d passed (%.1f %%)\n", p.pass, total, share)
	if share < *min {
		return 1
	}
	return 0
}
