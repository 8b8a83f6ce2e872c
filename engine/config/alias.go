package config

import (
	"fmt"

	"go.yaml.in/yaml/v4"
)

// Limits on YAML aliases. A parsed file keeps an alias as a pointer to its
// anchor, but checking a folder expands it (schema validation sees plain
// values), so 651 bytes of nested aliases ("billion laughs") would expand
// to billions of nodes, and an alias inside its own anchor forever.
// Pipelines share a few defaults through anchors; these limits leave that
// room a thousand times over.
const (
	// MaxAliasNodes is how many nodes a file's aliases may add when
	// expanded.
	MaxAliasNodes = 100_000
	// MaxAliasDepth is how deeply aliases may nest: an alias to a node
	// that holds an alias to a node that holds an alias, and so on.
	MaxAliasDepth = 10
)

// checkAliases reports an alias inside its own anchor, aliases that nest
// too deeply and aliases that expand to too much, each at the alias. It
// reports whether the file is safe to expand. The work is linear in the
// file: each anchor is measured once.
func (d *doc) checkAliases(root *yaml.Node) bool {
	c := &aliasCheck{d: d, size: map[*yaml.Node]int{}, depth: map[*yaml.Node]int{}, open: map[*yaml.Node]bool{}}
	c.measure(root)
	if c.bad {
		return false
	}
	// Each alias outside the expansion of another adds its anchor's
	// expanded size, less itself: the first to take the sum past the
	// limit is the one reported.
	added := 0
	var walk func(n *yaml.Node) bool
	walk = func(n *yaml.Node) bool {
		if n.Kind == yaml.AliasNode {
			if n.Alias == nil {
				return true
			}
			s := c.size[n.Alias]
			if added = capped(added + s - 1); added > MaxAliasNodes {
				d.errorf(n, "aliases expand to more than %s nodes (*%s alone to %s): write the values out instead", count(MaxAliasNodes), n.Value, countCapped(s))
				return false
			}
			if dp := c.depth[n.Alias] + 1; dp > MaxAliasDepth {
				d.errorf(n, "*%s nests aliases %d deep; at most %d", n.Value, dp, MaxAliasDepth)
				return false
			}
			return true
		}
		for _, ch := range n.Content {
			if !walk(ch) {
				return false
			}
		}
		return true
	}
	return walk(root)
}

type aliasCheck struct {
	d     *doc
	size  map[*yaml.Node]int // an anchored node's expanded size
	depth map[*yaml.Node]int // the alias nesting inside an anchored node
	open  map[*yaml.Node]bool
	bad   bool
}

// measure returns n's node count with aliases expanded (capped past
// MaxAliasNodes) and how deeply aliases nest in it.
func (c *aliasCheck) measure(n *yaml.Node) (size, depth int) {
	if c.bad {
		return 1, 0
	}
	if n.Kind == yaml.AliasNode {
		t := n.Alias
		if t == nil {
			return 1, 0
		}
		if c.open[t] {
			c.d.errorf(n, "alias *%s is inside its own anchor &%s (line %d): it would expand forever", n.Value, t.Anchor, t.Line)
			c.bad = true
			return 1, 0
		}
		if s, ok := c.size[t]; ok {
			return s, c.depth[t] + 1
		}
		c.open[t] = true
		s, dp := c.measure(t)
		delete(c.open, t)
		c.size[t], c.depth[t] = s, dp
		return s, dp + 1
	}
	if n.Anchor != "" {
		c.open[n] = true
		defer delete(c.open, n)
	}
	size = 1
	for _, ch := range n.Content {
		s, dp := c.measure(ch)
		size, depth = capped(size+s), max(depth, dp)
	}
	return size, depth
}

// capped keeps sizes from overflowing: past the limit, the exact size
// does not matter.
func capped(n int) int { return min(n, 2*MaxAliasNodes) }

func countCapped(n int) string {
	if n >= 2*MaxAliasNodes {
		return "more than " + count(2*MaxAliasNodes)
	}
	return count(n)
}

// count formats n with thousands separators: 100,000.
func count(n int) string {
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
