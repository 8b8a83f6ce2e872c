package config

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/hockeystack/sluice/engine/diag"
	"github.com/hockeystack/sluice/engine/sqlscan"
)

// order finds what each stream waits for and puts the pipeline's streams
// in the order they run: a stream whose query reads a table another
// stream of the pipeline writes (on the same kind of database) runs after
// it, and so does one that names it in after:. Streams that do not depend
// on each other keep name order. A cycle is an error at each of its
// streams.
func (l *loader) order(p *Pipeline) {
	byName := map[string]*Stream{}
	names := make([]string, 0, len(p.Streams))
	for _, s := range p.Streams {
		byName[s.Name] = s
		names = append(names, s.Name)
	}
	for _, s := range p.Streams {
		up := map[string]bool{}
		for i, a := range s.After {
			if a == s.Name {
				l.d.ds.Errorf(s.AfterPos[i], len(a), "stream %s: after: a stream cannot wait for itself", s.Name)
				continue
			}
			if byName[a] == nil {
				l.d.ds.Errorf(s.AfterPos[i], len(a), "stream %s: after: no stream %s in this pipeline%s", s.Name, a, diag.DidYouMean(a, names))
				continue
			}
			up[a] = true
		}
		for _, name := range sqlscan.Tables(s.Source.SQL) {
			table := name.String()
			for _, w := range p.Streams {
				if w != s && w.Destination.ConnectionKind == s.Source.ConnectionKind && w.Destination.Table != "" && sameTable(table, w.Destination.Table) {
					up[w.Name] = true
					s.Reads = append(s.Reads, TableRead{Table: table, WrittenBy: w.Name})
				}
			}
		}
		for u := range up {
			s.Upstream = append(s.Upstream, u)
		}
		sort.Strings(s.Upstream)
	}
	// Kahn's algorithm, taking the first ready stream by name each time.
	waiting := map[string]int{}
	for _, s := range p.Streams {
		waiting[s.Name] = len(s.Upstream)
	}
	var out []*Stream
	done := map[string]bool{}
	for len(out) < len(p.Streams) {
		var next *Stream
		for _, s := range p.Streams { // in name order
			if !done[s.Name] && waiting[s.Name] == 0 {
				next = s
				break
			}
		}
		if next == nil {
			break
		}
		done[next.Name] = true
		out = append(out, next)
		for _, s := range p.Streams {
			if slices.Contains(s.Upstream, next.Name) {
				waiting[s.Name]--
			}
		}
	}
	if len(out) < len(p.Streams) {
		var cycle []string
		for _, s := range p.Streams {
			if !done[s.Name] {
				cycle = append(cycle, s.Name)
			}
		}
		for _, n := range cycle {
			s := byName[n]
			l.d.ds.Errorf(s.Pos, len(s.Name), "stream %s waits for %s: streams %s wait for each other in a cycle", s.Name, strings.Join(s.Upstream, ", "), strings.Join(cycle, ", "))
		}
		for _, n := range cycle {
			out = append(out, byName[n])
		}
	}
	p.Streams = out
}

// sameTable reports whether a name a query reads is the table a stream
// writes: equal ignoring case, or one a dotted suffix of the other (a
// query may name a table without the database or schema its connection
// defaults to).
func sameTable(read, written string) bool {
	r := strings.Split(strings.ToUpper(strings.ReplaceAll(read, `"`, "")), ".")
	w := strings.Split(strings.ToUpper(strings.ReplaceAll(written, `"`, "")), ".")
	if len(r) > len(w) {
		r, w = w, r
	}
	return slices.Equal(r, w[len(w)-len(r):])
}

// TableRead is a table a stream's query reads that another stream of
// the pipeline writes.
type TableRead struct {
	Table     string // as the query names it
	WrittenBy string // the stream that writes it
}

func (r TableRead) String() string { return fmt.Sprintf("%s (written by %s)", r.Table, r.WrittenBy) }
