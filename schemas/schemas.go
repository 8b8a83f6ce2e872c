// Package schemas embeds the JSON Schemas of Sluice's YAML files, so the
// binary enforces exactly the schemas editors use through yaml-language-server.
package schemas

import _ "embed"

// Pipeline is the JSON Schema of pipeline.yaml.
//
//go:embed pipeline.schema.json
var Pipeline []byte

// Connections is the JSON Schema of the connections file.
//
//go:embed connections.schema.json
var Connections []byte

// Fixture is the JSON Schema of a fixture test (tests/*.yaml).
//
//go:embed fixture.schema.json
var Fixture []byte
