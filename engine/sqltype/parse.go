package sqltype

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"
)

// node is one parsed type expression: a name with optional arguments, or a
// literal argument (number, quoted string, enum item).
type node struct {
	name   string  // type name, or "" for a literal
	lit    string  // literal text (unquoted for strings)
	quoted bool    // lit came from a quoted string
	args   []*node // arguments inside parentheses
	off    int     // byte offset of the node in the input
}

// SyntaxError is a malformed type string; Offset is the byte offset of the
// problem in the string, for placing a caret.
type SyntaxError struct {
	Offset int
	Msg    string
}

func (e *SyntaxError) Error() string { return e.Msg }

type parser struct {
	s   string
	pos int
	// multiWord lets Snowflake's "DOUBLE PRECISION" and "TIMESTAMP WITH TIME
	// ZONE" spellings through as one name.
	multiWord map[string][]string
}

func (p *parser) skipSpace() {
	for p.pos < len(p.s) && unicode.IsSpace(rune(p.s[p.pos])) {
		p.pos++
	}
}

func (p *parser) errorf(off int, format string, args ...any) error {
	return &SyntaxError{Offset: off, Msg: fmt.Sprintf(format, args...)}
}

func (p *parser) parseAll() (*node, error) {
	n, err := p.parseNode()
	if err != nil {
		return nil, err
	}
	p.skipSpace()
	if p.pos != len(p.s) {
		return nil, p.errorf(p.pos, "unexpected %q after type", p.s[p.pos:])
	}
	return n, nil
}

func (p *parser) ident() string {
	start := p.pos
	for p.pos < len(p.s) {
		c := p.s[p.pos]
		if c == '_' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' {
			p.pos++
			continue
		}
		break
	}
	return p.s[start:p.pos]
}

func (p *parser) parseNode() (*node, error) {
	p.skipSpace()
	if p.pos >= len(p.s) {
		return nil, p.errorf(p.pos, "missing type")
	}
	start := p.pos
	c := p.s[p.pos]
	switch {
	case c == '\'':
		p.pos++
		var b strings.Builder
		for {
			if p.pos >= len(p.s) {
				return nil, p.errorf(start, "unterminated string")
			}
			ch := p.s[p.pos]
			if ch == '\\' && p.pos+1 < len(p.s) {
				b.WriteByte(p.s[p.pos+1])
				p.pos += 2
				continue
			}
			p.pos++
			if ch == '\'' {
				break
			}
			b.WriteByte(ch)
		}
		n := &node{lit: b.String(), quoted: true, off: start}
		// An enum item: 'name' = 1.
		p.skipSpace()
		if p.pos < len(p.s) && p.s[p.pos] == '=' {
			p.pos++
			p.skipSpace()
			numStart := p.pos
			if p.pos < len(p.s) && p.s[p.pos] == '-' {
				p.pos++
			}
			p.ident()
			if _, err := strconv.Atoi(p.s[numStart:p.pos]); err != nil {
				return nil, p.errorf(numStart, "enum value must be an integer")
			}
			n.args = []*node{{lit: p.s[numStart:p.pos], off: numStart}}
		}
		return n, nil
	case c == '-' || c >= '0' && c <= '9':
		p.pos++
		p.ident()
		return &node{lit: p.s[start:p.pos], off: start}, nil
	}
	name := p.ident()
	if name == "" {
		return nil, p.errorf(start, "unexpected %q", string(c))
	}
	if nexts, ok := p.multiWord[strings.ToUpper(name)]; ok {
		save := p.pos
		var words []string
		for range nexts {
			p.skipSpace()
			words = append(words, p.ident())
		}
		if strings.EqualFold(strings.Join(words, " "), strings.Join(nexts, " ")) {
			name += " " + strings.Join(nexts, " ")
		} else {
			p.pos = save
		}
	}
	n := &node{name: name, off: start}
	p.skipSpace()
	if p.pos < len(p.s) && p.s[p.pos] == '(' {
		p.pos++
		p.skipSpace()
		if p.pos < len(p.s) && p.s[p.pos] == ')' {
			p.pos++
			return n, nil
		}
		for {
			arg, err := p.parseNode()
			if err != nil {
				return nil, err
			}
			n.args = append(n.args, arg)
			p.skipSpace()
			if p.pos >= len(p.s) {
				return nil, p.errorf(p.pos, "missing ) to close %s(", name)
			}
			if p.s[p.pos] == ',' {
				p.pos++
				continue
			}
			if p.s[p.pos] == ')' {
				p.pos++
				break
			}
			return nil, p.errorf(p.pos, "expected , or ) in %s(...), found %q", name, string(p.s[p.pos]))
		}
	}
	return n, nil
}

// intArg reads argument i of n as an integer in [lo, hi].
func intArg(n *node, i, lo, hi int, what string) (int, error) {
	if i >= len(n.args) {
		return 0, &SyntaxError{Offset: n.off, Msg: fmt.Sprintf("%s: missing %s", n.name, what)}
	}
	a := n.args[i]
	v, err := strconv.Atoi(a.lit)
	if a.name != "" || a.quoted || err != nil {
		return 0, &SyntaxError{Offset: a.off, Msg: fmt.Sprintf("%s: %s must be a number", n.name, what)}
	}
	if v < lo || v > hi {
		return 0, &SyntaxError{Offset: a.off, Msg: fmt.Sprintf("%s: %s %d out of range [%d, %d]", n.name, what, v, lo, hi)}
	}
	return v, nil
}

func argCount(n *node, lo, hi int) error {
	if len(n.args) < lo || len(n.args) > hi {
		want := fmt.Sprint(lo)
		if hi != lo {
			want = fmt.Sprintf("%d to %d", lo, hi)
		}
		return &SyntaxError{Offset: n.off, Msg: fmt.Sprintf("%s takes %s arguments, got %d", n.name, want, len(n.args))}
	}
	return nil
}
