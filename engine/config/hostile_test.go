package config

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestYAMLSyntaxPositions: a syntax error points where the parser found
// the problem, and names where the construct it was reading began.
func TestYAMLSyntaxPositions(t *testing.T) {
	for _, tc := range []struct{ name, src, want string }{
		{"unclosed flow mapping", "version: 1\nstreams:\n  a:\n    source: {query: q.sql\n    columns: {}\n",
			"p/pipeline.yaml:5:12: invalid YAML: did not find expected ',' or '}' (while parsing a flow mapping that begins at 4:13)"},
		{"bad indentation", "version: 1\nstreams:\n  a:\n      source: x\n    columns: y\n",
			"p/pipeline.yaml:5:5: invalid YAML: did not find expected key (while parsing a block mapping that begins at 3:3)"},
		{"unterminated quote", "version: 1\nname: \"abc\nstreams: {}\n",
			"p/pipeline.yaml:3:12: invalid YAML: found unexpected end of stream (while scanning a quoted scalar that begins at 2:7)"},
		{"mapping in a value", "version: 1\nname: x\n  bad: [1, 2\n",
			"p/pipeline.yaml:3:6: invalid YAML: mapping values are not allowed in this context"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, ds := loadFiles(t, map[string]string{"pipeline.yaml": tc.src})
			if diff := cmp.Diff([]string{tc.want}, messages(ds)); diff != "" {
				t.Errorf("diagnostics (-want +got):\n%s", diff)
			}
		})
	}
}
