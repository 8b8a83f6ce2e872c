package config

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
	"go.yaml.in/yaml/v4"
	"golang.org/x/text/language"
	"golang.org/x/text/message"

	"github.com/hockeystack/sluice/engine/diag"
	"github.com/hockeystack/sluice/schemas"
)

// schema is a compiled JSON Schema with its raw document, which error
// messages consult for the fields a mapping allows.
type schema struct {
	compiled *jsonschema.Schema
	raw      map[string]any
}

var (
	pipelineSchema    = sync.OnceValue(func() *schema { return compileSchema("pipeline.schema.json", schemas.Pipeline) })
	connectionsSchema = sync.OnceValue(func() *schema { return compileSchema("connections.schema.json", schemas.Connections) })
	fixtureSchema     = sync.OnceValue(func() *schema { return compileSchema("fixture.schema.json", schemas.Fixture) })
)

// CheckFixture checks a fixture test file (tests/*.yaml) against its JSON
// Schema, each problem at its file, line and column.
func CheckFixture(path string, src []byte) diag.Diagnostics {
	var ds diag.Diagnostics
	d := parseYAML(path, src, &ds)
	fixtureSchema().validate(d)
	return ds.Sort()
}

func compileSchema(name string, src []byte) *schema {
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(src))
	if err != nil {
		panic(fmt.Sprintf("schemas/%s: %v", name, err)) // embedded at build time: a bug, not input
	}
	c := jsonschema.NewCompiler()
	url := "sluice:///" + name
	if err := c.AddResource(url, doc); err != nil {
		panic(fmt.Sprintf("schemas/%s: %v", name, err))
	}
	sch, err := c.Compile(url)
	if err != nil {
		panic(fmt.Sprintf("schemas/%s: %v", name, err))
	}
	var raw map[string]any
	if err := json.Unmarshal(src, &raw); err != nil {
		panic(err)
	}
	return &schema{compiled: sch, raw: raw}
}

// validate checks d against s and reports each violation at the YAML node
// it concerns.
func (s *schema) validate(d *doc) {
	if d.root == nil {
		return
	}
	err := s.compiled.Validate(generic(d.root))
	if err == nil {
		return
	}
	ve, ok := err.(*jsonschema.ValidationError)
	if !ok {
		d.ds.Errorf(diag.Pos{File: d.path}, 0, "%v", err)
		return
	}
	// A problem already reported by a more specific check (a literal
	// secret, say) is not reported again in the schema's words.
	var found diag.Diagnostics
	sub := *d
	sub.ds = &found
	s.report(&sub, ve)
	taken := map[diag.Pos]bool{}
	for _, x := range *d.ds {
		taken[x.Pos] = true
	}
	for _, x := range found {
		if !taken[x.Pos] {
			d.ds.Add(x)
		}
	}
}

func (s *schema) report(d *doc, e *jsonschema.ValidationError) {
	switch k := e.ErrorKind.(type) {
	case *kind.Schema, *kind.Reference, *kind.Group, *kind.AllOf, *kind.PropertyNames:
		for _, c := range e.Causes {
			s.report(d, c)
		}
		return
	case *kind.OneOf, *kind.AnyOf:
		s.reportAlternatives(d, e)
		return
	case *kind.AdditionalProperties:
		_, obj := lookup(d.root, e.InstanceLocation)
		allowed := s.properties(e.SchemaURL)
		for _, p := range k.Properties {
			key, _ := get(obj, p)
			if key == nil {
				key = obj
			}
			d.errorf(key, "unknown field %q%s", p, diag.DidYouMean(p, allowed))
		}
		return
	case *kind.Required:
		key, obj := lookup(d.root, e.InstanceLocation)
		at := key
		if at == nil {
			at = obj
		}
		where := ""
		if len(e.InstanceLocation) > 0 {
			where = describePath(e.InstanceLocation) + ": "
		}
		allowed := s.properties(e.SchemaURL)
		for _, m := range k.Missing {
			if misspelled(obj, allowed, m) {
				continue // one root cause, one error: the unknown field names it
			}
			d.errorf(at, "%smissing required field %q", where, m)
		}
		return
	}
	key, n := lookup(d.root, e.InstanceLocation)
	if n == nil {
		n = d.root
	}
	field := "document"
	if len(e.InstanceLocation) > 0 {
		field = describePath(e.InstanceLocation)
	}
	var msg string
	switch k := e.ErrorKind.(type) {
	case *kind.Type:
		msg = fmt.Sprintf("%s: expected %s, found %s", field, strings.Join(k.Want, " or "), nodeKind(n))
	case *kind.Enum:
		var want []string
		for _, w := range k.Want {
			want = append(want, fmt.Sprint(w))
		}
		got := fmt.Sprint(k.Got)
		msg = fmt.Sprintf("%s: unknown value %q%s; want one of %s", field, got, diag.DidYouMean(got, want), strings.Join(want, ", "))
	case *kind.Const:
		msg = fmt.Sprintf("%s: must be %v", field, k.Want)
	case *kind.Pattern:
		if key != nil && n.Kind != yaml.ScalarNode {
			n = key
		}
		msg = fmt.Sprintf("%s: %q %s", field, fmt.Sprint(k.Got), patternHint(k.Want))
	case *kind.MinLength:
		msg = fmt.Sprintf("%s: must not be empty", field)
	case *kind.MinProperties:
		msg = fmt.Sprintf("%s: must have at least %d entr%s", field, k.Want, plural(k.Want, "y", "ies"))
	case *kind.MaxProperties:
		msg = fmt.Sprintf("%s: must have at most %d entr%s", field, k.Want, plural(k.Want, "y", "ies"))
	case *kind.MinItems:
		msg = fmt.Sprintf("%s: must have at least %d item%s", field, k.Want, plural(k.Want, "", "s"))
	default:
		msg = fmt.Sprintf("%s: %s", field, e.ErrorKind.LocalizedString(message.NewPrinter(language.English)))
	}
	d.errorf(n, "%s", msg)
}

// reportAlternatives reports a value that matched none of a oneOf's forms:
// when every form failed on the value's own type, it says which types are
// allowed; otherwise it reports the form that got furthest.
func (s *schema) reportAlternatives(d *doc, e *jsonschema.ValidationError) {
	var leaves []*jsonschema.ValidationError
	var collect func(*jsonschema.ValidationError)
	collect = func(v *jsonschema.ValidationError) {
		if len(v.Causes) == 0 {
			leaves = append(leaves, v)
		}
		for _, c := range v.Causes {
			collect(c)
		}
	}
	collect(e)
	shallow := true
	var want []string
	for _, l := range leaves {
		switch k := l.ErrorKind.(type) {
		case *kind.Type:
			if len(l.InstanceLocation) != len(e.InstanceLocation) {
				shallow = false
			}
			want = append(want, k.Want...)
		case *kind.Const:
			if len(l.InstanceLocation) != len(e.InstanceLocation) {
				shallow = false
			}
			want = append(want, fmt.Sprint(k.Want))
		default:
			shallow = false
		}
	}
	if shallow {
		_, n := lookup(d.root, e.InstanceLocation)
		if n == nil {
			n = d.root
		}
		sort.Strings(want)
		d.errorf(n, "%s: expected %s, found %s", describePath(e.InstanceLocation), strings.Join(slices.Compact(want), " or "), nodeKind(n))
		return
	}
	best := e.Causes[0]
	for _, c := range e.Causes[1:] {
		if depth(c) > depth(best) {
			best = c
		}
	}
	s.report(d, best)
}

func depth(e *jsonschema.ValidationError) int {
	d := len(e.InstanceLocation)
	for _, c := range e.Causes {
		d = max(d, depth(c))
	}
	return d
}

// properties returns the names a schema's "properties" allows, the schema
// found at url's fragment in the raw document.
// misspelled reports whether obj has a key that is not one of allowed
// and is a likely misspelling of field: the unknown-field error about it
// already says "did you mean", so field's absence is not reported again.
func misspelled(obj *yaml.Node, allowed []string, field string) bool {
	if obj == nil || obj.Kind != yaml.MappingNode {
		return false
	}
	for i := 0; i+1 < len(obj.Content); i += 2 {
		k := obj.Content[i].Value
		if !slices.Contains(allowed, k) && diag.Suggest(k, allowed) == field {
			return true
		}
	}
	return false
}

func (s *schema) properties(url string) []string {
	_, frag, _ := strings.Cut(url, "#")
	var cur any = s.raw
	for _, step := range strings.Split(strings.Trim(frag, "/"), "/") {
		if step == "" {
			continue
		}
		m, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = m[strings.ReplaceAll(strings.ReplaceAll(step, "~1", "/"), "~0", "~")]
	}
	m, _ := cur.(map[string]any)
	props, _ := m["properties"].(map[string]any)
	names := make([]string, 0, len(props))
	for p := range props {
		names = append(names, p)
	}
	sort.Strings(names)
	return names
}

func nodeKind(n *yaml.Node) string {
	if n.Kind == yaml.ScalarNode {
		switch n.Tag {
		case "!!null":
			return "nothing"
		case "!!bool":
			return "boolean " + n.Value
		case "!!int", "!!float":
			return "number " + n.Value
		}
		return fmt.Sprintf("string %q", n.Value)
	}
	return kindName(n)
}

func patternHint(pattern string) string {
	switch pattern {
	case "^[a-z][a-z0-9_]*$":
		return "must be lower-case letters, digits and underscores, starting with a letter"
	case "\\.sql$":
		return "must name a .sql file"
	case "^[A-Za-z_][A-Za-z0-9_]*$":
		return "is not an environment variable name"
	}
	return "does not match " + pattern
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
